"""Streaming rule engine: feed events in input order, then finish() to get one Finding per fired rule.

Memory is bounded: per matcher the engine keeps exact counts but only the first and last `keep`
hits. Conditions are evaluated once, in finish(), over those hits.
"""

from __future__ import annotations

import operator
import re
import string
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from diagnoser.detect.condition import And, CountCmp, Node, Not, Of, Or, Ref, Then, Within, names_used
from diagnoser.detect.prefilter import LiteralSet
from diagnoser.detect.regexes import MIN_NEEDLE, required_literals
from diagnoser.detect.rules import FIELD_PREFIX, FieldTest, Matcher, Op, Rule, as_number, as_text
from diagnoser.model import Event, Evidence, Finding, Origin, clip_record

EVIDENCE_MAX = 8
TEXT_MAX = 500
_Captures = dict[str, str]
_NOCAP: _Captures = {}  # shared "matched, nothing captured"; never mutated
_Pred = Callable[[Any], _Captures | None]
_Test = Callable[[Event], _Captures | None]
# (field, its needles, the matchers owning each needle, the field's matchers in order)
_TextScan = tuple[str, "LiteralSet", list[tuple["_CompiledMatcher", ...]], list["_CompiledMatcher"]]


# --- compiling field tests ---------------------------------------------------------------------


def _getter(field: str) -> Callable[[Event], Any]:
    if field.startswith(FIELD_PREFIX):
        name = field[len(FIELD_PREFIX) :]
        return lambda ev: ev.fields.get(name)
    return operator.attrgetter(field)


def _scalar_pred(test: FieldTest) -> _Pred:
    """Return a predicate over one (non-list) event value."""
    quant = all if test.all else any
    fold = test.ignore_case
    op = test.op
    if op is Op.EQ:
        rule_vals = [(as_number(v), as_text(v).casefold() if fold else as_text(v)) for v in test.values]
        any_numeric = any(n is not None for n, _ in rule_vals)
        numbers = frozenset(n for n, _ in rule_vals if n is not None)
        all_numeric = len(numbers) > 0 and all(n is not None for n, _ in rule_vals) and not test.all

        def eq(v: Any) -> _Captures | None:
            if all_numeric and (type(v) is int or type(v) is float):  # fast path: a typed number
                return _NOCAP if float(v) in numbers else None
            vn = as_number(v) if any_numeric else None
            vt = as_text(v)
            if fold:
                vt = vt.casefold()
            ok = quant(
                (vn == rn) if (rn is not None and vn is not None) else (vt == rt) for rn, rt in rule_vals
            )
            return _NOCAP if ok else None

        return eq
    if op.textual:
        vals = tuple(str(v).casefold() if fold else str(v) for v in test.values)
        meth = {Op.CONTAINS: operator.contains, Op.STARTSWITH: str.startswith, Op.ENDSWITH: str.endswith}[op]

        def textual(v: Any) -> _Captures | None:
            vt = v if type(v) is str else as_text(v)
            if fold:
                vt = vt.casefold()
            return _NOCAP if quant(meth(vt, x) for x in vals) else None

        return textual
    if op is Op.RE:
        # Compiled on first use: most matchers of a run never see a candidate line, and compiling
        # every rule's regexes up front is a large share of start-up.
        regexes: tuple[re.Pattern[str], ...] = ()
        need_all = test.all

        def regex(v: Any) -> _Captures | None:
            nonlocal regexes
            if not regexes:
                regexes = test.regexes
            vt = v if type(v) is str else as_text(v)
            caps: _Captures | None = None
            for rx in regexes:
                m = rx.search(vt)
                if m is None:
                    if need_all:
                        return None
                    continue
                groups = {k: g for k, g in m.groupdict().items() if g is not None}
                caps = groups if caps is None else {**caps, **groups}
                if not need_all:
                    break
            if caps is None:
                return None
            return caps or _NOCAP

        return regex
    if op.numeric:
        nums = tuple(float(as_number(v) or 0.0) for v in test.values)
        cmp = {Op.GT: operator.gt, Op.GTE: operator.ge, Op.LT: operator.lt, Op.LTE: operator.le}[op]

        def numeric(v: Any) -> _Captures | None:
            vn = as_number(v)
            if vn is None:
                return None
            return _NOCAP if quant(cmp(vn, n) for n in nums) else None

        return numeric
    raise AssertionError(op)


