"""Run a rule's examples through the real parser and engine, as `diagnoser rules test` and pytest do."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

from diagnoser.detect.engine import Engine
from diagnoser.detect.rules import ExampleKind, Rule
from diagnoser.model import Finding, RawLine

EXAMPLE_SOURCE = "example"


class Outcome(StrEnum):
    """How an example turned out."""

    PASS = "pass"  # positive fired / negative did not
    FAIL = "fail"  # the rule misclassified an example it must get right
    TODO = "todo"  # a known gap is still a gap (expected)
    FIXED = "fixed"  # a known gap now passes: move the example out of todo_*


@dataclass(frozen=True, slots=True)
class ExampleResult:
    """The outcome of running one example of one rule."""

    rule: str
    kind: ExampleKind
    index: int
    fired: bool
    finding: Finding | None = None

    @property
    def correct(self) -> bool:
        """Return True when the rule did what the example's kind says it should."""
        return self.fired == self.kind.should_fire

    @property
    def outcome(self) -> Outcome:
        """Return pass / fail / todo / fixed."""
        if self.kind.todo:
            return Outcome.FIXED if self.correct else Outcome.TODO
        return Outcome.PASS if self.correct else Outcome.FAIL

    @property
    def ok(self) -> bool:
        """Return True unless the example fails or a todo was fixed (both need a change)."""
        return self.outcome in (Outcome.PASS, Outcome.TODO)

    @property
    def name(self) -> str:
        """Return the example's id, e.g. `oom-worker-reboot/positive[0]`."""
        return f"{self.rule}/{self.kind.value}[{self.index}]"


def _lines(text: str) -> Iterator[RawLine]:
    for i, line in enumerate(text.splitlines(), start=1):
        yield RawLine(source=EXAMPLE_SOURCE, line=i, text=line)


def run_example(
    rule: Rule, text: str, kind: ExampleKind = ExampleKind.POSITIVE, index: int = 0
) -> ExampleResult:
    """Parse `text` (source "example") and run an engine holding only `rule` over it."""
    from diagnoser.parse import parse_lines  # the parser stage is only needed to run examples

    engine = Engine([rule])
    for event in parse_lines(_lines(text)):
        engine.feed(event)
    finding = next((f for f in engine.finish() if f.rule == rule.id), None)
    return ExampleResult(rule=rule.id, kind=kind, index=index, fired=finding is not None, finding=finding)


def example_cases(rules: Sequence[Rule]) -> Iterator[tuple[Rule, ExampleKind, int, str]]:
    """Yield (rule, kind, index, text) for every example of every rule."""
    for rule in rules:
        for kind in ExampleKind:
            for index, text in enumerate(rule.examples.of(kind)):
                yield rule, kind, index, text


def run_examples(rules: Sequence[Rule]) -> list[ExampleResult]:
    """Run every example of every rule and return the results in rule, kind, index order."""
    return [run_example(rule, text, kind, index) for rule, kind, index, text in example_cases(rules)]
