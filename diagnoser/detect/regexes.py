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


def required_literal(pattern: str, flags: int = 0) -> str | None:
    """Return the longest ASCII literal (lowercased) every match of `pattern` contains, or None."""
    try:
        parsed = sre_parse.parse(pattern, flags)
    except (re.error, OverflowError, RecursionError):
        return None
    runs: list[str] = []
    current: list[str] = []

    def brk() -> None:
        if current:
            runs.append("".join(current))
            current.clear()

    def walk(sub: Any) -> None:
        for op, av in sub:
            if op is sre_c.LITERAL and av < 128:
                current.append(chr(av).lower())
            elif op is sre_c.SUBPATTERN:
                walk(av[3])
            elif op in _REPEATS and av[0] >= 1:
                brk()
                walk(av[2])
                brk()
            elif op is sre_c.AT:
                continue  # zero-width: the literal run stays contiguous
            else:
                brk()

    walk(parsed)
    brk()
    best = max(runs, key=len, default="")
    return best or None


def matches_empty(pattern: str, flags: int = 0) -> bool:
    """Return True when `pattern` can match the empty string (so it matches every line)."""
    try:
        return re.compile(pattern, flags).search("") is not None
    except re.error:
        return False
