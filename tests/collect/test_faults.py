"""Collector faults against the loopback Kubernetes API: timeouts, 5xx answers, connections reset
mid-body, truncated bodies and answers that are not JSON. The report carries a warning and whatever
could still be diagnosed; only when nothing at all could be collected is it an error (exit 2).
"""

from __future__ import annotations

import time

import pytest

pytest.importorskip("kubernetes")

POD = "scorer-6f8d7c9b5-x2kqp"
LOG = f"azureml-prod/{POD}/scorer (previous)"


def run(cli, *extra: str):
    return cli(
        "diagnose", "--service", "scorer", "--source", "kubernetes", "--json", "--timeout", "2", *extra
    )


def test_events_answer_500(cli, k8s):
    k8s.replay.faults = {"/events": "500"}
    r = run(cli)
    assert r.code == 1, r.err
    data = r.json()
    assert data["diagnoses"][0]["cause"] == "init_exception"
    assert data["warnings"] == [
        f"kubernetes: events: the API server at {k8s.url} answered 500: etcdserver: request timed out (500)"
    ]


def test_log_answer_503(cli, k8s):
    k8s.replay.faults = {"/log": "503"}
    r = run(cli)
    # The pod's status and events show the crash loop but not why: the unexplained-crash finding.
    assert r.code == 1, r.err
    assert [d["cause"] for d in r.json()["diagnoses"]] == ["unknown"]
    assert r.json()["warnings"] == [
        f"kubernetes: no log for {LOG}: the API server at {k8s.url} answered 503: "
        "etcdserver: request timed out (503)"
    ]


def test_log_timeout_is_a_warning_not_a_hang(cli, k8s):
    k8s.replay.faults = {"/log": "hang"}
    start = time.monotonic()
    r = run(cli)
    assert time.monotonic() - start < 20
    assert r.code == 1, r.err
    assert [d["cause"] for d in r.json()["diagnoses"]] == ["unknown"]
    (warning,) = r.json()["warnings"]
    assert warning.startswith(f"kubernetes: no log for {LOG}: cannot reach the API server at {k8s.url}: ")
    assert "Read timed out" in warning


@pytest.mark.parametrize(
    ("mode", "why"),
    [
        ("reset", "Connection broken: ConnectionResetError(104, 'Connection reset by peer')"),
        ("truncate", "Connection broken: IncompleteRead(3171 bytes read, 3172 more expected)"),
    ],
)
def test_log_cut_mid_stream_is_diagnosed_from_what_arrived(cli, k8s, mode, why):
    k8s.replay.faults = {"/log": mode}
    r = run(cli)
    assert r.code == 1, r.err
    data = r.json()
    assert data["diagnoses"][0]["cause"] == "init_exception"  # the traceback is in the first half
    assert data["warnings"] == [
        f"kubernetes: log of {LOG} cut short (3171 bytes arrived): {why}; diagnosed what arrived"
    ]


def test_events_reset_mid_stream(cli, k8s):
    k8s.replay.faults = {"/events": "reset"}
    r = run(cli)
    assert r.code == 1, r.err
    assert r.json()["warnings"] == [
        f"kubernetes: events: the API server at {k8s.url} broke off its answer to list_namespaced_event: "
        "Connection broken: ConnectionResetError(104, 'Connection reset by peer')"
    ]


def test_events_answer_that_is_not_json(cli, k8s):
    k8s.replay.faults = {"/events": "garbage"}
    r = run(cli)
    assert r.code == 1, r.err
    assert r.json()["warnings"] == [
        f"kubernetes: events: the API server at {k8s.url} answered list_namespaced_event "
        "with something that is not JSON"
    ]


@pytest.mark.parametrize(
    ("mode", "why"),
    [
        ("500", "answered 500: etcdserver: request timed out (500)"),
        (
            "reset",
            "broke off its answer to list_namespaced_pod: Connection broken: "
            "ConnectionResetError(104, 'Connection reset by peer')",
        ),
    ],
)
def test_nothing_collected_is_an_error(cli, k8s, mode, why):
    k8s.replay.faults = {"/pods": mode}
    r = run(cli)
    assert r.code == 2
    assert r.out == ""
    assert (
        r.err == "error: could not collect anything for service 'scorer': "
        f"kubernetes: the API server at {k8s.url} {why}\n"
    )


