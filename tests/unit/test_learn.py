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


def test_training_without_scikit_learn_says_which_extra_to_install(cli, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "sklearn" else real(name, *a)
    )
    for args in (("corpus", "train", "--output", "/nonexistent/model.json"), ("corpus", "eval", "--cv")):
        result = cli("diagnoser", *args)
        assert result.code == 2, args
        assert "need scikit-learn" in result.err and "pip install 'diagnoser[train]'" in result.err
        assert "Traceback" not in result.err


def test_diagnose_with_the_shipped_classifier_needs_no_scikit_learn_numpy_or_scipy():
    import json
    import subprocess
    import sys

    from tests.conftest import ROOT

    # A finder that refuses the training stack, as on a default install, then the real command.
    code = (
        "import sys\n"
        "class Refuse:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('sklearn', 'numpy', 'scipy'):\n"
        "            raise ImportError(f'{name} is not installed')\n"
        "sys.meta_path.insert(0, Refuse())\n"
        "from diagnoser.cli.diagnose import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    example = ROOT / "examples" / "oom-gunicorn.log"
    proc = subprocess.run(
        [sys.executable, "-c", code, "--json", str(example)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["diagnoses"][0]["cause"] == "oom_worker_reboot"
    assert report["diagnoses"][0]["origin"] in ("both", "classifier")  # the classifier took part
