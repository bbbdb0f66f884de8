"""Docker collector against a real dockerd started by the tests (conftest.dockerd)."""

from __future__ import annotations

import json

import pytest
from conftest import wait_exited

pytest.importorskip("docker")

IMAGE = "diagnoser-test/busybox:1"


@pytest.fixture(scope="module")
def oom_container(dockerd):
    """Run a model-server-like container that is OOMKilled under -m 48m and restarted 3 times."""
    name = "mysvc-oom"
    dockerd.docker(
        "run",
        "-d",
        "--name",
        name,
        "-m",
        "48m",
        "--memory-swap",
        "48m",
        "--restart",
        "on-failure:3",
        "--network",
        "none",
        IMAGE,
    )
    state = wait_exited(dockerd, name, restarts=3)
    assert state["OOMKilled"] is True and state["ExitCode"] == 137
    return name


def test_oom_killed_container_is_oom_worker_reboot(cli, dockerd, oom_container, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", dockerd.host)
    result = cli("diagnose", "--service", oom_container, "--source", "docker", "--json")
    assert result.code == 1, result.err
    report = result.json()
    top = report["diagnoses"][0]
    assert top["cause"] == "oom_worker_reboot"
    by_source = {}
    for e in top["evidence"]:
        by_source.setdefault(e["source"], []).append(e["text"])
    assert any('"OOMKilled": true' in t for t in by_source[f"docker:{oom_container}/inspect"])
    assert any("Booting worker with pid" in t for t in by_source[f"docker:{oom_container}"])
    assert any("container oom" in t for t in by_source[f"docker:{oom_container}/events"])
    assert report["input"]["sources"] == [
        f"docker:{oom_container}",
        f"docker:{oom_container}/inspect",
        f"docker:{oom_container}/events",
    ]


def test_bundle_replays_the_same_report(cli, dockerd, oom_container, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", dockerd.host)
    bundle = tmp_path / "bundle"
    online = cli(
        "diagnose", "--service", oom_container, "--source", "docker", "--json", "--save-bundle", str(bundle)
    )
    offline = cli("diagnose", str(bundle), "--json")
    assert online.code == offline.code == 1
    assert online.json() == offline.json()
    manifest = json.loads((bundle / "diagnoser-bundle.json").read_text())
    assert [s["name"] for s in manifest["sources"]][0] == f"docker:{oom_container}"


def test_container_found_by_label(cli, dockerd, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", dockerd.host)
    dockerd.docker(
        "run",
        "-d",
        "--name",
        "web-1",
        "--label",
        "com.docker.compose.service=web",
        "--network",
        "none",
        IMAGE,
        "sh",
        "-c",
        "echo Traceback \\(most recent call last\\):; exit 3",
    )
    wait_exited(dockerd, "web-1")
    result = cli("diagnose", "--service", "web", "--source", "docker", "--json")
    assert "docker:web-1" in result.json()["input"]["sources"]


def test_no_such_container_suggests_and_exits_2(cli, dockerd, oom_container, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", dockerd.host)
    result = cli("diagnose", "--service", "mysvc-om", "--source", "docker")
    assert result.code == 2
    assert f"on the Docker daemon at {dockerd.host}" in result.err
    assert "did you mean 'mysvc-oom'" in result.err
    assert "Traceback" not in result.err


def test_unreachable_daemon(cli, no_docker):
    result = cli("diagnose", "--service", "mysvc", "--source", "docker")
    assert result.code == 2
    assert "cannot reach the Docker daemon" in result.err


def test_auto_says_what_it_used(cli, dockerd, oom_container, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", dockerd.host)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    result = cli(
        "diagnose", "--service", oom_container, "--journal", str(tmp_path / "none.journal"), "--json"
    )
    assert result.json()["diagnoses"][0]["cause"] == "oom_worker_reboot"
    assert f"from docker ({dockerd.host})" in result.err
    assert "skipped kubernetes: no kubeconfig" in result.err
