from __future__ import annotations

from datetime import UTC, datetime

from test_parse_helpers import FORMATS, kinds, parse_counted, parse_file, parse_file_counted

from diagnoser.model import Level


def test_docker_json_nested_gunicorn_and_framed_traceback():
    evs, st = parse_file_counted("docker_json.log")
    assert st.formats == {"docker": len(evs)} and st.lines == 11
    boot = evs[1]
    assert (boot.component, boot.stream, boot.pid) == ("gunicorn", "stderr", 7)
    assert boot.fields == {"kind": "worker_boot", "worker_pid": 7}
    assert boot.timestamp == datetime(2024, 3, 5, 10, 0, 0, 200000, tzinfo=UTC)
    (tb,) = kinds(evs, "traceback")
    assert tb.format == "docker" and tb.fields["exception"] == "ModuleNotFoundError"
    assert tb.message.splitlines()[-1] == "ModuleNotFoundError: No module named 'joblib'"
    assert (tb.line, tb.end_line) == (4, 8)
    assert any(e.message == "interleaved stdout line" and e.stream == "stdout" for e in evs)
    long = evs[-1]
    assert long.message.startswith("AAAA") and len(long.message) == 4000  # joined, then capped
    assert (long.line, long.end_line) == (10, 11)


def test_cri_partial_join_and_traceback():
    evs = parse_file("cri.log")
    assert all(e.format == "cri" for e in evs)
    joined = [e for e in evs if e.stream == "stdout"][0]
    assert joined.message == "first half of a long line, second half"
    (tb,) = kinds(evs, "traceback")
    assert tb.fields["exception"] == "ValueError" and tb.fields["functions"] == ["run"]
    assert tb.fields["files"] == ["/app/score.py"]
    sig = kinds(evs, "worker_exit")[0]
    assert sig.fields["signal"] == 9 and sig.component == "gunicorn"


def test_kubectl_prefix_interleaved_pods_never_merge():
    evs = parse_file("kubectl_prefix.log")
    assert all(e.format == "kubectl-prefix" for e in evs)
    (tb,) = kinds(evs, "traceback")
    assert tb.fields["pod"] == "web-7d9c5b-abcde" and tb.fields["container"] == "web"
    assert tb.fields["exception"] == "FileNotFoundError" and tb.end_line == 7
    boot = [e for e in kinds(evs, "worker_boot") if e.fields["pod"] == "web-7d9c5b-fghij"]
    assert boot[0].fields["worker_pid"] == 10
    assert evs[-1].message == "plain message with kubectl --timestamps" and evs[-1].timestamp.year == 2024


def test_journald_json_string_and_byte_array():
    evs = parse_file("journald.json")
    kubelet, oom, constraint, gun = evs
    assert kubelet.component == "kubelet" and kubelet.level == Level.ERROR and kubelet.pid == 1869
    assert kubelet.fields["unit"] == "kubelet.service" and kubelet.fields["pod"] == "web-7d9"
    assert kubelet.fields["namespace"] == "default" and "CrashLoopBackOff" in kubelet.message
    assert kubelet.timestamp == datetime(2024, 11, 25, 2, 28, 13, 123456, tzinfo=UTC)
    assert oom.fields["kind"] == "oom_kill" and oom.pid == 63214 and oom.fields["process"] == "python"
    assert oom.component == "kernel" and oom.format == "journald"
    assert constraint.fields["constraint"] == "CONSTRAINT_MEMCG"
    assert gun.component == "gunicorn" and gun.fields["worker_pid"] == 78  # MESSAGE was a byte array


def test_syslog_short_and_iso():
    evs = parse_file("syslog_short.log")
    assert all(e.format == "syslog" for e in evs)
    assert (
        evs[0].component == "kubelet" and evs[0].level == Level.ERROR and evs[0].fields["node"] == "centos02"
    )
    assert evs[2].fields["kind"] == "oom_kill" and evs[2].pid == 15784 and evs[2].fields["memcg"] is False
    assert evs[2].message.startswith("Out of memory: Killed process")
    assert evs[3].fields["kind"] == "oom_invoked" and evs[3].fields["process"] == "CPU 2/KVM"
    assert evs[4].timestamp.utcoffset().total_seconds() == 3600 and evs[4].pid == 22614


def test_timestamped_traceback_every_line_prefixed():
    evs = parse_file("appservice_timestamped.log")
    (tb,) = kinds(evs, "traceback")
    assert tb.format == "timestamped" and tb.fields["exception"] == "TypeError"
    assert tb.fields["functions"] == ["handle", "handle_request"]
    assert "^^^^" in tb.message and "2024-02-10T" not in tb.message
    assert evs[-1].component == "gunicorn" and evs[-1].fields["kind"] == "master_start"


def test_mixed_describe_then_logs():
    text = (FORMATS / "describe_pod.txt").read_text()
    text += "\n[2024-03-05 10:00:00 +0000] [7] [INFO] Booting worker with pid: 8\nhello\n"
    evs, st = parse_counted(text)
    assert st.formats["kubectl-describe"] >= 5 and st.formats["gunicorn"] == 1 and st.formats["plain"] == 1
    assert evs[-2].fields["kind"] == "worker_boot"


def test_sources_are_independent():
    from diagnoser.model import RawLine
    from diagnoser.parse import parse_lines

    lines = [
        RawLine("a", 1, "Traceback (most recent call last):"),
        RawLine("b", 1, "unrelated"),
        RawLine("a", 2, '  File "x.py", line 1, in f'),
        RawLine("a", 3, "KeyError: 'k'"),
    ]
    evs = list(parse_lines(lines))
    assert [e.source for e in evs] == ["b", "a"]
    assert evs[1].fields["exception"] == "KeyError"
