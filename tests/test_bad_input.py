"""The bad-input matrix: every row asserts the exact exit code and the exact message or warning.

Rows that end in a report (exit 0 or 1) check the report's warning text; rows that end in a refusal
(exit 2) check the `error: path: what is wrong (hint)` line on stderr. A FIFO, SIGINT and `| head`
run the real console script in a subprocess.
"""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from diagnoser.collect.files import MAX_LINE_BYTES, InputSource, read_lines
from tests.conftest import ROOT, default_sigint

OOM = (
    b"[2024-03-05 10:00:00 +0000] [1] [INFO] Starting gunicorn 22.0.0\n"
    b"[2024-03-05 10:00:00 +0000] [1] [INFO] Booting worker with pid: 7\n"
    b"[2024-03-05 10:00:09 +0000] [1] [ERROR] Worker (pid:7) was sent SIGKILL! Perhaps out of memory?\n"
    b"[2024-03-05 10:00:09 +0000] [1] [INFO] Booting worker with pid: 12\n"
    b"[2024-03-05 10:00:19 +0000] [1] [ERROR] Worker (pid:12) was sent SIGKILL! Perhaps out of memory?\n"
    b"[2024-03-05 10:00:19 +0000] [1] [INFO] Booting worker with pid: 15\n"
)


def causes(result) -> list[str]:
    return [d["cause"] for d in result.json()["diagnoses"]]


def test_binary_data_is_refused(cli, tmp_path):
    blob = tmp_path / "core.bin"
    blob.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 20)
    r = cli("diagnose", str(blob))
    assert r.code == 2 and r.out == ""
    assert r.err == (
        f"error: {blob}: binary data, not a text log (first control byte at offset 7) "
        "(pass a text log; gzip is read as is, other archives must be unpacked first)\n"
    )


def test_invalid_utf8_is_read_with_a_warning(cli, tmp_path):
    path = tmp_path / "latin1.log"
    path.write_bytes(OOM + "caf\xe9 ferm\xe9\n".encode("latin-1"))
    r = cli("diagnose", "--json", str(path))
    assert r.code == 1, r.err
    assert causes(r)[0] == "oom_worker_reboot"
    assert r.json()["warnings"] == [
        f"{path}: 1 line(s) are not valid UTF-8; undecodable bytes shown as U+FFFD"
    ]
    assert r.json()["input"]["lines"] == 7


def test_nul_bytes_are_dropped_from_lines(cli):
    # A few NULs: a log a crashed writer padded; the lines stay readable and are diagnosed.
    r = cli("diagnose", "--json", stdin=OOM.replace(b"SIGKILL!", b"SIG\x00KILL!", 1) + b"\x00\x00\x00\n")
    assert r.code == 1, r.err
    data = r.json()
    assert causes(r)[0] == "oom_worker_reboot"
    assert data["warnings"] == []
    assert all("\x00" not in e["text"] for e in data["diagnoses"][0]["evidence"])


def test_mostly_nul_data_is_binary(cli):
    r = cli("diagnose", stdin=b"x\n" + b"\x00" * 4096)
    assert r.code == 2
    assert r.err.startswith("error: stdin: binary data, not a text log (first control byte at offset 2)")


def test_a_60_mb_line_is_cut_with_a_warning(cli, tmp_path):
    path = tmp_path / "huge.log"
    size = 60 * 1024 * 1024
    with open(path, "wb") as out:
        lines = OOM.splitlines(keepends=True)
        out.writelines(lines[:2])
        head = b"[2024-03-05 10:00:05 +0000] [7] [INFO] payload "
        out.write(head + b"A" * (size - len(head)) + b"\n")
        out.writelines(lines[2:])
    r = cli("diagnose", "--json", str(path))
    assert r.code == 1, r.err
    data = r.json()
    assert causes(r)[0] == "oom_worker_reboot"
    assert data["input"]["lines"] == 7
    assert data["warnings"] == [
        f"{path}:3: line of {size} bytes cut to its first {MAX_LINE_BYTES} bytes (1 MiB)"
    ]


def test_crlf_line_ends_read_like_lf(cli):
    lf = cli("diagnose", "--json", stdin=OOM)
    crlf = cli("diagnose", "--json", stdin=OOM.replace(b"\n", b"\r\n"))
    assert crlf.code == lf.code == 1
    assert crlf.json()["diagnoses"] == lf.json()["diagnoses"]
    assert crlf.json()["warnings"] == []


