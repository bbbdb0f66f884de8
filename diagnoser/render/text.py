"""Render a Report for a person at a terminal; colour only when asked (a TTY without NO_COLOR)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable

from diagnoser.model import Diagnosis, Evidence, FixStep, Platform, Report, Severity, ValueSource
from diagnoser.plan.docs import doc_title
from diagnoser.redact import Redactor, redact_and_clip
from diagnoser.render.escape import control_safe_all
from diagnoser.render.quote import Quote, quote, quotes

_SEVERITY_COLOURS = {
    Severity.CRITICAL: "1;31",
    Severity.HIGH: "31",
    Severity.MEDIUM: "33",
    Severity.LOW: "36",
    Severity.INFO: "2",
}
WIDTH = 100
_AZURE_ML = (Platform.AZUREML_V1, Platform.AZUREML_V2, Platform.AZMLINFSRV)


class _Style:
    """ANSI styling that turns into plain text when colour is off."""

    def __init__(self, colour: bool):
        self.colour = colour

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


NAMED_SOURCES = 5  # sources the "read N lines from ..." line names; more are counted (a bundle has 100k)


def sources_named(sources: tuple[str, ...]) -> str:
    """Return the sources of the bookkeeping line: all when few, else the first ones and how many more."""
    if len(sources) <= NAMED_SOURCES:
        return ", ".join(sources)
    shown = NAMED_SOURCES - 1
    return ", ".join(sources[:shown]) + f" and {len(sources) - shown} more"


def _input_line(report: Report, verbose: bool = False) -> str:
    """Return the one-line summary of what was read; the formats recognised with --verbose."""
    sources = sources_named(report.input.sources)
    line = f"read {_plural(report.input.lines, 'line')} from {sources}"
    if verbose:
        formats = ", ".join(
            f"{name} {n}" for name, n in sorted(report.input.formats.items(), key=lambda kv: -kv[1])
        )
        line += f" ({_plural(report.input.events, 'record')}" + (f"; formats: {formats})" if formats else ")")
    return line


def _evidence_line(ev: Evidence, wide: bool = False) -> str:
    """Return one quoted evidence record on one line (its decisive line)."""
    q = quote(ev, uncut=wide)
    return f"{q.where}: {q.line}"


def _quote_lines(q: Quote) -> list[str]:
    """Return a quote as report lines: where and the decisive line, then its extra lines indented."""
    return [f"{q.where}: {q.line}{q.repeats()}"] + [f"    {x}" for x in q.extra]


def current_note(step: FixStep) -> str:
    """Return where a current value comes from: the line it was read at, or the default's platform."""
    if step.current_source is ValueSource.OBSERVED and step.current_from:
        return f" (read at {step.current_from.removeprefix('file:')})"
    if step.current_source is ValueSource.INFERRED:
        return " (inferred, see why)"
    if step.current_source is ValueSource.DEFAULT:
        docs = f", {step.current_docs}" if step.current_docs else ""
        return f" (not in the logs; the default for {step.platform.label}{docs})"
    return ""


def platform_hint(d: Diagnosis) -> str:
    """Return the line that names --platform when the logs do not show where the service runs."""
    names = [p.value for p in d.other_platforms if p.family not in _AZURE_ML][:4]
    if any(p.family in _AZURE_ML for p in d.other_platforms):
        names.append("an Azure ML target such as azureml-v2-managed")
    if not names:
        return ""
    choices = " | ".join(names)
    return f"for the settings of the platform the service runs on, add --platform {choices}"


def step_head(
    number: int, step: FixStep, action: Callable[[FixStep], str], value: Callable[[str], str]
) -> str:
    """Return a step's first line: its number, platform, action on the knob, where, and its values;
    `action` and `value` style the action and the suggested value for the output format."""
    platform = "" if step.platform is Platform.GENERIC else f"[{step.platform.value}] "
    head = f"{number}. {platform}{action(step)}"
    if step.where:
        head += f" ({step.where})"
    values = []
    if step.current is not None:
        values.append(f"current {step.current}{current_note(step)}")
    if step.suggested is not None:
        values.append(f"suggested {value(step.suggested)}")
    return head + (": " + ", ".join(values) if values else "")


