"""What every service collector shares: the request, the collected pieces and helpers.

What collectors bring back is as the sources have it: the exits redact it (diagnoser/redact.py).

Every call to a source is bounded twice: by a deadline (`--timeout` for the connection, the answer's
head and its whole body together: a peer trickling a byte at a time never resets it) and by a byte
cap (a log keeps its last bytes, since a log's end shows the crash; a JSON answer past its cap is
refused). What arrived before either bound is kept, and a warning says which call was cut and how
to widen it.

The runner that chooses and calls the collectors is collect/service.py, one floor up.
"""

from __future__ import annotations

import re
import socket
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from diagnoser.errors import CollectorError, CollectorUnavailable, ConfigError
from diagnoser.options import DEFAULT_COLLECT_TIMEOUT

DEFAULT_TAIL = 2000  # log lines per container unless --tail says otherwise
MAX_LOG_BYTES = 16 * 2**20  # of one log, the last bytes kept: 2000 lines of 8 KiB fit
MAX_ANSWER_BYTES = 64 * 2**20  # of one JSON answer (a pod list, a namespace's events); more is refused
_CHUNK = 65536


class NotFound(CollectorError):
    """The source was reachable but holds no such service."""


@dataclass(frozen=True, slots=True)
class Request:
    """What to collect: the service, where to look, and how much."""

    service: str
    namespace: str | None = None
    context: str | None = None
    since_seconds: int | None = None
    tail: int | None = DEFAULT_TAIL
    timeout: float = DEFAULT_COLLECT_TIMEOUT  # seconds for one call: connect, answer and whole body
    journal: tuple[str, ...] = ()  # journal files or directories; empty: the system journal
    targets: tuple[str, ...] = ()  # pod / container names and ids found by earlier collectors
    max_log_bytes: int = MAX_LOG_BYTES  # of one log; its last bytes are kept
    max_answer_bytes: int = MAX_ANSWER_BYTES  # of one JSON answer; a larger one is refused


@dataclass(frozen=True, slots=True)
class Piece:
    """One collected text, as lines, under the source name that evidence shows."""

    source: str
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Collection:
    """What one collector brought back."""

    collector: str
    where: str  # "context kind-dev, namespace web" / "unix:///var/run/docker.sock"
    pieces: tuple[Piece, ...]
    warnings: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()  # names and ids a later collector (journald) filters on


class Collector(ABC):
    """A source that finds a service and returns its logs, states and events as text pieces."""

    name: str

    @abstractmethod
    def available(self, request: Request) -> str | None:
        """Return None when this source may be reachable, else why it is not (for --source auto)."""

    @abstractmethod
    def collect(self, request: Request) -> Collection:
        """Find the service and collect; raise CollectorUnavailable, NotFound or CollectorError."""


def piece(source: str, lines: Iterable[str]) -> Piece:
    """Return a Piece of lines without line breaks inside them."""
    out = [part.rstrip("\r").replace("\x00", "") for line in lines for part in line.split("\n")]
    while out and out[-1] == "":
        out.pop()
    return Piece(source, tuple(out))


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|h|d|w)")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str | None) -> int | None:
    """Return seconds for a duration such as 90s, 15m, 1h30m, 2d; None for None."""
    if text is None or text == "":
        return None
    value = text.strip().lower()
    if value.isdigit():
        return int(value)
    pos = 0
    total = 0.0
    for match in _DURATION.finditer(value):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(value) or pos == 0:
        raise ConfigError(
            f"--since: cannot read {text!r} as a duration", hint="use e.g. 30m, 2h, 1d or 1h30m"
        )
    return max(1, int(total))


