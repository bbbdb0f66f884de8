"""Corpus cases and their scoring: precision, recall, F1, confusion, healthy strictness."""

from __future__ import annotations

import pytest

from diagnoser.corpus import HEALTHY, Case, CaseOrigin, Evaluation, Outcome, load_cases
from diagnoser.errors import ConfigError


def _case(label: str, i: int = 0) -> Case:
    return Case(f"c{i}", label, (), "plain", CaseOrigin.LAB, "", ())


def _out(label: str, causes: tuple[str, ...], i: int = 0) -> Outcome:
    return Outcome(_case(label, i), causes[0] if causes else HEALTHY, causes)


def test_scores_and_confusion():
    ev = Evaluation(
        (
            _out("oom_worker_reboot", ("oom_worker_reboot",), 1),
            _out("oom_worker_reboot", ("request_timeout",), 2),
            _out("request_timeout", ("request_timeout",), 3),
            _out(HEALTHY, (), 4),
        )
    )
    assert (ev.correct, len(ev.outcomes)) == (3, 4)
    scores = {s.label: s for s in ev.scores()}
    assert (scores["oom_worker_reboot"].precision, scores["oom_worker_reboot"].recall) == (1.0, 0.5)
    assert (scores["request_timeout"].precision, scores["request_timeout"].recall) == (0.5, 1.0)
    assert scores["request_timeout"].f1 == pytest.approx(2 / 3)
    assert ev.confusion()["oom_worker_reboot"] == {"oom_worker_reboot": 1, "request_timeout": 1}
    assert ev.labels[-1] == HEALTHY
    assert [o.case.id for o in ev.failures] == ["c2"]


def test_healthy_case_fails_on_any_diagnosis():
    assert not _out(HEALTHY, ("probe_failure",)).correct


def test_secondary_causes_reported_missing():
    case = Case("x", "oom_worker_reboot", ("request_timeout",), "gunicorn", CaseOrigin.LAB, "", ())
    assert Outcome(case, "oom_worker_reboot", ("oom_worker_reboot",)).missing_secondary == (
        "request_timeout",
    )


def test_load_cases_checks_fields_and_inputs(tmp_path):
    good = tmp_path / "a" / "one"
    good.mkdir(parents=True)
    (good / "input.log").write_text("x\n")
    (good / "case.yaml").write_text(
        "label: healthy\nformat: plain\norigin: hand-written\nsource: test\ninputs: [input.log]\n"
    )
    [case] = load_cases(tmp_path)
    assert (case.id, case.label, case.origin) == ("a/one", HEALTHY, CaseOrigin.HAND_WRITTEN)
    bad = tmp_path / "b"
    bad.mkdir()
    (bad / "case.yaml").write_text("label: healthy\norigin: lab\ninputs: [missing.log]\n")
    with pytest.raises(ConfigError, match="inputs missing"):
        load_cases(tmp_path)
    (bad / "case.yaml").write_text("label: healthy\norigin: elsewhere\ninputs: [missing.log]\n")
    with pytest.raises(ConfigError, match="bad or missing field"):
        load_cases(tmp_path)


def test_baseline_never_lowers_the_count_of_right_cases(tmp_path):
    from diagnoser.corpus import record_baseline

    path = tmp_path / "baseline.yaml"
    three_of_four = Evaluation(tuple(_out("a_cause", ("a_cause",) if i < 3 else (), i) for i in range(4)))
    record_baseline(path, three_of_four)
    two_of_four = Evaluation(tuple(_out("a_cause", ("a_cause",) if i < 2 else (), i) for i in range(4)))
    with pytest.raises(ConfigError, match="below the recorded floor"):
        record_baseline(path, two_of_four)
    # more cases, more of them right, a lower share: allowed
    four_of_six = Evaluation(tuple(_out("a_cause", ("a_cause",) if i < 4 else (), i) for i in range(6)))
    record_baseline(path, four_of_six)
    assert "min_correct: 4" in path.read_text()


def test_wrong_counts_named_causes_that_are_not_the_label_but_not_silence_or_unknown():
    evaluation = Evaluation(
        [
            _out("oom_worker_reboot", ("oom_worker_reboot",), 1),
            _out("oom_worker_reboot", ("request_timeout",), 2),  # wrong
            _out("init_exception", (), 3),  # silent: not wrong
            _out("init_exception", ("unknown",), 4),  # unknown: not wrong
            _out("unknown", ("init_exception",), 5),  # a cause where none fits: wrong
            _out(HEALTHY, ("run_exception",), 6),  # wrong
        ]
    )
    assert evaluation.wrong == 3


def test_a_case_file_that_is_not_yaml_is_a_config_error_with_its_line(tmp_path):
    case = tmp_path / "c"
    case.mkdir()
    (case / "input.log").write_text("x\n")
    (case / "case.yaml").write_text(
        "label: healthy\nnotes: the thread (issue 14): says so\ninputs: [input.log]\n"
    )
    with pytest.raises(ConfigError, match="not valid YAML") as err:
        load_cases(tmp_path)
    assert err.value.location is not None and err.value.location.line == 2
