"""Azure ML inference server (azmlinfsrv) lines, old and new layouts, its banner and AzureML runit lines."""

from __future__ import annotations

import re

from diagnoser.model import EventKind, Level
from diagnoser.parse import access, gunicorn
from diagnoser.parse.base import LEVELS, Rec, iso, ymd_hms

# 2024-01-01 00:00:00,123 I [70] azmlinfsrv - msg
NEW = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) ([DIWEC]) \[(\d+)\] ([\w.\-]+) - ?(.*)", re.S)
# 2020-08-06 10:00:00,123 | root | INFO | msg
OLD = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) \| ([\w.\-]+) \| ([A-Z]+) \| ?(.*)", re.S)
# 2023-02-01T03:56:56,241428925+00:00 | gunicorn/run | msg     (and '- iot-server/run')
RUNIT = re.compile(
    r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[,.]\d+(?:Z|[+-]\d\d:?\d\d)) ([|-]) ([\w.\-]+)/(\w+) ?(?:\| ?(.*))?",
    re.S,
)

_CONFIG = (
    (re.compile(r"Worker Count: (\d+)"), "worker_count", 1.0),
    (re.compile(r"Worker Timeout \(seconds\): (\d+)"), "worker_timeout", 1.0),
    (re.compile(r"Scoring timeout is found from os\.environ: (\d+) ?ms"), "scoring_timeout_ms", 1.0),
    (re.compile(r"Scoring timeout is set to (\d+)"), "scoring_timeout_ms", 1.0),
    (
        re.compile(r"Scoring timeout setting is not found\. Use default timeout: (\d+) ?ms"),
        "scoring_timeout_ms",
        1.0,
    ),
    (re.compile(r"Entry Script Name: (\S+)"), "entry_script", 0.0),
    (re.compile(r"Model Directory: (\S+)"), "model_dir", 0.0),
    (re.compile(r"Inferencing HTTP server version: azmlinfsrv/(\S+)"), "version", 0.0),
    (re.compile(r"Azure ML Inferencing HTTP server v(\S+)"), "version", 0.0),
)
_CONFIG_STARTS = (
    "Worker Count",
    "Worker Timeout",
    "Scoring timeout",
    "Entry Script",
    "Model Directory",
    "Inferencing HTTP",
    "Azure ML Inferencing",
)


def config(msg: str, rec: Rec) -> bool:
    """Add kind=config and the setting for an azmlinfsrv banner / settings line; False if not one."""
    if not msg.startswith(_CONFIG_STARTS):
        return False
    for rx, name, numeric in _CONFIG:
        m = rx.match(msg)
        if m:
            rec.fields["kind"] = EventKind.CONFIG
            rec.fields[name] = int(m[1]) if numeric else m[1]
            rec.component = rec.component or "azmlinfsrv"
            return True
    return False


def _inner(logger: str, msg: str, rec: Rec) -> None:
    rec.fields["logger"] = logger
    if logger.startswith("gunicorn"):
        rec.component = "gunicorn"
        if logger == "gunicorn.access":
            level = rec.level
            if access.parse_combined(msg, rec, "gunicorn"):
                rec.level = level if level and level != Level.INFO else rec.level
        else:
            gunicorn.classify(msg, rec.fields)
    elif logger.startswith("azmlinfsrv") or logger in ("root", "azureml.inference"):
        rec.component = "azmlinfsrv"
        if msg[:1].isupper() and not access.parse_azml(msg, rec):
            config(msg, rec)
    else:
        rec.component = "app"


def parse(text: str, rec: Rec) -> bool:
    """Fill `rec` from an azmlinfsrv line in either layout; False when `text` is not one."""
    if len(text) < 26 or text[4] != "-" or text[10] != " ":
        return False
    c = text[24]
    if c == "|":
        m = OLD.match(text)
        if m is None:
            return False
        rec.level = LEVELS.get(m[4])
        logger, msg = m[3], m[5]
    else:
        m = NEW.match(text)
        if m is None:
            return False
        rec.level = LEVELS.get(m[3])
        rec.pid = int(m[4])
        logger, msg = m[5], m[6]
    rec.timestamp = rec.timestamp or ymd_hms(m[1], m[2])
    rec.format = "azmlinfsrv"
    rec.message = msg
    _inner(logger, msg, rec)
    return True


def parse_runit(text: str, rec: Rec) -> str | None:
    """Strip an AzureML runit prefix and return the inner text, or None when `text` has none."""
    m = RUNIT.match(text)
    if m is None:
        return None
    rec.timestamp = iso(m[1].replace(",", ".", 1))
    rec.component = m[3] if m[3] != "gunicorn" else "azmlinfsrv"
    rec.fields["service"] = m[3]
    rec.format = "runit"
    return m[5] or ""
