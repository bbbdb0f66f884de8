"""HorizontalPodAutoscaler state in every form kubectl prints it: tables, descriptions and objects.

The shapes read here, each with a public sample it was checked against:
- `kubectl get hpa` (1.6+): NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE with TARGETS `308%/80%`
  (kubernetes/kubernetes#70000), `<unknown>/70%` when the metric cannot be read, several metrics
  `105%/75%, 10%/75%` (kubernetes/kubectl#1540); kubectl 1.30+ names each metric: `cpu: 105%/75%`
  (kubernetes/kubernetes#122804); kubectl 1.7 wrote `0% / 10%` and, for a while, DESIRED and CURRENT
  columns (kubernetes/kubernetes#48254); kubectl before 1.6 had TARGET and CURRENT columns
  (kubernetes/kubernetes#21649, the HPA walkthrough of kubernetes/website before #17780).
- `kubectl describe hpa`: `Reference:`, `Metrics: ( current / target )` followed by
  `resource cpu on pods  (as a percentage of request):  308% (13278m) / 80%`, `Min replicas:`,
  `Max replicas:`, `Deployment pods: 3 current / 3 desired` and the Conditions table
  (AbleToScale / ScalingActive / ScalingLimited, kubernetes/kubernetes#70000 and #100420,
  geerlingguy/raspberry-pi-dramble#105); before 1.6: `Target CPU utilization:`, `Current CPU utilization:`,
  `Min pods:`, `Max pods:`, `ReplicationController pods: 3 current / 3 desired` (kubernetes/kubernetes#21649).
- objects (`kubectl get hpa -o json|yaml`): autoscaling/v1 `spec.targetCPUUtilizationPercentage`,
  `status.currentCPUUtilizationPercentage`; autoscaling/v2
  `spec.metrics[].resource.target.averageUtilization`,
  `status.currentMetrics[].resource.current.averageUtilization` (v2beta1: `targetAverageUtilization`,
  `currentAverageUtilization`); `spec.minReplicas` (the API defaults it to 1), `spec.maxReplicas`,
  `status.currentReplicas`, `status.desiredReplicas`, `status.conditions`
  (https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/horizontal-pod-autoscaler-v2/).

Records: kind=hpa_status (hpa, namespace, target_ref, min_replicas, max_replicas, current_replicas,
desired_replicas, metric, utilization, target_utilization, metrics_unknown) and kind=hpa_condition
(hpa, condition, status_value, reason).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from diagnoser.model import EventKind, Level
from diagnoser.parse.base import Rec, mapping, to_int

_TARGET_ITEM = re.compile(
    r"^(?:(?P<name>[A-Za-z][\w./\-]*):\s*)?(?P<cur>\S+?)\s*/\s*(?P<tgt>[^\s(]+)(?:\s*\(avg\))?$"
)
_DESCRIBE_METRIC = re.compile(
    r"^\s*resource\s+(?P<name>\S+)\s+on\s+pods\s+\(as a percentage of request\)\s*:\s*"
    r"(?P<cur><unknown>|\d+%)(?:\s*\([^)]*\))?\s*/\s*(?P<tgt>\d+)%"
)
_PODS = re.compile(r"(\d+) current / (\d+) desired")
_BAD_CONDITIONS = {("ScalingLimited", "True"), ("ScalingActive", "False"), ("AbleToScale", "False")}
HPA_KIND = "HorizontalPodAutoscaler"


def percent(text: str | None) -> int | None:
    """Return the integer of a `95%` cell, else None."""
    if not text or not text.endswith("%"):
        return None
    return to_int(text[:-1].strip())


def read_targets(text: str) -> list[tuple[str | None, int | None, int | None]]:
    """Return (metric, current %, target %) for each item of a TARGETS cell; None where not a percentage.

    `<unknown>/70%` gives (None, None, 70); `6262500m/30 (avg)` (an average value, not a utilisation)
    gives (None, None, None).
    """
    out: list[tuple[str | None, int | None, int | None]] = []
    for item in text.split(","):
        m = _TARGET_ITEM.match(item.strip())
        if m is None:
            continue
        out.append((m["name"], percent(m["cur"]), percent(m["tgt"])))
    return out


def add_metrics(fields: dict[str, Any], metrics: list[tuple[str | None, int | None, int | None]]) -> None:
    """Keep the metric that asks for the most replicas (the HPA scales to the largest proposal)."""
    best: tuple[float, str | None, int, int] | None = None
    for name, cur, tgt in metrics:
        if tgt is None or tgt <= 0:
            continue
        if cur is None:
            fields["metrics_unknown"] = True
            fields.setdefault("target_utilization", tgt)
            if name:
                fields.setdefault("metric", name)
            continue
        ratio = cur / tgt
        if best is None or ratio > best[0]:
            best = (ratio, name, cur, tgt)
    if best is not None:
        _, name, cur, tgt = best
        fields["utilization"], fields["target_utilization"] = cur, tgt
        if name:
            fields["metric"] = name


def status_rec(fields: dict[str, Any], fmt: str) -> Rec | None:
    """Return an hpa_status record from what was read, or None when it holds no replica numbers."""
    numbers = ("min_replicas", "max_replicas", "current_replicas", "desired_replicas", "target_utilization")
    if not any(isinstance(fields.get(k), int) for k in numbers):
        return None
    f = {"kind": EventKind.HPA_STATUS, **fields}
    name = f.get("hpa", "hpa")
    if name and "object" not in f:
        f["object"] = f"horizontalpodautoscaler/{name}"
    cur, mx = f.get("current_replicas"), f.get("max_replicas")
    parts = [f"HorizontalPodAutoscaler {name}:"]
    if isinstance(cur, int):
        desired = f.get("desired_replicas")
        parts.append(
            f"{cur} current" + (f" / {desired} desired" if isinstance(desired, int) else "") + " replicas"
        )
    bounds = [f"{k} {f[key]}" for k, key in (("min", "min_replicas"), ("max", "max_replicas")) if key in f]
    if bounds:
        parts.append(f"({', '.join(bounds)})")
    if f.get("target_utilization") is not None:
        util = f.get("utilization")
        shown = "<unknown>" if util is None else f"{util}%"
        parts.append(f"{f.get('metric', 'utilization')} {shown}/{f['target_utilization']}%")
    pinned = (
        isinstance(cur, int)
        and isinstance(mx, int)
        and cur >= mx
        and isinstance(f.get("utilization"), int)
        and f["utilization"] > f["target_utilization"]
    )
    if pinned:
        parts.append("- at its maximum replicas with utilisation above target")
    if f.get("metrics_unknown"):
        parts.append("- its metric cannot be read")
    level = Level.WARNING if pinned or f.get("metrics_unknown") else Level.INFO
    return Rec(
        message=" ".join(parts), format=fmt, level=level, component="horizontal-pod-autoscaler", fields=f
    )


def condition_rec(
    ctype: str, status: str, reason: str, message: str, common: dict[str, Any], fmt: str
) -> Rec:
    """Return an hpa_condition record (ScalingLimited True TooManyReplicas: the HPA is at maxReplicas)."""
    f = {**common, "kind": EventKind.HPA_CONDITION, "condition": ctype, "status_value": status}
    if reason:
        f["reason"] = reason
    text = f"HorizontalPodAutoscaler {common.get('hpa', '')}: Condition {ctype}={status}".replace(" :", ":")
    if reason:
        text += f", Reason: {reason}"
    if message:
        text += f", Message: {message}"
    level = Level.WARNING if (ctype, status) in _BAD_CONDITIONS else Level.INFO
    return Rec(message=text, format=fmt, level=level, component="horizontal-pod-autoscaler", fields=f)


def table_fields(cells: dict[str, str]) -> dict[str, Any] | None:
    """Return hpa_status fields from a `kubectl get hpa` row (any kubectl version), or None."""
    name = cells.get("NAME", "")
    mx = to_int(cells.get("MAXPODS"))
    if not name or mx is None:
        return None
    f: dict[str, Any] = {"hpa": name, "max_replicas": mx}
    if cells.get("NAMESPACE"):
        f["namespace"] = cells["NAMESPACE"]
    if cells.get("REFERENCE"):
        f["target_ref"] = cells["REFERENCE"].removesuffix("/scale")
    mn = to_int(cells.get("MINPODS"))
    if mn is not None:
        f["min_replicas"] = mn
    replicas = to_int(cells.get("REPLICAS"))
    if replicas is None:  # kubectl 1.7: DESIRED and CURRENT columns instead of REPLICAS
        replicas = to_int(cells.get("CURRENT"))
        desired = to_int(cells.get("DESIRED"))
        if desired is not None:
            f["desired_replicas"] = desired
    if replicas is not None:
        f["current_replicas"] = replicas
    if "TARGETS" in cells:
        add_metrics(f, read_targets(cells["TARGETS"]))
    elif "TARGET" in cells:  # before kubectl 1.6: TARGET 50%, CURRENT 305% (CURRENT is a utilisation there)
        current = cells.get("CURRENT", "")
        add_metrics(
            f, [(None, percent(current) if current != "<waiting>" else None, percent(cells["TARGET"]))]
        )
    return f


def describe_key(key: str, value: str, fields: dict[str, Any]) -> bool:
    """Read one top-level `kubectl describe hpa` key into `fields`; return True when it is an HPA key."""
    if key == "Reference":
        fields["target_ref"] = value.removesuffix("/scale")
    elif key in ("Min replicas", "Min pods"):
        n = to_int(value)
        if n is not None:
            fields["min_replicas"] = n
    elif key in ("Max replicas", "Max pods"):
        n = to_int(value)
        if n is not None:
            fields["max_replicas"] = n
    elif key.endswith(" pods") and (m := _PODS.search(value)):
        fields["current_replicas"], fields["desired_replicas"] = int(m[1]), int(m[2])
    elif key == "Target CPU utilization":
        fields["_old_target"] = percent(value)
    elif key == "Current CPU utilization":
        fields["_old_current"] = percent(value)
    elif key != "Metrics":
        return False
    return True


def describe_metric(line: str) -> tuple[str | None, int | None, int | None] | None:
    """Return (metric, current %, target %) of a resource line under `Metrics:`, else None."""
    m = _DESCRIBE_METRIC.match(line)
    if m is None:
        return None
    return m["name"], percent(m["cur"]), int(m["tgt"])


def finish_describe(fields: dict[str, Any], metrics: list[tuple[str | None, int | None, int | None]]) -> None:
    """Fold the metrics read under `Metrics:` (or the pre-1.6 CPU keys) into `fields`."""
    old_target, old_current = fields.pop("_old_target", None), fields.pop("_old_current", None)
    if old_target is not None:
        metrics = [*metrics, ("cpu", old_current, old_target)]
    add_metrics(fields, metrics)


def _metric_pairs(
    spec: dict[str, Any], status: dict[str, Any]
) -> list[tuple[str | None, int | None, int | None]]:
    """Return (resource, current %, target %) of an HPA object's utilisation metrics (v1, v2beta1, v2)."""
    pairs: list[tuple[str | None, int | None, int | None]] = []
    v1_target = to_int(spec.get("targetCPUUtilizationPercentage"))
    if v1_target is not None:
        pairs.append(("cpu", to_int(status.get("currentCPUUtilizationPercentage")), v1_target))
    current: dict[str, int | None] = {}
    for cm in status.get("currentMetrics") or []:
        res = cm.get("resource") if isinstance(cm, dict) else None
        if isinstance(res, dict) and res.get("name"):
            cur = mapping(res.get("current"))
            current[str(res["name"])] = to_int(
                cur.get("averageUtilization", res.get("currentAverageUtilization"))
            )
    for m in spec.get("metrics") or []:
        res = m.get("resource") if isinstance(m, dict) else None
        if not isinstance(res, dict) or not res.get("name"):
            continue
        tgt = mapping(res.get("target"))
        target = to_int(tgt.get("averageUtilization", res.get("targetAverageUtilization")))
        if target is not None:
            pairs.append((str(res["name"]), current.get(str(res["name"])), target))
    return pairs


