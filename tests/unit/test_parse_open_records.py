"""Open multi-line records are bounded per source and overall; the oldest is flushed, never dropped."""

from __future__ import annotations

from diagnoser.model import EventKind, RawLine
from diagnoser.parse import stream
from diagnoser.parse.stream import StreamParser


def _open_records(parser: StreamParser) -> int:
    return sum(len(st.tbs) + len(st.partials) for st in parser.sources.values())


def _start(pod: int) -> list[str]:
    """A traceback a pod starts and (for now) never ends, as `kubectl logs --prefix` shows it."""
    return [
        f"[pod/web-{pod}/web] Traceback (most recent call last):",
        f'[pod/web-{pod}/web]   File "/app/score.py", line {pod % 90 + 1}, in run',
    ]


def test_open_tracebacks_per_source_are_capped_and_the_oldest_is_flushed_as_it_is():
    parser = StreamParser()
    pods = stream.MAX_OPEN_PER_SOURCE + 50
    early = []
    most = 0
    for pod in range(pods):
        for n, text in enumerate(_start(pod)):
            early += [
                (e.line, e.fields.get("kind"), e.text)
                for e in parser.feed(RawLine("k.log", 2 * pod + n, text))
            ]
        most = max(most, _open_records(parser))
    assert most == stream.MAX_OPEN_PER_SOURCE  # was one per pod, without bound
    # the 50 oldest were emitted while reading, whole as far as they went, in the order they began
    assert [line for line, _, _ in early] == [2 * pod for pod in range(50)]
    assert all(kind == EventKind.TRACEBACK for _, kind, _ in early)
    assert early[0][2] == "\n".join(_start(0))
    rest = parser.close()
    assert sorted(e.line for e in rest) == [2 * pod for pod in range(50, pods)]
    assert _open_records(parser) == 0


def test_open_records_across_sources_are_capped():
    parser = StreamParser()
    sources = stream.MAX_OPEN + 20
    emitted = []
    for i in range(sources):
        for n, text in enumerate(_start(0)):
            emitted += [e.source for e in parser.feed(RawLine(f"pod-{i}.log", n, text))]
        assert _open_records(parser) <= stream.MAX_OPEN
    assert emitted == [f"pod-{i}.log" for i in range(20)]  # the oldest ones, flushed
    emitted += [e.source for e in parser.close()]
    assert sorted(emitted) == sorted(f"pod-{i}.log" for i in range(sources))  # every one, once


def test_partial_lines_per_source_are_capped_too():
    # CRI partial lines (`P`) are joined per container until their `F` piece: one open record each
    parser = StreamParser()
    containers = stream.MAX_OPEN_PER_SOURCE + 5
    emitted = []
    for i in range(containers):
        text = f"web-{i}  | 2024-03-05T10:00:00.000000Z stdout P piece of container {i}"
        emitted += [e.message for e in parser.feed(RawLine("compose.log", i, text))]
        assert _open_records(parser) <= stream.MAX_OPEN_PER_SOURCE
    assert emitted == [f"piece of container {i}" for i in range(5)]
    emitted += [e.message for e in parser.close()]
    assert sorted(emitted) == sorted(f"piece of container {i}" for i in range(containers))
