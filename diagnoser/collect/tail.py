"""Read inputs that keep growing: files followed like `tail -F`, and stdin until it ends (`--follow`).

`follow_lines` yields RawLines as they arrive, and None whenever no line came for `idle` seconds, so
the caller can act while the input is quiet. A reader thread per source feeds a bounded queue:
memory stays flat over days, and a slow consumer slows the readers instead of piling lines up.
A followed file that is truncated is read again from its start; one that is replaced (rotated) is
reopened at its path.
"""

from __future__ import annotations

import errno
import os
import queue
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from diagnoser.collect.files import MAX_LINE_BYTES, InputSource
from diagnoser.errors import InputError, Location, os_hint, os_reason
from diagnoser.model import RawLine

POLL_SECONDS = 0.25  # how often a followed file at its end is looked at again
QUEUE_LINES = 10_000  # lines read ahead of the consumer, at most
_END = object()  # a source that ended (stdin closed)


def _text(chunk: bytes) -> str:
    return chunk.decode("utf-8", errors="replace").rstrip("\r\n").replace("\x00", "")


def _read_stream(stream: BinaryIO, name: str, out: queue.Queue, stop: threading.Event) -> None:
    number = 0
    try:
        while not stop.is_set():
            chunk = stream.readline(MAX_LINE_BYTES)
            if not chunk:
                break
            number += 1
            out.put(RawLine(name, number, _text(chunk)))
    except (OSError, ValueError):  # stdin closed under us: it ended
        pass
    out.put(_END)


def _read_file(path: str, fh: BinaryIO, name: str, out: queue.Queue, stop: threading.Event) -> None:
    number = 0
    pending = b""
    try:
        while not stop.is_set():
            chunk = fh.readline(MAX_LINE_BYTES)
            if chunk:
                pending += chunk
                if not pending.endswith(b"\n") and len(pending) < MAX_LINE_BYTES:
                    continue  # the writer has not finished this line yet
                number += 1
                out.put(RawLine(name, number, _text(pending)))
                pending = b""
                continue
            time.sleep(POLL_SECONDS)
            try:
                st = os.stat(path)
            except OSError:
                continue  # between a rotation's rename and the new file: look again
            if st.st_ino != os.fstat(fh.fileno()).st_ino:  # rotated: read the new file from its start
                fh.close()
                fh = open(path, "rb")  # noqa: SIM115
            elif st.st_size < fh.tell():  # truncated (copytruncate): read it again from its start
                fh.seek(0)
                pending = b""
    finally:
        fh.close()


def _open_all(paths: Sequence[str]) -> dict[str, BinaryIO]:
    """Open every file to follow here, before any reader starts: a file that cannot be opened (gone,
    unreadable, more files than the open-file limit) is an error with its name, not a dead thread."""
    files: dict[str, BinaryIO] = {}
    for path in paths:
        try:
            files[path] = open(path, "rb")  # noqa: SIM115 - the reader owns it: reopened on rotation, closed at the end
        except OSError as exc:
            for fh in files.values():
                fh.close()
            hint = os_hint(exc) or "check the path"
            if exc.errno == errno.EMFILE:
                hint = f"following keeps each file open: follow fewer than {len(files) + 1} files at once"
            raise InputError(f"cannot open it to follow: {os_reason(exc)}", Location(path), hint) from None
    return files


def follow_lines(
    sources: Sequence[InputSource], stdin: BinaryIO | None, idle: float, stop: threading.Event
) -> Iterator[RawLine | None]:
    """Yield each line of `sources` as it arrives, and None after every `idle` seconds without one.

    Files are followed until `stop` is set; stdin until it ends. The iteration ends when every
    source has ended (only stdin can) or `stop` is set.
    """
    for source in sources:
        if source.path != "-" and not os.path.isfile(source.path):  # a directory, a bundle
            raise InputError("can only follow a regular file", Location(source.path), "name a file or pipe")
    files = _open_all([s.path for s in sources if s.path != "-"])
    lines: queue.Queue = queue.Queue(maxsize=QUEUE_LINES)
    readers = []
    for source in sources:
        if source.path == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            target, args = _read_stream, (stream, source.name, lines, stop)
        else:
            fh = files[source.path]
            target, args = _read_file, (source.path, fh, source.name, lines, stop)  # type: ignore[assignment]
        thread = threading.Thread(target=target, args=args, daemon=True, name=f"follow {source.name}")
        thread.start()
        readers.append(thread)
    running = len(readers)
    while running and not stop.is_set():
        try:
            item = lines.get(timeout=idle)
        except queue.Empty:
            yield None
            continue
        if item is _END:
            running -= 1
            continue
        yield item