def unavailable(what: str, exc: BaseException | str, hint: str) -> CollectorUnavailable:
    """Return a CollectorUnavailable for `what` with the cause shortened to one line."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return CollectorUnavailable(f"{what}: {text[:300]}", hint=hint)


def size_text(count: int) -> str:
    """Return a byte count as a person reads it: 3171 bytes, 16 MiB, 1.5 GiB."""
    if count < 2**20:
        return f"{count} bytes"
    if count < 2**30:
        return f"{count / 2**20:.3g} MiB"
    return f"{count / 2**30:.3g} GiB"


class Deadline:
    """The moment by which one call (connect, the answer's head and its whole body) must be over."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def left(self) -> float:
        """Return the seconds left, never below zero."""
        return max(0.0, self._end - time.monotonic())


class TailBuffer:
    """Keep the last `cap` bytes of what is written, and count everything written."""

    def __init__(self, cap: int):
        self.cap = cap
        self.received = 0
        self._chunks: deque[bytes] = deque()
        self._kept = 0
        self._last_dropped = b"\n"  # the byte before the kept ones: a newline when none is torn

    def write(self, data: bytes) -> None:
        """Add `data`, dropping the oldest chunks that the cap no longer needs."""
        if not data:
            return
        self.received += len(data)
        self._chunks.append(data)
        self._kept += len(data)
        while self._kept - len(self._chunks[0]) >= self.cap:
            dropped = self._chunks.popleft()
            self._kept -= len(dropped)
            self._last_dropped = dropped[-1:]

    @property
    def dropped(self) -> bool:
        """Return True when bytes from the front were (or will be) dropped."""
        return self.received > self.cap

    def getvalue(self) -> bytes:
        """Return the last `cap` bytes, from the start of the first whole line when the front was dropped."""
        chunks = self._chunks
        excess = self._kept - self.cap
        if excess > 0:
            self._last_dropped = chunks[0][excess - 1 : excess]
            chunks[0] = chunks[0][excess:]
        if self._last_dropped != b"\n" and _line_after_first(chunks):
            # The cut tore a line: start after its end (a torn line that is all there is stays).
            while (newline := chunks[0].find(b"\n")) < 0:
                chunks.popleft()
            chunks[0] = chunks[0][newline + 1 :]
        data = b"".join(chunks)
        chunks.clear()
        self._kept = 0
        return data


def _line_after_first(chunks: deque[bytes]) -> bool:
    """Return True when the bytes hold a line break with something after it."""
    last = len(chunks) - 1
    return any(b"\n" in (chunk if i < last else chunk[:-1]) for i, chunk in enumerate(chunks))


@dataclass(frozen=True, slots=True)
class Body:
    """What was kept of one answer's body, and why it is not the whole body when it is not."""

    data: bytes
    received: int  # bytes that arrived; more than len(data) when only the last ones were kept
    late: bool = False  # the deadline passed before the body ended
    over: bool = False  # the body was larger than its cap: tail kept, or (JSON) refused
    broken: str | None = None  # the peer broke the connection off mid-body: why

    @property
    def whole(self) -> bool:
        """Return True when the whole body arrived and was kept."""
        return not (self.late or self.over or self.broken)


def read_body(
    resp: Any,
    deadline: Deadline,
    cap: int,
    *,
    tail: bool,
    transform: Callable[[bytes], bytes] | None = None,
) -> Body:
    """Read a urllib3 response's body in chunks until it ends, the deadline passes, or the cap.

    Each read waits only for the time left, so a peer that trickles a byte at a time holds the call
    no longer than the deadline. `tail`: keep the last `cap` bytes of a larger body (a log);
    otherwise stop at the cap and keep nothing (a JSON answer cut anywhere is unreadable).
    `transform` turns each raw chunk into the bytes to keep (a Docker log's stream framing).
    The response is closed unless it was read to its end.
    """
    from urllib3.exceptions import HTTPError
    from urllib3.exceptions import TimeoutError as Urllib3Timeout

    declared = _content_length(resp)
    if not tail and declared is not None and declared > cap:
        resp.close()  # refused by its head alone: not a byte of it is read
        return Body(b"", 0, over=True)
    kept = TailBuffer(cap)
    sock = _socket_of(resp)
    pooled_timeout = sock.gettimeout() if sock is not None else None
    read = getattr(resp, "read1", None) or resp.read  # read1: at most one recv, what has arrived
    received = 0
    late = over = False
    broken: str | None = None
    ended = False
    try:
        while True:
            left = deadline.left()
            if left <= 0:
                late = True
                break
            if sock is not None:
                sock.settimeout(left)
            chunk = read(_CHUNK)
            if not chunk:
                ended = True
                break
            received += len(chunk)
            if not tail and received > cap:
                over = True
                break
            kept.write(transform(chunk) if transform is not None else chunk)
    except (Urllib3Timeout, TimeoutError):
        late = True
    except (HTTPError, OSError) as exc:
        if deadline.left() <= 0:
            late = True
        else:
            broken = _reason(exc)
    finally:
        if ended:
            if sock is not None:
                sock.settimeout(pooled_timeout)  # the pool may hand this connection to the next call
            _release(resp)
        else:
            resp.close()  # mid-body: the connection cannot serve another call
    if over:
        return Body(b"", received, over=True)
    return Body(kept.getvalue(), received, late=late, over=kept.dropped, broken=broken)


def _content_length(resp: Any) -> int | None:
    """Return the Content-Length the answer declares, or None."""
    try:
        return int((getattr(resp, "headers", None) or {}).get("Content-Length", ""))
    except (TypeError, ValueError):
        return None


def _socket_of(resp: Any) -> socket.socket | None:
    """Return the socket under a urllib3 response, so that each read can wait only for the time left."""
    sock = getattr(getattr(resp, "connection", None) or getattr(resp, "_connection", None), "sock", None)
    if sock is None:  # http.client hands the socket over to the response when the peer closes after it
        raw = getattr(getattr(getattr(resp, "_fp", None), "fp", None), "raw", None)
        sock = getattr(raw, "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _release(resp: Any) -> None:
    """Give a fully read response's connection back to its pool."""
    release = getattr(resp, "release_conn", None)
    if release is not None:
        release()


def _reason(exc: BaseException) -> str:
    """Return the first line of why a read broke off."""
    args = getattr(exc, "args", None)
    reason = str(args[0] if args else exc)
    return reason.splitlines()[0][:300] if reason else type(exc).__name__


def cut_log_warning(what: str, body: Body, timeout: float, cap: int) -> str | None:
    """Return the warning for a log that arrived only in part (None when whole): why, and how to widen."""
    if body.whole:
        return None
    if body.broken is not None:
        return f"{what} cut short ({body.received} bytes arrived): {body.broken}; diagnosed what arrived"
    if body.late:
        kept = f"; kept the last {size_text(cap)} of it" if body.over else ""
        return (
            f"{what} cut at the --timeout of {timeout:g} s after {size_text(body.received)}{kept}; "
            "diagnosed what arrived (pass a larger --timeout to wait for all of it)"
        )
    return (
        f"{what} is {size_text(body.received)}, more than the {size_text(cap)} one log may take; "
        f"diagnosed its last {size_text(cap)} (ask for fewer lines with --tail or --since to "
        "diagnose all of them)"
    )
