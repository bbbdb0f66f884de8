"""Find a service on Kubernetes and collect its pods, container logs (current and previous) and events.

Uses the official `kubernetes` client, imported lazily, and reads every object as the raw JSON the
API returns (`_preload_content=False`): the parsers read that shape, and it sidesteps the client's
model quirks (text mangling of logs in old versions, validation of `eventTime: null`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diagnoser.collect.base import (
    Collection,
    Collector,
    Deadline,
    NotFound,
    Piece,
    Request,
    cut_log_warning,
    piece,
    read_body,
    size_text,
    unavailable,
)
from diagnoser.debuglog import debug
from diagnoser.errors import CollectorError, CollectorUnavailable, did_you_mean_any

MAX_PODS = 10  # pods collected per service; more are named in a warning
# Labels Azure ML puts on the pods of AKS web services (v1) and Kubernetes online deployments (v2).
SERVICE_LABELS = (
    "azuremlappname",
    "webservicename",
    "ml.azure.com/deployment-name",
    "ml.azure.com/endpoint-name",
    "app",
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
)
_DROP_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)
# Where Kubernetes mounts a pod's service account: token, ca.crt, namespace (in-cluster configuration).
SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class Forbidden(CollectorError):
    """RBAC denied a request."""


@dataclass
class _Found:
    """How the service was resolved and what belongs to it."""

    how: str
    pods: list[dict[str, Any]]
    owners: set[str] = field(default_factory=set)  # names of Service / Deployment / RS / HPA objects


def _has_kubeconfig() -> bool:
    """Return True when a kubeconfig file or an in-cluster service account is present."""
    paths = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    paths = paths or [str(Path.home() / ".kube" / "config")]
    return any(Path(p).is_file() for p in paths) or bool(os.environ.get("KUBERNETES_SERVICE_HOST"))


class KubernetesCollector(Collector):
    """Collect a service's pods, logs and events through the Kubernetes API."""

    name = "kubernetes"

    def available(self, request: Request) -> str | None:
        """Return why Kubernetes is not worth trying, or None."""
        if not _has_kubeconfig():
            return "no kubeconfig (KUBECONFIG, ~/.kube/config) and not in a cluster"
        return None

    def collect(self, request: Request) -> Collection:
        """Resolve the service, then collect pods, logs, events (and nodes when scheduling fails)."""
        api = _Api(request)
        try:
            return self._collect(api, request)
        finally:
            api.close()

    def _collect(self, api: _Api, request: Request) -> Collection:
        """Collect with a connected API client."""
        ns = api.namespace
        where = f"context {api.context or '(in-cluster)'}, namespace {ns}, server {api.server}"
        found = self._resolve(api, request.service, where)
        warnings: list[str] = []
        pods = sorted(found.pods, key=lambda p: p["metadata"]["name"])
        if len(pods) > MAX_PODS:
            warnings.append(f"{len(pods)} pods match; collected the first {MAX_PODS}")
            pods = pods[:MAX_PODS]
        pieces: list[Piece] = []
        targets: list[str] = []
        unscheduled = False
        for pod in pods:
            name = pod["metadata"]["name"]
            targets.append(name)
            clean = _clean_pod(pod)
            pieces.append(piece(f"k8s:{ns}/{name}", [json.dumps(clean, separators=(",", ":"))]))
            for owner in pod["metadata"].get("ownerReferences") or []:
                found.owners.add(owner.get("name", ""))
            if _unscheduled(pod):
                unscheduled = True
            pieces.extend(self._logs(api, pod, request, warnings, targets))
        found.owners |= _deployments_of(found.owners)
        found.owners |= self._hpas(api, found.owners, warnings, pieces)
        pieces.append(self._events(api, {p["metadata"]["name"] for p in pods} | found.owners, warnings))
        if unscheduled:
            nodes = self._nodes(api, warnings)
            if nodes is not None:
                pieces.append(nodes)
        return Collection(self.name, f"{where}, {found.how}", tuple(pieces), tuple(warnings), tuple(targets))

    def _resolve(self, api: _Api, service: str, where: str) -> _Found:
        """Find the pods of `service`: Service selector, Deployment / StatefulSet, Azure ML labels, pod."""
        names: list[str] = []
        svc = api.get(api.core.read_namespaced_service, service, api.namespace, missing_ok=True)
        if svc is not None:
            selector = (svc.get("spec") or {}).get("selector") or {}
            if selector:
                return _Found(
                    f"Service {service} (selector {_selector(selector)})",
                    api.pods(_selector(selector)),
                    {service},
                )
        for label, read in (
            ("Deployment", api.apps.read_namespaced_deployment),
            ("StatefulSet", api.apps.read_namespaced_stateful_set),
        ):
            obj = api.get(read, service, api.namespace, missing_ok=True)
            if obj is not None:
                selector = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
                return _Found(
                    f"{label} {service} (selector {_selector(selector)})",
                    api.pods(_selector(selector)),
                    {service},
                )
        for label in SERVICE_LABELS:
            pods = api.pods(f"{label}={service}")
            if pods:
                return _Found(f"pods labelled {label}={service}", pods, {service})
        pod = api.get(api.core.read_namespaced_pod, service, api.namespace, missing_ok=True)
        if pod is not None:
            return _Found(f"pod {service}", [pod])
        for kind, list_fn in (
            ("services", api.core.list_namespaced_service),
            ("deployments", api.apps.list_namespaced_deployment),
            ("statefulsets", api.apps.list_namespaced_stateful_set),
        ):
            try:
                names += [
                    i["metadata"]["name"] for i in (api.get(list_fn, api.namespace) or {}).get("items") or []
                ]
            except Forbidden:
                debug(__name__, "cannot list %s for suggestions", kind, exc_info=False)
        hint = did_you_mean_any(service, names)
        if not names:
            hint = (
                hint
                or "the namespace holds no Service, Deployment or StatefulSet; "
                "check --namespace and --context"
            )
        labels = ", ".join(f"{label}={service}" for label in SERVICE_LABELS)
        raise NotFound(
            f"no service {service!r} in {where}: "
            f"searched Service, Deployment and StatefulSet named {service!r}, "
            f"pods labelled {labels}, and a pod of that name",
            hint=hint or None,
        )

    def _logs(
        self, api: _Api, pod: dict[str, Any], request: Request, warnings: list[str], targets: list[str]
    ) -> list[Piece]:
        """Return the previous and current logs of every container of `pod`."""
        ns, name = api.namespace, pod["metadata"]["name"]
        status = pod.get("status") or {}
        statuses = {
            s.get("name"): s
            for s in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])
        }
        spec = pod.get("spec") or {}
        containers = [
            c.get("name") for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])
        ]
        pieces: list[Piece] = []
        for container in containers:
            st = statuses.get(container)
            if st is None:
                continue  # never created (pod not scheduled, image not pulled yet): no log to ask for
            targets.append(container)
            if st.get("containerID"):
                targets.append(str(st["containerID"]).split("://")[-1][:12])
            state = st.get("state") or {}
            restarted = int(st.get("restartCount") or 0) > 0 or "terminated" in (st.get("lastState") or {})
            base = f"k8s:{ns}/{name}/{container}"
            if restarted:
                text = api.log(name, container, True, request, warnings)
                if text is not None:
                    pieces.append(piece(f"{base} (previous)", text.splitlines()))
            # A container waiting in CrashLoopBackOff answers a plain log request with the previous
            # run's log: asking again would only duplicate it.
            if "waiting" in state and restarted:
                continue
            if "waiting" in state and not st.get("containerID"):
                continue
            text = api.log(name, container, False, request, warnings)
            if text is not None:
                pieces.append(piece(base, text.splitlines()))
        return pieces

    def _hpas(self, api: _Api, owners: set[str], warnings: list[str], pieces: list[Piece]) -> set[str]:
        """Return the names of HPAs that scale one of `owners`, adding each as a piece."""
        for version in ("v2", "v1"):
            try:
                data = api.get(api.hpa_list(version), api.namespace, missing_ok=True)
            except Forbidden as exc:
                warnings.append(f"cannot list HPAs: {exc}")
                return set()
            if data is not None:
                break
        else:
            return set()
        names: set[str] = set()
        for hpa in data.get("items") or []:
            target = ((hpa.get("spec") or {}).get("scaleTargetRef") or {}).get("name")
            if target in owners:
                name = hpa["metadata"]["name"]
                names.add(name)
                hpa = {"apiVersion": f"autoscaling/{version}", "kind": "HorizontalPodAutoscaler", **hpa}
                hpa["metadata"] = _clean_meta(hpa["metadata"])
                pieces.append(
                    piece(f"k8s:{api.namespace}/hpa/{name}", [json.dumps(hpa, separators=(",", ":"))])
                )
        return names

    def _events(self, api: _Api, names: set[str], warnings: list[str]) -> Piece:
        """Return the core/v1 events of the namespace about `names`, oldest first."""
        source = f"k8s:{api.namespace}/events"
        try:
            data = api.get(api.core.list_namespaced_event, api.namespace) or {}
        except Forbidden as exc:
            warnings.append(f"cannot list events: {exc}")
            return Piece(source, ())
        except CollectorError as exc:
            warnings.append(f"events: {exc}")
            return Piece(source, ())
        items = [e for e in data.get("items") or [] if (e.get("involvedObject") or {}).get("name") in names]
        items.sort(key=_event_time)
        lines = [
            json.dumps(
                _first(_clean(e), ("type", "reason", "message", "involvedObject")), separators=(",", ":")
            )
            for e in items
        ]
        return piece(source, lines)

    def _nodes(self, api: _Api, warnings: list[str]) -> Piece | None:
        """Return the nodes' conditions and allocatable resources, for a pod that was not scheduled."""
        try:
            data = api.get(api.core.list_node) or {}
        except Forbidden as exc:
            warnings.append(f"cannot list nodes: {exc}")
            return None
        except CollectorError as exc:
            warnings.append(f"nodes: {exc}")
            return None
        lines = []
        for node in data.get("items") or []:
            status = node.get("status") or {}
            slim = {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": node["metadata"]["name"],
                    "labels": node["metadata"].get("labels") or {},
                },
                "spec": {"taints": (node.get("spec") or {}).get("taints") or []},
                "status": {
                    k: status.get(k) for k in ("conditions", "allocatable", "capacity") if k in status
                },
            }
            lines.append(json.dumps(slim, separators=(",", ":")))
        return piece("k8s:nodes", lines)


