"""Literal extraction for the matcher prefilter: the text every match of a rule's regex contains.

Regex safety (is a pattern usable at all) is stage-neutral and lives in diagnoser/regexsafety.py.
"""

from __future__ import annotations

import re
from functools import lru_cache
from re import _constants as sre_c  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

_REPEATS = (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT)

MIN_NEEDLE = 3  # shorter literals match nearly every line: no use as a prefilter


def _better(a: frozenset[str], b: frozenset[str] | None) -> bool:
    """Return True when needle set `a` filters better than `b`: longer shortest needle, then fewer needles."""
    if b is None:
        return True
    return (min(map(len, a)), -len(a)) > (min(map(len, b)), -len(b))


def _seq_needles(items: Any, shortest: int = MIN_NEEDLE) -> frozenset[str] | None:
    """Return the best set of literals (each of at least `shortest` characters) one of which every
    match of this sequence contains."""
    best: frozenset[str] | None = None
    run: list[str] = []

    def consider(candidate: frozenset[str] | None) -> None:
        nonlocal best
        if candidate and all(len(n) >= shortest for n in candidate) and _better(candidate, best):
            best = candidate

    def flush() -> None:
        if run:
            consider(frozenset(["".join(run)]))
            run.clear()

    for op, av in items:
        if op is sre_c.LITERAL and av < 128:
            run.append(chr(av).lower())
            continue
        if op is sre_c.AT:
            continue  # zero-width: the literal run stays contiguous
        flush()
        if op is sre_c.SUBPATTERN:
            consider(_seq_needles(av[3], shortest))
        elif op is sre_c.BRANCH:
            alternatives = [_seq_needles(alt, shortest) for alt in av[1]]
            if all(alternatives):
                consider(frozenset().union(*alternatives))  # type: ignore[arg-type]
        elif op in _REPEATS and av[0] >= 1:
            consider(_seq_needles(av[2], shortest))
    flush()
    return best


# Answers of required_literals, also filled from the rule cache (detect/cache.py): parsing every
# rule's regex to find its literals is a noticeable share of start-up.
LITERALS_MEMO: dict[tuple[str, int], tuple[str, ...] | None] = {}


def required_literals(pattern: str, flags: int = 0) -> tuple[str, ...] | None:
    """Return lowercased ASCII literals one of which every match of `pattern` contains, or None.

    Alternations give one literal per branch (`(?:OOMKilled|exit code 137)` -> both), so a
    prefilter can skip lines that contain none of them.
    """
    key = (pattern, flags)
    if key in LITERALS_MEMO:
        return LITERALS_MEMO[key]
    answer = literals(pattern, flags)
    if len(LITERALS_MEMO) < 65536:
        LITERALS_MEMO[key] = answer
    return answer


def literals(pattern: str, flags: int = 0, shortest: int = MIN_NEEDLE) -> tuple[str, ...] | None:
    """Return required_literals(pattern, flags) with needles of at least `shortest` characters (unmemoised).

    A prefilter that gates patterns of its own (not a rule's matchers) may accept shorter needles:
    `-9` or `r1` still rule out most lines.
    """
    try:
        parsed = sre_parse.parse(pattern, flags)
    except (re.error, OverflowError, RecursionError):
        return None
    needles = _seq_needles(list(parsed), shortest)
    return tuple(sorted(needles)) if needles else None


_METACHARACTERS = frozenset("\\^$.|?*+()[]{}")


def plain_alternatives(pattern: str) -> frozenset[str]:
    """Return the top-level alternatives of `pattern` that are plain text (no metacharacter) and match
    themselves: a text holding one of them is matched by the pattern there, no need to run it."""
    alternatives: list[str] = []
    depth, start, i, in_class = 0, 0, 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            i += 1 + (pattern[i + 1 : i + 2] == "^")
            i += pattern[i : i + 1] == "]"  # a `]` first in a class is a member
            continue
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            alternatives.append(pattern[start:i])
            start = i + 1
        i += 1
    alternatives.append(pattern[start:])
    return frozenset(
        alt
        for alt in alternatives
        if alt and not _METACHARACTERS.intersection(alt) and re.fullmatch(pattern, alt) is not None
    )


