"""collect/scan.py: which pods fail, from their status alone, and the workloads that own them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from diagnoser.collect.scan import failing_workloads, owner_of, pod_reasons

NOW = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)


def _iso(delta: timedelta) -> str:
    return (NOW - delta).isoformat().replace("+00:00", "Z")


def pod(
    name, phase="Running", containers=(), owner=("ReplicaSet", "web-5d9c7b8f6"), hash_="5d9c7b8f6", **status
):
    meta = {"name": name, "namespace": "prod", "labels": {"pod-template-hash": hash_} if hash_ else {}}
    if owner:
        meta["ownerReferences"] = [{"kind": owner[0], "name": owner[1]}]
    return {"metadata": meta, "status": {"phase": phase, "containerStatuses": list(containers), **status}}


def container(ready=True, restarts=0, waiting=None, last=None, state=None):
    c = {"name": "app", "ready": ready, "restartCount": restarts, "state": state or {"running": {}}}
    if waiting:
        c["state"] = {"waiting": {"reason": waiting}}
    if last:
        c["lastState"] = {"terminated": last}
    return c


HEALTHY = pod("web-5d9c7b8f6-aaaaa", containers=[container()])


@pytest.mark.parametrize(
    ("p", "reasons"),
    [
        (HEALTHY, []),
        (
            pod(
                "web-5d9c7b8f6-b",
                containers=[
                    container(
                        False,
                        4,
                        "CrashLoopBackOff",
                        {"exitCode": 1, "reason": "Error", "finishedAt": _iso(timedelta(minutes=2))},
                    )
                ],
            ),
            ["CrashLoopBackOff", "exit code 1", "4 restarts"],
        ),
        (
            pod(
                "web-5d9c7b8f6-c",
                containers=[
                    container(
                        True,
                        2,
                        last={
                            "exitCode": 137,
                            "reason": "OOMKilled",
                            "finishedAt": _iso(timedelta(minutes=9)),
                        },
                    )
                ],
            ),
            ["OOMKilled", "2 restarts"],
        ),
        (  # restarted a day ago, ready since: history, not a failure
            pod(
                "web-5d9c7b8f6-d",
                containers=[
                    container(
                        True,
                        1,
                        last={"exitCode": 137, "reason": "OOMKilled", "finishedAt": _iso(timedelta(days=1))},
                    )
                ],
            ),
            [],
        ),
        (pod("web-5d9c7b8f6-e", containers=[container(False)]), ["not ready (app)"]),
        (
            pod(
                "web-5d9c7b8f6-f",
                "Pending",
                conditions=[{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}],
            ),
            ["Pending (Unschedulable)"],
        ),
        (pod("web-5d9c7b8f6-g", "Pending", startTime=_iso(timedelta(seconds=20))), []),  # starting up
        (pod("web-5d9c7b8f6-h", "Pending", startTime=_iso(timedelta(minutes=30))), ["Pending"]),
        (
            pod(
                "web-5d9c7b8f6-i",
                "Pending",
                containers=[container(False, waiting="CreateContainerConfigError")],
            ),
            ["Pending", "CreateContainerConfigError"],
        ),
        (
            pod("train-x7k2p", "Failed", owner=("Job", "train"), hash_=None, reason="DeadlineExceeded"),
            ["Failed (DeadlineExceeded)"],
        ),
        (pod("train-ok", "Succeeded", owner=("Job", "train"), hash_=None), []),
    ],
)
def test_pod_reasons(p, reasons):
    assert pod_reasons(p, NOW) == reasons


def test_owners():
    assert owner_of(HEALTHY) == ("Deployment", "web", "web")
    assert owner_of(pod("db-0", owner=("StatefulSet", "db"), hash_=None)) == ("StatefulSet", "db", "db")
    assert owner_of(pod("train-x7k2p", owner=("Job", "train"), hash_=None)) == ("Job", "train", "train-x7k2p")
    assert owner_of(pod("lone", owner=None, hash_=None)) == ("Pod", "lone", "lone")
    assert owner_of(pod("rs-abcde", owner=("ReplicaSet", "rs"), hash_=None)) == (
        "ReplicaSet",
        "rs",
        "rs-abcde",
    )


def test_failing_pods_group_by_workload_and_pinned_autoscalers_join():
    crash = container(False, 3, "CrashLoopBackOff")
    pods = [
        HEALTHY,
        pod("web-5d9c7b8f6-b", containers=[crash]),
        pod("web-5d9c7b8f6-c", containers=[container(False)]),
        pod(
            "api-7f8e9d0c1-a",
            containers=[container()],
            hash_="7f8e9d0c1",
            owner=("ReplicaSet", "api-7f8e9d0c1"),
        ),
    ]
    hpas = [
        {
            "metadata": {"name": "api", "namespace": "prod"},
            "spec": {"maxReplicas": 5, "scaleTargetRef": {"kind": "Deployment", "name": "api"}},
            "status": {"currentReplicas": 5},
        },
        {
            "metadata": {"name": "web", "namespace": "prod"},
            "spec": {"maxReplicas": 5, "scaleTargetRef": {"kind": "Deployment", "name": "web"}},
            "status": {"currentReplicas": 2},
        },
    ]
    found = failing_workloads(pods, hpas, NOW)
    assert [(w.kind, w.name, w.reasons, w.pods) for w in found] == [
        ("Deployment", "api", ["autoscaler api at its maximum of 5 replicas"], []),
        (
            "Deployment",
            "web",
            ["CrashLoopBackOff", "3 restarts", "not ready (app)"],
            ["web-5d9c7b8f6-b", "web-5d9c7b8f6-c"],
        ),
    ]
