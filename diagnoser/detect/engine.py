"""Streaming rule engine: feed events in input order, then finish() to get one Finding per fired rule.

Memory is bounded: per matcher the engine keeps exact counts but only the first and last `keep`
hits. Conditions are evaluated once, in finish(), over those hits (detect/evaluate.py). Which
matchers run on an event is the prefilter index's answer (detect/index.py); the matchers
themselves are compiled in detect/matchers.py, and summaries filled in detect/templates.py.

A failing service repeats itself: a crash loop logs the same few lines with new pids and counts, and
each of its lines is a candidate for many matchers. What the candidates make of an event is remembered
per shape of what they read: each field with the digits their tests do not tell apart rewritten as one
(matchers.test_named_digits), so `WORKER TIMEOUT (pid:7)` and `(pid:9)` are one question, asked once
(`_Alike`). Captures are still each event's own: read at the spans they had, or matched again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from diagnoser.detect.evaluate import Hit, fired, pick_evidence
from diagnoser.detect.index import MatcherIndex
from diagnoser.detect.matchers import Captures, CompiledMatcher, alike_table
from diagnoser.detect.rules import Rule
from diagnoser.detect.templates import summary
from diagnoser.model import Event, Evidence, Finding, Origin

# A hit as kept while reading: (seq, t, when, event, mask), made a Hit only for the conditions in
# finish() (a crash loop's lines each hit several rules: a tuple is a fifth of the cost of a Hit).
_Kept = tuple[int, float | None, datetime | None, Event, int]


class _RuleState:
    """Counts and bounded hit samples of one rule's matchers."""

    __slots__ = ("counts", "first", "last", "masks", "captures")

    def __init__(self, n: int, keep: int):
        self.counts = [0] * n
        self.first: list[list[_Kept]] = [[] for _ in range(n)]
        self.last: list[deque[_Kept]] = [deque(maxlen=keep) for _ in range(n)]
        self.masks: dict[int, int] = {}  # matcher bitmask of a hit -> how many events hit exactly those
        self.captures: dict[str, str] = {}


def _epoch(ts: datetime) -> float:
    """Return `ts` in epoch seconds (a naive time is taken as UTC)."""
    return (ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)).timestamp()


MAX_ALIKE = 16384  # remembered shapes of events: forgotten all at once when full
# Events with candidates matched before shapes are remembered: reading what each matcher tells apart
# parses its regexes, a cost a short log (start-up budget) should not pay for nothing.
ALIKE_AFTER = 256
ALIKE_WINDOW = 256  # shapes looked up for one list of candidates before judging whether they repeat
ALIKE_REST = 4096  # events a list of candidates whose shapes did not repeat goes without looking them up
MAX_ALIKE_TEXT = 512  # longer texts (tracebacks) seldom repeat: not remembered
_LONG = object()  # a value too long to remember

# Where a matcher captured in an event: the getter of the text it read and each group's span in it, or
# None when it is to run again (more than one test or pattern): what it captures is each event's own.
_Spans = tuple[Callable[[Event], Any], tuple[tuple[str, int, int], ...]] | None
# What the candidate matchers of an event made of it: per rule, the mask of those that hold; and the
# matchers that captured, in candidate order, with where.
_Outcome = tuple[dict[int, int], tuple[tuple[CompiledMatcher, _Spans], ...]]
# The fields a list of candidates reads: each one's getter and the table its digits are rewritten by.
_Reads = tuple[tuple[Callable[[Event], Any], "dict[int, int] | None"], ...]


def _shape(value: Any, table: dict[int, int] | None) -> Any:
    """Return `value` with the digits its readers do not tell apart rewritten as one."""
    if type(value) is str:
        if len(value) > MAX_ALIKE_TEXT:
            return _LONG
        return value.translate(table) if table is not None else value
    if type(value) is list or type(value) is tuple:
        if sum(len(v) for v in value if type(v) is str) > MAX_ALIKE_TEXT:
            return _LONG
        return tuple(_shape(v, table) for v in value)
    if value is None or type(value) is int:
        return value
    # True == 1 and 1.0 == 1 as keys, but tests read them as "true" and "1.0": keep what they read
    return type(value), repr(value) if type(value) is float else value


class _Plan:
    """What one list of candidates reads of an event, and how often its shapes were seen again."""

    __slots__ = ("reads", "asked", "known", "resting")

    def __init__(self, reads: _Reads):
        self.reads = reads
        self.asked = 0  # shapes looked up in the current window
        self.known = 0  # ... and found
        self.resting = 0  # events to go before shapes are looked up again


