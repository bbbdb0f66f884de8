"""Condition text -> AST: pre-checks that give clear messages, the pyparsing grammar, name resolution.

Imported by the loader only when a rule's condition must be parsed: a run whose rules come from
the start-up cache never needs it (pyparsing, its tokenizer and two dataclasses).
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from diagnoser.detect.condition import (
    KEYWORDS,
    MAX_INTEGER,
    MAX_NESTING,
    MAX_WINDOW_SECONDS,
    And,
    Cmp,
    CountCmp,
    Node,
    Not,
    Of,
    Or,
    Ref,
    Then,
    Within,
    parse_duration,
)
from diagnoser.errors import ConditionSyntaxError, Location, did_you_mean

if TYPE_CHECKING:
    import pyparsing as pp


class Problem(Exception):
    """A condition error at an offset, before it is given a file location."""

    def __init__(self, offset: int, what: str, hint: str | None = None):
        super().__init__(what)
        self.offset = offset
        self.what = what
        self.hint = hint


# --- pre-checks: better messages than pyparsing gives ------------------------------------------

_TOKEN_RE = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<duration>\d+[A-Za-z]\w*)
  | (?P<int>\d+)
  | (?P<word>[A-Za-z_*][A-Za-z0-9_*]*)
  | (?P<cmp>>=|<=|==|!=|>|<)
  | (?P<punct>[(),])
  | (?P<bad>.)
    """,
    re.VERBOSE,
)

_BINARY = ("and", "or", "then")
_STARTS = ("not", "count", "any", "all")


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # word, kw, pattern, int, duration, cmp, punct
    text: str
    offset: int


