"""journald `-o json` records and syslog-style text (`journalctl -o short|short-iso`, /var/log/syslog)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from diagnoser.model import Level
from diagnoser.parse.base import MONTHS, Rec, iso, no_year, to_int

# Nov 25 02:28:13 host kubelet[123]: msg
SHORT = re.compile(
    r"(\w{3}) +(\d{1,2}) (\d\d:\d\d:\d\d)(?:\.(\d+))? (\S+) ([^\s\[\]:]+)(?:\[(\d+)\])?: ?(.*)$", re.S
)
# 2024-11-25T02:28:13+0000 host kubelet[123]: msg   (short-iso, rsyslog RFC 3339)
SHORT_ISO = re.compile(
    r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)) "
    r"(\S+) ([^\s\[\]:]+)(?:\[(\d+)\])?: ?(.*)$",
    re.S,
)

_PRIORITY = (
    Level.CRITICAL,
    Level.CRITICAL,
    Level.CRITICAL,
    Level.ERROR,
    Level.WARNING,
    Level.INFO,
    Level.INFO,
    Level.DEBUG,
)
_COMPONENTS = {
    "kernel": "kernel",
    "kubelet": "kubelet",
    "kube-scheduler": "scheduler",
    "dockerd": "docker",
    "docker": "docker",
    "containerd": "containerd",
    "gunicorn": "gunicorn",
    "azmlinfsrv": "azmlinfsrv",
}


def component_of(ident: str) -> str:
    """Return the component name for a syslog identifier or systemd unit."""
    base = ident[:-8] if ident.endswith(".service") else ident
    return _COMPONENTS.get(base, base or "app")


def _message(v: Any) -> str | None:
    if isinstance(v, str):
        return v
    if isinstance(v, list):  # journald exports non-UTF-8 or binary messages as a byte array
        try:
            return bytes(v).decode("utf-8", "replace")
        except (TypeError, ValueError):
            return None
    return None


def deframe_json(obj: dict[str, Any], rec: Rec) -> str | None:
    """Return MESSAGE of a decoded journald JSON record and fill `rec`; None if not one."""
    if "MESSAGE" not in obj and "__REALTIME_TIMESTAMP" not in obj:
        return None
    msg = _message(obj.get("MESSAGE"))
    if msg is None:
        msg = ""
    rec.format = "journald"
    us = to_int(obj.get("__REALTIME_TIMESTAMP"))
    if us is not None:
        try:
            rec.timestamp = datetime.fromtimestamp(us / 1e6, UTC)
        except (OverflowError, OSError, ValueError):
            pass
    prio = to_int(obj.get("PRIORITY"))
    if prio is not None and 0 <= prio < 8:
        rec.level = _PRIORITY[prio]
    rec.pid = to_int(obj.get("_PID"))
    unit = obj.get("_SYSTEMD_UNIT")
    ident = obj.get("SYSLOG_IDENTIFIER") or obj.get("_COMM")
    if obj.get("_TRANSPORT") == "kernel":
        ident = "kernel"
    if isinstance(unit, str):
        rec.fields["unit"] = unit
    if isinstance(ident, str):
        rec.fields["identifier"] = ident
    name = ident if isinstance(ident, str) else unit if isinstance(unit, str) else ""
    rec.component = component_of(name)
    host = obj.get("_HOSTNAME")
    if isinstance(host, str):
        rec.fields["node"] = host
    cname = obj.get("CONTAINER_NAME")
    if isinstance(cname, str):
        rec.fields["container"] = cname
    rec.key = name or (unit if isinstance(unit, str) else "")
    return msg.rstrip("\n")


def deframe_short(text: str, rec: Rec) -> str | None:
    """Return the message of a `Mon DD HH:MM:SS host ident[pid]: msg` line and fill `rec`; None if not one."""
    m = SHORT.match(text)
    if m is None or m[1] not in MONTHS:
        return None
    rec.format = "syslog"
    rec.timestamp = no_year(MONTHS[m[1]], int(m[2]), m[3], m[4] or "")
    _ident(rec, m[5], m[6], m[7])
    return m[8]


def deframe_short_iso(text: str, rec: Rec) -> str | None:
    """Return the message of a `ISO host ident[pid]: msg` line and fill `rec`; None if not one."""
    m = SHORT_ISO.match(text)
    if m is None or (m[4] is None and m[3] != "kernel"):
        return None
    rec.format = "syslog"
    rec.timestamp = iso(m[1])
    _ident(rec, m[2], m[3], m[4])
    return m[5]


def _ident(rec: Rec, host: str, ident: str, pid: str | None) -> None:
    rec.fields["node"] = host
    rec.fields["identifier"] = ident
    rec.component = component_of(ident)
    rec.key = ident
    if pid:
        rec.pid = int(pid)
