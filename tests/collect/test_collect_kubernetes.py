"""Kubernetes collector against the loopback API server (recorded JSON of the real shape).

No kube-apiserver can be installed here: `k8s_server.py` replays tests/data/k8s-api through the
official `kubernetes` client (and kubectl where it is installed).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time

import pytest

pytest.importorskip("kubernetes")

from diagnoser.collect.base import Request  # noqa: E402
from diagnoser.collect.kubernetes import KubernetesCollector, _Api  # noqa: E402
from diagnoser.redact import redact  # noqa: E402

POD = "scorer-6f8d7c9b5-x2kqp"


def test_the_kubectl_plugin_diagnoses_the_named_service_as_diagnose_service_does(cli, k8s):
    plugin = cli("kubectl-diagnose", "scorer", "-n", "azureml-prod", "--json")
    direct = cli("diagnose", "--service", "scorer", "-n", "azureml-prod", "--source", "kubernetes", "--json")
    assert plugin.code == direct.code == 1, plugin.err
    assert plugin.json() == direct.json()
    assert plugin.json()["diagnoses"][0]["cause"] == "init_exception"
    usage = cli("kubectl-diagnose")  # kubectl diagnose without a name
    assert usage.code == 2 and "NAME" in usage.err
    assert "kubectl diagnose web -n prod" in cli("kubectl-diagnose", "--help").out


def test_crashloop_previous_log_traceback_is_init_exception(cli, k8s):
    result = cli("diagnose", "--service", "scorer", "--source", "kubernetes", "--json")
    assert result.code == 1, result.err
    report = result.json()
    top = report["diagnoses"][0]
    assert top["cause"] == "init_exception"
    previous = [e for e in top["evidence"] if e["source"] == f"k8s:azureml-prod/{POD}/scorer (previous)"]
    assert any("Traceback (most recent call last)" in e["text"] for e in previous)
    assert any("UserScriptException" in e["text"] for e in previous)
    assert report["input"]["sources"] == [
        f"k8s:azureml-prod/{POD}",
        f"k8s:azureml-prod/{POD}/scorer (previous)",
        "k8s:azureml-prod/events",
    ]
    # A container waiting in CrashLoopBackOff answers a plain log request with the previous run's
    # log: the collector asks for `previous` only.
    logs = [r for r in k8s.replay.requests if "/log?" in r]
    assert len(logs) == 1 and "previous=true" in logs[0] and "timestamps=true" in logs[0]
    assert "collected 3 sources from kubernetes" in result.err


def test_events_are_those_of_the_pod_and_its_owners_only(k8s):
    found = KubernetesCollector().collect(Request("scorer"))
    events = next(p for p in found.pieces if p.source == "k8s:azureml-prod/events")
    names = [json.loads(line)["involvedObject"]["name"] for line in events.lines]
    assert names == ["scorer", POD, POD, POD, POD, POD]  # the Deployment's, then the pod's, by time
    assert all(json.loads(line)["kind"] == "Event" for line in events.lines)
    pod = json.loads(next(p for p in found.pieces if p.source == f"k8s:azureml-prod/{POD}").lines[0])
    assert "managedFields" not in pod["metadata"]
    # The collector keeps the pod as the API gives it; the one redaction policy masks it at the exits.
    env = {e["name"]: e["value"] for e in pod["spec"]["containers"][0]["env"]}
    assert env["AML_APP_INSIGHTS_KEY"] != "<redacted>" and env["WORKER_COUNT"] == "1"
    line = next(p for p in found.pieces if p.source == f"k8s:azureml-prod/{POD}").lines[0]
    exits = {e["name"]: e["value"] for e in json.loads(redact(line))["spec"]["containers"][0]["env"]}
    assert exits["AML_APP_INSIGHTS_KEY"] == "<redacted>" and exits["WORKER_COUNT"] == "1"
    assert POD in found.targets and "5b1d0f3c2a9e" in found.targets


def test_pending_pod_is_scheduling_failure_with_nodes(cli, k8s):
    result = cli("diagnose", "--service", "gpu-model", "--context", "gpu", "--source", "kubernetes", "--json")
    assert result.code == 1, result.err
    report = result.json()
    assert report["diagnoses"][0]["cause"] == "scheduling_failure"
    texts = " ".join(e["text"] for e in report["diagnoses"][0]["evidence"])
    assert "0/3 nodes are available: 3 Insufficient nvidia.com/gpu." in texts
    assert "k8s:nodes" in report["input"]["sources"]
    assert "k8s:gpu-serving/hpa/gpu-model" in report["input"]["sources"]
    assert not [r for r in k8s.replay.requests if "/log" in r]  # no container, no log request


def test_no_such_service_names_what_was_searched(cli, k8s):
    result = cli("diagnose", "--service", "nosuch", "--source", "kubernetes")
    assert result.code == 2
    assert "Traceback" not in result.err
    assert "no service 'nosuch'" in result.err
    assert "namespace azureml-prod" in result.err and "context loopback" in result.err
    assert "Service, Deployment and StatefulSet" in result.err and "azuremlappname=nosuch" in result.err


def test_close_name_is_suggested(cli, k8s):
    result = cli("diagnose", "--service", "scorr", "--source", "kubernetes")
    assert result.code == 2
    assert "did you mean 'scorer'" in result.err


def test_missing_namespace_lists_nothing_and_says_so(cli, k8s):
    result = cli("diagnose", "--service", "scorer", "--source", "kubernetes", "-n", "nowhere")
    assert result.code == 2
    assert "namespace nowhere" in result.err and "check --namespace" in result.err


def test_rbac_forbidden_is_a_clear_error(cli, k8s):
    result = cli("diagnose", "--service", "scorer", "--source", "kubernetes", "-n", "locked")
    assert result.code == 2
    assert (
        "forbidden" in result.err and "cannot list resource" not in result.err or "forbidden:" in result.err
    )
    assert "Traceback" not in result.err


def test_unreachable_cluster(cli, k8s):
    result = cli(
        "diagnose", "--service", "scorer", "--source", "kubernetes", "--context", "dead", "--timeout", "2"
    )
    assert result.code == 2
    assert "cannot reach the API server at http://127.0.0.1:9" in result.err


def test_slow_api_times_out(cli, k8s):
    k8s.replay.delay = 5
    start = time.monotonic()
    result = cli("diagnose", "--service", "scorer", "--source", "kubernetes", "--timeout", "0.5")
    assert time.monotonic() - start < 4
    assert result.code == 2
    assert result.err == (
        "error: could not collect anything for service 'scorer': kubernetes: the API server at "
        f"{k8s.url} did not answer read_namespaced_service within the --timeout of 0.5 s "
        "(check the cluster is up, or pass a larger --timeout)\n"
    )


def test_unknown_context_suggests(cli, k8s):
    result = cli("diagnose", "--service", "scorer", "--source", "kubernetes", "--context", "gpus")
    assert result.code == 2
    assert "no context 'gpus'" in result.err and "'gpu'" in result.err


def test_log_of_unscheduled_pod_is_204_and_creating_container_is_400(k8s):
    api = _Api(Request("warmup", namespace="starting"))
    warnings: list[str] = []
    try:
        assert api.log("warmup-5f6d7c8b9-abcde", "model", False, Request("warmup"), warnings) == ""
        assert warnings == []
        assert api.log("warmup-5f6d7c8b9-fghij", "model", False, Request("warmup"), warnings) is None
    finally:
        api.close()
    assert warnings == [
        "no log for starting/warmup-5f6d7c8b9-fghij/model yet: the container is waiting to start"
    ]


def test_pods_not_running_yet_give_scheduling_failure_without_log_requests(cli, k8s):
    result = cli("diagnose", "--service", "warmup", "--source", "kubernetes", "-n", "starting", "--json")
    report = result.json()
    assert report["diagnoses"][0]["cause"] == "scheduling_failure"
    assert not [r for r in k8s.replay.requests if "/log" in r]


def test_files_alongside_and_partial_failure_is_a_warning(cli, k8s, tmp_path):
    extra = tmp_path / "app.log"
    extra.write_text("hello\n")
    result = cli(
        "diagnose",
        str(extra),
        "--service",
        "scorer",
        "--source",
        "kubernetes",
        "--source",
        "docker",
        "--json",
    )
    report = result.json()
    assert report["input"]["sources"][0] == f"file:{extra}"
    assert report["diagnoses"][0]["cause"] == "init_exception"
    assert any(w.startswith("docker: ") for w in report["warnings"])


def test_watch_stream_ends_with_timeout_seconds(k8s):
    from kubernetes import client, config, watch

    cfg = client.Configuration()
    config.load_kube_config(config_file=str(k8s.kubeconfig), client_configuration=cfg)
    api = client.ApiClient(cfg)
    core = client.CoreV1Api(api)
    start = time.monotonic()
    # Without timeout_seconds a watch never ends; with it the server closes the stream.
    seen = [
        e["type"]
        for e in watch.Watch().stream(
            core.list_namespaced_pod, "azureml-prod", timeout_seconds=1, _request_timeout=10
        )
    ]
    api.close()
    assert seen == ["ADDED"]
    assert time.monotonic() - start < 8


@pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="kubectl is not installed (not in Debian's or PyPI's reach here)"
)
def test_kubectl_output_from_the_same_server_diagnoses_alike(cli, k8s):
    def kubectl(*args: str) -> bytes:
        proc = subprocess.run(
            ["kubectl", "--kubeconfig", str(k8s.kubeconfig), *args], capture_output=True, timeout=60
        )
        assert proc.returncode == 0, proc.stderr.decode()
        return proc.stdout

    pods = kubectl(
        "get", "--raw", "/api/v1/namespaces/azureml-prod/pods?labelSelector=azuremlappname%3Dscorer"
    )
    assert json.loads(pods)["items"][0]["status"]["containerStatuses"][0]["restartCount"] == 4
    previous = kubectl("logs", "-n", "azureml-prod", POD, "-c", "scorer", "--previous")
    assert b"ValueError: model config is missing required key 'n_features'" in previous
    result = cli("diagnose", "--json", stdin=pods + previous)
    assert result.json()["diagnoses"][0]["cause"] == "init_exception"


def test_crashloop_text_report_quotes_the_user_exception_and_renders_api_objects(cli, k8s):
    for fmt in ("text", "markdown"):
        result = cli("diagnose", "--service", "scorer", "--source", "kubernetes", "--no-color", "-o", fmt)
        assert result.code == 1, result.err
        out = result.out
        # the init() exception of the previous container, not only the traceback head or the server's wrapper
        assert "ValueError: model config is missing required key 'n_features'" in out, out
        assert "raised at " in out and "score.py" in out
        # Kubernetes objects read as kubectl prints them, never as raw API JSON
        assert '"apiVersion"' not in out and '{"kind"' not in out and '"involvedObject"' not in out, out
