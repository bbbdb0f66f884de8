"""What both command-line entry points share: the error boundary and output helpers."""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from diagnoser.errors import DiagnoserError, Location, OutputError, os_hint, os_reason

if TYPE_CHECKING:
    import typer

EXIT_OK = 0
EXIT_FOUND = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


def want_colour(flag: bool | None) -> bool:
    """Return whether to colour output: the flag if given, else a TTY without NO_COLOR."""
    if flag is not None:
        return flag
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def set_verbosity(verbose: int) -> None:
    """Send library logging to stderr at a level chosen by -v / -vv."""
    if verbose <= 0:
        return  # the library logs nothing above debug: no handler needed, and no logging import
    import logging

    level = logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def write_stdout(text: str) -> bool:
    """Write to stdout; return False when the reader has closed the pipe (`| head`): stdout then goes
    to /dev/null, quietly. Any other failure (a full disk) raises OutputError naming where stdout
    goes: the output is lost, and the exit code must say so."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
        return False
    except OSError as exc:
        raise stdout_error(exc) from None
    return True


def stdout_error(exc: OSError) -> OutputError:
    """Return the OutputError of a failed write to stdout, naming the file it goes to, and point stdout
    at /dev/null so that no later flush fails again."""
    name = "stdout"
    with contextlib.suppress(OSError, ValueError, AttributeError, io.UnsupportedOperation):
        target = os.readlink(f"/proc/self/fd/{sys.stdout.fileno()}")
        if target.startswith("/"):  # a file or device, not pipe:[…]
            name = f"stdout ({target})"
    silence_stdout()
    return OutputError(f"cannot write the output: {os_reason(exc)}", Location(name), os_hint(exc))


def flush_stdout(code: int) -> int:
    """Flush stdout at the end of a run and return `code`, or EXIT_ERROR after saying why the flush
    failed (what was buffered is lost)."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # `| head` closed the pipe: the error boundary already went quiet
        silence_stdout()
    except ValueError:  # stdout closed
        pass
    except OSError as exc:
        print_error(str(stdout_error(exc)))
        return EXIT_ERROR
    return code


def os_error_text(exc: OSError) -> str:
    """Return an OS error that escaped the commands' own handling as `path: what (hint)`; a failed
    write names no path (a file object forgets its own), so the text then says what and how to fix."""
    where = Location(str(exc.filename)) if exc.filename is not None else None
    return str(DiagnoserError(os_reason(exc), where, os_hint(exc)))


def silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not complain."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _click_exceptions() -> tuple[
    tuple[type[BaseException], ...], tuple[type[BaseException], ...], tuple[type[BaseException], ...]
]:
    """Return the (ClickException, Exit, Abort) classes typer may raise: newer typer vendors click."""
    import typer

    errors: list[type[BaseException]] = []
    exits: list[type[BaseException]] = [typer.Exit]
    aborts: list[type[BaseException]] = [typer.Abort, KeyboardInterrupt]
    for name in ("typer._click.exceptions", "click.exceptions"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        errors.append(module.ClickException)
        exits += [c for c in (getattr(module, "Exit", None),) if c is not None]
        aborts += [c for c in (getattr(module, "Abort", None),) if c is not None]
    return tuple(errors), tuple(exits), tuple(aborts)


def run_app(app: typer.Typer, argv: list[str] | None = None, prog: str | None = None) -> int:
    """Run a Typer app and map every outcome to an exit code; only bugs show a traceback."""
    import typer

    click_error, click_exit, click_abort = _click_exceptions()
    command = typer.main.get_command(app)
    try:
        result: Any = command.main(args=argv, prog_name=prog, standalone_mode=False)
    except DiagnoserError as exc:
        print_error(str(exc))
        return EXIT_ERROR
    except click_exit as exc:
        return int(getattr(exc, "exit_code", 0))
    except click_abort:
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED
    except click_error as exc:
        exc.show()  # type: ignore[attr-defined]
        return EXIT_ERROR
    except BrokenPipeError:
        silence_stdout()
        return EXIT_OK
    except OSError as exc:  # outside a command's own handling: still a message, not a traceback
        print_error(os_error_text(exc))
        return EXIT_ERROR
    code = result if isinstance(result, int) else EXIT_OK
    if code == EXIT_INTERRUPTED:  # typer turns Ctrl-C into exit code 130 without a word
        sys.stderr.write("interrupted\n")
    return code


def print_error(message: str) -> None:
    """Print `error: message` on stderr, one line per problem."""
    for line in message.splitlines() or [message]:
        sys.stderr.write(f"error: {line}\n")


def entry(app: typer.Typer, prog: str) -> Callable[[], None]:
    """Return a console-script function for `app`."""

    def main() -> None:
        sys.exit(run_app(app, prog=prog))

    return main
