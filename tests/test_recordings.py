"""Logs recorded from real servers under real faults (corpus/lab) are diagnosed as their label says.

The lab writes each recording as a corpus case (corpus/cases/lab/<server>/<scenario>/case.yaml). The
case's first input, the server's own log, is also replayed inside the framings a container runtime
adds (Docker json-file, CRI, `kubectl logs --prefix`), so every cause is checked in several input
formats; the other inputs (nginx access log, dmesg, docker inspect/events) are read as written. A
case recorded under dockerd already is a json-file log, so it is read raw only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from diagnoser.corpus import load_cases
from diagnoser.model import RawLine
from diagnoser.options import Lines
from diagnoser.pipeline import diagnose
from diagnoser.redact import DEFAULT
from diagnoser.render import report_to_dict
from tests.conftest import ROOT, validate_report
from tests.framing import FRAMINGS

LAB = ROOT / "corpus" / "cases" / "lab"
ALREADY_FRAMED = {"docker"}  # formats whose first input is a runtime's own log file


def _cases() -> list:
    if not LAB.is_dir():
        return []
    params = []
    for case in load_cases(LAB):
        for framing in sorted(FRAMINGS):
            if case.format in ALREADY_FRAMED and framing != "raw":
                continue
            params.append(pytest.param(case.label, list(case.inputs), framing, id=f"{case.id}-{framing}"))
    return params


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


@pytest.mark.skipif(not CASES, reason="no lab cases in corpus/cases/lab")
@pytest.mark.parametrize(("label", "inputs", "framing"), CASES)
def test_recording_is_diagnosed_as_labelled(label, inputs, framing):
    report = diagnose([Lines(_lines(inputs, framing), tuple(str(p) for p in inputs))])
    validate_report(report_to_dict(report, DEFAULT))
    causes = [d.cause for d in report.diagnoses]
    if label == "healthy":
        assert causes == [], f"healthy run diagnosed: {causes}"
    else:
        assert causes[:1] == [label], f"expected {label}, got {causes}"
        top = report.diagnoses[0]
        assert top.evidence and all(e.line >= 1 for e in top.evidence)
        assert top.fixes, "every diagnosis carries a fix plan"
