"""Escaped payloads: a Python repr or JSON string printed on one line (Azure ML SDK / CLI / az errors).

`WebserviceException:\\n\\tMessage: ...` or `stderr: 'ERROR: {\\'Azure-cli-ml Version\\': ...}'` hold their
real text behind `\\n`, `\\t`, `\\'`, `\\"`, `\\\\` and `\\uXXXX` escapes, sometimes two levels deep (a JSON
body inside a repr). `decode(text)` undoes up to `MAX_PASSES` levels and returns the text with real
newlines, or None when the line is not an escaped payload. Work is linear in the line (≤ 64 KiB).
"""

from __future__ import annotations

import re

MAX_PASSES = 3  # a repr of a dict holding a JSON string is 2 levels deep; 3 leaves room for one more
MAX_PIECES = 200  # decoded lines emitted per input line

# An escape that says "this is an encoded string": a newline/tab/CR escape not followed by a lowercase
# letter (a Windows path `C:\new\tmp` has `\n` + "ew"), or an escaped quote. `\\n` (one more level) too.
_GATE = re.compile(r"\\+(?:[nrt](?![a-z])|['\"])")
_ESC = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", re.S)
_SIMPLE = {"n": "\n", "t": "\t", "r": "", "'": "'", '"': '"', "\\": "\\", "/": "/", "0": ""}


def _one(m: re.Match[str]) -> str:
    s = m[1]
    r = _SIMPLE.get(s)
    if r is not None:
        return r
    if len(s) > 1:  # \uXXXX / \xXX
        c = chr(int(s[1:], 16))
        return c if c.isprintable() or c in "\n\t" else ""
    return "\\" + s  # unknown escape (`\d` of a regex, `\.`): keep as written


def decode(text: str) -> str | None:
    """Return `text` with its string escapes undone (nested levels too), or None if it has none."""
    if "\\" not in text or _GATE.search(text) is None:
        return None
    out = text
    for _ in range(MAX_PASSES):
        new = _ESC.sub(_one, out)
        if new == out:
            break
        out = new
        if "\\" not in out or _GATE.search(out) is None:
            break
    return out if out != text else None


def pieces(decoded: str) -> list[str]:
    """Return the non-blank lines of decoded text (right-stripped, at most MAX_PIECES)."""
    out: list[str] = []
    for line in decoded.split("\n"):
        line = line.rstrip()
        if line.strip():
            out.append(line)
            if len(out) >= MAX_PIECES:
                break
    return out
