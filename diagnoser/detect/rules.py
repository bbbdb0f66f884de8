"""Typed rule model: a YAML rule file becomes a frozen Rule of Matchers and a parsed condition."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from pathlib import Path

from diagnoser.detect.condition import Node
from diagnoser.errors import Location
from diagnoser.model import Severity

RULE_KEYS = (
    "id",
    "cause",
    "title",
    "severity",
    "status",
    "confidence",
    "sources",
    "supersedes",
    "match",
    "condition",
    "window",
    "explain",
    "examples",
)
EXAMPLE_KEYS = ("positive", "negative", "todo_positive", "todo_negative")
PLAIN_FIELDS = ("message", "text", "format", "component", "level", "stream", "source", "pid")
FIELD_PREFIX = "fields."
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\Z")


def as_number(value: object) -> float | None:
    """Return `value` as a float when it is a number or a numeric string, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and _NUMBER_RE.match(value.strip()):
        return float(value)
    return None


def as_text(value: object) -> str:
    """Return a rule or event value as text (booleans as true/false, enums as their value)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, StrEnum):
        return value.value
    return str(value)


class Op(StrEnum):
    """How a field test compares an event field with its values."""

    EQ = "eq"
    CONTAINS = "contains"
    STARTSWITH = "startswith"
    ENDSWITH = "endswith"
    RE = "re"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    EXISTS = "exists"

    @property
    def numeric(self) -> bool:
        """Return True for the ordering operators, which compare numbers only."""
        return self in (Op.GT, Op.GTE, Op.LT, Op.LTE)

    @property
    def textual(self) -> bool:
        """Return True for the substring operators."""
        return self in (Op.CONTAINS, Op.STARTSWITH, Op.ENDSWITH)


class Modifier(StrEnum):
    """Modifiers a field test may carry after its operator."""

    I = "i"  # noqa: E741 - the spelling rule files use
    ALL = "all"


class Status(StrEnum):
    """Maturity of a rule."""

    EXPERIMENTAL = "experimental"
    STABLE = "stable"
    DEPRECATED = "deprecated"


class ExampleKind(StrEnum):
    """The four kinds of rule examples; todo kinds are known gaps (strict xfail)."""

    POSITIVE = "positive"
    NEGATIVE = "negative"
    TODO_POSITIVE = "todo_positive"
    TODO_NEGATIVE = "todo_negative"

    @property
    def should_fire(self) -> bool:
        """Return True when the rule ought to fire on examples of this kind."""
        return self in (ExampleKind.POSITIVE, ExampleKind.TODO_POSITIVE)

    @property
    def todo(self) -> bool:
        """Return True for known gaps, which are expected to fail."""
        return self in (ExampleKind.TODO_POSITIVE, ExampleKind.TODO_NEGATIVE)


@dataclass(frozen=True, slots=True)
class KeyRef:
    """A mapping key as written in a rule file, with where it is."""

    name: str
    location: Location | None = None


@dataclass(frozen=True, slots=True)
class FieldTest:
    """One `field|op|modifiers: value(s)` test of a matcher."""

    field: str  # "message", "level", "fields.exit_code", ...
    op: Op
    values: tuple[str | int | float | bool, ...]
    ignore_case: bool = False
    all: bool = False  # every value must match instead of any
    location: Location | None = None

    @property
    def flags(self) -> int:
        """Return the `re` flags of this test's regular expressions."""
        return re.IGNORECASE if self.ignore_case else 0

    @property
    def patterns(self) -> tuple[str, ...]:
        """Return the regular expressions of an `re` test as written (empty for other operators)."""
        return tuple(self.values) if self.op is Op.RE else ()  # type: ignore[arg-type]

    @property
    def regexes(self) -> tuple[re.Pattern[str], ...]:
        """Return the compiled regular expressions of an `re` test (compiled on demand, `re` caches them)."""
        flags = self.flags
        return tuple(re.compile(p, flags) for p in self.patterns)

    @property
    def key(self) -> str:
        """Return the key as a rule file spells it."""
        parts = [self.field]
        if self.op is not Op.EQ:
            parts.append(self.op.value)
        if self.ignore_case:
            parts.append(Modifier.I.value)
        if self.all:
            parts.append(Modifier.ALL.value)
        return "|".join(parts)


@dataclass(frozen=True, slots=True)
class Matcher:
    """A named conjunction of field tests; it hits an event when every test holds."""

    name: str
    tests: tuple[FieldTest, ...]
    location: Location | None = None

    @property
    def capture_names(self) -> tuple[str, ...]:
        """Return the named regex groups this matcher captures."""
        names: list[str] = []
        for test in self.tests:
            for rx in test.regexes:
                names.extend(n for n in rx.groupindex if n not in names)
        return tuple(names)


@dataclass(frozen=True, slots=True)
class Examples:
    """Log snippets a rule must (or, for todo kinds, is known not to) classify correctly."""

    positive: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()
    todo_positive: tuple[str, ...] = ()
    todo_negative: tuple[str, ...] = ()
    keys: tuple[KeyRef, ...] = ()  # keys as written, for lint
    location: Location | None = None

    def of(self, kind: ExampleKind) -> tuple[str, ...]:
        """Return the examples of one kind."""
        return tuple(getattr(self, kind.value))


@dataclass(frozen=True, slots=True)
class Rule:
    """A loaded, validated rule; the condition is parsed once, at load."""

    id: str
    cause: str
    title: str
    severity: Severity
    matchers: tuple[Matcher, ...]
    condition: str
    ast: Node
    status: Status = Status.EXPERIMENTAL
    confidence: float = 0.8
    sources: tuple[str, ...] = ()
    supersedes: tuple[str, ...] = ()
    window: timedelta | None = None
    explain: str = ""
    examples: Examples = Examples()
    path: Path | None = None
    keys: tuple[KeyRef, ...] = ()  # top-level keys as written, for lint
    condition_location: Location | None = None

    @property
    def matcher_names(self) -> tuple[str, ...]:
        """Return the names of the matchers in file order."""
        return tuple(m.name for m in self.matchers)

    def matcher(self, name: str) -> Matcher:
        """Return the matcher called `name`, or raise KeyError."""
        for m in self.matchers:
            if m.name == name:
                return m
        raise KeyError(name)

    def location(self, key: str | None = None) -> Location | None:
        """Return where top-level `key` (or the file itself) is."""
        for ref in self.keys:
            if ref.name == key:
                return ref.location
        return Location(str(self.path)) if self.path is not None else None
