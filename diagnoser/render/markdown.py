"""Render a Report as Markdown for a chat message or a pull-request comment."""

from __future__ import annotations

from diagnoser.model import FixStep, Report, ValueSource
from diagnoser.redact import Redactor, redact_and_clip


def _code(text: str) -> str:
    """Return `text` as inline code, safe against backticks inside it."""
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}"


def _current(step: FixStep) -> str:
    """Return the current-value cell; a documented default says so and links its page."""
    if step.current is None:
        return ""
    if step.current_source is ValueSource.DEFAULT:
        if step.current_docs:
            return f"{step.current} (default, [docs]({step.current_docs}))"
        return f"{step.current} (default)"
    return step.current


def render_markdown(report: Report, redactor: Redactor) -> str:
    """Return the report as Markdown, secrets redacted and evidence clipped."""
    report = redact_and_clip(report, redactor)
    out = ["## diagnoser report", ""]
    sources = ", ".join(report.input.sources)
    out.append(f"Read {report.input.lines} lines ({report.input.events} events) from {sources}.")
    out.append("")
    if not report.diagnoses:
        out.append("**No documented cause found.**")
        for ev in report.suspicious:
            out.append(f"- {_code(ev.source + ':' + str(ev.line))} {_code(ev.text.splitlines()[0][:200])}")
    for i, d in enumerate(report.diagnoses, start=1):
        out.append(f"### {i}. `{d.cause}`: {d.title}")
        out.append("")
        out.append(
            f"**{d.severity.value}**, confidence {d.confidence:.2f} ({d.origin.value}"
            + (f", rule `{d.rule}`" if d.rule else "")
            + ")"
        )
        out.append("")
        if d.summary:
            out += [d.summary, ""]
        out.append("<details><summary>Evidence</summary>")
        out.append("")
        out.append("```text")
        for ev in d.evidence:
            first = ev.text.splitlines()[0] if ev.text else ""
            out.append(f"{ev.source}:{ev.line}: {first[:300]}".replace("```", "'''"))
        out.append("```")
        out.append("</details>")
        out.append("")
        if d.fixes:
            out.append("| # | platform | knob | current | suggested | why | docs |")
            out.append("|---|---|---|---|---|---|---|")
            for n, s in enumerate(d.fixes, start=1):
                why = (s.why or s.text).replace("|", "\\|").replace("\n", " ")
                out.append(
                    f"| {n} | {s.platform.value} | {_code(s.knob)} ({s.action.value}) | {_current(s)} "
                    f"| {s.suggested or ''} | {why} | [docs]({s.docs}) |"
                )
            out.append("")
    for w in report.warnings:
        out.append(f"> warning: {w}")
    return "\n".join(out).rstrip() + "\n"
