from __future__ import annotations

from datetime import UTC, datetime

from test_parse_helpers import kinds, parse_file, parse_text

from diagnoser.model import Level


def test_dmesg_oom_lines():
    evs = parse_file("dmesg.log")
    assert all(e.component == "kernel" and e.format == "dmesg" for e in evs)
    kills = kinds(evs, "oom_kill")
    assert [(e.pid, e.fields["process"]) for e in kills] == [(63214, "uwsgi"), (28438, "java")]
    assert kills[0].fields["memcg"] is True and kills[0].fields["anon_rss_kb"] == 164992
    assert kills[1].timestamp == datetime(2017, 12, 7, 0, 5, 15, tzinfo=UTC)
    assert kinds(evs, "oom_invoked")[0].fields["gfp_mask"] == "0xcc0(GFP_KERNEL)"
    assert kinds(evs, "oom_select")[0].pid == 24572


def test_unframed_kernel_line():
    (ev,) = parse_text(
        "Memory cgroup out of memory: Killed process 1234 (python) total-vm:100kB, anon-rss:50kB\n"
    )
    assert ev.format == "kernel" and ev.fields["kind"] == "oom_kill" and ev.pid == 1234


def test_klog_plain_and_structured():
    evs = parse_file("klog.log")
    assert all(e.format == "klog" for e in evs)
    err = evs[1]
    assert err.level == Level.ERROR and err.component == "kubelet" and err.pid == 31070
    assert (
        err.fields["klog_source"] == "pod_workers.go:765"
        and err.fields["klog_msg"] == "Error syncing pod, skipping"
    )
    assert err.fields["pod"] == "vcluster-1-0" and err.fields["namespace"] == "host-namespace-1"
    assert "CrashLoopBackOff" in err.fields["error"]
    assert evs[2].message == "SyncLoop (housekeeping)"
    assert evs[3].component == "scheduler" and "Insufficient nvidia.com/gpu" in evs[3].fields["error"]


def test_ingress_and_nginx_access():
    evs = parse_file("access_nginx_ingress.log")
    bad, slow, ok = evs
    assert bad.component == "ingress" and bad.fields["status"] == 502 and bad.fields["upstream_status"] == 502
    assert bad.fields["duration_ms"] == 3.0 and bad.fields["upstream"] == "default-web-80"
    assert (
        slow.fields["status"] == 504 and slow.fields["duration_ms"] == 60001.0 and slow.level == Level.ERROR
    )
    assert ok.component == "nginx" and ok.fields["path"] == "/healthz" and ok.level == Level.INFO
    assert ok.timestamp == datetime(2024, 3, 5, 10, 0, 2, tzinfo=UTC)


def test_uvicorn_access_lines_with_and_without_the_level_prefix():
    evs = parse_text(
        'INFO:     127.0.0.1:45138 - "POST /invocations HTTP/1.1" 504 Gateway Timeout\n'
        '10.0.0.7:4120 - "GET /health HTTP/1.1" 200\n'
        "INFO:     Started server process [7]\n"
        'INFO:     [::1]:5000 - "GET /favicon.ico HTTP/1.1" 404 Not Found\n'
    )
    timeout, ok, started, favicon = evs
    assert timeout.fields == {
        "kind": "access",
        "host": "127.0.0.1",
        "method": "POST",
        "path": "/invocations",
        "status": 504,
    }
    assert timeout.component == "uvicorn" and timeout.level == Level.ERROR and timeout.format == "access"
    assert ok.fields["status"] == 200 and ok.level == Level.INFO
    assert "kind" not in started.fields
    assert favicon.fields["status"] == 404 and favicon.fields["host"] == "[::1]:5000"


def test_azureml_frontend_lines():
    evs = parse_file("aci_frontend.log")
    acc = kinds(evs, "access")
    assert [e.fields["status"] for e in acc] == [200, 504]
    assert acc[1].fields["duration_ms"] == 60002.0 and acc[1].component == "azureml-fe"
    assert round(acc[0].fields["duration_ms"], 3) == 3864.93
    assert kinds(evs, "request")[0].fields["method"] == "GET"


def test_clf_time_memo_never_answers_for_another_stamp():
    from diagnoser.parse.base import clf_time

    stamps = ["01/Nov/2026:00:07:43 +0000", "01/Nov/2026:00:07:43 +0100", "01/Nov/2026:00:07:44 +0000", "bad"]
    expected = [clf_time(s) for s in stamps]
    for s, want in zip(stamps * 3, expected * 3, strict=True):  # each one again, after the others
        assert clf_time(s) == want
        assert want is None or clf_time(s).utcoffset() == want.utcoffset()
    assert expected[0] != expected[1] and expected[3] is None
