"""Render a Report as Markdown for a chat message or a pull-request comment.

Everything a reader acts on is visible without a click: the summary, the quoted evidence, each
step's action, values and snippet.
"""

from __future__ import annotations

from diagnoser.model import FixStep, Report
from diagnoser.plan.docs import TITLES
from diagnoser.redact import Redactor, redact_and_clip
from diagnoser.render.quote import quote, quotes
from diagnoser.render.text import healthy_line, platform_hint, step_head

FENCE = "`" * 3


def _code(text: str) -> str:
    """Return `text` as inline code, safe against backticks inside it."""
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}"


def _fence(lines: list[str], lang: str = "text") -> list[str]:
    """Return a fenced code block that no line of it can close."""
    return [FENCE + lang, *(line.replace(FENCE, "'''") for line in lines), FENCE]


def _doc_link(url: str) -> str:
    """Return a link named by the page's title where it is known."""
    title = TITLES.get(url.split("#", 1)[0].split("?", 1)[0])
    return f"[{title}]({url})" if title else f"<{url}>"


def _step(n: int, s: FixStep) -> list[str]:
    """Return one fix step: the action and its values on the first line, then why, snippet and docs."""
    out = [step_head(n, s, lambda st: f"**{st.action.value} {_code(st.knob)}**", lambda v: f"**{v}**")]
    body = " ".join(p for p in (s.text, f"Why: {s.why}" if s.why else "") if p)
    if body:
        out.append(f"   {body}")
    if s.snippet:
        out += ["", *("   " + line for line in _fence(s.snippet.rstrip().splitlines(), "")), ""]
    out.append(f"   Docs: {_doc_link(s.docs)}")
    return out


def render_markdown(report: Report, redactor: Redactor, verbose: bool = False) -> str:
    """Return the report as Markdown, secrets redacted: the verdict first, what was read at the end."""
    report = redact_and_clip(report, redactor, clip=False)
    out = ["## diagnoser report", ""]
    if not report.diagnoses:
        healthy = healthy_line(report)
        out.append(f"**{healthy[0].upper()}{healthy[1:]}.**")
        if report.suspicious:
            out += ["", "Lines that look wrong but match no documented cause:", ""]
            out += _fence([f"{q.where}: {q.line}" for q in map(quote, report.suspicious)])
    for i, d in enumerate(report.diagnoses, start=1):
        out += [f"### {i}. {d.title} ({_code(d.cause)}, {d.severity.value})", ""]
        if verbose:
            rule = f", rule {_code(d.rule)}" if d.rule else ""
            out += [f"confidence {d.confidence:.2f} ({d.origin.value}{rule})", ""]
        if d.summary:
            out += [d.summary, ""]
        quoted = [
            line
            for q in quotes(d.evidence)
            for line in (f"{q.where}: {q.line}{q.repeats()}", *("    " + x for x in q.extra))
        ]
        out += ["**Evidence**", "", *_fence(quoted), ""]
        if d.fixes:
            platforms = ", ".join(p.label for p in d.platforms)
            out += [f"**Fix**, for {platforms}:" if platforms else "**Fix**:", ""]
            for n, step in enumerate(d.fixes, start=1):
                out += _step(n, step)
            out.append("")
        if not d.platforms and (hint := platform_hint(d)):
            out += [hint[0].upper() + hint[1:] + ".", ""]
    sources = ", ".join(report.input.sources)
    lines = report.input.lines
    while out and not out[-1]:
        out.pop()
    out += ["", f"<sub>Read {lines} line{'' if lines == 1 else 's'} from {sources}.</sub>"]
    for w in report.warnings:
        out.append(f"> warning: {w}")
    return "\n".join(out).rstrip() + "\n"
