from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from test_parse_helpers import parse_counted

from diagnoser.model import EventKind, RawLine
from diagnoser.parse import parse_lines
from diagnoser.parse.base import Rec
from diagnoser.parse.stream import CONTENT_FORMATS, ENVELOPES, StreamParser, _Source

JUNK = [
    "{",
    "}",
    '{"log": 1}',
    '{"log":"x"',
    "[pod/",
    "Name:  x",
    "LAST SEEN TYPE REASON OBJECT MESSAGE",
    "apiVersion: v1",
    "kind: [",
    "\x00\x00\x01",
    "I1234",
    "2024-01-01T",
    "2024-01-01 00:00:00,123 I [",
    "é\udcff",
    "[ 1.0]",
    "Nov 99 99:99:99 h k[1]: x",
    '{"MESSAGE":[300,-1]}',
    '{"__REALTIME_TIMESTAMP":"99999999999999999999"}',
    '{"apiVersion":"v1","kind":"Pod","status":{"containerStatuses":[1,{"name":"x","state":"bad"}]}}',
    '{"apiVersion":"v1","kind":"List","items":"x"}',
    "[Thu Dec 99 00:05:15 2017] x",
    '1.2.3.4 - - [99/Foo/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-"',
    "line with CRLF\r",
]


def test_junk_never_raises_and_is_capped():
    rnd = random.Random(7)
    lines = list(JUNK)
    for _ in range(3000):
        lines.append(
            "".join(rnd.choice("{}[]:\"' \tNLaIk0123456789-T/.,|ZEW\x00é") for _ in range(rnd.randint(0, 60)))
        )
    lines.append("x" * 10_000_000)
    parsed = parse_lines(RawLine("junk", i + 1, t) for i, t in enumerate(lines))
    evs = list(parsed)
    st = parsed.stats
    assert st.lines == len(lines) and st.events == len(evs) and sum(st.formats.values()) == len(evs)
    assert max(len(e.text) for e in evs) <= 20000
    assert all("\x00" not in e.message for e in evs)
    crlf = [e for e in evs if e.message.startswith("line with CRLF")]
    assert crlf[0].message == "line with CRLF"


def _content_row(line: str) -> str | None:
    """Return the name of the first CONTENT_FORMATS row that claims `line`, as the parser tries them."""
    for name, first, claim in CONTENT_FORMATS:
        if (first is None or first(line[0])) and claim(StreamParser(), line, Rec(message=line), _Source(), 0):
            return name
    return None


def _envelope_row(line: str) -> str | None:
    """Return the name of the first ENVELOPES row that strips a frame off `line`."""
    for name, first, deframe in ENVELOPES:
        if (first is None or first(line[0])) and deframe(
            StreamParser(), RawLine("s", 1, line), line, Rec(line)
        ) is not line:
            return name
    return None


@pytest.mark.parametrize(
    ("line", "row"),
    [
        ("[2024-01-01 00:00:00 +0000] [7] [CRITICAL] WORKER TIMEOUT (pid:8)", "gunicorn"),
        ("[ 7063.247407] Memory cgroup out of memory: Killed process 63214 (uwsgi)", "dmesg"),
        ("2024-01-01 00:00:00,123 I [41] azmlinfsrv - POST /score 200 5.2ms 17", "azmlinfsrv"),
        ("2019/02/07 11:13:05 Routing to: http://localhost:5001", "golog"),
        ('10.0.0.1 - - [01/Nov/2026:00:00:00 +0000] "POST /score HTTP/1.1" 503 19 "-" "curl/8"', "access"),
        ("E1029 13:16:48.471488    4919 pod_workers.go:182] Error syncing pod", "klog"),
        ("Booting worker with pid: 64", "gunicorn"),
        ("$ kubectl logs web-7d9", "plain"),
        ("just some words", None),
    ],
)
def test_content_table_claims_each_format(line, row):
    assert _content_row(line) == row


@pytest.mark.parametrize(
    ("line", "row"),
    [
        (
            '{"log":"x\\n","stream":"stderr","time":"2024-01-01T00:00:00Z"}',
            "docker|journald|kubectl-json|json",
        ),
        ("2024-03-05T10:00:00.123456789Z stderr F msg", "cri|syslog|timestamped"),
        ("[pod/web-7d9c5b-abcde/web] msg", "kubectl-prefix"),
        ("[ 7063.247407] msg", "dmesg"),
        ("Oct 29 13:16:48 centos02 kubelet[4919]: msg", "syslog"),
        ("[2024-01-01 00:00:00 +0000] [7] [INFO] msg", None),
    ],
)
def test_envelope_table_strips_each_frame(line, row):
    assert _envelope_row(line) == row


def test_table_rows_are_documented_formats():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "FORMATS.md").read_text(encoding="utf-8")
    for name, _first, _parse in ENVELOPES + CONTENT_FORMATS:
        for fmt in name.split("|"):
            assert f"`{fmt}`" in doc or f'"{fmt}"' in doc, fmt


def test_a_line_is_read_as_its_table_row_says():
    line = "[2024-01-01 00:00:00 +0000] [7] [CRITICAL] WORKER TIMEOUT (pid:8)"
    (ev,) = parse_lines([RawLine("s", 1, line)])
    assert ev.format == _content_row(line) == "gunicorn" and ev.fields["kind"] == EventKind.WORKER_TIMEOUT


def test_stats_count_by_outer_format():
    _, st = parse_counted(
        '{"log":"[2024-01-01 00:00:00 +0000] [7] [INFO] Booting worker with pid: 8\\n","stream":"stderr",'
        '"time":"2024-01-01T00:00:00Z"}\nplain\n\n'
    )
    assert st.formats == {"docker": 1, "plain": 1} and st.lines == 3 and st.events == 2


def test_throughput_smoke():
    lines = [
        RawLine("s", i + 1, f"[2024-01-01 00:00:{i % 60:02d} +0000] [7] [INFO] Booting worker with pid: {i}")
        for i in range(20000)
    ]
    t = time.perf_counter()
    n = sum(1 for _ in parse_lines(lines))
    rate = n / (time.perf_counter() - t)
    assert n == 20000 and rate > 20000  # generous floor for slow CI machines; bench/ measures the real rate
