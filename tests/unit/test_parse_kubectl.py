from __future__ import annotations

from datetime import UTC, datetime

from test_parse_helpers import FORMATS, kinds, parse_file, parse_text

from diagnoser.model import Level


def test_events_table_new_layout():
    evs = parse_file("events_new.txt")
    assert len(evs) == 4 and all(e.fields["kind"] == "k8s_event" for e in evs)
    fs = evs[2]
    assert fs.fields["reason"] == "FailedScheduling" and fs.fields["event_type"] == "Warning"
    assert fs.fields["object"] == "pod/gpu-7f8d9-xyz12" and fs.level == Level.WARNING
    assert fs.message.startswith("0/3 nodes are available: 3 Insufficient nvidia.com/gpu.")
    assert fs.component == "k8s" and fs.format == "kubectl-events"


def test_events_table_old_layout():
    evs = parse_file("events_old.txt")
    backoff, fs = evs
    assert backoff.fields["count"] == 25 and backoff.component == "kubelet"
    assert backoff.fields["container"] == "web" and backoff.fields["node"] == "aks-nodepool1-1"
    assert backoff.fields["object"] == "pod/web-7d9c5b-abcde"
    assert fs.component == "default-scheduler" and fs.fields["reason"] == "FailedScheduling"


def test_get_pods_table():
    evs = parse_file("get_pods.txt")
    assert evs[0].fields["reason"] == "OOMKilled" and evs[0].fields["restart_count"] == 4
    assert evs[1].fields["reason"] == "Running" and evs[1].level == Level.INFO


def test_describe_pod_states_limits_events():
    evs = parse_file("describe_pod.txt")
    states = kinds(evs, "container_state")
    waiting, last, sidecar = states
    assert waiting.fields["state"] == "waiting" and waiting.fields["reason"] == "CrashLoopBackOff"
    assert waiting.fields["last"] is False
    assert last.fields["last"] is True and last.fields["state"] == "terminated"
    assert (
        last.fields["reason"] == "OOMKilled"
        and last.fields["exit_code"] == 137
        and last.fields["signal"] == 9
    )
    assert last.fields["restart_count"] == 5 and last.fields["memory_limit"] == "1Gi"
    assert last.fields["cpu_limit"] == "1" and last.fields["memory_request"] == "512Mi"
    assert last.fields["pod"] == "web-7d9c5b-abcde" and last.fields["node"] == "aks-nodepool1-1"
    assert last.fields["finished"] == "2023-09-15T09:56:17+02:00" and last.level == Level.ERROR
    assert "Reason: OOMKilled" in last.message and "Exit Code: 137" in last.message
    assert (last.line, last.end_line) == (19, 23)
    assert sidecar.fields["container"] == "sidecar" and sidecar.fields["restart_count"] == 0
    # Each state carries the container's readiness now (its "Ready:" line).
    assert (
        waiting.fields["ready"] is False and last.fields["ready"] is False and sidecar.fields["ready"] is True
    )
    k8s = kinds(evs, "k8s_event")
    assert [e.fields["reason"] for e in k8s] == ["Scheduled", "Pulled", "BackOff"]
    assert k8s[2].fields["count"] == 25 and k8s[2].component == "kubelet"
    assert k8s[0].component == "default-scheduler" and k8s[0].fields["object"] == "pod/web-7d9c5b-abcde"
    conds = {e.fields["condition"]: e.fields["status_value"] for e in kinds(evs, "pod_condition")}
    assert conds["Ready"] == "False" and conds["PodScheduled"] == "True"


def test_describe_pending_gpu():
    evs = parse_file("describe_pending_gpu.txt")
    (fs,) = kinds(evs, "k8s_event")
    assert fs.fields["reason"] == "FailedScheduling" and fs.fields["count"] == 3
    assert "Insufficient nvidia.com/gpu" in fs.message and fs.component == "default-scheduler"
    (res,) = kinds(evs, "container_resources")
    assert res.fields["gpu_limit"] == "1" and res.fields["container"] == "triton-server"
    assert kinds(evs, "pod_status")[0].fields["phase"] == "Pending"


def test_events_json_and_yaml():
    for name, fmt in (("events.json", "kubectl-json"), ("events.yaml", "kubectl-yaml")):
        evs = parse_file(name)
        assert [e.format for e in evs] == [fmt, fmt]
        backoff, fs = evs
        assert backoff.fields["reason"] == "BackOff" and backoff.fields["count"] == 25
        assert backoff.fields["object"] == "pod/web-7d9c5b-abcde" and backoff.fields["container"] == "web"
        assert backoff.component == "kubelet" and backoff.fields["node"] == "aks-nodepool1-1"
        assert backoff.timestamp == datetime(2024, 3, 5, 10, 7, tzinfo=UTC)
        assert (
            fs.fields["count"] == 4 and fs.component == "default-scheduler" and fs.fields["namespace"] == "ml"
        )
        assert fs.message == "0/3 nodes are available: 3 Insufficient memory."


def test_pod_json_and_yaml():
    for name in ("pod.json", "pod.yaml"):
        evs = parse_file(name)
        waiting, last = kinds(evs, "container_state")
        assert waiting.fields["reason"] == "CrashLoopBackOff" and waiting.fields["restart_count"] == 3
        assert (
            last.fields["reason"] == "OOMKilled" and last.fields["exit_code"] == 137 and last.fields["last"]
        )
        assert last.fields["memory_limit"] == "50Mi" and last.fields["pod"] == "memtest"
        ready = [e for e in kinds(evs, "pod_condition") if e.fields["condition"] == "Ready"][0]
        assert ready.fields["reason"] == "ContainersNotReady" and ready.level == Level.WARNING


def test_one_line_json_event_and_logs_after_documents():
    line = (
        '{"apiVersion":"v1","kind":"Event","type":"Warning","reason":"Evicted","message":"The node was low '
        'on resource: memory.","involvedObject":{"kind":"Pod","name":"p1","namespace":"d"}}'
    )
    text = line + "\n" + (FORMATS / "pod.json").read_text() + "after the doc\n"
    evs = parse_text(text)
    assert evs[0].fields["reason"] == "Evicted" and evs[0].format == "kubectl-json"
    assert evs[-1].message == "after the doc" and evs[-1].format == "plain"


def test_yaml_document_ends_at_log_line():
    text = (FORMATS / "events.yaml").read_text()
    text += "[2024-03-05 10:00:00 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:9)\n"
    evs = parse_text(text)
    assert [e.fields["kind"] for e in evs] == ["k8s_event", "k8s_event", "worker_timeout"]


def test_bad_json_document_falls_back_to_plain_lines():
    evs = parse_text('{\n  "kind": "Pod",\n  oops\n}\n')
    assert [e.format for e in evs] == ["plain"] * 4
