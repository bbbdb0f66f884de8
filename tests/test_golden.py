"""Golden files: every report format of the bundled examples and a dozen corpus cases, byte for byte.

Each (input, format) pair is one test: `diagnose INPUT... --output FORMAT` runs in-process from the
repository root with relative paths, and its whole stdout must equal the stored file; the exit code must
equal the input's `.exit` sidecar. Regenerate after an intended change, then review the diff:

    python -m pytest tests/test_golden.py --update-golden

tests/golden/README.md says what is stored where.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

GOLDEN = ROOT / "tests" / "golden"
UPDATE_HINT = "python -m pytest tests/test_golden.py --update-golden"

# Report format -> file extension of its golden file.
FORMATS = {"text": "txt", "markdown": "md", "json": "json"}

# Corpus cases (ids under corpus/cases/), chosen to spread over origins, formats and causes.
CORPUS_CASES = (
    "lab/gunicorn-23.0.0/worker-timeout",  # lab recording, gunicorn, request_timeout
    "lab/azmlinfsrv-1.5.1/oom-run",  # lab, two files (server log + dmesg), oom_worker_reboot
    "lab/docker-gunicorn-20.1.0/docker-oom-worker-run",  # lab, docker json-file log
    "lab/azmlinfsrv-1.5.1/healthy",  # healthy: no diagnosis, exit 0
    "docs/kserve-sklearn-iris-ready-healthy",  # healthy from docs, two kubectl files
    "docs/k8s-describe-oomkilled-plus-previous-log",  # docs, describe + previous log
    "docs/aml-k8s-pod-yaml-torch-model-not-found",  # docs, pod YAML + log, two diagnoses
    "docs/hpa-rescale-ingress-503-spike",  # docs, events + ingress access log, autoscale_lag
    "docs/k8s-scheduler-klog-no-fit-gpu",  # docs, klog (no year in the stamp), scheduling_failure
    "thread/gunicorn-3140-systemd-chdir-denied",  # issue thread, journald short, permission_denied
    "thread/rpl-14-cuda-oom-inference",  # issue thread, plain, gpu_out_of_memory
    "thread/webolith-420-timeout-signal9-oom-title",  # the corpus's known miss: labelled OOM, says timeout
    "novel/tgi-1627-shard-signal-4-sigill",  # classifier-only finding, illegal_instruction
    "novel/ollama-15049-request-too-large-journald-zh",  # classifier-only, journald, Chinese text
)

# Stamps without a year (syslog, klog) take the current one; the golden files were written in this year.
GOLDEN_YEAR = 2026


@dataclass(frozen=True, slots=True)
class GoldenInput:
    """One input of the golden test: its files (relative to the root) and where its goldens live."""

    name: str  # e.g. "examples/oom-gunicorn" or "corpus/lab/azmlinfsrv-1.5.1/oom-run"
    files: tuple[str, ...]

    def golden(self, extension: str) -> Path:
        """Return the golden file of this input with `extension` (txt, md, json, exit)."""
        return GOLDEN / f"{self.name}.{extension}"


def _examples() -> list[GoldenInput]:
    """Return every bundled example log as an input."""
    logs = sorted(ROOT.glob("examples/*.log"))
    return [GoldenInput(f"examples/{log.stem}", (f"examples/{log.name}",)) for log in logs]


def _corpus_case(case_id: str) -> GoldenInput:
    """Return a corpus case as an input: its files in the order its case.yaml lists them."""
    folder = Path("corpus", "cases", case_id)
    listed = yaml.safe_load((ROOT / folder / "case.yaml").read_text(encoding="utf-8"))["inputs"]
    return GoldenInput(f"corpus/{case_id}", tuple((folder / name).as_posix() for name in listed))


INPUTS = _examples() + [_corpus_case(c) for c in CORPUS_CASES]


@pytest.fixture
def stable_run(monkeypatch, cli):
    """Return `cli` pinned to what the environment could otherwise change: the cwd and the year."""
    monkeypatch.chdir(ROOT)  # relative inputs, so report paths do not name the checkout's location
    # No shipped way to fix the clock: pin the year that year-less stamps receive, or every
    # klog/syslog golden file would change on 1 January.
    monkeypatch.setattr("diagnoser.parse.base._this_year", lambda: GOLDEN_YEAR)
    return cli


def _check(path: Path, actual: str, update: bool) -> None:
    """Write `actual` to `path` when updating, else require the file to hold exactly its bytes."""
    data = actual.encode("utf-8")
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
        return
    if not path.is_file():
        pytest.fail(f"golden file {path.relative_to(ROOT)} is missing; create it with: {UPDATE_HINT}")
    expected = path.read_bytes()
    if expected != data:
        # Compare as text first for pytest's line diff, then as bytes for differences text hides.
        assert actual == expected.decode("utf-8", errors="replace"), f"{path.relative_to(ROOT)} differs"
        assert data == expected, f"{path.relative_to(ROOT)} differs in its bytes"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("source", INPUTS, ids=lambda s: s.name)
def test_report_matches_golden_file(source: GoldenInput, fmt: str, stable_run, request) -> None:
    """Diagnose one input in one format; stdout and exit code equal the golden files byte for byte."""
    update = request.config.getoption("--update-golden")
    result = stable_run("diagnose", *source.files, "--output", fmt, "--no-color")
    _check(source.golden(FORMATS[fmt]), result.out, update)
    _check(source.golden("exit"), f"{result.code}\n", update)


def test_every_golden_file_has_a_test(request) -> None:
    """Fail on golden files no test reads (an input dropped or renamed leaves them); updating deletes them."""
    expected = {source.golden(ext) for source in INPUTS for ext in (*FORMATS.values(), "exit")}
    stored = {
        p for p in GOLDEN.rglob("*") if p.suffix[1:] in (*FORMATS.values(), "exit") and p.name != "README.md"
    }
    if request.config.getoption("--update-golden"):
        for stale in stored - expected:
            stale.unlink()
        return
    assert sorted(p.relative_to(ROOT).as_posix() for p in stored - expected) == []
