"""`diagnoser parse`: show the normalised events, for debugging parsers."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import orjson
import typer

from diagnoser.cli.common import write_stdout


class EventFormat(StrEnum):
    """Output formats of `diagnoser parse`."""

    TEXT = "text"
    JSON = "json"


def _event_dict(event: Any) -> dict[str, Any]:
    """Return an event as JSON-ready data."""
    return {
        "source": event.source,
        "line": event.line,
        "end_line": event.last_line,
        "format": event.format,
        "component": event.component,
        "timestamp": event.timestamp.isoformat() if event.timestamp else None,
        "level": event.level.value if event.level else None,
        "stream": event.stream,
        "pid": event.pid,
        "fields": event.fields,
        "message": event.message,
    }


def parse(
    paths: Annotated[list[str] | None, typer.Argument(help="Log files; '-' or nothing reads stdin.")] = None,
    output: Annotated[
        EventFormat, typer.Option("--output", "-o", help="text or json (one object per line).")
    ] = EventFormat.TEXT,
) -> int:
    """Show the events the parsers make of a log, one per line."""
    from diagnoser.clip import clip_words
    from diagnoser.collect import open_inputs
    from diagnoser.collect.files import read_lines
    from diagnoser.parse import ParseStats, parse_lines
    from diagnoser.redact import DEFAULT as redact
    from diagnoser.render.escape import control_safe, json_safe

    sources = open_inputs(list(paths or []))
    stats = ParseStats()
    for source in sources:
        # Secrets never leave, here either: each line is redacted as it is read, in order, so that what
        # its context makes secret (an env value after its name, a key's body) goes before parsing.
        parsed = parse_lines(redact.lines(read_lines(source)))
        for event in parsed:
            if output is EventFormat.JSON:  # JSON escapes every control character itself
                line = json_safe(
                    orjson.dumps(_event_dict(event), default=str, option=orjson.OPT_SORT_KEYS).decode()
                )
            else:
                fields = " ".join(f"{k}={v!r}" for k, v in event.fields.items())
                first = event.message.splitlines()[0] if event.message else ""
                line = control_safe(
                    f"{event.source}:{event.line} {event.format}/{event.component} {fields} | "
                    f"{clip_words(redact(first), 160)}"
                )
            if not write_stdout(redact(line) + "\n"):
                return 0  # the reader has gone (`| head`): parsing on would be for no one
        stats.lines += parsed.stats.lines
        stats.events += parsed.stats.events
        stats.formats.update(parsed.stats.formats)
    formats = ", ".join(f"{k} {v}" for k, v in stats.formats.most_common())
    typer.echo(f"{stats.lines} lines, {stats.events} events ({formats})", err=True)
    return 0
