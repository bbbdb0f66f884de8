from __future__ import annotations

from datetime import UTC, datetime

from test_parse_helpers import kinds, parse_file, parse_text

from diagnoser.model import Level


def test_new_layout_and_nested_gunicorn():
    evs = parse_file("azmlinfsrv_run_errors.log")
    first = evs[0]
    assert (first.format, first.component, first.pid, first.level) == (
        "azmlinfsrv",
        "azmlinfsrv",
        4914,
        Level.INFO,
    )
    assert first.timestamp == datetime(2026, 11, 25, 2, 32, 17, 660000, tzinfo=UTC)
    boot = kinds(evs, "worker_boot")[0]
    assert boot.component == "gunicorn" and boot.fields["worker_pid"] == 4916 and boot.format == "azmlinfsrv"
    cfg = {k: v for e in kinds(evs, "config") for k, v in e.fields.items() if k not in ("kind", "logger")}
    assert cfg["worker_count"] == 1 and cfg["scoring_timeout_ms"] == 1500 and cfg["version"] == "1.5.1"


def test_access_lines_azmlinfsrv_and_gunicorn_access():
    evs = kinds(parse_file("azmlinfsrv_run_errors.log"), "access")
    azml = [e for e in evs if e.component == "azmlinfsrv"]
    assert [(e.fields["status"], e.fields["duration_ms"]) for e in azml] == [
        (200, 0.383),
        (500, 1.068),
        (500, 1501.265),
    ]
    assert (
        azml[2].level == Level.ERROR
        and azml[2].fields["method"] == "POST"
        and azml[2].fields["path"] == "/score"
    )
    gacc = [e for e in evs if e.component == "gunicorn"]
    assert [e.fields["status"] for e in gacc] == [200, 500, 500]


def test_prefixed_chained_traceback():
    evs = parse_file("azmlinfsrv_run_errors.log")
    tbs = kinds(evs, "traceback")
    assert len(tbs) == 2
    run_err, timeout = tbs
    assert run_err.fields["exceptions"] == [
        "KeyError",
        "azureml_inference_server_http.server.user_script.UserScriptException",
    ]
    assert run_err.fields["exception"] == "UserScriptException"
    assert run_err.fields["exception_full"].endswith("user_script.UserScriptException")
    assert "run" in run_err.fields["functions"]
    assert run_err.message.startswith("Encountered Exception: Traceback (most recent call last):")
    assert "The above exception was the direct cause" in run_err.message
    assert run_err.pid == 4916 and run_err.component == "azmlinfsrv" and run_err.level == Level.ERROR
    assert (run_err.line, run_err.end_line) == (49, 69)
    assert timeout.fields["exception"] == "UserScriptTimeout"
    assert timeout.fields["exception_message"].endswith("within the allocated time: 1500ms")


def test_init_failure():
    evs = parse_file("azmlinfsrv_init_fail.log")
    (tb,) = kinds(evs, "traceback")
    assert tb.fields["exceptions"][:2] == ["FileNotFoundError", "RuntimeError"]
    assert tb.fields["functions"].count("init") == 2
    assert kinds(evs, "master_exit")[-1].fields["reason"] == "Worker failed to boot."
    code = [e for e in kinds(evs, "worker_exit") if "exit_code" in e.fields]
    assert code[0].fields["exit_code"] == 3


def test_old_layout_and_get_logs_dump():
    evs = parse_file("azureml_get_logs.log")
    runit = [e for e in evs if e.format == "runit"]
    assert runit[0].fields["service"] == "gunicorn" and runit[0].timestamp.year == 2022
    old = [e for e in evs if e.fields.get("logger") == "root"]
    assert old[0].level == Level.INFO and old[0].component == "azmlinfsrv"
    assert old[0].message == "Starting up app insights client"
    cfg = kinds(evs, "config")
    assert any(e.fields.get("scoring_timeout_ms") == 60000 for e in cfg)
    assert any(e.fields.get("worker_timeout") == 300 for e in cfg)
    (tb,) = kinds(evs, "traceback")
    assert tb.fields["exception"] == "NameError" and tb.level == Level.ERROR
    assert kinds(evs, "master_start")[0].fields["version"] == "19.9.0"
    assert [e.fields["worker_pid"] for e in kinds(evs, "worker_boot")] == [64, 160]
    sig = [e for e in kinds(evs, "worker_exit") if e.fields.get("signal") == 9]
    assert sig and sig[0].component == "gunicorn"


def test_banner_setting_lines():
    evs = parse_text(
        "Worker Count: 4\nWorker Timeout (seconds): 300\nScoring timeout is found from os.environ: 60000 ms\n"
    )
    assert [
        e.fields.get(k)
        for e, k in zip(evs, ("worker_count", "worker_timeout", "scoring_timeout_ms"), strict=True)
    ] == [4, 300, 60000]
