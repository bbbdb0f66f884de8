"""Collector faults against the loopback Kubernetes API and a stand-in Docker daemon: timeouts, 5xx
answers, connections reset mid-body, truncated bodies, answers that are not JSON, bodies trickled a
byte at a time forever and huge bodies sent fast. The report carries a warning and whatever could
still be diagnosed; only when nothing at all could be collected is it an error (exit 2). Every call
ends within --timeout (plus a second) and keeps a bounded number of bytes, whatever the peer does.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("kubernetes")

from diagnoser.collect.base import MAX_LOG_BYTES, Collection, Request  # noqa: E402
from diagnoser.errors import CollectorError  # noqa: E402

POD = "scorer-6f8d7c9b5-x2kqp"
LOG = f"azureml-prod/{POD}/scorer (previous)"
RECORDED_LOG = tuple(
    (Path(__file__).parent.parent / "data/k8s-api/azureml-prod/logs" / POD / "scorer.previous.log")
    .read_text()
    .splitlines()
)
MiB = 2**20
CUT = (  # the rest of a warning about a log cut by --timeout 2, as a pattern
    r" cut at the --timeout of 2 s after (\d+) bytes; diagnosed what arrived "
    r"\(pass a larger --timeout to wait for all of it\)"
)


def timed(collect: Callable[[], Collection]) -> tuple[Collection, float, float]:
    """Return what `collect` brought back, the seconds it took and its peak of traced memory."""
    tracemalloc.start()
    start = time.monotonic()
    try:
        found = collect()
        elapsed = time.monotonic() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return found, elapsed, peak


def collect_k8s(k8s: Any, faults: dict[str, str], **request: Any) -> Callable[[], Collection]:
    """Return a call that collects the `scorer` service from the loopback API with `faults`."""
    from diagnoser.collect.kubernetes import KubernetesCollector

    def collect() -> Collection:
        return KubernetesCollector().collect(Request("scorer", **request))

    collect()  # once without faults: the client imports its API modules on first use, not in the timing
    k8s.replay.faults = faults
    return collect


def lines_of(found: Collection, source: str) -> tuple[str, ...]:
    """Return the lines of the piece named `source`."""
    return next(p.lines for p in found.pieces if p.source == source)


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
    assert time.monotonic() - start < 2 + 3  # the log call's 2 s, the other calls and the diagnosis
    assert r.code == 1, r.err
    assert [d["cause"] for d in r.json()["diagnoses"]] == ["unknown"]
    assert r.json()["warnings"] == [
        f"kubernetes: no log for {LOG}: the API server at {k8s.url} did not answer "
        "read_namespaced_pod_log within the --timeout of 2 s "
        "(check the cluster is up, or pass a larger --timeout)"
    ]


def test_log_trickled_forever_is_cut_at_the_deadline(k8s):
    # A byte every 0.25 s: no single read ever waits the 2 s, only the call's deadline can end it.
    found, elapsed, _ = timed(collect_k8s(k8s, {"/log": "trickle"}, timeout=2))
    assert elapsed <= 2 + 1
    (warning,) = found.warnings
    arrived = re.fullmatch(re.escape(f"log of {LOG}") + CUT, warning)
    assert arrived, warning
    assert 3171 < int(arrived[1]) < 3171 + 2 / 0.25 + 2  # the first half at once, then the trickle
    assert any("Traceback (most recent call last)" in line for line in lines_of(found, f"k8s:{LOG}"))


def test_trickled_log_is_diagnosed_from_what_arrived_with_a_warning(cli, k8s):
    k8s.replay.faults = {"/log": "trickle"}
    r = run(cli)
    assert r.code == 1, r.err
    data = r.json()
    assert data["diagnoses"][0]["cause"] == "init_exception"
    (warning,) = data["warnings"]
    assert re.fullmatch(re.escape(f"kubernetes: log of {LOG}") + CUT, warning), warning


def test_events_trickled_forever_are_given_up_at_the_deadline(k8s):
    found, elapsed, _ = timed(collect_k8s(k8s, {"/events": "trickle"}, timeout=2))
    assert elapsed <= 2 + 1
    (warning,) = found.warnings
    assert re.fullmatch(
        re.escape(
            f"events: the API server at {k8s.url} did not finish its answer to list_namespaced_event "
            "within the --timeout of 2 s ("
        )
        + r"\d+ bytes arrived\) \(pass a larger --timeout\)",
        warning,
    ), warning
    assert lines_of(found, "k8s:azureml-prod/events") == ()


@pytest.mark.parametrize("mode", ["huge", "huge-chunked"])
def test_huge_fast_log_keeps_its_last_bytes_in_bounded_memory(k8s, mode):
    # 256 MiB as fast as loopback goes, ending with the recorded log: only the last 1 MiB is kept.
    k8s.replay.huge_bytes = 256 * MiB
    found, elapsed, peak = timed(collect_k8s(k8s, {"/log": mode}, timeout=5, max_log_bytes=MiB))
    assert elapsed <= 5 + 1
    assert peak < 16 * MiB, f"{peak / MiB:.0f} MiB traced for a 1 MiB cap"
    assert found.warnings == (
        f"log of {LOG} is 256 MiB, more than the 1 MiB one log may take; diagnosed its last 1 MiB "
        "(ask for fewer lines with --tail or --since to diagnose all of them)",
    )
    kept = lines_of(found, f"k8s:{LOG}")
    assert 0 < sum(len(line) + 1 for line in kept) <= MiB
    assert kept[0].startswith("2024-03-05T10:01:37.000000000Z waiting")  # whole lines only
    assert kept[-len(RECORDED_LOG) :] == RECORDED_LOG  # the end, where the crash is


@pytest.mark.parametrize("mode", ["huge", "huge-chunked"])
def test_huge_fast_json_answer_is_refused_in_bounded_memory(k8s, mode):
    k8s.replay.huge_bytes = 256 * MiB
    found, elapsed, peak = timed(collect_k8s(k8s, {"/events": mode}, timeout=5, max_answer_bytes=MiB))
    assert elapsed <= 5 + 1
    assert peak < 16 * MiB, f"{peak / MiB:.0f} MiB traced for a 1 MiB cap"
    assert found.warnings == (
        f"events: the API server at {k8s.url} answered list_namespaced_event with more than 1 MiB; "
        "refused it (that much is not read into memory: save it with kubectl and pass the file instead)",
    )
    assert lines_of(found, "k8s:azureml-prod/events") == ()


def test_log_over_the_default_cap_is_diagnosed_from_its_end(cli, k8s):
    k8s.replay.faults = {"/log": "huge"}
    k8s.replay.huge_bytes = MAX_LOG_BYTES + 8 * MiB
    k8s.replay.filler = b"2024-03-05T10:01:37.000000000Z " + b"model shard loaded " * 200 + b"\n"  # few lines
    r = run(cli, "--timeout", "10")
    assert r.code == 1, r.err
    data = r.json()
    assert data["diagnoses"][0]["cause"] == "init_exception"  # the traceback is at the log's end
    assert data["warnings"] == [
        f"kubernetes: log of {LOG} is 24 MiB, more than the 16 MiB one log may take; diagnosed its "
        "last 16 MiB (ask for fewer lines with --tail or --since to diagnose all of them)"
    ]


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
    "hang": (
        "docker: the Docker daemon at {host} did not answer GET /containers/web/json within the "
        "--timeout of 2 s (check dockerd, or pass a larger --timeout)"
    ),
    "reset": (
        "docker: the Docker daemon at {host} broke off its answer to GET /containers/web/json: "
        "Connection broken: IncompleteRead(12 bytes read, 4084 more expected)"
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


def collect_docker(faulty_docker: Any, faults: dict[str, str], **request: Any) -> Callable[[], Collection]:
    """Return a call that collects the `web` container from a stand-in daemon with `faults`."""
    from diagnoser.collect.docker import DockerCollector

    server = faulty_docker({})

    def collect() -> Collection:
        return DockerCollector().collect(Request("web", **request))

    collect()  # once without faults: the SDK's imports are not the collector's time or memory
    server.handler.faults.update(faults)
    return collect


WEB_LOG = "docker:web"
SIGKILL = "Worker (pid:12) was sent SIGKILL! Perhaps out of memory?"


def test_docker_stand_in_serves_a_container_that_is_diagnosed(cli, faulty_docker):
    pytest.importorskip("docker")
    faulty_docker({})
    r = cli("diagnose", "--service", "web", "--source", "docker", "--timeout", "2", "--json")
    assert r.code == 1, r.err
    assert r.json()["diagnoses"][0]["cause"] == "oom_worker_reboot"
    assert r.json()["warnings"] == []
    assert r.json()["input"]["sources"] == [WEB_LOG, "docker:web/inspect", "docker:web/events"]


@pytest.mark.parametrize(("path", "what"), [("/logs", "log of web"), ("/events", "events of web")])
def test_docker_stream_trickled_forever_is_cut_at_the_deadline(faulty_docker, path, what):
    pytest.importorskip("docker")
    # The real answer at once, then a byte every 0.25 s, forever.
    found, elapsed, _ = timed(collect_docker(faulty_docker, {path: "trickle"}, timeout=2))
    assert elapsed <= 2 + 1
    (warning,) = found.warnings
    assert re.fullmatch(re.escape(what) + CUT, warning), warning
    assert lines_of(found, WEB_LOG)[3].endswith(SIGKILL)
    events = lines_of(found, "docker:web/events")
    assert [line.split()[2] for line in events] == ["oom", "die"]


def test_docker_trickled_log_is_diagnosed_from_what_arrived_with_a_warning(cli, faulty_docker):
    pytest.importorskip("docker")
    faulty_docker({"/logs": "trickle"})
    start = time.monotonic()
    r = cli("diagnose", "--service", "web", "--source", "docker", "--timeout", "2", "--json")
    assert time.monotonic() - start < 2 + 3  # the log's 2 s, the other calls and the diagnosis
    assert r.code == 1, r.err
    assert r.json()["diagnoses"][0]["cause"] == "oom_worker_reboot"
    (warning,) = r.json()["warnings"]
    assert re.fullmatch(re.escape("docker: log of web") + CUT, warning), warning


@pytest.mark.parametrize("mode", ["huge", "huge-chunked"])
def test_docker_huge_fast_log_keeps_its_last_bytes_in_bounded_memory(faulty_docker, mode):
    pytest.importorskip("docker")
    # 256 MiB of framed lines, the SIGKILLs last.
    found, elapsed, peak = timed(collect_docker(faulty_docker, {"/logs": mode}, timeout=5, max_log_bytes=MiB))
    assert elapsed <= 5 + 1
    assert peak < 16 * MiB, f"{peak / MiB:.0f} MiB traced for a 1 MiB cap"
    assert found.warnings == (
        "log of web is 256 MiB, more than the 1 MiB one log may take; diagnosed its last 1 MiB "
        "(ask for fewer lines with --tail or --since to diagnose all of them)",
    )
    kept = lines_of(found, WEB_LOG)
    assert 0 < sum(len(line) + 1 for line in kept) <= MiB
    assert kept[0].startswith("2024-03-05T10:00:04.000000000Z waiting")  # frames undone, whole lines
    assert kept[-1].endswith(SIGKILL)


@pytest.mark.parametrize("mode", ["huge", "huge-chunked"])
def test_docker_huge_fast_json_answer_is_refused_in_bounded_memory(faulty_docker, mode):
    pytest.importorskip("docker")
    collect = collect_docker(faulty_docker, {"/containers/web/json": mode}, timeout=5, max_answer_bytes=MiB)
    tracemalloc.start()
    start = time.monotonic()
    try:
        with pytest.raises(CollectorError) as caught:
            collect()
        elapsed = time.monotonic() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed <= 5 + 1
    assert peak < 16 * MiB, f"{peak / MiB:.0f} MiB traced for a 1 MiB cap"
    assert str(caught.value) == (
        f"the Docker daemon at {os.environ['DOCKER_HOST']} answered GET /containers/web/json with more "
        "than 1 MiB; "
        "refused it (that much is not read into memory: save it with the docker CLI and pass the file)"
    )


# -- journald: a journalctl stand-in that prints slowly forever, or a great deal fast -----------------


@pytest.fixture
def journalctl(tmp_path, monkeypatch):
    """Return a function that puts a journalctl stand-in of the given mode first on PATH."""
    import diagnoser.collect.journald as journald

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "journalctl"
    stand_in = Path(__file__).with_name("journalctl_stand_in.py")
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{stand_in}" "$@"\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(journald, "MIN_SECONDS", 1.0)  # the deadline is then 3 x --timeout

    def start(mode: str) -> None:
        monkeypatch.setenv("FAKE_JOURNALCTL", mode)

    return start


def collect_journal(tmp_path: Path, **request: Any) -> Callable[[], Collection]:
    """Return a call that collects `mysvc` from the journal through journalctl."""
    from diagnoser.collect.journald import JournaldCollector

    return lambda: JournaldCollector().collect(Request("mysvc", journal=(str(tmp_path),), **request))


def test_journalctl_printing_forever_is_stopped_at_the_deadline(journalctl, tmp_path):
    journalctl("trickle")  # an entry about the service every 0.25 s, forever
    found, elapsed, _ = timed(collect_journal(tmp_path, timeout=0.5))
    assert elapsed <= 1.5 + 1
    (warning,) = found.warnings
    assert re.fullmatch(
        re.escape(f"journalctl on {tmp_path} did not finish within 1.5 s (")
        + r"\d+ bytes read\); diagnosed what it printed by then, its oldest entries "
        r"\(pass --since to read less\)",
        warning,
    ), warning
    kept = lines_of(found, "journald:kubelet.service")
    assert 3 <= len(kept) <= 1.5 / 0.25 + 1
    assert '"MESSAGE": "Error syncing pod, skipping' in kept[0]


def test_journalctl_printing_a_huge_journal_fast_keeps_only_what_matters(journalctl, tmp_path):
    journalctl("huge:256")  # 256 MiB about other pods, then three entries about the service
    found, elapsed, peak = timed(collect_journal(tmp_path, timeout=5))
    assert elapsed <= 15 + 1
    assert peak < 16 * MiB, f"{peak / MiB:.0f} MiB traced"
    assert found.warnings == ()
    kept = lines_of(found, "journald:kubelet.service")
    assert [json.loads(line)["MESSAGE"][-12:] for line in kept] == [f"({10**9 + n})" for n in range(3)]


def test_journal_entries_about_the_service_past_the_cap_keep_the_newest(journalctl, tmp_path):
    journalctl("many:8")  # 8 MiB of entries about the service, the newest last
    found, _, peak = timed(collect_journal(tmp_path, timeout=5, max_log_bytes=MiB, tail=None))
    assert peak < 16 * MiB, f"{peak / MiB:.0f} MiB traced"
    assert found.warnings == (
        f"the journal entries that may be about 'mysvc' in {tmp_path} are more than 1 MiB; "
        "diagnosed the newest 1 MiB of them (pass --since to read less)",
    )
    kept = lines_of(found, "journald:kubelet.service")
    assert sum(len(line) + 1 for line in kept) <= MiB
    numbers = [int(json.loads(line)["MESSAGE"].rsplit("(", 1)[1].rstrip(")")) for line in kept]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))  # whole entries, in order
    assert numbers[-1] == printed_last(8 * MiB)  # the newest entries, not the first


def printed_last(budget: int) -> int:
    """Return the number of the last entry the stand-in prints in `many` mode."""
    from journalctl_stand_in import ABOUT, entry

    n = 0
    while budget > 0:
        budget -= len(entry(n, ABOUT))
        n += 1
    return n - 1
