"""Artefacts of logs pasted into issue threads: escaped payloads, header-less event rows, markdown quotes,
shell prompts, CPython fatal errors, multi-line exception messages."""

from __future__ import annotations

from test_parse_helpers import kinds, parse_file, parse_text

from diagnoser.model import Level
from diagnoser.parse import escapes

# -- 1. escaped payloads ------------------------------------------------------------------------------


def test_escaped_cli_error_is_decoded_two_levels_deep():
    evs = parse_file("escaped_cli_error.log")
    (ev,) = [e for e in evs if e.fields.get("decoded")]
    assert ev.line == 3 and ev.text.startswith("  stderr: 'ERROR: {\\'Azure-cli-ml")  # raw kept
    assert "scoring file's init() function.\nPlease check the logs" in ev.message
    assert '"code": "AciDeploymentFailed"' in ev.message and "\\" not in ev.message.split("ERROR")[1][:200]
    assert "\n\tMessage: Service deployment polling" in ev.message


def test_escaped_json_string_value_and_unicode():
    (ev,) = parse_text('  "message": "Aci Deployment failed: crashed.\\n\\t1. Please check \\u0027x\\u0027",')
    assert ev.fields["decoded"] is True
    assert ev.message == '  "message": "Aci Deployment failed: crashed.\n\t1. Please check \'x\'",'


def test_escape_look_alikes_are_left_alone():
    for line in (
        r"2024-01-01 00:00:00,123 - app - ERROR - cannot open C:\Users\name\new\tmp\model.pkl",
        r"regex \d+\.\w+ did not match",
        "a plain line without escapes",
    ):
        (ev,) = parse_text(line)
        assert "decoded" not in ev.fields, line
    assert escapes.decode(r"C:\data\new\temp") is None


def test_escaped_traceback_record_is_decoded():
    text = (
        "Traceback (most recent call last):\n"
        '  File "deploy.py", line 3, in <module>\n'
        "WebserviceException: WebserviceException:\\n\\tMessage: Deployment failed\\n\\tInnerException None\n"
    )
    (ev,) = parse_text(text)
    assert ev.fields["kind"] == "traceback" and ev.fields["decoded"] is True
    assert ev.message.endswith("WebserviceException:\n\tMessage: Deployment failed\n\tInnerException None")


def test_decode_is_bounded_and_never_raises():
    evil = ("\\\\\\n" * 20000) + "\\u12" + "\\x" + "\\"
    evs = parse_text(evil)
    assert len(evs) == 1
    assert escapes.decode("\\") is None


# -- 2. header-less kubernetes event rows --------------------------------------------------------------


def test_headerless_event_rows_every_layout():
    evs = parse_file("events_headerless.txt")
    assert [e.fields["kind"] for e in evs] == ["k8s_event"] * 5
    first, unknown, kubelet, get, old = evs
    assert first.fields["reason"] == "FailedScheduling" and first.fields["count"] == 6
    assert first.component == "default-scheduler" and first.level == Level.WARNING
    assert first.format == "kubectl-describe"
    assert first.message.startswith("No nodes are available that match all of the predicates")
    assert unknown.fields["age"] == "<unknown>" and "Insufficient nvidia.com/gpu" in unknown.message
    assert (kubelet.component, kubelet.fields["node"], kubelet.fields["count"]) == (
        "kubelet",
        "aks-nodepool1-12345678-vmss000000",
        12,
    )
    assert get.format == "kubectl-events" and get.fields["object"] == "pod/web-7d9c5b-abcde"
    assert get.fields["pod"] == "web-7d9c5b-abcde" and get.component == "k8s"
    assert old.fields["container"] == "web" and old.component == "kubelet" and old.fields["count"] == 1


def test_headerless_event_row_namespaced_get_events_and_framed():
    (ev,) = parse_text(
        "default     44s   Normal    Scheduled   pod/web-1   Successfully assigned default/web-1 to n1"
    )
    assert ev.fields["namespace"] == "default" and ev.fields["reason"] == "Scheduled"
    assert ev.level == Level.INFO
    (ev,) = parse_text("[pod/web-1/web] Warning  BackOff  3m (x5 over 4m)  kubelet  Back-off restarting")
    assert ev.fields["kind"] == "k8s_event" and ev.format == "kubectl-prefix"


def test_event_row_look_alikes_are_not_events():
    for line in (
        "Normal operation resumed after 5m of waiting",
        "Warning: Deprecated  5m  kubelet  x",
        "Warning  the model  5m  kubelet  took long",
        "Warning  DeprecationWarning  soon  kubelet  x",
        "WARNING  FailedScheduling  5m  default-scheduler  x",
        "2024-01-01 00:00:00,123 WARNING  Normal  5m  retry later",
        "  Warning  BackOff  kubelet  Back-off restarting failed container",
        "5m  Warning  BackOff  web-7d9  no kind/ prefix on the object",
        "Normal   Scheduled 3m default-scheduler single spaces are not kubectl columns",
    ):
        evs = parse_text(line)
        assert all(e.fields.get("kind") != "k8s_event" for e in evs), line


# -- 3. markdown quotes and shell prompts ---------------------------------------------------------------


def test_markdown_quoted_block_is_unquoted():
    text = (
        "> Traceback (most recent call last):\n"
        '>   File "/var/azureml-app/score.py", line 5, in init\n'
        ">     model = joblib.load(path)\n"
        "> FileNotFoundError: [Errno 2] No such file or directory: 'model.pkl'\n"
        ">\n"
        ">   Warning  BackOff  2m (x25 over 7m)  kubelet  Back-off restarting failed container\n"
    )
    evs = parse_text(text)
    (tb,) = kinds(evs, "traceback")
    assert tb.fields["exception"] == "FileNotFoundError" and tb.fields["functions"] == ["init"]
    (ev,) = kinds(evs, "k8s_event")
    assert ev.line == 6 and ev.fields["reason"] == "BackOff"


