"""Stage 6: render a Report as text, JSON, YAML, Markdown, SARIF or JUnit: an exit, so each renderer
redacts, then clips."""

from __future__ import annotations

from enum import StrEnum

from diagnoser.model import Report
from diagnoser.redact import Redactor
from diagnoser.render.json import render_json, render_yaml, report_to_dict
from diagnoser.render.markdown import render_markdown
from diagnoser.render.text import WIDTH, render_text

__all__ = [
    "WIDTH",
    "OutputFormat",
    "render",
    "render_json",
    "render_markdown",
    "render_text",
    "render_yaml",
    "report_to_dict",
]


class OutputFormat(StrEnum):
    """Output formats of `diagnose`."""

    TEXT = "text"
    WIDE = "wide"  # text with evidence lines uncut
    JSON = "json"
    YAML = "yaml"  # the JSON report's content, as YAML
    MARKDOWN = "markdown"
    SARIF = "sarif"  # SARIF 2.1.0, for code-scanning views
    JUNIT = "junit"  # JUnit XML, for CI test reports


def render(
    report: Report,
    fmt: OutputFormat,
    redactor: Redactor,
    colour: bool = False,
    verbose: bool = False,
    width: int = WIDTH,
) -> str:
    """Return the report rendered in `fmt`, secrets redacted by `redactor` (the run's Options.redactor).

    `verbose` adds how each diagnosis was reached (confidence, detector, rule) to text and markdown;
    JSON and YAML always carry it. `width` is where text prose wraps (the terminal's width).
    """
    if fmt is OutputFormat.JSON:
        return render_json(report, redactor)
    if fmt is OutputFormat.YAML:
        return render_yaml(report, redactor)
    if fmt is OutputFormat.SARIF or fmt is OutputFormat.JUNIT:
        from diagnoser.render import ci  # the catalogue and XML load only for these

        return (ci.render_sarif if fmt is OutputFormat.SARIF else ci.render_junit)(report, redactor)
    if fmt is OutputFormat.MARKDOWN:
        return render_markdown(report, redactor, verbose=verbose)
    return render_text(
        report, redactor, colour=colour, verbose=verbose, width=width, wide=fmt is OutputFormat.WIDE
    )
