"""Stage 4: merge findings of the same cause, score them, and order root causes before symptoms."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace

from diagnoser.detect.classifier import POSSIBLE_SUMMARY
from diagnoser.model import Evidence, Finding, Origin, Severity

MAX_EVIDENCE = 10
MAX_CONFIDENCE = 0.99
AGREEMENT = 0.3  # classifier probability at which it counts as agreeing with a rule
# The finding for a crash no documented cause explains (rules/crash-*.yaml): it stands only while no
# other cause of at least medium severity is named, and the classifier may still speak beside it.
FALLBACK = "unknown"


@dataclass(frozen=True, slots=True)
class Ranked:
    """All findings of one cause merged into one scored entry."""

    cause: str
    best: Finding  # the most confident finding; its rule, title and summary lead
    confidence: float
    severity: Severity
    origin: Origin
    evidence: tuple[Evidence, ...]
    rules: tuple[str, ...]
    supersedes: tuple[str, ...]


def _noisy_or(confidences: list[float]) -> float:
    """Combine independent detectors: 1 - prod(1 - c), capped below certainty."""
    miss = 1.0
    for c in confidences:
        miss *= 1.0 - min(max(c, 0.0), 1.0)
    return min(MAX_CONFIDENCE, 1.0 - miss)


def _merge_evidence(findings: list[Finding]) -> tuple[Evidence, ...]:
    """Merge evidence of several findings: one entry per line, best finding first, in input order."""
    seen: dict[tuple[str, int], Evidence] = {}
    for finding in findings:
        for ev in finding.evidence:
            key = (ev.source, ev.line)
            if key in seen:
                old = seen[key]
                names = old.matched + tuple(n for n in ev.matched if n not in old.matched)
                seen[key] = Evidence(old.source, old.line, old.text, names, old.timestamp)
            elif len(seen) < MAX_EVIDENCE:
                seen[key] = ev
    return tuple(sorted(seen.values(), key=lambda e: (e.source, e.line)))


def merge(findings: list[Finding]) -> list[Ranked]:
    """Merge findings by cause into ranked entries (unordered)."""
    by_cause: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_cause[f.cause].append(f)
    merged: list[Ranked] = []
    for cause, group in by_cause.items():
        group.sort(key=lambda f: (-f.confidence, -f.severity.rank, f.rule or ""))
        origins = {f.origin for f in group}
        origin = origins.pop() if len(origins) == 1 else Origin.BOTH
        merged.append(
            Ranked(
                cause=cause,
                best=group[0],
                confidence=round(_noisy_or([f.confidence for f in group]), 3),
                severity=max((f.severity for f in group), key=lambda s: s.rank),
                origin=origin,
                evidence=_merge_evidence(group),
                rules=tuple(f.rule for f in group if f.rule),
                supersedes=tuple(sorted({c for f in group for c in f.supersedes})),
            )
        )
    return merged


def order(entries: list[Ranked]) -> list[Ranked]:
    """Sort by (-severity, -confidence, cause), then move each superseded cause after its superseder."""
    ordered = sorted(entries, key=lambda r: (-r.severity.rank, -r.confidence, r.cause))
    present = {r.cause for r in ordered}
    superseders: dict[str, set[str]] = defaultdict(set)
    for r in ordered:
        for victim in r.supersedes:
            if victim in present and victim != r.cause:
                superseders[victim].add(r.cause)
    result: list[Ranked] = []
    placed: set[str] = set()
    pending = list(ordered)
    # Stable topological placement; a cycle (a supersedes b supersedes a) falls back to the score order.
    while pending:
        ready = (i for i, r in enumerate(pending) if superseders[r.cause] <= placed | {r.cause})
        r = pending.pop(next(ready, 0))
        result.append(r)
        placed.add(r.cause)
    return result


def combine(
    entries: list[Ranked], probabilities: Mapping[str, float], fallback: Finding | None
) -> list[Ranked]:
    """Fold the classifier into the rules' entries: agreement raises confidence, and when no rule
    named a cause (at most the unexplained-crash fallback fired) its own finding stands beside it."""
    out = []
    for entry in entries:
        p = probabilities.get(entry.cause, 0.0)
        if p >= AGREEMENT:
            entry = replace(entry, origin=Origin.BOTH, confidence=round(_noisy_or([entry.confidence, p]), 3))
        out.append(entry)
    if fallback is not None and all(e.cause == FALLBACK for e in entries):
        if (
            any(e.severity.rank >= Severity.HIGH.rank for e in entries)
            and fallback.severity.rank > Severity.LOW.rank
        ):
            # A rule saw the crash itself (an exit code, a crash loop, a fatal signal) and found no cause
            # for it: the classifier's word against that is only a lean, reported as "possible" beside
            # the unexplained crash, never above it. A mere error report (medium) does not outweigh it.
            fallback = replace(fallback, severity=Severity.LOW, summary=POSSIBLE_SUMMARY)
        out += merge([fallback])
    return out


def rank(
    findings: list[Finding],
    probabilities: Mapping[str, float] | None = None,
    classifier_finding: Finding | None = None,
) -> list[Ranked]:
    """Return merged findings, best first, root causes before the symptoms they explain."""
    entries = merge(findings)
    if probabilities is not None:
        entries = combine(entries, probabilities, classifier_finding)
    return _drop_explained(order(_explained(entries)))


# Causes that say why start-up failed. A start-up exception ranked after one of them is that failure seen
# from the program's side (the KeyError of a missing variable, the abort after an illegal instruction):
# a second diagnosis for it would send the reader to fix code that only reported the cause.
START_CAUSES = frozenset(
    {
        "config_missing",
        "missing_dependency",
        "model_not_found",
        "permission_denied",
        "dependency_unreachable",
        "gpu_out_of_memory",
        "gpu_unavailable",
        "illegal_instruction",
        "port_in_use",
    }
)
# A cause ranked after one that explains it is dropped: the scheduler's "unbound immediate
# PersistentVolumeClaims" is the volume's failure.
EXPLAINED_BY: dict[str, frozenset[str]] = {
    "init_exception": START_CAUSES,
    "scheduling_failure": frozenset({"volume_mount_failure"}),
}
# ... unless its finding captured this: a scheduler message that also names a resource no node has.
KEPT_WHEN_CAPTURED: dict[str, str] = {"scheduling_failure": "resource"}


def _drop_explained(ordered: list[Ranked]) -> list[Ranked]:
    """Drop a cause ranked after one that explains it (EXPLAINED_BY), unless KEPT_WHEN_CAPTURED says."""
    out: list[Ranked] = []
    for r in ordered:
        explainers = EXPLAINED_BY.get(r.cause, frozenset())
        kept = KEPT_WHEN_CAPTURED.get(r.cause)
        if any(o.cause in explainers for o in out) and not (kept and r.best.values.get(kept)):
            continue
        out.append(r)
    return out


def _explained(entries: list[Ranked]) -> list[Ranked]:
    """Drop the unexplained-crash fallback when another cause of at least medium severity explains it."""
    if any(e.cause != FALLBACK and e.severity.rank >= Severity.MEDIUM.rank for e in entries):
        return [e for e in entries if e.cause != FALLBACK]
    return entries
