"""The shipped rules load and lint clean."""

from __future__ import annotations

import pytest

from diagnoser.detect.lint import lint_rules
from diagnoser.detect.loader import load_rules
from diagnoser.errors import RuleLoadErrors
from tests.conftest import SEED_CAUSES

try:
    RULES = load_rules()
    LOAD_ERRORS = ""
except RuleLoadErrors as exc:
    RULES = ()
    LOAD_ERRORS = str(exc)


def test_shipped_rules_load():
    assert not LOAD_ERRORS, LOAD_ERRORS


@pytest.mark.skipif(not RULES, reason="no loadable shipped rules in rules/ yet")
def test_shipped_rules_lint_clean():
    issues = lint_rules(RULES)
    assert not issues, "\n".join(str(i) for i in issues)


def test_each_documented_cause_has_three_positive_and_three_negative_examples():
    from collections import Counter

    from diagnoser.detect import load_rules

    rules = load_rules()
    positive = Counter(r.cause for r in rules for _ in r.examples.positive)
    negative = Counter(r.cause for r in rules for _ in r.examples.negative)
    short = {c: (positive[c], negative[c]) for c in SEED_CAUSES if positive[c] < 3 or negative[c] < 3}
    assert not short, f"causes with fewer than 3 positive or negative examples: {short}"
