"""Read log lines from files and stdin, streaming, with binary and gzip detection."""

from __future__ import annotations

import io
import os
import stat
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

from diagnoser.collect.bundle import bundle_sources, is_bundle, open_member
from diagnoser.errors import InputError, Location, os_hint, os_reason
from diagnoser.model import RawLine

MAX_LINE_BYTES = 1 << 20  # longer lines are cut here; the rest of the line is skipped, not buffered
SNIFF_BYTES = 8192
GZIP_MAGIC = b"\x1f\x8b"
PROGRESS_LINES = 4096  # how often a reading updates `done`


@dataclass(frozen=True, slots=True)
class InputSource:
    """One input: a path, or "-" for standard input."""

    path: str
    label: str | None = None  # the source name a bundle recorded for this file
    bundled: bool = False  # a file of a bundle: read only as a regular file, never through a link

    @property
    def name(self) -> str:
        """Return the source name used in evidence: "stdin", "file:PATH", or the label a bundle gave it."""
        if self.label is not None:
            return self.label
        return "stdin" if self.path == "-" else f"file:{self.path}"


def open_inputs(paths: list[str]) -> list[InputSource]:
    """Check every path up front, so a typo fails before any work; "-" means stdin."""
    sources: list[InputSource] = []
    problems: list[InputError] = []
    for path in paths or ["-"]:
        if path == "-":
            sources.append(InputSource("-"))
            continue
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            problems.append(
                InputError("no such file", Location(path), "check the path, or pipe the log on stdin")
            )
            continue
        except PermissionError:
            problems.append(InputError("permission denied", Location(path), "run as a user who can read it"))
            continue
        except OSError as exc:  # a link loop, a file used as a directory, a name too long, ...
            problems.append(InputError(os_reason(exc), Location(path), os_hint(exc)))
            continue
        except ValueError:  # only a library caller can pass one: argv has no NUL
            problems.append(InputError("the path holds a NUL byte", Location(path.replace("\x00", "\\x00"))))
            continue
        if stat.S_ISDIR(mode):
            if is_bundle(path):
                try:
                    sources += [
                        InputSource(file, label, bundled=True) for file, label in bundle_sources(path)
                    ]
                except InputError as exc:
                    problems.append(exc)
                continue
            problems.append(
                InputError(
                    "is a directory, not a log file",
                    Location(path),
                    f"pass the files inside it, e.g. {path}/*.log",
                )
            )
            continue
        sources.append(InputSource(path))
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise InputError("\n".join(str(p) for p in problems))
    return sources


class SourceLines:
    """The lines of one source as RawLines, read as they are iterated (UTF-8 decoded leniently, gzip
    read transparently).

    What was read with loss (cut lines, invalid UTF-8, a file that shrank or a compressed stream that
    ends early) is the reading's own `notes`, one warning each, complete once the iteration ends.
    `done` is how far the reading got, for progress: the file offset (compressed bytes for gzip),
    or the bytes read from stdin; it is updated every PROGRESS_LINES lines and at the end.
    """

    __slots__ = ("source", "stdin", "notes", "done")

    def __init__(self, source: InputSource, stdin: BinaryIO | None = None):
        self.source = source
        self.stdin = stdin
        self.notes: list[str] = []
        self.done = 0

    def __iter__(self) -> Iterator[RawLine]:
        return _read(self)


def input_size(sources: Sequence[InputSource], stdin: BinaryIO | None) -> int | None:
    """Return the bytes the sources hold, or None when one is not a regular file (a pipe, a terminal)."""
    total = 0
    for source in sources:
        try:
            if source.path == "-":
                st = os.fstat((stdin or sys.stdin.buffer).fileno())
            else:
                st = os.stat(source.path)
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):  # a BytesIO has no fileno
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        total += st.st_size
    return total


class _Prefixed(io.RawIOBase):
    """A stream that gives `head` first, then the rest of `stream`."""

    def __init__(self, head: bytes, stream: BinaryIO):
        self.head = memoryview(head)
        self.stream = stream

    def readable(self) -> bool:
        """Return True: this is a reader."""
        return True

    def fileno(self) -> int:
        """Return the stream's descriptor: its size (a redirected file) is still known."""
        return self.stream.fileno()

    def readinto(self, buffer: Any) -> int:
        """Fill `buffer` from the head while it lasts, then from the stream; 0 at the end."""
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        read = getattr(self.stream, "read1", self.stream.read)  # read1: what a pipe holds now
        data = read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def read_head(stream: BinaryIO, size: int) -> tuple[BinaryIO, int]:
    """Read up to `size` bytes of `stream` (stdin) to learn how large it is at least; return a stream
    that gives those bytes again and then the rest, and how many were read.

    Raises InputError when the read fails.
    """
    try:
        head = stream.read(size) or b""
    except OSError as exc:
        raise InputError(f"read failed: {exc}", Location("stdin")) from None
    return cast("BinaryIO", io.BufferedReader(_Prefixed(head, stream))), len(head)


def read_lines(source: InputSource, stdin: BinaryIO | None = None) -> SourceLines:
    """Return the lines of `source` (stdin for "-") as a SourceLines: iterate it, then read its notes."""
    return SourceLines(source, stdin)


