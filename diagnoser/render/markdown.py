"""Render a Report as Markdown for a chat message or a pull-request comment.

Everything a reader acts on is visible without a click: the summary, the quoted evidence, each
step's action, values and snippet.
"""

from __future__ import annotations

import dataclasses

from diagnoser.model import FixStep, Report
from diagnoser.plan.docs import TITLES
from diagnoser.redact import Redactor, redact_and_clip
from diagnoser.render.escape import control_safe_all, md_code, md_fence, md_text
from diagnoser.render.quote import quote, quotes
from diagnoser.render.text import healthy_line, platform_hint, sources_named, step_head


def _doc_link(url: str) -> str:
    """Return a link named by the page's title where it is known."""
    title = TITLES.get(url.split("#", 1)[0].split("?", 1)[0])
    return f"[{title}]({url})" if title else f"<{url}>"


def _step(n: int, s: FixStep) -> list[str]:
    """Return one fix step: the action and its values on the first line, then why, snippet and docs.
    What the plan filled from the logs is shown as escaped text or as code."""
    shown = dataclasses.replace(
        s,
        where=md_text(s.where),
        current=md_text(s.current) if s.current is not None else None,
        current_from=md_text(s.current_from) if s.current_from else s.current_from,
        current_docs=md_text(s.current_docs) if s.current_docs else s.current_docs,
    )
    knob = md_code(s.knob)
    out = [step_head(n, shown, lambda st: f"**{st.action.value} {knob}**", lambda v: f"**{md_text(v)}**")]
    body = " ".join(p for p in (s.text, f"Why: {s.why}" if s.why else "") if p)
    if body:
        out.append(f"   {md_text(body)}")
    if s.snippet:
        out += ["", *("   " + line for line in md_fence(s.snippet.rstrip().splitlines(), "")), ""]
    out.append(f"   Docs: {_doc_link(s.docs)}")
    return out


def render_markdown(report: Report, redactor: Redactor, verbose: bool = False) -> str:
    """Return the report as Markdown, secrets redacted: the verdict first, what was read at the end."""
    report = control_safe_all(redact_and_clip(report, redactor, clip=False))
    out = ["## diagnoser report", ""]
    if not report.diagnoses:
        healthy = healthy_line(report)
        out.append(f"**{md_text(healthy[0].upper() + healthy[1:])}.**")
        if report.suspicious:
            out += ["", "Lines that look wrong but match no documented cause:", ""]
            out += md_fence([f"{q.where}: {q.line}" for q in map(quote, report.suspicious)])
    for i, d in enumerate(report.diagnoses, start=1):
        out += [f"### {i}. {md_text(d.title)} ({md_code(d.cause)}, {d.severity.value})", ""]
        if verbose:
            rule = f", rule {md_code(d.rule)}" if d.rule else ""
            out += [f"confidence {d.confidence:.2f} ({d.origin.value}{rule})", ""]
        if d.summary:
            out += [md_text(d.summary), ""]
        quoted = [
            line
            for q in quotes(d.evidence)
            for line in (f"{q.where}: {q.line}{q.repeats()}", *("    " + x for x in q.extra))
        ]
        out += ["**Evidence**", "", *md_fence(quoted), ""]
        if d.fixes:
            platforms = ", ".join(p.label for p in d.platforms)
            out += [f"**Fix**, for {platforms}:" if platforms else "**Fix**:", ""]
            for n, step in enumerate(d.fixes, start=1):
                out += _step(n, step)
            out.append("")
        if not d.platforms and (hint := platform_hint(d)):
            out += [hint[0].upper() + hint[1:] + ".", ""]  # the platforms' names, nothing from the input
    sources = md_text(sources_named(report.input.sources))
    lines = report.input.lines
    while out and not out[-1]:
        out.pop()
    out += ["", f"<sub>Read {lines} line{'' if lines == 1 else 's'} from {sources}.</sub>"]
    for w in report.warnings:
        out.append(f"> warning: {md_text(w)}")
    return "\n".join(out).rstrip() + "\n"
