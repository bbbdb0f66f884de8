"""Kernel OOM-killer lines (dmesg, journald kernel, syslog) and the dmesg line prefix."""

from __future__ import annotations

import re

from diagnoser.model import EventKind, Level
from diagnoser.parse.base import MONTHS, Rec, ymd_hms

# [ 7063.247407] msg      and      [Thu Dec  7 00:05:14 2017] msg   (dmesg -T)
DMESG = re.compile(r"\[\s*(\d+\.\d+)\] ?(.*)", re.S)
DMESG_T = re.compile(r"\[\w{3} (\w{3}) +(\d+) (\d\d:\d\d:\d\d) (\d{4})\] ?(.*)", re.S)

_KILLED = re.compile(
    r"(?:(Memory cgroup out of memory|Out of memory(?: \([^)]*\))?): )?Killed process (\d+) \((.*?)\)"
    r"(?:,? (?:UID \d+, )?total-vm:(\d+)kB, anon-rss:(\d+)kB)?"
)
_CONSTRAINT = re.compile(r"oom-kill:constraint=(\w+)(.*?),task=([^,]*),pid=(\d+)")
_INVOKED = re.compile(r"(.+?) invoked oom-killer: gfp_mask=(\S+?),")
_OLD_KILL = re.compile(r"(Memory cgroup out of memory|Out of memory): Kill process (\d+) \((.*?)\)")


def strip_dmesg(text: str, rec: Rec) -> str | None:
    """Strip a dmesg '[ secs]' or '[date]' prefix, set timestamp/component, and return the rest."""
    m = DMESG.match(text)
    if m is not None:
        rec.component = "kernel"
        rec.fields["uptime_s"] = float(m[1])
        return m[2]
    m = DMESG_T.match(text)
    if m is not None and m[1] in MONTHS:
        rec.component = "kernel"
        rec.timestamp = rec.timestamp or ymd_hms(f"{m[4]}-{MONTHS[m[1]]:02d}-{int(m[2]):02d} {m[3]}")
        return m[5]
    return None


def maybe_oom(msg: str) -> bool:
    """Return True when `msg` may be an OOM-killer line (cheap substring test)."""
    return "oom" in msg or "Killed process" in msg or "Out of memory" in msg


def parse(msg: str, rec: Rec) -> bool:
    """Add kernel OOM fields for an OOM-killer message; False when `msg` is not one."""
    f = rec.fields
    if "Killed process" in msg and (m := _KILLED.search(msg)):
        f["kind"] = EventKind.OOM_KILL
        f["process"] = m[3]
        rec.pid = int(m[2])
        f["memcg"] = bool(m[1] and m[1].startswith("Memory cgroup"))
        if m[4]:
            f["total_vm_kb"] = int(m[4])
            f["anon_rss_kb"] = int(m[5])
        rec.level = Level.ERROR
    elif "oom-kill:" in msg and (m := _CONSTRAINT.search(msg)):
        f["kind"] = EventKind.OOM_CONSTRAINT
        f["constraint"] = m[1]
        f["process"] = m[3]
        rec.pid = int(m[4])
        for part in m[2].split(","):
            k, _, v = part.partition("=")
            if k in ("oom_memcg", "task_memcg"):
                f[k] = v
        rec.level = Level.ERROR
    elif "invoked oom-killer" in msg and (m := _INVOKED.search(msg)):
        f["kind"] = EventKind.OOM_INVOKED
        f["process"] = m[1]
        f["gfp_mask"] = m[2]
        rec.level = Level.WARNING
    elif "Kill process" in msg and (m := _OLD_KILL.search(msg)):
        f["kind"] = EventKind.OOM_SELECT
        f["process"] = m[3]
        rec.pid = int(m[2])
        f["memcg"] = m[1].startswith("Memory cgroup")
        rec.level = Level.ERROR
    else:
        return False
    rec.component = "kernel"
    return True
