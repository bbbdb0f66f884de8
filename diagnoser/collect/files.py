"""Read log lines from files and stdin, streaming, with binary and gzip detection."""

from __future__ import annotations

import gzip
import io
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from diagnoser.errors import InputError, Location
from diagnoser.model import RawLine

MAX_LINE_BYTES = 1 << 20  # longer lines are cut here; the rest of the line is skipped, not buffered
SNIFF_BYTES = 8192
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class InputSource:
    """One input: a path, or "-" for standard input."""

    path: str
    label: str | None = None  # the source name a bundle recorded for this file

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
            problems.append(InputError("no such file", Location(path), "check the path, or pipe the log on stdin"))
            continue
        except PermissionError:
            problems.append(InputError("permission denied", Location(path), "run as a user who can read it"))
            continue
        if stat.S_ISDIR(mode):
            from diagnoser.collect.bundle import bundle_sources, is_bundle

            if is_bundle(path):
                try:
                    sources += [InputSource(file, label) for file, label in bundle_sources(path)]
                except InputError as exc:
                    problems.append(exc)
                continue
            problems.append(
                InputError("is a directory, not a log file", Location(path), f"pass the files inside it, e.g. {path}/*.log")
            )
            continue
        sources.append(InputSource(path))
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise InputError("\n".join(str(p) for p in problems))
    return sources


def read_lines(source: InputSource, stdin: BinaryIO | None = None) -> Iterator[RawLine]:
    """Yield the lines of `source` as RawLines, decoding UTF-8 leniently and reading gzip transparently."""
    name = source.name
    if source.path == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        yield from _lines(_unwrap(stream, "stdin"), name, "stdin")
        return
    try:
        raw = open(source.path, "rb")  # noqa: SIM115 - closed in finally, the generator may stop early
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror.lower() if exc.strerror else exc}", Location(source.path)) from None
    try:
        yield from _lines(_unwrap(raw, source.path), name, source.path)
    finally:
        raw.close()


def _unwrap(stream: BinaryIO, label: str) -> io.BufferedReader:
    """Return a buffered reader over `stream`, decompressing gzip and rejecting binary data."""
    buffered = stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(stream)  # type: ignore[arg-type]
    head = buffered.peek(SNIFF_BYTES)[:SNIFF_BYTES]
    if head.startswith(GZIP_MAGIC):
        buffered = io.BufferedReader(gzip.GzipFile(fileobj=buffered))  # type: ignore[arg-type]
        try:
            head = buffered.peek(SNIFF_BYTES)[:SNIFF_BYTES]
        except (OSError, EOFError) as exc:
            raise InputError(f"corrupt gzip data ({exc})", Location(label)) from None
    _reject_binary(head, label)
    return buffered


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


def _lines(stream: io.BufferedReader, name: str, label: str) -> Iterator[RawLine]:
    """Split `stream` into RawLines, capping each line at MAX_LINE_BYTES."""
    number = 0
    readline = stream.readline
    try:
        while True:
            chunk = readline(MAX_LINE_BYTES)
            if not chunk:
                return
            number += 1
            if not chunk.endswith(b"\n") and len(chunk) >= MAX_LINE_BYTES:
                # Skip the rest of an over-long line without holding it in memory.
                while True:
                    rest = readline(MAX_LINE_BYTES)
                    if not rest or rest.endswith(b"\n"):
                        break
            text = chunk.decode("utf-8", errors="replace").rstrip("\r\n")
            if "\x00" in text:
                text = text.replace("\x00", "")
            yield RawLine(name, number, text)
    except (OSError, EOFError) as exc:
        raise InputError(f"read failed at line {number + 1}: {exc}", Location(label)) from None

