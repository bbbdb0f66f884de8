"""Console entry points: `diagnose` (the main job), `kubectl-diagnose` (the same, as a kubectl plugin)
and `diagnoser` (the toolbox)."""

from __future__ import annotations

import sys


def _interrupted() -> None:
    """Exit 130 quietly: Ctrl-C came before the error boundary was in place (during imports)."""
    sys.stderr.write("interrupted\n")
    sys.exit(130)


def run_diagnose(plugin: bool = False) -> None:
    """Run the `diagnose` command (`plugin`: as `kubectl diagnose NAME`)."""
    import gc

    gc.disable()  # imports build many objects and no cycles worth collecting; collect from the run on
    try:
        from diagnoser.cli.diagnose import main
    except KeyboardInterrupt:
        _interrupted()
    # The run allocates many short-lived, acyclic objects (events, records); collecting every 700
    # allocations spent ~3 % of start-up and of a long scan on finding nothing. Cycles are still
    # collected, just less often.
    gc.set_threshold(100_000, 50, 100)
    gc.enable()
    code = main(plugin=plugin)
    _exit_now(code)


def run_kubectl_plugin() -> None:
    """Run `kubectl-diagnose`: kubectl finds it on PATH and runs it for `kubectl diagnose NAME ...`."""
    run_diagnose(plugin=True)


def _exit_now(code: int) -> None:
    """Run the exit handlers, flush, and leave without tearing the interpreter down.

    Freeing every module and object at exit took ~10 ms, a third of the start-up budget, for a
    process that is ending anyway. The atexit handlers still run (the kubernetes client removes
    the certificate files it wrote, logging flushes); what `diagnose` writes itself goes through
    stdout/stderr (flushed here) or files it has closed before returning.
    """
    import atexit
    import os

    from diagnoser.cli.common import flush_stdout

    try:
        atexit._run_exitfuncs()  # CPython runs these at a normal exit; os._exit would skip them
    except Exception:  # noqa: S110 - a failing third-party handler must not change the exit code
        pass
    code = flush_stdout(code)  # a full disk loses what is still buffered: exit 2, not 0 or 1
    try:
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass
    os._exit(code)


def run_toolbox() -> None:
    """Run the `diagnoser` toolbox."""
    try:
        from diagnoser.cli.common import flush_stdout, run_app
        from diagnoser.cli.toolbox import app
    except KeyboardInterrupt:
        _interrupted()
    sys.exit(flush_stdout(run_app(app, prog="diagnoser")))


if __name__ == "__main__":
    run_toolbox()