def _step_lines(number: int, step: FixStep, style: _Style, width: int) -> list[str]:
    """Return the lines of one fix step."""
    head = step_head(
        number, step, lambda s: f"{s.action.value} {style(s.knob, '1')}", lambda v: style(v, "1;32")
    )
    out = textwrap.wrap(head, width - 4, subsequent_indent="      ", break_on_hyphens=False) or [head]
    body = step.text or ""
    if step.why:
        body = f"{body} Why: {step.why}" if body else f"Why: {step.why}"
    if body:
        out += textwrap.wrap(body, width - 8, initial_indent="      ", subsequent_indent="      ")
    if step.snippet:
        out += ["      " + line for line in step.snippet.rstrip().splitlines()]
    out.append(f"      docs: {doc_title(step.docs)}")
    return out


def _diagnosis_lines(
    index: int, d: Diagnosis, style: _Style, verbose: bool, width: int, wide: bool
) -> list[str]:
    """Return the lines of one diagnosis."""
    sev = style(d.severity.value.upper(), _SEVERITY_COLOURS[d.severity])
    head = f"{index}. {sev} {style(d.cause, '1')}: {d.title}"
    out = textwrap.wrap(head, width, subsequent_indent="   ", break_on_hyphens=False) or [head]
    if verbose:  # how the engine got there: for whoever tunes it, not for the reader of the diagnosis
        out.append(f"   confidence {d.confidence:.2f}, {d.origin.value}" + (f" {d.rule}" if d.rule else ""))
    if d.summary:
        out += textwrap.wrap(d.summary, width - 3, initial_indent="   ", subsequent_indent="   ")
    out.append("   evidence:")
    out += [f"     {line}" for q in quotes(d.evidence, uncut=wide) for line in _quote_lines(q)]
    if d.fixes:
        platforms = ", ".join(p.label for p in d.platforms)
        out.append(f"   fix, for {platforms}:" if platforms else "   fix:")
        for n, step in enumerate(d.fixes, start=1):
            out += ["    " + line for line in _step_lines(n, step, style, width)]
    if not d.platforms and (hint := platform_hint(d)):
        out += textwrap.wrap(hint, width - 3, initial_indent="   ", subsequent_indent="   ")
    return out


def healthy_line(report: Report) -> str:
    """Return what a run with no diagnosis says: no failure, and what the service did if the logs show it."""
    a = report.activity
    did = []
    if a is not None and a.listening:
        did.append(f"listening on {a.listening}")
    if a is not None and a.workers_booted:
        did.append(f"{_plural(a.workers_booted, 'worker')} booted")
    if a is not None and a.requests:
        did.append(
            f"{a.requests - a.errors} of {_plural(a.requests, 'request')} answered without a server error"
        )
    return "no failure found" + (": " + ", ".join(did) if did else "")


def render_text(
    report: Report,
    redactor: Redactor,
    colour: bool = False,
    verbose: bool = False,
    width: int = WIDTH,
    wide: bool = False,
    footer: bool = True,
) -> str:
    """Return the report as terminal text, secrets redacted: the verdict first, what was read last
    (`footer`).

    Prose is wrapped at `width` (the terminal's); `wide` keeps evidence lines whole (`-o wide`).
    """
    report = control_safe_all(redact_and_clip(report, redactor, clip=False))  # a log's escapes shown, not run
    style = _Style(colour)
    lines: list[str] = []
    if not report.diagnoses:
        lines.append(style(healthy_line(report), "32"))
        if report.suspicious:
            lines.append("lines that look wrong but match no documented cause:")
            lines += [f"  {_evidence_line(ev, wide)}" for ev in report.suspicious]
    else:
        for i, d in enumerate(report.diagnoses, start=1):
            if i > 1:
                lines.append("")
            lines += _diagnosis_lines(i, d, style, verbose, width, wide)
        if footer:
            lines.append("")
    if footer:
        lines.append(style(_input_line(report, verbose), "2"))
    for w in report.warnings:
        lines.append(style(f"warning: {w}", "33"))
    return "\n".join(lines) + "\n"
