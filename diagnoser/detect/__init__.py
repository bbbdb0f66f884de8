"""Stage 3: detection. YAML rules (loader, condition grammar, streaming engine, lint, self-test)."""

from __future__ import annotations

from diagnoser.detect.engine import Engine
from diagnoser.detect.lint import LintIssue, lint_rules
from diagnoser.detect.loader import load_rules
from diagnoser.detect.rules import Rule
from diagnoser.detect.selftest import ExampleResult, run_example, run_examples

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