# -- which digits a pattern tells apart ----------------------------------------------------------------

_DIGITS = frozenset("0123456789")
# The ASCII digits each category of a character class holds: all of them or none.
_CATEGORY_DIGITS = {
    sre_c.CATEGORY_DIGIT: _DIGITS,
    sre_c.CATEGORY_WORD: _DIGITS,
    sre_c.CATEGORY_NOT_SPACE: _DIGITS,
    sre_c.CATEGORY_NOT_LINEBREAK: _DIGITS,
    sre_c.CATEGORY_NOT_DIGIT: frozenset(),
    sre_c.CATEGORY_NOT_WORD: frozenset(),
    sre_c.CATEGORY_SPACE: frozenset(),
    sre_c.CATEGORY_LINEBREAK: frozenset(),
}
_ANY_REPEAT = (*_REPEATS, getattr(sre_c, "POSSESSIVE_REPEAT", sre_c.MAX_REPEAT))


@lru_cache(maxsize=4096)
def named_digits(pattern: str, flags: int = 0) -> frozenset[str] | None:
    """Return the ASCII digits `pattern` tells apart from the others, or None when it may tell any.

    A digit is named by a literal (`signal 9`) or by a class holding some digits but not all (`[1-5]`);
    the digits no construct names are alike to the pattern: two texts that differ only in which of
    those stand where (`pid:24` and `pid:86` when only 9 is named) match at the same places, with
    groups at the same spans. A back-reference compares the very characters: None.
    """
    try:
        parsed = sre_parse.parse(pattern, flags)
    except (re.error, OverflowError, RecursionError):
        return None
    named: set[str] = set()
    return frozenset(named) if _name_digits(list(parsed), named) else None


def _name_digits(items: Any, named: set[str]) -> bool:
    """Add the digits `items` name to `named`; return False for a construct that may tell any digit."""
    for op, av in items:
        if op is sre_c.LITERAL or op is sre_c.NOT_LITERAL:
            if chr(av) in _DIGITS:
                named.add(chr(av))
        elif op is sre_c.IN:
            held = _class_digits(av)
            if held is None:
                return False
            if held != _DIGITS:
                named.update(held)
        elif op is sre_c.ANY or op is sre_c.AT:
            continue
        elif op is sre_c.SUBPATTERN:
            if not _name_digits(av[3], named):
                return False
        elif op is sre_c.BRANCH:
            if not all(_name_digits(alt, named) for alt in av[1]):
                return False
        elif op in _ANY_REPEAT:
            if not _name_digits(av[2], named):
                return False
        elif op is sre_c.ASSERT or op is sre_c.ASSERT_NOT:
            if not _name_digits(av[1], named):
                return False
        elif op is getattr(sre_c, "ATOMIC_GROUP", None):
            if not _name_digits(av, named):
                return False
        else:  # a back-reference, a conditional group: the characters themselves are compared
            return False
    return True


def _class_digits(items: Any) -> frozenset[str] | None:
    """Return the ASCII digits a character class holds, or None for an item this does not know."""
    held: set[str] = set()
    negate = False
    for op, av in items:
        if op is sre_c.NEGATE:
            negate = True
        elif op is sre_c.LITERAL:
            if chr(av) in _DIGITS:
                held.add(chr(av))
        elif op is sre_c.RANGE:
            held.update(d for d in _DIGITS if av[0] <= ord(d) <= av[1])
        elif op is sre_c.CATEGORY and av in _CATEGORY_DIGITS:
            held.update(_CATEGORY_DIGITS[av])
        else:
            return None
    return _DIGITS - held if negate else frozenset(held)
