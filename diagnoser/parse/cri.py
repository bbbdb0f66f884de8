"""CRI container log lines, `kubectl logs --timestamps` and `kubectl logs --prefix` framing."""

from __future__ import annotations

import re

from diagnoser.parse.base import Rec, iso

# 2024-01-01T00:00:00.123456789Z stdout F msg
CRI = re.compile(r"(\d{4}-\d\d-\d\dT[\d:.,]+(?:Z|[+-]\d\d:?\d\d)) (stdout|stderr) ([PF])(?: (.*))?$", re.S)
# 2024-01-01T00:00:00.123456789Z msg       (kubectl logs --timestamps, App Service docker logs)
STAMPED = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)) (.*)$", re.S)
# [pod/web-7d9/web] msg
PREFIX = re.compile(
    r"\[(pod|deployment|job|statefulset|daemonset|replicaset)/([^/\] ]+)/([^\] ]+)\] ?(.*)$", re.S
)


def deframe(text: str, rec: Rec) -> str | None:
    """Return the inner text of a CRI line and fill `rec`; None if `text` is not one."""
    m = CRI.match(text)
    if m is None:
        return None
    rec.format = "cri"
    rec.timestamp = iso(m[1])
    rec.stream = rec.key = m[2]
    rec.partial = m[3] == "P"
    return m[4] or ""


def deframe_stamped(text: str, rec: Rec) -> str | None:
    """Return the text after an RFC 3339 timestamp and a space and fill `rec`; None if there is none."""
    m = STAMPED.match(text)
    if m is None:
        return None
    ts = iso(m[1])
    if ts is None:
        return None
    rec.timestamp = ts
    rec.format = "timestamped"
    return m[2]


def deframe_prefix(text: str, rec: Rec) -> str | None:
    """Return the text after a `kubectl logs --prefix` tag and fill `rec`; None if there is none."""
    m = PREFIX.match(text)
    if m is None:
        return None
    rec.format = "kubectl-prefix"
    if m[1] == "pod":
        rec.fields["pod"] = m[2]
    else:
        rec.fields["workload"] = f"{m[1]}/{m[2]}"
    rec.fields["container"] = m[3]
    rec.key = f"{m[1]}/{m[2]}/{m[3]}"
    return m[4]
