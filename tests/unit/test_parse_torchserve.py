"""TorchServe / MMS log4j lines and `docker compose` prefixes (samples: tests/data/formats/README.md)."""

from __future__ import annotations

from datetime import UTC, datetime

from test_parse_helpers import kinds, parse_file, parse_file_counted, parse_text

from diagnoser.model import Level


def test_torchserve_framing_fields_and_levels():
    evs = parse_file("torchserve.log")
    first = evs[0]
    assert (first.format, first.component, first.level) == ("torchserve", "torchserve", Level.INFO)
    assert first.fields == {"logger": "org.pytorch.serve.servingsdk.impl.PluginsManager", "thread": "main"}
    assert first.message == "Initializing plugins manager..."
    assert first.timestamp == datetime(2021, 8, 6, 14, 19, 52, 717000, tzinfo=UTC)
    err = next(e for e in evs if "unrecognized arguments" in e.message)
    assert err.level == Level.WARNING and err.stream == "stderr"  # stderr is logged at [WARN ]
    assert err.fields["worker"] == "W-9000-mymodel1_1.0" and err.fields["logger"] == "MODEL_LOG"
    assert err.message.startswith("model_service_worker.py: error:")
    dbg = next(e for e in evs if e.message.startswith("Backend worker monitoring"))
    assert dbg.level == Level.DEBUG and dbg.fields["worker"] == "W-9000-mymodel1_1.0"
    mms = next(e for e in evs if e.message == "Python runtime: 3.6.6")
    assert mms.fields["logger"] == "com.amazonaws.ml.mms.wlm.WorkerLifeCycle"
    assert mms.fields["worker"] == "W-9031-model" and mms.stream == "stdout"
    iso_t = next(e for e in evs if "Invalid return type" in e.message)
    assert iso_t.timestamp == datetime(2022, 12, 15, 2, 34, 24, 407000, tzinfo=UTC)


def test_torchserve_tracebacks_assemble_per_worker_thread():
    evs, st = parse_file_counted("torchserve.log")
    tbs = kinds(evs, "traceback")
    assert len(tbs) == 3
    one = next(t for t in tbs if t.fields["worker"] == "W-9000-denoise_transformer_1.0")
    assert one.format == "torchserve" and one.level == Level.ERROR
    assert one.fields["exception"] == "ModuleNotFoundError"
    assert one.fields["exception_message"] == "No module named 'librosa'"
    assert one.fields["functions"] == ["load", "_load_handler_file", "import_module"]
    assert (one.line, one.end_line) == (6, 15)  # frontend lines in between stay separate events
    assert any(e.message == "9000 Worker disconnected. WORKER_STARTED" for e in evs)
    pair = sorted(t.fields["worker"] for t in tbs if "policy" in t.fields["worker"])
    assert pair == ["W-9000-policy_1.0", "W-9001-policy_1.0"]  # interleaved workers stay apart
    for t in tbs:
        assert t.fields["files"] and t.fields["exception"] == "ModuleNotFoundError"
    assert st.formats["plain"] == 2  # the two banner lines after `ModelServer - `


def test_torchserve_stderr_uncaught_traceback_is_an_error():
    p = "2023-01-01T00:00:00,000 [WARN ] W-9000-m_1.0-stderr MODEL_LOG - "
    evs = parse_text(
        f"{p}Traceback (most recent call last):\n"
        f'{p}  File "/home/venv/ts/model_service_worker.py", line 253, in <module>\n'
        f"{p}    worker.run_server()\n"
        f"{p}RuntimeError: CUDA error: out of memory\n"
    )
    (tb,) = evs
    assert tb.level == Level.ERROR and tb.fields["exception"] == "RuntimeError" and tb.stream == "stderr"