def compile_test(test: FieldTest) -> _Test:
    """Return a function that checks one field test against an event (None: no match)."""
    get = _getter(test.field)
    if test.op is Op.EXISTS:
        want = bool(test.values[0])
        return lambda ev: _NOCAP if (get(ev) is not None) is want else None
    pred = _scalar_pred(test)

    def run(ev: Event) -> _Captures | None:
        v = get(ev)
        if v is None:
            return None
        if isinstance(v, list | tuple | set | frozenset):
            for item in v:
                if item is not None:
                    r = pred(item)
                    if r is not None:
                        return r
            return None
        return pred(v)

    return run


def test_needles(test: FieldTest) -> tuple[str, ...] | None:
    """Return lowercase literals one of which the field must contain for the test to hold, or None."""
    if test.field not in ("message", "text") or test.op in (Op.EXISTS,) or test.op.numeric:
        return None
    per_value: list[tuple[str, ...] | None]
    if test.op is Op.RE:
        per_value = [required_literals(p, test.flags) for p in test.patterns]
    elif test.op is Op.EQ and any(as_number(v) is not None for v in test.values):
        return None  # "1.0" equals "1": no literal is required
    else:
        per_value = [
            (as_text(v).lower(),) if as_text(v).isascii() and len(as_text(v)) >= MIN_NEEDLE else None
            for v in test.values
        ]
    if test.all:
        present = [lits for lits in per_value if lits]
        return max(present, key=lambda lits: (min(map(len, lits)), -len(lits))) if present else None
    if not per_value or any(not lits for lits in per_value):
        return None
    return tuple(sorted({n for lits in per_value if lits for n in lits}))


class _CompiledMatcher:
    """A matcher ready to run: its tests, its owner rule and its bit in that rule's mask."""

    __slots__ = ("rule", "name", "bit", "index", "tests", "matcher", "run", "_twin")

    def __init__(self, rule: int, matcher: Matcher, index: int):
        self.rule = rule
        self.matcher = matcher
        self.name = matcher.name
        self.index = index
        self.bit = 1 << index
        self.tests = tuple(compile_test(t) for t in matcher.tests)
        if len(self.tests) == 1:
            self.run = self.tests[0]  # same answer as _run_all, one call fewer
        else:
            self.run = self._run_all  # type: ignore[method-assign]
        self._twin: _CompiledMatcher | None = None

    def decided(self) -> _CompiledMatcher:
        """Return this matcher for a gate that has already proved its only test (it holds, captures nothing).

        A matcher whose one test is `fields.status: [200, 201]` holds for every event its value gate
        lets through; on a log of access lines, running that test again was a tenth of the engine.
        """
        if len(self.tests) != 1:
            return self
        if self._twin is None:
            twin = _CompiledMatcher.__new__(_CompiledMatcher)
            for name in ("rule", "name", "bit", "index", "tests", "matcher"):
                setattr(twin, name, getattr(self, name))
            twin.run = _holds_already
            twin._twin = twin
            self._twin = twin
        return self._twin

    def _run_all(self, ev: Event) -> _Captures | None:
        """Return captures when every test holds, else None."""
        caps = _NOCAP
        for test in self.tests:
            r = test(ev)
            if r is None:
                return None
            if r:
                caps = r if not caps else {**caps, **r}
        return caps


def _holds_already(ev: Event) -> _Captures:
    return _NOCAP


