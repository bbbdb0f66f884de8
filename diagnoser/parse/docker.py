"""Docker json-file log lines: {"log": "...\\n", "stream": "stderr", "time": "..."}."""

from __future__ import annotations

from typing import Any

from diagnoser.parse.base import Rec, iso


def deframe(obj: dict[str, Any], rec: Rec) -> str | None:
    """Return the inner text of a decoded docker json-file line and fill `rec`; None if not one."""
    log = obj.get("log")
    if not isinstance(log, str) or ("stream" not in obj and "time" not in obj):
        return None
    rec.format = "docker"
    stream = obj.get("stream")
    if isinstance(stream, str):
        rec.stream = stream
        rec.key = stream
    t = obj.get("time")
    if isinstance(t, str):
        rec.timestamp = iso(t)
    if log.endswith("\n"):
        log = log[:-1]
    else:
        rec.partial = True  # docker splits lines longer than 16 KiB; the last piece ends with \n
    if log.endswith("\r"):
        log = log[:-1]
    return log
