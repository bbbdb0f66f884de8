"""Literal extraction for the matcher prefilter: the text every match of a rule's regex contains.

Regex safety (is a pattern usable at all) is stage-neutral and lives in diagnoser/regexsafety.py.
"""

from __future__ import annotations

import re
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
