"""Cut a text short without halving a word: a token cut in two no longer looks like a token, and
the exits' redaction (diagnoser/redact.py) would let its first half out."""

from __future__ import annotations

import re

_LAST_WORD = re.compile(r"\S+$")


def clip_words(text: str, limit: int) -> str:
    """Return `text` cut to at most `limit` characters, "…" marking the cut; a word the limit falls in
    goes whole (a text of one long word keeps nothing of it but the mark)."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if not text[limit - 1].isspace():
        head = _LAST_WORD.sub("", head)
    return head.rstrip() + "…"