def test_quote_not_stripped_in_mixed_paragraph_or_mid_line():
    text = "* Connected to localhost\n> GET /score HTTP/1.1\n< HTTP/1.1 502 Bad Gateway\n"
    evs = parse_text(text)
    assert [e.message for e in evs] == [
        "* Connected to localhost",
        "> GET /score HTTP/1.1",
        "< HTTP/1.1 502 Bad Gateway",
    ]
    (ev,) = parse_text("ERROR:root:value > 5 > 3 is wrong")
    assert ev.message == "value > 5 > 3 is wrong"
    # a quoted paragraph after a blank line is unquoted again
    evs = parse_text("plain\n\n> Booting worker with pid: 8\n")
    assert evs[-1].fields.get("kind") == "worker_boot"


def test_shell_prompts():
    (ev,) = parse_text("$ kubectl logs web-7d9 --previous")
    assert ev.fields == {
        "kind": "shell_command",
        "command": "kubectl logs web-7d9 --previous",
        "program": "kubectl",
    }
    (ev,) = parse_text("user@host:~/app$ docker logs web")
    assert ev.fields["program"] == "docker"
    for line in (
        "$100 charged to the account",
        "# a comment, not a prompt",
        "PS: see above",
        "mail me@x.org $ 5",
    ):
        (ev,) = parse_text(line)
        assert ev.fields.get("kind") != "shell_command", line


# -- 4. CPython fatal errors ------------------------------------------------------------------------


def test_faulthandler_dump_after_worker_timeout_is_one_event():
    evs = parse_file("faulthandler_worker_timeout.log")
    (timeout,) = kinds(evs, "worker_timeout")
    (fatal,) = kinds(evs, "fatal_error")
    assert fatal.line == 2 and fatal.end_line == 29
    assert fatal.fields["reason"] == "Aborted" and fatal.fields["signal"] == 6
    assert fatal.fields["worker_pid"] == timeout.fields["worker_pid"] == 25520
    assert fatal.fields["functions"][0] == "run" and fatal.fields["files"][0].endswith("/score.py")
    assert fatal.level == Level.CRITICAL and fatal.timestamp == timeout.timestamp
    assert fatal.message.splitlines()[-1].startswith("Extension modules:")
    exits = kinds(evs, "worker_exit")
    assert exits and exits[0].line == 30  # the next record is not swallowed


def test_fatal_error_with_exception_and_threads():
    text = (
        "Fatal Python error: init_import_site: Failed to import the site module\n"
        "Python runtime state: initialized\n"
        "Traceback (most recent call last):\n"
        '  File "<frozen site>", line 73, in <module>\n'
        "ModuleNotFoundError: No module named 'encodings'\n"
        "\n"
        "Thread 0x00007f1 (most recent call first):\n"
        '  File "/app/a.py", line 3 in loop\n'
        "\n"
        "Current thread 0x00007f2 (most recent call first):\n"
        "  <no Python frame>\n"
        "Segmentation fault (core dumped)\n"
    )
    evs = parse_text(text)
    fatal = evs[0]
    assert fatal.fields["kind"] == "fatal_error" and fatal.end_line == 11
    assert fatal.fields["reason"] == "init_import_site: Failed to import the site module"
    assert fatal.fields["exception"] == "ModuleNotFoundError" and fatal.fields["threads"] == 2
    assert "signal" not in fatal.fields
    assert evs[1].message == "Segmentation fault (core dumped)"


def test_fatal_look_alikes():
    for line in ("Fatal Python error", "INFO Fatal Python error: not at the start", "Fatal error: x"):
        (ev,) = parse_text(line)
        assert ev.fields.get("kind") != "fatal_error", line


# -- 5. multi-line exception messages -----------------------------------------------------------------


def test_multiline_exception_message_stays_in_the_traceback():
    text = (
        "Traceback (most recent call last):\n"
        '  File "deploy.py", line 12, in <module>\n'
        "azureml.exceptions._azureml_exception.WebserviceException: WebserviceException:\n"
        "\tMessage: Service deployment polling reached non-successful terminal state\n"
        "\tInnerException None\n"
        "\tErrorResponse \n"
        "{\n"
        '    "error": {\n'
        '        "message": "Your container application crashed."\n'
        "    }\n"
        "}\n"
        "[2026-11-25 02:32:10 +0000] [4300] [INFO] Worker exiting (pid: 4300)\n"
    )
    evs = parse_text(text)
    tb = evs[0]
    assert tb.end_line == 11 and tb.fields["exception_message"] == "WebserviceException:"
    assert '"message": "Your container application crashed."' in tb.message
    assert evs[1].fields["kind"] == "worker_exit"


def test_single_line_exception_ends_as_before():
    text = (
        "Traceback (most recent call last):\n"
        '  File "x.py", line 1, in <module>\n'
        "KeyError: '['\n"
        "Worker exiting (pid: 8)\n"
        "Traceback (most recent call last):\n"
        '  File "x.py", line 1, in <module>\n'
        "ValueError: boom\n"
        "{\n"
        '  "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},\n'
        '  "status": {"phase": "Failed", "reason": "Evicted"}\n'
        "}\n"
    )
    evs = parse_text(text)
    assert [e.fields.get("kind") for e in evs] == ["traceback", "worker_exit", "traceback", "pod_status"]
    assert evs[0].end_line == 3 and evs[2].end_line == 7
