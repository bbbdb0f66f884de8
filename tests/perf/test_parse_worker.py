"""Parsing in a forked child gives the same reports as parsing here, and fails the same way."""

from __future__ import annotations

import gzip
import io
import os

import pytest

from diagnoser.corpus import load_cases
from diagnoser.detect import load_rules
from diagnoser.errors import InputError
from diagnoser.model import RawLine
from diagnoser.options import Files, Options
from diagnoser.parse import parse_lines, worker
from diagnoser.pipeline import diagnose
from diagnoser.redact import DEFAULT
from diagnoser.render import report_to_dict
from tests.conftest import ROOT

CASES = load_cases(ROOT / "corpus" / "cases")


@pytest.fixture(scope="module")
def rules():
    return load_rules()


def _report(paths, rules, jobs: int) -> dict:
    report = diagnose([Files(tuple(str(p) for p in paths))], Options(rules=rules, jobs=jobs))
    return report_to_dict(report, DEFAULT)


@pytest.fixture
def forks(monkeypatch):
    """Record the pids the worker forks; `reaped()` tells whether every one of them was waited for."""
    pids: list[int] = []
    real = os.fork

    def fork() -> int:
        pid = real()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)

    class Forks:
        def reaped(self) -> bool:
            for pid in pids:
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    continue
                return False
            return bool(pids)

    return Forks()


def test_every_corpus_case_gives_the_same_report_in_a_child(rules, forks):
    differ = [c.id for c in CASES if _report(c.inputs, rules, 2) != _report(c.inputs, rules, 1)]
    assert differ == []
    assert forks.reaped()


def _stdin_report(data: bytes, rules, jobs: int) -> dict:
    report = diagnose([Files(("-",), io.BytesIO(data))], Options(rules=rules, jobs=jobs))
    return report_to_dict(report, DEFAULT)


def test_stdin_gives_the_same_report_in_a_child_for_every_corpus_case(rules, forks):
    differ = []
    for case in CASES:
        data = b"".join(p.read_bytes() for p in case.inputs)
        if _stdin_report(data, rules, 2) != _stdin_report(data, rules, 1):
            differ.append(case.id)
    assert differ == []
    assert forks.reaped()


