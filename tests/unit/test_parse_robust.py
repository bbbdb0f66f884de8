from __future__ import annotations

import random
import time

from test_parse_helpers import parse_text

from diagnoser.model import RawLine
from diagnoser.parse import ParseStats, parse_lines, parsers

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
    st = ParseStats()
    evs = list(parse_lines((RawLine("junk", i + 1, t) for i, t in enumerate(lines)), st))
    assert st.lines == len(lines) and st.events == len(evs) and sum(st.formats.values()) == len(evs)
    assert max(len(e.text) for e in evs) <= 20000
    assert all("\x00" not in e.message for e in evs)
    crlf = [e for e in evs if e.message.startswith("line with CRLF")]
    assert crlf[0].message == "line with CRLF"


def test_registry_parsers_sniff_and_parse():
    gun = parsers.get("gunicorn")()
    line = "[2024-01-01 00:00:00 +0000] [7] [CRITICAL] WORKER TIMEOUT (pid:8)"
    assert gun.sniff(line) == 1.0 and parsers.get("docker")().sniff(line) == 0.0
    ev = gun.parse(RawLine("s", 1, line))
    assert ev is not None and ev.fields["kind"] == "worker_timeout"
    assert parsers.get("plain")().parse(RawLine("s", 1, line)) is None


def test_stats_count_by_outer_format():
    st = ParseStats()
    parse_text(
        '{"log":"[2024-01-01 00:00:00 +0000] [7] [INFO] Booting worker with pid: 8\\n","stream":"stderr",'
        '"time":"2024-01-01T00:00:00Z"}\nplain\n\n',
        stats=st,
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