def test_torchserve_inside_cri_keeps_outer_format():
    evs = parse_text(
        "2024-03-05T10:00:00.1Z stdout F 2024-03-05T10:00:00,100 [INFO ] W-9000-m_1.0-stdout MODEL_LOG - "
        "Traceback (most recent call last):\n"
        "2024-03-05T10:00:00.2Z stdout F 2024-03-05T10:00:00,200 [INFO ] W-9000-m_1.0-stdout MODEL_LOG - "
        '  File "/h.py", line 3, in initialize\n'
        "2024-03-05T10:00:00.3Z stdout F "
        "2024-03-05T10:00:00,300 [INFO ] main org.pytorch.serve.ModelServer - x\n"
        "2024-03-05T10:00:00.4Z stdout F 2024-03-05T10:00:00,400 [INFO ] W-9000-m_1.0-stdout MODEL_LOG - "
        "KeyError: 'w'\n"
    )
    (tb,) = kinds(evs, "traceback")
    assert tb.format == "cri" and tb.component == "torchserve" and tb.fields["exception"] == "KeyError"
    assert tb.fields["functions"] == ["initialize"]


def test_torchserve_lookalikes_are_not_taken():
    for line in (
        "2024-03-05 10:00:00,123 [INFO] main org.x.Y - not log4j's padded level",
        "2024-03-05 10:00:00,123 [INFO ] main - no logger",
        "2024-11-12 13:56:46,942 I [10] azmlinfsrv - msg",
        "[2024-03-05 10:00:00 +0000] [7] [INFO] Booting worker with pid: 7",
    ):
        (ev,) = parse_text(line)
        assert ev.format != "torchserve" and ev.component != "torchserve", line


def test_compose_prefixes_sub_sources_and_nested_formats():
    evs, st = parse_file_counted("compose.log")
    assert set(st.formats) == {"compose"}
    (tb,) = kinds(evs, "traceback")
    assert tb.fields["service"] == "data-processing-1" and tb.fields["exception"] == "AttributeError"
    assert tb.fields["functions"] == ["get_tags", "__sklearn_tags__"]
    assert (tb.line, tb.end_line) == (1, 7)  # the api-1 line inside it is another sub-source
    api = next(e for e in evs if e.fields.get("service") == "api-1")
    assert api.message.startswith("INFO:     172.18.0.1")
    ts = [e for e in evs if e.component == "torchserve"]
    assert len(ts) == 3 and {e.fields["service"] for e in ts} == {"algo-1-s7ww9_1", "algo-1-pmyh1_1"}
    assert ts[0].message == "Torch worker started." and ts[0].fields["worker"] == "W-9068-model_1.0"
    boot = kinds(evs, "worker_boot")[0]
    assert boot.component == "gunicorn" and boot.fields["service"] == "web_1" and boot.pid == 7
    (timeout,) = kinds(evs, "worker_timeout")  # real ANSI colour around the v2 prefix
    assert timeout.fields["service"] == "web-1" and timeout.level == Level.CRITICAL


def test_compose_lookalikes_stay_plain():
    evs = parse_file("compose_lookalikes.txt")
    assert not any(e.format == "compose" or "service" in e.fields for e in evs)
    for line in ("a | b", "foo_bar | baz", "x  |", "| web-1 | Running |", "error     | disk full"):
        (ev,) = parse_text(line)
        assert ev.format == "plain", line


def test_compose_container_names_without_an_index_when_padded():
    # container_name: grafana -> no replica index; compose pads it to the longest name's width.
    (ev,) = parse_text(
        "grafana     | mkdir: cannot create directory '/var/lib/grafana/plugins': Permission denied"
    )
    assert ev.format == "compose" and ev.fields["service"] == "grafana"
    assert ev.message == "mkdir: cannot create directory '/var/lib/grafana/plugins': Permission denied"


def test_compose_prefix_copied_from_docker_desktop_with_its_time():
    # Docker Desktop's log view with timestamps on: the local time, then the compose prefix
    (ev,) = parse_text("2023-02-06 10:22:56 app-web-1  | Error: No such option: -c")
    assert ev.format == "compose" and ev.fields["service"] == "app-web-1"
    assert ev.message == "Error: No such option: -c"
    assert ev.timestamp == datetime(2023, 2, 6, 10, 22, 56, tzinfo=UTC)
    # a time before a pipe that is no compose prefix stays one plain line
    (plain,) = parse_text("2023-02-06 10:22:56 a | b")
    assert plain.format != "compose"
