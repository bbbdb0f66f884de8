"""The recorded fix verification (corpus/lab/fix-verification.md) is consistent with itself and the plan.

`corpus/lab/verify_fixes.py` re-ran lab scenarios with the fix plans' suggested values (real servers,
real cgroups); these tests run no server: they check that each re-run applied the value the plan
suggested, that "fault gone" follows from the recorded evidence, that the table matches the raw
results, and that the plan still suggests what was verified (else: re-run verify_fixes.py).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LAB = REPO / "corpus" / "lab"
RESULTS = LAB / "fix-verification.md"


def _load_verifier():
    spec = importlib.util.spec_from_file_location("verify_fixes", LAB / "verify_fixes.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


vf = _load_verifier()


@pytest.fixture(scope="module")
def results() -> list[dict]:
    if not RESULTS.exists() or vf.JSON_BEGIN not in RESULTS.read_text():
        pytest.skip("no recorded fix verification (run corpus/lab/verify_fixes.py as root)")
    return vf.load_results(RESULTS)


def test_every_planned_check_was_recorded(results):
    assert [r["id"] for r in results] == [c.id for c in vf.CHECKS]


def test_coverage_gunicorn_and_azmlinfsrv_per_scenario(results):
    rerun = {(r["scenario"], r["server"].split("-")[0]) for r in results if r["rounds"]}
    for scenario in ("oom-init", "oom-run", "worker-timeout"):
        assert (scenario, "gunicorn") in rerun and (scenario, "azmlinfsrv") in rerun, scenario
    assert ("scoring-timeout", "azmlinfsrv") in rerun


def test_base_runs_show_the_fault(results):
    for r in results:
        assert r["base_fault_present"], r["id"]
        assert r["cause"] in r["base_evidence"]["diagnoses"], r["id"]


def test_current_compared_with_the_lab_truth(results):
    for r in results:
        assert r["current_value"] == vf.to_lab_value(r["knob"], r["current_read"]), r["id"]
        expected = None if r["current_value"] is None else r["current_value"] == r["true_value"]
        assert r["current_correct"] == expected, r["id"]


def test_each_rerun_applied_the_plans_suggestion(results):
    for r in results:
        if r["suggested"] is None:
            assert not r["rounds"], r["id"]
            continue
        assert r["rounds"], r["id"]
        prev_current, prev_suggested = r["current_read"], r["suggested"]
        for rnd in r["rounds"]:
            where = f"{r['id']} round {rnd['round']}"
            assert rnd["plan_current"] == prev_current, where
            assert rnd["plan_suggested"] == prev_suggested, where
            value = vf.to_lab_value(r["knob"], rnd["plan_suggested"])
            assert value is not None, where
            expected = {**(r["base_overrides"] or {}), **vf.override_for(r["knob"], value)}
            assert rnd["applied"] == expected, where
            assert rnd["applied_true_value"] == value, where  # the lab really ran with it (meta.yaml knobs)
            prev_current, prev_suggested = rnd["rerun_current_read"], rnd["rerun_suggested"]


def test_reruns_read_the_value_the_lab_set(results):
    """Step 3 again on every re-run that still showed the fault: `current` is the value applied."""
    for r in results:
        for rnd in r["rounds"]:
            read = rnd["rerun_current_read"]
            if read is not None:
                assert vf.to_lab_value(r["knob"], read) == rnd["applied_true_value"], r["id"]


def test_fault_gone_follows_from_the_evidence(results):
    for r in results:
        for rnd in r["rounds"]:
            assert rnd["fault_gone"] == vf.fault_gone(rnd["evidence"], r["cause"]), (
                f"{r['id']} round {rnd['round']}"
            )
        gone = [rnd["round"] for rnd in r["rounds"] if rnd["fault_gone"]]
        assert r["rounds_to_fix"] == (gone[0] if gone else None), r["id"]
        assert r["suggestion_sufficient"] == bool(r["rounds"] and r["rounds"][0]["fault_gone"]), r["id"]
        if gone:  # the loop stops at the first clean re-run
            assert gone == [r["rounds"][-1]["round"]], r["id"]


def test_every_rerun_ends_with_the_fault_gone(results):
    """Following the plan round after round removes every fault (the first round may not: see the note)."""
    for r in results:
        if r["rounds"]:
            assert r["rounds_to_fix"] is not None, r["id"]
            last = r["rounds"][-1]["evidence"]
            assert r["cause"] not in last["diagnoses"], r["id"]


def test_table_matches_the_raw_results(results):
    text = RESULTS.read_text()
    assert vf.table(results) in text


def test_plan_still_suggests_what_was_verified(results):
    """Re-diagnose the recorded corpus cases: a changed plan or recording needs a new verification."""
    for r in results:
        if r["base_overrides"]:
            continue  # a lab variant, not in the corpus
        case_dir = REPO / r["base"]
        if not case_dir.is_dir():
            pytest.skip(f"{r['base']} missing")
        report = vf.diagnose_case(case_dir, r["knob"])
        step = vf.plan_step(report, r["cause"], r["knob"])
        got = (step["current"], step["suggested"]) if step else (None, None)
        if step is None and r["suggested"] is None and r["current_read"] == "1":
            continue  # one worker read from the logs: the plan leaves out a "decrease" it cannot make
        assert got == (r["current_read"], r["suggested"]), (
            f"{r['id']}: the plan now says current={got[0]!r} suggested={got[1]!r}, the verification "
            f"used {r['current_read']!r} -> {r['suggested']!r}: re-run corpus/lab/verify_fixes.py"
        )
