"""The shortcuts that make a failure-dense log (a crash loop's) cost about what the bench mix costs per
MB change no answer. (What it costs is measured by bench/run.py, never by a timed test.)

The shortcuts: the engine answers once per shape of an event (its digits that no candidate's
pattern tells apart rewritten as one, detect/engine.py), the classifier's concepts are gated by one
literal scan (detect/features.py), and tokens are made once per shape of a text.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from diagnoser.collect import InputSource
from diagnoser.collect.files import read_lines
from diagnoser.corpus import load_cases
from diagnoser.detect import engine as engine_module
from diagnoser.detect import features, load_rules, matchers
from diagnoser.detect.engine import Engine
from diagnoser.detect.regexes import named_digits
from diagnoser.model import Event, RawLine
from diagnoser.parse import parse_lines
from tests.conftest import ROOT

CASES = load_cases(ROOT / "corpus" / "cases")


@pytest.fixture(scope="module")
def rules():
    return load_rules()


@pytest.fixture
def at_once(monkeypatch):
    """Take the shortcuts from the first event on (a long log takes them after a few hundred)."""
    monkeypatch.setattr(engine_module, "ALIKE_AFTER", 0)
    monkeypatch.setattr(features, "GATE_AFTER", 0)


def _corpus_lines(step: int = 1) -> list[str]:
    return [
        line
        for case in CASES[::step]
        for path in case.inputs
        for line in Path(path).read_text(errors="replace").splitlines()
    ]


def _timeouts_and_kills(n: int) -> list[str]:
    """Return `n` lines of the issue's crash loop: workers timed out, killed and booted again."""
    stamp = "[2024-05-01 10:00:00 +0000]"
    templates = (
        stamp + " [1] [CRITICAL] WORKER TIMEOUT (pid:{pid})",
        stamp + " [1] [ERROR] Worker (pid:{pid}) was sent SIGKILL! Perhaps out of memory?",
        stamp + " [{next}] [INFO] Booting worker with pid: {next}",
    )
    return [templates[i % 3].format(pid=1000 + i // 3, next=1001 + i // 3) for i in range(n)]


def _crash_loop(n: int, seed: int = 3) -> list[str]:
    """Return `n` lines of a crash loop with random numbers, and among them the numbers rules name."""
    rng = random.Random(seed)
    stamp = "[2024-05-01 10:00:00 +0000]"
    templates = (
        stamp + " [1] [CRITICAL] WORKER TIMEOUT (pid:{pid})",
        stamp + " [1] [ERROR] Worker (pid:{pid}) was sent SIGKILL! Perhaps out of memory?",
        stamp + " [{pid}] [INFO] Booting worker with pid: {pid}",
        stamp + " [1] [WARNING] Worker with pid {pid} was terminated due to signal {signal}",
        stamp + " [1] [ERROR] Exception in worker process: exited with code {code}",
        '10.0.0.{code} - - [01/May/2024:10:00:00 +0000] "POST /score HTTP/1.1" {status} 0',
    )
    out = []
    for i in range(n):
        pid = rng.choice((rng.randint(2, 9_999_999), 137, 9, 1, 19, 1379, 9137))
        out.append(templates[i % 6].format(pid=pid, signal=pid % 16, code=pid % 256, status=500 + pid % 5))
    return out


def _events(lines: list[str]):
    return list(parse_lines(RawLine("crash.log", i + 1, text) for i, text in enumerate(lines)))


def _findings(rules, events, memo: bool):
    engine = Engine(rules, memo=memo)
    for ev in events:
        engine.feed(ev)
    return engine.finish()


def test_each_shape_of_event_is_matched_once(rules):
    events = _events(_timeouts_and_kills(3000))
    engine = Engine(rules)
    runs = 0

    def counted(run):
        def wrapper(ev):
            nonlocal runs
            runs += 1
            return run(ev)

        return wrapper

    for cm in engine._every:
        cm.run = counted(cm.run)
    for ev in events:
        engine.feed(ev)
    # Every line is a candidate for several matchers (eight for a WORKER TIMEOUT line): they ran once
    # per line and matcher (6.7 runs a line). Now a shape is matched once (after the first
    # ALIKE_AFTER lines); a capture (the worker's pid) is read from the line at the spans it had, and
    # only a matcher capturing with more than one test runs again.
    assert runs < 1.5 * len(events), runs


def test_remembered_answers_equal_the_answers_computed_afresh(rules, at_once):
    events = _events(_crash_loop(6000, seed=11))
    remembered, afresh = _findings(rules, events, True), _findings(rules, events, False)
    assert remembered == afresh
    assert {f.cause for f in afresh} >= {"oom_worker_reboot", "request_timeout"}
    values = [f.values for f in afresh if f.values]
    assert values, "captures (the last pid, the exit code) must come from each line itself"


def test_remembered_answers_equal_on_every_corpus_case(rules, at_once):
    for case in CASES:
        events = []
        for path in case.inputs:
            events += parse_lines(read_lines(InputSource(str(path))))
        assert _findings(rules, events, True) == _findings(rules, events, False), case.id


def test_values_equal_as_keys_but_read_apart_are_not_one_shape(tmp_path, at_once):
    # True == 1 and 1.0 == 1 in Python, but a test reads them as "true", "1.0" and "1"
    (tmp_path / "flag.yaml").write_text(
        "id: flag\ncause: unknown\ntitle: t\nseverity: low\n"
        "match:\n  one: {fields.flag|re: '^1$'}\ncondition: count(one) >= 2\n"
    )
    rules = load_rules([tmp_path])
    events = [
        Event("x.log", i, "flag", "flag", "plain", fields={"flag": value})
        for i, value in enumerate((1, True, 1.0, True, 1.0), start=1)
    ]
    assert _findings(rules, events, True) == _findings(rules, events, False) == []
    assert len(_findings(rules, [*events, events[0]], True)) == 1


def _alike_digit_swaps(text: str, named: frozenset[str], rng: random.Random) -> str:
    alike = sorted(set("0123456789") - named)
    return "".join(rng.choice(alike) if c in alike else c for c in text)


def test_digits_a_rule_regex_does_not_name_never_change_what_it_matches(rules):
    # Every regex of the shipped rules, on corpus lines whose unnamed digits are swapped at random:
    # the same match, at the same spans, with the same groups at the same spans.
    rng = random.Random(5)
    lines = [ln for ln in _corpus_lines(5) + _crash_loop(300) if any(c.isdigit() for c in ln)][:1500]
    checked = 0
    for rule in rules:
        for matcher in rule.matchers:
            for test in matcher.tests:
                for pattern, rx in zip(test.patterns, test.regexes, strict=True):
                    named = named_digits(pattern, test.flags)
                    if named is None or named == frozenset("0123456789"):
                        continue
                    for line in lines:
                        m = rx.search(line)
                        twin = rx.search(_alike_digit_swaps(line, named, rng))
                        assert (m is None) == (twin is None), (rule.id, pattern, line)
                        if m is not None and twin is not None:
                            spans = [m.span(g) for g in range(rx.groups + 1)]
                            assert spans == [twin.span(g) for g in range(rx.groups + 1)], (rule.id, pattern)
                            checked += 1
    assert checked > 100


@pytest.mark.parametrize(
    ("pattern", "named"),
    [
        (r"WORKER TIMEOUT \(pid:(?P<pid>\d+)\)", ""),
        (r"signal 9\b|exit code:? 137", "1379"),
        (r"[1-5]xx|[^\W\d]+|\D", "12345"),
        (r"(\d)\1", None),  # a back-reference compares the digits themselves
        (r"(a)?(?(1)b|c)", None),
    ],
)
def test_named_digits(pattern, named):
    found = named_digits(pattern)
    assert (None if found is None else "".join(sorted(found))) == named


def test_numbers_compared_by_value_name_every_digit(rules):
    from diagnoser.detect.rules import FieldTest, Op

    named = matchers.test_named_digits
    assert named(FieldTest("fields.exit_code", Op.EQ, (137,))) == frozenset("0123456789")
    assert named(FieldTest("fields.status", Op.GTE, (500,))) == frozenset("0123456789")
    assert named(FieldTest("message", Op.CONTAINS, ("exit code 137",))) == frozenset("137")
    assert named(FieldTest("message", Op.CONTAINS, ("Killed",))) == frozenset()


def test_gated_concepts_equal_every_pattern_searched(at_once):
    patterns = [(name, re.compile(p)) for name, p in features.CONCEPTS]
    for text in _corpus_lines() + _crash_loop(600):
        low = text[: features.MAX_MESSAGE].lower()
        found = [name for name, rx in patterns if rx.search(low)]
        want = [f"c:{n}" for n in found] + [f"c:{a}+{b}" for i, a in enumerate(found) for b in found[i + 1 :]]
        assert features.concepts(text) == want, text


def test_tokens_made_once_per_shape_equal_tokens_made_afresh():
    rx = features._compiled().word
    for text in _corpus_lines(3) + _crash_loop(600):
        found = rx.findall(features.mask(text[: features.MAX_MESSAGE]))
        words = [w for w in (m.lower() for m in found) if len(w) > 1 and w not in features.STOPWORDS]
        assert features.tokens(text) == words + [f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)]
