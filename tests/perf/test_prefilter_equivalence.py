"""The prefiltered path gives the same reports as the unfiltered one: every corpus case, every backend.

"Unfiltered" runs every matcher of every rule on every event and feeds every event to the
classifier; "prefiltered" runs only the matchers a multi-pattern scan (or a field gate) names and
skips the classifier's alarm regex where the gate proves it cannot matter.
"""

from __future__ import annotations

import pytest

from diagnoser.collect import InputSource
from diagnoser.corpus import load_cases
from diagnoser.detect import load_rules
from diagnoser.detect import prefilter as pf
from diagnoser.options import Files, Options
from diagnoser.pipeline import diagnose
from diagnoser.redact import DEFAULT
from diagnoser.render import report_to_dict
from tests.conftest import ROOT

CASES = load_cases(ROOT / "corpus" / "cases")
BACKENDS = [
    b
    for b in pf.BACKENDS
    if b == "re" or (b == "hyperscan" and pf._hyperscan()) or (b == "re2" and pf._re2())
]


@pytest.fixture(scope="module")
def rules():
    return load_rules()


def _report(case, rules, prefilter: bool) -> dict:
    options = Options(rules=rules, prefilter=prefilter)
    return report_to_dict(diagnose([Files(tuple(str(p) for p in case.inputs))], options), DEFAULT)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_prefiltered_report_equals_unfiltered(case, rules, monkeypatch):
    unfiltered = _report(case, rules, prefilter=False)
    for name in BACKENDS:
        monkeypatch.setenv("DIAGNOSER_PREFILTER", name)
        assert _report(case, rules, prefilter=True) == unfiltered, name


def test_the_corpus_is_all_there():
    assert len(CASES) >= 250


@pytest.mark.parametrize("name", BACKENDS)
def test_literal_sets_agree_with_substring_search(name):
    needles = ["oomkilled", "exit code 137", "back-off", "a.b", "(pid", "x|y"]
    ls = pf.LiteralSet(needles, prefer=name)
    for text in ["OOMKilled: exit code 137", "nothing here", "Back-Off restarting", "AxB (PID:1) x|y", "a.b"]:
        assert ls.which(text) == [i for i, n in enumerate(needles) if n in text.lower()], (name, text)


@pytest.mark.parametrize("name", BACKENDS)
def test_alarm_pattern_agrees_with_re(name):
    import re

    from diagnoser.detect import features

    pat = pf.Pattern(features._ALARM.pattern, prefer=name)
    for text in [
        "Worker TIMED OUT",
        "all good",
        "can't open",
        "exited with code 3",
        "BackOff",
        "EXIT CODE",
        "ok 200",
    ]:
        assert pat.search(text) == (re.search(features._ALARM.pattern, text, re.I) is not None), (name, text)


def test_classifier_gate_never_drops_an_event_the_bag_uses():
    from diagnoser.collect.files import read_lines
    from diagnoser.detect.features import ClassifierGate, is_suspicious
    from diagnoser.parse import parse_lines

    gate = ClassifierGate()
    checked = 0
    for case in CASES:
        for path in case.inputs:
            for event in parse_lines(read_lines(InputSource(str(path)))):
                if not gate.wants(event):
                    assert not is_suspicious(event) and event.fields.get("kind") != "worker_boot", event
                checked += 1
    assert checked > 1000


def test_generated_mixed_log_with_failures_is_equal_both_ways(tmp_path, rules):
    """The benchmark's own mix (every rare failure kind once) gives the same report both ways."""
    import random

    from bench.generate import FAILURE_EVERY, _lines

    marks = ("SIGKILL", "Booting", "Traceback", "  File", "KeyError", '" 503 19', "CrashLoop")
    lines = _lines(random.Random(7), 4 * FAILURE_EVERY)
    keep = [ln for i, ln in enumerate(lines) if i % 97 == 0 or any(m in ln for m in marks)]
    log = tmp_path / "mixed.log"
    log.write_text("\n".join(keep) + "\n")
    case = type("C", (), {"inputs": (log,)})
    unfiltered = _report(case, rules, prefilter=False)
    assert unfiltered["diagnoses"], "the generated failures should be diagnosed"
    assert _report(case, rules, prefilter=True) == unfiltered
