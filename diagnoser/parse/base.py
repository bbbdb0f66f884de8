"""Shared pieces of the parsers: the mutable record, caps, level and timestamp helpers."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from diagnoser.model import Event, Level, RawLine

MAX_LINE = 65536  # characters of one input line that parsers look at (a 60 MB line is cut here)
MAX_TEXT = 4000  # characters of one line kept in Event.text / Event.message
MAX_RECORD = 20000  # characters of a multi-line record kept in Event.text / Event.message
MAX_DOC_BYTES = 5 * 1024 * 1024  # a kubectl JSON/YAML document larger than this falls back to plain lines
MAX_RECORD_LINES = 5000  # a traceback longer than this is cut into another record

LEVELS: dict[str, Level] = {
    "D": Level.DEBUG,
    "DEBUG": Level.DEBUG,
    "TRACE": Level.DEBUG,
    "debug": Level.DEBUG,
    "I": Level.INFO,
    "INFO": Level.INFO,
    "NOTICE": Level.INFO,
    "info": Level.INFO,
    "W": Level.WARNING,
    "WARN": Level.WARNING,
    "WARNING": Level.WARNING,
    "warning": Level.WARNING,
    "warn": Level.WARNING,
    "E": Level.ERROR,
    "ERROR": Level.ERROR,
    "ERR": Level.ERROR,
    "error": Level.ERROR,
    "err": Level.ERROR,
    "F": Level.CRITICAL,
    "C": Level.CRITICAL,
    "CRITICAL": Level.CRITICAL,
    "FATAL": Level.CRITICAL,
    "critical": Level.CRITICAL,
    "fatal": Level.CRITICAL,
    "CRIT": Level.CRITICAL,
    "EMERG": Level.CRITICAL,
    "ALERT": Level.CRITICAL,
    "PANIC": Level.CRITICAL,
}

SIGNALS: dict[str, int] = {
    "SIGHUP": 1,
    "SIGINT": 2,
    "SIGQUIT": 3,
    "SIGILL": 4,
    "SIGABRT": 6,
    "SIGBUS": 7,
    "SIGFPE": 8,
    "SIGKILL": 9,
    "SIGUSR1": 10,
    "SIGSEGV": 11,
    "SIGUSR2": 12,
    "SIGPIPE": 13,
    "SIGALRM": 14,
    "SIGTERM": 15,
    "SIGCHLD": 17,
    "SIGCONT": 18,
    "SIGSTOP": 19,
}

MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}

_TZ_CACHE: dict[str, timezone] = {"+0000": UTC, "-0000": UTC}


@dataclass(slots=True)
class Rec:
    """One line's parse result inside the parser layer (mutable; becomes an Event)."""

    message: str
    format: str = "plain"
    timestamp: datetime | None = None
    level: Level | None = None
    component: str | None = None
    stream: str | None = None
    pid: int | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    key: str = ""  # sub-source for multi-line state: stream, pod/container, unit
    partial: bool = False  # the framing says the line continues in the next one (CRI P, docker 16k split)


def cap(s: str, n: int = MAX_TEXT) -> str:
    """Return `s` cut to `n` characters, marking the cut."""
    return s if len(s) <= n else s[: n - 1] + "…"


def make_event(
    raw: RawLine, rec: Rec, text: str | None = None, end_line: int = 0, limit: int = MAX_TEXT
) -> Event:
    """Return the Event for a finished record."""
    return Event(
        source=raw.source,
        line=raw.line,
        text=cap(raw.text if text is None else text, limit),
        message=cap(rec.message, limit),
        format=rec.format,
        end_line=end_line,
        timestamp=rec.timestamp,
        level=rec.level,
        component=rec.component or "app",
        stream=rec.stream,
        pid=rec.pid,
        fields=rec.fields,
    )


def tz_of(off: str) -> timezone:
    """Return a timezone for '+0100' / '+01:00' / 'Z'."""
    tz = _TZ_CACHE.get(off)
    if tz is None:
        if off in ("Z", "z", "UTC"):
            tz = UTC
        else:
            o = off.replace(":", "")
            sign = -1 if o[0] == "-" else 1
            tz = timezone(sign * timedelta(hours=int(o[1:3]), minutes=int(o[3:5])))
        _TZ_CACHE[off] = tz
    return tz


def iso(s: str) -> datetime | None:
    """Return the datetime of an ISO-8601 string (zone-less means UTC), or None."""
    try:
        d = datetime.fromisoformat(s)
    except ValueError:
        return None
    return d if d.tzinfo is not None else d.replace(tzinfo=UTC)


def ymd_hms(s: str, frac: str = "", off: str = "") -> datetime | None:
    """Return the datetime of 'YYYY-MM-DD HH:MM:SS' with a fraction and an offset; UTC when no offset."""
    try:
        us = int((frac + "000000")[:6]) if frac else 0
        return datetime(
            int(s[0:4]),
            int(s[5:7]),
            int(s[8:10]),
            int(s[11:13]),
            int(s[14:16]),
            int(s[17:19]),
            us,
            tz_of(off) if off else UTC,
        )
    except (ValueError, IndexError):
        return None


def clf_time(s: str) -> datetime | None:
    """Return the datetime of a common-log-format time '25/Nov/2026:02:31:49 +0000'."""
    # Access logs write many lines per second: the last stamp read is the next one's, mostly.
    last = _CLF_LAST
    if s == last[0]:
        return last[1]
    try:
        d = datetime(
            int(s[7:11]),
            MONTHS[s[3:6]],
            int(s[0:2]),
            int(s[12:14]),
            int(s[15:17]),
            int(s[18:20]),
            0,
            tz_of(s[21:26]) if len(s) >= 26 else UTC,
        )
    except (ValueError, KeyError, IndexError):
        return None
    last[0], last[1] = s, d
    return d


_CLF_LAST: list = ["", None]  # the last stamp clf_time read and its datetime (datetimes are immutable)


def _this_year() -> int:
    """Return the current year, read from the clock at most once a minute (klog lines have no year)."""
    now = time.monotonic()
    if now - _YEAR[1] > 60:
        _YEAR[0], _YEAR[1] = datetime.now(UTC).year, now
    return _YEAR[0]


_YEAR: list[Any] = [0, float("-inf")]  # (year, monotonic time it was read)


def no_year(month: int, day: int, hms: str, frac: str = "") -> datetime | None:
    """Return a UTC datetime for a stamp without a year (syslog, klog), in the current year."""
    try:
        us = int((frac + "000000")[:6]) if frac else 0
        return datetime(_this_year(), month, day, int(hms[0:2]), int(hms[3:5]), int(hms[6:8]), us, UTC)
    except (ValueError, IndexError):
        return None


def mapping(v: Any) -> dict[str, Any]:
    """Return `v` when it is a JSON object (a dict), else an empty dict: decoded input can be any shape."""
    return v if isinstance(v, dict) else {}


def to_int(v: Any) -> int | None:
    """Return `v` as an int, or None."""
    try:
        return int(v)
    except (TypeError, ValueError):
        return None
