"""The command line as a user meets it: exit codes, messages, output formats."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, default_sigint

HEALTHY_GUNICORN = b"""[2024-03-05 10:00:00 +0000] [1] [INFO] Starting gunicorn 22.0.0
[2024-03-05 10:00:00 +0000] [1] [INFO] Listening at: http://0.0.0.0:5001 (1)
[2024-03-05 10:00:00 +0000] [1] [INFO] Using worker: sync
[2024-03-05 10:00:00 +0000] [7] [INFO] Booting worker with pid: 7
[2024-03-05 10:00:00 +0000] [8] [INFO] Booting worker with pid: 8
"""

OOM_GUNICORN = b"""[2024-03-05 10:00:00 +0000] [1] [INFO] Starting gunicorn 22.0.0
[2024-03-05 10:00:00 +0000] [1] [INFO] Booting worker with pid: 7
[2024-03-05 10:00:09 +0000] [1] [ERROR] Worker (pid:7) was sent SIGKILL! Perhaps out of memory?
[2024-03-05 10:00:09 +0000] [1] [INFO] Booting worker with pid: 12
[2024-03-05 10:00:19 +0000] [1] [ERROR] Worker (pid:12) was sent SIGKILL! Perhaps out of memory?
[2024-03-05 10:00:19 +0000] [1] [INFO] Booting worker with pid: 15
"""


def test_healthy_log_exit_0_and_says_so(cli):
    r = cli("diagnose", stdin=HEALTHY_GUNICORN)
    assert r.code == 0, r.err
    # what the service did, not only what it did not
    assert "no failure found: listening on http://0.0.0.0:5001, 2 workers booted" in r.out
    assert r.err == ""


def test_diagnosis_exit_1_text_names_cause_evidence_and_fix(cli):
    r = cli("diagnose", "--no-color", stdin=OOM_GUNICORN)
    assert r.code == 1, r.err
    assert "oom_worker_reboot" in r.out
    assert "stdin:3: [2024-03-05 10:00:09 +0000] [1] [ERROR] Worker (pid:7) was sent SIGKILL!" in r.out
    assert "docs: Python: tracemalloc (trace memory allocations) (https://" in r.out  # docs cited by title
    assert "confidence" not in r.out and "gunicorn-worker-sigkill" not in r.out  # only with --verbose
    assert "\x1b[" not in r.out


def test_verbose_says_how_the_diagnosis_was_reached(cli):
    r = cli("diagnose", "--no-color", "-v", stdin=OOM_GUNICORN)
    assert "confidence 0.9" in r.out and "gunicorn-worker-sigkill" in r.out


def test_json_report_follows_the_contract(cli):
    r = cli("diagnose", "--json", stdin=OOM_GUNICORN)
    data = r.json()
    assert r.code == 1
    top = data["diagnoses"][0]
    assert top["cause"] == "oom_worker_reboot"
    assert data["input"] == {
        "sources": ["stdin"],
        "lines": 6,
        "events": 6,
        "formats": data["input"]["formats"],
    }
    assert sum(data["input"]["formats"].values()) == 6
    assert {e["line"] for e in top["evidence"]} >= {3, 5}
    assert all(f["docs"].startswith("https://") for f in top["fix"])
    assert [f["step"] for f in top["fix"]] == list(range(1, len(top["fix"]) + 1))


def test_output_json_equals_json_flag(cli):
    assert (
        cli("diagnose", "--output", "json", stdin=OOM_GUNICORN).out
        == cli("diagnose", "--json", stdin=OOM_GUNICORN).out
    )


def test_markdown_output(cli):
    r = cli("diagnose", "-o", "markdown", stdin=OOM_GUNICORN)
    assert r.code == 1
    assert r.out.startswith("## diagnoser report\n")
    assert "### 1. Worker or container killed for lack of memory (`oom_worker_reboot`, critical)" in r.out
    # the evidence and the steps are visible without a click (no <details>, no table to scroll)
    assert "<details>" not in r.out and "**Evidence**\n\n```text\nstdin:3: " in r.out
    assert "1. **increase `memory limit`**" in r.out


def test_fail_on_threshold(cli):
    assert cli("diagnose", "--fail-on", "critical", stdin=OOM_GUNICORN).code == 1
    r = cli("diagnose", "--json", "--fail-on", "critical", stdin=HEALTHY_GUNICORN)
    assert r.code == 0
    assert r.json()["diagnoses"] == []


def test_missing_file_is_exit_2_with_message(cli, tmp_path):
    missing = tmp_path / "nope.log"
    r = cli("diagnose", str(missing))
    assert r.code == 2
    assert r.out == ""
    assert r.err == f"error: {missing}: no such file (check the path, or pipe the log on stdin)\n"


def test_directory_is_exit_2_with_message(cli, tmp_path):
    r = cli("diagnose", str(tmp_path))
    assert r.code == 2
    assert (
        r.err == f"error: {tmp_path}: is a directory, not a log file"
        f" (pass the files inside it, e.g. {tmp_path}/*.log)\n"
    )


def test_binary_input_is_exit_2_with_message(cli, tmp_path):
    blob = tmp_path / "core.bin"
    blob.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 20)
    r = cli("diagnose", str(blob))
    assert r.code == 2
    assert r.err.startswith(f"error: {blob}: binary data, not a text log")
    assert "Traceback" not in r.err


def test_gzip_input_is_diagnosed(cli, tmp_path):
    path = tmp_path / "app.log.gz"
    path.write_bytes(gzip.compress(OOM_GUNICORN))
    r = cli("diagnose", "--json", str(path))
    assert r.code == 1
    assert r.json()["diagnoses"][0]["cause"] == "oom_worker_reboot"


def test_malformed_rule_is_exit_2_with_location(cli, tmp_path):
    rule = tmp_path / "broken-rule.yaml"
    rule.write_text(
        "id: broken-rule\ncause: oom_worker_reboot\ntitle: t\nseverity: high\n"
        "match:\n  kill: {message|contains: SIGKILL}\ncondition: (kill and klil\n"
        "examples: {positive: [SIGKILL], negative: [ok]}\n"
    )
    r = cli("diagnose", "--rules", str(rule), stdin=OOM_GUNICORN)
    assert r.code == 2
    assert r.err.startswith(f"error: {rule}:7:")
    assert "Traceback" not in r.err


def test_unknown_option_is_exit_2(cli):
    r = cli("diagnose", "--no-such-flag", stdin=b"")
    assert r.code == 2
    assert r.err == "error: no such option: --no-such-flag (see diagnose --help)\n"


def test_empty_input_is_no_diagnosis(cli):
    r = cli("diagnose", "--json", stdin=b"")
    assert r.code == 0
    assert r.json()["input"]["lines"] == 0


def test_several_files_and_stdin_mix(cli, tmp_path):
    a = tmp_path / "a.log"
    a.write_bytes(HEALTHY_GUNICORN)
    r = cli("diagnose", "--json", str(a), "-", stdin=OOM_GUNICORN)
    data = r.json()
    assert data["input"]["sources"] == [f"file:{a}", "stdin"]
    assert data["diagnoses"][0]["evidence"][0]["source"] == "stdin"


def test_explain_and_unknown_cause(cli):
    r = cli("diagnoser", "explain", "oom_worker_reboot")
    assert r.code == 0
    assert r.out.startswith("oom_worker_reboot: ")
    assert "docs: https://" in r.out
    r = cli("diagnoser", "explain", "oom_worker_rebot")
    assert r.code == 2
    assert "did you mean 'oom_worker_reboot'?" in r.err


def test_rules_test_and_lint_pass_on_shipped_rules(cli):
    r = cli("diagnoser", "rules", "test")
    assert r.code == 0, r.err
    assert r.out.startswith("rules: ") and r.out.endswith(" passed, 0 failed\n")
    assert cli("diagnoser", "rules", "lint").code == 0


def test_parse_command_shows_events(cli):
    r = cli("diagnoser", "parse", "-o", "json", stdin=OOM_GUNICORN)
    assert r.code == 0
    assert len(r.out.splitlines()) == 6


def _run(args: list[str], stdin: bytes | None = None, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "diagnoser", *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=120,
        **kw,
    )


def test_module_entry_point_and_closed_pipe_end_quietly(tmp_path):
    big = tmp_path / "big.log"
    big.write_bytes(OOM_GUNICORN * 2000)
    proc = subprocess.Popen(
        [sys.executable, "-m", "diagnoser", "--json", str(big)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    proc.stdout.read(10)
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert b"Traceback" not in err
    assert b"BrokenPipe" not in err
    assert proc.returncode in (0, 1)


def test_sigint_exits_130(tmp_path):
    import signal
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "diagnoser"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=default_sigint,
    )
    assert proc.stdin is not None
    proc.stdin.write(OOM_GUNICORN)
    proc.stdin.flush()
    time.sleep(1.5)  # the process is now blocked reading stdin
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.decode().strip().endswith("interrupted")
    assert "Traceback" not in err.decode()


def test_bundled_examples_are_diagnosed():
    examples = sorted(Path(ROOT, "examples").glob("*.log"))
    assert examples, "the README quick start needs bundled examples"
    for path in examples:
        proc = _run(["--json", str(path)])
        assert proc.returncode in (0, 1), proc.stderr.decode()
        if "healthy" in path.name:
            assert proc.returncode == 0, path
        else:
            assert proc.returncode == 1, path


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help(cli, flag):
    r = cli("diagnose", flag)
    assert r.code == 0
    assert "root cause" in r.out


def test_seed_page_replica_example_through_the_cli(cli):
    # The seed page's example: 20 rps, 10 s per request, 1 request per container, 70 % -> 286 replicas.
    log = (
        ROOT / "corpus" / "cases" / "lab" / "gunicorn-27.0.1" / "overload-503-limit-conn" / "nginx-access.log"
    )
    r = cli(
        "diagnose",
        "--json",
        "--platform",
        "azureml-v1",
        "--target-rps",
        "20",
        "--request-seconds",
        "10",
        "--max-requests-per-container",
        "1",
        "--target-utilization",
        "0.7",
        str(log),
    )
    top = r.json()["diagnoses"][0]
    assert top["cause"] == "autoscale_lag"
    step = next(f for f in top["fix"] if f["knob"] == "autoscale_min_replicas")
    assert step["suggested"] == "286"
    assert "= 286" in step["why"]
    assert "autoscale_min_replicas=286" in step["snippet"]


def test_exit_handlers_still_run_after_the_fast_exit(tmp_path):
    # The console script leaves with os._exit (no interpreter teardown); handlers registered with
    # atexit (the kubernetes client's removal of the certificate files it wrote) must still run.
    marker = tmp_path / "ran"
    script = (
        "import atexit, sys\n"
        f"atexit.register(lambda: open({str(marker)!r}, 'w').write('ran'))\n"
        f"sys.argv = ['diagnose', {str(ROOT / 'examples' / 'oom-gunicorn.log')!r}]\n"
        "from diagnoser.cli.main import run_diagnose\n"
        "run_diagnose()\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 1, proc.stderr
    assert b"oom_worker_reboot" in proc.stdout
    assert marker.read_text() == "ran"


def test_a_crash_no_cause_explains_is_unknown_with_the_exit_code_decoded_and_the_last_errors(cli):
    log = (
        b"web-1  | [2024-01-01 10:00:00 +0000] [7] [INFO] Booting worker with pid: 7\n"
        b"web-1  | [2024-01-01 10:00:01 +0000] [7] [ERROR] native backend reported status 42\n"
        b"web-1  | starting the scheduler\n"
        b"web-1 exited with code 139\n"
    )
    r = cli("diagnose", "--json", "--rules-only", stdin=log)
    assert r.code == 1, r.err
    [d] = r.json()["diagnoses"]
    assert d["cause"] == "unknown"
    assert "139 (SIGSEGV, segmentation fault" in d["summary"]
    assert [e["line"] for e in d["evidence"]] == [2, 4]  # the last error line beside the exit
