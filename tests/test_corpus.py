"""The labelled corpus: accuracy may only go up (the floor is recorded in corpus/baseline.yaml)."""

from __future__ import annotations

import re

import pytest
import yaml

from diagnoser.corpus import HEALTHY, evaluate, load_cases
from diagnoser.learn import family_of
from diagnoser.plan.catalogue import load_catalogue
from tests.conftest import ROOT, SEED_CAUSES

CASES_DIR = ROOT / "corpus" / "cases"
# corpus/cases is the corpus; corpus/holdout holds sets gathered later to measure how the engine
# generalises (each measured before any tuning on it: see corpus/holdout/README.md).
HOLDOUT = ROOT / "corpus" / "holdout"
SETS = {  # name: (cases folders, baseline file)
    "cases": ((CASES_DIR,), ROOT / "corpus" / "baseline.yaml"),
    "holdout": ((HOLDOUT / "thread2", HOLDOUT / "thread3"), HOLDOUT / "baseline.yaml"),
    # Gathered 2026-12-07 for issue 14 and scored once before any tuning (thread4-first-score.txt);
    # tuned on since, so its floor is the score after that tuning.
    "holdout-thread4": ((HOLDOUT / "thread4",), HOLDOUT / "thread4-baseline.yaml"),
    # Gathered for issue 14 and scored once, untuned (thread5-first-score.txt); tuned on since.
    "holdout-thread5": ((HOLDOUT / "thread5",), HOLDOUT / "thread5-baseline.yaml"),
    # Gathered after thread5's tuning and scored once, untuned (thread6-first-score.txt).
    "holdout-thread6": ((HOLDOUT / "thread6",), HOLDOUT / "thread6-baseline.yaml"),
    # Gathered at the end of issue 14's first session and scored once on its final engine
    # (thread7-first-score.txt); tuned on in the next session, before thread8 was scored.
    "holdout-thread7": ((HOLDOUT / "thread7",), HOLDOUT / "thread7-baseline.yaml"),
    # Gathered at the start of issue 14's second session, scored once after thread7's tuning
    # (thread8-first-score.txt); tuned on since.
    "holdout-thread8": ((HOLDOUT / "thread8",), HOLDOUT / "thread8-baseline.yaml"),
    # Gathered after thread8 was scored, scored once after its tuning (thread9-first-score.txt); tuned
    # on since.
    "holdout-thread9": ((HOLDOUT / "thread9",), HOLDOUT / "thread9-baseline.yaml"),
    # Gathered after thread9 was scored, scored once after its tuning (thread10-first-score.txt); tuned
    # on since.
    "holdout-thread10": ((HOLDOUT / "thread10",), HOLDOUT / "thread10-baseline.yaml"),
    # Gathered while thread10 was tuned on, scored once after that tuning (thread11-first-score.txt);
    # tuned on since.
    "holdout-thread11": ((HOLDOUT / "thread11",), HOLDOUT / "thread11-baseline.yaml"),
    # Gathered last in issue 14's second session, scored once (thread12-first-score.txt); tuned on since.
    "holdout-thread12": ((HOLDOUT / "thread12",), HOLDOUT / "thread12-baseline.yaml"),
    # Gathered at the start of issue 15's session for its report review, scored once before any change
    # (thread13-first-score.txt).
    "holdout-thread13": ((HOLDOUT / "thread13",), HOLDOUT / "thread13-baseline.yaml"),
    # Gathered after thread13's report review and the changes it led to, scored once
    # (thread14-first-score.txt), for the second review of issue 15.
    "holdout-thread14": ((HOLDOUT / "thread14",), HOLDOUT / "thread14-baseline.yaml"),
    # Gathered after thread14's review and the changes it led to, scored once (thread15-first-score.txt),
    # for the third review of issue 15.
    "holdout-thread15": ((HOLDOUT / "thread15",), HOLDOUT / "thread15-baseline.yaml"),
}


