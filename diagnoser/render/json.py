"""Render a Report as the versioned JSON contract (schema_version 1) that bots read."""

from __future__ import annotations

from typing import Any

import orjson

from diagnoser import __version__
from diagnoser.model import Diagnosis, Evidence, FixStep, Report
from diagnoser.redact import Redactor, redact_and_clip
from diagnoser.render.escape import json_safe


def _evidence(ev: Evidence) -> dict[str, Any]:
    """Return one evidence entry of the contract."""
    return {
        "source": ev.source,
        "line": ev.line,
        "timestamp": ev.timestamp.isoformat() if ev.timestamp else None,
        "text": ev.text,
        "why": ", ".join(ev.matched),
    }


def _fix(number: int, step: FixStep) -> dict[str, Any]:
    """Return one fix step of the contract."""
    return {
        "step": number,
        "action": step.action.value,
        "knob": step.knob,
        "platform": step.platform.value,
        "current": step.current,
        "suggested": step.suggested,
        "where": step.where,
        "why": step.why,
        "docs": step.docs,
        "text": step.text,
        "snippet": step.snippet,
        "current_source": step.current_source.value if step.current_source else None,
        "current_docs": step.current_docs,
        "current_from": step.current_from,
    }


def _diagnosis(d: Diagnosis) -> dict[str, Any]:
    """Return one diagnosis of the contract."""
    return {
        "cause": d.cause,
        "title": d.title,
        "severity": d.severity.value,
        "confidence": round(d.confidence, 3),
        "origin": d.origin.value,
        "rule": d.rule,
        "summary": d.summary,
        "evidence": [_evidence(e) for e in d.evidence],
        "fix": [_fix(i, s) for i, s in enumerate(d.fixes, start=1)],
        "platforms": [p.value for p in d.platforms],
    }


def report_to_dict(report: Report, redactor: Redactor) -> dict[str, Any]:
    """Return the report as plain JSON-ready data, secrets redacted and evidence clipped."""
    report = redact_and_clip(report, redactor)
    return {
        "schema_version": report.schema_version,
        "tool": {"name": "diagnoser", "version": __version__},
        "input": {
            "sources": list(report.input.sources),
            "lines": report.input.lines,
            "events": report.input.events,
            "formats": dict(report.input.formats),
        },
        "platforms": [p.value for p in report.platforms],
        "diagnoses": [_diagnosis(d) for d in report.diagnoses],
        "suspicious": [_evidence(e) for e in report.suspicious],
        "warnings": list(report.warnings),
    }


def render_json(report: Report, redactor: Redactor) -> str:
    """Return the report as deterministic, indented JSON text, secrets redacted and evidence clipped."""
    text = orjson.dumps(report_to_dict(report, redactor), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    return json_safe(text.decode()) + "\n"  # printed to a terminal too: no C1 or bidi control raw


def render_yaml(report: Report, redactor: Redactor) -> str:
    """Return the JSON report's content as YAML (same keys, same order as the JSON), for `-o yaml`."""
    import yaml  # only for this output: 10 ms of start-up otherwise

    data = orjson.loads(orjson.dumps(report_to_dict(report, redactor), option=orjson.OPT_SORT_KEYS))
    return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=2**31 - 1))