def test_fault_with_a_file_still_diagnoses_the_file(cli, k8s, tmp_path):
    k8s.replay.faults = {"/pods": "500"}
    log = tmp_path / "app.log"
    log.write_bytes(
        b"[2024-03-05 10:00:09 +0000] [1] [ERROR] Worker (pid:7) was sent SIGKILL! Perhaps out of memory?\n"
        b"[2024-03-05 10:00:19 +0000] [1] [ERROR] Worker (pid:12) was sent SIGKILL! Perhaps out of memory?\n"
    )
    r = run(cli, str(log))
    assert r.code == 1, r.err
    data = r.json()
    assert data["diagnoses"][0]["cause"] == "oom_worker_reboot"
    assert data["warnings"] == [
        f"kubernetes: the API server at {k8s.url} answered 500: etcdserver: request timed out (500)"
    ]


def test_faulty_collection_saves_a_redacted_bundle_with_its_warnings(cli, k8s, tmp_path):
    k8s.replay.faults = {"/log": "truncate"}
    bundle = tmp_path / "b"
    r = run(cli, "--save-bundle", str(bundle))
    assert r.code == 1, r.err
    replay = cli("diagnose", "--json", str(bundle))
    assert replay.json()["warnings"] == r.json()["warnings"]
    assert replay.json()["diagnoses"][0]["cause"] == "init_exception"


# -- Docker: a stand-in daemon on a unix socket that answers 500, hangs, or drops the connection -----

DOCKER_WHY = {
    "500": "docker: the Docker daemon at {host} answered: Error response from daemon: layer store is locked",
    "hang": "docker: lost the Docker daemon at {host}: timed out (check dockerd)",
    "reset": (
        "docker: lost the Docker daemon at {host}: "
        "('Connection broken: IncompleteRead(12 bytes read, 4084 more "
        "expected)', IncompleteRead(12 bytes read, 4084 more expected)) (check dockerd)"
    ),
}


@pytest.fixture
def faulty_docker(tmp_path, monkeypatch):
    """Return a function that starts the stand-in daemon with faults and points DOCKER_HOST at it."""
    from docker_fault_server import FaultyDocker

    servers = []

    def start(faults: dict[str, str]) -> FaultyDocker:
        server = FaultyDocker(tmp_path / f"docker{len(servers)}.sock", faults)
        servers.append(server)
        monkeypatch.setenv("DOCKER_HOST", server.host)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.mark.parametrize("mode", ["500", "hang", "reset"])
def test_docker_fault_alone_is_an_error(cli, faulty_docker, mode):
    pytest.importorskip("docker")
    server = faulty_docker({"/containers/": mode})
    start = time.monotonic()
    r = cli("diagnose", "--service", "web", "--source", "docker", "--timeout", "2")
    assert time.monotonic() - start < 20
    assert r.code == 2 and r.out == ""
    why = DOCKER_WHY[mode].format(host=server.host)
    assert r.err == f"error: could not collect anything for service 'web': {why}\n"


@pytest.mark.parametrize("mode", ["500", "hang", "reset"])
def test_docker_fault_with_a_file_is_a_warning(cli, faulty_docker, tmp_path, mode):
    pytest.importorskip("docker")
    server = faulty_docker({"/containers/": mode})
    log = tmp_path / "app.log"
    log.write_bytes(
        b"[2024-03-05 10:00:09 +0000] [1] [ERROR] Worker (pid:7) was sent SIGKILL! Perhaps out of memory?\n"
        * 2
    )
    r = cli("diagnose", "--service", "web", "--source", "docker", "--timeout", "2", "--json", str(log))
    assert r.code == 1, r.err
    assert r.json()["diagnoses"][0]["cause"] == "oom_worker_reboot"
    assert r.json()["warnings"] == [DOCKER_WHY[mode].format(host=server.host)]
