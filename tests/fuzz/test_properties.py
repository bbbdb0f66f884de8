"""Property tests (hypothesis): every row of the parse tables, the stream parser, the condition grammar,
rule loading and redaction hold their contracts on generated input. The coverage-guided harness (atheris,
tests/fuzz/run_atheris.py) runs the same targets for longer; this is the bounded part pytest runs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diagnoser.model import RawLine
from diagnoser.parse.base import Rec
from diagnoser.parse.stream import CONTENT_FORMATS, ENVELOPES, StreamParser, _Source
from tests.fuzz import targets

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces of the formats the parsers sniff, so generated lines reach past the first check.
FRAGMENTS = [
    "[2024-03-05 10:00:00 +0000] [1] [INFO] ",
    "[2024-03-05 10:00:00 -0530] [7] [ERROR] ",
    "2024-03-05T10:00:00.123456789Z stdout F ",
    "2024-03-05T10:00:00Z stderr P ",
    '{"log":"',
    '\\n","stream":"stderr","time":"2024-03-05T10:00:00Z"}',
    '{"MESSAGE":"',
    '"__REALTIME_TIMESTAMP":"1709632800000000"',
    "I0305 10:00:00.123456    1 kubelet.go:123] ",
    "E0305 ",
    "Mar  5 10:00:00 node1 kernel: ",
    "[12345.678901] ",
    "Out of memory: Killed process 42 (python) ",
    "Traceback (most recent call last):",
    '  File "/var/azureml-app/score.py", line 3, in init',
    "ValueError: boom",
    "During handling of the above exception",
    "LAST SEEN   TYPE      REASON    OBJECT    MESSAGE",
    "5m          Warning   BackOff   pod/web   Back-off restarting",
    "Name:         web-7d9",
    "    State:          Waiting",
    "      Reason:       CrashLoopBackOff",
    "      Exit Code:    137",
    "Events:",
    "  Type     Reason     Age   From     Message",
    "  ----     ------     ----  ----     -------",
    '{"kind":"Pod","status":{"containerStatuses":[',
    "apiVersion: v1",
    "kind: EventList",
    "items:",
    "- reason: OOMKilled",
    '10.0.0.1 - - [05/Mar/2024:10:00:00 +0000] "POST /score HTTP/1.1" 504 0 "-" "curl"',
    "WORKER TIMEOUT (pid:7)",
    "2024-03-05 10:00:00,120 I [7] azmlinfsrv.user_script - ",
    "2024-03-05 10:00:00,120 | root | ERROR | ",
    "Worker (pid:7) was sent SIGKILL! Perhaps out of memory?",
    "Booting worker with pid: 7",
    "[pod/web-7d9/web] ",
    "> ",
    "$ kubectl logs web",
    "\t",
    "  ",
    "\\n",
    '\\"',
    "\x1b[31m",
    "\r",
    "\x00",
    "\ufffd",
    "é",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "2024/03/05 10:00:00 ",
    'time="2024-03-05T10:00:00Z" level=error msg=',
    "exit code 137",
    "signal 9",
]
line_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=20)), max_size=8).map("".join)
log_text = st.lists(line_text, max_size=30).map("\n".join)


@pytest.mark.parametrize("row", range(len(ENVELOPES)), ids=[name for name, _, _ in ENVELOPES])
@SETTINGS
@given(line=line_text.filter(bool))
def test_every_envelope_row_deframes_without_raising(row, line):
    _name, first, deframe = ENVELOPES[row]
    assert first is None or first(line[0]) in (True, False)
    inner = deframe(StreamParser(), RawLine("prop", 1, line), line, Rec(message=line))
    assert inner is None or isinstance(inner, str)


@pytest.mark.parametrize("row", range(len(CONTENT_FORMATS)), ids=[name for name, _, _ in CONTENT_FORMATS])
@SETTINGS
@given(line=line_text.filter(bool))
def test_every_content_row_claims_without_raising(row, line):
    _name, first, claim = CONTENT_FORMATS[row]
    assert first is None or first(line[0]) in (True, False)
    rec = Rec(message=line)
    assert claim(StreamParser(), line, rec, _Source(), 0) in (True, False)
    assert isinstance(rec.message, str)


@SETTINGS
@given(text=log_text)
def test_stream_engine_strict_on_generated_logs(text):
    targets.parse(text.encode("utf-8", "surrogatepass"))


@SETTINGS
@given(data=st.binary(max_size=2048))
def test_stream_engine_strict_on_bytes(data):
    targets.parse(data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=log_text)
def test_whole_pipeline_on_generated_logs(text):
    targets.pipeline(text.encode("utf-8", "surrogatepass"))


TOKENS = [
    "a",
    "b",
    "c",
    "boot",
    "kill",
    "nope",
    "and",
    "or",
    "not",
    "(",
    ")",
    "count(a)",
    "count(",
    ">=",
    ">",
    "<",
    "==",
    "!=",
    "3",
    "0",
    "-1",
    "99999999999999999999",
    "within",
    "5m",
    "10s",
    "2h",
    "0s",
    "then",
    "any",
    "all",
    "of",
    "1",
    ",",
    "them",
    "(a, b)",
    "count(b)",
    "x",
    "",
    "'",
    '"',
]


@SETTINGS
@given(words=st.lists(st.sampled_from(TOKENS), max_size=14))
def test_condition_grammar_on_token_soup(words):
    targets.condition(" ".join(words).encode())


@SETTINGS
@given(text=st.text(max_size=80))
def test_condition_grammar_on_any_text(text):
    targets.condition(text.encode("utf-8", "surrogatepass"))


RULE_KEYS = [
    "match:\n",
    "  a: {message|contains: Killed}\n",
    "  b: {message|re: 'x+y'}\n",
    "  c: {fields.exit_code: 137}\n",
    "  d: {message|re: '(a+)+$'}\n",
    "  e: {fields.status|>=: 500}\n",
    "condition: a\n",
    "condition: a and b within 5m\n",
    "condition: count(a) >= 2\n",
    "window: 5m\n",
    "window: 0\n",
    "examples: {positive: [x], negative: [y]}\n",
    "explain: '{count} {nope}'\n",
    "confidence: 2\n",
    "status: stable\n",
    "sources: [docker]\n",
    "&a [*a]\n",
    "!!python/object:os.system {}\n",
]


@SETTINGS
@given(parts=st.lists(st.sampled_from(RULE_KEYS), max_size=10))
def test_rule_loading_on_generated_yaml(parts):
    targets.rule("".join(parts).encode())


@SETTINGS
@given(text=st.text(max_size=300))
def test_redaction_is_idempotent_and_catches_planted_secrets(text):
    targets.redaction(text.encode("utf-8", "surrogatepass"))


@SETTINGS
@given(
    offsets=st.lists(st.integers(min_value=-14 * 60, max_value=14 * 60), min_size=1, max_size=12),
    steps=st.lists(st.integers(min_value=-7200, max_value=7200), min_size=1, max_size=12),
)
def test_windows_survive_clocks_going_backwards_and_mixed_zones(offsets, steps):
    base = datetime(2024, 3, 5, 10, 0, tzinfo=UTC)
    lines = []
    t = base
    for i, step in enumerate(steps):
        t = t + timedelta(seconds=step)
        tz = timezone(timedelta(minutes=offsets[i % len(offsets)]))
        stamp = t.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %z")
        lines.append(f"[{stamp}] [1] [ERROR] Worker (pid:{i + 7}) was sent SIGKILL! Perhaps out of memory?")
        lines.append(f"[{stamp}] [1] [INFO] Booting worker with pid: {i + 8}")
    targets.pipeline("\n".join(lines).encode())
