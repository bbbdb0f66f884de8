"""The classifier on the corpus: leave-one-family-out and grouped cross-validation of the combined
engine, the shipped model reproduced by `corpus train`, and the novel-wording cases the rules miss."""

from __future__ import annotations

import pytest

from diagnoser.corpus import HEALTHY, evaluate, load_cases
from tests.conftest import ROOT

CASES_DIR = ROOT / "corpus" / "cases"
# novel/ cases a rule already named when they were gathered; every other failing novel case is
# wording no rule covers (corpus/cases/novel/README.md keeps the same list).
NOVEL_RULE_COVERED = {
    "novel/sm-examples-1407-neo-invocation-timed-out",
    "novel/sd-webui-docker-3-model-ckpt-missing",
    "novel/quiver-12-flask-predict-valueerror",
    # named by rules added in issue 14 for the kinds these logs show
    "novel/dlc-6673-vllm-endpoint-insufficient-capacity",
    "novel/sm-templates-51-endpoint-limit-zero",
    "novel/qanything-555-ollama-model-name-zh",
    "novel/secureai-tools-8-ollama-model-not-found-node",
    "novel/ray-34773-serve-status-deploy-failed-constructor",
}


@pytest.fixture(scope="module")
def data():
    from diagnoser.learn import samples

    return samples(load_cases(CASES_DIR))


@pytest.fixture(scope="module")
def shipped():
    from diagnoser.detect.classifier import load_model

    model = load_model()
    assert model is not None, "no shipped model: run `diagnoser corpus train`"
    return model


def test_rules_miss_exactly_the_novel_cases_listed_as_new_wording():
    novel = [c for c in load_cases(CASES_DIR) if c.id.startswith("novel/")]
    rules = evaluate(novel, classifier=False)
    missed = {o.case.id for o in rules.outcomes if o.case.label != HEALTHY and not o.correct}
    failing = {c.id for c in novel if c.label != HEALTHY}
    assert missed == failing - NOVEL_RULE_COVERED, (
        "a rule now names a novel case (or stopped naming one): "
        "update NOVEL_RULE_COVERED and corpus/cases/novel/README.md"
    )
    assert all(o.causes == () for o in rules.outcomes if o.case.label == HEALTHY)


def _check(cv, data, accuracy: float, max_wrong: float) -> None:
    """The combined engine of a cross-validation run: accurate enough (also with each fold's threshold
    chosen on the other folds), few wrong causes, no healthy case diagnosed, and no case the rules get
    right lost to the classifier."""
    from diagnoser.learn import wrong

    truth = [s.case.label for s in data]
    combined, nested, rules = cv.answers("combined"), cv.answers("nested"), cv.answers("rules")
    n = len(truth)
    assert sum(a == t for a, t in zip(combined, truth, strict=True)) >= accuracy * n
    assert sum(a == t for a, t in zip(nested, truth, strict=True)) >= accuracy * n
    assert sum(wrong(t, a) for t, a in zip(truth, combined, strict=True)) <= max_wrong * n
    assert not [
        s.case.id for s, a in zip(data, combined, strict=True) if s.case.label == HEALTHY and a != HEALTHY
    ]
    assert not [s.case.id for s, a, r in zip(data, combined, rules, strict=True) if r == s.case.label != a]


def test_leave_one_family_out_cross_validation_of_the_combined_engine(data, shipped):
    """Each server / platform family held out in turn (the shipped model's C): the combined engine
    names the right cause for 90 %+ and a wrong one for 2 % at most (issue 14's bar is 3 %), and the
    threshold chosen there is the shipped one."""
    from diagnoser.learn import cross_validate

    cv = cross_validate(data, c=shipped.c, by="family")
    _check(cv, data, accuracy=0.90, max_wrong=0.02)
    assert cv.threshold == shipped.threshold


def test_grouped_cross_validation_of_the_combined_engine(data, shipped):
    """Grouped k-fold (the shipped C): 93 %+ right, 2 % wrong at most; the classifier wins a good share
    of the cases the rules miss."""
    from diagnoser.learn import cross_validate

    cv = cross_validate(data, c=shipped.c)
    _check(cv, data, accuracy=0.93, max_wrong=0.02)
    combined = cv.answers("combined")
    missed = [(s, a) for s, a in zip(data, combined, strict=True) if s.rules_top != s.case.label]
    gained = [s.case.id for s, a in missed if a == s.case.label]
    assert len(gained) >= 0.3 * len(missed), gained


def test_shipped_model_is_what_corpus_train_makes(data, shipped):
    """`corpus train` is deterministic: refitting with the shipped C and threshold gives the shipped
    weights (to rounding), so the JSON in the package always matches the corpus and the features."""
    from diagnoser.learn import fit

    model = fit(data, shipped.threshold, shipped.c)
    assert model.classes == shipped.classes
    assert set(model.weights) == set(shipped.weights), (
        "features or corpus changed: run `diagnoser corpus train`"
    )
    worst = max(
        abs(a - b) for t, w in model.weights.items() for a, b in zip(w, shipped.weights[t], strict=True)
    )
    assert worst < 1e-3
    assert max(abs(a - b) for a, b in zip(model.intercept, shipped.intercept, strict=True)) < 1e-3
