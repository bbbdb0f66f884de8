"""klog lines (kubelet, kube-scheduler), plain and structured ("msg" key="value")."""

from __future__ import annotations

import re

from diagnoser.parse.base import LEVELS, Rec, no_year

# I1125 02:28:13.123456    1234 file.go:123] msg
KLOG = re.compile(r"([IWEF])(\d\d)(\d\d) (\d\d:\d\d:\d\d)\.(\d+) +(\d+) ([\w.\-]+:\d+)\] ?(.*)", re.S)
_KV = re.compile(r'([A-Za-z_][\w.]*)=("(?:[^"\\]|\\.)*"|\S+)')
_SCHED_FILES = (
    "schedule_one.go",
    "scheduler.go",
    "factory.go",
    "framework.go",
    "default_preemption.go",
    "scheduling_queue.go",
    "generic_scheduler.go",
    "eventhandlers.go",
)
_KEEP = {
    "pod": "pod",
    "podUID": "pod_uid",
    "containerName": "container",
    "container": "container",
    "node": "node",
    "err": "error",
    "reason": "reason",
    "exitCode": "exit_code",
}


def _unquote(v: str) -> str:
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        return v[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return v


def parse(text: str, rec: Rec) -> bool:
    """Fill `rec` from a klog line; False when `text` is not one."""
    m = KLOG.match(text)
    if m is None:
        return False
    rec.level = LEVELS[m[1]]
    rec.timestamp = rec.timestamp or no_year(int(m[2]), int(m[3]), m[4], m[5])
    rec.pid = rec.pid or int(m[6])
    src = m[7]
    rec.fields["klog_source"] = src
    if rec.component in (None, "app"):
        rec.component = "scheduler" if src.startswith(_SCHED_FILES) else "kubelet"
    msg = m[8]
    rec.message = msg
    if msg.startswith('"'):
        end = msg.find('" ', 1)
        head = msg[1:end] if end > 0 else msg.strip('"')
        rec.fields["klog_msg"] = head
        if end > 0:
            for km in _KV.finditer(msg, end + 2):
                name = _KEEP.get(km[1])
                if name is None:
                    continue
                v = _unquote(km[2])
                if name == "pod" and "/" in v:
                    ns, _, v = v.partition("/")
                    rec.fields["namespace"] = ns
                if name == "exit_code":
                    try:
                        rec.fields[name] = int(v)
                    except ValueError:
                        continue
                else:
                    rec.fields[name] = v
    return True
