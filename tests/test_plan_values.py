"""Current values the plan reads from logs match what the lab really set (corpus/cases/lab/**/meta.yaml)."""

from __future__ import annotations

import pytest
import yaml

from diagnoser.collect import InputSource
from diagnoser.collect.files import read_lines
from diagnoser.parse import parse_lines
from diagnoser.plan.observe import Observations
from tests.conftest import ROOT

LAB = ROOT / "corpus" / "cases" / "lab"


def _lab_cases():
    out = []
    for meta_path in sorted(LAB.glob("**/meta.yaml")):
        meta = yaml.safe_load(meta_path.read_text())
        case = yaml.safe_load((meta_path.parent / "case.yaml").read_text())
        out.append((meta_path.parent, meta, case))
    return out


CASES = _lab_cases()


def _observe(folder, case) -> Observations:
    obs = Observations()
    for name in case["inputs"]:
        for event in parse_lines(read_lines(InputSource(str(folder / name)))):
            obs.feed(event)
    return obs


@pytest.mark.skipif(not CASES, reason="no lab cases")
def test_read_values_equal_the_lab_truth_and_cover_the_banners():
    checked = {"worker_timeout": 0, "scoring_timeout": 0, "worker_count": 0, "memory_limit": 0}
    for folder, meta, case in CASES:
        knobs = meta.get("knobs") or {}
        env = meta.get("env") or {}
        obs = _observe(folder, case)
        where = folder.relative_to(LAB)
        if obs.worker_timeout_s is not None:
            assert obs.worker_timeout_s == int(env.get("WORKER_TIMEOUT", knobs.get("worker_timeout_s"))), (
                where
            )
            checked["worker_timeout"] += 1
        if obs.scoring_timeout_ms is not None and "SCORING_TIMEOUT_MS" in env:
            assert obs.scoring_timeout_ms == int(env["SCORING_TIMEOUT_MS"]), where
            checked["scoring_timeout"] += 1
        if obs.worker_count is not None and "WORKER_COUNT" in env:
            assert obs.worker_count == int(env["WORKER_COUNT"]), where
            checked["worker_count"] += 1
        if obs.memory_limit_bytes is not None and knobs.get("memory_limit_mb"):
            assert obs.memory_limit_bytes == int(knobs["memory_limit_mb"]) * 2**20, where
            checked["memory_limit"] += 1
    # Every azmlinfsrv banner prints the worker count, newer ones the worker timeout; every scoring-
    # timeout scenario prints its timeout; every OOM scenario ships the kernel's limit line.
    assert all(n >= 5 for n in checked.values()), checked