def object_recs(obj: dict[str, Any], fmt: str) -> Iterator[Rec]:
    """Yield the hpa_status and hpa_condition records of a HorizontalPodAutoscaler object."""
    meta = mapping(obj.get("metadata"))
    spec = mapping(obj.get("spec"))
    status = mapping(obj.get("status"))
    common: dict[str, Any] = {}
    if meta.get("name"):
        common["hpa"] = str(meta["name"])
        common["object"] = f"horizontalpodautoscaler/{meta['name']}"
    if meta.get("namespace"):
        common["namespace"] = str(meta["namespace"])
    f: dict[str, Any] = dict(common)
    ref = mapping(spec.get("scaleTargetRef"))
    if ref.get("kind") and ref.get("name"):
        f["target_ref"] = f"{ref['kind']}/{ref['name']}"
    # minReplicas is optional in the API and defaults to 1.
    f["min_replicas"] = to_int(spec.get("minReplicas")) or 1
    for key, name in (
        ("maxReplicas", "max_replicas"),
        ("currentReplicas", "current_replicas"),
        ("desiredReplicas", "desired_replicas"),
    ):
        n = to_int((spec if key == "maxReplicas" else status).get(key))
        if n is not None:
            f[name] = n
    add_metrics(f, _metric_pairs(spec, status))
    rec = status_rec(f, fmt)
    if rec is not None:
        yield rec
    for cond in status.get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type"):
            yield condition_rec(
                str(cond["type"]),
                str(cond.get("status", "")),
                str(cond.get("reason") or ""),
                str(cond.get("message") or ""),
                common,
                fmt,
            )
