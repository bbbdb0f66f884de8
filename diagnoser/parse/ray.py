"""Ray worker and actor output forwarded to the driver: the `(Name pid=N, ip=A)` prefix is stripped.

Ray's log monitor copies every worker's stdout/stderr to the driver (and to `ray start` / `serve run`
output, hence to `kubectl logs` of a head pod) with a prefix made by `print_worker_logs`
(ray-project/ray python/ray/_private/worker.py):
`"{DIM}{color}({prefix}{pid}{ip_prefix}){RESET} {message}"`, where prefix is `pid=` after the actor or
task name when there is one (`ServeReplica:default:Model pid=13177`), empty for `raylet` and
`autoscaler +1m2s`, and ip_prefix is `, ip=<address>` for another node. Colours are ANSI codes
(`\\x1b[36m`) whose ESC a paste may lose (`[36m`).

Each worker process is its own stream, so the prefix is the sub-source: a traceback a replica prints
is assembled from that replica's lines only, and the inner line is read like any other.
"""

from __future__ import annotations

import re

from diagnoser.parse.base import Rec

_COLOUR = r"(?:\x1b?\[[0-9;]*m)*"
PREFIX = re.compile(
    _COLOUR
    + r"\((?:(?:([^\s()]+) )?pid=(\d+)|(raylet|autoscaler \+\w+))(?:, ip=([0-9A-Fa-f.:]+))?\)"
    + _COLOUR
    + r"(?: |$)"
)


def deframe(text: str, rec: Rec) -> str | None:
    """Strip a Ray worker prefix into `rec` and return the inner line; None when `text` has none.

    Callers check first that the line starts with `(` or holds `m(` (a colour code's end) near its
    start. The outer framing (CRI, docker, compose) stays the format and its sub-source key is kept as a
    prefix of the worker's.
    """
    m = PREFIX.match(text)
    if m is None:
        return None
    name, pid, daemon, ip = m[1], m[2], m[3], m[4]
    worker = daemon.split(" ", 1)[0] if daemon else f"{name or 'pid'}:{pid}"
    f = rec.fields
    f["ray_worker"] = worker
    if pid is not None:
        rec.pid = int(pid)
    if ip is not None:
        f["node_ip"] = ip
    key = f"{worker}@{ip}" if ip else worker
    rec.key = f"{rec.key}/{key}" if rec.key else key
    return text[m.end() :]
