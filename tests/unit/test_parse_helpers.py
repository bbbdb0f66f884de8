"""Helpers shared by the parser tests."""

from __future__ import annotations

from pathlib import Path

from diagnoser.model import Event, RawLine
from diagnoser.parse import ParseStats, parse_lines

FORMATS = Path(__file__).resolve().parents[1] / "data" / "formats"


def parse_text(text: str, source: str = "stdin", stats: ParseStats | None = None) -> list[Event]:
    """Return the events of `text` read as one source."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return list(parse_lines((RawLine(source, i + 1, t) for i, t in enumerate(lines)), stats))


def parse_file(name: str, stats: ParseStats | None = None) -> list[Event]:
    """Return the events of a sample file in tests/data/formats."""
    return parse_text((FORMATS / name).read_text(encoding="utf-8"), f"file:{name}", stats)


def kinds(events: list[Event], kind: str) -> list[Event]:
    """Return the events whose fields.kind is `kind`."""
    return [e for e in events if e.fields.get("kind") == kind]


def test_every_sample_file_parses():
    for path in sorted(FORMATS.glob("*.*")):
        if path.suffix in (".log", ".txt", ".json", ".yaml"):
            assert parse_file(path.name), path.name
