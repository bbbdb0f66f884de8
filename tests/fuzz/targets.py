"""Fuzz targets shared by the coverage-guided harness (atheris) and the pytest regression replays.

Each target takes bytes and either returns or raises an AssertionError / an unexpected exception:
that is a crash. Expected refusals (binary input, a bad rule, a bad condition) are DiagnoserErrors
and are not crashes. Targets are strict where the product is lenient: the parser target calls the
stream engine's per-line step directly, so a parser bug the engine would swallow (and degrade the
line to plain text) still shows up here.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from diagnoser.errors import DiagnoserError, InputError, RuleError

_CACHE: dict[str, object] = {}


def _rules() -> tuple:
    if "rules" not in _CACHE:
        from diagnoser.detect import load_rules

        _CACHE["rules"] = load_rules()
    return _CACHE["rules"]  # type: ignore[return-value]


def _model() -> object:
    if "model" not in _CACHE:
        from diagnoser.detect.classifier import load_model

        _CACHE["model"] = load_model()
    return _CACHE["model"]


def _split(data: bytes) -> list[str]:
    """Return `data` as text lines the way the file reader hands them on (UTF-8, lenient)."""
    return data.decode("utf-8", errors="replace").split("\n")


def pipeline(data: bytes) -> None:
    """Read `data` as stdin through the whole pipeline and render every output format."""
    import diagnoser.pipeline as pl
    from diagnoser.options import Files, Options
    from diagnoser.redact import DEFAULT
    from diagnoser.render import OutputFormat, render

    model = _model()
    original = pl.load_model
    pl.load_model = lambda *a, **k: model  # type: ignore[assignment]  # read once, not per input
    try:
        try:
            report = pl.diagnose([Files(("-",), stdin=io.BytesIO(data))], Options(rules=_rules()))
        except InputError:
            return  # binary data / corrupt gzip: refused with a message, not a crash
    finally:
        pl.load_model = original  # type: ignore[assignment]
    for fmt in OutputFormat:
        out = render(report, fmt, DEFAULT)
        assert isinstance(out, str) and out.endswith("\n")


def parse(data: bytes) -> None:
    """Feed lines to the stream engine's per-line step directly: a parser error is not swallowed."""
    from diagnoser.model import RawLine
    from diagnoser.parse.stream import StreamParser

    eng = StreamParser()
    lines = _split(data)
    # Two sources interleaved, as `diagnose a.log b.log` and collectors produce.
    for number, text in enumerate(lines, 1):
        eng.out.clear()
        eng._feed(RawLine("a" if number % 7 else "b", number, text))
        for ev in eng.out:
            _check_event(ev)
    eng.out.clear()
    for st in eng.sources.values():
        if st.quote:
            eng._unquote(st, True)
        eng._flush(st)
    for ev in eng.out:
        _check_event(ev)


def _check_event(ev: object) -> None:
    from diagnoser.model import Event

    assert isinstance(ev, Event)
    assert isinstance(ev.message, str) and isinstance(ev.text, str)
    assert ev.line >= 1 and ev.last_line >= ev.line
    if ev.timestamp is not None:
        assert ev.timestamp.tzinfo is not None, f"naive timestamp from {ev.format}: {ev.text[:80]!r}"


NAMES = ("a", "b", "c", "boot", "kill")


def condition(data: bytes) -> None:
    """Parse arbitrary text as a rule condition: a located RuleError or an AST, nothing else."""
    from diagnoser.detect.condition import names_used, unparse
    from diagnoser.detect.grammar import parse_condition

    text = data.decode("utf-8", errors="replace")[:2000]
    try:
        node = parse_condition(text, NAMES)
    except RuleError as exc:
        assert str(exc)
        return
    assert set(names_used(node)) <= set(NAMES)
    again = parse_condition(unparse(node), NAMES)  # what unparse prints must parse back the same
    assert unparse(again) == unparse(node)


_RULE_HEAD = b"id: fuzz\ncause: oom_worker_reboot\ntitle: t\nseverity: high\n"


def rule(data: bytes) -> None:
    """Load arbitrary YAML as a rule, then run it on a few events: RuleError or a working rule."""
    from diagnoser.detect.engine import Engine
    from diagnoser.detect.loader import load_rule_text

    text = (data if data[:3] == b"id:" else _RULE_HEAD + data).decode("utf-8", errors="replace")
    try:
        loaded, errors = load_rule_text(text, Path("fuzz.yaml"))
    except RecursionError:
        return  # deeply nested YAML: PyYAML's own limit (a rule file is also capped in size)
    for err in errors:
        assert isinstance(err, DiagnoserError) and str(err)
    if loaded is None:
        return
    engine = Engine([loaded])
    for ev in _sample_events():
        engine.feed(ev)
    engine.finish()


def _sample_events() -> list:
    if "events" not in _CACHE:
        from diagnoser.model import RawLine
        from diagnoser.parse import parse_lines

        base = datetime(2024, 3, 5, 10, 0, tzinfo=UTC)
        lines = [
            f"[{(base + timedelta(seconds=s)).strftime('%Y-%m-%d %H:%M:%S')} +0000] [1] [ERROR] "
            f"Worker (pid:{s}) was sent SIGKILL! Perhaps out of memory?"
            for s in (0, 30, 10, 600)  # a clock that goes backwards, then a jump
        ] + ["2024-03-05T10:00:05.000000000+02:00 stderr F Killed exit code 137", "plain text"]
        _CACHE["events"] = list(parse_lines(RawLine("fuzz", i, t) for i, t in enumerate(lines, 1)))
    return _CACHE["events"]  # type: ignore[return-value]


