"""Ranking: merging findings of one cause and putting root causes before symptoms."""

from __future__ import annotations

from diagnoser.detect.classifier import POSSIBLE_SUMMARY
from diagnoser.model import Evidence, Finding, Origin, Severity
from diagnoser.rank import rank


def _finding(cause, conf, sev=Severity.HIGH, rule=None, supersedes=(), lines=(1,)):
    ev = tuple(Evidence("stdin", n, f"line {n}", ("m",)) for n in lines)
    return Finding(
        cause,
        rule or cause.replace("_", "-"),
        Origin.RULE,
        sev,
        conf,
        cause,
        "",
        ev,
        len(ev),
        {},
        tuple(supersedes),
    )


def test_same_cause_merges_with_noisy_or_and_deduplicated_evidence():
    [entry] = rank(
        [
            _finding("oom_worker_reboot", 0.8, lines=(1, 2)),
            _finding("oom_worker_reboot", 0.5, rule="k8s-oomkilled", lines=(2, 3)),
        ]
    )
    assert entry.confidence == 0.9
    assert [e.line for e in entry.evidence] == [1, 2, 3]
    assert entry.best.rule == "oom-worker-reboot"
    assert set(entry.rules) == {"oom-worker-reboot", "k8s-oomkilled"}


def test_order_by_severity_then_confidence():
    out = rank([_finding("a_low", 0.99, Severity.LOW), _finding("b_high", 0.6), _finding("c_high", 0.9)])
    assert [r.cause for r in out] == ["c_high", "b_high", "a_low"]


def test_root_cause_ranks_before_the_symptom_it_explains():
    symptom = _finding("oom_worker_reboot", 0.95, Severity.CRITICAL)
    root = _finding("scheduling_failure", 0.7, Severity.HIGH, supersedes=("oom_worker_reboot",))
    assert [r.cause for r in rank([symptom, root])] == ["scheduling_failure", "oom_worker_reboot"]


def test_a_start_up_exception_after_the_cause_of_the_start_up_failure_goes():
    symptom = _finding("init_exception", 0.95, Severity.CRITICAL)
    root = _finding("model_not_found", 0.7, Severity.HIGH, supersedes=("init_exception",))
    assert [r.cause for r in rank([symptom, root])] == ["model_not_found"]
    # before it, or beside a cause that does not say why start-up failed, it stays
    assert [r.cause for r in rank([symptom])] == ["init_exception"]
    timeout = _finding("request_timeout", 0.7, Severity.HIGH)
    assert [r.cause for r in rank([symptom, timeout])] == ["init_exception", "request_timeout"]


def test_supersede_cycle_falls_back_to_score_order():
    a = _finding("a_cause", 0.9, supersedes=("b_cause",))
    b = _finding("b_cause", 0.8, supersedes=("a_cause",))
    assert [r.cause for r in rank([b, a])] == ["a_cause", "b_cause"]


def test_the_unexplained_crash_gives_way_to_any_cause_of_medium_severity_or_more():
    crash = _finding("unknown", 0.5)
    out = rank([crash, _finding("oom_worker_reboot", 0.6)])
    assert [r.cause for r in out] == ["oom_worker_reboot"]
    # A low-severity finding explains nothing: the crash stays, first.
    out = rank([crash, _finding("autoscale_lag", 0.9, Severity.LOW)])
    assert [r.cause for r in out] == ["unknown", "autoscale_lag"]


def test_beside_the_unexplained_crash_the_classifier_is_only_a_possible_cause():
    crash = _finding("unknown", 0.5)
    sure = Finding(
        "init_exception", None, Origin.CLASSIFIER, Severity.HIGH, 0.8, "init_exception", "x", (), 1
    )
    out = rank([crash], {"init_exception": 0.8}, sure)
    assert [(r.cause, r.severity) for r in out] == [
        ("unknown", Severity.HIGH),
        ("init_exception", Severity.LOW),
    ]
    assert out[1].best.summary == POSSIBLE_SUMMARY
    # An error report (a medium fallback) is weaker than a crash: a sure classifier finding outranks it.
    report = _finding("unknown", 0.4, Severity.MEDIUM)
    assert [(r.cause, r.severity) for r in rank([report], {"init_exception": 0.8}, sure)] == [
        ("init_exception", Severity.HIGH)
    ]
    # With no rule at all, the sure classifier finding keeps its severity.
    [alone] = rank([], {"init_exception": 0.8}, sure)
    assert alone.severity is Severity.HIGH
