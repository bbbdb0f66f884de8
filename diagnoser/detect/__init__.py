"""Stage 3: detection. YAML rules (loader, condition grammar, streaming engine, lint, self-test).

Names are imported on first use (PEP 562, diagnoser/lazy.py): `diagnose` needs the engine and the
loader, not the linter or the self-test, and start-up time is part of the budget.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from diagnoser.lazy import lazy_names

if TYPE_CHECKING:
    from diagnoser.detect.engine import Engine
    from diagnoser.detect.lint import LintIssue, lint_rules
    from diagnoser.detect.loader import load_rules
    from diagnoser.detect.rules import Rule
    from diagnoser.detect.selftest import ExampleResult, run_example, run_examples

_HOMES = {
    "Engine": "engine",
    "ExampleResult": "selftest",
    "LintIssue": "lint",
    "Rule": "rules",
    "lint_rules": "lint",
    "load_rules": "loader",
    "run_example": "selftest",
    "run_examples": "selftest",
}

__all__ = [
    "Engine",
    "ExampleResult",
    "LintIssue",
    "Rule",
    "lint_rules",
    "load_rules",
    "run_example",
    "run_examples",
]

__getattr__ = lazy_names(globals(), _HOMES)
