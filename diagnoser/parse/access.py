"""HTTP access lines: nginx / gunicorn combined, ingress-nginx, azmlinfsrv and the AzureML front end."""

from __future__ import annotations

import re

from diagnoser.model import EventKind, Level
from diagnoser.parse.base import Rec, clf_time

# 127.0.0.1 - - [25/Nov/2026:02:31:49 +0000] "POST /score HTTP/1.1" 200 12 "-" "curl/7.88.1" <rest>
COMBINED = re.compile(
    r"(\S+) (\S+) (.+?) \[(\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d(?: [+-]\d{4})?)\] "
    r'"(?:([A-Z]+) (\S+)(?: (HTTP/[\d.]+))?|[^"]*)" (\d{3}) (\S+)'
    r'(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?(.*)',
    re.S,
)
# ingress-nginx default log-format-upstream tail after the user agent
_INGRESS_TAIL = re.compile(
    r" (\d+) (\d+(?:\.\d+)?) \[([^\]]*)\] \[([^\]]*)\] (\S+) (\S+) (\S+) (\S+)(?: (\S+))?"
)
# a trailing request time in seconds (nginx $request_time appended to the combined format)
_TRAIL_SECONDS = re.compile(r" (\d+\.\d{3})\s*$")
# azmlinfsrv: POST /score 200 0.383ms 12
AZML = re.compile(r"([A-Z]+) (/\S*) (\d{3}) (\d+(?:\.\d+)?)ms(?: (\d+))?\s*$")
# AzureML front end / iot-server: RequestID: <id> Returned Status Code: 200 Total request time: 3.86s ...
_FE = re.compile(r"RequestID: (\S+) Returned Status Code: (\d{3}) Total request time: (\S+)")
_FE_IN = re.compile(r"Incoming request: +(\S+) ([A-Z]+) (\S+)")
# uvicorn (and FastAPI, LitServe, MLflow, vLLM's API server behind it): uvicorn/logging.py AccessFormatter,
# '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s' where the status is "504 Gateway
# Timeout" and the level prefix is the level name and a colon padded to 9 ("INFO:     "); without colour
# or level prefix in some configurations.
UVICORN = re.compile(
    r"(?:(INFO|WARNING|ERROR|DEBUG|CRITICAL):\s+)?"
    r'(\S+) - "([A-Z]+) (\S+) (HTTP/[\d.]+)" (\d{3})(?: [^"\n]{0,40})?\s*$'
)
_GO_DUR = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|µs|us|ns)")
_GO_UNIT_MS = {"h": 3600000.0, "m": 60000.0, "s": 1000.0, "ms": 1.0, "µs": 0.001, "us": 0.001, "ns": 1e-6}
_ACCESS = EventKind.ACCESS  # set per access line: bound once, an EventKind.X lookup is slow (model.EventKind)


def _level(status: int) -> Level:
    return Level.ERROR if status >= 500 else Level.WARNING if status >= 400 else Level.INFO


def parse_uvicorn(text: str, rec: Rec) -> bool:
    """Fill `rec` from a uvicorn access line; False if `text` is not one."""
    m = UVICORN.match(text)
    if m is None:
        return False
    f = rec.fields
    f["kind"] = _ACCESS
    f["host"] = m[2].rsplit(":", 1)[0] if m[2].count(":") == 1 else m[2]
    f["method"], f["path"] = m[3], m[4]
    status = int(m[6])
    f["status"] = status
    rec.level = _level(status)
    rec.component = "uvicorn"
    rec.message = text
    return True


def go_duration_ms(s: str) -> float | None:
    """Return milliseconds for a Go duration such as '3.864929635s' or '1m2s', or None."""
    total, pos = 0.0, 0
    for m in _GO_DUR.finditer(s):
        if m.start() != pos:
            return None
        total += float(m[1]) * _GO_UNIT_MS[m[2]]
        pos = m.end()
    return total if pos and pos == len(s) else None


def parse_combined(text: str, rec: Rec, server: str = "nginx") -> bool:
    """Fill `rec` from a combined-format access line (nginx, ingress-nginx, gunicorn); False if not one."""
    m = COMBINED.match(text)
    if m is None:
        return False
    f = rec.fields
    f["kind"] = _ACCESS
    f["host"] = m[1]
    status = int(m[8])
    f["status"] = status
    if m[5]:
        f["method"] = m[5]
        f["path"] = m[6]
    if m[9].isdigit():
        f["bytes"] = int(m[9])
    if m[11] is not None:
        f["user_agent"] = m[11]
    rec.timestamp = rec.timestamp or clf_time(m[4])
    rec.level = _level(status)
    rec.component = server
    tail = m[12]
    if tail:
        t = _INGRESS_TAIL.match(tail)
        if t is not None:
            rec.component = "ingress"
            f["duration_ms"] = float(t[2]) * 1000.0
            f["upstream"] = t[3]
            f["upstream_addr"] = t[5]
            try:
                f["upstream_duration_ms"] = float(t[7].split(",")[-1].strip()) * 1000.0
            except ValueError:
                pass
            us = t[8].split(",")[-1].strip()
            if us.isdigit():
                f["upstream_status"] = int(us)
            if t[9]:
                f["request_id"] = t[9]
        elif s := _TRAIL_SECONDS.search(tail):
            f["duration_ms"] = float(s[1]) * 1000.0
    rec.message = text
    return True


def parse_azml(text: str, rec: Rec) -> bool:
    """Fill `rec` from an azmlinfsrv access message 'POST /score 200 0.383ms 12'; False if not one."""
    m = AZML.match(text)
    if m is None:
        return False
    f = rec.fields
    status = int(m[3])
    f.update(kind=_ACCESS, method=m[1], path=m[2], status=status, duration_ms=float(m[4]))
    if m[5]:
        f["bytes"] = int(m[5])
    rec.component = "azmlinfsrv"
    if rec.level is None or status >= 500:
        rec.level = _level(status)
    return True


def parse_frontend(text: str, rec: Rec) -> bool:
    """Fill `rec` from an AzureML front-end / iot-server request line; False if not one."""
    if "Returned Status Code" in text and (m := _FE.search(text)):
        status = int(m[2])
        f = rec.fields
        f.update(kind=EventKind.ACCESS, request_id=m[1], status=status)
        d = go_duration_ms(m[3])
        if d is not None:
            f["duration_ms"] = d
        rec.level = _level(status)
    elif "Incoming request:" in text and (m := _FE_IN.search(text)):
        rec.fields.update(kind=EventKind.REQUEST, request_id=m[1], method=m[2], path=m[3])
        rec.level = rec.level or Level.INFO
    else:
        return False
    rec.component = "azureml-fe"
    return True
