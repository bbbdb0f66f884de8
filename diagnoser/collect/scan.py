"""Find what is failing in a namespace (or every namespace): the workloads worth diagnosing.

A cluster scan (`diagnose -n NS`, `-A`, `-l SELECTOR` without `--service`) lists the pods and
horizontal pod autoscalers once, reads each pod's status the way `kubectl get pods` summarises it,
and groups the pods that fail by the workload that owns them. Each failing workload is then
diagnosed as `--service` would diagnose it (diagnoser/pipeline.py `scan`).

Failing, from the pod status alone (no log is read here):
- a container waiting for a reason other than starting up (CrashLoopBackOff, ImagePullBackOff,
  CreateContainerConfigError, …) or last terminated by OOMKilled / a non-zero exit recently;
- a pod Pending (not scheduled, or its containers not created), or Failed (a Job's pod);
- a running pod whose containers are not ready;
- a HorizontalPodAutoscaler at its maximum replicas (the workload cannot grow to meet its load).

Only get/list on pods and horizontalpodautoscalers is needed for the listing (deploy/ RBAC).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from diagnoser.options import ScanRequest

# Waiting reasons of a container that is on its way up, not failing.
_STARTING = frozenset({"ContainerCreating", "PodInitializing"})
RECENT = timedelta(hours=1)  # a restart older than this, with the pod ready since, is history
STARTING = timedelta(minutes=5)  # a pod Pending this long (scheduled, containers not up) is stuck


@dataclass
class Workload:
    """A workload with failing pods: what owns them, why they fail, and the name to collect it by."""

    namespace: str
    kind: str  # Deployment, StatefulSet, DaemonSet, Job, Pod, HorizontalPodAutoscaler target
    name: str
    target: str  # the name `--service` resolves: a Deployment / StatefulSet, or a pod's own name
    reasons: list[str] = field(default_factory=list)  # "CrashLoopBackOff", "OOMKilled", "Pending: …"
    pods: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.namespace, self.kind, self.name)

    def add(self, reasons: Iterable[str], pod: str | None = None) -> None:
        """Record more reasons (each once, in order) and a pod."""
        self.reasons += [r for r in reasons if r not in self.reasons]
        if pod is not None and pod not in self.pods:
            self.pods.append(pod)


def owner_of(pod: dict[str, Any]) -> tuple[str, str, str]:
    """Return (kind, name, target) of the workload that owns `pod`.

    A ReplicaSet made by a Deployment is named `<deployment>-<pod-template-hash>`: the Deployment is
    the workload. A Job's, DaemonSet's or bare pod is collected by its own name (the collector
    resolves Services, Deployments, StatefulSets and pods by name).
    """
    meta = pod.get("metadata") or {}
    name = meta.get("name", "")
    for ref in meta.get("ownerReferences") or []:
        kind, owner = ref.get("kind", ""), ref.get("name", "")
        if kind == "ReplicaSet":
            hash_ = (meta.get("labels") or {}).get("pod-template-hash")
            if hash_ and owner.endswith("-" + hash_):
                deployment = owner[: -len(hash_) - 1]
                return "Deployment", deployment, deployment
            return "ReplicaSet", owner, name
        if kind == "StatefulSet":
            return kind, owner, owner
        if kind in ("Job", "DaemonSet"):
            return kind, owner, name
    return "Pod", name, name


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _stuck(pod: dict[str, Any], now: datetime) -> bool:
    """Return True for a pod Pending for longer than a start takes, or not scheduled at all."""
    status = pod.get("status") or {}
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return True
    since = _when(status.get("startTime")) or _when((pod.get("metadata") or {}).get("creationTimestamp"))
    return since is None or now - since > STARTING


def pod_reasons(pod: dict[str, Any], now: datetime) -> list[str]:
    """Return why `pod` is failing, from its status; empty when it is healthy (or done)."""
    status = pod.get("status") or {}
    phase = status.get("phase", "")
    if phase == "Succeeded":
        return []
    reasons: list[str] = []
    statuses = [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]
    for c in statuses:
        state = c.get("state") or {}
        waiting = (state.get("waiting") or {}).get("reason")
        if waiting and waiting not in _STARTING:
            reasons.append(waiting)
        terminated = (state.get("terminated") or {}) or ((c.get("lastState") or {}).get("terminated") or {})
        code = terminated.get("exitCode")
        finished = _when(terminated.get("finishedAt"))
        recent = finished is None or now - finished <= RECENT or not c.get("ready")
        if terminated.get("reason") == "OOMKilled" and recent:
            reasons.append("OOMKilled")
        elif code not in (None, 0) and recent:
            reasons.append(f"exit code {code}")
        if c.get("restartCount", 0) and recent:
            reasons.append(f"{c['restartCount']} restarts")
    if phase == "Pending":
        if not reasons and not _stuck(pod, now):
            return []  # created a moment ago: its image is being pulled, its containers created
        unscheduled = next(
            (
                cond
                for cond in status.get("conditions") or []
                if cond.get("type") == "PodScheduled" and cond.get("status") == "False"
            ),
            None,
        )
        reasons.insert(
            0, f"Pending ({unscheduled.get('reason', 'unscheduled')})" if unscheduled else "Pending"
        )
    elif phase == "Failed":
        reasons.insert(0, f"Failed ({status.get('reason')})" if status.get("reason") else "Failed")
    elif phase == "Running" and not reasons:
        unready = [c.get("name", "") for c in status.get("containerStatuses") or [] if not c.get("ready")]
        if unready:
            reasons.append(f"not ready ({', '.join(unready)})")
    return reasons


def hpa_at_max(hpa: dict[str, Any]) -> Workload | None:
    """Return the workload an autoscaler holds at its maximum replicas, or None."""
    spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
    most = spec.get("maxReplicas")
    current = status.get("currentReplicas", 0) or 0
    if not most or current < most:
        return None
    ref = spec.get("scaleTargetRef") or {}
    kind, name = ref.get("kind", "Deployment"), ref.get("name", "")
    namespace = (hpa.get("metadata") or {}).get("namespace", "")
    workload = Workload(namespace, kind, name, name)
    workload.add([f"autoscaler {hpa.get('metadata', {}).get('name', '')} at its maximum of {most} replicas"])
    return workload


def failing_workloads(
    pods: Iterable[dict[str, Any]], hpas: Iterable[dict[str, Any]], now: datetime | None = None
) -> list[Workload]:
    """Return the workloads with failing pods or pinned autoscalers, in namespace and name order."""
    now = now or datetime.now(UTC)
    found: dict[tuple[str, str, str], Workload] = {}
    for pod in pods:
        reasons = pod_reasons(pod, now)
        if not reasons:
            continue
        kind, name, target = owner_of(pod)
        namespace = (pod.get("metadata") or {}).get("namespace", "")
        workload = found.setdefault((namespace, kind, name), Workload(namespace, kind, name, target))
        workload.add(reasons, pod["metadata"].get("name"))
    for hpa in hpas:
        pinned = hpa_at_max(hpa)
        if pinned is None:
            continue
        workload = found.setdefault(pinned.key, pinned)
        if workload is not pinned:
            workload.add(pinned.reasons)
    return sorted(found.values(), key=lambda w: w.key)


@dataclass(frozen=True, slots=True)
class Found:
    """The failing workloads, where they were looked for, and what could not be listed."""

    workloads: tuple[Workload, ...]
    where: str
    warnings: tuple[str, ...] = ()
    pods: int = 0  # pods listed


def find_failing(scan: ScanRequest) -> Found:
    """List pods and autoscalers through the Kubernetes API and return the failing workloads.

    The pods must be listed (else a CollectorError); autoscalers are optional: a cluster without
    autoscaling/v2, or an RBAC role without them, costs a warning.
    """
    from diagnoser.collect.base import Request
    from diagnoser.collect.kubernetes import _Api
    from diagnoser.errors import CollectorError

    api = _Api(Request(service="", namespace=scan.namespace, context=scan.context, timeout=scan.timeout))
    try:
        selector: dict[str, Any] = {"label_selector": scan.selector} if scan.selector else {}
        if scan.all_namespaces:
            pods = api.get(api.core.list_pod_for_all_namespaces, **selector) or {}
            where = f"context {api.context or '(in-cluster)'}, all namespaces"
        else:
            pods = api.get(api.core.list_namespaced_pod, api.namespace, **selector) or {}
            where = f"context {api.context or '(in-cluster)'}, namespace {api.namespace}"
        items = list(pods.get("items") or [])
        for pod in items:  # list items may leave out what the URL said
            pod.setdefault("metadata", {}).setdefault("namespace", api.namespace)
        warnings: list[str] = []
        hpas: list[dict[str, Any]] = []
        try:
            hpas = _autoscalers(api, scan.all_namespaces)
        except CollectorError as exc:
            warnings.append(
                f"autoscalers not listed ({exc}); workloads pinned at their maximum are not shown"
            )
        if scan.selector:  # an autoscaler has no pod labels: keep those whose target has matching pods
            targets = {(p["metadata"]["namespace"], *owner_of(p)[:2]) for p in items}
            hpas = [h for h in hpas if _target_key(h) in targets]
    finally:
        api.close()
    workloads = failing_workloads(items, hpas)
    return Found(
        tuple(workloads),
        where + (f", pods labelled {scan.selector}" if scan.selector else ""),
        tuple(warnings),
        len(items),
    )


def _target_key(hpa: dict[str, Any]) -> tuple[str, str, str]:
    ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
    return ((hpa.get("metadata") or {}).get("namespace", ""), ref.get("kind", ""), ref.get("name", ""))


def _autoscalers(api: Any, all_namespaces: bool) -> list[dict[str, Any]]:
    """Return the autoscalers (autoscaling/v2) of the namespace, or of every namespace."""
    v2 = api._kube.AutoscalingV2Api(api.client)
    if all_namespaces:
        data = api.get(v2.list_horizontal_pod_autoscaler_for_all_namespaces) or {}
    else:
        data = api.get(v2.list_namespaced_horizontal_pod_autoscaler, api.namespace) or {}
    items = list(data.get("items") or [])
    for hpa in items:
        hpa.setdefault("metadata", {}).setdefault("namespace", api.namespace)
    return items


__all__ = [
    "RECENT",
    "STARTING",
    "Found",
    "Workload",
    "failing_workloads",
    "find_failing",
    "hpa_at_max",
    "owner_of",
    "pod_reasons",
]