def _selector(labels: dict[str, str]) -> str:
    """Return a label selector string for equality labels."""
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _unscheduled(pod: dict[str, Any]) -> bool:
    """Return True when the pod's PodScheduled condition is False."""
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return True
    return False


def _deployments_of(owners: set[str]) -> set[str]:
    """Return Deployment names implied by ReplicaSet names (`web-7d9c5b` belongs to `web`)."""
    out = set()
    for name in owners:
        head, _, tail = name.rpartition("-")
        if head and tail.isalnum() and 6 <= len(tail) <= 10:
            out.add(head)
    return out


def _event_time(event: dict[str, Any]) -> str:
    """Return a sortable time for an event; scheduler events carry only eventTime / series."""
    series = event.get("series") or {}
    return str(
        event.get("lastTimestamp")
        or series.get("lastObservedTime")
        or event.get("eventTime")
        or event.get("firstTimestamp")
        or (event.get("metadata") or {}).get("creationTimestamp")
        or ""
    )


def _clean_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """Return object metadata without managedFields and last-applied annotations."""
    meta = {k: v for k, v in meta.items() if k != "managedFields"}
    if meta.get("annotations"):
        meta["annotations"] = {k: v for k, v in meta["annotations"].items() if k not in _DROP_ANNOTATIONS}
    return meta


