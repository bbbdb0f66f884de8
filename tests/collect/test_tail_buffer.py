"""TailBuffer: the last bytes of a log, kept within a cap, from the start of a whole line."""

from __future__ import annotations

import pytest

from diagnoser.collect.base import TailBuffer


def kept(cap: int, *writes: bytes) -> tuple[bytes, bool]:
    """Return what a TailBuffer of `cap` keeps of `writes`, and whether it dropped any."""
    buffer = TailBuffer(cap)
    for data in writes:
        buffer.write(data)
    return buffer.getvalue(), buffer.dropped


@pytest.mark.parametrize(
    ("cap", "writes", "expected"),
    [
        (10, (b"abc\n", b"def\n"), (b"abc\ndef\n", False)),  # under the cap: all of it
        (8, (b"abc\n", b"def\n"), (b"abc\ndef\n", False)),  # exactly the cap
        (8, (b"abc\n", b"def\n", b"gh\n"), (b"def\ngh\n", True)),  # the cut tore "abc": its rest goes
        (7, (b"abc\n", b"def\n", b"gh\n"), (b"def\ngh\n", True)),  # the cut fell after a line: all whole
        (6, (b"abc\n", b"def\n", b"gh\n"), (b"gh\n", True)),  # the cut tore "def"
        (6, (b"abcd", b"ef\nxy", b"z\n"), (b"xyz\n", True)),  # lines split across writes
        (4, (b"ab", b"cd", b"ef", b"gh"), (b"efgh", True)),  # no line break: the last bytes
        (5, (b"abcdefghij",), (b"fghij", True)),  # one torn line is all there is: it stays
        (7, (b"ab\n", b"cdefgh", b"ij\n"), (b"efghij\n", True)),  # ... even when it ends the text
        (7, (b"ab\n", b"cdefgh", b"ij"), (b"defghij", True)),
    ],
)
def test_keeps_the_last_bytes_from_a_whole_line(cap, writes, expected):
    assert kept(cap, *writes) == expected


def test_holds_no_more_than_the_cap_and_a_write_however_much_passes():
    buffer = TailBuffer(1000)
    for n in range(100_000):
        buffer.write(b"line %06d\n" % n)
        assert buffer._kept < 1000 + 12  # noqa: SLF001 - the bound is the point of the class
    assert buffer.received == 100_000 * 12
    value = buffer.getvalue()
    assert len(value) <= 1000 and value.endswith(b"line 099999\n") and value.startswith(b"line ")
