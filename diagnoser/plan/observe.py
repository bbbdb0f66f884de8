"""Observe every event for what the fix plan needs: the platform, and current values of knobs.

Values come only from what servers print; each pattern names its source.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from diagnoser.model import Event, Platform

# azmlinfsrv >= 0.8 banner (azureml_inference_server_http/amlserver.py): "Worker Count: 1",
# "Worker Timeout (seconds): 300"; AML base images also print WORKER_TIMEOUT / WORKER_COUNT.
_WORKER_COUNT = re.compile(r"\bworker[ _]count\b\)?\s*[:=]\s*(\d+)", re.I)
_WORKER_TIMEOUT = re.compile(r"\bworker[ _]timeout\b(?: \(seconds\))?\s*[:=]\s*(\d+)", re.I)
_GUNICORN_WORKERS = re.compile(r"(?:--workers|-w)[ =](\d+)\b")
_GUNICORN_TIMEOUT = re.compile(r"(?:--timeout|-t)[ =](\d+)\b")
# azmlinfsrv: "Scoring timeout is found from os.environ: 60000 ms" (old),
# "Scoring timeout setting is not found. Use default timeout: 3600000 ms", "Scoring timeout is set to 3600000".
_SCORING_TIMEOUT = re.compile(r"scoring[ _]timeout\b[^\d\n]{0,60}?(\d{3,9})\s*(?:ms)?", re.I)
# kubectl describe: "memory:  1Gi" under Limits; kernel: "memory: usage 1048576kB, limit 1048576kB".
_KERNEL_LIMIT = re.compile(r"memory: usage \d+kB, limit (\d+)kB")
_MEMORY_GB = re.compile(r"\bmemory_gb\s*[=:]\s*([\d.]+)")
_QUANTITY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?|[kmgt]b?|)\s*$", re.I)

_PLATFORM_WORDS: tuple[tuple[str, Platform], ...] = (
    ("AksWebservice", Platform.AZUREML_V1),
    ("AciWebservice", Platform.AZUREML_V1),
    ("azureml.core", Platform.AZUREML_V1),
    ("azureml-defaults", Platform.AZUREML_V1),
    ("isazuremlapp", Platform.AZUREML_V1),
    ("azureml-fe", Platform.AZUREML_V1),
    ("ManagedOnlineDeployment", Platform.AZUREML_V2),
    ("KubernetesOnlineDeployment", Platform.AZUREML_V2),
    ("online-deployment", Platform.AZUREML_V2),
    ("online endpoint", Platform.AZUREML_V2),
    ("azureml.ai.ml", Platform.AZUREML_V2),
    ("az ml online-", Platform.AZUREML_V2),
    ("inference-server", Platform.AZMLINFSRV),
    ("azmlinfsrv", Platform.AZMLINFSRV),
    ("Azure ML Inferencing HTTP server", Platform.AZMLINFSRV),
    ("/var/azureml-app", Platform.AZMLINFSRV),
)
# Format names as the parsers register them (docs/FORMATS.md).
_FORMAT_PLATFORMS = {
    "docker": Platform.DOCKER,
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
_COMPONENT_PLATFORMS = {
    "gunicorn": Platform.GUNICORN,
    "azmlinfsrv": Platform.AZMLINFSRV,
    "kubelet": Platform.KUBERNETES,
    "default-scheduler": Platform.KUBERNETES,
    "scheduler": Platform.KUBERNETES,
    "k8s": Platform.KUBERNETES,
    "azureml-fe": Platform.AZUREML_V1,
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
    scale = {"": 1, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}
    return int(number * scale[unit]) if unit in scale else None


@dataclass(slots=True)
class Observations:
    """Facts gathered while the events stream by (mutable, owned by one pipeline run)."""

    platform_votes: Counter[Platform] = field(default_factory=Counter)
    worker_count: int | None = None
    worker_timeout_s: int | None = None
    scoring_timeout_ms: int | None = None
    memory_limit_bytes: int | None = None
    memory_gb: float | None = None
    worker_boots: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    durations_ms: list[float] = field(default_factory=list)  # reservoir of access-line durations
    duration_count: int = 0
    duration_max_ms: float = 0.0
    ok_duration_max_ms: float = 0.0  # slowest request that succeeded: failed ones may have been cut short
    per_second: Counter[datetime] = field(default_factory=Counter)  # access lines per second (bounded)

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
        if kind == "access":
            self._feed_access(event)
        elif kind == "worker_boot":
            self.worker_boots += 1
        limit = fields.get("memory_limit")
        if isinstance(limit, str):  # the last limit seen is the one in force
            self.memory_limit_bytes = parse_memory(limit) or self.memory_limit_bytes
        if kind == "config":  # azmlinfsrv banner values, already typed by the parser
            for name in ("worker_count", "worker_timeout", "scoring_timeout_ms"):
                value = fields.get(name)
                if isinstance(value, int):
                    setattr(self, "worker_timeout_s" if name == "worker_timeout" else name, value)
        message = event.message
        lower = message[:2000].lower()
        if "azure" in lower or "aks" in lower or "online" in lower or "inferenc" in lower or "azmlinfsrv" in lower:
            for word, platform in _PLATFORM_WORDS:
                if word.lower() in lower:
                    self.platform_votes[platform] += 1
        if "worker" in lower or "--workers" in lower or "--timeout" in lower:
            self._feed_worker_settings(message)
        if "scoring" in lower and "timeout" in lower:
            m = _SCORING_TIMEOUT.search(message)
            if m:
                self.scoring_timeout_ms = int(m.group(1))
        if "limit" in lower and "memory" in lower:
            m = _KERNEL_LIMIT.search(message)
            if m:
                self.memory_limit_bytes = int(m.group(1)) * 1024
        if "memory_gb" in lower:
            m = _MEMORY_GB.search(message)
            if m:
                self.memory_gb = float(m.group(1))

    def _feed_worker_settings(self, message: str) -> None:
        """Read worker count and timeout from banners and command lines."""
        for pattern, attr in ((_WORKER_COUNT, "worker_count"), (_GUNICORN_WORKERS, "worker_count")):
            m = pattern.search(message)
            if m:
                setattr(self, attr, int(m.group(1)))
        for pattern in (_WORKER_TIMEOUT, _GUNICORN_TIMEOUT):
            m = pattern.search(message)
            if m:
                self.worker_timeout_s = int(m.group(1))

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
        if event.timestamp is not None:
            second = event.timestamp.replace(microsecond=0)
            self.per_second[second] += 1
            if len(self.per_second) > 4096:
                # Keep the busiest seconds only: memory stays flat on long inputs.
                for key, _ in self.per_second.most_common()[2048:]:
                    del self.per_second[key]

    @property
    def platforms(self) -> tuple[Platform, ...]:
        """Return the platforms the logs reveal, most evident first."""
        votes = self.platform_votes
        ordered = [p for p, _ in sorted(votes.items(), key=lambda kv: (-kv[1], list(Platform).index(kv[0])))]
        return tuple(ordered)

    @property
    def peak_rps(self) -> int | None:
        """Return the largest number of requests seen in one second, if access lines had times."""
        return max(self.per_second.values()) if self.per_second else None

    @property
    def median_duration_ms(self) -> float | None:
        """Return the median request duration from the sample, if any."""
        if not self.durations_ms:
            return None
        ordered = sorted(self.durations_ms)
        return ordered[len(ordered) // 2]
