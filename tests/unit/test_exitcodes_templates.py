"""Exit codes in words, and the explain-template specs that use them (`{code:exit}`, `{name:or=...}`)."""

from __future__ import annotations

from diagnoser.detect.exitcodes import describe_exit
from diagnoser.detect.templates import fill_template


def test_exit_codes_are_decoded_as_shells_runtimes_and_python_report_them():
    assert describe_exit(139).startswith("139 (SIGSEGV, segmentation fault")
    assert describe_exit(137).startswith("137 (SIGKILL, killed")
    assert describe_exit(132).startswith("132 (SIGILL, illegal instruction")
    assert describe_exit(134).startswith("134 (SIGABRT")
    assert describe_exit(143).startswith("143 (SIGTERM")
    assert describe_exit(-11).startswith("-11 (SIGSEGV")  # Python multiprocessing's child killed by signal 11
    assert describe_exit(127) == "127 (the command was not found)"
    assert describe_exit("1") == "1 (a general error reported by the program)"
    assert describe_exit(42) == "42"  # the program's own code: nothing to add
    assert describe_exit("n/a") == "n/a"


def test_template_specs_decode_exit_codes_and_fill_captures_never_seen():
    assert fill_template("exited with {code:exit}", {"code": "139"}, ("code",)) == (
        "exited with 139 (SIGSEGV, segmentation fault: a crash in native code)"
    )
    # A capture that no matcher produced: the words after or=; else the parenthesis around it goes, or "…".
    assert fill_template("missing: {setting:or=see below}", {}, ("setting",)) == "missing: see below"
    assert fill_template("missing: {setting}", {}, ("setting",)) == "missing: …"
    assert fill_template("killed (last pid {pid}).", {}, ("pid",)) == "killed."
    assert fill_template("exited with {code:exit}", {}, ("code",)) == "exited with a non-zero code"
    assert fill_template("missing: {setting:or=see below}", {"setting": "DB_URL"}, ("setting",)) == (
        "missing: DB_URL"
    )
