"""Stage 2: RawLine -> Event. Sniffs the format of each line and assembles multi-line records.

Public API: `parse_lines(lines, stats=None) -> Iterator[Event]`, `ParseStats`. The formats and the
fields they yield are described in docs/FORMATS.md; the dispatch tables are in parse/stream.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from diagnoser.model import Event, RawLine
from diagnoser.parse.stream import StreamParser


@dataclass(slots=True)
class ParseStats:
    """Counts a parse run accumulates (mutable, owned by one run)."""

    lines: int = 0
    events: int = 0
    formats: Counter[str] = field(default_factory=Counter)


def parse_lines(lines: Iterable[RawLine], stats: ParseStats | None = None) -> Iterator[Event]:
    """Yield normalised events for `lines`, streaming, in input order (a record when it closes)."""
    parser = StreamParser()
    for raw in lines:
        evs = parser.feed(raw)
        if stats is not None:
            stats.lines += 1
            if evs:
                stats.events += len(evs)
                for ev in evs:
                    stats.formats[ev.format] += 1
        if evs:
            yield from evs
    evs = parser.close()
    if stats is not None:
        stats.events += len(evs)
        for ev in evs:
            stats.formats[ev.format] += 1
    yield from evs
