"""Reading files and stdin: streaming, gzip, binary rejection, long lines, bad paths."""

from __future__ import annotations

import gzip
import io

import pytest

from diagnoser.collect import open_inputs
from diagnoser.collect.files import MAX_LINE_BYTES, InputSource, read_lines
from diagnoser.errors import InputError


def test_reads_lines_with_numbers_and_strips_crlf(tmp_path):
    path = tmp_path / "app.log"
    path.write_bytes(b"first\r\nsecond\nthird")
    lines = list(read_lines(InputSource(str(path))))
    assert [(r.line, r.text) for r in lines] == [(1, "first"), (2, "second"), (3, "third")]
    assert lines[0].source == f"file:{path}"


def test_invalid_utf8_is_replaced_not_fatal(tmp_path):
    path = tmp_path / "app.log"
    path.write_bytes(b"ok \xff\xfe line\n")
    assert [r.text for r in read_lines(InputSource(str(path)))] == ["ok \ufffd\ufffd line"]


def test_gzip_is_read_transparently(tmp_path):
    path = tmp_path / "app.log.gz"
    path.write_bytes(gzip.compress(b"[2024-01-01 00:00:00 +0000] [7] [INFO] Booting worker with pid: 8\n"))
    assert [r.text for r in read_lines(InputSource(str(path)))] == [
        "[2024-01-01 00:00:00 +0000] [7] [INFO] Booting worker with pid: 8"
    ]


def test_stdin_stream(tmp_path):
    lines = list(read_lines(InputSource("-"), stdin=io.BytesIO(b"a\nb\n")))
    assert [(r.source, r.text) for r in lines] == [("stdin", "a"), ("stdin", "b")]


def test_binary_input_is_rejected_with_location(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(InputError) as err:
        list(read_lines(InputSource(str(path))))
    assert str(err.value).startswith(f"{path}: binary data, not a text log")


def test_over_long_line_is_cut_and_following_lines_kept(tmp_path):
    path = tmp_path / "big.log"
    with open(path, "wb") as fh:
        fh.write(b"x" * (MAX_LINE_BYTES * 3 + 5) + b"\nafter\n")
    lines = list(read_lines(InputSource(str(path))))
    assert len(lines) == 2
    assert len(lines[0].text) == MAX_LINE_BYTES
    assert (lines[1].line, lines[1].text) == (2, "after")


def test_missing_file_and_directory_are_clear_errors(tmp_path):
    with pytest.raises(InputError, match=r"nosuch\.log: no such file \(check the path"):
        open_inputs([str(tmp_path / "nosuch.log")])
    with pytest.raises(InputError, match=r"is a directory, not a log file \(pass the files inside it"):
        open_inputs([str(tmp_path)])


def test_no_paths_means_stdin():
    assert open_inputs([]) == [InputSource("-")]
