"""Condition grammar: precedence, every construct, and located error messages."""

from __future__ import annotations

import pytest

from diagnoser.detect.condition import (
    MAX_INTEGER,
    MAX_NESTING,
    And,
    Cmp,
    CountCmp,
    Not,
    Of,
    Or,
    Ref,
    Then,
    Within,
    names_used,
    parse_duration,
)
from diagnoser.detect.grammar import parse_condition
from diagnoser.errors import ConditionSyntaxError, Location

NAMES = ("a", "b", "c", "oom_kill", "oom_score", "sigkill", "timeout", "exit_137")


def p(text: str):
    return parse_condition(text, NAMES)


def test_single_name():
    assert p("a") == Ref("a")


def test_precedence_not_then_and_or():
    assert p("a or b and c") == Or((Ref("a"), And((Ref("b"), Ref("c")))))
    assert p("not a and b") == And((Not(Ref("a")), Ref("b")))
    assert p("a and b then c") == And((Ref("a"), Then(("b", "c"))))
    assert p("a then b or c") == Or((Then(("a", "b")), Ref("c")))


def test_parentheses_override_precedence():
    assert p("(a or b) and c") == And((Or((Ref("a"), Ref("b"))), Ref("c")))
    assert p("not (a or b)") == Not(Or((Ref("a"), Ref("b"))))


def test_then_chain():
    assert p("a then b then c") == Then(("a", "b", "c"))


def test_count_comparisons():
    assert p("count(a) >= 3") == CountCmp("a", Cmp.GE, value=3)
    assert p("count(a) > count(b)") == CountCmp("a", Cmp.GT, other="b")
    for op in ("<", "<=", "==", "!="):
        assert p(f"count(a) {op} 2").op is Cmp(op)


def test_quantifiers():
    assert p("any of them") == Of(1, NAMES, "any of them")
    assert p("all of them").need == len(NAMES)
    assert p("2 of (a, b, c)") == Of(2, ("a", "b", "c"), "2 of (a, b, c)")
    assert p("any of oom_*") == Of(1, ("oom_kill", "oom_score"), "any of oom_*")
    assert p("all of oom_*").need == 2


def test_within_on_whole_condition_and_on_group():
    assert p("a and b within 5m") == Within(And((Ref("a"), Ref("b"))), 300)
    assert p("(a then b within 30s) or c") == Or((Within(Then(("a", "b")), 30), Ref("c")))
    assert p("count(a) >= 2 within 1h") == Within(CountCmp("a", Cmp.GE, value=2), 3600)


def test_keywords_need_word_boundaries():
    names = ("android", "order", "nothing", "thenx")
    assert parse_condition("android and order or nothing and thenx", names) == Or(
        (And((Ref("android"), Ref("order"))), And((Ref("nothing"), Ref("thenx"))))
    )


def test_names_used_in_order():
    assert names_used(p("count(b) > count(a) or (c then a)")) == ("b", "a", "c")


def test_parse_is_cached_and_ast_is_frozen():
    first = p("a and (b or c)")
    assert p("a and (b or c)") is first
    with pytest.raises(AttributeError):
        first.items = ()  # type: ignore[misc]


def test_durations():
    assert parse_duration("5m") == 300
    assert parse_duration("2h") == 7200
    assert parse_duration("10") is None


def error(text: str, names=NAMES) -> str:
    with pytest.raises(ConditionSyntaxError) as info:
        parse_condition(text, names, lambda off: Location("r.yaml", 7, 12 + off))
    return str(info.value)


@pytest.mark.parametrize(
    ("text", "col", "what"),
    [
        ("(a and b", 12, "unclosed '(' in condition (add a ')')"),
        ("a and b)", 19, "unmatched ')'"),
        ("a and sigkil", 18, "unknown matcher 'sigkil' in condition (did you mean 'sigkill'?)"),
        ("a AND b", 14, "keywords are lowercase: 'and'"),
        ("a and", 17, "'and' needs a right operand"),
        ("or a", 12, "'or' needs a left operand"),
        ("a b", 14, "missing 'and', 'or' or 'then' before 'b'"),
        ("a within 5", 21, "'within' needs a duration"),
        ("a within 5d", 21, "bad duration '5d'"),
        ("(a and b) within 5m or c", 32, "must end the condition or a parenthesized group"),
        ("not a then b", 12, "operands of 'then' must be matcher names"),
        ("count(a)", 12, "'count' takes one matcher and a comparison"),
        ("count(a) = 2", 21, "unexpected character '='"),
        ("any of zz_*", 19, "pattern 'zz_*' matches no matcher"),
        ("4 of (a, b, c)", 17, "can never hold"),
        ("them", 12, "'them' only follows"),
        ("", 12, "empty condition"),
    ],
)
def test_errors_are_located_with_a_caret(text, col, what):
    message = error(text)
    head, *rest = message.split("\n")
    assert head.startswith(f"r.yaml:7:{col}: ")
    assert what in head
    assert rest[0] == "    " + text
    assert rest[1] == "    " + " " * (col - 12) + "^"


def test_unknown_name_without_close_match_lists_matchers():
    assert "(matchers: x, y)" in error("zzz", ("x", "y"))


def test_nesting_deeper_than_the_limit_is_a_located_error():
    # 44 levels of parentheses used to exhaust the stack inside pyparsing (RecursionError)
    for depth in (MAX_NESTING + 1, 44, 500):
        text = "(" * depth + "a" + ")" * depth
        head = error(text).split("\n")[0]
        assert head.startswith(f"r.yaml:7:{12 + MAX_NESTING}: condition nested too deeply"), head
    assert "nested too deeply" in error("not " * 200 + "a")
    assert "nested too deeply" in error("not (" * 40 + "a" + ")" * 40)


def test_nesting_up_to_the_limit_parses_and_flat_conditions_are_not_nesting():
    deepest = "(" * MAX_NESTING + "a" + ")" * MAX_NESTING
    assert p(deepest) == Ref("a")
    half = MAX_NESTING // 2
    assert p("not (" * half + "a" + ")" * half) is not None
    # `not` ends with its operand: many negations side by side are no deeper than one
    flat = " and ".join(["not a", "not (b or c)", "not count(a) >= 2", "not 2 of (a, b)"] * 20)
    assert isinstance(p(flat), And)


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("count(a) >= 99999999999999999999", "number 99999999999999999999 too large in condition"),
        (f"count(a) > {MAX_INTEGER + 1}", "too large"),
        ("99999999999999999999 of (a, b)", "too large"),
        ("a within 99999999999999999999999m", "window '99999999999999999999999m' too long"),
        ("a within " + "9" * 5000 + "s", "too long"),  # beyond what int() converts at all
    ],
    ids=["count", "count-limit", "quantity", "window", "window-5000-digits"],
)
def test_numbers_too_large_are_located_errors(text, what):
    head = error(text).split("\n")[0]
    assert head.startswith("r.yaml:7:"), head
    assert what in head


def test_the_largest_number_parses():
    assert p(f"count(a) >= {MAX_INTEGER}") == CountCmp("a", Cmp.GE, value=MAX_INTEGER)
