"""Parse in a forked child process while this one detects: two cores share a large log.

Reading and parsing (sniffing, framing, multi-line assembly) are about half of the work per line
and need nothing from detection. On a machine with two or more cores a child process reads and
parses the inputs and streams the events back over a pipe, in input order, in pickled batches; the
parent feeds them to the engine, the observations and the classifier exactly as the serial path
does, so the report is the same (tests/perf checks every corpus case both ways).

The child is forked, not spawned: everything is imported by then, so it starts in about a
millisecond. A full pipe blocks the child, so memory stays bounded whatever the input size. The
child ignores Ctrl-C (the parent reports it) and stops when the parent closes the pipe.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from diagnoser.errors import DiagnoserError
from diagnoser.model import Event

# pickle, signal and traceback are imported where a child is forked: most runs never fork, and the
# three cost 2.5 ms of start-up.

BATCH = 256  # events per pickled message (~60 kB): amortises the pickle, and several fit in the pipe
PIPE_BUFFER = 1 << 16
PIPE_SIZE = 1 << 20  # the child runs up to this far ahead; the default 64 kB pipe made the two take turns
MIN_BYTES = 1 << 20  # smaller inputs parse in well under a second: not worth a second process


class WorkerFailed(RuntimeError):
    """The child stopped without finishing for a reason other than bad input (a bug, or killed)."""


def cores() -> int:
    """Return how many cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def may_fork(jobs: int) -> bool:
    """Return True when `jobs` allows a parse worker here: asked for (2), or automatic (0) on Linux with
    two cores or more (macOS system libraries are not safe to use in a forked child)."""
    if jobs == 1 or not hasattr(os, "fork"):
        return False
    return jobs >= 2 or (sys.platform.startswith("linux") and cores() >= 2)


def worthwhile(paths: Iterable[str], jobs: int, stdin_head: int = 0) -> bool:
    """Return True when parsing `paths` in a child pays: `jobs` 0 means decide from cores and size.

    Regular files count by their size, stdin ("-") by the `stdin_head` bytes read of it before
    deciding (collect/files.py read_head); devices and directories are read by this process.
    """
    if not may_fork(jobs):
        return False
    total = 0
    for path in paths:
        if path == "-":
            total += stdin_head
            continue
        try:
            st = os.stat(path)
        except OSError:
            return False
        if not stat.S_ISREG(st.st_mode):
            return False
        total += st.st_size
    return jobs >= 2 or total >= MIN_BYTES


def _encode(ev: Event) -> tuple:
    """Return `ev` as a plain tuple: tuples pickle in a third of the time of a dataclass."""
    message = ev.message
    return (
        ev.source,
        ev.line,
        ev.text,
        None if message == ev.text else message,
        ev.format,
        ev.end_line,
        ev.timestamp,
        ev.level,
        ev.component,
        ev.stream,
        ev.pid,
        ev.fields,
    )


def _child(
    write_fd: int,
    parse: Callable[[], tuple[Iterator[Event], Callable[[], tuple]]],
    position: Callable[[], int],
) -> None:
    """Parse and stream the events to `write_fd` with how far the reading got, then the totals;
    never returns."""
    import pickle
    import signal
    import traceback

    code = 0
    out = open(write_fd, "wb", buffering=PIPE_BUFFER)  # noqa: SIM115 - os._exit ends the process
    dump = pickle.dump
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to report
        events, totals = parse()
        batch: list[tuple] = []
        for ev in events:
            batch.append(_encode(ev))
            if len(batch) >= BATCH:
                dump(("events", batch, position()), out, 5)
                batch = []
        if batch:
            dump(("events", batch, position()), out, 5)
        dump(("end", *totals()), out, 5)
        out.flush()
    except BrokenPipeError:
        pass  # the parent stopped reading (an error or Ctrl-C there): nothing left to do
    except BaseException as exc:  # noqa: BLE001 - whatever it is, the parent must hear of it
        code = 1
        try:  # after the events already sent: they are whole pickles, dump never leaves half of one
            if isinstance(exc, DiagnoserError):
                dump(("error", type(exc), exc.message, exc.location, exc.hint), out, 5)
            else:
                dump(("crash", traceback.format_exc()), out, 5)
            out.flush()
        except BaseException:  # noqa: BLE001, S110 - the pipe is gone: the parent sees EOF instead
            pass
    finally:
        os._exit(code)  # never run the parent's atexit handlers or flush its buffers


def _widen(fd: int) -> None:
    """Grow the pipe's kernel buffer to PIPE_SIZE where the system allows (Linux F_SETPIPE_SZ)."""
    import fcntl

    setsize = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setsize is None:
        return
    for size in (PIPE_SIZE, PIPE_SIZE // 4):  # above /proc/sys/fs/pipe-max-size needs privileges
        try:
            fcntl.fcntl(fd, setsize, size)
            return
        except OSError:
            continue


def parse_forked(
    events: Callable[[], Iterator[Event]],
    totals: Callable[[], tuple],
    finish: Callable[..., Any],
    position: Callable[[], int] = lambda: 0,
    reached: Callable[[int], None] = lambda _position: None,
) -> Iterator[Event]:
    """Yield the events `events()` gives, computed in a forked child, in the same order.

    `totals()` runs in the child after the last event; what it returns is passed to `finish(*totals)`
    in this process before the generator ends (parse stats, read warnings). `position()` runs in the
    child with every batch (how far its reading got); `reached(position)` hears it here. An input
    error in the child is raised here as itself; any other failure there raises WorkerFailed.
    """
    import pickle
    import signal

    read_fd, write_fd = os.pipe()
    _widen(write_fd)
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_fd)
        _child(write_fd, lambda: (events(), totals), position)
    os.close(write_fd)
    finished = False
    try:
        with open(read_fd, "rb", buffering=PIPE_BUFFER) as inp:
            load = pickle.load
            while True:
                try:
                    msg = load(inp)
                except EOFError:
                    raise WorkerFailed("the parse worker process ended without finishing (killed?)") from None
                except pickle.UnpicklingError as exc:
                    raise WorkerFailed(f"the parse worker process sent a broken message: {exc}") from None
                tag = msg[0]
                if tag == "events":
                    reached(msg[2])
                    for t in msg[1]:
                        yield Event(t[0], t[1], t[2], t[2] if t[3] is None else t[3], *t[4:])
                elif tag == "end":
                    finish(*msg[1:])
                    finished = True
                    return
                elif tag == "error":
                    _, kind, message, location, hint = msg
                    try:
                        error = kind(message, location, hint)
                    except TypeError:  # a subclass built differently: the message is what matters
                        error = DiagnoserError(message, location, hint)
                    raise error
                else:
                    raise WorkerFailed(f"the parse worker process failed:\n{msg[1]}")
    finally:
        if not finished:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os.waitpid(pid, 0)
