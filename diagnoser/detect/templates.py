"""Explain templates: the `{placeholders}` a rule's explain text may use, and filling them in.

A finding's summary is its rule's explain text (or title) with `{count}`, `{first_time}`,
`{last_time}`, `{<matcher>_count}` and the matchers' named regex captures filled in; the linter
checks templates against the same names. Two format specs are known: `{code:exit}` writes an exit
code with what it means (detect/exitcodes.py), and `{name:or=words}` writes the words when the
capture was never seen (a rule whose matchers do not all capture it).
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from diagnoser.detect.exitcodes import describe_exit
from diagnoser.detect.rules import Rule

FIXED_PLACEHOLDERS = ("count", "first_time", "last_time")


def rule_captures(rule: Rule) -> tuple[str, ...]:
    """Return the named regex groups the rule's matchers capture."""
    out: list[str] = []
    for m in rule.matchers:
        out.extend(n for n in m.capture_names if n not in out)
    return tuple(out)


def placeholders_of(template: str) -> list[str]:
    """Return the placeholder names in an explain template; raise ValueError when it is malformed."""
    return [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]


_UNSEEN = "\x00"
# A parenthesis holding a capture the logs never showed says nothing: it goes, with the blank before it.
_UNSEEN_ASIDE = re.compile(r"\s*\([^()\x00]*\x00[^()]*\)")


def fill_template(template: str, values: dict[str, str], captures: Sequence[str] = ()) -> str:
    """Fill `{name}` placeholders; an unknown name stays as is. A capture never seen takes its `or=`
    fallback; without one, the parenthesis around it goes (`(last pid {pid})`), else it reads "…"."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        return template
    out: list[str] = []
    for literal, fname, fspec, conv in parts:
        out.append(literal)
        spec = fspec or ""
        if fname is None:
            continue
        if fname in values:
            out.append(describe_exit(values[fname]) if spec == "exit" else values[fname])
        elif fname in captures:
            if spec.startswith("or="):
                out.append(spec[3:])
            else:
                out.append("a non-zero code" if spec == "exit" else _UNSEEN)
        else:
            out.append("{" + fname + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}")
    text = "".join(out)
    if _UNSEEN in text:
        text = _UNSEEN_ASIDE.sub("", text).replace(_UNSEEN, "…")
    return text


def summary(
    rule: Rule,
    counts: Sequence[int],
    captures: dict[str, Any],
    count: int,
    first_time: datetime | None,
    last_time: datetime | None,
) -> str:
    """Return the rule's explain text (or its title) with every known placeholder filled."""
    placeholders = {f"{n}_count": str(c) for n, c in zip(rule.matcher_names, counts, strict=True)}
    placeholders.update({k: str(v) for k, v in captures.items()})
    placeholders["count"] = str(count)
    if first_time is not None:
        placeholders["first_time"] = first_time.isoformat()
    if last_time is not None:
        placeholders["last_time"] = last_time.isoformat()
    return fill_template(rule.explain or rule.title, placeholders, rule_captures(rule))