def _value_gate(matcher: Matcher) -> tuple[str, tuple[str, ...]] | None:
    """Return (field name, values) when the matcher requires a typed field to equal one of a few values."""
    for test in matcher.tests:
        if (
            test.field.startswith(FIELD_PREFIX)
            and test.op is Op.EQ
            and not test.ignore_case
            and not test.all
            and all(isinstance(v, str) and as_number(v) is None for v in test.values)
        ):  # numbers compare numerically (137 == "137.0"), so only text values gate by value
            return test.field[len(FIELD_PREFIX) :], tuple(str(v) for v in test.values)
    return None


def _numeric_gate(matcher: Matcher, name: str) -> frozenset[float] | None:
    """Return the numbers a typed-number field `name` must equal for the matcher to hold, or None."""
    for test in matcher.tests:
        if (
            test.field == FIELD_PREFIX + name
            and test.op is Op.EQ
            and not test.all
            and test.values
            and all(as_number(v) is not None for v in test.values)
        ):
            return frozenset(float(as_number(v) or 0.0) for v in test.values)
    return None


def _gate(matcher: Matcher) -> tuple[str, tuple[str, ...]] | tuple[str, None] | None:
    """Return the cheapest prefilter of a matcher: ("message"|"text", needles), (field, None) or None."""
    best: tuple[str, tuple[str, ...]] | None = None
    for test in matcher.tests:
        needles = test_needles(test)
        if needles and (best is None or min(map(len, needles)) > min(map(len, best[1]))):
            best = (test.field, needles)
    if best is not None:
        return best
    for test in matcher.tests:
        if test.field.startswith(FIELD_PREFIX) and not (test.op is Op.EXISTS and not test.values[0]):
            return (test.field[len(FIELD_PREFIX) :], None)
    for test in matcher.tests:
        if test.field in ("pid", "stream") and not (test.op is Op.EXISTS and not test.values[0]):
            return (test.field, None)
    return None


# --- hits and per-rule state -------------------------------------------------------------------


class _Hit:
    """One event that hit at least one matcher of a rule."""

    __slots__ = ("seq", "t", "when", "timestamp", "source", "line", "text", "mask")

    def __init__(self, seq: int, t: float | None, when: datetime | None, ev: Event, mask: int):
        self.seq = seq
        self.t = t  # effective time in epoch seconds (own or last seen in the source)
        self.when = when  # effective time as a datetime
        self.timestamp = ev.timestamp
        self.source = ev.source
        self.line = ev.line
        text = ev.text
        self.text = text if len(text) <= TEXT_MAX else clip_record(text, TEXT_MAX)
        self.mask = mask


class _RuleState:
    """Counts and bounded hit samples of one rule's matchers."""

    __slots__ = ("counts", "first", "last", "masks", "captures")

    def __init__(self, n: int, keep: int):
        self.counts = [0] * n
        self.first: list[list[_Hit]] = [[] for _ in range(n)]
        self.last: list[deque[_Hit]] = [deque(maxlen=keep) for _ in range(n)]
        self.masks: dict[int, int] = {}
        self.captures: dict[str, str] = {}


def _epoch(ts: datetime) -> float:
    return (ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)).timestamp()


# --- evaluation over a view of the hits --------------------------------------------------------


class _View:
    """The hits a (sub)condition is evaluated over: the whole input, or those inside a window."""

    __slots__ = ("counts", "hits")

    def __init__(self, counts: dict[str, int], hits: dict[str, list[_Hit]]):
        self.counts = counts
        self.hits = hits  # per matcher, ordered by seq

    def count(self, name: str) -> int:
        """Return how many events `name` hit in this view."""
        return self.counts.get(name, 0)


def _then_chain(node: Then, view: _View) -> list[tuple[str, _Hit]] | None:
    after = -1
    chain: list[tuple[str, _Hit]] = []
    for name in node.names:
        hit = next((h for h in view.hits.get(name, ()) if h.seq > after), None)
        if hit is None:
            return None
        chain.append((name, hit))
        after = hit.seq
    return chain


