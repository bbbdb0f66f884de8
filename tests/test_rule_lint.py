"""The shipped rules load and lint clean."""

from __future__ import annotations

import pytest

from diagnoser.detect.lint import lint_rules
from diagnoser.detect.loader import load_rules
from diagnoser.errors import RuleLoadErrors

try:
    RULES = load_rules()
    LOAD_ERRORS = ""
except RuleLoadErrors as exc:
    RULES = ()
    LOAD_ERRORS = str(exc)


def test_shipped_rules_load():
    assert not LOAD_ERRORS, LOAD_ERRORS


@pytest.mark.skipif(not RULES, reason="no loadable shipped rules in diagnoser/rules/ yet")
def test_shipped_rules_lint_clean():
    issues = lint_rules(RULES)
    assert not issues, "\n".join(str(i) for i in issues)