class _Alike:
    """Remember what the candidate matchers make of events of one shape.

    The shape of an event, for a list of candidates, is every field they read, each with the digits
    its readers do not tell apart rewritten as one. Events of one shape make every candidate give the
    same answer, with captures at the same spans: a crash loop's thousands of `WORKER TIMEOUT (pid:N)`
    lines are one question for the regexes, answered once. Where shapes seldom come again (a request
    log's latencies) looking them up would only add work: those candidates rest a while.
    """

    __slots__ = ("_plans", "_known")

    def __init__(self) -> None:
        self._plans: dict[tuple[CompiledMatcher, ...], _Plan] = {}
        self._known: dict[tuple[Any, ...], _Outcome] = {}

    def recall(
        self, event: Event, candidates: list[CompiledMatcher]
    ) -> tuple[tuple[Any, ...] | None, _Outcome | None]:
        """Return the shape of `event` for `candidates` (None: not to be remembered) and what is known
        of that shape (None: nothing yet)."""
        ids = tuple(candidates)  # matchers hash by identity
        plan = self._plans.get(ids)
        if plan is None:
            if len(self._plans) >= MAX_ALIKE:
                self._plans.clear()
            plan = self._plans[ids] = _Plan(_reads(candidates))
        elif plan.resting:
            plan.resting -= 1
            return None, None
        key: list[Any] = [ids]
        for get, table in plan.reads:
            shape = _shape(get(event), table)
            if shape is _LONG:
                return None, None
            key.append(shape)
        shape_key = tuple(key)
        try:
            outcome = self._known.get(shape_key)
        except TypeError:  # a field holding a mapping: never remembered
            return None, None
        plan.asked += 1
        if outcome is not None:
            plan.known += 1
        if plan.asked >= ALIKE_WINDOW:
            if plan.known * 2 < plan.asked:  # most shapes were new: rest, then look again
                plan.resting = ALIKE_REST
            plan.asked = plan.known = 0
        return shape_key, outcome

    def put(self, shape: tuple[Any, ...], outcome: _Outcome) -> None:
        """Remember the outcome for `shape`."""
        known = self._known
        if len(known) >= MAX_ALIKE:
            known.clear()
        known[shape] = outcome


def _spans(cm: CompiledMatcher, event: Event) -> _Spans:
    """Return where the one regex of `cm` captured in `event`, or None when `cm` is to run again."""
    test = cm.matcher.tests[0]
    if len(cm.matcher.tests) != 1 or len(test.patterns) != 1:
        return None
    get = cm.alike[0][1]
    text = get(event)
    if type(text) is not str:
        return None
    m = test.regexes[0].search(text)
    if m is None:  # cannot be: `cm` just captured here
        return None
    return get, tuple((name, *m.span(name)) for name in m.re.groupindex if m.start(name) >= 0)


def _reads(candidates: list[CompiledMatcher]) -> _Reads:
    """Return every field the candidates read, in first-read order, with the table rewriting the digits
    none of its readers tells apart (None when they tell every digit apart: read as it is)."""
    getters: dict[str, Callable[[Event], Any]] = {}
    named: dict[str, frozenset[str]] = {}
    for cm in candidates:
        for field, get, digits in cm.alike:
            getters.setdefault(field, get)
            named[field] = named.get(field, frozenset()) | digits
    return tuple((getters[field], alike_table(digits)) for field, digits in named.items())


class Engine:
    """Run rules over a stream of events; memory stays bounded whatever the input size."""

    def __init__(self, rules: Sequence[Rule], keep: int = 64, prefilter: bool = True, memo: bool = True):
        self.rules = tuple(rules)
        self.keep = keep
        self.events = 0
        self.prefilter = prefilter
        self._last_ts: dict[str, datetime] = {}  # per source: the last timestamp seen
        self._states = [_RuleState(len(r.matchers), keep) for r in self.rules]
        index = MatcherIndex(self.rules)
        self._candidates = index.candidates  # bound once: called for every event
        self._every = index.every  # the unfiltered path (prefilter=False) runs every matcher
        self._alike = _Alike() if memo else None
        self._matched = 0  # events that had candidates

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
        alike = self._alike
        self._matched += 1
        if self._matched <= ALIKE_AFTER:
            alike = None
        shape, known = alike.recall(event, candidates) if alike is not None else (None, None)
        caps_by_rule: dict[int, Captures] = {}
        if known is not None:
            masks, capturing = known
            for cm, spans in capturing:  # the values captured are this event's own
                if spans is None:
                    caps = cm.run(event)
                else:  # the same spans in a text of the same shape
                    text = spans[0](event)
                    caps = {name: text[start:end] for name, start, end in spans[1]}
                if caps:
                    caps_by_rule.setdefault(cm.rule, {}).update(caps)
        else:
            masks = {}
            captured: list[tuple[CompiledMatcher, _Spans]] = []
            for cm in candidates:
                caps = cm.run(event)
                if caps is None:
                    continue
                masks[cm.rule] = masks.get(cm.rule, 0) | cm.bit
                if caps:
                    caps_by_rule.setdefault(cm.rule, {}).update(caps)
                    if shape is not None:
                        captured.append((cm, _spans(cm, event)))
            if alike is not None and shape is not None:
                alike.put(shape, (masks, tuple(captured)))
        if not masks:
            return
        t = _epoch(when) if when is not None else None  # only events that hit need it
        for ri, mask in masks.items():
            self._record(ri, mask, (seq, t, when, event, mask), caps_by_rule.get(ri))

    def _record(self, ri: int, mask: int, hit: _Kept, caps: Captures | None) -> None:
        """Count a hit of rule `ri`'s matchers in `mask` and keep it if among the first or last `keep`."""
        state = self._states[ri]
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
    hits = {n: [Hit(*kept) for kept in (*state.first[i], *state.last[i])] for i, n in enumerate(names)}
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
