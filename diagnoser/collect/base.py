"""What every service collector shares: the request, the collected pieces and the runner.

What collectors bring back is as the sources have it: the exits redact it (diagnoser/redact.py).
"""

from __future__ import annotations

import difflib
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from diagnoser.errors import CollectorError, CollectorUnavailable, ConfigError
from diagnoser.model import RawLine
from diagnoser.options import DEFAULT_COLLECT_TIMEOUT, SourceKind

log = logging.getLogger(__name__)

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


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of running the chosen collectors: pieces, warnings, and what was used."""

    pieces: tuple[Piece, ...]
    warnings: tuple[str, ...]
    used: tuple[str, ...]  # "docker (unix:///…)"
    skipped: tuple[str, ...] = ()  # "kubernetes: no kubeconfig …"

    def lines(self) -> Iterator[RawLine]:
        """Yield every piece's lines as RawLines, numbered from 1 within each piece."""
        for piece in self.pieces:
            for number, text in enumerate(piece.lines, 1):
                yield RawLine(piece.source, number, text)


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


def suggest(name: str, candidates: Iterable[str]) -> str:
    """Return ' (did you mean …?)'-style text for the closest names, or an empty string."""
    pool = sorted(set(candidates))
    close = difflib.get_close_matches(name, pool, n=3, cutoff=0.5)
    close += [c for c in pool if name.lower() in c.lower() and c not in close][: 3 - len(close)]
    if not close:
        return ""
    return "did you mean " + " or ".join(repr(c) for c in close) + "?"


def _builtin(kind: SourceKind) -> Collector:
    """Return the collector for `kind`; modules are imported only when chosen."""
    if kind is SourceKind.KUBERNETES:
        from diagnoser.collect.kubernetes import KubernetesCollector

        return KubernetesCollector()
    if kind is SourceKind.DOCKER:
        from diagnoser.collect.docker import DockerCollector

        return DockerCollector()
    from diagnoser.collect.journald import JournaldCollector

    return JournaldCollector()


_ORDER = (SourceKind.KUBERNETES, SourceKind.DOCKER, SourceKind.JOURNALD)


def collect_service(
    request: Request,
    kinds: Sequence[SourceKind] = (SourceKind.AUTO,),
    collectors: dict[SourceKind, Collector] | None = None,
    have_other_input: bool = False,
) -> Outcome:
    """Run the chosen collectors (all reachable ones for auto) and gather what they found.

    A source that fails while others (or files) yield something becomes a warning; when nothing
    at all could be collected, raise one CollectorError naming what was searched and where.
    """
    auto = SourceKind.AUTO in kinds or not kinds
    chosen = list(_ORDER) if auto else [k for k in _ORDER if k in kinds]
    pieces: list[Piece] = []
    warnings: list[str] = []
    used: list[str] = []
    skipped: list[str] = []
    failures: list[str] = []
    targets: list[str] = []
    for kind in chosen:
        collector = (collectors or {}).get(kind) or _builtin(kind)
        if auto:
            why_not = collector.available(request)
            if why_not:
                skipped.append(f"{kind}: {why_not}")
                continue
        sub = Request(**{**_fields(request), "targets": tuple(targets)})
        try:
            found = collector.collect(sub)
        except NotFound as exc:
            (skipped if auto else failures).append(f"{kind}: {exc}")
            continue
        except CollectorError as exc:
            failures.append(f"{kind}: {exc}")
            continue
        if auto and not found.pieces:
            skipped.append(f"{kind}: nothing about {request.service!r} at {found.where}")
            continue
        pieces.extend(found.pieces)
        warnings.extend(f"{kind}: {w}" for w in found.warnings)
        targets.extend(found.targets)
        used.append(f"{kind} ({found.where})")
    if not pieces and not have_other_input:
        problems = "; ".join(failures + skipped) or "no source is reachable"
        raise CollectorError(f"could not collect anything for service {request.service!r}: {problems}")
    warnings = failures + warnings if pieces or have_other_input else warnings
    return Outcome(tuple(pieces), tuple(warnings), tuple(used), tuple(skipped))


def _fields(request: Request) -> dict:
    """Return the fields of `request` as a dict (slots dataclasses have no __dict__)."""
    return {name: getattr(request, name) for name in Request.__dataclass_fields__}


def unavailable(what: str, exc: BaseException | str, hint: str) -> CollectorUnavailable:
    """Return a CollectorUnavailable for `what` with the cause shortened to one line."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return CollectorUnavailable(f"{what}: {text[:300]}", hint=hint)


__all__ = [
    "Collection",
    "Collector",
    "Outcome",
    "NotFound",
    "Piece",
    "Request",
    "collect_service",
    "parse_since",
    "piece",
    "suggest",
    "unavailable",
]
