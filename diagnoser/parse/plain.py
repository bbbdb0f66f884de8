"""Plain text and generic one-line JSON logs: whatever no other parser claims."""

from __future__ import annotations

import re
from typing import Any

from diagnoser.model import EventKind
from diagnoser.parse.base import LEVELS, Rec, iso

# ERROR:root:msg  (Python logging.basicConfig default)
_PYLOG = re.compile(r"(DEBUG|INFO|WARNING|ERROR|CRITICAL):([\w.]+):(.*)", re.S)
# 2024-01-01 00:00:00,123 - name - ERROR - msg   /   2024-01-01 00:00:00,123 ERROR msg
_PYTS = re.compile(
    r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[,.]\d+)?(?: -)?[ \t](?:([\w.]+) - )?"
    r"\[?(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL)\]?:? -? ?(.*)",
    re.S,
)
# ERROR 2026-12-07 06:54:07,261 controller 13097 -- msg  (level first: Ray Serve's components)
_LEVEL_TS = re.compile(
    r"(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL) (\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d)(?:[,.]\d+)? (.*)",
    re.S,
)


def parse(text: str, rec: Rec) -> None:
    """Fill `rec` from a plain line, picking up a Python logging level prefix where there is one."""
    rec.message = text
    c = text[:1]
    if c in "DIWEC" and (m := _PYLOG.match(text)):
        rec.level = LEVELS[m[1]]
        rec.fields["logger"] = m[2]
        rec.message = m[3]
    elif c in "DIWECF" and (m := _LEVEL_TS.match(text)):
        rec.level = LEVELS[m[1]]
        rec.timestamp = rec.timestamp or iso(m[2])
        rec.message = m[3]
    elif c.isdigit() and (m := _PYTS.match(text)):
        rec.level = LEVELS.get(m[2])
        if m[1]:
            rec.fields["logger"] = m[1]
        rec.timestamp = rec.timestamp or iso(text[:19])
        rec.message = m[3]


def parse_json(obj: dict[str, Any], rec: Rec) -> bool:
    """Fill `rec` from a structured JSON log record (msg/message, level, time); False if it has no message."""
    msg = obj.get("msg", obj.get("message", obj.get("MESSAGE")))
    if not isinstance(msg, str):
        return False
    rec.format = "json"
    rec.message = msg
    lvl = obj.get("level", obj.get("severity", obj.get("levelname")))
    if isinstance(lvl, str):
        rec.level = LEVELS.get(lvl) or LEVELS.get(lvl.upper())
    for k in ("time", "ts", "timestamp", "@timestamp", "asctime"):
        v = obj.get(k)
        if isinstance(v, str) and v[:1].isdigit():
            rec.timestamp = iso(v)
            break
    for k in ("logger", "name", "component", "caller"):
        v = obj.get(k)
        if isinstance(v, str):
            rec.fields[k if k != "name" else "logger"] = v
    return True


# Shell prompts users leave in pastes: `$ kubectl logs web-7d9`, `(venv) $ python score.py`,
# `user@host:~/app$ docker logs web`, `root@4f2a:/app# gunicorn app:app`, `PS C:\app> az ml ...`.
# A bare `# text` is a comment, not a prompt: `#` counts only after user@host.
_PROMPT = re.compile(
    r"(?:\([\w.\-]+\) )?(?:(?:[\w.\-]+@[\w.\-]+(?::[^\s$#]*)?) ?[$#]|\$|PS [A-Za-z]:\\[^>]*>) "
    r"(?P<cmd>[A-Za-z_./~][\w.\-/~]*(?: .*)?)$"
)


def prompt(text: str, rec: Rec) -> bool:
    """Fill `rec` for a shell prompt line (kind=shell_command, command, program); False if not one."""
    m = _PROMPT.match(text)
    if m is None:
        return False
    cmd = m["cmd"].strip()
    rec.message = cmd
    rec.fields["kind"] = EventKind.SHELL_COMMAND
    rec.fields["command"] = cmd
    rec.fields["program"] = cmd.split(" ", 1)[0].rsplit("/", 1)[-1]
    return True