def _tokens(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    for m in _TOKEN_RE.finditer(text):
        kind = m.lastgroup or "bad"
        value = m.group()
        if kind == "space":
            continue
        if kind == "bad":
            raise Problem(m.start(), f"unexpected character {value!r} in condition")
        if kind == "word":
            if "*" in value:
                kind = "pattern"
            elif value in KEYWORDS:
                kind = "kw"
        toks.append(_Tok(kind, value, m.start()))
    return toks


def _ends_operand(tok: _Tok) -> bool:
    return tok.kind in ("word", "pattern", "int", "duration") or tok.text in (")", "them")


def _starts_operand(tok: _Tok) -> bool:
    return tok.kind in ("word", "int") or tok.text == "(" or tok.text in _STARTS


def _unknown_name(tok: _Tok, names: tuple[str, ...]) -> Problem:
    if tok.text.lower() in KEYWORDS:
        hint: str | None = f"keywords are lowercase: '{tok.text.lower()}'"
    else:
        hint = did_you_mean(tok.text, names)
    if hint is None and names:
        hint = "matchers: " + ", ".join(names)
    return Problem(tok.offset, f"unknown matcher {tok.text!r} in condition", hint)


def _too_large(digits: str) -> bool:
    """Return True when the number spelled by `digits` exceeds MAX_INTEGER (without converting a huge one)."""
    digits = digits.lstrip("0")
    return len(digits) > len(str(MAX_INTEGER)) or (bool(digits) and int(digits) > MAX_INTEGER)


def _check_nesting(toks: list[_Tok]) -> None:
    """Raise Problem at the first token nested deeper than MAX_NESTING levels of `(` and `not`.

    A `not` is a level until its operand ends (a name, a number, a closed group), as the parser nests it.
    """
    levels: list[str] = []
    for i, tok in enumerate(toks):
        if tok.text == "(" or tok.text == "not":
            levels.append(tok.text)
            if len(levels) > MAX_NESTING:
                raise Problem(
                    tok.offset,
                    f"condition nested too deeply (more than {MAX_NESTING} levels of parentheses and 'not')",
                    "split it into simpler terms, or into more than one rule",
                )
            continue
        if tok.text == ")":
            while levels and levels.pop() != "(":
                pass  # the `not`s inside the group end with it
        elif not _ends_operand(tok) or (tok.kind == "int" and i + 1 < len(toks) and toks[i + 1].text == "of"):
            continue
        while levels and levels[-1] == "not":
            levels.pop()  # an operand ended: so do the `not`s waiting for it


def _precheck(text: str, names: tuple[str, ...]) -> None:
    """Raise Problem for unbalanced or too deep parentheses, unknown names, misplaced tokens, huge numbers."""
    if not text.strip():
        raise Problem(0, "empty condition", "name at least one matcher")
    toks = _tokens(text)
    opened: list[_Tok] = []
    for tok in toks:
        if tok.text == "(":
            opened.append(tok)
        elif tok.text == ")":
            if not opened:
                raise Problem(tok.offset, "unmatched ')' in condition", "remove it or add a '(' before it")
            opened.pop()
    if opened:
        raise Problem(opened[-1].offset, "unclosed '(' in condition", "add a ')'")
    _check_nesting(toks)
    for i, tok in enumerate(toks):
        if tok.kind == "int" and _too_large(tok.text):
            raise Problem(tok.offset, f"number {tok.text} too large in condition", f"at most {MAX_INTEGER}")
        prev = toks[i - 1] if i > 0 else None
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        after_of = prev is not None and prev.text == "of"
        if tok.kind == "word" and tok.text not in names:
            raise _unknown_name(tok, names)
        if tok.kind == "pattern":
            if not after_of:
                raise Problem(
                    tok.offset, f"wildcard {tok.text!r} outside a quantifier", "write 'any of oom_*'"
                )
            if not fnmatch.filter(names, tok.text):
                hint = "matchers: " + ", ".join(names)
                raise Problem(tok.offset, f"pattern {tok.text!r} matches no matcher", hint)
        if tok.text == "them" and not after_of:
            raise Problem(tok.offset, "'them' only follows 'any of', 'all of' or 'N of'")
        if tok.kind == "duration":
            if prev is None or prev.text != "within":
                raise Problem(tok.offset, f"unexpected duration {tok.text!r}", "durations follow 'within'")
            if _too_large(tok.text[: len(tok.text) - len(tok.text.lstrip("0123456789"))]):
                raise Problem(tok.offset, f"window {tok.text!r} too long", "a window is minutes or hours")
            if parse_duration(tok.text) is None:
                raise Problem(
                    tok.offset, f"bad duration {tok.text!r}", "use a whole number and s, m or h: 5m"
                )
        if tok.kind == "duration" and nxt is not None and nxt.text != ")":
            raise Problem(
                nxt.offset,
                f"'within {tok.text}' must end the condition or a parenthesized group",
                "it applies to everything before it: write '(a and b within 5m) or c'",
            )
        if tok.text == "count":
            shape = [t.text if t.kind != "word" else "NAME" for t in toks[i + 1 : i + 4]]
            compared = prev is not None and prev.kind == "cmp"
            if shape != ["(", "NAME", ")"] or not (
                compared or (i + 4 < len(toks) and toks[i + 4].kind == "cmp")
            ):
                raise Problem(tok.offset, "'count' takes one matcher and a comparison", "count(name) >= 3")
        if tok.text == "within" and (nxt is None or nxt.kind != "duration"):
            where = nxt.offset if nxt is not None else len(text)
            raise Problem(where, "'within' needs a duration", "for example 'within 5m'")
        if tok.kind == "kw" and tok.text in _BINARY:
            if prev is None or not _ends_operand(prev) or (prev.kind == "int" and after_of):
                raise Problem(tok.offset, f"{tok.text!r} needs a left operand")
            if nxt is None or not _starts_operand(nxt):
                where = nxt.offset if nxt is not None else len(text)
                raise Problem(where, f"{tok.text!r} needs a right operand")
        if (
            prev is not None
            and _ends_operand(prev)
            and _starts_operand(tok)
            and not (prev.kind == "int" and tok.text == "of")
        ):
            raise Problem(tok.offset, f"missing 'and', 'or' or 'then' before {tok.text!r}")


# --- the pyparsing grammar ---------------------------------------------------------------------


def _kw(word: str) -> pp.Keyword:
    import pyparsing as pp  # here, not at the top: cached rule sets never parse conditions

    return pp.Keyword(word, ident_chars=pp.alphanums + "_*")


def _binary(cls: type[And] | type[Or]) -> Callable[[pp.ParseResults], Node]:
    def action(toks: pp.ParseResults) -> Node:
        items = tuple(toks)
        return items[0] if len(items) == 1 else cls(items)

    return action


def _then_action(s: str, loc: int, toks: pp.ParseResults) -> Node:
    import pyparsing as pp  # here, not at the top: cached rule sets never parse conditions

    located = [(g[0], g[1][0]) for g in toks]
    if len(located) == 1:
        return located[0][1]
    for start, node in located:
        if not isinstance(node, Ref):
            raise pp.ParseFatalException(s, start, "operands of 'then' must be matcher names")
    return Then(tuple(node.name for _, node in located if isinstance(node, Ref)))


def _count_action(toks: pp.ParseResults) -> CountCmp:
    right = toks[2]
    if isinstance(right, str):
        return CountCmp(toks[0], Cmp(toks[1]), other=right)
    return CountCmp(toks[0], Cmp(toks[1]), value=int(right))


@functools.cache
def _grammar() -> pp.ParserElement:
    """Build the pyparsing grammar once."""
    import pyparsing as pp  # here, not at the top: cached rule sets never parse conditions

    lpar, rpar = pp.Suppress("("), pp.Suppress(")")
    any_kw = pp.MatchFirst([_kw(k) for k in KEYWORDS])
    name = (~any_kw + pp.Regex(r"[A-Za-z_][A-Za-z0-9_]*(?![A-Za-z0-9_*])")).set_name("matcher name")
    pattern = pp.Regex(r"[A-Za-z_*][A-Za-z0-9_*]*").set_name("pattern")
    integer = pp.Regex(r"\d+").set_parse_action(lambda t: int(t[0])).set_name("integer")
    duration = pp.Regex(r"\d+[smh]\b").set_name("duration")
    count_ref = _kw("count").suppress() + lpar + name + rpar
    cmp = pp.one_of("> >= < <= == !=").set_name("comparison")
    count_cmp = (count_ref + cmp + (integer | count_ref)).set_parse_action(_count_action)
    quantity = _kw("any") | _kw("all") | integer
    targets = _kw("them") | pp.Group(lpar + pp.DelimitedList(name) + rpar) | pattern
    quantifier = (quantity + _kw("of").suppress() + targets).set_parse_action(lambda t: _RawOf(t[0], t[1]))
    expr = pp.Forward()
    atom = (lpar + expr + rpar) | count_cmp | quantifier | name.copy().set_parse_action(lambda t: Ref(t[0]))
    unary = pp.Forward()
    unary <<= (_kw("not").suppress() + unary).set_parse_action(lambda t: Not(t[0])) | atom
    then_expr = (
        pp.Group(pp.Located(unary)) + pp.ZeroOrMore(_kw("then").suppress() + pp.Group(pp.Located(unary)))
    ).set_parse_action(_then_action)
    and_expr = (then_expr + pp.ZeroOrMore(_kw("and").suppress() + then_expr)).set_parse_action(_binary(And))
    or_expr = (and_expr + pp.ZeroOrMore(_kw("or").suppress() + and_expr)).set_parse_action(_binary(Or))
    expr <<= (or_expr + pp.Optional(_kw("within").suppress() + duration)).set_parse_action(
        lambda t: t[0] if len(t) == 1 else Within(t[0], parse_duration(t[1]) or 0)
    )
    return expr


@dataclass(frozen=True, slots=True)
class _RawOf:
    """A quantifier before its targets are resolved against the matcher names."""

    quantity: str | int
    targets: object  # "them", a pattern string, or ParseResults of names


def _resolve(node: object, names: tuple[str, ...], text: str) -> Node:
    """Replace quantifier placeholders with Of nodes over concrete matcher names."""
    import pyparsing as pp  # here, not at the top: cached rule sets never parse conditions

    if isinstance(node, _RawOf):
        if isinstance(node.targets, pp.ParseResults):
            targets = tuple(node.targets)
            spelled_targets = "(" + ", ".join(targets) + ")"
        elif node.targets == "them":
            targets, spelled_targets = names, "them"
        else:
            targets = tuple(fnmatch.filter(names, str(node.targets)))
            spelled_targets = str(node.targets)
            if not targets:  # `all of x*` over nothing would always hold, `any of x*` never
                offset = max(text.find(spelled_targets), 0)
                raise Problem(
                    offset, f"pattern {spelled_targets!r} matches no matcher", "matchers: " + ", ".join(names)
                )
        spelled = f"{node.quantity} of {spelled_targets}"
        offset = max(text.find(spelled_targets), 0)
        if node.quantity == "any":
            need = 1
        elif node.quantity == "all":
            need = len(targets)
        else:
            need = int(node.quantity)
            if need < 1:
                raise Problem(offset, f"'{spelled}' always holds", "use 1 or more")
            if need > len(targets):
                raise Problem(offset, f"'{spelled}' can never hold: only {len(targets)} matchers listed")
        return Of(need, targets, spelled)
    if isinstance(node, And):
        return And(tuple(_resolve(i, names, text) for i in node.items))
    if isinstance(node, Or):
        return Or(tuple(_resolve(i, names, text) for i in node.items))
    if isinstance(node, Not):
        return Not(_resolve(node.item, names, text))
    if isinstance(node, Within):
        if node.seconds > MAX_WINDOW_SECONDS:
            raise Problem(
                max(text.find("within"), 0), "window longer than 366 days", "a window is minutes or hours"
            )
        return Within(_resolve(node.item, names, text), node.seconds)
    assert isinstance(node, Ref | CountCmp | Then)
    return node


@functools.lru_cache(maxsize=1024)
def _parse(text: str, names: tuple[str, ...]) -> Node:
    """Return the AST of `text` over `names`; raise Problem at the offending offset."""
    import pyparsing as pp  # here, not at the top: cached rule sets never parse conditions

    _precheck(text, names)
    try:
        result = _grammar().parse_string(text, parse_all=True)
    except pp.ParseFatalException as exc:
        raise Problem(exc.loc, str(exc.msg)) from None
    except pp.ParseException as exc:
        if exc.loc >= len(text.rstrip()):
            raise Problem(len(text.rstrip()), "condition ends too early") from None
        found = text[exc.loc :].split()[0]
        raise Problem(
            exc.loc, f"unexpected {found!r} in condition", "see the grammar in docs/RULES.md"
        ) from None
    return _resolve(result[0], names, text)


# --- the entry point and its errors --------------------------------------------------------------


def caret(text: str, offset: int) -> str:
    """Return the line of `text` holding `offset` and a caret line under that offset."""
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    line = text[start : end if end >= 0 else len(text)]
    return f"    {line}\n    {' ' * (offset - start)}^"


def condition_error(
    text: str, offset: int, what: str, hint: str | None, location: Location | None
) -> ConditionSyntaxError:
    """Return a ConditionSyntaxError whose message holds the condition and a caret line."""
    message = what + (f" ({hint})" if hint else "") + "\n" + caret(text, offset)
    return ConditionSyntaxError(message, location)


def parse_condition(
    text: str,
    names: tuple[str, ...] | list[str],
    locate: Callable[[int], Location | None] | None = None,
) -> Node:
    """Parse a condition over matcher `names`; raise ConditionSyntaxError located by `locate(offset)`."""
    try:
        return _parse(text, tuple(names))
    except Problem as p:
        location = locate(p.offset) if locate is not None else None
        raise condition_error(text, p.offset, p.what, p.hint, location) from None
