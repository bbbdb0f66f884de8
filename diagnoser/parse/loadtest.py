"""Load-test output pasted with a failure: k6 CSV metric rows and envoy admin `/stats` counters.

k6 `--out csv` (grafana/k6 output/csv/output.go) writes one row per metric sample:
`metric_name,timestamp,metric_value,<system tags, sorted>,extra_tags[,metadata]`, the timestamp in
unix seconds (default), RFC 3339 or unix nanoseconds. With the default system tags the columns run
`check,error,error_code,expected_response,group,method,name,proto,scenario,service,status,subproto,
tls_version,url` (older releases have fewer), so the status is the first integer within three
columns after the `HTTP/x` proto column. Every request gives one `http_reqs` row (value 1) and one
row per timing metric (`http_req_duration`, `http_req_waiting`, …): only `http_reqs` rows become
kind=access events, so a request is counted once; the others keep fields metric, value and
request_status.

envoy admin `/stats` prints `cluster.<name>.upstream_rq_<code>: <count>` (istio names hold `|`);
a non-zero per-code counter becomes one kind=access event with status and count.
"""

from __future__ import annotations

from datetime import UTC, datetime

from diagnoser.model import EventKind, Level
from diagnoser.parse.base import Rec, iso

_METHODS = frozenset(("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"))


def _level(status: int) -> Level:
    return Level.ERROR if status >= 500 else Level.WARNING if status >= 400 else Level.INFO


def parse_k6(text: str, rec: Rec) -> bool:
    """Fill `rec` from a k6 CSV `http_req*` row; False when `text` is not one."""
    cols = text.split(",")
    if len(cols) < 8 or not cols[0].startswith("http_req") or not cols[0].replace("_", "").isalpha():
        return False
    ts, value = cols[1], cols[2]
    try:
        v = float(value)
    except ValueError:
        return False
    if ts.isdigit():
        n = int(ts)
        rec.timestamp = datetime.fromtimestamp(n / 1e9 if n > 10**14 else n, UTC)
    elif ts[:1].isdigit() and (t := iso(ts.replace("Z", "+00:00"))) is not None:
        rec.timestamp = t
    else:
        return False
    status = None
    for i, col in enumerate(cols):
        if col.startswith("HTTP/"):
            for s in cols[i + 1 : i + 4]:
                if s.isdigit() and len(s) <= 3:
                    status = int(s)
                    break
            break
    f = rec.fields
    method = next((c for c in cols[3:] if c in _METHODS), None)
    url = next((c for c in cols[3:] if c.startswith(("http://", "https://"))), None)
    rec.format = "k6-csv"
    rec.component = "k6"
    rec.message = text
    if cols[0] == "http_reqs" and status is not None:
        f["kind"] = EventKind.ACCESS
        f["status"] = status
        rec.level = _level(status)
    else:
        f["metric"] = cols[0]
        f["value"] = v
        if status is not None:
            f["request_status"] = status
    if method:
        f["method"] = method
    if url:
        f["url"] = url
    return True


def parse_envoy(text: str, rec: Rec) -> bool:
    """Fill `rec` from an envoy `cluster.<name>.upstream_rq_<code>: N` counter; False if not one."""
    i = text.rfind(".upstream_rq_")
    if i < 0:
        return False
    code, sep, count = text[i + 13 :].partition(": ")
    if not sep or len(code) != 3 or not code.isdigit() or not count.strip().isdigit():
        return False
    n = int(count)
    if n == 0:
        return False
    status = int(code)
    rec.format = "envoy-stats"
    rec.component = "envoy"
    rec.message = text
    rec.level = _level(status)
    rec.fields.update(kind=EventKind.ACCESS, status=status, count=n, cluster=text[8:i])
    return True
