"""Compute current and suggested values of knobs from what the logs show.

Defaults come from the vendor docs named beside each value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from diagnoser.plan.observe import Observations

GIB = 2**30
DEFAULT_TARGET_UTILIZATION = 0.7  # autoscale_target_utilization default 70 % (seed page, "HTTP 503")
# Timeouts by knob, with their documented defaults:
# - gunicorn --timeout: 30 s (https://docs.gunicorn.org/en/stable/settings.html#timeout)
# - azmlinfsrv WORKER_TIMEOUT: 300 s (azureml_inference_server_http/constants.py DEFAULT_WORKER_TIMEOUT_SECONDS)
# - AksWebservice scoring_timeout_ms: 60000 ms (seed page, "HTTP 504": one minute)
# - v2 request_settings.request_timeout_ms: 5000 ms
#   (https://learn.microsoft.com/azure/machine-learning/reference-yaml-deployment-managed-online)
# - azmlinfsrv SCORING_TIMEOUT_MS: 3600000 ms (azureml_inference_server_http/server/config.py)
TIMEOUT_KNOBS: dict[str, tuple[str, int]] = {
    "--timeout": ("s", 30),
    "timeout": ("s", 30),
    "WORKER_TIMEOUT": ("s", 300),
    "scoring_timeout_ms": ("ms", 60000),
    "request_settings.request_timeout_ms": ("ms", 5000),
    "request_timeout_ms": ("ms", 5000),
    "SCORING_TIMEOUT_MS": ("ms", 3600000),
    # https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#custom-timeouts
    "nginx.ingress.kubernetes.io/proxy-read-timeout": ("s", 60),
}


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A knob's current value (if the logs show it), a suggested value, and the reasoning."""

    current: str | None
    suggested: str | None
    reasoning: str


@dataclass(frozen=True, slots=True)
class ReplicaInputs:
    """What the replica formula needs; None where neither the user nor the logs say."""

    target_rps: float | None = None
    request_seconds: float | None = None
    max_requests_per_container: int = 1
    target_utilization: float | None = None


def replicas_needed(target_rps: float, request_seconds: float, utilization: float, max_per_container: int) -> int:
    """Return ceil(target_rps * request_seconds / utilization / max_per_container), the seed page's formula."""
    concurrent = target_rps * request_seconds / utilization
    return max(1, math.ceil(round(concurrent / max_per_container, 9)))


def _fmt_number(value: float) -> str:
    """Return `value` without a trailing .0."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# A process killed at its limit never shows its full need: doubling is a floor, not an estimate.
_MEMORY_WHY = "at least double the limit the workers hit; double again while the kills continue"


def suggest_memory(knob: str, obs: Observations) -> Suggestion:
    """Suggest doubling the memory limit the logs show."""
    if knob == "memory_gb":
        current_gb = obs.memory_gb
        if current_gb is None and obs.memory_limit_bytes:
            current_gb = obs.memory_limit_bytes / GIB
        if current_gb is None:
            return Suggestion(None, None, "the logs do not show the limit: raise it in steps (for example double it)")
        suggested = math.ceil(current_gb * 2 * 10) / 10
        return Suggestion(_fmt_number(round(current_gb, 2)), _fmt_number(suggested), _MEMORY_WHY)
    limit = obs.memory_limit_bytes
    if limit is None and obs.memory_gb is not None:
        limit = int(obs.memory_gb * GIB)
    if limit is None:
        return Suggestion(None, None, "the logs do not show the limit: raise it in steps (for example double it)")
    doubled_mi = math.ceil(limit * 2 / 2**20)
    unit_gi = doubled_mi % 1024 == 0
    if knob.startswith("--memory") or knob == "memory":
        current = f"{limit // 2**20}m"
        suggested = f"{doubled_mi // 1024}g" if unit_gi else f"{doubled_mi}m"
    else:
        current = f"{limit / GIB:g}Gi" if limit % GIB == 0 else f"{limit // 2**20}Mi"
        suggested = f"{doubled_mi // 1024}Gi" if unit_gi else f"{doubled_mi}Mi"
    return Suggestion(current, suggested, _MEMORY_WHY)


def suggest_timeout(knob: str, obs: Observations) -> Suggestion:
    """Suggest a timeout in the knob's unit: at least double the one that fired, and above the slowest success.

    A request cut off by the timeout never shows how long it needed (its logged duration is the
    timeout itself), so the only safe statement is a lower bound: double it, and again while
    timeouts continue. Requests that succeeded do show their duration.
    """
    unit, default = TIMEOUT_KNOBS.get(knob, ("s", 30))
    current_value: int | None = None
    if unit == "s" and knob in ("--timeout", "timeout", "WORKER_TIMEOUT") and obs.worker_timeout_s is not None:
        current_value = obs.worker_timeout_s
    elif unit == "ms" and knob == "SCORING_TIMEOUT_MS" and obs.scoring_timeout_ms is not None:
        current_value = obs.scoring_timeout_ms
    if current_value is not None:
        current: str | None = str(current_value)
        base = current_value
        why = f"at least double the {current_value} {unit} that fired; double again while timeouts continue"
    elif knob in ("--timeout", "timeout"):
        current, base = None, default  # gunicorn does not log its timeout
        why = (
            f"gunicorn does not log its timeout (default {default} s): at least double the one you set, "
            "and again while WORKER TIMEOUT continues"
        )
    else:
        current, base = f"{default} (default)", default
        why = f"at least double the default {default} {unit}; double again while timeouts continue"
    target = base * 2
    if obs.ok_duration_max_ms > 0:
        slowest = obs.ok_duration_max_ms if unit == "ms" else obs.ok_duration_max_ms / 1000
        needed = math.ceil(slowest * 1.5)
        if needed > target:
            target = needed
            why = f"1.5x the slowest successful request ({_fmt_number(round(slowest, 3))} {unit})"
    return Suggestion(current, str(target), why)


def suggest_replicas(obs: Observations, inputs: ReplicaInputs) -> Suggestion:
    """Apply the seed page's replica formula to measured or given rates and latencies."""
    rps = inputs.target_rps if inputs.target_rps is not None else obs.peak_rps
    seconds = inputs.request_seconds
    if seconds is None and obs.median_duration_ms is not None:
        seconds = obs.median_duration_ms / 1000
    utilization = inputs.target_utilization or DEFAULT_TARGET_UTILIZATION
    per = max(1, inputs.max_requests_per_container)
    if rps is None or seconds is None or seconds <= 0:
        missing = [n for n, v in (("--target-rps", rps), ("--request-seconds", seconds)) if v is None]
        return Suggestion(None, None, f"pass {' and '.join(missing)} to compute the replica count")
    n = replicas_needed(rps, seconds, utilization, per)
    why = (
        f"ceil({_fmt_number(rps)} rps x {_fmt_number(round(seconds, 3))} s / {_fmt_number(utilization)} "
        f"/ {per} per container) = {n}"
    )
    return Suggestion(None, str(n), why)


def suggest_workers(obs: Observations) -> Suggestion:
    """Suggest fewer workers when several share a memory limit."""
    current = obs.worker_count
    if current is None:
        return Suggestion(None, None, "each worker loads its own copy of the model: fewer workers need less memory")
    if current <= 1:
        return Suggestion(str(current), None, "a single worker already: raise the memory limit instead")
    return Suggestion(str(current), str(max(1, current // 2)), "halve the workers that each load the model")
