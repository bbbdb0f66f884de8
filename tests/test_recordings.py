"""Logs recorded from real servers under real faults (corpus/lab) are diagnosed as their label says.

Each recording is also replayed inside the framings a container runtime adds (Docker json-file,
CRI, `kubectl logs --prefix`), so every cause is checked in several input formats.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from diagnoser.model import RawLine
from diagnoser.pipeline import diagnose_lines
from diagnoser.render import report_to_dict
from tests.conftest import ROOT, validate_report
from tests.framing import FRAMINGS

REAL = ROOT / "tests" / "data" / "real"


def _cases() -> list[tuple[str, Path, list[Path]]]:
    cases = []
    for meta_path in sorted(REAL.glob("*/*.meta.yaml")):
        meta = yaml.safe_load(meta_path.read_text())
        log = meta_path.with_name(meta.get("log") or meta_path.name.replace(".meta.yaml", ".log"))
        if not log.exists():
            continue
        extras = [meta_path.with_name(name) for name in meta.get("extra_files") or []]
        cases.append((meta["label"], log, [p for p in extras if p.exists()]))
    return cases


CASES = _cases()


def _lines(paths: list[Path], framing: str):
    wrap = FRAMINGS[framing]
    for path in paths:
        # Only the server's own log is framed: side files (nginx, dmesg) are read as the host writes them.
        text = path.read_text(errors="replace")
        if path is paths[0]:
            text = wrap(text)
        for number, line in enumerate(text.splitlines(), start=1):
            yield RawLine(f"file:{path.name}", number, line)


@pytest.mark.skipif(not CASES, reason="no recordings in tests/data/real")
@pytest.mark.parametrize("framing", sorted(FRAMINGS))
@pytest.mark.parametrize(
    ("label", "log", "extras"), CASES, ids=[f"{c[1].parent.name}/{c[1].stem}" for c in CASES]
)
def test_recording_is_diagnosed_as_labelled(label, log, extras, framing):
    report = diagnose_lines(_lines([log, *extras], framing), [log.name])
    validate_report(report_to_dict(report))
    causes = [d.cause for d in report.diagnoses]
    if label == "healthy":
        assert causes == [], f"healthy run diagnosed: {causes}"
    else:
        assert causes[:1] == [label], f"expected {label}, got {causes}"
        top = report.diagnoses[0]
        assert top.evidence and all(e.line >= 1 for e in top.evidence)
        assert top.fixes, "every diagnosis carries a fix plan"
