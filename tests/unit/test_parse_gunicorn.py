from __future__ import annotations

from datetime import UTC, datetime

from test_parse_helpers import kinds, parse_file, parse_text

from diagnoser.model import Level


def test_gunicorn27_error_log_fields():
    evs = parse_file("gunicorn27_error.log")
    start = evs[0]
    assert (start.format, start.component, start.pid, start.level) == (
        "gunicorn",
        "gunicorn",
        3325,
        Level.INFO,
    )
    assert start.fields == {"kind": "master_start", "version": "27.0.1"}
    assert start.timestamp == datetime(2026, 11, 25, 2, 31, 47, tzinfo=UTC)
    boots = kinds(evs, "worker_boot")
    assert [e.fields["worker_pid"] for e in boots] == [3367, 3374, 3378]
    kill = next(e for e in evs if e.fields.get("signal_name") == "SIGKILL")
    assert (
        kill.fields["kind"] == "worker_exit"
        and kill.fields["signal"] == 9
        and kill.fields["worker_pid"] == 3367
    )
    assert kill.fields["oom_suspected"] is True and kill.level == Level.ERROR
    (timeout,) = kinds(evs, "worker_timeout")
    assert timeout.fields["worker_pid"] == 3374 and timeout.level == Level.CRITICAL
    assert kinds(evs, "master_signal")[0].fields["signal"] == 15
    assert kinds(evs, "master_exit")[0].message == "Shutting down: Master"
    tbs = kinds(evs, "traceback")
    assert [t.fields["exception"] for t in tbs] == ["ValueError", "SystemExit"]
    assert tbs[0].timestamp == datetime(2026, 11, 25, 2, 31, 49, tzinfo=UTC)  # from the line before


def test_gunicorn20_signal_9():
    evs = parse_file("gunicorn20_error.log")
    (sig,) = [e for e in kinds(evs, "worker_exit") if "signal" in e.fields]
    assert sig.message == "Worker with pid 3429 was terminated due to signal 9"
    assert sig.fields == {"kind": "worker_exit", "worker_pid": 3429, "signal": 9}
    assert sig.level == Level.WARNING and sig.pid == 3427


def test_boot_failure_both_versions():
    for name in ("gunicorn27_boot_fail.log", "gunicorn20_boot_fail.log"):
        evs = parse_file(name)
        (tb,) = kinds(evs, "traceback")
        assert tb.fields["exception"] == "ModuleNotFoundError"
        assert tb.fields["exception_message"] == "No module named 'nonexistent_module_xyz'"
        assert "/tmp/cap/badapp.py" in tb.fields["files"]
        assert tb.fields["functions"][-1] == "<module>"
        reason = [e for e in kinds(evs, "master_exit") if "reason" in e.fields]
        assert reason[0].fields["reason"] == "Worker failed to boot."
        assert kinds(evs, "worker_exception")


def test_exit_code_line():
    (ev,) = parse_text("[2026-11-25 02:31:57 +0000] [3381] [ERROR] Worker (pid:3423) exited with code 3.\n")
    assert ev.fields == {"kind": "worker_exit", "worker_pid": 3423, "exit_code": 3}


def test_bare_messages_from_azureml_images():
    text = (
        "WORKER TIMEOUT (pid:34)\nWorker exiting (pid: 34)\n"
        "Worker with pid 34 was terminated due to signal 9\n"
    )
    evs = parse_text(text)
    assert [e.fields["kind"] for e in evs] == ["worker_timeout", "worker_exit", "worker_exit"]
    assert all(e.component == "gunicorn" for e in evs)
    assert evs[2].fields["signal"] == 9 and evs[1].pid == 34


def test_access_log_component_follows_error_log():
    text = (
        "[2024-01-01 00:00:00 +0000] [7] [INFO] Booting worker with pid: 8\n"
        '127.0.0.1 - - [01/Jan/2024:00:00:01 +0000] "POST /score HTTP/1.1" 502 12 "-" "curl/8"\n'
    )
    ev = parse_text(text)[1]
    assert ev.component == "gunicorn" and ev.format == "access"
    assert ev.fields["status"] == 502 and ev.fields["method"] == "POST" and ev.fields["path"] == "/score"
    assert ev.level == Level.ERROR


def test_kill_after_the_same_pids_timeout_is_marked():
    evs = parse_text(
        "[2024-03-02 10:20:00 +0000] [1] [ERROR] Worker (pid:5) was sent SIGKILL! Perhaps out of memory?\n"
        "[2024-03-02 10:20:31 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:7)\n"
        "[2024-03-02 10:20:31 +0000] [7] [INFO] Worker exiting (pid: 7)\n"
        "[2024-03-02 10:20:32 +0000] [1] [ERROR] Worker (pid:7) was sent SIGKILL! Perhaps out of memory?\n"
    )
    exits = kinds(evs, "worker_exit")
    assert [(e.fields["worker_pid"], e.fields.get("after_timeout", False)) for e in exits] == [
        (5, False),
        (7, False),  # a clean exit is not a kill
        (7, True),
    ]
