"""Compute current and suggested values of knobs from what the logs show.

A value the logs show is `observed`; where they do not, the knob's documented default on the platform
(plan/defaults.py) is the value in force and is marked `default`, with its docs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from diagnoser.model import Evidence, Platform, ValueSource
from diagnoser.options import ReplicaInputs
from diagnoser.plan.catalogue import Suggester
from diagnoser.plan.defaults import KnobDefault, default_for
from diagnoser.plan.observe import Observations

GIB = 2**30
DEFAULT_TARGET_UTILIZATION = 0.7  # autoscale_target_utilization default 70 % (seed page, "HTTP 503")
# The unit each timeout knob is written in (defaults and their sources: plan/defaults.py).
TIMEOUT_UNITS: dict[str, str] = {
    "--timeout": "s",
    "timeout": "s",
    "WORKER_TIMEOUT": "s",
    "scoring_timeout_ms": "ms",
    "request_settings.request_timeout_ms": "ms",
    "request_timeout_ms": "ms",
    "SCORING_TIMEOUT_MS": "ms",
    "nginx.ingress.kubernetes.io/proxy-read-timeout": "s",
}


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A knob's current value and where it comes from, a suggested value, and the reasoning."""

    current: str | None
    suggested: str | None
    reasoning: str
    current_source: ValueSource | None = None
    current_docs: str | None = None  # the page documenting a default current value
    quote: Evidence | None = None  # the line an observed or inferred current value was read from


def _observed(
    value: object, suggested: str | None, reasoning: str, quote: Evidence | None = None
) -> Suggestion:
    return Suggestion(str(value), suggested, reasoning, ValueSource.OBSERVED, quote=quote)


def _defaulted(default: KnobDefault, suggested: str | None, reasoning: str) -> Suggestion:
    return Suggestion(default.value, suggested, reasoning, ValueSource.DEFAULT, default.docs)


def replicas_needed(
    target_rps: float, request_seconds: float, utilization: float, max_per_container: int
) -> int:
    """Return ceil(target_rps * request_seconds / utilization / max_per_container) (the seed page)."""
    concurrent = target_rps * request_seconds / utilization
    return max(1, math.ceil(round(concurrent / max_per_container, 9)))


def _fmt_number(value: float) -> str:
    """Return `value` without a trailing .0."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# A process killed at its limit never shows its full need: doubling is a floor, not an estimate.
_MEMORY_WHY = "at least double the limit the workers hit; double again while the kills continue"
_NO_LIMIT = "the logs do not show the limit: raise it in steps (for example double it)"


def suggest_memory(knob: str, obs: Observations, platform: Platform | None = None) -> Suggestion:
    """Suggest doubling the memory limit the logs show (or the documented default where they show none)."""
    if knob == "memory_gb":
        current_gb = obs.memory_gb
        if current_gb is None and obs.memory_limit_bytes:
            current_gb = obs.memory_limit_bytes / GIB
        if current_gb is None:
            default = default_for(knob, platform)
            if default is None:
                return Suggestion(None, None, _NO_LIMIT)
            doubled = _fmt_number(math.ceil(float(default.value) * 2 * 10) / 10)
            why = (
                f"the logs do not show memory_gb; the default for {default.applies_to} is {default.value}: "
                f"at least double what is set ({doubled} if you kept the default)"
            )
            return _defaulted(default, doubled, why)
        doubled_gb = math.ceil(current_gb * 2 * 10) / 10
        quote = obs.quotes.get("memory_gb" if obs.memory_gb is not None else "memory_limit_bytes")
        return _observed(_fmt_number(round(current_gb, 2)), _fmt_number(doubled_gb), _MEMORY_WHY, quote)
    limit = obs.memory_limit_bytes
    if limit is None and obs.memory_gb is not None:
        limit = int(obs.memory_gb * GIB)
    if limit is None:
        return Suggestion(None, None, _NO_LIMIT)
    doubled_mi = math.ceil(limit * 2 / 2**20)
    unit_gi = doubled_mi % 1024 == 0
    if knob.startswith("--memory") or knob == "memory":
        current = f"{limit // 2**20}m"
        suggested = f"{doubled_mi // 1024}g" if unit_gi else f"{doubled_mi}m"
    else:
        current = f"{limit / GIB:g}Gi" if limit % GIB == 0 else f"{limit // 2**20}Mi"
        suggested = f"{doubled_mi // 1024}Gi" if unit_gi else f"{doubled_mi}Mi"
    quote = obs.quotes.get("memory_limit_bytes" if obs.memory_limit_bytes is not None else "memory_gb")
    return _observed(current, suggested, _MEMORY_WHY, quote)


# The Observations attribute that holds each timeout knob's value.
_TIMEOUT_ATTRS = {
    "--timeout": "worker_timeout_s",
    "timeout": "worker_timeout_s",
    "WORKER_TIMEOUT": "worker_timeout_s",
    "SCORING_TIMEOUT_MS": "scoring_timeout_ms",
    "scoring_timeout_ms": "aks_scoring_timeout_ms",
    "request_settings.request_timeout_ms": "request_timeout_ms",
    "request_timeout_ms": "request_timeout_ms",
    "nginx.ingress.kubernetes.io/proxy-read-timeout": "proxy_read_timeout_s",
}


def _observed_timeout(knob: str, obs: Observations) -> int | None:
    """Return the value of a timeout knob the logs show, in the knob's unit."""
    attr = _TIMEOUT_ATTRS.get(knob)
    value = getattr(obs, attr) if attr else None
    return value if isinstance(value, int) else None