def _clean(obj: dict[str, Any]) -> dict[str, Any]:
    """Return `obj` with noisy metadata removed."""
    obj = dict(obj)
    if isinstance(obj.get("metadata"), dict):
        obj["metadata"] = _clean_meta(obj["metadata"])
    return obj


def _first(obj: dict[str, Any], keys: tuple[str, ...], kind: str = "Event") -> dict[str, Any]:
    """Return `obj` as kubectl prints it, with `keys` first so clipped evidence shows what matters."""
    head = {"apiVersion": obj.get("apiVersion", "v1"), "kind": obj.get("kind", kind)}
    head.update({k: obj[k] for k in keys if k in obj})
    head.update({k: v for k, v in obj.items() if k not in head})
    return head


def _clean_pod(pod: dict[str, Any]) -> dict[str, Any]:
    """Return the pod as kubectl prints it, without managedFields (the exits redact secret env values)."""
    pod = {"apiVersion": "v1", "kind": "Pod", **_clean(pod)}
    pod["spec"] = dict(pod.get("spec") or {})  # kubectl prints an empty spec too
    meta = pod.get("metadata") or {}
    pod["metadata"] = {k: meta[k] for k in ("name", "namespace") if k in meta} | meta
    return _first(pod, ("metadata", "status"), "Pod")


