"""What every service collector shares: the request, the collected pieces and helpers.

What collectors bring back is as the sources have it: the exits redact it (diagnoser/redact.py).

The runner that chooses and calls the collectors is collect/service.py, one floor up.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass

from diagnoser.errors import CollectorError, CollectorUnavailable, ConfigError
from diagnoser.options import DEFAULT_COLLECT_TIMEOUT

DEFAULT_TAIL = 2000  # log lines per container unless --tail says otherwise


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
    timeout: float = DEFAULT_COLLECT_TIMEOUT
    journal: tuple[str, ...] = ()  # journal files or directories; empty: the system journal
    targets: tuple[str, ...] = ()  # pod / container names and ids found by earlier collectors


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