def test_truncated_json_lines_degrade_to_text(cli):
    lines = [
        b'{"log":"[2024-03-05 10:00:00 +0000] [1] [INFO] Booting worker with pid: 7\\n",'
        b'"stream":"stderr","time":"2024-03-05T10:00:00Z"}',
        b'{"log":"[2024-03-05 10:00:09 +0000] [1] [ERROR] Worker (pid:7) was sent SIGKILL! '
        b'Perhaps out of memory?\\n","stream":"std',
        b'{"log":"[2024-03-05 10:00:19 +0000] [1] [ERROR] Worker (pid:12) was sent SIGKILL! '
        b'Perhaps out of memory?\\n","stream":"stderr","time":"2024-03-05T10:00:19Z"}',
        b'{"log":"[2024-03-05 10:00:19 +0000] [1] [INFO] Booting worker with pid: 15\\n",'
        b'"stream":"stderr","ti',
        b'{"kind":"EventList","items":[{"reason":"BackOff","message":"Back-off',
    ]
    r = cli("diagnose", "--json", stdin=b"\n".join(lines) + b"\n")
    assert r.code == 1, r.err
    data = r.json()
    assert data["input"]["lines"] == 5
    assert causes(r)[0] == "oom_worker_reboot"
    assert data["warnings"] == []


def test_gzip_is_read_transparently(cli, tmp_path):
    path = tmp_path / "app.log.gz"
    path.write_bytes(gzip.compress(OOM))
    r = cli("diagnose", "--json", str(path))
    assert r.code == 1
    assert causes(r)[0] == "oom_worker_reboot"
    assert r.json()["warnings"] == []


def test_gzip_on_stdin_and_concatenated_members(cli):
    r = cli("diagnose", "--json", stdin=gzip.compress(OOM[:200]) + gzip.compress(OOM[200:]))
    assert r.code == 1
    assert r.json()["input"]["lines"] == 6