class _Api:
    """A thin wrapper over the client: raw JSON GETs within a deadline and a cap, errors turned into ours."""

    def __init__(self, request: Request):
        try:
            from kubernetes import client, config
        except ImportError as exc:
            raise unavailable(
                "kubernetes client not installed",
                exc,
                "reinstall diagnoser, or pip install kubernetes",
            ) from None
        self.timeout = request.timeout
        self.max_answer_bytes = request.max_answer_bytes
        cfg = client.Configuration()
        self.context: str | None = None
        namespace = None
        try:
            if _has_file_kubeconfig():
                # The client reads KUBECONFIG once, at import: pass it explicitly.
                config_file = os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")
                contexts, active = config.list_kube_config_contexts(config_file=config_file)
                chosen = active
                if request.context:
                    chosen = next((c for c in contexts if c.get("name") == request.context), None)
                    if chosen is None:
                        names = [c.get("name", "") for c in contexts]
                        raise unavailable(
                            "kubeconfig",
                            f"no context {request.context!r}",
                            did_you_mean_any(request.context, names) or f"contexts: {', '.join(names)}",
                        )
                self.context = (chosen or {}).get("name")
                namespace = ((chosen or {}).get("context") or {}).get("namespace")
                config.load_kube_config(
                    config_file=config_file, context=request.context, client_configuration=cfg
                )
            else:
                config.load_incluster_config(client_configuration=cfg)
                ns_file = SERVICE_ACCOUNT / "namespace"  # the pod's own namespace
                namespace = ns_file.read_text().strip() if ns_file.is_file() else None
        except config.ConfigException as exc:
            raise unavailable("no usable kubeconfig", exc, "set KUBECONFIG or pass --context") from None
        cfg.retries = 0  # a refused connection fails at once instead of after urllib3's three retries
        self.namespace = request.namespace or namespace or "default"
        self.server = cfg.host
        self.client = client.ApiClient(cfg)
        self.core = client.CoreV1Api(self.client)
        self.apps = client.AppsV1Api(self.client)
        self._kube = client

    def close(self) -> None:
        """Close the client's connections (a timed-out one would otherwise linger)."""
        try:
            self.client.close()
        except Exception:  # noqa: BLE001 - closing is best effort
            debug(__name__, "closing the API client failed")

    def hpa_list(self, version: str) -> Callable[..., Any]:
        """Return the list function for HPAs of autoscaling/`version`."""
        api = self._kube.AutoscalingV2Api if version == "v2" else self._kube.AutoscalingV1Api
        return api(self.client).list_namespaced_horizontal_pod_autoscaler

    def _call(self, fn: Callable[..., Any], *args: Any, deadline: Deadline, **kwargs: Any) -> Any:
        """Call an API function until its answer's head, within what is left of `deadline`.

        Returns the unread response; transport and HTTP errors become collector errors.
        """
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError, NewConnectionError
        from urllib3.exceptions import TimeoutError as Urllib3Timeout

        try:
            return fn(*args, _preload_content=False, _request_timeout=max(deadline.left(), 0.001), **kwargs)
        except ApiException as exc:
            raise _api_error(exc, self.server) from None
        except HTTPError as exc:
            reason = getattr(exc, "reason", None) or exc
            # urllib3 2 derives a refused connection (NewConnectionError) from its connect timeout.
            if isinstance(reason, Urllib3Timeout) and not isinstance(reason, NewConnectionError):
                raise CollectorUnavailable(
                    f"the API server at {self.server} did not answer {_name(fn)} "
                    f"within the --timeout of {self.timeout:g} s",
                    hint="check the cluster is up, or pass a larger --timeout",
                ) from None
            raise unavailable(
                f"cannot reach the API server at {self.server}",
                reason,
                "check the cluster is up, your VPN and --context",
            ) from None
        except OSError as exc:
            raise unavailable(
                f"cannot reach the API server at {self.server}", exc, "check the cluster is up and --context"
            ) from None

    def get(
        self, fn: Callable[..., Any], *args: Any, missing_ok: bool = False, **kwargs: Any
    ) -> dict[str, Any] | None:
        """Call a read / list function of the client and return the raw JSON; None when missing_ok and 404.

        The whole call, body included, has --timeout; an answer larger than its cap is refused.
        """
        deadline = Deadline(self.timeout)
        try:
            resp = self._call(fn, *args, deadline=deadline, **kwargs)
        except _NotFoundError:
            if missing_ok:
                return None
            raise
        body = read_body(resp, deadline, self.max_answer_bytes, tail=False)
        if body.broken is not None:
            raise CollectorError(
                f"the API server at {self.server} broke off its answer to {_name(fn)}: {body.broken}"
            )
        if body.over:
            raise CollectorError(
                f"the API server at {self.server} answered {_name(fn)} with more than "
                f"{size_text(self.max_answer_bytes)}; refused it",
                hint="that much is not read into memory: save it with kubectl and pass the file instead",
            )
        if body.late:
            raise CollectorError(
                f"the API server at {self.server} did not finish its answer to {_name(fn)} within the "
                f"--timeout of {self.timeout:g} s ({size_text(body.received)} arrived)",
                hint="pass a larger --timeout",
            )
        try:
            return json.loads(body.data or b"{}")
        except ValueError:
            raise CollectorError(
                f"the API server at {self.server} answered {_name(fn)} with something that is not JSON"
            ) from None

    def pods(self, selector: str) -> list[dict[str, Any]]:
        """Return the pods of the namespace that match a label selector."""
        data = self.get(self.core.list_namespaced_pod, self.namespace, label_selector=selector) or {}
        return list(data.get("items") or [])

    def log(
        self, pod: str, container: str, previous: bool, request: Request, warnings: list[str]
    ) -> str | None:
        """Return a container's log text (timestamped), or None with a warning when it cannot be had.

        A log cut by --timeout or by its byte cap is returned as far as it arrived (its last bytes
        for the cap), with a warning.
        """
        kwargs: dict[str, Any] = {"container": container, "previous": previous, "timestamps": True}
        if request.tail is not None:
            kwargs["tail_lines"] = request.tail
        if request.since_seconds is not None:
            kwargs["since_seconds"] = request.since_seconds
        label = f"{self.namespace}/{pod}/{container}{' (previous)' if previous else ''}"
        deadline = Deadline(self.timeout)
        try:
            resp = self._call(
                self.core.read_namespaced_pod_log, pod, self.namespace, deadline=deadline, **kwargs
            )
        except _NotFoundError as exc:
            warnings.append(f"no log for {label}: {exc}")
            return None
        except Forbidden as exc:
            warnings.append(f"cannot read the log of {label}: {exc}")
            return None
        except _BadRequest as exc:
            text = str(exc)
            if "waiting to start" in text or "ContainerCreating" in text or "PodInitializing" in text:
                warnings.append(f"no log for {label} yet: the container is waiting to start")
            elif previous and "previous terminated container" in text:
                return None
            else:
                warnings.append(f"no log for {label}: {text}")
            return None
        except CollectorError as exc:
            warnings.append(f"no log for {label}: {exc}")
            return None
        # 204 No Content (a pod never scheduled) has no body at all.
        body = read_body(resp, deadline, request.max_log_bytes, tail=True)
        warning = cut_log_warning(f"log of {label}", body, self.timeout, request.max_log_bytes)
        if warning is not None:
            warnings.append(warning)
        return body.data.decode("utf-8", errors="replace")


