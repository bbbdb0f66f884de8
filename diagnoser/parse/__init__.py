"""Stage 2: RawLine -> Event. Sniffs the format of each line and assembles multi-line records.

Public API: `parse_lines(lines) -> ParsedLines` (iterate it for the events; its `stats` are complete
once the iteration ends), `ParseStats`. The formats and the fields they yield are described in
docs/FORMATS.md; the dispatch tables are in parse/stream.py.
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

    def count(self, events: list[Event]) -> None:
        """Count the events one line (or the end of input) finished."""
        self.events += len(events)
        formats = self.formats
        for ev in events:
            formats[ev.format] += 1


class ParsedLines:
    """The events of `lines`, parsed as they are iterated, in input order (a record when it closes).

    The run's counts are its own: `stats` is complete once the iteration ends.
    """

    __slots__ = ("_lines", "stats")

    def __init__(self, lines: Iterable[RawLine]):
        self._lines = lines
        self.stats = ParseStats()

    def __iter__(self) -> Iterator[Event]:
        stats = self.stats
        count = stats.count
        parser = StreamParser()
        for raw in self._lines:
            evs = parser.feed(raw)
            stats.lines += 1
            if evs:
                count(evs)
                yield from evs
        evs = parser.close()
        count(evs)
        yield from evs


def parse_lines(lines: Iterable[RawLine]) -> ParsedLines:
    """Return the events of `lines` as a ParsedLines: iterate it (once) for them, then read its stats."""
    return ParsedLines(lines)
