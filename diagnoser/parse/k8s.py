"""Kubernetes objects (Event, Pod, HorizontalPodAutoscaler, List) turned into records."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from diagnoser.model import EventKind, Level
from diagnoser.parse import hpa
from diagnoser.parse.base import SIGNALS, Rec, iso, mapping, to_int

_BAD_WAITING = {"ContainerCreating", "PodInitializing", ""}
_LIST_KINDS = ("List", "EventList", "PodList", "HorizontalPodAutoscalerList")
# Pod labels that say which platform made the pod (their keys go to the field platform_labels):
# Azure ML SDK v1 AKS web services (azuremlappname, webservicename, isazuremlapp) and the Azure ML
# extension's Kubernetes online deployments (ml.azure.com/endpoint-name, ml.azure.com/deployment-name,
# also isazuremlapp), as the collector's label selectors name them (collect/kubernetes.py).
PLATFORM_LABELS = frozenset(
    {
        "azuremlappname",
        "webservicename",
        "isazuremlapp",
        "ml.azure.com/endpoint-name",
        "ml.azure.com/deployment-name",
    }
)


def when(v: Any) -> datetime | None:
    """Return the datetime of a k8s RFC 3339 or describe RFC 1123 time, or None."""
    if not isinstance(v, str) or not v or v.startswith("Mon, 01 Jan 0001"):
        return None
    if v[:1].isdigit():
        return iso(v)
    from email.utils import parsedate_to_datetime  # here: only describe output has RFC 1123 times

    try:
        return parsedate_to_datetime(v)
    except (TypeError, ValueError, IndexError):
        return None


def state_rec(
    container: str, state: str, d: dict[str, Any], last: bool, fmt: str, common: dict[str, Any]
) -> Rec:
    """Return a container_state record from a state's details (JSON keys or describe keys)."""
    reason = d.get("reason")
    exit_code = to_int(d.get("exitCode"))
    signal = to_int(d.get("signal"))
    f: dict[str, Any] = {
        **common,
        "kind": EventKind.CONTAINER_STATE,
        "container": container,
        "state": state,
        "last": last,
    }
    if reason:
        f["reason"] = str(reason)
    if exit_code is not None:
        f["exit_code"] = exit_code
        if signal is None and exit_code > 128 and exit_code - 128 in SIGNALS.values():
            f["signal"] = exit_code - 128
    if signal is not None:
        f["signal"] = signal
    started, finished = when(d.get("startedAt")), when(d.get("finishedAt"))
    if started:
        f["started"] = started.isoformat()
    if finished:
        f["finished"] = finished.isoformat()
    if d.get("message"):
        f["state_message"] = str(d["message"])
    parts = [f"{container}: {'Last State' if last else 'State'}: {state.capitalize()}"]
    if reason:
        parts.append(f"Reason: {reason}")
    if exit_code is not None:
        parts.append(f"Exit Code: {exit_code}")
    if signal is not None:
        parts.append(f"Signal: {signal}")
    if d.get("message"):
        parts.append(f"Message: {d['message']}")
    if state == "terminated" and (exit_code or reason in ("OOMKilled", "Error")):
        level = Level.ERROR
    elif state == "waiting" and reason not in _BAD_WAITING:
        level = Level.WARNING
    else:
        level = Level.INFO
    return Rec(
        message=", ".join(parts),
        format=fmt,
        timestamp=finished or started,
        level=level,
        component="k8s",
        fields=f,
    )


def add_restarts(rec: Rec, restart_count: int | None, limits: dict[str, str]) -> None:
    """Add restart_count and resource limits to a container_state record and its message."""
    f = rec.fields
    if restart_count is not None:
        f["restart_count"] = restart_count
        rec.message += f", Restart Count: {restart_count}"
    f.update(limits)


def event_rec(ev: dict[str, Any], fmt: str) -> Rec:
    """Return a k8s_event record from a core/v1 or events.k8s.io/v1 Event object."""
    inv = ev.get("involvedObject") or ev.get("regarding") or {}
    if not isinstance(inv, dict):
        inv = {}
    src = mapping(ev.get("source"))
    kind = str(inv.get("kind") or "")
    name = str(inv.get("name") or "")
    f: dict[str, Any] = {"kind": EventKind.K8S_EVENT}
    if ev.get("reason"):
        f["reason"] = str(ev["reason"])
    if ev.get("type"):
        f["event_type"] = str(ev["type"])
    if name:
        f["object"] = f"{kind.lower()}/{name}" if kind else name
    if kind == "Pod":
        f["pod"] = name
    if inv.get("namespace"):
        f["namespace"] = str(inv["namespace"])
    fp = inv.get("fieldPath")
    if isinstance(fp, str) and "{" in fp:
        f["container"] = fp[fp.index("{") + 1 : fp.rindex("}")] if "}" in fp else ""
    series = mapping(ev.get("series"))
    count = to_int(ev.get("count")) or to_int(series.get("count")) or to_int(ev.get("deprecatedCount"))
    if count is not None:
        f["count"] = count
    host = src.get("host") or ev.get("reportingInstance")
    if host:
        f["node"] = str(host)
    comp = src.get("component") or ev.get("reportingComponent") or ev.get("reportingController") or "k8s"
    ts = None
    for k in ("lastTimestamp", "deprecatedLastTimestamp", "eventTime", "firstTimestamp"):
        ts = when(ev.get(k))
        if ts:
            break
    if ts is None and isinstance(ev.get("metadata"), dict):
        ts = when(ev["metadata"].get("creationTimestamp"))
    msg = ev.get("message") or ev.get("note") or ""
    level = Level.WARNING if f.get("event_type") == "Warning" else Level.INFO
    return Rec(message=str(msg), format=fmt, timestamp=ts, level=level, component=str(comp), fields=f)


