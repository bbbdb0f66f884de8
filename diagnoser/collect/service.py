"""Run the chosen service collectors and gather what they found (`diagnose --service`).

The collectors stand below this module and import only collect/base.py; this module imports them.
It is itself imported only when a service is collected, so the collectors cost no start-up time
otherwise; their heavy clients (docker, kubernetes) stay deferred inside them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from diagnoser.collect.base import Collector, NotFound, Piece, Request
from diagnoser.collect.docker import DockerCollector
from diagnoser.collect.journald import JournaldCollector
from diagnoser.collect.kubernetes import KubernetesCollector
from diagnoser.errors import CollectorError
from diagnoser.model import RawLine
from diagnoser.options import SourceKind

# The built-in collectors, in the order auto runs them: a later one filters on what an earlier found.
BUILTIN: dict[SourceKind, type[Collector]] = {
    SourceKind.KUBERNETES: KubernetesCollector,
    SourceKind.DOCKER: DockerCollector,
    SourceKind.JOURNALD: JournaldCollector,
}


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
    chosen = list(BUILTIN) if auto else [k for k in BUILTIN if k in kinds]
    pieces: list[Piece] = []
    warnings: list[str] = []
    used: list[str] = []
    skipped: list[str] = []
    failures: list[str] = []
    targets: list[str] = []
    for kind in chosen:
        collector = (collectors or {}).get(kind) or BUILTIN[kind]()
        if auto:
            why_not = collector.available(request)
            if why_not:
                skipped.append(f"{kind}: {why_not}")
                continue
        sub = replace(request, targets=tuple(targets))
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
