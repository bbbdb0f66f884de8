"""journald collector on real journal files written by systemd-journal-remote."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest


def export_entry(fields: dict[str, str], when: datetime | None = None) -> bytes:
    """Return one entry in journal export format, what systemd-journal-remote reads."""
    when = when or datetime.now(UTC)
    usec = int(when.timestamp() * 1e6)
    out = [
        f"__REALTIME_TIMESTAMP={usec}",
        f"__MONOTONIC_TIMESTAMP={usec}",
        "_BOOT_ID=3d8e7c4f0a1b4c2d9e8f7a6b5c4d3e2f",
    ]
    out += [f"{k}={v}" for k, v in fields.items()]
    return ("\n".join(out) + "\n\n").encode()


REMOTE = next(
    (
        p
        for p in ("/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote")
        if Path(p).exists()
    ),
    None,
)
pytestmark = pytest.mark.skipif(
    REMOTE is None or shutil.which("journalctl") is None,
    reason="systemd-journal-remote / journalctl not installed",
)

CID = "5b1d0f3c2a9e8d7c6b5a49382716059483726150a9b8c7d6e5f4a3b2c1d0e9f8"


def _journal(tmp_path: Path) -> Path:
    t = datetime.now(UTC) - timedelta(minutes=5)
    kubelet = {
        "_SYSTEMD_UNIT": "kubelet.service",
        "SYSLOG_IDENTIFIER": "kubelet",
        "_PID": "1869",
        "_TRANSPORT": "stdout",
        "_HOSTNAME": "aks-node-1",
    }
    kernel = {
        "_TRANSPORT": "kernel",
        "SYSLOG_IDENTIFIER": "kernel",
        "PRIORITY": "3",
        "_HOSTNAME": "aks-node-1",
    }
    entries = [
        (
            {
                **kubelet,
                "PRIORITY": "3",
                "MESSAGE": (
                    'E0305 10:02:55.118274    1869 pod_workers.go:1298] "Error syncing pod, skipping" '
                    'err="failed to \\"StartContainer\\" for \\"mysvc\\" with CrashLoopBackOff: '
                    '\\"back-off 2m40s restarting failed container=mysvc '
                    'pod=mysvc-7d9c8b5f4-x2kqp_ml(0c1e)\\"" pod="ml/mysvc-7d9c8b5f4-x2kqp" podUID="0c1e"'
                ),
            },
            t,
        ),
        (
            {
                **kubelet,
                "PRIORITY": "6",
                "MESSAGE": (
                    'I0305 10:02:56.000000    1869 kubelet.go:2457] "SyncLoop (PLEG): event for pod" '
                    'pod="ml/other-5d4c3b2a1-zzzzz"'
                ),
            },
            t + timedelta(seconds=1),
        ),
        (
            {
                **kernel,
                "MESSAGE": (
                    "python invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=939"
                ),
            },
            t + timedelta(seconds=10),
        ),
        (
            {
                **kernel,
                "MESSAGE": (
                    f"oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset={CID[:64]},mems_allowed=0,"
                    f"oom_memcg=/kubepods/burstable/pod0c1e/{CID},"
                    f"task_memcg=/kubepods/burstable/pod0c1e/{CID},task=python,pid=4242,uid=0"
                ),
            },
            t + timedelta(seconds=10, microseconds=500),
        ),
        (
            {
                **kernel,
                "MESSAGE": (
                    "Memory cgroup out of memory: Killed process 4242 (python) total-vm:3021216kB, "
                    "anon-rss:2094816kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4500kB "
                    "oom_score_adj:939"
                ),
            },
            t + timedelta(seconds=10, microseconds=900),
        ),
        (
            {
                **kernel,
                "MESSAGE": (
                    "Memory cgroup out of memory: Killed process 999 (java) total-vm:1kB, anon-rss:1kB"
                ),
            },
            t + timedelta(seconds=60),
        ),
    ]
    export = tmp_path / "entries.export"
    export.write_bytes(b"".join(export_entry(fields, when) for fields, when in entries))
    journal = tmp_path / "node.journal"
    subprocess.run([REMOTE, f"--output={journal}", str(export)], check=True, capture_output=True, timeout=60)
    return journal


def test_kubelet_lines_about_the_service_only(cli, tmp_path):
    journal = _journal(tmp_path)
    result = cli(
        "diagnose", "--service", "mysvc", "--source", "journald", "--journal", str(journal), "--json"
    )
    report = result.json()
    assert report["input"]["sources"] == ["journald:kubelet.service"]
    assert report["input"]["lines"] == 1


def test_kernel_oom_report_kept_whole_when_it_names_the_container(tmp_path):
    from diagnoser.collect.base import Request
    from diagnoser.collect.journald import JournaldCollector

    journal = _journal(tmp_path)
    found = JournaldCollector().collect(
        Request("mysvc", journal=(str(journal),), targets=("mysvc-7d9c8b5f4-x2kqp", CID[:12]))
    )
    kernel = next(p for p in found.pieces if p.source == "journald:kernel")
    assert len(kernel.lines) == 3  # invoked, constraint, killed; the java kill a minute later is not ours
    assert all("java" not in line for line in kernel.lines)


def test_nothing_about_the_service_is_exit_2(cli, tmp_path):
    journal = _journal(tmp_path)
    result = cli("diagnose", "--service", "nosuch", "--source", "journald", "--journal", str(journal))
    assert result.code == 2
    assert "no kubelet, container-runtime or kernel OOM entry names nosuch" in result.err
