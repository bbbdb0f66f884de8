"""Running inside a pod: no kubeconfig, the service account's token, CA and namespace, and
KUBERNETES_SERVICE_HOST / _PORT, against the loopback API server over HTTPS (as a CronJob from
deploy/ runs it).

The service-account directory is a temporary one: the client's and the collector's paths to it
are pointed there (a test must not write under /var/run/secrets).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("kubernetes")

sys.path.insert(0, str(Path(__file__).resolve().parent))

from k8s_server import Server, in_cluster_files  # noqa: E402


@pytest.fixture
def in_cluster(tmp_path, monkeypatch):
    """Return a loopback API server over HTTPS, with the process set up as a pod's would be."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    cert, key, account = in_cluster_files(tmp_path)
    server = Server(tmp_path, tls=(cert, key))
    import kubernetes.config.incluster_config as incluster

    import diagnoser.collect.kubernetes as collector

    monkeypatch.setattr(incluster, "SERVICE_TOKEN_FILENAME", str(account / "token"))
    monkeypatch.setattr(incluster, "SERVICE_CERT_FILENAME", str(account / "ca.crt"))
    monkeypatch.setattr(collector, "SERVICE_ACCOUNT", account)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.kube/config
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(server.port))
    yield server
    server.close()


def test_service_in_the_pods_own_namespace(cli, in_cluster):
    r = cli("diagnose", "--service", "scorer", "--source", "kubernetes", "--json")
    assert r.code == 1, r.err
    assert r.json()["diagnoses"][0]["cause"] == "init_exception"
    assert "from kubernetes (context (in-cluster), namespace azureml-prod, server https://127.0.0.1:" in r.err
    assert any(p.startswith("/api/v1/namespaces/azureml-prod/") for p in in_cluster.replay.requests)


def test_scan_as_the_cronjob_runs_it(cli, in_cluster, tmp_path):
    metrics = tmp_path / "diagnoser.prom"
    r = cli("diagnose", "-n", "azureml-prod", "--json", "--metrics-file", str(metrics))
    assert r.code == 1, r.err
    (line,) = [json.loads(x) for x in r.out.splitlines()]
    assert (line["workload"], line["report"]["diagnoses"][0]["cause"]) == ("scorer", "init_exception")
    assert (
        'diagnoser_diagnoses{cause="init_exception",namespace="azureml-prod",workload="scorer"'
        in metrics.read_text()
    )


def test_a_wrong_token_is_a_clear_error(cli, in_cluster, tmp_path):
    (tmp_path / "serviceaccount" / "token").write_text("not-the-token")
    r = cli("diagnose", "-n", "azureml-prod")
    assert r.code == 2 and "Traceback" not in r.err
    assert "rejected the credentials" in r.err and "service account" in r.err
