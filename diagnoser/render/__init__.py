"""Stage 6: render a Report as text, JSON or Markdown."""

from __future__ import annotations

from enum import StrEnum

from diagnoser.model import Report
from diagnoser.redact import DEFAULT, Redactor
from diagnoser.render.json import render_json, report_to_dict
from diagnoser.render.markdown import render_markdown
from diagnoser.render.text import render_text

__all__ = ["OutputFormat", "render", "render_json", "render_markdown", "render_text", "report_to_dict"]


class OutputFormat(StrEnum):
    """Output formats of `diagnose`."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


def render(report: Report, fmt: OutputFormat, colour: bool = False, redactor: Redactor = DEFAULT) -> str:
    """Return the report rendered in `fmt`, secrets redacted unless `redactor` is disabled."""
    if fmt is OutputFormat.JSON:
        return render_json(report, redactor)
    if fmt is OutputFormat.MARKDOWN:
        return render_markdown(report, redactor)
    return render_text(report, colour=colour, redactor=redactor)
