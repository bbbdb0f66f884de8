"""Every example of every shipped rule, run through the real parser and engine (as `rules test` does)."""

from __future__ import annotations

import pytest

from diagnoser.detect.loader import load_rules
from diagnoser.detect.selftest import example_cases, run_example
from diagnoser.errors import RuleLoadErrors

try:
    RULES = load_rules()
    SKIP_REASON = "no shipped rules with examples in rules/ yet"
except RuleLoadErrors as exc:  # reported as a failure by tests/test_rule_lint.py
    RULES = ()
    SKIP_REASON = f"shipped rules do not load:\n{exc}"
CASES = [
    pytest.param(
        rule,
        kind,
        index,
        text,
        id=f"{rule.id}/{kind.value}[{index}]",
        marks=[pytest.mark.xfail(strict=True, reason=f"known gap: {kind.value}")] if kind.todo else [],
    )
    for rule, kind, index, text in example_cases(RULES)
]


@pytest.mark.skipif(not CASES, reason=SKIP_REASON)
@pytest.mark.parametrize(
    ("rule", "kind", "index", "text"), CASES or [pytest.param(None, None, 0, "", id="none")]
)
def test_rule_example(rule, kind, index, text):
    result = run_example(rule, text, kind, index)
    verb = "fire" if kind.should_fire else "stay silent"
    assert result.correct, f"{result.name}: the rule should {verb} on:\n{text}"
