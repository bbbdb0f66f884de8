"""Matchers compiled for one event at a time: each field test becomes a predicate returning captures.

A predicate returns None when its test fails, else the named groups it captured (the shared
`NOCAP` when none). The rule engine runs only the compiled matchers the prefilter index
(detect/index.py) names as candidates for an event.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

from diagnoser.detect.regexes import named_digits
from diagnoser.detect.rules import FIELD_PREFIX, FieldTest, Matcher, Op, as_number, as_text
from diagnoser.model import Event

Captures = dict[str, str]
NOCAP: Captures = {}  # shared "matched, nothing captured"; never mutated
_Pred = Callable[[Any], Captures | None]
_Test = Callable[[Event], Captures | None]
_TEXTUAL: dict[Op, Callable[[str, str], bool]] = {
    Op.CONTAINS: operator.contains,
    Op.STARTSWITH: str.startswith,
    Op.ENDSWITH: str.endswith,
}
_NUMERIC: dict[Op, Callable[[float, float], bool]] = {
    Op.GT: operator.gt,
    Op.GTE: operator.ge,
    Op.LT: operator.lt,
    Op.LTE: operator.le,
}


def getter(field: str) -> Callable[[Event], Any]:
    """Return a function reading `field` (an Event attribute or `fields.NAME`) from an event."""
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

        def eq(v: Any) -> Captures | None:
            if all_numeric and (type(v) is int or type(v) is float):  # fast path: a typed number
                return NOCAP if float(v) in numbers else None
            vn = as_number(v) if any_numeric else None
            vt = as_text(v)
            if fold:
                vt = vt.casefold()
            ok = quant(
                (vn == rn) if (rn is not None and vn is not None) else (vt == rt) for rn, rt in rule_vals
            )
            return NOCAP if ok else None

        return eq
    if op.textual:
        vals = tuple(str(v).casefold() if fold else str(v) for v in test.values)
        meth = _TEXTUAL[op]

        def textual(v: Any) -> Captures | None:
            vt = v if type(v) is str else as_text(v)
            if fold:
                vt = vt.casefold()
            return NOCAP if quant(meth(vt, x) for x in vals) else None

        return textual
    if op is Op.RE:
        # Compiled on first use: most matchers of a run never see a candidate line, and compiling
        # every rule's regexes up front is a large share of start-up.
        regexes: tuple[re.Pattern[str], ...] = ()
        need_all = test.all

        def regex(v: Any) -> Captures | None:
            nonlocal regexes
            if not regexes:
                regexes = test.regexes
            vt = v if type(v) is str else as_text(v)
            caps: Captures | None = None
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
            return caps or NOCAP

        return regex
    if op.numeric:
        nums = tuple(float(as_number(v) or 0.0) for v in test.values)
        cmp = _NUMERIC[op]

        def numeric(v: Any) -> Captures | None:
            vn = as_number(v)
            if vn is None:
                return None
            return NOCAP if quant(cmp(vn, n) for n in nums) else None

        return numeric
    raise AssertionError(op)


_ASCII_DIGITS = frozenset("0123456789")


def test_named_digits(test: FieldTest) -> frozenset[str]:
    """Return the ASCII digits the test tells apart (all of them when it may tell any).

    The other digits are alike to it: on two texts that differ only in which of those stand where (the
    pids and counts of a crash loop's lines), it gives the same answer, with captures at the same spans.
    """
    op = test.op
    if op is Op.EXISTS:
        return frozenset()
    if op.numeric or (op is Op.EQ and any(as_number(v) is not None for v in test.values)):
        return _ASCII_DIGITS  # a numeric text compares by its value
    if op is Op.RE:
        named: set[str] = set()
        for pattern in test.patterns:
            digits = named_digits(pattern, test.flags)
            named |= _ASCII_DIGITS if digits is None else digits
        return frozenset(named)
    # equality and substrings meet a text's digits only where the values have the same digits
    return frozenset(_ASCII_DIGITS.intersection("".join(as_text(v) for v in test.values)))


# Translation tables that write each digit a pattern does not tell apart as the first such digit, by
# the digits told apart; None where every digit is told apart (nothing to rewrite).
_ALIKE_TABLES: dict[frozenset[str], dict[int, int] | None] = {}


def alike_table(named: frozenset[str]) -> dict[int, int] | None:
    """Return the table rewriting the digits not in `named` as one of them (None when all are named)."""
    if named not in _ALIKE_TABLES:
        alike = sorted(_ASCII_DIGITS - named)
        _ALIKE_TABLES[named] = str.maketrans("".join(alike), alike[0] * len(alike)) if alike else None
    return _ALIKE_TABLES[named]


def compile_test(test: FieldTest) -> _Test:
    """Return a function that checks one field test against an event (None: no match)."""
    get = getter(test.field)
    if test.op is Op.EXISTS:
        want = bool(test.values[0])
        return lambda ev: NOCAP if (get(ev) is not None) is want else None
    pred = _scalar_pred(test)

    def run(ev: Event) -> Captures | None:
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


class CompiledMatcher:
    """A matcher ready to run: its tests, its owner rule and its bit in that rule's mask."""

    __slots__ = ("rule", "name", "bit", "position", "tests", "matcher", "run", "_twin", "_alike")

    def __init__(self, rule: int, matcher: Matcher, position: int):
        self.rule = rule  # the rule's index in the rule set
        self.matcher = matcher
        self.name = matcher.name
        self.position = position  # the matcher's index in its rule
        self.bit = 1 << position
        self.tests = tuple(compile_test(t) for t in matcher.tests)
        # one test: run it directly, one call fewer than _run_all
        self.run: _Test = self.tests[0] if len(self.tests) == 1 else self._run_all
        self._twin: CompiledMatcher | None = None
        self._alike: AlikePlan | None = None  # made when the matcher is first a candidate (start-up time)

    @property
    def alike(self) -> AlikePlan:
        """Return what the matcher reads of an event, with the digits its tests tell apart."""
        if self._alike is None:
            self._alike = _alike_plan(self.matcher)
        return self._alike

    def decided(self) -> CompiledMatcher:
        """Return this matcher for a gate that has already proved its only test (it holds, captures nothing).

        A matcher whose one test is `fields.status: [200, 201]` holds for every event its value gate
        lets through; on a log of access lines, running that test again was a tenth of the engine.
        """
        if len(self.tests) != 1:
            return self
        if self._twin is None:
            twin = CompiledMatcher.__new__(CompiledMatcher)
            for name in ("rule", "name", "bit", "position", "tests", "matcher"):
                setattr(twin, name, getattr(self, name))
            twin.run = _holds_already
            twin._alike = ()  # it reads nothing: the answer is known before the event is looked at
            twin._twin = twin
            self._twin = twin
        return self._twin

    def _run_all(self, ev: Event) -> Captures | None:
        """Return captures when every test holds, else None."""
        caps = NOCAP
        for test in self.tests:
            r = test(ev)
            if r is None:
                return None
            if r:
                caps = r if not caps else {**caps, **r}
        return caps


# What a matcher reads of an event, to tell which events it answers alike (detect/engine.py): per field
# in the order of its tests, the field, its getter and the digits its tests tell apart.
AlikePlan = tuple[tuple[str, Callable[[Event], Any], frozenset[str]], ...]


def _alike_plan(matcher: Matcher) -> AlikePlan:
    """Return what the matcher reads of an event."""
    named: dict[str, frozenset[str]] = {}
    for test in matcher.tests:
        named[test.field] = named.get(test.field, frozenset()) | test_named_digits(test)
    return tuple((field, getter(field), digits) for field, digits in named.items())


def _holds_already(ev: Event) -> Captures:
    """Return "holds, nothing captured": the gate that chose this matcher already proved its test."""
    return NOCAP
