"""The prefilter index: which compiled matchers can hold for an event, found without running them.

Most events can fire no matcher at all, and running every matcher on every line would be most
of a run. Each matcher is filed under the cheapest gate that can rule it out:

- a text gate: literals, one of which the message (or text) must contain; one multi-pattern scan
  per text (detect/prefilter.py: hyperscan, RE2 or re) names the matchers whose literal occurs;
- a value gate: a typed field that must equal one of a few strings (`fields.kind: traceback`), a
  dictionary look-up; a one-test matcher handed over by it already holds (`CompiledMatcher.decided`);
- a field gate: a typed field that must be present; for a typed number, only the matchers whose
  numbers it equals (`fields.status: 503`) are candidates;
- an attribute gate (`pid`, `stream` present), or none: the matcher is always a candidate.

Candidates come back in one canonical order whatever the gates found, so captures merge the same
way with the prefilter on or off (tests/perf/test_prefilter_equivalence.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from diagnoser.detect.matchers import CompiledMatcher
from diagnoser.detect.prefilter import LiteralSet
from diagnoser.detect.regexes import MIN_NEEDLE, required_literals
from diagnoser.detect.rules import FIELD_PREFIX, FieldTest, Matcher, Op, Rule, as_number, as_text
from diagnoser.model import Event

# (field, its needles, the matchers owning each needle, the field's matchers in order)
_TextScan = tuple[str, LiteralSet, list[tuple[CompiledMatcher, ...]], list[CompiledMatcher]]
# one scan of the text for both fields' needles: the scanner, and per needle its matchers in order
_JointScan = tuple[LiteralSet, list[tuple[CompiledMatcher, ...]]]


# --- the gate of one matcher -------------------------------------------------------------------


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


def matcher_gate(matcher: Matcher) -> tuple[str, tuple[str, ...]] | tuple[str, None] | None:
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


# --- building the index ------------------------------------------------------------------------


class _Filed:
    """Every compiled matcher, filed under the cheapest gate that can rule it out."""

    __slots__ = ("by_text", "by_field", "by_value", "by_attr", "always")

    def __init__(self) -> None:
        # "message" | "text" -> (needles, matcher)
        self.by_text: dict[str, list[tuple[tuple[str, ...], CompiledMatcher]]] = {"message": [], "text": []}
        self.by_field: dict[str, list[CompiledMatcher]] = {}
        self.by_value: dict[tuple[str, str], list[CompiledMatcher]] = {}
        self.by_attr: dict[str, list[CompiledMatcher]] = {}
        self.always: list[CompiledMatcher] = []


def _file_matchers(rules: Sequence[Rule]) -> _Filed:
    """Compile every matcher of `rules` and file it under its gate."""
    filed = _Filed()
    for ri, rule in enumerate(rules):
        for mi, matcher in enumerate(rule.matchers):
            cm = CompiledMatcher(ri, matcher, mi)
            gate = matcher_gate(matcher)
            if gate is None:
                filed.always.append(cm)
            elif gate[1] is not None:
                filed.by_text[gate[0]].append((gate[1], cm))
            elif gate[0] in ("pid", "stream"):
                filed.by_attr.setdefault(gate[0], []).append(cm)
            else:
                value_gate = _value_gate(matcher)
                if value_gate is not None:
                    for value in value_gate[1]:
                        filed.by_value.setdefault((value_gate[0], value), []).append(cm)
                else:
                    filed.by_field.setdefault(gate[0], []).append(cm)
    return filed


def _text_scans(text_gated: dict[str, list[tuple[tuple[str, ...], CompiledMatcher]]]) -> list[_TextScan]:
    """Return one scan per text field that gates matchers: its needles and who owns each."""
    scans: list[_TextScan] = []
    for fname, gated in text_gated.items():
        if not gated:
            continue
        needles = sorted({n for ns, _ in gated for n in ns})
        index = {n: i for i, n in enumerate(needles)}
        owners: list[list[CompiledMatcher]] = [[] for _ in needles]
        for ns, cm in gated:
            for n in ns:
                owners[index[n]].append(cm)
        scans.append((fname, LiteralSet(needles), [tuple(o) for o in owners], [cm for _, cm in gated]))
    return scans


def _joint_scan(text_scan: list[_TextScan], rank: dict[int, int]) -> _JointScan | None:
    """Return one scan for the needles of both message and text, or None when only one field gates.

    When the message is the text, or a part of it (the text less its framing: most lines), one
    scan of the text for both fields' needles answers for both. A needle met only in the framing
    makes a matcher a candidate in vain (it runs and fails), never the reverse.
    """
    if len(text_scan) != 2:
        return None
    per_needle: dict[str, dict[int, CompiledMatcher]] = {}
    for _, scanner, owners, _ in text_scan:
        for needle, own in zip(scanner.needles, owners, strict=True):
            per_needle.setdefault(needle, {}).update((id(cm), cm) for cm in own)
    joint = sorted(per_needle)
    owners_of = [tuple(sorted(per_needle[n].values(), key=lambda cm: rank[id(cm)])) for n in joint]
    return LiteralSet(joint), owners_of


def _canonical_order(text_scan: list[_TextScan], filed: _Filed) -> list[CompiledMatcher]:
    """Return every matcher once, in the order the unfiltered path runs them."""
    seen: dict[int, CompiledMatcher] = {}
    for _, _, _, cms in text_scan:
        seen.update((id(cm), cm) for cm in cms)
    for group in (*filed.by_field.values(), *filed.by_value.values(), *filed.by_attr.values()):
        seen.update((id(cm), cm) for cm in group)
    seen.update((id(cm), cm) for cm in filed.always)
    return list(seen.values())


class MatcherIndex:
    """The compiled matchers of a rule set, indexed by what an event must show for each to hold."""

    def __init__(self, rules: Sequence[Rule]):
        filed = _file_matchers(rules)
        # Text-gated matchers run in a fixed order (message bucket, then text bucket, by position) so
        # that captures merge the same way whichever matchers a line makes candidates.
        self._text_scan = _text_scans(filed.by_text)
        self._text_rank = {
            id(cm): rank for rank, cm in enumerate(cm for _, _, _, cms in self._text_scan for cm in cms)
        }
        self._joint = _joint_scan(self._text_scan, self._text_rank)
        self.every = _canonical_order(self._text_scan, filed)  # for the unfiltered path
        self._field_gated = filed.by_field
        self._attr_gated = filed.by_attr
        self._always = filed.always
        # What the value gates hand over: the gate's equality is the whole of a one-test matcher.
        self._value_fast = {key: [cm.decided() for cm in cms] for key, cms in filed.by_value.items()}
        self._value_names = tuple(sorted({k for k, _ in filed.by_value}))  # the few fields value gates read
        self._field_names = tuple(filed.by_field)
        # Field-gated matchers that require a number (fields.status: 503): for a typed number only
        # those whose values it equals can hold. (field, value) -> the matchers to run, in order.
        self._numeric_sets = {
            key: [(cm, _numeric_gate(cm.matcher, key)) for cm in cms] for key, cms in filed.by_field.items()
        }
        self._by_number: dict[tuple[str, float], list[CompiledMatcher]] = {}
        # which needles a scan found -> their matchers, once each, in the canonical order
        self._by_needles: dict[tuple[int, tuple[int, ...]], list[CompiledMatcher]] = {}

    def _owners(
        self, scan: int, found: list[int], owners: list[tuple[CompiledMatcher, ...]]
    ) -> list[CompiledMatcher]:
        """Return the matchers owning the needles `found` by scan number `scan`, once each, in rank order.

        The same needles are found on line after line (a log repeats itself): the answer is kept.
        """
        key = (scan, tuple(found))
        cms = self._by_needles.get(key)
        if cms is None:
            rank = self._text_rank
            uniq = {id(cm): cm for i in found for cm in owners[i]}
            cms = sorted(uniq.values(), key=lambda cm: rank[id(cm)])
            if len(self._by_needles) >= 4096:  # bounded: the sets of needles a log shows are few
                self._by_needles.clear()
            self._by_needles[key] = cms
        return cms

    def _by_value(self, fields: dict[str, Any]) -> list[CompiledMatcher]:
        """Return the value-gated matchers whose field equals the event's value (any element of a list)."""
        found: list[CompiledMatcher] = []
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
        return found

    def _numbered(self, key: str, value: float) -> list[CompiledMatcher]:
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

    def candidates(self, event: Event) -> list[CompiledMatcher]:
        """Return the matchers that can hold for `event`: only those run (in the canonical order)."""
        candidates: list[CompiledMatcher] = []
        text = event.text
        if self._joint is not None and event.message in text and text.isascii():  # equal counts as in
            scanner, owners = self._joint
            found = scanner.which(text)
            if len(found) == 1:
                candidates.extend(owners[found[0]])
            elif found:
                candidates.extend(self._owners(-1, found, owners))
            scans: list[_TextScan] = []
        else:
            scans = self._text_scan
        for number, (fname, scanner, owners, cms) in enumerate(scans):
            scanned = event.message if fname == "message" else event.text
            if scanned.isascii():
                found = scanner.which(scanned)
                if not found:
                    continue
                if len(found) == 1:
                    candidates.extend(owners[found[0]])
                else:
                    candidates.extend(self._owners(number, found, owners))
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
