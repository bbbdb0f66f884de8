"""Observe every event for what the fix plan needs: the platform, and current values of knobs.

Values come only from what servers and tools print; each pattern names its source.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from diagnoser.lazy import LazyRegex
from diagnoser.model import Event, EventKind, Evidence, Level, Platform

_ONE_SECOND = timedelta(seconds=1)
# azmlinfsrv >= 0.8 banner (azureml_inference_server_http/amlserver.py): "Worker Count: 1",
# "Worker Timeout (seconds): 300"; AML base images also print WORKER_TIMEOUT / WORKER_COUNT.
_WORKER_COUNT = LazyRegex(r"\bworker[ _]count\b\)?\s*[:=]\s*(\d+)", re.I)
_WORKER_TIMEOUT = LazyRegex(r"\bworker[ _]timeout\b(?: \(seconds\))?\s*[:=]\s*(\d+)", re.I)
_GUNICORN_WORKERS = LazyRegex(r"(?:--workers|-w)[ =](\d+)\b")
_GUNICORN_TIMEOUT = LazyRegex(r"(?:--timeout|-t)[ =](\d+)\b")
# gunicorn --log-level debug prints "Current configuration:" then one `  name: value` line per setting
# (gunicorn/arbiter.py); pasted logs may carry each on its own line.
_CONFIG_WORKERS = LazyRegex(r"^\s+workers: (\d+)\s*$", re.M)
_CONFIG_TIMEOUT = LazyRegex(r"^\s+timeout: (\d+)\s*$", re.M)
# `docker inspect`: HostConfig.Memory in bytes (0: no limit).
_DOCKER_MEMORY = LazyRegex(r"\"Memory\":\s*(\d+)")
BOOT_WINDOW_S = 2.0
# Words that make a fix step relevant (a catalogue step's `requires:`): a step for Knative's tag resolution
# or for Azure Container Registry shows only when the input names them.
MARKERS = {"knative": "knative", "acr": "azurecr.io"}
# Where a server says it listens: gunicorn / azmlinfsrv "Listening at: http://0.0.0.0:8000", uvicorn and
# werkzeug "running on http://127.0.0.1:8000", Ollama "Listening on 127.0.0.1:11434", Triton "Started
# HTTPService at 0.0.0.0:8000", TF Serving "Exporting HTTP/REST API at:localhost:8501", Streamlit "URL:
# http://0.0.0.0:8501".
# A word each alternative of _LISTENING needs: the regex runs only on lines that hold one (most do not).
_LISTENING_WORDS = ("listen", "running on", "serving on", "started", "exporting", "url")
_LISTENING = LazyRegex(
    r"(?:listening (?:at|on)|running on|serving on|started \w+ at|exporting http/rest api at|\burl)\s*:?\s*"
    r"((?:https?://)?[\w.\-]*(?:\[[0-9a-f:]+\])?[\w.\-]*:\d{2,5})",
    re.I,
)
# azmlinfsrv: "Scoring timeout is found from os.environ: 60000 ms" (old),
# "Scoring timeout setting is not found. Use default timeout: 3600000 ms",
# "Scoring timeout is set to 3600000".
_SCORING_TIMEOUT = LazyRegex(r"scoring[ _]timeout\b[^\d\n]{0,60}?(\d{3,9})\s*(?:ms)?", re.I)
# kubectl describe: "memory:  1Gi" under Limits; kernel: "memory: usage 1048576kB, limit 1048576kB".
_KERNEL_LIMIT = LazyRegex(r"memory: usage \d+kB, limit (\d+)kB")
# SDK v1 AKS / ACI deployment configuration (`memory_gb=2`) and the service JSON (`"memoryInGB": 2.0`,
# the deploymentconfig.json / `az ml service show` names in the SDK v1 "deploy and where" page).
_MEMORY_GB = LazyRegex(r"\b(?:memory_gb|memoryInGB)[\"']?\s*[=:]\s*([\d.]+)")
_QUANTITY = LazyRegex(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?|[kmgt]b?|)\s*$", re.I)
# Timeouts of the front ends, as deployment configurations and service JSON write them:
# AksWebservice.deploy_configuration(scoring_timeout_ms=...) / "scoringTimeoutMs"; SDK v2 / CLI v2
# request_settings.request_timeout_ms (REST: requestTimeout as an ISO 8601 duration, PT5S);
# ingress-nginx `nginx.ingress.kubernetes.io/proxy-read-timeout: "120"`.
_AKS_SCORING_TIMEOUT = LazyRegex(r"\b(?:scoring_timeout_ms|scoringTimeoutMs)[\"']?\s*[=:]\s*(\d+)")
_REQUEST_TIMEOUT = LazyRegex(r"\b(?:request_timeout_ms|requestTimeoutMs)[\"']?\s*[=:]\s*(\d+)")
_REQUEST_TIMEOUT_ISO = LazyRegex(r"\brequestTimeout[\"']?\s*[=:]\s*[\"']?PT(\d+(?:\.\d+)?)S", re.I)
_PROXY_READ_TIMEOUT = LazyRegex(r"proxy-read-timeout[\"']?\s*[=:]\s*[\"']?(\d+)")
# Replica settings as SDK v1 (autoscale_*), its service JSON (autoScaler.minReplicas ...), CLI v2 YAML
# (scale_settings.min_instances ..., instance_count) and HPA manifests pasted as text write them.
_MIN_REPLICAS = LazyRegex(
    r"\b(?:autoscale_min_replicas|minReplicas|min_instances|min_replicas)[\"']?\s*[=:]\s*(\d+)"
)
_MAX_REPLICAS = LazyRegex(
    r"\b(?:autoscale_max_replicas|maxReplicas|max_instances|max_replicas)[\"']?\s*[=:]\s*(\d+)"
)
_TARGET_UTILIZATION = LazyRegex(
    r"\b(?:autoscale_target_utilization|targetUtilization|target_utilization_percentage|"
    r"targetCPUUtilizationPercentage)[\"']?\s*[=:]\s*(\d+)"
)
_INSTANCE_COUNT = LazyRegex(
    r"\b(?:instance_count|instanceCount|num_replicas|numReplicas)[\"']?\s*[=:]\s*(\d+)"
)
# HPA events (kube-controller-manager): "New size: 4; reason: cpu resource utilization ... above target".
_NEW_SIZE = LazyRegex(r"New size: (\d+)")
_HPA_METRIC_FAILURES = frozenset(
    {"FailedGetResourceMetric", "FailedComputeMetricsReplicas", "FailedGetPodsMetric"}
)
# v1 service JSON `"computeType": "AKS"` / `"ACI"` (printed after "... service creation operation finished").
_COMPUTE_TYPE = LazyRegex(r"\"?computetype\"?\s*:\s*\"?(aks|aci)\b")
# The online-deployment container that runs the scoring code is named inference-server
# (`az ml online-deployment get-logs --container inference-server`, pods of Kubernetes online endpoints).
_INFERENCE_CONTAINER = LazyRegex(
    r"\[inference-server\]|container[s]?[ :=\"']+inference-server\b|\{inference-server\}"
)

V1, V2 = Platform.AZUREML_V1, Platform.AZUREML_V2
# Words that name a platform (lower case). A sub-platform only from what is specific to it; what is
# shared by a family (ACI and AKS run the same SDK v1 image and front end) votes for the family.
_PLATFORM_WORDS: tuple[tuple[str, Platform], ...] = (
    # SDK v1 (azureml-core): class names, the SDK's own messages (docs how-to-deploy-*, v1).
    ("akswebservice", Platform.AZUREML_V1_AKS),
    ("aksservicedeploymentconfiguration", Platform.AZUREML_V1_AKS),
    ("aks service creation operation", Platform.AZUREML_V1_AKS),
    # The seed page's scheduling message on AKS web services.
    ("couldn't schedule because the kubernetes cluster", Platform.AZUREML_V1_AKS),
    ("aciwebservice", Platform.AZUREML_V1_ACI),
    ("aciservicedeploymentconfiguration", Platform.AZUREML_V1_ACI),
    ("aci service creation operation", Platform.AZUREML_V1_ACI),
    ("acideploymentfailed", Platform.AZUREML_V1_ACI),
    ("aci deployment failed", Platform.AZUREML_V1_ACI),
    (".azurecontainer.io", Platform.AZUREML_V1_ACI),  # the scoring URI of an ACI web service
    ("localwebservice", Platform.AZUREML_V1_LOCAL),
    ("local webservice is running at", Platform.AZUREML_V1_LOCAL),
    ("azureml.core", V1),
    ("azureml-defaults", V1),
    # SDK / CLI v2 (azure-ai-ml): entity and schema names, managed scoring URIs, get-logs headers.
    ("managedonlinedeployment", Platform.AZUREML_V2_MANAGED),
    ("managedonlineendpoint", Platform.AZUREML_V2_MANAGED),
    (".inference.ml.azure.com", Platform.AZUREML_V2_MANAGED),
    ("usercontainerimagepull:", Platform.AZUREML_V2_MANAGED),  # "Instance status:" of a managed deployment
    ("kubernetesonlinedeployment", Platform.AZUREML_V2_KUBERNETES),
    ("kubernetesonlineendpoint", Platform.AZUREML_V2_KUBERNETES),
    # Components of the Azure ML extension for Kubernetes (how-to-deploy-kubernetes-extension).
    ("azureml-fe-v2", Platform.AZUREML_V2_KUBERNETES),
    ("amlarc-identity", Platform.AZUREML_V2_KUBERNETES),
    ("inference-operator-controller-manager", Platform.AZUREML_V2_KUBERNETES),
    ("identity-sidecar", Platform.AZUREML_V2_KUBERNETES),
    ("azureml-ingress-nginx", Platform.AZUREML_V2_KUBERNETES),
    ("ml.azure.com/endpoint-name", Platform.AZUREML_V2_KUBERNETES),
    ("ml.azure.com/deployment-name", Platform.AZUREML_V2_KUBERNETES),
    ("online-deployment", V2),
    ("online-endpoint", V2),
    ("online endpoint", V2),
    ("azure.ai.ml", V2),
    ("az ml online-", V2),
    ("too many pending requests", V2),  # 429 of online endpoints (how-to-troubleshoot-online-endpoints)
    ("azmlinfsrv", Platform.AZMLINFSRV),
    ("azure ml inferencing http server", Platform.AZMLINFSRV),
    ("azureml-inference-server-http", Platform.AZMLINFSRV),
    ("azureml_inference_server_http", Platform.AZMLINFSRV),
    ("/var/azureml-app", Platform.AZMLINFSRV),  # the inference images' app root, SDK v1 and v2 alike
)
# One scan for every platform word (a word votes once per event, however often it appears).
_PLATFORM_WORD_RE = LazyRegex("|".join(re.escape(word) for word, _ in _PLATFORM_WORDS))
_WORD_PLATFORM = dict(_PLATFORM_WORDS)


def _may_name_platform(lower: str) -> bool:
    """Return True when a lower-cased message may hold a platform word (a cheap gate before the scan)."""
    return (
        "azure" in lower
        or "aks" in lower
        or "aci" in lower
        or "webservice" in lower
        or "online" in lower
        or "inferenc" in lower
        or "azmlinfsrv" in lower
        or "amlarc" in lower
        or "sidecar" in lower
        or "computetype" in lower
        or "usercontainer" in lower
        or "couldn't schedule" in lower
        or "pending requests" in lower
    )


# Pod labels (field platform_labels, parse/k8s.py): the Azure ML extension's online deployments carry
# ml.azure.com/*, SDK v1 AKS web services azuremlappname / webservicename.
_LABEL_PLATFORMS = (
    ("ml.azure.com/endpoint-name", Platform.AZUREML_V2_KUBERNETES),
    ("ml.azure.com/deployment-name", Platform.AZUREML_V2_KUBERNETES),
    ("webservicename", Platform.AZUREML_V1_AKS),
    ("azuremlappname", Platform.AZUREML_V1_AKS),
)
# Format names as the parsers register them (docs/FORMATS.md).
_FORMAT_PLATFORMS = {
    "docker": Platform.DOCKER,
    "compose": Platform.DOCKER,  # `docker compose up` / `docker-compose logs` prefixes
    "cri": Platform.KUBERNETES,
    "klog": Platform.KUBERNETES,
    "kubectl-events": Platform.KUBERNETES,
    "kubectl-describe": Platform.KUBERNETES,
    "kubectl-get": Platform.KUBERNETES,
    "kubectl-json": Platform.KUBERNETES,
    "kubectl-yaml": Platform.KUBERNETES,
    "kubectl-prefix": Platform.KUBERNETES,
    "runit": Platform.AZUREML_V1,  # the SDK v1 base images run gunicorn under runit
}
# Kinds compared per event, bound once: on Python 3.11 an EventKind.X lookup costs about three
# function calls (see model.EventKind).
_ACCESS, _WORKER_BOOT, _CONFIG = EventKind.ACCESS, EventKind.WORKER_BOOT, EventKind.CONFIG
_WORKER_EXIT = EventKind.WORKER_EXIT
_ERROR_LEVELS = frozenset({Level.ERROR, Level.CRITICAL})
_SCALING_KINDS = frozenset({EventKind.HPA_STATUS, EventKind.HPA_CONDITION, EventKind.K8S_EVENT})
_COMPONENT_PLATFORMS = {
    "gunicorn": Platform.GUNICORN,
    "azmlinfsrv": Platform.AZMLINFSRV,
    "kubelet": Platform.KUBERNETES,
    "default-scheduler": Platform.KUBERNETES,
    "scheduler": Platform.KUBERNETES,
    "k8s": Platform.KUBERNETES,
    "azureml-fe": Platform.AZUREML_V1,  # the SDK v1 image's front end (on ACI too: tests/data/formats)
    "horizontal-pod-autoscaler": Platform.KUBERNETES,
    "dockerd": Platform.DOCKER,
    "docker": Platform.DOCKER,
}
SAMPLE_SIZE = 512


def parse_memory(text: str) -> int | None:
    """Return a memory quantity in bytes from "1Gi", "512M", "2g" or a plain byte count, else None."""
    m = _QUANTITY.match(text)
    if not m:
        return None
    number, unit = float(m.group(1)), m.group(2).lower().rstrip("b")
    scale = {
        "": 1,
        "k": 1e3,
        "m": 1e6,
        "g": 1e9,
        "t": 1e12,
        "ki": 2**10,
        "mi": 2**20,
        "gi": 2**30,
        "ti": 2**40,
    }
    return int(number * scale[unit]) if unit in scale else None


@dataclass(slots=True)
class Scaling:
    """Replica counts and utilisation targets the logs show (HPA status and events, SDK settings)."""

    min_replicas: int | None = None
    max_replicas: int | None = None
    current_replicas: int | None = None
    desired_replicas: int | None = None
    peak_replicas: int | None = None  # the most replicas seen (status, "New size: N" events)
    instance_count: int | None = None  # fixed replicas: v2 instance_count, v1 num_replicas
    utilization: int | None = None  # percent, the metric that asks for most replicas
    target_utilization: int | None = None  # percent
    metric: str | None = None
    limited_at_max: bool = False  # condition ScalingLimited True TooManyReplicas
    metrics_unknown: bool = False  # <unknown> targets, ScalingActive False, FailedGetResourceMetric
    source: str = ""  # what showed the numbers, e.g. "HorizontalPodAutoscaler scorer"

    def seen(self, replicas: int) -> None:
        """Record a replica count the service had."""
        self.peak_replicas = replicas if self.peak_replicas is None else max(self.peak_replicas, replicas)

    @property
    def observed(self) -> bool:
        """Return True when the logs showed any replica number."""
        return any(
            v is not None
            for v in (
                self.min_replicas,
                self.max_replicas,
                self.current_replicas,
                self.instance_count,
                self.target_utilization,
            )
        )

    @property
    def over_target(self) -> bool:
        """Return True when the measured utilisation is above its target."""
        return (
            self.utilization is not None
            and self.target_utilization is not None
            and self.utilization > self.target_utilization
        )

    @property
    def pinned_at_max(self) -> bool:
        """Return True when the autoscaler wants more replicas than its maximum allows."""
        if self.limited_at_max:
            return True
        if self.max_replicas is None or not self.over_target:
            return False
        running = self.current_replicas if self.current_replicas is not None else self.desired_replicas
        return running is not None and running >= self.max_replicas

    @property
    def hpa_need(self) -> int | None:
        """Return ceil(current replicas x current / target utilisation), the HPA's own replica rule.

        https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#algorithm-details
        """
        running = self.current_replicas if self.current_replicas else self.desired_replicas
        if not running or self.utilization is None or not self.target_utilization:
            return None
        return math.ceil(round(running * self.utilization / self.target_utilization, 9))

    def describe(self) -> str:
        """Return what was seen, for a fix step's reasoning."""
        parts = []
        if self.current_replicas is not None:
            parts.append(
                f"{self.current_replicas} current"
                + (f" / {self.desired_replicas} desired" if self.desired_replicas is not None else "")
            )
        bounds = [
            f"{n} {v}" for n, v in (("min", self.min_replicas), ("max", self.max_replicas)) if v is not None
        ]
        if bounds:
            parts.append(", ".join(bounds))
        if self.target_utilization is not None:
            util = "<unknown>" if self.utilization is None else f"{self.utilization}%"
            parts.append(f"{self.metric or 'utilization'} {util}/{self.target_utilization}%")
        if self.limited_at_max:
            parts.append("ScalingLimited TooManyReplicas")
        text = "; ".join(parts)
        return f"{self.source}: {text}" if self.source and text else text


