"""Stage 6: render a Report as text, JSON, YAML, Markdown, SARIF or JUnit: an exit, so each renderer
redacts, then clips."""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from typing import TYPE_CHECKING

import orjson

from diagnoser.model import Report
from diagnoser.redact import Redactor
from diagnoser.render.json import render_json, render_yaml, report_to_dict
from diagnoser.render.markdown import render_markdown
from diagnoser.render.scan import render_metrics, render_scan_line, render_scan_table
from diagnoser.render.text import WIDTH, render_text

if TYPE_CHECKING:
    from diagnoser.pipeline import Update

__all__ = [
    "WIDTH",
    "OutputFormat",
    "render",
    "render_json",
    "render_markdown",
    "render_metrics",
    "render_scan_line",
    "render_scan_table",
    "render_text",
    "render_final",
    "render_update",
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


def render_update(update: Update, redactor: Redactor, at: str, as_json: bool, width: int = WIDTH) -> str:
    """Return one `--follow` message: a diagnosis that appeared or changed, as a JSON line (the contract's
    diagnosis with its fingerprint) or a text block."""
    if as_json:
        index = update.report.diagnoses.index(update.diagnosis)
        message = {
            "at": at,
            "status": update.status,
            "fingerprint": update.fingerprint,
            "workload": redactor(update.workload),
            "cause": update.diagnosis.cause,
            "severity": update.diagnosis.severity.value,
            "diagnosis": report_to_dict(update.report, redactor)["diagnoses"][index],
        }
        return orjson.dumps(message).decode() + "\n"
    alone = dataclasses.replace(update.report, diagnoses=(update.diagnosis,), warnings=())
    block = render_text(alone, redactor, width=width, footer=False)
    return f"[{at}] {update.status} ({update.fingerprint}, {redactor(update.workload)}):\n{block}\n"


def render_final(report: Report, redactor: Redactor) -> str:
    """Return the report that ends a `--follow` run in JSON lines: one line, marked final."""
    return orjson.dumps({"final": True, "report": report_to_dict(report, redactor)}).decode() + "\n"