def test_a_large_stdin_is_parsed_by_a_child_on_its_own_and_read_once(tmp_path, rules, monkeypatch, forks):
    monkeypatch.setattr(worker, "cores", lambda: 2)
    line = b'10.0.0.1 - - [01/Nov/2026:00:00:00 +0000] "POST /score HTTP/1.1" 503 12 "-" "k6/0.48"\n'
    data = line * (worker.MIN_BYTES // len(line) + 50)  # past the head read to decide, so the child reads on
    auto = _stdin_report(data, rules, 0)
    assert forks.reaped()  # jobs 0 chose the child by the bytes stdin held
    assert auto == _stdin_report(data, rules, 1)
    assert auto["input"]["lines"] == data.count(b"\n")
    small = _stdin_report(line * 10, rules, 0)
    assert small["input"]["lines"] == 10


def test_a_failed_child_on_stdin_is_an_input_error_that_says_how_to_run_without_it(rules, monkeypatch):
    from diagnoser.errors import DiagnoserError

    def died(*_args, **_kwargs):
        raise worker.WorkerFailed("the parse worker process ended without finishing (killed?)")
        yield  # a generator, as the real one

    monkeypatch.setattr(worker, "parse_forked", died)
    with pytest.raises(DiagnoserError) as failed:
        _stdin_report(b"hello\n" * 10, rules, 2)
    assert "stdin" in str(failed.value) and "--jobs 1" in str(failed.value)


def test_several_files_keep_their_order_stats_and_read_warnings(tmp_path, rules):
    a = tmp_path / "a.log"
    a.write_bytes(
        b"".join(
            b'10.0.0.1 - - [01/Nov/2026:00:00:%02d +0000] "GET / HTTP/1.1" 503 1\n' % i for i in range(40)
        )
    )
    b = tmp_path / "b.log.gz"
    b.write_bytes(
        gzip.compress(
            b"bad \xff byte\n" + b"[2026-01-01 00:00:00 +0000] [7] [CRITICAL] WORKER TIMEOUT (pid:9)\n" * 3
        )
    )
    c = tmp_path / "c.log"
    c.write_bytes(b"x" * (2 << 20) + b"\nKilled\n")  # a line cut at 1 MiB
    serial, forked = _report([a, b, c], rules, 1), _report([a, b, c], rules, 2)
    assert forked == serial
    assert forked["input"]["lines"] == 46
    assert any("not valid UTF-8" in w for w in forked["warnings"])
    assert any("cut to its first" in w for w in forked["warnings"])


def test_an_input_error_in_the_child_is_raised_as_itself(tmp_path, rules, forks):
    good = tmp_path / "good.log"
    good.write_text("hello\n" * 3000)
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(InputError) as serial:
        diagnose([Files((str(good), str(binary)))], Options(rules=rules, jobs=1))
    with pytest.raises(InputError) as forked:
        diagnose([Files((str(good), str(binary)))], Options(rules=rules, jobs=2))
    assert str(forked.value) == str(serial.value)
    assert "binary data" in str(forked.value)
    assert forks.reaped()


def test_a_crash_in_the_child_is_reported_with_its_traceback(forks):
    def lines():
        yield RawLine("x", 1, "fine")
        raise ValueError("reader bug")

    events = worker.parse_forked(lambda: iter(parse_lines(lines())), lambda: (), lambda: None)
    with pytest.raises(RuntimeError, match="(?s)parse worker process failed.*ValueError: reader bug"):
        list(events)
    assert forks.reaped()


def test_stopping_early_stops_and_reaps_the_child(forks):
    def lines():
        for i in range(10**9):  # far more than the pipe holds: the child blocks on it
            yield RawLine("x", i + 1, f"line {i}")

    events = worker.parse_forked(lambda: iter(parse_lines(lines())), lambda: (), lambda: None)
    first = next(events)
    assert first.message == "line 0"
    events.close()
    assert forks.reaped()


def test_events_arrive_whole_and_in_order():
    texts = [
        f"2026-01-01 00:00:{i % 60:02d},000 E [1] azmlinfsrv - err {i}" for i in range(3 * worker.BATCH + 7)
    ]
    lines = [RawLine("s", i + 1, t) for i, t in enumerate(texts)]
    parsed = parse_lines(lines)
    done: list[tuple] = []
    forked = list(
        worker.parse_forked(
            lambda: iter(parsed),
            lambda: (parsed.stats.lines, dict(parsed.stats.formats)),
            lambda *a: done.append(a),
        )
    )
    got = list(parse_lines(lines))
    assert forked == got
    assert done == [(len(lines), {"azmlinfsrv": len(lines)})]
    assert parsed.stats.lines == 0  # the child counted: this process only hears the totals


def test_when_a_child_is_worth_it(tmp_path, monkeypatch):
    small = tmp_path / "small.log"
    small.write_text("x\n")
    big = tmp_path / "big.log"
    big.write_bytes(b"y" * worker.MIN_BYTES)
    monkeypatch.setattr(worker, "cores", lambda: 2)
    assert not worker.worthwhile([str(small)], 0)
    assert worker.worthwhile([str(big)], 0)
    assert worker.worthwhile([str(small), str(big)], 0)
    assert worker.worthwhile([str(small)], 2)  # asked for
    assert not worker.worthwhile([str(big)], 1)
    assert worker.worthwhile([str(big), "-"], 2)
    assert not worker.worthwhile(["-"], 0, stdin_head=100)  # stdin counts by what was read of it
    assert worker.worthwhile(["-"], 0, stdin_head=worker.MIN_BYTES)
    assert not worker.worthwhile([str(tmp_path)], 2)
    monkeypatch.setattr(worker, "cores", lambda: 1)
    assert not worker.worthwhile([str(big)], 0)
    monkeypatch.setattr(worker, "cores", lambda: 8)
    monkeypatch.setattr(worker.sys, "platform", "darwin")
    assert not worker.worthwhile([str(big)], 0)  # fork-unsafe system libraries: only when asked
    assert worker.worthwhile([str(big)], 2)


def test_the_cli_option_picks_the_path_and_the_answer_stays(cli, tmp_path):
    log = ROOT / "examples" / "oom-gunicorn.log"
    one, two = (
        cli("diagnose", "--json", "--jobs", "1", str(log)),
        cli("diagnose", "--json", "-j", "2", str(log)),
    )
    assert one.code == two.code == 1
    assert one.out == two.out
    assert cli("diagnose", "--jobs", "3", str(log)).code == 2


@pytest.mark.parametrize("how", ["raises", "dies"])
def test_a_failed_child_costs_time_not_the_report(tmp_path, rules, monkeypatch, forks, how):
    case = next(c for c in CASES if c.label == "oom_worker_reboot")
    serial = _report(case.inputs, rules, 1)
    seen = []
    real = worker._encode

    def flaky(ev):
        seen.append(ev)
        if len(seen) == 3:  # in the child, after a batch of events has been encoded
            if how == "raises":
                raise ValueError("encoder bug")
            os._exit(9)  # as if the OOM killer took it
        return real(ev)

    monkeypatch.setattr(worker, "_encode", flaky)
    assert _report(case.inputs, rules, 2) == serial
    assert forks.reaped()
    assert seen == []  # this process never encoded: it parsed again after the child failed


def test_ctrl_c_stops_both_processes_quietly(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import default_sigint

    big = tmp_path / "big.log"
    line = b'10.0.0.1 - - [01/Nov/2026:00:00:00 +0000] "POST /score HTTP/1.1" 200 12 "-" "k6/0.48"\n'
    big.write_bytes(line * 400_000)  # ~36 MB: several seconds of work
    proc = subprocess.Popen(
        [sys.executable, "-m", "diagnoser", "--jobs", "2", str(big)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=default_sigint,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    time.sleep(1.5)
    assert proc.poll() is None, "finished before the interrupt: make the log bigger"
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches every process of the group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.decode().strip().endswith("interrupted")
    assert "Traceback" not in err.decode()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break  # nothing of the group is left
        time.sleep(0.05)
    else:
        pytest.fail("the parse worker outlived its parent")
