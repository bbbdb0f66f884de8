"""Render a Report for a person at a terminal; colour only when asked (a TTY without NO_COLOR)."""

from __future__ import annotations

import textwrap

from diagnoser.model import Diagnosis, Evidence, FixStep, Report, Severity, ValueSource
from diagnoser.redact import Redactor, redact_and_clip

_SEVERITY_COLOURS = {
    Severity.CRITICAL: "1;31",
    Severity.HIGH: "31",
    Severity.MEDIUM: "33",
    Severity.LOW: "36",
    Severity.INFO: "2",
}
WIDTH = 100


class _Style:
    """ANSI styling that turns into plain text when colour is off."""

    def __init__(self, colour: bool):
        self.colour = colour

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text


def _input_line(report: Report) -> str:
    """Return the one-line summary of what was read."""
    formats = ", ".join(
        f"{name} {n}" for name, n in sorted(report.input.formats.items(), key=lambda kv: -kv[1])
    )
    sources = ", ".join(report.input.sources)
    return f"read {report.input.lines} lines, {report.input.events} events from {sources}" + (
        f" (formats: {formats})" if formats else ""
    )


def _evidence_line(ev: Evidence) -> str:
    """Return one quoted evidence line, the first line of a multi-line record plus its last."""
    lines = [line for line in ev.text.splitlines() if line.strip()] or [""]
    text = lines[0][:200] if len(lines) == 1 else f"{lines[0][:120]} … {lines[-1].strip()[:120]}"
    where = ev.source.removeprefix("file:")
    return f"{where}:{ev.line}: {text}"


def _default_note(step: FixStep) -> str:
    """Return " (default for PLATFORM, DOCS)" when the current value is a documented default."""
    if step.current_source is not ValueSource.DEFAULT:
        return ""
    where = step.platform.label
    return f" (default for {where}, {step.current_docs})" if step.current_docs else f" (default for {where})"


def _step_lines(number: int, step: FixStep, style: _Style) -> list[str]:
    """Return the lines of one fix step."""
    head = f"{number}. [{step.platform.value}] {step.action.value} {style(step.knob, '1')}"
    if step.where:
        head += f" ({step.where})"
    values = []
    if step.current is not None:
        values.append(f"current {step.current}{_default_note(step)}")
    if step.suggested is not None:
        values.append(f"suggested {style(step.suggested, '1;32')}")
    if values:
        head += ": " + ", ".join(values)
    out = [head]
    body = step.text or ""
    if step.why:
        body = f"{body} Why: {step.why}" if body else f"Why: {step.why}"
    if body:
        out += textwrap.wrap(body, WIDTH - 8, initial_indent="      ", subsequent_indent="      ")
    if step.snippet:
        out += ["      " + line for line in step.snippet.rstrip().splitlines()]
    out.append(f"      docs: {step.docs}")
    return out


def _diagnosis_lines(index: int, d: Diagnosis, style: _Style) -> list[str]:
    """Return the lines of one diagnosis."""
    sev = style(d.severity.value.upper(), _SEVERITY_COLOURS[d.severity])
    out = [
        f"{index}. {sev} {style(d.cause, '1')}: {d.title}",
        f"   confidence {d.confidence:.2f}, {d.origin.value}" + (f" {d.rule}" if d.rule else ""),
    ]
    if d.summary:
        out += textwrap.wrap(d.summary, WIDTH - 3, initial_indent="   ", subsequent_indent="   ")
    out.append("   evidence:")
    out += [f"     {_evidence_line(ev)}" for ev in d.evidence]
    if d.fixes:
        platforms = ", ".join(p.value for p in d.platforms) or "any platform"
        out.append(f"   fix ({platforms}):")
        for n, step in enumerate(d.fixes, start=1):
            out += ["    " + line for line in _step_lines(n, step, style)]
    return out


def render_text(report: Report, redactor: Redactor, colour: bool = False) -> str:
    """Return the report as terminal text, secrets redacted and evidence clipped."""
    report = redact_and_clip(report, redactor)
    style = _Style(colour)
    lines = [_input_line(report)]
    if not report.diagnoses:
        lines.append(style("no documented cause found", "32"))
        if report.suspicious:
            lines.append("lines that look wrong but match no documented cause:")
            lines += [f"  {_evidence_line(ev)}" for ev in report.suspicious]
    else:
        count = len(report.diagnoses)
        lines.append(
            ("1 diagnosis" if count == 1 else f"{count} diagnoses") + ", most likely root cause first:"
        )
        for i, d in enumerate(report.diagnoses, start=1):
            lines.append("")
            lines += _diagnosis_lines(i, d, style)
    for w in report.warnings:
        lines.append(style(f"warning: {w}", "33"))
    return "\n".join(lines) + "\n"