def test_every_holdout_folder_belongs_to_a_set():
    covered = {folder for folders, _ in SETS.values() for folder in folders}
    assert {p for p in HOLDOUT.iterdir() if p.is_dir()} <= covered


@pytest.fixture(scope="module", params=sorted(SETS))
def evaluation(request):
    folders, baseline = SETS[request.param]
    cases = [case for folder in folders for case in load_cases(folder)]
    return yaml.safe_load(baseline.read_text()), evaluate(cases)


def test_accuracy_does_not_fall_below_the_recorded_floor(evaluation):
    baseline, result = evaluation
    failures = "\n".join(
        f"  {o.case.id}: expected {o.case.label}, got {', '.join(o.causes) or 'nothing'}"
        for o in result.failures
    )
    assert result.correct >= baseline["min_correct"], f"failing cases:\n{failures}"
    assert result.accuracy >= baseline["min_accuracy"], f"failing cases:\n{failures}"
    assert result.wrong <= baseline.get("max_wrong", len(result.outcomes)), f"failing cases:\n{failures}"


def test_healthy_cases_get_no_diagnosis_at_all(evaluation):
    _, result = evaluation
    noisy = {o.case.id: o.causes for o in result.outcomes if o.case.label == HEALTHY and o.causes}
    assert not noisy, f"diagnoses on healthy cases: {noisy}"


def test_corpus_labels_are_catalogue_causes():
    from diagnoser.plan import load_catalogue

    known = set(load_catalogue()) | {HEALTHY}
    unknown = {c.id: c.label for c in load_cases(CASES_DIR) if c.label not in known}
    assert not unknown


NOVEL = "novel/"  # thread logs gathered for wording no rule covered (corpus/cases/novel/README.md)


CORPUS_BEFORE_ISSUE_14 = 387  # cases in corpus/cases when issue 14 began; it asks for at least twice as many


def test_corpus_composition_meets_the_bar():
    """At least twice the corpus issue 14 started from; each seed cause 20+ cases in 3+ formats from 2+
    origins; every cause of the catalogue seen on 3+ server / platform families; 40+ healthy and 40+ of
    other causes; the lab's recordings from 8+ kinds of server. (The earlier bar, 60 % of the base corpus
    from the lab, gave way to issue 14's: 150+ field logs from public threads across many servers.)"""
    cases = load_cases(CASES_DIR)
    assert len(cases) >= 2 * CORPUS_BEFORE_ISSUE_14
    for cause in SEED_CAUSES:
        mine = [c for c in cases if c.label == cause]
        assert len(mine) >= 20, (cause, len(mine))
        assert len({c.format for c in mine}) >= 3, (cause, {c.format for c in mine})
        assert len({c.origin for c in mine}) >= 2, (cause, {c.origin for c in mine})
    assert sum(c.label == HEALTHY for c in cases) >= 40
    assert sum(c.label not in SEED_CAUSES and c.label != HEALTHY for c in cases) >= 40
    for cause in load_catalogue():
        families = {family_of(c) for c in cases if c.label == cause}
        assert len(families) >= 3, (cause, families)
    lab_servers = {re.sub(r"-[\d.]+$", "", c.id.split("/")[1]) for c in cases if c.origin.value == "lab"}
    assert len(lab_servers) >= 8, lab_servers


def test_novel_wording_set_composition():
    """novel/: 25+ thread logs, every one from its own source, covering the seven documented causes,
    with healthy logs of those servers too."""
    novel = [c for c in load_cases(CASES_DIR) if c.id.startswith(NOVEL)]
    assert len(novel) >= 25
    assert all(c.origin.value == "issue-thread" and c.source.startswith("https://") for c in novel)
    assert len({c.source for c in novel}) == len(novel)
    assert set(SEED_CAUSES) <= {c.label for c in novel}
    assert sum(c.label == HEALTHY for c in novel) >= 3
