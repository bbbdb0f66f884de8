"""Helpers shared by the parser tests."""

from __future__ import annotations

from pathlib import Path

from diagnoser.model import Event, RawLine
from diagnoser.parse import ParseStats, parse_lines

FORMATS = Path(__file__).resolve().parents[1] / "data" / "formats"


def parse_counted(text: str, source: str = "stdin") -> tuple[list[Event], ParseStats]:
    """Return the events of `text` read as one source, and the parse run's stats."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    parsed = parse_lines(RawLine(source, i + 1, t) for i, t in enumerate(lines))
    return list(parsed), parsed.stats


def parse_text(text: str, source: str = "stdin") -> list[Event]:
    """Return the events of `text` read as one source."""
    return parse_counted(text, source)[0]


def parse_file_counted(name: str) -> tuple[list[Event], ParseStats]:
    """Return the events of a sample file in tests/data/formats, and the parse run's stats."""
    return parse_counted((FORMATS / name).read_text(encoding="utf-8"), f"file:{name}")


def parse_file(name: str) -> list[Event]:
    """Return the events of a sample file in tests/data/formats."""
    return parse_file_counted(name)[0]


def kinds(events: list[Event], kind: str) -> list[Event]:
    """Return the events whose fields.kind is `kind`."""
    return [e for e in events if e.fields.get("kind") == kind]


def test_every_sample_file_parses():
    for path in sorted(FORMATS.glob("*.*")):
        if path.suffix in (".log", ".txt", ".json", ".yaml"):
            assert parse_file(path.name), path.name
