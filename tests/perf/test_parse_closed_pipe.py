"""`diagnoser parse big.log | head -1` stops parsing when the reader goes, quietly."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

LINE = "[2024-03-05 10:00:{s:02d} +0000] [{pid}] [INFO] Booting worker with pid: {pid}\n"


def _log(path: Path, lines: int) -> Path:
    block = "".join(LINE.format(s=i % 60, pid=100 + i) for i in range(1000))
    path.write_text(block * (lines // 1000))
    return path


def _script() -> str:
    """Return the installed `diagnoser` console script (next to this interpreter, else on PATH)."""
    beside = Path(sys.executable).with_name("diagnoser")
    found = str(beside) if beside.exists() else shutil.which("diagnoser")
    if found is None:
        pytest.fail("the diagnoser console script is not installed (pip install -e .)")
    return found


def _timed(command: str) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    start = time.monotonic()
    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command}"], capture_output=True, timeout=600, cwd=ROOT
    )
    return time.monotonic() - start, done


def test_parse_stops_when_its_reader_closes_the_pipe(tmp_path):
    script = _script()
    small = _log(tmp_path / "small.log", 30_000)
    big = _log(tmp_path / "big.log", 300_000)  # ten times as much: minutes of parsing for no one
    tenth, whole_small = _timed(f"{script} parse {small} > /dev/null")
    assert whole_small.returncode == 0, whole_small.stderr
    took, done = _timed(f"{script} parse {big} | head -1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(b"\n") == 1 and b"Booting worker" in done.stdout
    assert done.stderr == b""  # no traceback, no "Exception ignored" at exit, no partial summary
    # Parsing the whole big file takes about ten times what the small one does; stopping at once takes
    # little more than starting.
    assert took < tenth, f"{took:.1f} s to stop, {tenth:.1f} s to parse a tenth of the input"