def suggest_timeout(knob: str, obs: Observations, platform: Platform | None = None) -> Suggestion:
    """Suggest a timeout in the knob's unit: at least double the one in force, and above the slowest success.

    A request cut off by the timeout never shows how long it needed (its logged duration is the
    timeout itself), so the only safe statement is a lower bound: double it, and again while
    timeouts continue. Requests that succeeded do show their duration. Where the platform documents
    a maximum (managed online endpoints 180000 ms, AKS 300000 ms), the suggestion stops there.
    """
    unit = TIMEOUT_UNITS.get(knob, "s")
    default = default_for(knob, platform)
    observed = _observed_timeout(knob, obs)
    if observed is not None:
        base = observed
        why = f"at least double the {observed} {unit} that fired; double again while timeouts continue"
    elif default is not None:
        base = int(default.value)
        if knob in ("--timeout", "timeout"):
            why = (
                f"gunicorn does not log its timeout (default {default.value} s): at least double the one you "
                "set, and again while WORKER TIMEOUT continues"
            )
        else:
            why = (
                f"the logs do not show {knob}; the default for {default.applies_to} is "
                f"{default.value} {unit}: "
                "at least double the one in force; double again while timeouts continue"
            )
    else:
        return Suggestion(None, None, f"the logs do not show {knob}: raise it above the slowest request")
    target = base * 2
    if obs.ok_duration_max_ms > 0:
        slowest = obs.ok_duration_max_ms if unit == "ms" else obs.ok_duration_max_ms / 1000
        needed = math.ceil(slowest * 1.5)
        if needed > target:
            target = needed
            why = f"1.5x the slowest successful request ({_fmt_number(round(slowest, 3))} {unit})"
    suggested: str | None = str(target)
    maximum = default.maximum if default is not None else None
    if default is not None and maximum is not None and target > maximum:
        if base >= maximum:
            suggested = None
            why = (
                f"{knob} is already at the documented maximum {maximum} {unit} for {default.applies_to}: "
                "make run() faster (or move the slow work out of the request)"
            )
        else:
            suggested = str(maximum)
            why += f"; capped at the documented maximum {maximum} {unit} for {default.applies_to}"
    if observed is not None:
        return _observed(observed, suggested, why, obs.quotes.get(_TIMEOUT_ATTRS[knob]))
    assert default is not None
    return _defaulted(default, suggested, why)


def replica_role(knob: str) -> str:
    """Return which replica setting a knob is: 'max', 'target' or 'min' (minimum or fixed count)."""
    k = knob.lower()
    if "max" in k:
        return "max"
    if "target" in k or "utilization" in k:
        return "target"
    return "min"


def _formula(obs: Observations, inputs: ReplicaInputs) -> tuple[int | None, str]:
    """Return the seed page's replica count and its arithmetic, or None and what is missing."""
    rps = inputs.target_rps if inputs.target_rps is not None else obs.peak_rps
    seconds = inputs.request_seconds
    if seconds is None and obs.median_duration_ms is not None:
        seconds = obs.median_duration_ms / 1000
    utilization = inputs.target_utilization
    if utilization is None and obs.scaling.target_utilization:
        utilization = obs.scaling.target_utilization / 100
    utilization = utilization or DEFAULT_TARGET_UTILIZATION
    per = max(1, inputs.max_requests_per_container)
    if rps is None or seconds is None or seconds <= 0:
        missing = [n for n, v in (("--target-rps", rps), ("--request-seconds", seconds)) if v is None]
        return None, f"pass {' and '.join(missing)} to compute the replica count"
    n = replicas_needed(rps, seconds, utilization, per)
    why = (
        f"ceil({_fmt_number(rps)} rps x {_fmt_number(round(seconds, 3))} s / {_fmt_number(utilization)} "
        f"/ {per} per container) = {n}"
    )
    return n, why


def _replica_current(
    knob: str, role: str, obs: Observations, platform: Platform | None
) -> tuple[int | None, Suggestion | None]:
    """Return the knob's current count and a Suggestion carrying only its current value and source."""
    sc = obs.scaling
    value = {"max": sc.max_replicas, "min": sc.min_replicas}.get(role)
    if "instance_count" in knob and sc.instance_count is not None:
        value = sc.instance_count
    if knob == "replicas":  # the generic step: the replicas running, however they are set
        running = (sc.current_replicas, sc.instance_count, sc.min_replicas)
        value = next((v for v in running if v is not None), None)
    if value is not None:
        return value, _observed(value, None, "")
    default = default_for(knob, platform)
    if default is not None:
        return int(default.value), _defaulted(default, None, "")
    return None, None


