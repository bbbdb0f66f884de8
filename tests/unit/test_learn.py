"""The learner's choices that need no training: server families, leave-one-family-out folds, and
what the classifier's answer is at a threshold."""

from __future__ import annotations

from collections import Counter

from diagnoser.corpus import HEALTHY, Case, CaseOrigin
from diagnoser.learn import Sample, _splits, choose_threshold, classifier_answer, family_of, wrong


def _case(fmt: str, label: str = "init_exception", i: int = 0) -> Case:
    return Case(f"thread/c{i}", label, (), fmt, CaseOrigin.ISSUE_THREAD, f"https://x/{i}", ())


def _sample(
    fmt: str, label: str = "init_exception", i: int = 0, counts: Counter[str] | None = None
) -> Sample:
    return Sample(
        _case(fmt, label, i), counts if counts is not None else Counter({"c:exception+startup": 1}), HEALTHY
    )


def test_families_group_formats_of_one_server_or_platform():
    assert (
        family_of(_case("kubectl-describe"))
        == family_of(_case("kubectl-get-pods+kubectl-events"))
        == "kubernetes"
    )
    assert (
        family_of(_case("vllm"))
        == family_of(_case("tgi-launcher"))
        == family_of(_case("ollama+journald"))
        == "llm"
    )
    assert family_of(_case("docker-compose+vllm")) == "docker"
    assert family_of(_case("go-app")) == "go-app"
    assert family_of(_case("something-new")) == "something-new"  # unknown formats are their own family


def test_leave_one_family_out_holds_each_family_out_once():
    data = [_sample(f, i=i) for i, f in enumerate(["vllm", "tgi", "kubectl-describe", "klog", "go-app"])]
    folds = _splits(data, 5, by="family")
    assert len(folds) == 3
    for train, test in folds:
        held = {data[i].family for i in test}
        assert len(held) == 1
        assert held.isdisjoint(data[i].family for i in train)
        assert sorted(train + test) == list(range(len(data)))


def test_the_classifier_answers_only_above_the_threshold_with_a_line_bearing_the_sign():
    sample = _sample("go-app")
    probs = {"init_exception": 0.6, "oom_worker_reboot": 0.3, HEALTHY: 0.1}
    assert classifier_answer(sample, probs, 0.5) == "init_exception"
    assert classifier_answer(sample, probs, 0.7) == HEALTHY
    unsigned = _sample("go-app", counts=Counter({"c:memory": 1}))
    assert classifier_answer(unsigned, probs, 0.5) == HEALTHY
    assert classifier_answer(sample, {"unknown": 0.9, HEALTHY: 0.1}, 0.3) == HEALTHY


def test_the_threshold_keeps_healthy_silent_and_wrong_answers_rare():
    # Two causes the classifier gets right with p=0.9, and one healthy log it leans on at p=0.55:
    # the threshold must rise above 0.55 even though nothing is gained.
    data = [
        _sample("go-app", i=1),
        _sample("vllm", i=2),
        _sample("klog", HEALTHY, i=3),
    ]
    probs = [{"init_exception": 0.9, HEALTHY: 0.1}] * 2 + [{"init_exception": 0.55, HEALTHY: 0.45}]
    assert choose_threshold(data, probs) > 0.55
    assert wrong("init_exception", "oom_worker_reboot") and not wrong("init_exception", HEALTHY)
    assert not wrong("init_exception", "unknown")
