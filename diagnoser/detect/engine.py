"""Streaming rule engine: feed events in input order, then finish() to get one Finding per fired rule.

Memory is bounded: per matcher the engine keeps exact counts but only the first and last `keep`
hits. Conditions are evaluated once, in finish(), over those hits (detect/evaluate.py). Which
matchers run on an event is the prefilter index's answer (detect/index.py); the matchers
themselves are compiled in detect/matchers.py, and summaries filled in detect/templates.py.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime

from diagnoser.detect.evaluate import Hit, fired, pick_evidence
from diagnoser.detect.index import MatcherIndex
from diagnoser.detect.matchers import Captures
from diagnoser.detect.rules import Rule
from diagnoser.detect.templates import summary
from diagnoser.model import Event, Evidence, Finding, Origin


class _RuleState:
    """Counts and bounded hit samples of one rule's matchers."""

    __slots__ = ("counts", "first", "last", "masks", "captures")

    def __init__(self, n: int, keep: int):
        self.counts = [0] * n
        self.first: list[list[Hit]] = [[] for _ in range(n)]
        self.last: list[deque[Hit]] = [deque(maxlen=keep) for _ in range(n)]
        self.masks: dict[int, int] = {}  # matcher bitmask of a hit -> how many events hit exactly those
        self.captures: dict[str, str] = {}


def _epoch(ts: datetime) -> float:
    """Return `ts` in epoch seconds (a naive time is taken as UTC)."""
    return (ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)).timestamp()


class Engine:
    """Run rules over a stream of events; memory stays bounded whatever the input size."""

    def __init__(self, rules: Sequence[Rule], keep: int = 64, prefilter: bool = True):
        self.rules = tuple(rules)
        self.keep = keep
        self.events = 0
        self.prefilter = prefilter
        self._last_ts: dict[str, datetime] = {}  # per source: the last timestamp seen
        self._states = [_RuleState(len(r.matchers), keep) for r in self.rules]
        index = MatcherIndex(self.rules)
        self._candidates = index.candidates  # bound once: called for every event
        self._every = index.every  # the unfiltered path (prefilter=False) runs every matcher

    def feed(self, event: Event) -> None:
        """Match one event (call in input order)."""
        self.events += 1
        seq = self.events
        when = event.timestamp
        if when is not None:
            self._last_ts[event.source] = when
        else:
            when = self._last_ts.get(event.source)
        candidates = self._candidates(event) if self.prefilter else self._every
        if not candidates:
            return
        masks: dict[int, int] = {}
        caps_by_rule: dict[int, Captures] = {}
        for cm in candidates:
            caps = cm.run(event)
            if caps is None:
                continue
            masks[cm.rule] = masks.get(cm.rule, 0) | cm.bit
            if caps:
                caps_by_rule.setdefault(cm.rule, {}).update(caps)
        if not masks:
            return
        t = _epoch(when) if when is not None else None  # only events that hit need it
        for ri, mask in masks.items():
            self._record(ri, mask, seq, t, when, event, caps_by_rule.get(ri))

    def _record(
        self,
        ri: int,
        mask: int,
        seq: int,
        t: float | None,
        when: datetime | None,
        ev: Event,
        caps: Captures | None,
    ) -> None:
        """Count a hit of rule `ri`'s matchers in `mask` and keep it if among the first or last `keep`."""
        state = self._states[ri]
        hit = Hit(seq, t, when, ev, mask)
        masks = state.masks
        masks[mask] = masks.get(mask, 0) + 1
        if caps:
            state.captures.update(caps)
        if not mask & (mask - 1):  # one matcher of the rule: the usual case
            i = mask.bit_length() - 1
            state.counts[i] += 1
            first = state.first[i]
            if len(first) < self.keep:
                first.append(hit)
            else:
                state.last[i].append(hit)
            return
        i = 0
        while mask:
            if mask & 1:
                state.counts[i] += 1
                if len(state.first[i]) < self.keep:
                    state.first[i].append(hit)
                else:
                    state.last[i].append(hit)
            mask >>= 1
            i += 1

    def finish(self) -> list[Finding]:
        """Evaluate every rule's condition and return one Finding per rule that fired."""
        findings: list[Finding] = []
        for rule, state in zip(self.rules, self._states, strict=True):
            finding = _finding(rule, state)
            if finding is not None:
                findings.append(finding)
        return findings


def _finding(rule: Rule, state: _RuleState) -> Finding | None:
    """Return the rule's Finding when its condition holds over the state it kept, else None."""
    names = rule.matcher_names
    hits = {n: state.first[i] + list(state.last[i]) for i, n in enumerate(names)}
    witness = fired(rule, state.counts, hits)
    if witness is None:
        return None
    positive = {n for n, _ in witness}
    bits = 0
    for i, n in enumerate(names):
        if n in positive:
            bits |= 1 << i
    count = sum(c for m, c in state.masks.items() if m & bits)  # events that hit a positive matcher
    evidence = tuple(
        Evidence(
            source=h.source,
            line=h.line,
            text=h.text,
            matched=tuple(n for i, n in enumerate(names) if h.mask >> i & 1),
            timestamp=h.timestamp,
        )
        for h in pick_evidence(witness)
    )
    times = [h.when for n in positive for h in hits[n] if h.when is not None]
    first_time = min(times, key=_epoch) if times else None
    last_time = max(times, key=_epoch) if times else None
    values = dict(state.captures)
    return Finding(
        cause=rule.cause,
        rule=rule.id,
        origin=Origin.RULE,
        severity=rule.severity,
        confidence=rule.confidence,
        title=rule.title,
        summary=summary(rule, state.counts, values, count, first_time, last_time),
        evidence=evidence,
        count=count,
        values=values,
        supersedes=rule.supersedes,
    )
