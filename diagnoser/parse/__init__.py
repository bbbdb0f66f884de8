"""Stage 2: RawLine -> Event. Sniffs the format of each line and assembles multi-line records.

Public API: `parse_lines(lines, stats=None) -> Iterator[Event]`, `ParseStats`, `Parser`, `parsers`.
The formats and the fields they yield are described in docs/FORMATS.md.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from diagnoser.model import Event, RawLine
from diagnoser.registry import Registry


@dataclass(slots=True)
class ParseStats:
    """Counts a parse run accumulates (mutable, owned by one run)."""

    lines: int = 0
    events: int = 0
    formats: Counter[str] = field(default_factory=Counter)


class Parser(ABC):
    """A log format: scores lines for sniffing and turns them into events."""

    name: str = ""

    @abstractmethod
    def sniff(self, line: str) -> float:
        """Return 0..1: how likely `line` is in this format."""

    @abstractmethod
    def parse(self, raw: RawLine) -> Event | None:
        """Return the event for `raw`, or None when the line is not in this format; never raise."""


parsers: Registry[type[Parser]] = Registry("parser")


def parse_lines(lines: Iterable[RawLine], stats: ParseStats | None = None) -> Iterator[Event]:
    """Yield normalised events for `lines`, streaming, in input order."""
    return parse_stream(lines, stats)


from diagnoser.parse import formats as formats  # noqa: E402  (registers the built-in parsers)
from diagnoser.parse.stream import parse_stream  # noqa: E402