def redaction(data: bytes) -> None:
    """Redact arbitrary text: idempotent, and a planted secret never survives."""
    from diagnoser.redact import redact

    text = data.decode("utf-8", errors="replace")[:5000]
    once = redact(text)
    assert redact(once) == once, "redaction is not idempotent"
    planted = f"{text} password=Hunter2Secret! {text}"
    assert "Hunter2Secret" not in redact(planted)


_PLANTED = "Zq9PlantedS3cretValue"
# Secrets known only by their structure, planted among fuzzed lines: each must go, whatever the
# lines around it say.
_STRUCTURES = (
    ["    - name: DB_PASSWORD", f"      value: {_PLANTED}"],
    ["        {", '            "name": "OPENAI_API_KEY",', f'            "value": "{_PLANTED}"'],
    ["stringData:", f"  conn: {_PLANTED}"],
    [f'{{"name":"HF_TOKEN","value":"{_PLANTED}"}}'],
    [f'    "auth": "{_PLANTED}"'],
    [f"      DB_PASS:   {_PLANTED}"],
)


def structure(data: bytes) -> None:
    """Redact fuzzed lines line by line (as bundles and `diagnoser parse` do) with a secret planted
    by its structure: the secret never survives, and a second pass changes nothing."""
    from diagnoser.model import RawLine
    from diagnoser.redact import DEFAULT

    lines = _split(data)[:200]
    planted = _STRUCTURES[data[0] % len(_STRUCTURES)] if data else _STRUCTURES[0]
    at = (data[1] if len(data) > 1 else 0) % (len(lines) + 1)
    lines[at:at] = planted
    raws = [RawLine("s", i, t) for i, t in enumerate(lines, 1)]
    once = list(DEFAULT.lines(raws))
    assert all(_PLANTED not in r.text for r in once), [r.text for r in once if _PLANTED in r.text]
    assert [r.text for r in DEFAULT.lines(once)] == [r.text for r in once], "line redaction is not idempotent"
    whole = DEFAULT("\n".join(lines))  # a multi-line record is read for its structure too
    assert _PLANTED not in whole


# Every byte a terminal acts on (C0 but tab and newline, DEL, C1, bidi controls); the report's colours.
_RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SGR = re.compile(r"\x1b\[[0-9;]*m")


def output(data: bytes) -> None:
    """Diagnose fuzzed input and render it for a terminal (with colour) and as Markdown: no control
    byte of the input reaches the terminal, and no Markdown of it becomes HTML, an image or a link."""
    from markdown_it import MarkdownIt

    import diagnoser.pipeline as pl
    from diagnoser.options import Files, Options
    from diagnoser.plan.docs import TITLES
    from diagnoser.redact import DEFAULT
    from diagnoser.render import OutputFormat, render

    model = _model()
    original = pl.load_model
    pl.load_model = lambda *a, **k: model  # type: ignore[assignment]
    try:
        try:
            report = pl.diagnose([Files(("-",), stdin=io.BytesIO(data))], Options(rules=_rules()))
        except InputError:
            return
    finally:
        pl.load_model = original  # type: ignore[assignment]
    for fmt in (OutputFormat.TEXT, OutputFormat.WIDE):
        text = _SGR.sub("", render(report, fmt, DEFAULT, colour=True))
        assert _RAW_CONTROL.search(text) is None, repr(text[:300])
    markdown = render(report, OutputFormat.MARKDOWN, DEFAULT)
    assert _RAW_CONTROL.search(markdown) is None
    for token in MarkdownIt("commonmark").parse(markdown):
        assert token.type != "html_block", markdown
        for child in token.children or ():
            assert child.type != "image", markdown
            assert child.type != "html_inline" or child.content in ("<sub>", "</sub>"), markdown
            if child.type == "link_open":  # only the report's own links to the docs it cites
                href = str(child.attrGet("href"))
                assert href.split("#", 1)[0].split("?", 1)[0] in TITLES or href.encode() not in data, markdown


def bundle(data: bytes) -> None:
    """Replay a bundle whose manifest is fuzzed: a report, or an InputError saying what is wrong."""
    import tempfile

    import diagnoser.pipeline as pl
    from diagnoser.options import Files, Options

    model = _model()
    original = pl.load_model
    pl.load_model = lambda *a, **k: model  # type: ignore[assignment]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "bundle"
            root.mkdir()
            (root / "001-a.log").write_bytes(b"2024-03-05 10:00:01,000 ERROR app - boom\n")
            (root / "002-b.log").write_bytes(b"Worker (pid:7) was sent SIGKILL! Perhaps out of memory?\n")
            (root / "diagnoser-bundle.json").write_bytes(data)
            try:
                pl.diagnose([Files((str(root),))], Options(rules=_rules()))
            except DiagnoserError as exc:
                assert str(exc)
    finally:
        pl.load_model = original  # type: ignore[assignment]


TARGETS: dict[str, Callable[[bytes], None]] = {
    "pipeline": pipeline,
    "parse": parse,
    "condition": condition,
    "rule": rule,
    "redaction": redaction,
    "structure": structure,
    "output": output,
    "bundle": bundle,
}
