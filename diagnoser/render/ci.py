"""Render a Report for CI systems: SARIF 2.1.0 (code-scanning views) and JUnit XML (test reports).

SARIF: one result per diagnosis, at the line of its first evidence (the others as related
locations), under a rule per catalogue cause with its description, fix steps and documentation
link. JUnit: one test case per catalogue cause, the causes diagnoser checks; a diagnosis is a
failure of its cause's case. Both redact first, as every exit does.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import orjson

from diagnoser import __version__
from diagnoser.model import Diagnosis, Evidence, Report, Severity
from diagnoser.plan import load_catalogue
from diagnoser.plan.catalogue import Cause
from diagnoser.redact import Redactor, redact_and_clip

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
# SARIF has three levels for a result; a "possible" cause the classifier leans to is only a note.
_LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}


def _rule_name(cause_id: str) -> str:
    return "".join(part.capitalize() for part in cause_id.split("_"))


def _help(cause: Cause) -> str:
    """Return a cause's help: what happened, then the fix steps per platform, with their pages."""
    lines = [cause.description, "", "Fix:"]
    for step in cause.fix:
        lines.append(f"- [{step.platform.value}] {step.action.value} {step.knob} ({step.where}): {step.text}")
        lines.append(f"  docs: {step.docs}")
    return "\n".join(lines)


def _rules(catalogue: dict[str, Cause]) -> list[dict[str, Any]]:
    return [
        {
            "id": cause.id,
            "name": _rule_name(cause.id),
            "shortDescription": {"text": cause.title},
            "fullDescription": {"text": cause.summary},
            "help": {"text": _help(cause)},
            "helpUri": cause.docs,
            "defaultConfiguration": {"level": _LEVELS[cause.severity]},
            "properties": {"severity": cause.severity.value},
        }
        for cause in catalogue.values()
    ]


def _uri(source: str) -> str:
    """Return a source name as a URI reference: a file path as given, any other source (stdin,
    k8s:ns/pod/container (previous)) percent-encoded."""
    return quote(source.removeprefix("file:"), safe="/:._-~")


def _location(ev: Evidence, index: int | None = None) -> dict[str, Any]:
    location: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": {"uri": _uri(ev.source)},
            "region": {"startLine": max(ev.line, 1), "snippet": {"text": ev.text}},
        }
    }
    if index is not None:
        location["id"] = index
    return location


def _result(d: Diagnosis, rule_index: int) -> dict[str, Any]:
    first, *rest = d.evidence or (None,)
    result: dict[str, Any] = {
        "ruleId": d.cause,
        "ruleIndex": rule_index,
        "level": _LEVELS[d.severity],
        "message": {"text": d.summary or d.title},
        "partialFingerprints": {"cause/rule/source": f"{d.cause}/{d.rule or 'classifier'}/{_sources(d)}"},
        "properties": {
            "severity": d.severity.value,
            "confidence": round(d.confidence, 3),
            "origin": d.origin.value,
            "rule": d.rule,
            "fix": [
                f"{s.action.value} {s.knob}"
                + (f": current {s.current}" if s.current else "")
                + (f", suggested {s.suggested}" if s.suggested else "")
                for s in d.fixes
            ],
        },
    }
    if first is not None:
        result["locations"] = [_location(first)]
        if rest:
            result["relatedLocations"] = [_location(ev, i) for i, ev in enumerate(rest, start=1)]
    return result


def _sources(d: Diagnosis) -> str:
    return ",".join(sorted({ev.source for ev in d.evidence}))


def render_sarif(report: Report, redactor: Redactor) -> str:
    """Return the report as a SARIF 2.1.0 log, secrets redacted and evidence clipped."""
    report = redact_and_clip(report, redactor)
    catalogue = load_catalogue()
    order = {cause_id: i for i, cause_id in enumerate(catalogue)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "diagnoser",
                "version": __version__,
                "rules": _rules(catalogue),
            }
        },
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [
                    {"level": "warning", "message": {"text": w}} for w in report.warnings
                ],
            }
        ],
        "results": [_result(d, order[d.cause]) for d in report.diagnoses if d.cause in order],
    }
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return orjson.dumps(log, option=orjson.OPT_INDENT_2).decode() + "\n"


# Characters XML 1.0 cannot carry at all, even escaped: shown as \xNN instead.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _failure_text(d: Diagnosis) -> str:
    lines = [d.summary, "", "evidence:"]
    lines += [f"  {ev.source.removeprefix('file:')}:{ev.line}: {ev.text}" for ev in d.evidence]
    if d.fixes:
        lines.append("fix:")
        lines += [f"  {n}. {s.action.value} {s.knob} ({s.where}): {s.text}" for n, s in enumerate(d.fixes, 1)]
    return "\n".join(lines)


def render_junit(report: Report, redactor: Redactor) -> str:
    """Return the report as JUnit XML: a test case per catalogue cause, a failure per diagnosis."""
    from xml.etree import ElementTree as ET

    report = redact_and_clip(report, redactor)
    catalogue = load_catalogue()
    by_cause: dict[str, list[Diagnosis]] = {}
    for d in report.diagnoses:
        by_cause.setdefault(d.cause, []).append(d)
    causes = list(catalogue) + [c for c in by_cause if c not in catalogue]
    failures = sum(1 for c in causes if c in by_cause)
    name = "diagnoser: " + ", ".join(s.removeprefix("file:") for s in report.input.sources)
    suites = ET.Element("testsuites", name="diagnoser", tests=str(len(causes)), failures=str(failures))
    suite = ET.SubElement(
        suites, "testsuite", name=_xml_text(name), tests=str(len(causes)), failures=str(failures), errors="0"
    )
    for cause_id in causes:
        title = catalogue[cause_id].title if cause_id in catalogue else by_cause[cause_id][0].title
        case = ET.SubElement(suite, "testcase", classname="diagnoser", name=_xml_text(f"{cause_id}: {title}"))
        for d in by_cause.get(cause_id, []):
            failure = ET.SubElement(
                case, "failure", message=_xml_text(d.summary or d.title), type=d.severity.value
            )
            failure.text = _xml_text(_failure_text(d))
    if report.warnings:
        warnings = "\n".join(f"warning: {w}" for w in report.warnings)
        ET.SubElement(suite, "system-err").text = _xml_text(warnings)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
