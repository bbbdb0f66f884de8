"""Replay every input the fuzzers ever crashed on (tests/fuzz/regressions/TARGET/NAME) against its target."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz.targets import TARGETS

HERE = Path(__file__).resolve().parent / "regressions"
CASES = sorted(p for p in HERE.glob("*/*") if p.is_file() and p.parent.name in TARGETS)


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.name}" for p in CASES])
def test_fuzz_regression(path):
    TARGETS[path.parent.name](path.read_bytes())


def test_every_regression_names_a_target():
    assert all(p.parent.name in TARGETS for p in HERE.glob("*/*") if p.is_file()), sorted(TARGETS)


def test_access_durations_with_two_dots_are_not_durations():
    """Crasher from the parse harness: `15.1.265ms` matched `[\\d.]+` and float() raised (line went plain)."""
    from diagnoser.model import RawLine
    from diagnoser.parse import parse_lines

    (ev,) = parse_lines(
        [RawLine("x", 1, "2026-11-25 02:32:27,030 I [4916] azmlinfsrv - POST /score 500 15.1.265ms 44")]
    )
    assert ev.format == "azmlinfsrv" and "duration_ms" not in ev.fields
    (ev,) = parse_lines(
        [RawLine("x", 1, "2026-11-25 02:32:27,030 I [4916] azmlinfsrv - POST /score 500 15.265ms 44")]
    )
    assert ev.fields["duration_ms"] == 15.265 and ev.fields["status"] == 500


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("any of of", "pattern 'of' matches no matcher (matchers: a, b)"),
        ("any of any", "pattern 'any' matches no matcher (matchers: a, b)"),
        ("a within 99999999999m", "window longer than 366 days (a window is minutes or hours)"),
    ],
)
def test_condition_crashers_are_located_errors(condition, message):
    """Crashers from the condition harness: a keyword taken as an empty pattern; a window that overflowed."""
    from diagnoser.detect.grammar import parse_condition
    from diagnoser.errors import RuleError

    with pytest.raises(RuleError) as info:
        parse_condition(condition, ("a", "b"))
    assert str(info.value).splitlines()[0] == message


def test_huge_rule_window_is_a_located_error(tmp_path):
    """Crasher from the rule harness: `window: 1411…1m` overflowed timedelta."""
    from diagnoser.detect.loader import load_rule_text

    text = (
        "id: r\ncause: c\ntitle: t\nseverity: high\nmatch: {a: {message|contains: x}}\n"
        "condition: a\nwindow: 99999999999999m\n"
    )
    rule, errors = load_rule_text(text, tmp_path / "r.yaml")
    assert rule is None
    assert [str(e) for e in errors] == [
        f"{tmp_path / 'r.yaml'}:7:9: window '99999999999999m'"
        f" longer than 366 days (a window is minutes or hours)"
    ]