def _read(reading: SourceLines) -> Iterator[RawLine]:
    """Yield the lines of `reading.source`; warnings go to `reading.notes`, progress to `reading.done`."""
    source = reading.source
    name = source.name
    if source.path == "-":
        stream = reading.stdin if reading.stdin is not None else sys.stdin.buffer
        yield from _lines(_unwrap(stream, "stdin"), name, "stdin", reading, None)
        return
    if source.bundled:
        raw = os.fdopen(open_member(source.path), "rb")
    else:
        try:
            raw = open(source.path, "rb")  # noqa: SIM115 - closed in finally, the generator may stop early
        except OSError as exc:
            raise InputError(f"cannot open: {os_reason(exc)}", Location(source.path), os_hint(exc)) from None
    try:
        st = os.fstat(raw.fileno())
        regular = stat.S_ISREG(st.st_mode)
        offset = raw.tell if regular else None
        yield from _lines(_unwrap(raw, source.path), name, source.path, reading, offset)
        if regular and raw.tell() < st.st_size:
            reading.notes.append(
                f"{source.path}: file shrank while it was read ({raw.tell()} of {st.st_size} bytes read; "
                "rotated or truncated?)"
            )
    finally:
        raw.close()


def _unwrap(stream: BinaryIO, label: str) -> io.BufferedReader[Any]:
    """Return a buffered reader over `stream`, decompressing gzip and rejecting binary data."""
    # Any binary stream reads like a raw one here (stdin.buffer, a pipe, a test's BytesIO).
    buffered: io.BufferedReader[Any] = (
        stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(cast("io.RawIOBase", stream))
    )
    head = buffered.peek(SNIFF_BYTES)[:SNIFF_BYTES]
    if head.startswith(GZIP_MAGIC):
        buffered = io.BufferedReader(_Gunzip(buffered))
        try:
            head = buffered.peek(SNIFF_BYTES)[:SNIFF_BYTES]
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"corrupt gzip data ({exc})", Location(label)) from None
    _reject_binary(head, label)
    return buffered


class _Gunzip(io.RawIOBase):
    """Decompress gzip (several members too) as a stream; data that ends early ends the stream.

    `truncated` then tells the reader, which warns instead of failing: a log cut by a full disk or
    a copy still in progress is diagnosed with what it holds.
    """

    def __init__(self, stream: io.BufferedReader[Any]):
        self.stream = stream
        self.dec = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self.truncated = False
        self.pending = b""

    def readable(self) -> bool:
        """Return True: this is a reader."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill `buffer` with decompressed bytes; 0 at the end of the data."""
        while not self.pending:
            if self.dec.eof:
                rest = self.dec.unused_data
                if not rest:
                    rest = self.stream.read(65536)
                    if not rest:
                        return 0
                if not rest.startswith(GZIP_MAGIC[:1]) and not rest.strip(b"\x00"):
                    return 0  # NUL padding after the last member, as tape and some tools write it
                self.dec = zlib.decompressobj(16 + zlib.MAX_WBITS)
                self.pending = self.dec.decompress(rest, 1 << 20)
                continue
            data = self.dec.unconsumed_tail or self.stream.read(65536)
            if not data:
                self.truncated = True
                return 0
            self.pending = self.dec.decompress(data, 1 << 20)
        n = min(len(buffer), len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n


def _reject_binary(head: bytes, label: str) -> None:
    """Raise InputError when the first bytes look like binary data rather than text."""
    if not head:
        return
    nul = head.find(b"\x00")
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    # A few stray NULs happen in real logs (truncated writes); mostly-control data is not a log.
    if controls > len(head) * 0.10 or (nul != -1 and head.count(b"\x00") > len(head) * 0.01):
        where = nul if nul != -1 else 0
        raise InputError(
            f"binary data, not a text log (first control byte at offset {where})",
            Location(label),
            "pass a text log; gzip is read as is, other archives must be unpacked first",
        )


def _lines(
    stream: io.BufferedReader[Any],
    name: str,
    label: str,
    reading: SourceLines,
    offset: Callable[[], int] | None,
) -> Iterator[RawLine]:
    """Split `stream` into RawLines, capping each line at MAX_LINE_BYTES.

    `offset` gives the file's position for `reading.done`; without it (stdin, a pipe) the bytes
    read are counted.
    """
    notes = reading.notes
    number = 0
    counted = 0
    readline = stream.readline
    cut: list[tuple[int, int]] = []  # (line, bytes) of lines cut at MAX_LINE_BYTES
    invalid = 0  # lines with bytes that are not UTF-8
    try:
        while True:
            chunk = readline(MAX_LINE_BYTES)
            if not chunk:
                return
            number += 1
            if offset is None:
                counted += len(chunk)
            if not number % PROGRESS_LINES:
                reading.done = counted if offset is None else offset()
            if not chunk.endswith(b"\n") and len(chunk) >= MAX_LINE_BYTES:
                # Skip the rest of an over-long line without holding it in memory.
                size = len(chunk)
                while True:
                    rest = readline(MAX_LINE_BYTES)
                    size += len(rest)
                    if not rest or rest.endswith(b"\n"):
                        break
                cut.append((number, size - rest.endswith(b"\n")))
            try:
                text = chunk.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                invalid += 1
                text = chunk.decode("utf-8", errors="replace").rstrip("\r\n")
            if "\x00" in text:
                text = text.replace("\x00", "")
            yield RawLine(name, number, text)
    except (OSError, zlib.error) as exc:
        raise InputError(f"read failed at line {number + 1}: {exc}", Location(label)) from None
    finally:
        reading.done = counted if offset is None else offset()
        gz = getattr(stream, "raw", None)
        if isinstance(gz, _Gunzip) and gz.truncated:
            notes.append(
                f"{label}: compressed data ends early after line {number} (truncated file?); "
                "read what was there"
            )
        for n, size in cut[:5]:
            notes.append(f"{label}:{n}: line of {size} bytes cut to its first {MAX_LINE_BYTES} bytes (1 MiB)")
        if len(cut) > 5:
            notes.append(f"{label}: {len(cut) - 5} more lines longer than 1 MiB cut the same way")
        if invalid:
            notes.append(f"{label}: {invalid} line(s) are not valid UTF-8; undecodable bytes shown as U+FFFD")
