"""Render a cluster scan: one JSON line per failing workload, or a table for a person at a terminal.

Both are exits: what the logs said is redacted (diagnoser/redact.py), and the table shows it inert
(render/escape.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

from diagnoser.clip import clip_words
from diagnoser.redact import Redactor, redact_and_clip
from diagnoser.render.escape import control_safe, json_safe
from diagnoser.render.json import report_to_dict

if TYPE_CHECKING:
    from diagnoser.collect.scan import Found
    from diagnoser.pipeline import Scanned


def scanned_to_dict(result: Scanned, redactor: Redactor) -> dict[str, Any]:
    """Return one workload's result as JSON-ready data: where, why it was picked, its report or error."""
    w = result.workload
    return {
        "namespace": w.namespace,
        "kind": w.kind,
        "workload": w.name,
        "status": [redactor(r) for r in w.reasons],
        "pods": list(w.pods),
        "report": report_to_dict(result.report, redactor) if result.report is not None else None,
        "error": redactor(result.error) if result.error is not None else None,
    }


def render_scan_line(result: Scanned, redactor: Redactor) -> str:
    """Return one JSON line (NDJSON) for a scanned workload."""
    return (
        json_safe(orjson.dumps(scanned_to_dict(result, redactor), option=orjson.OPT_SORT_KEYS).decode())
        + "\n"
    )


_HEAD = ("NAMESPACE", "WORKLOAD", "STATUS", "CAUSE", "SEVERITY")


def _row(result: Scanned, redactor: Redactor) -> tuple[list[str], str]:
    """Return a workload's table cells and the line under them (its summary, or its error)."""
    w = result.workload
    status = ", ".join(w.reasons)
    if result.error is not None:
        return [w.namespace, f"{w.kind.lower()}/{w.name}", status, "-", "-"], f"not diagnosed: {result.error}"
    report = redact_and_clip(result.report, redactor) if result.report is not None else None
    if report is None or not report.diagnoses:
        return [w.namespace, f"{w.kind.lower()}/{w.name}", status, "-", "-"], "no documented cause found"
    top = report.diagnoses[0]
    more = f" (+{len(report.diagnoses) - 1} more)" if len(report.diagnoses) > 1 else ""
    return [
        w.namespace,
        f"{w.kind.lower()}/{w.name}",
        status,
        top.cause + more,
        top.severity.value,
    ], top.summary


def render_scan_table(results: Sequence[Scanned], found: Found, redactor: Redactor, width: int) -> str:
    """Return the scan as a table, a summary line under each row, then what was scanned."""
    rows = [_row(r, redactor) for r in results]
    cells = [[control_safe(redactor(c)) for c in row] for row, _ in rows]
    status_cap = 40  # a pod with many containers must not push the cause off the screen
    cells = [[*c[:2], clip_words(c[2], status_cap), *c[3:]] for c in cells]
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(_HEAD)]
    out = ["  ".join(h.ljust(widths[i]) for i, h in enumerate(_HEAD)).rstrip()] if rows else []
    for row, (_, under) in zip(cells, rows, strict=True):
        out.append("  ".join(c.ljust(widths[i]) for i, c in enumerate(row)).rstrip())
        if under:
            out.append("  " + clip_words(control_safe(redactor(under)), max(40, width - 2)))
    failing = len(results)
    diagnosed = sum(1 for r in results if r.report is not None and r.report.diagnoses)
    where = control_safe(found.where)
    if not failing:
        out.append(f"no failing workload: {found.pods} pods in {where}")
    else:
        out += [
            "",
            f"{failing} failing workload{'s' if failing != 1 else ''} of {found.pods} pods in {where}; "
            f"{diagnosed} with a documented cause",
            "one report in full: diagnose --service NAME -n NAMESPACE",
        ]
    out += [f"warning: {control_safe(redactor(w))}" for w in found.warnings]
    return "\n".join(out) + "\n"


def _label(value: str) -> str:
    """Return a Prometheus label value escaped as the text format wants (backslash, quote, newline)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render_metrics(results: Sequence[Scanned], found: Found, redactor: Redactor, finished: float) -> str:
    """Return the scan as Prometheus text-format metrics, for a node exporter's textfile collector or
    a sidecar that serves the file: one `diagnoser_diagnoses` sample per diagnosis, the failing
    workloads per namespace, and when the scan ended (so an alert can see a scan that stopped)."""
    out = [
        "# HELP diagnoser_diagnoses Diagnoses of failing workloads in the last scan: 1 per cause found.",
        "# TYPE diagnoser_diagnoses gauge",
    ]
    failing: dict[str, int] = {}
    undiagnosed: dict[str, int] = {}
    for r in results:
        w = r.workload
        failing[w.namespace] = failing.get(w.namespace, 0) + 1
        diagnoses = r.report.diagnoses if r.report is not None else ()
        if not diagnoses:
            undiagnosed[w.namespace] = undiagnosed.get(w.namespace, 0) + 1
        for d in diagnoses:
            labels = {
                "cause": d.cause,
                "namespace": w.namespace,
                "workload": w.name,
                "severity": d.severity.value,
            }
            text = ",".join(f'{k}="{_label(redactor(v))}"' for k, v in labels.items())
            out.append(f"diagnoser_diagnoses{{{text}}} 1")
    out += [
        "# HELP diagnoser_failing_workloads Workloads whose pods fail or whose autoscaler is at its maximum.",
        "# TYPE diagnoser_failing_workloads gauge",
        *(
            f'diagnoser_failing_workloads{{namespace="{_label(ns)}"}} {n}'
            for ns, n in sorted(failing.items())
        ),
        "# HELP diagnoser_undiagnosed_workloads Failing workloads with no documented cause or not diagnosed.",
        "# TYPE diagnoser_undiagnosed_workloads gauge",
        *(
            f'diagnoser_undiagnosed_workloads{{namespace="{_label(ns)}"}} {n}'
            for ns, n in sorted(undiagnosed.items())
        ),
        "# HELP diagnoser_scanned_pods Pods listed by the last scan.",
        "# TYPE diagnoser_scanned_pods gauge",
        f"diagnoser_scanned_pods {found.pods}",
        "# HELP diagnoser_last_scan_timestamp_seconds When the last scan ended (Unix time).",
        "# TYPE diagnoser_last_scan_timestamp_seconds gauge",
        f"diagnoser_last_scan_timestamp_seconds {finished:.3f}",
    ]
    return "\n".join(out) + "\n"


__all__ = ["render_metrics", "render_scan_line", "render_scan_table", "scanned_to_dict"]
