"""Streaming engine: matcher semantics, condition evaluation, windows, evidence and bounded memory."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from diagnoser.detect.engine import Engine
from diagnoser.detect.index import matcher_gate
from diagnoser.detect.loader import load_rules
from diagnoser.detect.rules import Rule
from diagnoser.model import Event, Level, Origin, Severity
from diagnoser.redact import DEFAULT, clip_record

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def make_rule(tmp_path: Path, match: str, condition: str, extra: str = "") -> Rule:
    body = textwrap.dedent(
        """\
        id: r
        cause: some_cause
        title: Something broke
        severity: high
        supersedes: [other_cause]
        match:
        {match}
        condition: "{condition}"
        {extra}
        """
    ).format(match=textwrap.indent(textwrap.dedent(match).strip(), "  "), condition=condition, extra=extra)
    path = tmp_path / "r.yaml"
    path.write_text(body)
    (rule,) = load_rules([path])
    return rule


def ev(message: str, line: int = 1, ts: datetime | None = None, source: str = "stdin", **kw) -> Event:
    fields = kw.pop("fields", {})
    return Event(
        source=source,
        line=line,
        text=kw.pop("text", message),
        message=message,
        format="plain",
        timestamp=ts,
        fields=fields,
        **kw,
    )


def run(rule: Rule, events: list[Event], keep: int = 64, prefilter: bool = True):
    engine = Engine([rule], keep=keep, prefilter=prefilter)
    for e in events:
        engine.feed(e)
    return engine.finish()


def fires(rule: Rule, events: list[Event]) -> bool:
    return bool(run(rule, events))


# --- matcher semantics -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("test", "event", "hit"),
    [
        ("{fields.exit_code: 137}", ev("x", fields={"exit_code": 137}), True),
        ("{fields.exit_code: 137}", ev("x", fields={"exit_code": "137"}), True),
        ("{fields.exit_code: '137.0'}", ev("x", fields={"exit_code": 137}), True),
        ("{fields.exit_code: 137}", ev("x", fields={"exit_code": 1}), False),
        ("{fields.exit_code: 137}", ev("137"), False),  # absent field never matches
        ("{fields.reason: [OOMKilled, Evicted]}", ev("x", fields={"reason": "Evicted"}), True),
        ("{fields.reason: oomkilled}", ev("x", fields={"reason": "OOMKilled"}), False),
        ("{fields.reason|i: oomkilled}", ev("x", fields={"reason": "OOMKilled"}), True),
        ("{message|contains: Killed}", ev("process Killed now"), True),
        ("{message|contains: Killed}", ev("process killed now"), False),
        ("{message|contains|i: KILLED}", ev("process killed now"), True),
        ("{message|contains|all: [Killed, memory]}", ev("Killed: out of memory"), True),
        ("{message|contains|all: [Killed, memory]}", ev("Killed: out of disk"), False),
        ("{message|contains: [disk, memory]}", ev("out of memory"), True),
        ("{message|startswith: Traceback}", ev("Traceback (most recent call last):"), True),
        ("{message|startswith: Traceback}", ev("  Traceback"), False),
        ("{message|endswith: SIGKILL!}", ev("was sent SIGKILL!"), True),
        ("{message|re: 'exit (code|status) \\d+'}", ev("exit status 3"), True),
        ("{message|re|i: 'EXIT code'}", ev("exit code 3"), True),
        ("{fields.status|gte: 500}", ev("x", fields={"status": 503}), True),
        ("{fields.status|gte: 500}", ev("x", fields={"status": "404"}), False),
        ("{fields.status|lt: 500}", ev("x", fields={"status": "n/a"}), False),
        ("{fields.duration_ms|gt: 1000.5}", ev("x", fields={"duration_ms": 1000.6}), True),
        ("{fields.pod|exists: true}", ev("x", fields={"pod": "web-1"}), True),
        ("{fields.pod|exists: false}", ev("x", fields={"pod": "web-1"}), False),
        ("{fields.pod|exists: false}", ev("x"), True),
        ("{fields.reasons: Evicted}", ev("x", fields={"reasons": ["OOMKilled", "Evicted"]}), True),
        ("{fields.reasons: Pending}", ev("x", fields={"reasons": ["OOMKilled", "Evicted"]}), False),
        # value gates that prove a one-test matcher on their own (the matcher is not run again)
        ("{fields.status: [200, 201]}", ev("x", fields={"status": 201}), True),
        ("{fields.status: [200, 201]}", ev("x", fields={"status": 201.0}), True),
        ("{fields.status: [200, 201]}", ev("x", fields={"status": "201"}), True),
        ("{fields.status: [200, 201]}", ev("x", fields={"status": 202}), False),
        ("{fields.status: [200, 201]}", ev("x", fields={"status": None}), False),
        ("{fields.kind: [access, boot]}", ev("x", fields={"kind": ["other", "boot"]}), True),
        ("{fields.kind: access}", ev("x", fields={"kind": "Access"}), False),
        ("{fields.kind: access, message|contains: slow}", ev("fast", fields={"kind": "access"}), False),
        ("{level: error}", ev("x", level=Level.ERROR), True),
        ("{level: error}", ev("x"), False),
        ("{component: kernel, message|contains: oom}", ev("oom-kill", component="kernel"), True),
        ("{component: kernel, message|contains: oom}", ev("oom-kill"), False),
        ("{pid: 42}", ev("x", pid=42), True),
        ("{stream: stderr}", ev("x", stream="stderr"), True),
        ("{text|contains: '[ERROR]'}", ev("boom", text="2024 [ERROR] boom"), True),
        ("{fields.oom: true}", ev("x", fields={"oom": True}), True),
        ("{message|contains: Müll}", ev("Der Müll ist voll"), True),
        ("{message|contains|i: STRASSE}", ev("die straße"), True),
        ("{message|re|i: 'kill'}", ev("\u212aILL"), True),  # Kelvin sign folds to k: prefilter bypassed
    ],
)
def test_matcher_semantics(tmp_path, test, event, hit):
    rule = make_rule(tmp_path, f"m: {test}", "m")
    assert fires(rule, [event]) is hit
    assert bool(run(rule, [event], prefilter=False)) is hit  # every matcher run on every event


def test_prefilter_takes_the_longest_literal(tmp_path):
    rule = make_rule(tmp_path, "m: {message|re: 'Worker \\(pid:\\d+\\) was sent SIGKILL'}", "m")
    assert matcher_gate(rule.matchers[0]) == ("message", (") was sent sigkill",))


# --- conditions --------------------------------------------------------------------------------

MATCH = """
a: {message|contains: alpha}
b: {message|contains: beta}
c: {message|contains: gamma}
"""


def events(*words: str) -> list[Event]:
    return [ev(w, line=i) for i, w in enumerate(words, start=1)]


@pytest.mark.parametrize(
    ("condition", "words", "expect"),
    [
        ("a and b", ("alpha", "beta"), True),
        ("a and b", ("alpha",), False),
        ("a or c", ("gamma",), True),
        ("a and not b", ("alpha",), True),
        ("a and not b", ("alpha", "beta"), False),
        ("count(a) >= 3", ("alpha",) * 3, True),
        ("count(a) >= 3", ("alpha",) * 2, False),
        ("count(a) > count(b)", ("alpha", "alpha", "beta"), True),
        ("count(a) > count(b)", ("alpha", "beta"), False),
        ("count(a) == 0", ("beta",), True),
        ("a then b", ("alpha", "beta"), True),
        ("a then b", ("beta", "alpha"), False),
        ("a then b then c", ("alpha", "gamma", "beta", "gamma"), True),
        ("a then b then c", ("gamma", "beta", "alpha"), False),
        ("any of them", ("beta",), True),
        ("all of them", ("alpha", "beta"), False),
        ("all of them", ("alpha", "beta", "gamma"), True),
        ("2 of (a, b, c)", ("alpha", "gamma"), True),
        ("2 of (a, b, c)", ("gamma", "gamma"), False),
    ],
)
def test_conditions(tmp_path, condition, words, expect):
    assert fires(make_rule(tmp_path, MATCH, condition), events(*words)) is expect


def test_within_uses_timestamps(tmp_path):
    rule = make_rule(tmp_path, MATCH, "a and b within 5m")
    near = [ev("alpha", 1, T0), ev("beta", 2, T0 + timedelta(minutes=4))]
    far = [ev("alpha", 1, T0), ev("beta", 2, T0 + timedelta(minutes=6))]
    assert fires(rule, near) and not fires(rule, far)


def test_within_counts_slide(tmp_path):
    rule = make_rule(tmp_path, MATCH, "count(a) >= 3 within 1m")
    spread = [ev("alpha", i, T0 + timedelta(seconds=40 * i)) for i in range(6)]
    burst = spread + [
        ev("alpha", 9, T0 + timedelta(seconds=201)),
        ev("alpha", 10, T0 + timedelta(seconds=202)),
    ]
    assert not fires(rule, spread)
    assert fires(rule, burst)


def test_untimed_hits_take_the_last_timestamp_of_their_source(tmp_path):
    rule = make_rule(tmp_path, MATCH, "a and b within 1m")
    stream = [
        ev("gamma", 1, T0, source="s1"),
        ev("alpha", 2, None, source="s1"),  # takes T0
        ev("gamma", 3, T0 + timedelta(minutes=10), source="s2"),
        ev("beta", 4, None, source="s1"),  # still T0: s2's clock is not s1's
    ]
    assert fires(rule, stream)
    stream[2] = ev("gamma", 3, T0 + timedelta(minutes=10), source="s1")  # now beta takes T0+10m
    assert not fires(rule, stream)


def test_without_timestamps_the_input_is_one_span(tmp_path):
    rule = make_rule(tmp_path, MATCH, "a and b within 1s")
    assert fires(rule, events("alpha", *["x"] * 100, "beta"))


def test_window_key_wraps_the_condition(tmp_path):
    rule = make_rule(tmp_path, MATCH, "a and b", extra="window: 5m")
    assert fires(rule, [ev("alpha", 1, T0), ev("beta", 2, T0 + timedelta(minutes=4))])
    assert not fires(rule, [ev("alpha", 1, T0), ev("beta", 2, T0 + timedelta(minutes=6))])


def test_within_on_a_group(tmp_path):
    rule = make_rule(tmp_path, MATCH, "(a then b within 1m) or c")
    assert not fires(rule, [ev("alpha", 1, T0), ev("beta", 2, T0 + timedelta(minutes=2))])
    assert fires(rule, [ev("alpha", 1, T0), ev("beta", 2, T0 + timedelta(seconds=30))])


# --- findings ----------------------------------------------------------------------------------


def test_finding_fields_and_explain(tmp_path):
    rule = make_rule(
        tmp_path,
        "kill: {message|re: 'pid:(?P<pid>\\d+) killed'}\nboot: {message|contains: Booting}",
        "kill and count(boot) >= 2",
        extra='explain: "{kill_count} kills, last pid {pid}, {count} events '
        'from {first_time} to {last_time}"',
    )
    stream = [
        ev("Booting", 1, T0),
        ev("pid:7 killed", 2),
        ev("Booting", 3),
        ev("pid:9 killed", 4, T0 + timedelta(1)),
    ]
    (f,) = run(rule, stream)
    assert (f.cause, f.rule, f.origin, f.severity, f.title) == (
        "some_cause",
        "r",
        Origin.RULE,
        Severity.HIGH,
        rule.title,
    )
    assert f.values == {"pid": "9"} and f.supersedes == ("other_cause",) and f.count == 4
    assert (
        f.summary
        == f"2 kills, last pid 9, 4 events from {T0.isoformat()} to {(T0 + timedelta(1)).isoformat()}"
    )
    assert [e.line for e in f.evidence] == [1, 2, 3, 4]
    assert (
        f.evidence[1].matched == ("kill",)
        and f.evidence[0].timestamp == T0
        and f.evidence[1].timestamp is None
    )


def test_evidence_excludes_negated_matchers_and_is_capped_at_the_exit(tmp_path):
    rule = make_rule(tmp_path, MATCH, "a and not (b and c)")
    (f,) = run(rule, [ev("alpha " + "x" * 900, 1), ev("beta", 2)])
    assert [e.matched for e in f.evidence] == [("a",)]
    # The engine quotes the record whole; the exits redact it, then cap it (redact.clip_record).
    assert f.evidence[0].text == "alpha " + "x" * 900
    assert len(clip_record(DEFAULT(f.evidence[0].text))) == 500


def test_event_hitting_several_matchers_is_one_evidence_item(tmp_path):
    rule = make_rule(tmp_path, MATCH, "a and b")
    (f,) = run(rule, [ev("alpha beta", 1)])
    assert [(e.line, e.matched) for e in f.evidence] == [(1, ("a", "b"))]


def test_evidence_is_capped_and_shows_every_positive_matcher(tmp_path):
    rule = make_rule(tmp_path, MATCH, "count(a) >= 3 and b and c")
    stream = [ev("alpha", i) for i in range(1, 50)] + [ev("beta", 60), ev("gamma", 70)]
    (f,) = run(rule, stream)
    assert len(f.evidence) <= 8
    lines = [e.line for e in f.evidence]
    assert lines == sorted(lines) and 60 in lines and 70 in lines


def test_then_evidence_shows_the_ordered_chain(tmp_path):
    rule = make_rule(tmp_path, MATCH, "a then b")
    (f,) = run(rule, [ev("beta", 1), ev("alpha", 2), ev("beta", 3)])
    assert [e.line for e in f.evidence] == [2, 3]


def test_memory_is_bounded_but_counts_are_exact(tmp_path):
    rule = make_rule(tmp_path, MATCH, "count(a) >= 10000 and a then b", extra='explain: "{a_count}"')
    engine = Engine([rule], keep=16)
    for i in range(20000):
        engine.feed(ev("alpha", i))
    engine.feed(ev("beta", 20001))
    state = engine._states[0]
    assert len(state.first[0]) + len(state.last[0]) == 32
    (f,) = engine.finish()
    assert f.summary == "20000"


def test_rules_are_independent_and_only_fired_rules_are_reported(tmp_path):
    one = make_rule(tmp_path, MATCH, "a")
    (tmp_path / "r.yaml").unlink()
    two = make_rule(tmp_path, MATCH, "c")
    engine = Engine([one, two])
    engine.feed(ev("alpha"))
    assert [f.rule for f in engine.finish()] == ["r"]
    assert Engine([]).finish() == []
