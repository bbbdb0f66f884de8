"""Gunicorn error log lines and the worker / master messages every gunicorn version prints."""

from __future__ import annotations

import re
from typing import Any

from diagnoser.model import EventKind
from diagnoser.parse.base import LEVELS, SIGNALS, Rec, to_int, ymd_hms

# [2024-01-01 00:00:00 +0000] [7] [INFO] Booting worker with pid: 8
ERROR_LINE = re.compile(
    r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) ([+-]\d{4})\] \[(\d+)\] \[([A-Z]+)\] ?(.*)", re.S
)

_BOOT = re.compile(r"Booting worker with pid: (\d+)")
_TIMEOUT = re.compile(r"WORKER TIMEOUT \(pid:(\d+)\)")
_SIG20 = re.compile(r"Worker with pid (\d+) was terminated due to signal (\d+)")
_SIG22 = re.compile(r"Worker \(pid:(\d+)\) was sent (SIG[A-Z0-9]+)")
_CODE = re.compile(r"Worker \(pid:(\d+)\) exited with code (\d+)")
_EXITING = re.compile(r"Worker exiting \(pid: ?(\d+)\)")
_START = re.compile(r"Starting gunicorn (\d[\w.]*)")
_TIMEOUT_SET = re.compile(r"worker timeout is set to (\d+)", re.I)


def classify(msg: str, fields: dict[str, Any]) -> bool:
    """Add kind and worker fields for a gunicorn arbiter/worker message; return True if it is one."""
    if "orker" in msg or "WORKER" in msg:
        if m := _BOOT.search(msg):
            fields["kind"] = EventKind.WORKER_BOOT
            fields["worker_pid"] = int(m[1])
        elif m := _TIMEOUT.search(msg):
            fields["kind"] = EventKind.WORKER_TIMEOUT
            fields["worker_pid"] = int(m[1])
        elif m := _SIG22.search(msg):
            fields["kind"] = EventKind.WORKER_EXIT
            fields["worker_pid"] = int(m[1])
            fields["signal_name"] = m[2]
            if m[2] in SIGNALS:
                fields["signal"] = SIGNALS[m[2]]
            if "out of memory" in msg:
                fields["oom_suspected"] = True
        elif m := _SIG20.search(msg):
            fields["kind"] = EventKind.WORKER_EXIT
            fields["worker_pid"] = int(m[1])
            fields["signal"] = int(m[2])
        elif m := _CODE.search(msg):
            fields["kind"] = EventKind.WORKER_EXIT
            fields["worker_pid"] = int(m[1])
            fields["exit_code"] = int(m[2])
        elif m := _EXITING.search(msg):
            fields["kind"] = EventKind.WORKER_EXIT
            fields["worker_pid"] = int(m[1])
        elif "Exception in worker process" in msg:
            fields["kind"] = EventKind.WORKER_EXCEPTION
        elif m := _TIMEOUT_SET.search(msg):
            fields["kind"] = EventKind.CONFIG
            fields["worker_timeout"] = int(m[1])
        elif "Worker failed to boot" in msg:
            fields["kind"] = EventKind.MASTER_EXIT
            fields["reason"] = "Worker failed to boot."
        else:
            return False
        return True
    if msg.startswith("Starting gunicorn"):
        fields["kind"] = EventKind.MASTER_START
        if m := _START.match(msg):
            fields["version"] = m[1]
    elif msg.startswith("Shutting down: Master"):
        fields["kind"] = EventKind.MASTER_EXIT
    elif msg.startswith("Reason: "):
        fields["kind"] = EventKind.MASTER_EXIT
        fields["reason"] = msg[8:].strip()
    elif msg.startswith("Listening at: "):
        fields["kind"] = EventKind.MASTER_LISTEN
    elif msg.startswith("Handling signal: "):
        fields["kind"] = EventKind.MASTER_SIGNAL
        name = "SIG" + msg[17:].strip().upper()
        fields["signal_name"] = name
        if name in SIGNALS:
            fields["signal"] = SIGNALS[name]
    else:
        return False
    return True


MAX_TIMED_OUT = 256


def correlate(fields: dict[str, Any], timed_out: dict[int, None]) -> None:
    """Mark a worker's death by signal that follows its own WORKER TIMEOUT with after_timeout=True.

    After a WORKER TIMEOUT the arbiter kills the worker itself (SIGABRT, then SIGKILL once the
    graceful timeout passes), and gunicorn >= 22 words that kill "Perhaps out of memory?":
    such a kill is the timeout's doing, not the kernel's (gunicorn/arbiter.py murder_workers).
    """
    pid = fields.get("worker_pid")
    if not isinstance(pid, int):
        return
    kind = fields.get("kind")
    if kind == EventKind.WORKER_TIMEOUT:
        timed_out[pid] = None
        if len(timed_out) > MAX_TIMED_OUT:
            del timed_out[next(iter(timed_out))]
    elif kind == EventKind.WORKER_EXIT and "signal" in fields and pid in timed_out:
        fields["after_timeout"] = True


BARE_STARTS = (
    "Starting gunicorn",
    "Shutting down: Master",
    "Reason: Worker",
    "Booting worker",
    "Worker ",
    "WORKER TIMEOUT",
    "worker timeout is set",
    "Listening at: http",
)


def parse_error_line(text: str, rec: Rec) -> bool:
    """Fill `rec` from a gunicorn error-log line; return False when `text` is not one."""
    m = ERROR_LINE.match(text)
    if m is None:
        return False
    rec.timestamp = rec.timestamp or ymd_hms(m[1], "", m[2])
    rec.pid = int(m[3])
    rec.level = LEVELS.get(m[4])
    rec.component = "gunicorn"
    rec.message = msg = m[5]
    classify(msg, rec.fields)
    return True


def parse_bare(text: str, rec: Rec) -> bool:
    """Fill `rec` from a gunicorn message printed without its prefix (AzureML images); False if not one."""
    if not text.startswith(BARE_STARTS):
        return False
    if not classify(text, rec.fields):
        return False
    rec.component = "gunicorn"
    rec.message = text
    kind = rec.fields.get("kind")
    if rec.level is None:
        if kind == EventKind.WORKER_TIMEOUT:
            rec.level = LEVELS["CRITICAL"]
        elif kind == EventKind.WORKER_EXIT and ("signal" in rec.fields or "exit_code" in rec.fields):
            rec.level = LEVELS["ERROR"]
        else:
            rec.level = LEVELS["INFO"]
    wp = to_int(rec.fields.get("worker_pid"))
    master = "signal" in rec.fields or "exit_code" in rec.fields
    if (
        kind in (EventKind.WORKER_BOOT, EventKind.WORKER_EXIT)
        and wp is not None
        and rec.pid is None
        and not master
    ):
        rec.pid = wp
    return True