def suggest_replicas(
    obs: Observations, inputs: ReplicaInputs, knob: str = "replicas", platform: Platform | None = None
) -> Suggestion:
    """Suggest a replica count for `knob` from the seed page's formula and the autoscaler's own state.

    - minimum (or fixed count): the formula's count; without the numbers it needs, the most replicas
      the autoscaler reached under this load (keeping them ready absorbs the next spike);
    - maximum: when the autoscaler is pinned at its maximum (ScalingLimited TooManyReplicas, or as
      many replicas as the maximum with utilisation above target), this is the knob: the HPA's own rule
      ceil(replicas x utilisation / target) says how many it wanted, the formula may say more; where
      neither is known, double the maximum (a floor, as for memory). Otherwise raise it only when the
      formula needs more than it allows.
    """
    sc = obs.scaling
    role = replica_role(knob)
    n, formula_why = _formula(obs, inputs)
    current, base = _replica_current(knob, role, obs, platform)
    seen = f" ({sc.describe()})" if sc.observed else ""
    if role == "target":
        why = "lower the target so replicas are added earlier; the formula above uses it"
        return _with(base, None, why)
    if role == "max":
        if sc.pinned_at_max:
            wanted = max(v for v in (sc.hpa_need, n, 0) if v is not None)
            pieces = [f"the autoscaler is pinned at its maximum{seen}: this is the knob to raise"]
            if sc.hpa_need is not None:
                pieces.append(
                    f"the HPA's rule ceil({sc.current_replicas or sc.desired_replicas} x {sc.utilization}% / "
                    f"{sc.target_utilization}%) = {sc.hpa_need}"
                )
            if n is not None:
                pieces.append(formula_why)
            if current is not None and wanted <= current:
                wanted = current * 2
                pieces.append(f"at least double the maximum {current} while it stays pinned")
            return _with(base, str(wanted) if wanted else None, "; ".join(pieces))
        if n is not None and current is not None and n > current:
            return _with(base, str(n), f"{formula_why}: the maximum must allow it{seen}")
        if n is not None and current is None:
            return _with(base, None, f"{formula_why}: the maximum must allow at least that{seen}")
        if n is not None:
            return _with(
                base, None, f"{formula_why}, within the maximum {current}: raise the minimum instead{seen}"
            )
        return _with(base, None, f"raise it if the service already runs at its maximum{seen}; {formula_why}")
    # minimum or fixed count: the formula, or the most replicas the autoscaler needed, whichever is more
    peak = sc.peak_replicas
    need, why = n, formula_why
    if peak is not None and (n is None or peak > n):
        need = peak
        why = f"the autoscaler needed {peak} replicas under this load: keep them ready ({formula_why})"
    if need is None:
        return _with(base, None, why + seen)
    if sc.max_replicas is not None and need > sc.max_replicas and "instance_count" not in knob:
        why += f"; above the maximum {sc.max_replicas}: raise the maximum too"
    if current is not None and need <= current:
        return _with(base, None, f"{why}: {current} already covers it{seen}")
    return _with(base, str(need), why + seen)


def _with(base: Suggestion | None, suggested: str | None, why: str) -> Suggestion:
    """Return `base`'s current value and source with `suggested` and `why`."""
    if base is None:
        return Suggestion(None, suggested, why)
    return Suggestion(base.current, suggested, why, base.current_source, base.current_docs, base.quote)


def suggest_workers(
    obs: Observations, knob: str = "WORKER_COUNT", platform: Platform | None = None
) -> Suggestion:
    """Suggest fewer workers when several share a memory limit; none below one (plan drops the step)."""
    why = "each worker loads its own copy of the model: halve the workers that each load it"
    if obs.worker_count is not None:
        current = obs.worker_count
        suggested = str(current // 2) if current > 1 else None
        return _observed(current, suggested, why, obs.quotes.get("worker_count"))
    if obs.initial_boots > 1:
        n = obs.initial_boots
        inferred = f"{n} workers booted together at start; {why}"
        quote = obs.quotes.get("initial_boots")
        return Suggestion(str(n), str(n // 2), inferred, ValueSource.INFERRED, quote=quote)
    default = default_for(knob, platform)
    if default is None:
        return Suggestion(None, None, why)
    why = f"the logs do not show the worker count; the default is {default.value}"
    return _defaulted(default, None, why)


# What each catalogue `suggest:` name computes, called as (knob, observations, platform, replica inputs).
SUGGESTERS: dict[Suggester, Callable[[str, Observations, Platform, ReplicaInputs], Suggestion]] = {
    Suggester.MEMORY: lambda knob, obs, platform, _: suggest_memory(knob, obs, platform),
    Suggester.TIMEOUT: lambda knob, obs, platform, _: suggest_timeout(knob, obs, platform),
    Suggester.REPLICAS: lambda knob, obs, platform, replicas: suggest_replicas(obs, replicas, knob, platform),
    Suggester.WORKERS: lambda knob, obs, platform, _: suggest_workers(obs, knob, platform),
}
