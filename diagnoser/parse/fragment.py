"""Headerless traceback fragments: frames and an exception line pasted without their header.

Users often cut the `Traceback (most recent call last):` line off when pasting, leaving
    File "/app/score.py", line 12, in run
      return model.predict(x)
    AttributeError: 'NoneType' object has no attribute 'predict'
A run of indented `File "…", line N, in fn` frames (CPython's traceback.StackSummary.format)
followed by an exception line (`ExcType: message` / a bare `…Error`) becomes one traceback event,
exactly as if the header had been there. The lines are held until the exception line; a run that
ends without one (or grows past MAX_HELD lines) is given back as the ordinary events it would
have been, so frames without an exception never become a traceback.
"""

from __future__ import annotations

import re

from diagnoser.model import Event, Level, RawLine
from diagnoser.parse import escapes
from diagnoser.parse.base import Rec
from diagnoser.parse.traceback import _FRAME as _FILE
from diagnoser.parse.traceback import Traceback

# CPython: '  File "{}", line {}, in {}' (faulthandler's '  File "x", line 3 in f' has no comma: not taken)
FRAME = re.compile(r'[ \t]+File "[^"\n]+", line \d+, in \S')
# an exception line: dotted name, then ': message' or the end; a bare name must look like an exception
_EXC = re.compile(r"([A-Za-z_][\w.]*)(:(?: .*)?)?$", re.S)
_BARE = ("Error", "Exception", "Exit", "Interrupt", "Warning", "Iteration", "Failure", "Timeout")
MAX_HELD = 1000


def is_frame(msg: str) -> bool:
    """Return True when `msg` is a CPython traceback frame line (`  File "x", line N, in f`)."""
    return 'File "' in msg and FRAME.match(msg) is not None


def is_exception(msg: str) -> bool:
    """Return True when `msg` reads as the final exception line of a traceback."""
    m = _EXC.match(msg)
    if m is None:
        return False
    return m[2] is not None or m[1].endswith(_BARE)


class Fragment(Traceback):
    """A traceback that began at a frame; kept only once its exception line has been read."""

    __slots__ = ("held", "inherit")

    def __init__(self, raw: RawLine, rec: Rec, last: Rec | None = None):
        super().__init__(raw, rec)
        self.phase = "body"
        self.held: list[tuple[RawLine, Rec | None, str]] | None = [(raw, rec, rec.message)]
        self.inherit = last.timestamp if last is not None and rec.timestamp is None else None
        m = _FILE.match(rec.message)  # the first frame's file and function
        if m is not None:
            self.files.append(m[1])
            self.functions.append(m[3] or "")

    def feed(self, raw: RawLine, msg: str) -> bool:
        """Take the line if it continues the fragment; False means it ended before this line."""
        held = self.held
        if held is not None and (not msg or msg.isspace()):
            # a blank between frames (Traceback.feed takes one in a row): held, to be given back if need be
            if len(held) >= MAX_HELD or not super().feed(raw, msg):
                return False
            held.append((raw, None, msg))
            return True
        if held is not None:
            c = msg[:1]
            if c != " " and c != "\t":
                if not msg or not is_exception(msg):
                    return False
                self.held = None  # an exception line: it is a traceback now
            elif len(held) >= MAX_HELD:
                return False
            else:
                held.append((raw, None, msg))
        return super().feed(raw, msg)

    def event(self) -> Event:
        """Return the traceback event; only once the exception line was read (`held` is None)."""
        rec = self.rec
        if rec.format == "plain":
            rec.format = "traceback"
            if self.inherit is not None:
                rec.timestamp = self.inherit
        if rec.level is None or rec.level in (Level.DEBUG, Level.INFO, Level.WARNING):
            rec.level = Level.ERROR
        return super().event()

    def give_back(self) -> list[tuple[RawLine, Rec | None]]:
        """Return the held lines of a fragment that never met its exception line, to be read as before.

        The first line comes with the record it was read into (its escapes decoded here, as for any
        line); the others come without one: the caller reads each alone, as if it had never been held.
        """
        held = self.held or []
        out: list[tuple[RawLine, Rec | None]] = []
        for raw, rec, _msg in held:
            if rec is not None and "\\" in rec.message and (dec := escapes.decode(rec.message)) is not None:
                rec.message = dec
                rec.fields["decoded"] = True
            out.append((raw, rec))
        return out