@dataclass(slots=True)
class Observations:
    """Facts gathered while the events stream by (mutable, owned by one pipeline run)."""

    platform_votes: Counter[Platform] = field(default_factory=Counter)
    worker_count: int | None = None
    worker_timeout_s: int | None = None
    scoring_timeout_ms: int | None = None  # azmlinfsrv SCORING_TIMEOUT_MS
    aks_scoring_timeout_ms: int | None = None  # AksWebservice scoring_timeout_ms
    request_timeout_ms: int | None = None  # online deployments' request_settings.request_timeout_ms
    proxy_read_timeout_s: int | None = None  # ingress-nginx proxy-read-timeout annotation
    scaling: Scaling = field(default_factory=Scaling)
    memory_limit_bytes: int | None = None
    memory_gb: float | None = None
    worker_boots: int = 0
    listening: str | None = None  # the first address a server said it listens on
    # workers booted together at start (within BOOT_WINDOW of the first boot): the worker count in use
    initial_boots: int = 0
    _first_boot: datetime | None = field(default=None, repr=False)
    _boots_closed: bool = field(default=False, repr=False)
    # the line each value above was read from, by attribute name: the report quotes it
    quotes: dict[str, Evidence] = field(default_factory=dict)
    # the first pod, namespace and container the input names: the plan's commands use them
    names: dict[str, str] = field(default_factory=dict)
    markers: set[str] = field(default_factory=set)  # MARKERS the input shows
    statuses: Counter[int] = field(default_factory=Counter)
    durations_ms: list[float] = field(default_factory=list)  # reservoir of access-line durations
    duration_count: int = 0
    duration_max_ms: float = 0.0
    ok_duration_max_ms: float = 0.0  # slowest request that succeeded: failed ones may have been cut short
    per_second: Counter[datetime] = field(default_factory=Counter)  # access lines per second (bounded)
    # The second being counted: access lines come in time order, so most fall in the second before
    # them; they are counted here and added to per_second once, when another second starts.
    _second: datetime | None = field(default=None, repr=False)
    _second_end: datetime | None = field(default=None, repr=False)
    _second_n: int = field(default=0, repr=False)

    def feed(self, event: Event) -> None:
        """Update the facts from one event."""
        fmt_platform = _FORMAT_PLATFORMS.get(event.format)
        if fmt_platform is not None:
            self.platform_votes[fmt_platform] += 1
        comp_platform = _COMPONENT_PLATFORMS.get(event.component)
        if comp_platform is not None:
            self.platform_votes[comp_platform] += 1
        fields = event.fields
        kind = fields.get("kind")
        if kind == _ACCESS:
            self._feed_access(event)
        elif kind == _WORKER_BOOT:
            self.worker_boots += 1
            self._count_initial_boot(event)
        elif kind in _SCALING_KINDS:
            self._feed_scaling(kind, fields, event.message)
        if (
            kind != _WORKER_BOOT
            and kind != _ACCESS
            and self._first_boot is not None
            and not self._boots_closed
        ):
            # the first burst of boots ends at the first worker exit or error: later boots replace workers
            self._boots_closed = kind == _WORKER_EXIT or event.level in _ERROR_LEVELS
        labels = fields.get("platform_labels")
        if isinstance(labels, str):
            for label, platform in _LABEL_PLATFORMS:
                if label in labels:
                    self.platform_votes[platform] += 1
                    break
        if fields.get("container") == "inference-server":
            self.platform_votes[V2] += 1
        if len(self.names) < 3:
            self._note_names(event.source, fields)
        limit = fields.get("memory_limit")
        if isinstance(limit, str) and (parsed := parse_memory(limit)):  # the last limit seen is in force
            self._set("memory_limit_bytes", parsed, event)
            line = fields.get("memory_limit_line")
            if isinstance(line, int):  # kubectl describe: the `memory:` line under Limits
                self.quotes["memory_limit_bytes"] = Evidence(
                    event.source, line, f"Limits: memory: {limit}", ("value",), event.timestamp
                )
        if kind == _CONFIG:  # azmlinfsrv banner values, already typed by the parser
            for name in ("worker_count", "worker_timeout", "scoring_timeout_ms"):
                value = fields.get(name)
                if isinstance(value, int):
                    self._set("worker_timeout_s" if name == "worker_timeout" else name, value, event)
        message = event.message
        lower = message[:2000].lower()
        if _may_name_platform(lower):
            self._feed_platform_words(lower)
        if "error response from daemon" in lower:  # the docker CLI relaying dockerd's refusal
            self.platform_votes[Platform.DOCKER] += 1
        if len(self.markers) < len(MARKERS):
            for marker, word in MARKERS.items():
                if word in lower:
                    self.markers.add(marker)
        if "worker" in lower or "--workers" in lower or "--timeout" in lower or "timeout:" in lower:
            self._feed_worker_settings(message, event)
        if "scoring" in lower and "timeout" in lower:
            m = _SCORING_TIMEOUT.search(message)
            if m:
                self._set("scoring_timeout_ms", int(m.group(1)), event)
        if "limit" in lower and "memory" in lower:
            m = _KERNEL_LIMIT.search(message)
            if m:
                self._set("memory_limit_bytes", int(m.group(1)) * 1024, event)
        if "memory_gb" in lower or "memoryingb" in lower:
            m = _MEMORY_GB.search(message)
            if m:
                self._set("memory_gb", float(m.group(1)), event)
        if '"memory":' in lower and (m := _DOCKER_MEMORY.search(message)) and int(m.group(1)) > 0:
            self._set("memory_limit_bytes", int(m.group(1)), event)  # docker inspect: HostConfig.Memory
        if "timeout" in lower:
            self._feed_front_end_timeouts(message, lower, event)
        if self.listening is None and any(word in lower for word in _LISTENING_WORDS):
            m = _LISTENING.search(message)
            if m:
                self.listening = m.group(1)
        if "replica" in lower or "instance" in lower or "utilization" in lower:
            self._feed_replica_settings(message)

    def _note_names(self, source: str, fields: dict) -> None:
        """Keep the first pod, namespace and container named by a collected source or a parsed field."""
        names = self.names
        if source.startswith("k8s:"):  # k8s:namespace/pod[/container (previous)] (collect/kubernetes.py)
            parts = source[4:].split(" ", 1)[0].split("/")
            if len(parts) >= 2 and parts[1] not in ("events",):
                names.setdefault("namespace", parts[0])
                names.setdefault("pod", parts[1])
                if len(parts) >= 3:
                    names.setdefault("container", parts[2])
        for key in ("pod", "namespace", "container"):
            value = fields.get(key)
            if isinstance(value, str) and value and " " not in value:
                names.setdefault(key, value)

    def _set(self, attr: str, value: object, event: Event) -> None:
        """Set a value the logs show and remember the line it was read from."""
        setattr(self, attr, value)
        self.quotes[attr] = Evidence(event.source, event.line, event.text, ("value",), event.timestamp)

    def _count_initial_boot(self, event: Event) -> None:
        """Count the workers a server boots together at start: gunicorn boots them all in a burst."""
        ts = event.timestamp
        if ts is None or self._boots_closed:
            return
        if self._first_boot is None:
            self._first_boot = ts
            self.quotes["initial_boots"] = Evidence(event.source, event.line, event.text, ("value",), ts)
        try:
            if abs((ts - self._first_boot).total_seconds()) <= BOOT_WINDOW_S:
                self.initial_boots += 1
        except TypeError:  # aware and naive times mixed
            return

    def _feed_front_end_timeouts(self, message: str, lower: str, event: Event) -> None:
        """Read the timeouts of the AKS front end, online deployments and ingress-nginx."""
        if "scoring_timeout_ms" in lower or "scoringtimeoutms" in lower:
            m = _AKS_SCORING_TIMEOUT.search(message)
            if m:
                self._set("aks_scoring_timeout_ms", int(m.group(1)), event)
        if "request_timeout_ms" in lower or "requesttimeout" in lower:
            m = _REQUEST_TIMEOUT.search(message)
            if m:
                self._set("request_timeout_ms", int(m.group(1)), event)
            elif m := _REQUEST_TIMEOUT_ISO.search(message):
                self._set("request_timeout_ms", round(float(m.group(1)) * 1000), event)
        if "proxy-read-timeout" in lower:
            m = _PROXY_READ_TIMEOUT.search(message)
            if m:
                self._set("proxy_read_timeout_s", int(m.group(1)), event)

    def _feed_platform_words(self, lower: str) -> None:
        """Vote for the platforms the words of a (lower-cased) message name."""
        votes = self.platform_votes
        for word in {m.group() for m in _PLATFORM_WORD_RE.finditer(lower)}:
            votes[_WORD_PLATFORM[word]] += 1
        if "azureml-fe" in lower and "azureml-fe-v2" not in lower:
            # azureml-fe is the SDK v1 AKS front end (ingress upstream azureml-azureml-fe-80, its pods).
            votes[Platform.AZUREML_V1_AKS] += 1
        if "computetype" in lower and (m := _COMPUTE_TYPE.search(lower)):
            votes[Platform.AZUREML_V1_AKS if m.group(1) == "aks" else Platform.AZUREML_V1_ACI] += 1
        if "inference-server" in lower and _INFERENCE_CONTAINER.search(lower):
            votes[V2] += 1

    def _feed_replica_settings(self, message: str) -> None:
        """Read replica bounds, targets and fixed counts that deployment settings print."""
        sc = self.scaling
        for pattern, attr in (
            (_MIN_REPLICAS, "min_replicas"),
            (_MAX_REPLICAS, "max_replicas"),
            (_TARGET_UTILIZATION, "target_utilization"),
            (_INSTANCE_COUNT, "instance_count"),
        ):
            m = pattern.search(message)
            if m:
                setattr(sc, attr, int(m.group(1)))

    def _feed_scaling(self, kind: str, fields: dict, message: str) -> None:
        """Read HPA status, conditions and rescale events."""
        sc = self.scaling
        if kind == EventKind.HPA_STATUS:
            for name in (
                "min_replicas",
                "max_replicas",
                "current_replicas",
                "desired_replicas",
                "utilization",
                "target_utilization",
                "metric",
            ):
                value = fields.get(name)
                if value is not None:
                    setattr(sc, name, value)
            if fields.get("utilization") is None and fields.get("metrics_unknown"):
                sc.utilization = None
            sc.metrics_unknown = bool(fields.get("metrics_unknown")) or sc.metrics_unknown
            for name in ("current_replicas", "desired_replicas"):
                if isinstance(fields.get(name), int):
                    sc.seen(fields[name])
            if fields.get("hpa"):
                sc.source = f"HorizontalPodAutoscaler {fields['hpa']}"
        elif kind == EventKind.HPA_CONDITION:
            cond, status = fields.get("condition"), fields.get("status_value")
            if cond == "ScalingLimited":
                sc.limited_at_max = status == "True" and fields.get("reason") == "TooManyReplicas"
            elif cond == "ScalingActive" and status == "False":
                sc.metrics_unknown = True
        else:
            reason = fields.get("reason")
            if reason == "SuccessfulRescale" and (m := _NEW_SIZE.search(message)):
                sc.current_replicas = int(m.group(1))
                sc.seen(sc.current_replicas)
                if not sc.source:
                    sc.source = "HPA rescale events"
            elif reason in _HPA_METRIC_FAILURES:
                sc.metrics_unknown = True

    def _feed_worker_settings(self, message: str, event: Event) -> None:
        """Read worker count and timeout from banners, command lines and gunicorn's configuration dump."""
        for pattern in (_WORKER_COUNT, _GUNICORN_WORKERS, _CONFIG_WORKERS):
            m = pattern.search(message)
            if m:
                self._set("worker_count", int(m.group(1)), event)
        for pattern in (_WORKER_TIMEOUT, _GUNICORN_TIMEOUT, _CONFIG_TIMEOUT):
            m = pattern.search(message)
            if m:
                self._set("worker_timeout_s", int(m.group(1)), event)

    def _feed_access(self, event: Event) -> None:
        """Count statuses, sample durations and count requests per second."""
        status = event.fields.get("status")
        if isinstance(status, int):
            self.statuses[status] += 1
        duration = event.fields.get("duration_ms")
        if isinstance(duration, (int, float)) and math.isfinite(duration):
            self.duration_count += 1
            self.duration_max_ms = max(self.duration_max_ms, float(duration))
            if isinstance(status, int) and status < 400:
                self.ok_duration_max_ms = max(self.ok_duration_max_ms, float(duration))
            if len(self.durations_ms) < SAMPLE_SIZE:
                self.durations_ms.append(float(duration))
            else:
                # Deterministic thinning keeps the sample spread over the whole input.
                self.durations_ms[self.duration_count % SAMPLE_SIZE] = float(duration)
        ts = event.timestamp
        if ts is not None:
            start = self._second
            # Same tzinfo object: the comparison is cheap and never mixes naive with aware times.
            if start is not None and ts.tzinfo is start.tzinfo and start <= ts < self._second_end:  # type: ignore[operator]
                self._second_n += 1
            else:
                self._count_second()
                start = self._second = ts.replace(microsecond=0)
                self._second_end = start + _ONE_SECOND
                self._second_n = 1

    def _count_second(self) -> None:
        """Add the second being counted to per_second, keeping the busiest seconds only (flat memory)."""
        if self._second is None:
            return
        self.per_second[self._second] += self._second_n
        self._second, self._second_n = None, 0
        if len(self.per_second) > 4096:
            for key, _ in self.per_second.most_common()[2048:]:
                del self.per_second[key]

    @property
    def platforms(self) -> tuple[Platform, ...]:
        """Return the platforms the logs reveal, most evident first.

        A family (azureml-v1) is left out when one of its sub-platforms (azureml-v1-aks) is named: the
        sub-platform says more. Its votes go to the sub-platform, so the order stays by evidence.
        """
        votes = Counter(self.platform_votes)
        for family in (V1, V2):
            subs = [p for p in family.sub_platforms if votes.get(p)]
            if subs and family in votes:
                share = votes.pop(family)
                for p in subs:
                    votes[p] += share
        ordered = [p for p, _ in sorted(votes.items(), key=lambda kv: (-kv[1], list(Platform).index(kv[0])))]
        return tuple(ordered)

    @property
    def peak_rps(self) -> int | None:
        """Return the largest number of requests seen in one second, if access lines had times."""
        self._count_second()
        return max(self.per_second.values()) if self.per_second else None

    @property
    def median_duration_ms(self) -> float | None:
        """Return the median request duration from the sample, if any."""
        if not self.durations_ms:
            return None
        ordered = sorted(self.durations_ms)
        return ordered[len(ordered) // 2]
