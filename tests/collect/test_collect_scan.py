"""The cluster scan (`diagnose -n NS`, `-A`, `-l SELECTOR` without --service) against the loopback API.

The recorded namespaces hold a crash-looping Azure ML deployment (azureml-prod), a GPU deployment no
node can take (gpu-serving) and two pods stuck Pending (starting).
"""

from __future__ import annotations

import json
import time

import pytest

pytest.importorskip("kubernetes")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402


def test_all_namespaces_table(cli, k8s):
    r = cli("diagnose", "-A")
    assert r.code == 1, r.err
    rows = [line.split() for line in r.out.splitlines() if line and not line.startswith(" ")]
    assert rows[0] == ["NAMESPACE", "WORKLOAD", "STATUS", "CAUSE", "SEVERITY"]
    table = {(row[0], row[1]): row for row in rows[1:5]}
    assert table[("azureml-prod", "deployment/scorer")][-2:] == ["init_exception", "high"], r.out
    assert table[("gpu-serving", "deployment/gpu-model")][-2:] == ["scheduling_failure", "high"], r.out
    assert "CrashLoopBackOff" in " ".join(table[("azureml-prod", "deployment/scorer")])
    # the summary under a row names what failed
    assert "  init() in score.py:14 raised ValueError" in r.out
    assert "4 failing workloads of 4 pods in context loopback, all namespaces" in r.out


def test_json_lines_one_per_workload_in_order(cli, k8s):
    r = cli("diagnose", "-A", "--json")
    assert r.code == 1, r.err
    lines = [json.loads(line) for line in r.out.splitlines()]
    assert [(x["namespace"], x["kind"], x["workload"]) for x in lines] == [
        ("azureml-prod", "Deployment", "scorer"),
        ("gpu-serving", "Deployment", "gpu-model"),
        ("starting", "Pod", "warmup-5f6d7c8b9-abcde"),
        ("starting", "Pod", "warmup-5f6d7c8b9-fghij"),
    ]
    scorer = lines[0]
    assert scorer["status"] == ["CrashLoopBackOff", "exit code 1", "4 restarts"]
    assert scorer["pods"] == ["scorer-6f8d7c9b5-x2kqp"]
    assert scorer["report"]["diagnoses"][0]["cause"] == "init_exception"
    assert scorer["error"] is None
    # each line carries the report --service would give
    alone = cli("diagnose", "--service", "scorer", "-n", "azureml-prod", "--source", "kubernetes", "--json")
    assert scorer["report"]["diagnoses"] == alone.json()["diagnoses"]


def test_one_namespace_and_a_selector(cli, k8s):
    r = cli("diagnose", "-n", "gpu-serving", "--json")
    assert [json.loads(x)["workload"] for x in r.out.splitlines()] == ["gpu-model"]
    r = cli("diagnose", "-A", "-l", "app=gpu-model", "--json")
    assert [json.loads(x)["workload"] for x in r.out.splitlines()] == ["gpu-model"]
    r = cli("diagnose", "-A", "-l", "app=nothing-has-this")
    assert (r.code, r.out) == (
        0,
        "no failing workload: 0 pods in context loopback, all namespaces, "
        "pods labelled app=nothing-has-this\n",
    )


def test_metrics_file_is_prometheus_text(cli, k8s, tmp_path):
    metrics = tmp_path / "diagnoser.prom"
    r = cli("diagnose", "-A", "--metrics-file", str(metrics))
    assert r.code == 1, r.err
    families = {f.name: f for f in text_string_to_metric_families(metrics.read_text())}
    diagnoses = sorted(
        (s.labels["namespace"], s.labels["workload"], s.labels["cause"], s.labels["severity"], s.value)
        for s in families["diagnoser_diagnoses"].samples
    )
    assert diagnoses == [
        ("azureml-prod", "scorer", "init_exception", "high", 1.0),
        ("gpu-serving", "gpu-model", "scheduling_failure", "high", 1.0),
        ("starting", "warmup-5f6d7c8b9-abcde", "scheduling_failure", "high", 1.0),
    ]
    failing = {s.labels["namespace"]: s.value for s in families["diagnoser_failing_workloads"].samples}
    assert failing == {"azureml-prod": 1, "gpu-serving": 1, "starting": 2}
    assert families["diagnoser_scanned_pods"].samples[0].value == 4
    assert abs(families["diagnoser_last_scan_timestamp_seconds"].samples[0].value - time.time()) < 60
    assert not list(tmp_path.glob(".*.tmp"))  # written through a rename: no temporary file left


def test_the_deadline_holds_and_says_what_was_not_diagnosed(cli, k8s):
    k8s.replay.faults = {"/log": "hang"}  # every log request hangs for 30 s
    start = time.monotonic()
    r = cli("diagnose", "-A", "--json", "--deadline", "2", "--timeout", "30")
    took = time.monotonic() - start
    assert took < 4, took
    lines = [json.loads(x) for x in r.out.splitlines()]
    scorer = next(x for x in lines if x["workload"] == "scorer")
    assert scorer["report"] is None
    assert "--deadline of 2 s" in scorer["error"] or "--timeout" in scorer["error"]
    assert r.code == 1  # failing workloads were found, even if not diagnosed
    assert "Traceback" not in r.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["-n", "prod", "-o", "markdown"],
            "error: a cluster scan prints a table or JSON lines, not markdown",
        ),
        (["-A", "-n", "prod"], "error: --namespace and --all-namespaces do not go together"),
        (["-A", "--save-bundle", "b"], "error: a cluster scan reads Kubernetes only, and saves no bundle"),
        (["-A", "x.log"], "error: --all-namespaces only apply to a cluster scan"),
        (["--metrics-file", "m.prom", "x.log"], "error: --metrics-file only apply to a cluster scan"),
    ],
)
def test_scan_usage_errors(cli, k8s, args, message):
    r = cli("diagnose", *args)
    assert r.code == 2 and r.err.startswith(message), r.err
