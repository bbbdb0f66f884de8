"""Make text from the logs inert where it is shown: on a terminal and in Markdown.

A log line is written by whoever sent the request it records, so it can carry terminal escape
sequences (OSC 52 writes the clipboard, OSC 0 the window title, CSI moves the cursor over the
verdict) and Markdown (links, images, raw HTML, headings in a bot's pull-request comment). The text
and Markdown reports show every control character of the input escaped (`\\x1b`), and the Markdown
report shows text from the input as text: punctuation escaped outside code, code spans and fences
longer than any backtick run inside them.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, TypeVar

# C0 controls but tab and newline, DEL, C1 controls (U+0080-U+009F: 8-bit CSI and OSC), and the
# Unicode bidirectional overrides and isolates that reorder what a reader sees ("Trojan Source").
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_OR_NEWLINE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def control_safe(text: str, keep_newlines: bool = False) -> str:
    """Return `text` with every control character shown as an escape (`\\x1b`); tabs stay, and
    newlines when `keep_newlines` (a multi-line record shown as lines)."""
    pattern = _CONTROL if keep_newlines else _CONTROL_OR_NEWLINE
    return pattern.sub(_escaped, text) if pattern.search(text) else text


# What JSON leaves raw but a terminal acts on: DEL, C1 controls (8-bit CSI), bidi controls. JSON
# itself escapes C0 (ESC included); these may only stand inside strings, where a `\u` escape means them.
_JSON_RAW = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def json_safe(text: str) -> str:
    """Return JSON text with the characters a terminal acts on written as `\\uXXXX` escapes (the same
    JSON value, safe to print)."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text) if _JSON_RAW.search(text) else text


# Fields that hold several lines on purpose: a record (a traceback) and a snippet to paste.
_MULTI_LINE = frozenset({("Evidence", "text"), ("FixStep", "snippet")})

T = TypeVar("T")


def control_safe_all(value: T, _where: tuple[str, str] = ("", "")) -> T:
    """Return `value` (a Report, or anything inside one) with control_safe applied to every string in
    it: the renderers' input, so that no field a later change adds can slip through."""
    if isinstance(value, str) and type(value) is str:  # not an enum's value
        return control_safe(value, keep_newlines=_where in _MULTI_LINE)  # type: ignore[return-value]
    if isinstance(value, tuple):
        items = tuple(control_safe_all(v, _where) for v in value)
        if items == value:
            return value
        return items if type(value) is tuple else type(value)._make(items)  # type: ignore[attr-defined,return-value]
    if isinstance(value, list):
        return [control_safe_all(v, _where) for v in value]  # type: ignore[return-value]
    if isinstance(value, dict):
        return {control_safe_all(k): control_safe_all(v) for k, v in value.items()}  # type: ignore[return-value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        changes: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            if not f.init:
                continue
            old = getattr(value, f.name)
            new = control_safe_all(old, (name, f.name))
            if new is not old and new != old:
                changes[f.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    return value


# Markdown: ASCII punctuation that can start or end markup inside a line (CommonMark lets a backslash
# escape any of it; `_` inside a word cannot, so `n_features` stays as it is; `&` would start an
# entity such as `&#x202e;`), and what only matters at the start of a line (headings, lists, rules).
_MD_INLINE = re.compile(r"([\\`*\[\]<>|~&]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
_MD_LINE_START = re.compile(r"^(\s*)(?:([#+\-=])|(\d+)([.)]))", re.M)


def md_text(text: str) -> str:
    """Return `text` as Markdown that shows it literally: no link, image, HTML, emphasis or heading."""
    text = _MD_INLINE.sub(r"\\\1", text)
    return _MD_LINE_START.sub(_line_start, text)


def _line_start(m: re.Match[str]) -> str:
    """Escape what would start a heading, a list item or a setext underline."""
    if m.group(2):
        return f"{m.group(1)}\\{m.group(2)}"
    return f"{m.group(1)}{m.group(3)}\\{m.group(4)}"


def _longest_backticks(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


def md_code(text: str) -> str:
    """Return `text` as an inline code span that no backtick run inside it can end (CommonMark: the
    span ends at a run of the same length; a space pads a text that starts or ends with a backtick)."""
    text = text.replace("\n", " ")
    fence = "`" * (_longest_backticks(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_fence(lines: list[str], lang: str = "text") -> list[str]:
    """Return a fenced code block, its fences on their own lines and longer than any backtick run
    inside, so that no line of it can close it."""
    fence = "`" * max(3, _longest_backticks("\n".join(lines)) + 1)
    return [fence + lang, *lines, fence]


__all__ = ["control_safe", "control_safe_all", "json_safe", "md_code", "md_fence", "md_text"]