def pod_recs(pod: dict[str, Any], fmt: str) -> Iterator[Rec]:
    """Yield container_state, pod_condition and pod_status records of a Pod object."""
    meta = mapping(pod.get("metadata"))
    spec = mapping(pod.get("spec"))
    status = mapping(pod.get("status"))
    common: dict[str, Any] = {}
    if meta.get("name"):
        common["pod"] = str(meta["name"])
    if meta.get("namespace"):
        common["namespace"] = str(meta["namespace"])
    if spec.get("nodeName"):
        common["node"] = str(spec["nodeName"])
    labels = mapping(meta.get("labels"))
    known = sorted(k for k in labels if k in PLATFORM_LABELS)
    if known:
        common["platform_labels"] = ",".join(known)
    limits: dict[str, dict[str, str]] = {}
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if not isinstance(c, dict):
            continue
        res = mapping(c.get("resources"))
        lim: dict[str, str] = {}
        for part, prefix in (("limits", "_limit"), ("requests", "_request")):
            vals = mapping(res.get(part))
            for k in ("memory", "cpu"):
                if k in vals:
                    lim[k + prefix] = str(vals[k])
            if "nvidia.com/gpu" in vals:
                lim["gpu" + prefix] = str(vals["nvidia.com/gpu"])
        limits[str(c.get("name"))] = lim
    for key in ("initContainerStatuses", "containerStatuses"):
        for cs in status.get(key) or []:
            if not isinstance(cs, dict):
                continue
            name = str(cs.get("name"))
            rc = to_int(cs.get("restartCount"))
            for last, sk in ((False, "state"), (True, "lastState")):
                st = cs.get(sk)
                if not isinstance(st, dict):
                    continue
                for state, d in st.items():
                    if isinstance(d, dict) and state in ("waiting", "running", "terminated"):
                        rec = state_rec(name, state, d, last, fmt, common)
                        add_restarts(rec, rc, limits.get(name, {}))
                        yield rec
    for cond in status.get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type"):
            yield condition_rec(str(cond["type"]), str(cond.get("status", "")), cond, fmt, common)
    if status.get("reason") or status.get("phase") in ("Failed", "Pending"):
        f = {**common, "kind": EventKind.POD_STATUS, "phase": str(status.get("phase", ""))}
        if status.get("reason"):
            f["reason"] = str(status["reason"])
        msg = f"{common.get('pod', 'pod')}: Status: {f['phase']}"
        if status.get("reason"):
            msg += f", Reason: {status['reason']}"
        if status.get("message"):
            msg += f", Message: {status['message']}"
        yield Rec(
            message=msg,
            format=fmt,
            level=Level.WARNING if status.get("reason") else Level.INFO,
            component="k8s",
            fields=f,
        )


def condition_rec(ctype: str, cstatus: str, cond: dict[str, Any], fmt: str, common: dict[str, Any]) -> Rec:
    """Return a pod_condition record."""
    f = {**common, "kind": EventKind.POD_CONDITION, "condition": ctype, "status_value": cstatus}
    msg = f"{common.get('pod', 'pod')}: Condition {ctype}={cstatus}"
    if cond.get("reason"):
        f["reason"] = str(cond["reason"])
        msg += f", Reason: {cond['reason']}"
    if cond.get("message"):
        msg += f", Message: {cond['message']}"
    return Rec(
        message=msg,
        format=fmt,
        timestamp=when(cond.get("lastTransitionTime")),
        level=Level.INFO if cstatus == "True" else Level.WARNING,
        component="k8s",
        fields=f,
    )


def object_recs(obj: Any, fmt: str, depth: int = 0) -> Iterator[Rec]:
    """Yield the records of a decoded k8s object or list of objects."""
    if isinstance(obj, list):
        for o in obj:
            yield from object_recs(o, fmt, depth + 1)
        return
    if not isinstance(obj, dict) or depth > 3:
        return
    kind = obj.get("kind")
    if kind in _LIST_KINDS or (kind is None and isinstance(obj.get("items"), list)):
        yield from object_recs(obj.get("items") or [], fmt, depth + 1)
    elif kind == "Event" or (kind is None and "involvedObject" in obj):
        yield event_rec(obj, fmt)
    elif kind == "Pod":
        yield from pod_recs(obj, fmt)
    elif kind == hpa.HPA_KIND:
        yield from hpa.object_recs(obj, fmt)


def is_k8s(obj: Any) -> bool:
    """Return True when a decoded JSON value looks like a k8s object or list."""
    return (
        isinstance(obj, dict)
        and ("apiVersion" in obj or "involvedObject" in obj)
        and ("kind" in obj or "items" in obj or "involvedObject" in obj)
    )
