"""Progress on stderr for long inputs: what the line says, when it appears, and that it leaves no trace."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from diagnoser.cli import progress as progress_mod
from diagnoser.cli.progress import Progress
from diagnoser.options import Files, Options
from diagnoser.pipeline import PROGRESS_EVENTS, diagnose


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_nothing_is_drawn_in_the_first_seconds_then_read_size_share_and_time_left() -> None:
    out, clock = io.StringIO(), _Clock()
    sink = Progress(out, clock)
    clock.now += 1.9
    sink(50_000_000, 200_000_000)
    assert out.getvalue() == ""
    clock.now += 0.2  # 2.1 s in, a quarter read: three times as long to go
    sink(50_000_000, 200_000_000)
    line = out.getvalue()
    assert line.startswith("\r\x1b[K") and "diagnose: read 50 MB of 200 MB (25%)" in line
    assert "about 6 s left" in line and "2 s so far" in line
    clock.now += 0.1  # redrawn at most every EVERY_SECONDS
    sink(60_000_000, 200_000_000)
    assert out.getvalue() == line
    sink.clear()
    assert out.getvalue().endswith("\r\x1b[K")


def test_an_input_of_unknown_size_shows_what_was_read_without_a_share() -> None:
    out, clock = io.StringIO(), _Clock()
    sink = Progress(out, clock)
    clock.now += 75
    sink(3_200_000_000, None)
    assert "read 3.20 GB, 1 min 15 s so far" in out.getvalue()
    assert "%" not in out.getvalue() and "left" not in out.getvalue()


def test_clear_writes_nothing_when_nothing_was_drawn() -> None:
    out = io.StringIO()
    Progress(out, _Clock()).clear()
    assert out.getvalue() == ""


def _log(tmp_path: Path, lines: int) -> Path:
    path = tmp_path / "access.log"
    row = '10.0.0.1 - - [01/Nov/2026:00:00:{s:02d} +0000] "POST /score HTTP/1.1" 200 17 "-" "curl/8"\n'
    path.write_text("".join(row.format(s=i % 60) for i in range(lines)))
    return path


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_pipeline_reports_bytes_read_of_the_file_size_both_in_process_and_from_the_worker(
    tmp_path: Path, jobs: int
) -> None:
    path = _log(tmp_path, 3 * (PROGRESS_EVENTS + 1) + 10)
    calls: list[tuple[int, int | None]] = []
    report = diagnose([Files((str(path),))], Options(jobs=jobs, progress=lambda d, s: calls.append((d, s))))
    size = path.stat().st_size
    assert len(calls) == 3
    assert all(total == size for _, total in calls)
    done = [d for d, _ in calls]
    assert done == sorted(done) and 0 < done[-1] <= size
    assert report == diagnose([Files((str(path),))], Options(jobs=jobs))  # progress changes nothing


def test_stdin_from_a_pipe_has_no_known_size(tmp_path: Path) -> None:
    data = _log(tmp_path, PROGRESS_EVENTS + 10).read_bytes()
    calls: list[tuple[int, int | None]] = []
    diagnose([Files(("-",), io.BytesIO(data))], Options(progress=lambda d, s: calls.append((d, s))))
    assert calls and calls[0][1] is None and 0 < calls[0][0] <= len(data)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_cli_draws_progress_on_a_terminal_and_erases_it_before_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from diagnoser.cli.diagnose import main

    path = _log(tmp_path, PROGRESS_EVENTS + 10)
    terminal, stdout = _Terminal(), io.StringIO()
    monkeypatch.setattr(progress_mod, "AFTER_SECONDS", 0.0)
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(sys, "stdout", stdout)
    assert main(["--json", "--jobs", "1", str(path)]) == 0
    drawn = terminal.getvalue()
    assert "diagnose: read" in drawn and drawn.endswith("\r\x1b[K")
    assert json.loads(stdout.getvalue())["diagnoses"] == []  # the report itself is untouched


def test_the_cli_draws_nothing_when_stderr_is_not_a_terminal(tmp_path: Path, cli, monkeypatch) -> None:
    monkeypatch.setattr(progress_mod, "AFTER_SECONDS", 0.0)
    result = cli("diagnose", "--jobs", "1", str(_log(tmp_path, PROGRESS_EVENTS + 10)))
    assert "diagnose: read" not in result.err
