"""The labelled corpus: accuracy may only go up (the floor is recorded in corpus/baseline.yaml)."""

from __future__ import annotations

import pytest
import yaml

from diagnoser.corpus import HEALTHY, evaluate, load_cases
from tests.conftest import ROOT

CASES_DIR = ROOT / "corpus" / "cases"
BASELINE = yaml.safe_load((ROOT / "corpus" / "baseline.yaml").read_text())


@pytest.fixture(scope="module")
def evaluation():
    return evaluate(load_cases(CASES_DIR))


def test_accuracy_does_not_fall_below_the_recorded_floor(evaluation):
    failures = "\n".join(
        f"  {o.case.id}: expected {o.case.label}, got {', '.join(o.causes) or 'nothing'}" for o in evaluation.failures
    )
    assert evaluation.correct >= BASELINE["min_correct"], f"failing cases:\n{failures}"
    assert evaluation.accuracy >= BASELINE["min_accuracy"], f"failing cases:\n{failures}"


def test_healthy_cases_get_no_diagnosis_at_all(evaluation):
    noisy = {o.case.id: o.causes for o in evaluation.outcomes if o.case.label == HEALTHY and o.causes}
    assert not noisy, f"diagnoses on healthy cases: {noisy}"


def test_corpus_labels_are_catalogue_causes():
    from diagnoser.plan import load_catalogue

    known = set(load_catalogue()) | {HEALTHY}
    unknown = {c.id: c.label for c in load_cases(CASES_DIR) if c.label not in known}
    assert not unknown
