"""--follow: a growing file or an endless stdin, each diagnosis reported once when it appears or changes."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from diagnoser.options import Files, Options
from diagnoser.pipeline import Update, fingerprint, follow
from tests.conftest import ROOT

OOM = (ROOT / "examples" / "oom-gunicorn.log").read_text()
BOOT = "[2026-11-25 02:50:07 +0000] [1] [INFO] Booting worker with pid: 7\n"


class _Follower:
    """follow() in a thread, fast: looks every 0.1 s, quiet after 0.1 s."""

    def __init__(self, path: Path):
        self.updates: list[Update] = []
        self.stop = threading.Event()
        self.report = None
        self.thread = threading.Thread(target=self._run, args=(path,), daemon=True)
        self.thread.start()

    def _run(self, path: Path) -> None:
        self.report = follow(
            Files((str(path),)), Options(), self.updates.append, idle=0.1, every=0.1, stop=self.stop
        )

    def wait_for(self, count: int, seconds: float = 20) -> list[Update]:
        deadline = time.monotonic() + seconds
        while len(self.updates) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.updates

    def close(self):
        self.stop.set()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()
        return self.report


def test_a_diagnosis_is_reported_when_it_appears_and_again_only_when_it_changes(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text(BOOT)
    follower = _Follower(log)
    time.sleep(0.5)
    assert follower.updates == []  # a healthy start says nothing
    with open(log, "a") as fh:
        fh.write(OOM)
    (first,) = follower.wait_for(1)
    assert (first.status, first.diagnosis.cause) == ("new", "oom_worker_reboot")
    assert first.fingerprint == fingerprint("oom_worker_reboot", f"file:{log}", first.diagnosis.rule)
    time.sleep(0.5)
    assert len(follower.updates) == 1  # nothing new: nothing said
    with open(log, "a") as fh:  # more kills: the summary's count changes
        fh.write(OOM)
    updates = follower.wait_for(2)
    assert [u.status for u in updates] == ["new", "changed"]
    assert updates[1].fingerprint == first.fingerprint
    report = follower.close()
    assert report.input.lines == 1 + 2 * OOM.count("\n")
    assert report.diagnoses[0].cause == "oom_worker_reboot"


def test_a_rotated_file_is_followed_at_its_path(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text(BOOT)
    follower = _Follower(log)
    time.sleep(0.4)
    os.rename(log, tmp_path / "app.log.1")
    log.write_text(OOM)  # the new file at the old path
    updates = follower.wait_for(1)
    follower.close()
    assert [u.diagnosis.cause for u in updates] == ["oom_worker_reboot"]


def test_a_truncated_file_is_read_again_from_its_start(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text(BOOT * 50)
    follower = _Follower(log)
    time.sleep(0.4)
    log.write_text(OOM)  # truncated and rewritten in place (copytruncate), shorter than before
    updates = follower.wait_for(1)
    follower.close()
    assert [u.diagnosis.cause for u in updates] == ["oom_worker_reboot"]


def test_the_fingerprint_depends_on_cause_workload_and_rule_only() -> None:
    a = fingerprint("oom_worker_reboot", "prod/web-1/web", "oom-worker-reboot")
    assert a == fingerprint("oom_worker_reboot", "prod/web-1/web", "oom-worker-reboot")
    assert len({a, fingerprint("oom_worker_reboot", "prod/web-2/web", "oom-worker-reboot")}) == 2
    assert len({a, fingerprint("request_timeout", "prod/web-1/web", "oom-worker-reboot")}) == 2


def _readline(stream, seconds: float) -> bytes:
    ready, _, _ = select.select([stream], [], [], seconds)
    assert ready, "no line within the time"
    return stream.readline()


def test_the_cli_follows_an_endless_stdin_in_json_lines_and_prints_the_report_at_ctrl_c() -> None:
    from tests.conftest import default_sigint

    proc = subprocess.Popen(
        [sys.executable, "-m", "diagnoser", "--follow"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=default_sigint,
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(OOM.encode())
        proc.stdin.flush()  # stdin stays open: the input has not ended
        message = json.loads(_readline(proc.stdout, 30))
        assert message["status"] == "new" and message["cause"] == "oom_worker_reboot"
        assert message["fingerprint"] and message["diagnosis"]["evidence"]
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130
    final = json.loads(out.decode().strip().splitlines()[-1])
    assert final["final"] is True and final["report"]["diagnoses"][0]["cause"] == "oom_worker_reboot"
    assert err.decode().strip().endswith("interrupted") and "Traceback" not in err.decode()


def test_the_cli_follow_ends_with_stdin_and_exits_by_what_it_found(cli) -> None:
    result = cli("diagnose", "--follow", stdin=OOM.encode())
    assert result.code == 1
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert lines[0]["status"] == "new" and lines[-1]["final"] is True


def test_follow_refuses_what_it_cannot_follow(cli, tmp_path: Path) -> None:
    assert cli("diagnose", "--follow", "--service", "web").code == 2
    assert cli("diagnose", "--follow", str(tmp_path)).code == 2