def test_truncated_gzip_is_diagnosed_with_a_warning(cli, tmp_path):
    body = OOM + b"".join(
        b"[2024-03-05 10:01:%02d +0000] [15] [INFO] request %d ok\n" % (i % 60, i) for i in range(5000)
    )
    packed = gzip.compress(body)
    path = tmp_path / "cut.log.gz"
    path.write_bytes(packed[: len(packed) // 2])
    r = cli("diagnose", "--json", str(path))
    assert r.code == 1, r.err
    data = r.json()
    n = data["input"]["lines"]
    assert 6 < n < 5006
    assert data["warnings"] == [
        f"{path}: compressed data ends early after line {n} (truncated file?); read what was there"
    ]


def test_corrupt_gzip_is_refused(cli, tmp_path):
    path = tmp_path / "bad.gz"
    path.write_bytes(b"\x1f\x8b" + b"not deflate at all" * 4)
    r = cli("diagnose", str(path))
    assert r.code == 2
    assert (
        r.err == f"error: {path}: corrupt gzip data"
        " (Error -3 while decompressing data: unknown compression method)\n"
    )


def test_empty_input(cli, tmp_path):
    r = cli("diagnose", stdin=b"")
    assert (r.code, r.out, r.err) == (0, "no failure found\nread 0 lines from stdin\n", "")
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    r = cli("diagnose", "--json", str(empty))
    assert r.code == 0 and r.json()["input"]["lines"] == 0 and r.json()["warnings"] == []


def test_directory_is_refused(cli, tmp_path):
    r = cli("diagnose", str(tmp_path))
    assert r.code == 2
    assert (
        r.err == f"error: {tmp_path}: is a directory, not a log file"
        f" (pass the files inside it, e.g. {tmp_path}/*.log)\n"
    )


def _run(*args: str, stdin: bytes | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "diagnoser", *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        cwd=ROOT,
    )


def test_fifo_is_read_as_a_stream(tmp_path):
    fifo = tmp_path / "logs.fifo"
    os.mkfifo(fifo)

    def writer() -> None:
        with open(fifo, "wb") as out:  # blocks until diagnose opens the FIFO
            for line in OOM.splitlines(keepends=True):
                out.write(line)
                out.flush()
                time.sleep(0.05)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    r = _run("--no-color", str(fifo))
    thread.join(5)
    assert r.returncode == 1, r.stderr
    assert r.stderr == b""
    assert b"read 6 lines from file:" in r.stdout and b"oom_worker_reboot" in r.stdout


def test_file_that_shrinks_mid_read_warns(tmp_path):
    path = tmp_path / "rotating.log"
    path.write_bytes(OOM * 2000)
    reading = read_lines(InputSource(str(path)))
    lines = iter(reading)
    first = [next(lines) for _ in range(3)]
    os.truncate(path, 100)  # logrotate copytruncate under our feet
    rest = list(lines)
    assert [r.line for r in first] == [1, 2, 3]
    assert len(first) + len(rest) < 12000
    notes = reading.notes
    assert len(notes) == 1
    assert notes[0].startswith(f"{path}: file shrank while it was read (")
    assert notes[0].endswith(f" of {len(OOM) * 2000} bytes read; rotated or truncated?)")


def test_file_that_disappears_mid_read_is_read_to_the_end(tmp_path):
    path = tmp_path / "gone.log"
    path.write_bytes(OOM)
    reading = read_lines(InputSource(str(path)))
    lines = iter(reading)
    first = next(lines)
    path.unlink()  # the open descriptor still reads the whole file
    assert [first.line] + [r.line for r in lines] == [1, 2, 3, 4, 5, 6]
    assert reading.notes == []


def test_file_that_disappears_before_it_is_opened(tmp_path):
    path = tmp_path / "gone.log"
    with pytest.raises(Exception) as info:
        list(read_lines(InputSource(str(path))))
    assert str(info.value) == f"{path}: cannot open: no such file or directory"


def test_clock_going_backwards_does_not_break_windows(cli):
    lines = OOM.splitlines(keepends=True)
    # Timestamps step back an hour, then forward again: an NTP correction on the host.
    back = lines[:3] + [ln.replace(b"10:00:", b"09:00:") for ln in lines[3:5]] + lines[5:]
    r = cli("diagnose", "--json", stdin=b"".join(back) + b"".join(reversed(lines)))
    assert r.code == 1, r.err
    assert causes(r)[0] == "oom_worker_reboot"
    assert r.json()["warnings"] == []


def test_mixed_time_zones_and_naive_times(cli):
    mixed = (
        b"[2024-03-05 10:00:00 +0000] [1] [INFO] Booting worker with pid: 7\n"
        b"[2024-03-05 05:00:09 -0500] [1] [ERROR] Worker (pid:7) was sent SIGKILL! Perhaps out of memory?\n"
        b"2024-03-05T10:00:10.000000000Z stderr F "
        b"[2024-03-05 10:00:10 +0000] [1] [INFO] Booting worker with pid: 12\n"
        b"Mar  5 10:00:15 node1 kernel: Out of memory: Killed process 12 (gunicorn) total-vm:1000kB\n"
        b"2024-03-05 11:00:19,120 I [12] azmlinfsrv - Users's init has completed successfully\n"
        b"[2024-03-05 12:00:19 +0200] [1] [ERROR] Worker (pid:12) was sent SIGKILL! Perhaps out of memory?\n"
        b"[2024-03-05 10:00:20 +0000] [1] [INFO] Booting worker with pid: 15\n"
    )
    r = cli("diagnose", "--json", stdin=mixed)
    assert r.code == 1, r.err
    assert causes(r)[0] == "oom_worker_reboot"
    assert r.json()["warnings"] == []


def test_missing_file_and_permission(cli, tmp_path):
    r = cli("diagnose", str(tmp_path / "nope.log"))
    assert (r.code, r.err) == (
        2,
        f"error: {tmp_path / 'nope.log'}: no such file (check the path, or pipe the log on stdin)\n",
    )


def test_sigint_exits_130_quietly():
    proc = subprocess.Popen(
        [sys.executable, "-m", "diagnoser"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        preexec_fn=default_sigint,
    )
    assert proc.stdin is not None
    proc.stdin.write(OOM)
    proc.stdin.flush()
    time.sleep(3)  # started and reading; stdin stays open
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, out, err) == (130, b"", b"interrupted\n")


def test_closed_pipe_ends_quietly_with_the_report_exit_code():
    # `diagnose app.log | head -0`: the reader is gone before anything is written.
    proc = subprocess.Popen(
        [sys.executable, "-m", "diagnoser"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    proc.stdout.close()
    _, err = proc.communicate(OOM * 50, timeout=60)
    assert (proc.returncode, err) == (1, b"")


def test_pipe_to_head_in_a_shell():
    r = subprocess.run(
        f'{sys.executable} -m diagnoser --no-color | head -n 1; echo "${{PIPESTATUS[0]}}"',
        shell=True,
        executable="/bin/bash",
        input=OOM,
        capture_output=True,
        timeout=60,
        cwd=ROOT,
    )
    assert r.stdout == b"1. CRITICAL oom_worker_reboot: Worker or container killed for lack of memory\n1\n"
    assert r.stderr == b""


# -- rules from elsewhere (--rules DIR): no code runs, nothing stalls, sizes are bounded ----------

RULE = (
    "id: {id}\ncause: oom_worker_reboot\ntitle: t\nseverity: high\n"
    "match:\n{matchers}condition: {condition}\nexamples: {{positive: [SIGKILL], negative: [ok]}}\n"
)


def write_rule(
    tmp_path,
    matchers: str = "  kill: {message|contains: SIGKILL}\n",
    condition: str = "kill",
    name: str = "r",
):
    path = tmp_path / f"{name}.yaml"
    path.write_text(RULE.format(id=name, matchers=matchers, condition=condition))
    return path


def test_rule_yaml_cannot_run_code(cli, tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.yaml"
    path.write_text(f"id: !!python/object/apply:os.system ['touch {marker}']\n")
    r = cli("diagnose", "--rules", str(path), stdin=OOM)
    assert r.code == 2
    assert r.err.startswith(f"error: {path}:1:5: invalid YAML: could not determine a constructor for the tag")
    assert not marker.exists()


def test_catastrophic_regex_is_rejected_at_load(cli, tmp_path):
    path = write_rule(tmp_path, "  kill: {message|re: '(\\w+\\s?)+$'}\n")
    r = cli("diagnose", "--rules", str(path), stdin=OOM)
    assert r.code == 2
    assert r.err == (
        f"error: {path}:6:22: regular expression '(\\\\w+\\\\s?)+$' nests unbounded quantifiers and can "
        "backtrack catastrophically; rewrite it without a repeated group of repeats\n"
    )


def test_rule_size_limits(cli, tmp_path):
    many = "".join(f"  m{i}: {{message|contains: x{i}}}\n" for i in range(65))
    path = write_rule(tmp_path, many, " or ".join(f"m{i}" for i in range(65)), name="many")
    r = cli("diagnose", "--rules", str(path), stdin=OOM)
    assert (r.code, r.err) == (2, f"error: {path}:6:3: too many matchers (65) (limit 64; split the rule)\n")
    path.unlink()
    long_value = "x" * 2001
    path = write_rule(tmp_path, f"  kill: {{message|contains: {long_value}}}\n", name="long")
    r = cli("diagnose", "--rules", str(path), stdin=OOM)
    assert (r.code, r.err) == (
        2,
        f"error: {path}:6:28: value for 'message|contains' too long (limit 2000 characters)\n",
    )
    path.unlink()
    path = write_rule(tmp_path, condition=" or ".join(["kill"] * 500), name="cond")
    r = cli("diagnose", "--rules", str(path), stdin=OOM)
    assert (r.code, r.err) == (2, f"error: {path}:7:12: condition too long (3996 characters) (limit 2000)\n")
    path.write_bytes(b"# " + b"x" * (256 * 1024) + b"\n")
    r = cli("diagnose", "--rules", str(path), stdin=OOM)
    assert (r.code, r.err) == (
        2,
        f"error: {path}: rule file too large ({256 * 1024 + 3} bytes) (limit 256 KB; one rule per file)\n",
    )


def test_rule_count_limit(cli, tmp_path, monkeypatch):
    import diagnoser.detect.loader as loader

    monkeypatch.setattr(loader, "MAX_RULES", 3)
    for i in range(4):
        write_rule(tmp_path, name=f"r{i}")
    r = cli("diagnose", "--rules", str(tmp_path), stdin=OOM)
    assert (r.code, r.err) == (
        2,
        f"error: {tmp_path}: too many rule files (4) (limit 3; split the directory)\n",
    )


@pytest.mark.parametrize(
    "pattern", ["(a|aa)+$", "(.*a){12}", "(?:a|ab|b)+c", "(foo|foobar|bar)+$", "(?:(?:a|aa){2})+z"]
)
def test_ambiguous_repeats_are_rejected_at_load(cli, tmp_path, pattern):
    # A repeated group that reads one text in two ways: Python's re tries every way before it fails
    # ('(a|aa)+$' on 24 a's and a '!' took 12 ms here, each more a about 1.6x longer: 40 a's, ~20 s).
    path = write_rule(tmp_path, f"  kill: {{message|re: '{pattern}'}}\n")
    r = cli("diagnose", "--rules", str(path), stdin=OOM)
    assert r.code == 2
    assert "can match the same text in more than one way and can backtrack catastrophically" in r.err


@pytest.mark.parametrize(
    "pattern",
    [
        "(\\w|\\d)+$",  # Python's parser merges the alternatives into one set: nothing to backtrack
        "(GET|POST|PUT)+ ",  # alternatives share a first letter, never a whole text
        "(?:\\d+\\.)+\\d+",
        '(?:[^"\\\\]|\\\\.)*',  # a quoted string with escapes, as access-log parsers read it
        "(\\bfoo|foo)+",  # a word boundary: left unjudged, never rejected on a guess
    ],
)
def test_unambiguous_repeats_load(cli, tmp_path, pattern):
    path = write_rule(tmp_path, f"  kill: {{message|re: '{pattern}'}}\n")
    r = cli("diagnose", "--rules", str(path), stdin=OOM)
    assert r.code in (0, 1), r.err
