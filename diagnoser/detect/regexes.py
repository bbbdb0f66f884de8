"""Regular-expression helpers: safety checks and literal extraction for the matcher prefilter."""

from __future__ import annotations

import re
from re import _constants as sre_c  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

_REPEATS = (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT)


def regex_problem(pattern: str, flags: int = 0) -> str | None:
    """Return why `pattern` is unusable (invalid or catastrophic backtracking), or None."""
    try:
        parsed = sre_parse.parse(pattern, flags)
        re.compile(pattern, flags)
    except (re.error, OverflowError, RecursionError) as exc:
        return f"bad regular expression {pattern!r}: {exc}"
    if _nested_quantifier(parsed):
        return (
            f"regular expression {pattern!r} nests unbounded quantifiers and can backtrack "
            "catastrophically; rewrite it without a repeated group of repeats"
        )
    return None


def _unbounded(op: Any, av: Any) -> bool:
    return op in _REPEATS and av[1] == sre_c.MAXREPEAT


def _strip_groups(items: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Return the items of a sequence, with a lone capturing/non-capturing group unwrapped."""
    while len(items) == 1 and items[0][0] is sre_c.SUBPATTERN:
        items = list(items[0][1][3])
    return items


def _dominated(items: list[tuple[Any, Any]]) -> bool:
    """Return True when a sequence is an unbounded repeat plus only optional parts."""
    items = _strip_groups(items)
    if len(items) == 1 and items[0][0] is sre_c.BRANCH:
        return any(_dominated(list(alt)) for alt in items[0][1][1])
    repeats = [it for it in items if _unbounded(*it)]
    if not repeats:
        return False
    for op, av in items:
        if _unbounded(op, av):
            continue
        if sre_parse.SubPattern(None, [(op, av)]).getwidth()[0] > 0:  # type: ignore[arg-type]
            return False
    return True


def _nested_quantifier(sub: Any) -> bool:
    for op, av in sub:
        if op in _REPEATS:
            lo, hi, body = av
            if (hi == sre_c.MAXREPEAT or hi > 1) and _dominated(list(body)):
                return True
            if _nested_quantifier(body):
                return True
        elif op is sre_c.SUBPATTERN:
            if _nested_quantifier(av[3]):
                return True
        elif op is sre_c.BRANCH:
            if any(_nested_quantifier(alt) for alt in av[1]):
                return True
        elif op in (sre_c.ASSERT, sre_c.ASSERT_NOT):
            if _nested_quantifier(av[1]):
                return True
        elif op is sre_c.ATOMIC_GROUP:
            continue  # atomic groups never backtrack into themselves
    return False


MIN_NEEDLE = 3  # shorter literals match nearly every line: no use as a prefilter


def _better(a: frozenset[str], b: frozenset[str] | None) -> bool:
    """Return True when needle set `a` filters better than `b`: longer shortest needle, then fewer needles."""
    if b is None:
        return True
    return (min(map(len, a)), -len(a)) > (min(map(len, b)), -len(b))


def _seq_needles(items: Any) -> frozenset[str] | None:
    """Return the best set of literals one of which every match of this sequence contains."""
    best: frozenset[str] | None = None
    run: list[str] = []

    def consider(candidate: frozenset[str] | None) -> None:
        nonlocal best
        if candidate and all(len(n) >= MIN_NEEDLE for n in candidate) and _better(candidate, best):
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
            consider(_seq_needles(av[3]))
        elif op is sre_c.BRANCH:
            alternatives = [_seq_needles(alt) for alt in av[1]]
            if all(alternatives):
                consider(frozenset().union(*alternatives))  # type: ignore[arg-type]
        elif op in _REPEATS and av[0] >= 1:
            consider(_seq_needles(av[2]))
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
    try:
        parsed = sre_parse.parse(pattern, flags)
    except (re.error, OverflowError, RecursionError):
        needles = None
    else:
        needles = _seq_needles(list(parsed))
    answer = tuple(sorted(needles)) if needles else None
    if len(LITERALS_MEMO) < 65536:
        LITERALS_MEMO[key] = answer
    return answer


def matches_empty(pattern: str, flags: int = 0) -> bool:
    """Return True when `pattern` can match the empty string (so it matches every line)."""
    try:
        return re.compile(pattern, flags).search("") is not None
    except re.error:
        return False
