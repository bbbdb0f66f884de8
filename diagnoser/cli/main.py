"""Console entry points: `diagnose` (the main job) and `diagnoser` (the toolbox)."""

from __future__ import annotations

import sys


def _interrupted() -> None:
    """Exit 130 quietly: Ctrl-C came before the error boundary was in place (during imports)."""
    sys.stderr.write("interrupted\n")
    sys.exit(130)


def run_diagnose() -> None:
    """Run the `diagnose` command."""
    try:
        from diagnoser.cli.diagnose import main
    except KeyboardInterrupt:
        _interrupted()
    sys.exit(main())


def run_toolbox() -> None:
    """Run the `diagnoser` toolbox."""
    try:
        from diagnoser.cli.common import run_app
        from diagnoser.cli.toolbox import app
    except KeyboardInterrupt:
        _interrupted()
    sys.exit(run_app(app, prog="diagnoser"))


if __name__ == "__main__":
    run_toolbox()
