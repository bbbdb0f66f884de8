"""Regular-expression safety: whether a user's or a rule's pattern may run on every log line.

Stage-neutral: rules (detect/loader.py, detect/lint.py) and `--redact-pattern` (redact.py) check
their patterns here before compiling them, so neither stage imports the other for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
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
    if _ambiguous_repeat(list(parsed), parsed.state.flags):
        return (
            f"regular expression {pattern!r} repeats a group that can match the same text in more "
            "than one way and can backtrack catastrophically; make the alternatives of a repeated "
            "group start differently (e.g. '(a|aa)+' -> 'a+')"
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
        if sre_parse.SubPattern(None, [(op, av)]).getwidth()[0] > 0:
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


# --- ambiguous repeats: a repeated group that reads one text in two ways --------------------------
#
# `(a|aa)+$` on "aaaa...!" tries every way of cutting the a's into "a" and "aa" before it fails:
# exponential time. It is the classic exponential-ambiguity test on the group's position automaton
# (Glushkov; Weber & Seidl's criterion, as ReDoS checkers use it): pairs of positions reached by the
# same text; when a cycle of pairs holds both a pair (p, p) and a pair (q, r) with q != r, some text
# loops back in two ways, and each extra turn doubles the work. It runs on the tree after Python's
# parser has merged what it can (`(\w|\d)` becomes one set, which does not backtrack), so it judges
# what the re engine will actually run. Constructs it cannot model (backreferences, lookarounds,
# anchors and word boundaries, local flags) leave the group unjudged: it never rejects on a guess.

_ASCII = 128
_MAX_POSITIONS = 120  # bigger repeated groups are left unjudged (the pair graph grows as its square)
_UNROLL = 4  # a bounded inner repeat up to this many copies is unrolled, beyond that read as unbounded


_Part = tuple[bool, set[int], set[int]]  # (matches the empty text, first positions, last positions)


class _Unjudged(Exception):
    """The group holds a construct the automaton does not model."""


class _Alphabet:
    """Character sets as bit masks: one bit per ASCII character, one per non-ASCII literal, and
    one per Unicode class (digits, other word characters, spaces, the rest) for everything else."""

    def __init__(self, flags: int) -> None:
        self.fold = bool(flags & sre_c.SRE_FLAG_IGNORECASE)
        self.dotall = bool(flags & sre_c.SRE_FLAG_DOTALL)
        self.ascii = bool(flags & sre_c.SRE_FLAG_ASCII)
        self.extra: dict[int, int] = {}  # non-ASCII code point -> its bit
        self.u_digit, self.u_word, self.u_space, self.u_other = (1 << (_ASCII + i) for i in range(4))
        self.next_bit = _ASCII + 4

    def char(self, c: int) -> int:
        chars = {c}
        if self.fold:
            chars |= {ord(x) for x in (chr(c).lower(), chr(c).upper()) if len(x) == 1}
        mask = 0
        for ch in chars:
            if ch < _ASCII:
                mask |= 1 << ch
            else:
                if ch not in self.extra:
                    self.extra[ch] = 1 << self.next_bit
                    self.next_bit += 1
                mask |= self.extra[ch]
        return mask

    def everything(self) -> int:
        return (1 << self.next_bit) - 1

    def category(self, cat: Any) -> int:
        digits = sum(1 << c for c in range(48, 58))
        word = digits | sum(1 << c for c in range(_ASCII) if chr(c).isalpha() or c == 95)
        space = sum(1 << c for c in (9, 10, 11, 12, 13, 32))
        if not self.ascii:
            digits |= self.u_digit | self._extra(str.isdigit)
            word |= self.u_digit | self.u_word | self._extra(lambda ch: ch.isalnum() or ch == "_")
            space |= self.u_space | self._extra(str.isspace)
        table = {
            sre_c.CATEGORY_DIGIT: digits,
            sre_c.CATEGORY_WORD: word,
            sre_c.CATEGORY_SPACE: space,
        }
        negated = {
            sre_c.CATEGORY_NOT_DIGIT: digits,
            sre_c.CATEGORY_NOT_WORD: word,
            sre_c.CATEGORY_NOT_SPACE: space,
        }
        if cat in table:
            return table[cat]
        if cat in negated:
            return self.everything() & ~negated[cat]
        raise _Unjudged(cat)

    def _extra(self, test: Any) -> int:
        return sum(bit for ch, bit in self.extra.items() if test(chr(ch)))


def _literals(items: Any, into: set[int]) -> None:
    """Collect the non-ASCII literal code points of a parsed pattern (their bits come first)."""
    for op, av in items:
        if op in (sre_c.LITERAL, sre_c.NOT_LITERAL) and av >= _ASCII:
            into.add(av)
        elif op is sre_c.IN:
            for iop, iav in av:
                if iop is sre_c.LITERAL and iav >= _ASCII:
                    into.add(iav)
        elif op is sre_c.SUBPATTERN:
            _literals(av[3], into)
        elif op is sre_c.BRANCH:
            for alt in av[1]:
                _literals(alt, into)
        elif op in _REPEATS:
            _literals(av[2], into)


class _Glushkov:
    """The position automaton of a parsed group: positions, the set each reads, and what follows."""

    def __init__(self, alphabet: _Alphabet) -> None:
        self.ab = alphabet
        self.sets: list[int] = []
        self.follow: list[set[int]] = []

    def _position(self, mask: int) -> _Part:
        if len(self.sets) >= _MAX_POSITIONS:
            raise _Unjudged("too big")
        self.sets.append(mask)
        self.follow.append(set())
        p = len(self.sets) - 1
        return False, {p}, {p}

    def _set(self, items: Any) -> int:
        ab = self.ab
        mask, negate = 0, False
        for op, av in items:
            if op is sre_c.NEGATE:
                negate = True
            elif op is sre_c.LITERAL:
                mask |= ab.char(av)
            elif op is sre_c.RANGE:
                lo, hi = av
                if hi - lo > 4096:
                    raise _Unjudged("range")
                for c in range(lo, hi + 1):
                    mask |= ab.char(c) if c < _ASCII or c in ab.extra else 0
                if hi >= _ASCII:
                    mask |= ab.u_digit | ab.u_word | ab.u_space | ab.u_other  # wide ranges: any class
            elif op is sre_c.CATEGORY:
                mask |= ab.category(av)
            else:
                raise _Unjudged(op)
        return ab.everything() & ~mask if negate else mask

    def seq(self, items: Any) -> _Part:
        """Return (nullable, first, last) of a sequence, adding its positions and follow links."""
        parts = [self.node(op, av) for op, av in items]
        return self._chain(parts, optional_from=len(parts))

    def node(self, op: Any, av: Any) -> _Part:
        ab = self.ab
        if op is sre_c.LITERAL:
            return self._position(ab.char(av))
        if op is sre_c.NOT_LITERAL:
            return self._position(ab.everything() & ~ab.char(av))
        if op is sre_c.ANY:
            return self._position(ab.everything() if ab.dotall else ab.everything() & ~(1 << 10))
        if op is sre_c.IN:
            return self._position(self._set(av))
        if op is sre_c.AT:
            raise _Unjudged(av)  # an anchor or a word boundary can cut the ambiguity: do not guess
        if op is sre_c.SUBPATTERN:
            if av[1] or av[2]:
                raise _Unjudged("local flags")
            return self.seq(av[3])
        if op is sre_c.BRANCH:
            nullable = False
            first: set[int] = set()
            last: set[int] = set()
            for alt in av[1]:
                n, f, lst = self.seq(alt)
                nullable, first, last = nullable or n, first | f, last | lst
            return nullable, first, last
        if op in _REPEATS:
            lo, hi, body = av
            if hi == sre_c.MAXREPEAT or hi > _UNROLL:
                n, f, lst = self.seq(body)
                for p in lst:
                    self.follow[p] |= f
                copies = [(n, f, lst)]
                for _ in range(min(lo, _UNROLL) - 1):  # the required copies before the loop
                    copies.insert(0, self.seq(body))
                return self._chain(copies, optional_from=min(lo, _UNROLL) if lo else 0)
            copies = [self.seq(body) for _ in range(hi)]
            return self._chain(copies, optional_from=lo)
        raise _Unjudged(op)

    def _chain(self, parts: list[_Part], optional_from: int) -> _Part:
        """Return the concatenation of `parts`, those from index `optional_from` on optional."""
        nullable = True
        first: set[int] = set()
        last: set[int] = set()
        for i, (n, f, lst) in enumerate(parts):
            n = n or i >= optional_from
            for p in last:
                self.follow[p] |= f
            if nullable:
                first |= f
            last = (last | lst) if n else lst
            nullable = nullable and n
        return nullable, first, last


def _loops_two_ways(body: Any, flags: int) -> bool:
    """Return True when `(body)+` can read one text around its loop in two ways."""
    ab = _Alphabet(flags)
    extra: set[int] = set()
    _literals(body, extra)
    for ch in sorted(extra):
        ab.char(ch)
    g = _Glushkov(ab)
    try:
        _, first, last = g.seq(body)
    except _Unjudged:
        return False
    for p in last:
        g.follow[p] |= first  # the loop
    sets, follow = g.sets, g.follow
    # The pair graph: (x, y) when one text can end at position x on one path and at y on another.
    start = [(x, y) for x in first for y in first if sets[x] & sets[y]]
    graph: dict[tuple[int, int], list[tuple[int, int]]] = {}
    todo = list(start)
    seen = set(start)
    while todo:
        a, b = todo.pop()
        succ = [(x, y) for x in follow[a] for y in follow[b] if sets[x] & sets[y]]
        graph[(a, b)] = succ
        for nxt in succ:
            if nxt not in seen:
                if len(seen) >= _MAX_PAIRS:
                    return False  # too big to judge
                seen.add(nxt)
                todo.append(nxt)
    return any(any(a == b for a, b in comp) and any(a != b for a, b in comp) for comp in _components(graph))


_MAX_PAIRS = 20_000


def _components(graph: dict[tuple[int, int], list[tuple[int, int]]]) -> Iterator[list[tuple[int, int]]]:
    """Yield the strongly connected components of `graph` (Kosaraju, iterative)."""
    order: list[tuple[int, int]] = []
    done: set[tuple[int, int]] = set()
    for root in graph:
        if root in done:
            continue
        done.add(root)
        stack = [(root, iter(graph[root]))]
        while stack:
            node, it = stack[-1]
            for nxt in it:
                if nxt not in done:
                    done.add(nxt)
                    stack.append((nxt, iter(graph[nxt])))
                    break
            else:
                stack.pop()
                order.append(node)
    reverse: dict[tuple[int, int], list[tuple[int, int]]] = {v: [] for v in graph}
    for v, succ in graph.items():
        for w in succ:
            reverse[w].append(v)
    assigned: set[tuple[int, int]] = set()
    for root in reversed(order):
        if root in assigned:
            continue
        comp, todo = [root], [root]
        assigned.add(root)
        while todo:
            for w in reverse[todo.pop()]:
                if w not in assigned:
                    assigned.add(w)
                    comp.append(w)
                    todo.append(w)
        yield comp


def _ambiguous_repeat(items: Any, flags: int) -> bool:
    """Return True when a group repeated more than once can read one text in two ways."""
    for op, av in items:
        if op in _REPEATS:
            lo, hi, body = av
            if hi > 1 and _loops_two_ways(list(body), flags):
                return True
            if _ambiguous_repeat(body, flags):
                return True
        elif op is sre_c.SUBPATTERN:
            if _ambiguous_repeat(av[3], flags | av[1]):
                return True
        elif op is sre_c.BRANCH:
            if any(_ambiguous_repeat(alt, flags) for alt in av[1]):
                return True
        elif op in (sre_c.ASSERT, sre_c.ASSERT_NOT):
            if _ambiguous_repeat(av[1], flags):
                return True
    return False


def matches_empty(pattern: str, flags: int = 0) -> bool:
    """Return True when `pattern` can match the empty string (so it matches every line)."""
    try:
        return re.compile(pattern, flags).search("") is not None
    except re.error:
        return False