def _holds(node: Node, view: _View) -> bool:
    if isinstance(node, Ref):
        return view.count(node.name) > 0
    if isinstance(node, CountCmp):
        right = node.value if node.other is None else view.count(node.other)
        return node.op.holds(view.count(node.name), right or 0)
    if isinstance(node, Of):
        return sum(1 for n in node.names if view.count(n) > 0) >= node.need
    if isinstance(node, Then):
        return _then_chain(node, view) is not None
    if isinstance(node, And):
        return all(_holds(i, view) for i in node.items)
    if isinstance(node, Or):
        return any(_holds(i, view) for i in node.items)
    if isinstance(node, Not):
        return not _holds(node.item, view)
    return _window(node, view) is not None


def _window(node: Within, view: _View) -> _View | None:
    """Return the first window view over which `node.item` holds, or None."""
    names = names_used(node.item)
    timed = sorted({h.t for n in names for h in view.hits.get(n, ()) if h.t is not None})
    if not timed:
        return view if _holds(node.item, view) else None
    span = node.seconds
    tried: set[tuple[float, float]] = set()
    for t in timed:
        for lo, hi in ((t, t + span), (t - span, t)):
            if (lo, hi) in tried:
                continue
            tried.add((lo, hi))
            hits = {n: [h for h in view.hits.get(n, ()) if h.t is None or lo <= h.t <= hi] for n in names}
            sub = _View({n: len(hs) for n, hs in hits.items()}, hits)
            if _holds(node.item, sub):
                return sub
    return None


def _spread(hits: list[_Hit], k: int) -> list[_Hit]:
    """Return up to k hits spread over the list: first, last, then evenly between."""
    if len(hits) <= k:
        return list(hits)
    if k == 1:
        return [hits[0]]
    idx = sorted({round(i * (len(hits) - 1) / (k - 1)) for i in range(k)})
    return [hits[i] for i in idx]


def _witness(node: Node, view: _View) -> list[tuple[str, list[_Hit]]]:
    """Return, for a condition that holds, the positive matchers and hits that make it hold."""
    if isinstance(node, Ref):
        return [(node.name, _spread(view.hits.get(node.name, []), 2))]
    if isinstance(node, CountCmp):
        left = view.hits.get(node.name, [])
        if node.other is None:
            if node.op.value in (">", ">=", "==", "!="):
                need = (node.value or 0) + (1 if node.op.value == ">" else 0)
                return [(node.name, _spread(left, max(1, min(need, 4))))]
            return []
        right = view.hits.get(node.other, [])
        if node.op.value in (">", ">="):
            return [(node.name, _spread(left, 3))]
        if node.op.value in ("<", "<="):
            return [(node.other, _spread(right, 3))]
        return [(node.name, _spread(left, 2)), (node.other, _spread(right, 2))]
    if isinstance(node, Of):
        return [(n, _spread(view.hits.get(n, []), 2)) for n in node.names if view.count(n) > 0]
    if isinstance(node, Then):
        return [(name, [hit]) for name, hit in _then_chain(node, view) or []]
    if isinstance(node, And):
        return [w for i in node.items for w in _witness(i, view)]
    if isinstance(node, Or):
        return [w for i in node.items if _holds(i, view) for w in _witness(i, view)]
    if isinstance(node, Not):
        return []
    sub = _window(node, view)
    return _witness(node.item, sub) if sub is not None else []


def _pick_evidence(witness: list[tuple[str, list[_Hit]]], limit: int = EVIDENCE_MAX) -> list[_Hit]:
    """Choose up to `limit` hits, at least one per positive matcher where possible, by input order."""
    chosen: dict[int, _Hit] = {}
    queues = [list(hits) for _, hits in witness if hits]
    while queues and len(chosen) < limit:
        for q in queues:
            while q and q[0].seq in chosen:
                q.pop(0)
            if q and len(chosen) < limit:
                h = q.pop(0)
                chosen[h.seq] = h
        queues = [q for q in queues if q]
    return sorted(chosen.values(), key=lambda h: h.seq)


# --- the engine --------------------------------------------------------------------------------


