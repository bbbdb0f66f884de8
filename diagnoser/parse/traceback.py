"""Multi-line Python tracebacks (chained, prefixed, framed) assembled into one event."""

from __future__ import annotations

import re

from diagnoser.model import Event, Level, RawLine
from diagnoser.parse.base import MAX_RECORD, MAX_RECORD_LINES, MAX_TEXT, Rec, cap, make_event

START = "Traceback (most recent call last):"
CHAIN = ("During handling of the above exception", "The above exception was the direct cause")
_FRAME = re.compile(r'\s+File "(.*?)", line (\d+)(?:, in (.*))?')
_EXC = re.compile(r"([A-Za-z_][\w.]*)(?:: ?(.*))?$", re.S)
MAX_FRAMES = 200


def is_start(msg: str) -> bool:
    """Return True when `msg` opens a traceback (possibly after a log prefix)."""
    return msg.endswith("last):") and msg.endswith(START)


class Traceback:
    """Accumulate one traceback's lines; `feed` says whether a line belongs to it."""

    __slots__ = (
        "first",
        "rec",
        "texts",
        "messages",
        "files",
        "functions",
        "exceptions",
        "exc_message",
        "phase",
        "last_line",
        "size",
        "count",
    )

    def __init__(self, raw: RawLine, rec: Rec):
        self.first = raw
        self.rec = rec
        self.texts: list[str] = [cap(raw.text)]
        self.messages: list[str] = [cap(rec.message)]
        self.files: list[str] = []
        self.functions: list[str] = []
        self.exceptions: list[str] = []
        self.exc_message: str | None = None
        self.phase = "body"  # body | exc (after an exception line) | blank (a blank after it) | chain
        self.last_line = raw.line
        self.size = len(self.texts[0])
        self.count = 1

    def _add(self, raw: RawLine, msg: str) -> None:
        self.last_line = raw.line
        self.count += 1
        if self.size < MAX_RECORD:
            t = cap(raw.text, MAX_TEXT)
            self.texts.append(t)
            self.messages.append(cap(msg, MAX_TEXT))
            self.size += len(t) + 1

    def feed(self, raw: RawLine, msg: str) -> bool:
        """Take the line if it continues the traceback; False means the traceback has ended before it."""
        if self.count >= MAX_RECORD_LINES:
            return False
        phase = self.phase
        if phase == "body":
            c = msg[:1]
            if c == " " or c == "\t":
                if len(self.files) < MAX_FRAMES and msg.lstrip().startswith('File "'):
                    m = _FRAME.match(msg)
                    if m:
                        self.files.append(m[1])
                        self.functions.append(m[3] or "")
                self._add(raw, msg)
                return True
            if c and (m := _EXC.match(msg)):
                self.exceptions.append(m[1])
                self.exc_message = m[2]
                self.phase = "exc"
                self._add(raw, msg)
                return True
            return False
        if phase in ("exc", "blank"):
            if not msg.strip():
                if phase == "blank":
                    return False
                self.phase = "blank"
                self.last_line = raw.line  # a trailing blank belongs to the record, not kept as text
                return True
            if msg.startswith(CHAIN):
                if phase == "blank":
                    self._add(raw, "")
                self._add(raw, msg)
                self.phase = "chain"
                return True
            return False
        # chain: a blank, then the next "Traceback (most recent call last):"
        if not msg.strip():
            self._add(raw, msg)
            return True
        if is_start(msg):
            self._add(raw, msg)
            self.phase = "body"
            return True
        return False

    def event(self) -> Event:
        """Return the traceback as one event."""
        rec = self.rec
        f = rec.fields
        f["kind"] = "traceback"
        if self.exceptions:
            full = self.exceptions[-1]
            f["exception"] = full.rsplit(".", 1)[-1]
            f["exception_full"] = full
            f["exception_message"] = (self.exc_message or "").strip()
        f["exceptions"] = self.exceptions
        f["functions"] = self.functions
        f["files"] = self.files
        if rec.level is None or rec.level in (Level.DEBUG, Level.INFO):
            rec.level = Level.ERROR
        rec.message = "\n".join(self.messages)
        end = self.last_line if self.last_line != self.first.line else 0
        return make_event(self.first, rec, "\n".join(self.texts), end, MAX_RECORD)