def _name(fn: Callable[..., Any]) -> str:
    """Return the client function's name for messages (list_namespaced_event)."""
    return getattr(fn, "__name__", "request")


class _NotFoundError(CollectorError):
    """The API answered 404."""


class _BadRequest(CollectorError):
    """The API answered 400 (a log of a container that is not running yet, ...)."""


def _has_file_kubeconfig() -> bool:
    """Return True when a kubeconfig file exists."""
    paths = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    paths = paths or [str(Path.home() / ".kube" / "config")]
    return any(Path(p).is_file() for p in paths)


def _api_error(exc: Any, server: str) -> CollectorError:
    """Turn an ApiException into a collector error with the Status message the API sent."""
    message = exc.reason or "error"
    body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else exc.body
    try:
        status = json.loads(body or "")
        if isinstance(status, dict) and status.get("message"):
            message = status["message"]
    except ValueError:
        if body:
            message = body.strip().splitlines()[0][:300]
    if exc.status == 403:
        return Forbidden(
            f"forbidden: {message}",
            hint="ask for RBAC get/list on pods, pods/log, events, services, deployments",
        )
    if exc.status == 401:
        return unavailable(
            f"the API server at {server} rejected the credentials",
            message,
            "refresh the kubeconfig credentials (az aks get-credentials)"
            if _has_file_kubeconfig()
            else "in a pod: check the service account's token is mounted (automountServiceAccountToken)",
        )
    if exc.status == 404:
        return _NotFoundError(message)
    if exc.status == 400:
        return _BadRequest(message)
    return CollectorError(f"the API server at {server} answered {exc.status}: {message}")
