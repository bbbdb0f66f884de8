"""The "read N lines from ..." line names a few sources and counts the rest (a replayed bundle has 100k)."""

from __future__ import annotations

from diagnoser.model import InputStats, Report
from diagnoser.redact import DEFAULT
from diagnoser.render.markdown import render_markdown
from diagnoser.render.text import NAMED_SOURCES, render_text


def _report(n: int) -> Report:
    names = tuple(f"bundle/pods/web-{i:06d}/web.log" for i in range(n))
    return Report(diagnoses=(), input=InputStats(names, 3 * n, 3 * n, {"plain": 3 * n}))


def test_text_names_the_first_sources_and_counts_the_rest():
    text = render_text(_report(100_000), DEFAULT)
    (line,) = [x for x in text.splitlines() if x.startswith("read ")]
    shown = ", ".join(f"bundle/pods/web-{i:06d}/web.log" for i in range(NAMED_SOURCES - 1))
    assert line == f"read 300000 lines from {shown} and {100_000 - NAMED_SOURCES + 1} more"
    assert max(map(len, text.splitlines())) < 300  # was one line of 3.4 MB


def test_markdown_names_the_first_sources_and_counts_the_rest():
    text = render_markdown(_report(100_000), DEFAULT)
    assert f"and {100_000 - NAMED_SOURCES + 1} more.</sub>" in text
    assert max(map(len, text.splitlines())) < 300


def test_a_few_sources_are_all_named():
    for n in (1, NAMED_SOURCES):
        text = render_text(_report(n), DEFAULT)
        assert all(f"web-{i:06d}/web.log" in text for i in range(n))
        assert " more" not in text