class Engine:
    """Run rules over a stream of events; memory stays bounded whatever the input size."""

    def __init__(self, rules: Sequence[Rule], keep: int = 64, prefilter: bool = True):
        self.rules = tuple(rules)
        self.keep = keep
        self.events = 0
        self.prefilter = prefilter
        self._last_ts: dict[str, datetime] = {}  # per source: the last timestamp seen
        self._states = [_RuleState(len(r.matchers), keep) for r in self.rules]
        self._text_gated: dict[str, list[tuple[tuple[str, ...], _CompiledMatcher]]] = {
            "message": [],
            "text": [],
        }
        self._field_gated: dict[str, list[_CompiledMatcher]] = {}
        self._value_gated: dict[tuple[str, str], list[_CompiledMatcher]] = {}
        self._attr_gated: dict[str, list[_CompiledMatcher]] = {}
        self._always: list[_CompiledMatcher] = []
        for ri, rule in enumerate(self.rules):
            for mi, matcher in enumerate(rule.matchers):
                cm = _CompiledMatcher(ri, matcher, mi)
                gate = _gate(matcher)
                if gate is None:
                    self._always.append(cm)
                elif gate[1] is not None:
                    self._text_gated[gate[0]].append((gate[1], cm))
                elif gate[0] in ("pid", "stream"):
                    self._attr_gated.setdefault(gate[0], []).append(cm)
                else:
                    value_gate = _value_gate(matcher)
                    if value_gate is not None:
                        for value in value_gate[1]:
                            self._value_gated.setdefault((value_gate[0], value), []).append(cm)
                    else:
                        self._field_gated.setdefault(gate[0], []).append(cm)
        # Text-gated matchers run in a fixed order (message bucket, then text bucket, by position) so
        # that captures merge the same way whichever matchers a line makes candidates.
        self._text_scan: list[_TextScan] = []
        for fname, gated in self._text_gated.items():
            if not gated:
                continue
            needles = sorted({n for ns, _ in gated for n in ns})
            index = {n: i for i, n in enumerate(needles)}
            owners: list[list[_CompiledMatcher]] = [[] for _ in needles]
            for ns, cm in gated:
                for n in ns:
                    owners[index[n]].append(cm)
            self._text_scan.append(
                (fname, LiteralSet(needles), [tuple(o) for o in owners], [cm for _, cm in gated])
            )
        self._text_rank = {
            id(cm): rank for rank, cm in enumerate(cm for _, _, _, cms in self._text_scan for cm in cms)
        }
        # When the message is the text, or a part of it (the text less its framing: most lines), one
        # scan of the text for both fields' needles answers for both. A needle met only in the framing
        # makes a matcher a candidate in vain (it runs and fails), never the reverse.
        self._joint: tuple[LiteralSet, list[tuple[_CompiledMatcher, ...]]] | None = None
        if len(self._text_scan) == 2:
            per_needle: dict[str, dict[int, _CompiledMatcher]] = {}
            for _, scanner, owners, _ in self._text_scan:
                for needle, own in zip(scanner.needles, owners, strict=True):
                    per_needle.setdefault(needle, {}).update((id(cm), cm) for cm in own)
            joint = sorted(per_needle)
            rank = self._text_rank
            owners_of = [tuple(sorted(per_needle[n].values(), key=lambda cm: rank[id(cm)])) for n in joint]
            self._joint = (LiteralSet(joint), owners_of)
        # Every matcher in the canonical order, for the unfiltered path (prefilter=False).
        seen: dict[int, _CompiledMatcher] = {}
        for _, _, _, cms in self._text_scan:
            seen.update((id(cm), cm) for cm in cms)
        for group in (*self._field_gated.values(), *self._value_gated.values(), *self._attr_gated.values()):
            seen.update((id(cm), cm) for cm in group)
        seen.update((id(cm), cm) for cm in self._always)
        self._all = list(seen.values())
        self._value_keys = frozenset(k for k, _ in self._value_gated)
        # What the value gates hand over: the gate's equality is the whole of a one-test matcher.
        self._value_fast = {key: [cm.decided() for cm in cms] for key, cms in self._value_gated.items()}
        self._value_names = tuple(sorted(self._value_keys))  # the few fields value gates read
        self._field_names = tuple(self._field_gated)
        # Field-gated matchers that require a number (fields.status: 503): for a typed number only
        # those whose values it equals can hold. (field, value) -> the matchers to run, in order.
        self._numeric_sets = {
            key: [(cm, _numeric_gate(cm.matcher, key)) for cm in cms]
            for key, cms in self._field_gated.items()
        }
        self._by_number: dict[tuple[str, float], list[_CompiledMatcher]] = {}

    def _by_value(self, fields: dict[str, Any]) -> list[_CompiledMatcher]:
        """Return the value-gated matchers whose field equals the event's value (any element of a list)."""
        found: list[_CompiledMatcher] = []
        gated = self._value_fast
        for key in self._value_names:
            value = fields.get(key)
            if value is None:
                continue
            if isinstance(value, str):  # plain strings and StrEnum members such as EventKind
                found.extend(gated.get((key, value), ()))
            elif isinstance(value, list | tuple):
                seen: set[int] = set()
                for item in value:
                    for cm in gated.get((key, item), ()) if isinstance(item, str) else ():
                        if id(cm) not in seen:
                            seen.add(id(cm))
                            found.append(cm)
            elif isinstance(value, str):
                found.extend(gated.get((key, value), ()))
        return found

    def _numbered(self, key: str, value: float) -> list[_CompiledMatcher]:
        """Return the matchers gated by field `key` that can hold when it is the number `value`."""
        number = float(value)
        found = self._by_number.get((key, number))
        if found is None:
            found = [
                cm if numbers is None else cm.decided()
                for cm, numbers in self._numeric_sets[key]
                if numbers is None or number in numbers
            ]
            if len(self._by_number) < 4096:  # bounded: typed numbers in gated fields are few (status codes)
                self._by_number[(key, number)] = found
        return found

    def feed(self, event: Event) -> None:
        """Match one event (call in input order)."""
        self.events += 1
        seq = self.events
        when = event.timestamp
        if when is not None:
            self._last_ts[event.source] = when
        else:
            when = self._last_ts.get(event.source)
        candidates = self._candidates(event) if self.prefilter else self._all
        if not candidates:
            return
        masks: dict[int, int] = {}
        caps_by_rule: dict[int, _Captures] = {}
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

    def _candidates(self, event: Event) -> list[_CompiledMatcher]:
        """Return the matchers that can hold for `event`: only those run (in the canonical order)."""
        candidates: list[_CompiledMatcher] = []
        text = event.text
        if self._joint is not None and event.message in text and text.isascii():  # equal counts as in
            scanner, owners = self._joint
            found = scanner.which(text)
            if len(found) == 1:
                candidates.extend(owners[found[0]])
            elif found:
                rank = self._text_rank
                uniq = {id(cm): cm for i in found for cm in owners[i]}
                candidates.extend(sorted(uniq.values(), key=lambda cm: rank[id(cm)]))
            scans: list[_TextScan] = []
        else:
            scans = self._text_scan
        for fname, scanner, owners, cms in scans:
            value = event.message if fname == "message" else event.text
            if value.isascii():
                found = scanner.which(value)
                if not found:
                    continue
                if len(found) == 1:
                    candidates.extend(owners[found[0]])
                else:
                    rank = self._text_rank
                    uniq = {id(cm): cm for i in found for cm in owners[i]}
                    candidates.extend(sorted(uniq.values(), key=lambda cm: rank[id(cm)]))
            else:
                candidates.extend(cms)
        fields = event.fields
        if fields:
            for key in self._field_names:
                value = fields.get(key)
                if value is not None:
                    if type(value) is int or type(value) is float:
                        candidates.extend(self._numbered(key, value))
                    else:
                        candidates.extend(self._field_gated[key])
            if self._value_names:
                candidates.extend(self._by_value(fields))
        if self._attr_gated:
            if event.pid is not None:
                candidates.extend(self._attr_gated.get("pid", ()))
            if event.stream is not None:
                candidates.extend(self._attr_gated.get("stream", ()))
        if self._always:
            candidates.extend(self._always)
        return candidates

    def _record(
        self,
        ri: int,
        mask: int,
        seq: int,
        t: float | None,
        when: datetime | None,
        ev: Event,
        caps: _Captures | None,
    ) -> None:
        state = self._states[ri]
        hit = _Hit(seq, t, when, ev, mask)
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

    def feed_all(self, events: Iterable[Event]) -> None:
        """Feed every event of an iterable."""
        for ev in events:
            self.feed(ev)

    def finish(self) -> list[Finding]:
        """Evaluate every rule's condition and return one Finding per rule that fired."""
        findings: list[Finding] = []
        for rule, state in zip(self.rules, self._states, strict=True):
            finding = self._evaluate(rule, state)
            if finding is not None:
                findings.append(finding)
        return findings

    def _evaluate(self, rule: Rule, state: _RuleState) -> Finding | None:
        names = rule.matcher_names
        hits = {n: state.first[i] + list(state.last[i]) for i, n in enumerate(names)}
        view = _View(dict(zip(names, state.counts, strict=True)), hits)
        node: Node = rule.ast
        if rule.window is not None:
            node = Within(node, int(rule.window.total_seconds()))
        if not _holds(node, view):
            return None
        witness = _witness(node, view)
        chosen = _pick_evidence(witness)
        positive = {n for n, _ in witness}
        bits = 0
        for i, n in enumerate(names):
            if n in positive:
                bits |= 1 << i
        count = sum(c for m, c in state.masks.items() if m & bits)
        evidence = tuple(
            Evidence(
                source=h.source,
                line=h.line,
                text=h.text,
                matched=tuple(n for i, n in enumerate(names) if h.mask >> i & 1),
                timestamp=h.timestamp,
            )
            for h in chosen
        )
        times = [h.when for n in positive for h in hits[n] if h.when is not None]
        first_time = min(times, key=_epoch) if times else None
        last_time = max(times, key=_epoch) if times else None
        values: dict[str, Any] = dict(state.captures)
        placeholders: dict[str, str] = {
            f"{n}_count": str(c) for n, c in zip(names, state.counts, strict=True)
        }
        placeholders.update({k: str(v) for k, v in values.items()})
        placeholders["count"] = str(count)
        placeholders["first_time"] = first_time.isoformat() if first_time else "?"
        placeholders["last_time"] = last_time.isoformat() if last_time else "?"
        return Finding(
            cause=rule.cause,
            rule=rule.id,
            origin=Origin.RULE,
            severity=rule.severity,
            confidence=rule.confidence,
            title=rule.title,
            summary=fill_template(rule.explain or rule.title, placeholders, rule_captures(rule)),
            evidence=evidence,
            count=count,
            values=values,
            supersedes=rule.supersedes,
        )


def rule_captures(rule: Rule) -> tuple[str, ...]:
    """Return the named regex groups the rule's matchers capture."""
    out: list[str] = []
    for m in rule.matchers:
        out.extend(n for n in m.capture_names if n not in out)
    return tuple(out)


def placeholders_of(template: str) -> list[str]:
    """Return the placeholder names in an explain template; raise ValueError when it is malformed."""
    return [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]


def fill_template(template: str, values: dict[str, str], captures: Sequence[str] = ()) -> str:
    """Fill `{name}` placeholders; a capture never seen becomes '?', an unknown name stays as is."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        return template
    out: list[str] = []
    for literal, fname, spec, conv in parts:
        out.append(literal)
        if fname is None:
            continue
        if fname in values:
            out.append(values[fname])
        elif fname in captures:
            out.append("?")
        else:
            out.append("{" + fname + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}")
    return "".join(out)
