"""Tracebacks pasted without their header, and k6 / envoy load-test output."""

from __future__ import annotations

from datetime import UTC, datetime

from test_parse_helpers import kinds, parse_file, parse_text

from diagnoser.model import Level

# belgio99/smartfactory#105 as pasted (compose prefix removed): no `Traceback (most recent call last):`
FRAGMENT = """\
POST /data-processing/predict
  File "/usr/local/lib/python3.9/site-packages/sklearn/utils/_tags.py", line 275, in get_tags
    sklearn_tags_provider[klass] = klass.__sklearn_tags__(estimator)  # type: ignore[attr-defined]
  File "/usr/local/lib/python3.9/site-packages/sklearn/base.py", line 613, in __sklearn_tags__
    tags = super().__sklearn_tags__()
AttributeError: 'super' object has no attribute '__sklearn_tags__'
next line
"""


def test_headerless_fragment_becomes_one_traceback():
    evs = parse_text(FRAGMENT)
    plain = [e.message for e in evs if not e.fields.get("kind")]
    assert plain == ["POST /data-processing/predict", "next line"]
    (tb,) = kinds(evs, "traceback")
    assert tb.format == "traceback" and tb.level == Level.ERROR
    assert (tb.line, tb.end_line) == (2, 6)
    f = tb.fields
    assert f["exception"] == "AttributeError" and f["exceptions"] == ["AttributeError"]
    assert f["exception_message"] == "'super' object has no attribute '__sklearn_tags__'"
    assert f["functions"] == ["get_tags", "__sklearn_tags__"]
    assert f["files"][0].endswith("sklearn/utils/_tags.py")


def test_fragment_bare_exception():
    evs = parse_text('  File "/app/x.py", line 3, in run\n    raise KeyboardInterrupt\nKeyboardInterrupt\n')
    (tb,) = evs
    assert tb.fields["exception"] == "KeyboardInterrupt" and tb.fields["exception_message"] == ""


def test_fragment_inherits_the_time_of_the_line_before():
    evs = parse_text('2024-03-05T10:00:00.5Z boom\n  File "/app/x.py", line 3, in run\nValueError: bad\n')
    tb = kinds(evs, "traceback")[0]
    assert tb.timestamp == datetime(2024, 3, 5, 10, 0, 0, 500000, tzinfo=UTC)


def test_frames_without_an_exception_line_stay_plain_lines():
    text = (
        '  File "/app/x.py", line 3, in run\n'
        "    do()\n"
        '  File "/app/y.py", line 9, in do\n'
        "Then the user wrote something\n"
        "\n"
        '  File "/app/z.py", line 1, in <module>\n'
    )
    evs = parse_text(text)
    assert not kinds(evs, "traceback")
    assert [e.line for e in evs] == [1, 2, 3, 4, 6]
    assert all(e.format == "plain" and e.level is None for e in evs)
    assert evs[0].message == '  File "/app/x.py", line 3, in run'


def test_fragment_lookalikes():
    for text in (
        '  File "/app/x.py", line 3 in run\nValueError: x\n',  # faulthandler frame: no comma before "in"
        'File "/app/x.py", line 3, in run\nValueError: x\n',  # not indented
        '  File "/app/x.py", line 3, in run\nDone\n',  # no exception line
        "  File /app/x.py line 3\nValueError: x\n",
    ):
        assert not kinds(parse_text(text), "traceback"), text


def test_torchserve_cut_header_fragment():
    # frames quoted without their header, another thread's line between them, then the exception line
    p = "2024-03-02 09:12:41,310 [INFO ] W-9001-resnet_2.0-stdout "
    p += "org.pytorch.serve.wlm.WorkerLifeCycle - "
    evs = parse_text(
        f'{p}  File "/opt/ts/model_service_worker.py", line 120, in handle_connection\n'
        f"{p}    service, result, code = self.load_model(msg)\n"
        "2024-03-02 09:12:41,311 [INFO ] epollEventLoopGroup-5-2 org.pytorch.serve.wlm.WorkerThread - y\n"
        f'{p}  File "/opt/models/resnet_handler.py", line 17, in initialize\n'
        f"{p}TypeError: 'NoneType' object has no attribute 'eval'\n"
    )
    (tb,) = kinds(evs, "traceback")
    assert tb.format == "torchserve" and tb.level == Level.ERROR
    assert tb.fields["functions"] == ["handle_connection", "initialize"]
    assert tb.fields["worker"] == "W-9001-resnet_2.0" and tb.fields["exception"] == "TypeError"


def test_k6_csv_one_access_event_per_request():
    evs = parse_file("k6.csv.log")
    acc = kinds(evs, "access")
    assert [e.fields["status"] for e in acc] == [200, 503]
    assert acc[1].level == Level.ERROR and acc[1].format == "k6-csv" and acc[1].component == "k6"
    assert acc[1].timestamp == datetime.fromtimestamp(1668874179, UTC)
    assert acc[1].fields["method"] == "POST" and acc[1].fields["url"].endswith("/infer")
    timing = [e for e in evs if e.fields.get("metric") == "http_req_waiting"]
    assert timing[0].fields["request_status"] == 503 and "status" not in timing[0].fields
    assert evs[0].format == "plain" and evs[-1].format == "plain"  # header and non-HTTP metric


def test_envoy_counters():
    evs = parse_file("envoy_stats.txt")
    acc = kinds(evs, "access")
    assert [(e.fields["status"], e.fields["count"]) for e in acc] == [(200, 992), (503, 8)]
    assert acc[1].fields["cluster"].startswith("inbound|80||activator-service")
    assert acc[1].format == "envoy-stats" and acc[1].level == Level.ERROR
    assert sum(1 for e in evs if e.format == "plain") == 3  # zero, rollup and completed counters


def test_loadtest_lookalikes():
    for line in (
        "http_requests_total 42",
        "http_req_duration: avg=1.2ms min=0.5ms",
        "http_req_failed,abc,1,,,,,",
        "cluster.local is the domain",
        "cluster.x.upstream_rq_503 8",
    ):
        (ev,) = parse_text(line)
        assert ev.format == "plain" and "status" not in ev.fields, line


def test_a_fragment_relayed_with_blank_lines_between_its_frames_is_one_traceback():
    evs = parse_text(
        '  File "/srv/server.py", line 137, in serve_inner\n'
        "    model = get_model(\n\n"
        '  File "/srv/models/__init__.py", line 193, in get_model\n'
        "    raise NotImplementedError('needs flash attention')\n\n"
        "NotImplementedError: needs flash attention\n"
    )
    (tb,) = evs
    assert tb.fields["exception"] == "NotImplementedError"
    assert tb.fields["functions"] == ["serve_inner", "get_model"]


def test_a_fragment_without_an_exception_gives_its_lines_back_across_a_blank():
    evs = parse_text('  File "/srv/server.py", line 1, in f\n    g()\n\nstarting again\n')
    assert [e.message for e in evs][-1] == "starting again"
    assert not any(e.fields.get("kind") == "traceback" for e in evs)
