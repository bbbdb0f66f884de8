"""Conditions: the frozen AST, its walkers and the language's constants; see docs/RULES.md.

The parser (grammar.py, `parse_condition`) stands above this module and is imported only when a
condition must be parsed: rules from the start-up cache arrive as ASTs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum

KEYWORDS = ("and", "or", "not", "then", "within", "count", "any", "all", "of", "them")
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600}
MAX_WINDOW_SECONDS = 366 * 86400  # longer windows are typos (and overflow time arithmetic)
# Nesting levels (parentheses and `not`) a condition may have: the parser and the AST's walkers recurse
# once per level, and 44 levels of parentheses exhausted Python's stack. Shipped rules use at most 5.
MAX_NESTING = 16
# The largest number a condition or a field test may name: JSON's safe integer, so the rule-set cache
# (64-bit integers at most) and float comparisons both hold it exactly; no log has more lines than this.
MAX_INTEGER = 2**53 - 1
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class Cmp(StrEnum):
    """Comparison operators of `count(...)` terms."""

    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    EQ = "=="
    NE = "!="

    def holds(self, left: int, right: int) -> bool:
        """Return the truth of `left OP right`."""
        return _CMP_FUNCS[self](left, right)


_CMP_FUNCS: dict[Cmp, Callable[[int, int], bool]] = {
    Cmp.GT: lambda a, b: a > b,
    Cmp.GE: lambda a, b: a >= b,
    Cmp.LT: lambda a, b: a < b,
    Cmp.LE: lambda a, b: a <= b,
    Cmp.EQ: lambda a, b: a == b,
    Cmp.NE: lambda a, b: a != b,
}


@dataclass(frozen=True, slots=True)
class Ref:
    """A matcher name: true when the matcher hit at least one event."""

    name: str


@dataclass(frozen=True, slots=True)
class CountCmp:
    """`count(name) OP n` or `count(name) OP count(other)`."""

    name: str
    op: Cmp
    value: int | None = None
    other: str | None = None


@dataclass(frozen=True, slots=True)
class Of:
    """`any of ...`, `all of ...`, `N of ...`: at least `need` of `names` hit."""

    need: int
    names: tuple[str, ...]
    spelled: str = ""  # as written, for messages


@dataclass(frozen=True, slots=True)
class Then:
    """`a then b [then c ...]`: hits in this order in the input."""

    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class And:
    """All operands hold."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """At least one operand holds."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """The operand does not hold."""

    item: Node


@dataclass(frozen=True, slots=True)
class Within:
    """The operand holds over the hits inside some span of `seconds`."""

    item: Node
    seconds: int


Node = Ref | CountCmp | Of | Then | And | Or | Not | Within


def children(node: Node) -> tuple[Node, ...]:
    """Return the direct sub-conditions of `node`."""
    if isinstance(node, And | Or):
        return node.items
    if isinstance(node, Not | Within):
        return (node.item,)
    return ()


def node_names(node: Node) -> tuple[str, ...]:
    """Return the matcher names `node` itself refers to (not those of its children)."""
    if isinstance(node, Ref):
        return (node.name,)
    if isinstance(node, CountCmp):
        return (node.name,) if node.other is None else (node.name, node.other)
    if isinstance(node, Of | Then):
        return node.names
    return ()


def walk(node: Node) -> Iterator[Node]:
    """Yield `node` and every node below it, depth first."""
    yield node
    for child in children(node):
        yield from walk(child)


def names_used(node: Node) -> tuple[str, ...]:
    """Return every matcher name the condition refers to, in first-use order."""
    seen: dict[str, None] = {}
    for n in walk(node):
        for name in node_names(n):
            seen.setdefault(name)
    return tuple(seen)


def parse_duration(text: str) -> int | None:
    """Return the seconds of a duration such as `5m`, or None when it is not one."""
    m = re.fullmatch(r"(\d+)([smh])", text.strip())
    return int(m.group(1)) * DURATION_UNITS[m.group(2)] if m else None


def unparse(node: Node) -> str:
    """Return a condition string equivalent to `node` (fully parenthesized)."""
    if isinstance(node, Ref):
        return node.name
    if isinstance(node, CountCmp):
        right = str(node.value) if node.other is None else f"count({node.other})"
        return f"count({node.name}) {node.op.value} {right}"
    if isinstance(node, Of):
        return f"{node.need} of ({', '.join(node.names)})"
    if isinstance(node, Then):
        return " then ".join(node.names)
    if isinstance(node, And | Or):
        sep = " and " if isinstance(node, And) else " or "
        return "(" + sep.join(unparse(i) for i in node.items) + ")"
    if isinstance(node, Not):
        return f"not {unparse(node.item)}"
    return f"({unparse(node.item)} within {node.seconds}s)"
