"""Text from the logs is shown, never obeyed: no control byte of the input reaches a terminal, and no
Markdown of the input becomes a link, an image, HTML or a heading in `-o markdown`.

The hostile bytes go wherever the input reaches a report: an evidence line, a line that looks
wrong, a summary built from the exception's message, a file name, a bundle's source names and
warnings. Each test first shows the bytes do reach the output (escaped), so each absence is real.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from diagnoser.render.escape import control_safe, md_code, md_fence, md_text

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# OSC 0 (window title), CSI cursor up and erase line, OSC 52 (clipboard), a bare BEL and backspace,
# DEL, 8-bit CSI (C1), a carriage return, and a right-to-left override.
HOSTILE = "\x1b]0;pwned\x07\x1b[1A\x1b[2K\x1b]52;c;cHduZWQ=\x07\x08\x7f\x9b2J\rFAKE VERDICT\u202e"
# Every byte a terminal acts on: C0 but tab and newline, DEL, C1, the bidi controls.
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
SGR = re.compile(r"\x1b\[[0-9;]*m")  # the report's own colours

MARKDOWN = "`` <img src=https://evil.example/p.png> [click](https://evil.example) ![i](https://e.x/i.png) ``"


def init_exception_log(message: str) -> bytes:
    """Return the bundled init-exception example with its exception's message replaced."""
    log = (EXAMPLES / "init-exception-azmlinfsrv.log").read_text()
    return log.replace("model config is missing required key 'n_features'", message).encode()


def suspicious_log(context: str) -> bytes:
    """Return a log no rule explains with an error line carrying `context`."""
    return (
        f"2024-03-05 10:00:00,000 INFO app - start\n2024-03-05 10:00:01,000 ERROR app - {context}\n".encode()
    )


def hostile_inputs(tmp_path: Path) -> list[list[str]]:
    """Return diagnose argument lists whose reports carry HOSTILE in every place input reaches."""
    named = tmp_path / f"pod{HOSTILE.replace('/', '')}.log"  # a file name is input too
    named.write_bytes(suspicious_log("request failed " + HOSTILE))
    init = tmp_path / "init.log"
    init.write_bytes(init_exception_log("bad key " + HOSTILE))
    bundle = tmp_path / "bundle"
    oom = tmp_path / "oom.log"
    oom.write_bytes(
        b"[2024-03-05 10:00:00 +0000] [1] [INFO] Booting worker with pid: 7\n"
        b"[2024-03-05 10:00:09 +0000] [1] [ERROR] Worker (pid:7) was sent SIGKILL! Perhaps out of memory?\n"
        b"[2024-03-05 10:00:09 +0000] [1] [INFO] Booting worker with pid: 12\n"
        b"[2024-03-05 10:00:19 +0000] [1] [ERROR] Worker (pid:12) was sent SIGKILL! Perhaps out of memory?\n"
    )
    return [[str(named)], [str(init)], [str(oom), "--save-bundle", str(bundle)], [str(bundle)]]


def _poison_bundle(bundle: Path) -> None:
    """Put HOSTILE in a saved bundle's source names and warnings, as a received bundle could have."""
    manifest = bundle / "diagnoser-bundle.json"
    data = json.loads(manifest.read_text())
    data["warnings"] = [f"kubernetes: {HOSTILE} {MARKDOWN}"]
    for entry in data.get("sources", []):
        if isinstance(entry, dict) and "name" in entry:
            entry["name"] = f"k8s:ns/{HOSTILE}/{MARKDOWN}"
    manifest.write_text(json.dumps(data))


@pytest.mark.parametrize("colour", ["--no-color", "--color"])
def test_no_control_byte_of_the_input_reaches_the_terminal(cli, tmp_path, colour):
    runs = hostile_inputs(tmp_path)
    seen = 0
    for args in runs:  # the third run writes the bundle the fourth poisons and reads
        if args == runs[-1]:
            _poison_bundle(Path(args[0]))
        for fmt in ("text", "wide"):
            r = cli("diagnose", "-o", fmt, colour, *args)
            assert r.code in (0, 1), r.err
            shown = SGR.sub("", r.out) if colour == "--color" else r.out
            assert RAW_CONTROL.search(shown) is None, repr(shown)
            seen += "\\x1b]52;c;" in shown  # the payload is there, inert
    assert seen == 2 * (len(runs) - 1)


def test_follow_blocks_are_inert_too(cli, tmp_path):
    log = tmp_path / "a.log"
    log.write_bytes(init_exception_log("bad key " + HOSTILE))
    r = cli("diagnose", "--rules-only", str(log))
    assert "\\x1b]0;pwned" in r.out and RAW_CONTROL.search(r.out) is None


def _markup(markdown: str) -> list[str]:
    """Return the token types a CommonMark renderer (with GFM tables) makes of `markdown`, inline
    tokens included; the report's own `<sub>` footer and links to the docs are not counted."""
    types = []
    for token in MarkdownIt("commonmark").enable("table").parse(markdown):
        types.append(token.type)
        for child in token.children or ():
            if child.content in ("<sub>", "</sub>"):
                continue
            if child.type == "link_open" and "evil" not in str(child.attrGet("href")):
                continue  # the report's own links to the docs
            types.append(child.type)
    return types


def test_markdown_from_the_input_stays_text(cli, tmp_path):
    named = tmp_path / "pod [x](evil.example) <b>.log"
    named.write_bytes(suspicious_log(MARKDOWN + "\n# not a heading"))
    init = tmp_path / "init.log"
    init.write_bytes(init_exception_log("bad " + MARKDOWN + " **bold** <b>x</b> | a | b |"))
    bundle = tmp_path / "bundle"
    saved = cli("diagnose", "--save-bundle", str(bundle), str(init))
    assert saved.code == 1
    _poison_bundle(bundle)
    for args in ([str(named)], [str(init)], [str(bundle)]):
        r = cli("diagnose", "-o", "markdown", *args)
        assert r.code in (0, 1), r.err
        assert "evil.example" in r.out  # shown, as text
        types = _markup(r.out)
        for forbidden in ("link_open", "image", "html_inline", "html_block", "table_open"):
            assert forbidden not in types, (forbidden, r.out)
        html = MarkdownIt("commonmark").render(r.out)
        assert "<strong>bold</strong>" not in html and "<h1>" not in html
        assert types.count("heading_open") == len(re.findall(r"^#+ ", r.out, re.M))
        assert RAW_CONTROL.search(r.out) is None


@pytest.mark.parametrize(
    "text",
    ["a `` b", "`x", "x`", "```", "a ``` b ```` c", "", " "],
)
def test_code_spans_hold_any_backticks(text):
    tokens = MarkdownIt("commonmark").parseInline(md_code(text))[0].children or []
    assert [t.type for t in tokens] == ["code_inline"]
    assert tokens[0].content == (text if text.strip() else tokens[0].content)


def test_fences_hold_any_backticks():
    lines = ["```", "````python", "~~~", "end"]
    tokens = MarkdownIt("commonmark").parse("\n".join(md_fence(lines)))
    assert [t.type for t in tokens] == ["fence"]
    assert tokens[0].content == "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "text",
    [
        "# h",
        "1. item",
        "- item",
        "+ item",
        "===",
        "a *b* _c_ [d](e) ![f](g) <h> &amp; `i` ~~j~~ | k |",
        "2) x",
    ],
)
def test_markdown_text_renders_as_written(text):
    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(md_text(text))
    inner = re.sub(r"^<p>|</p>\n$", "", html)
    unescaped = inner.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("&quot;", '"')
    assert unescaped == text


def test_control_safe_keeps_tabs_and_asked_newlines():
    assert control_safe("a\tb\nc") == "a\tb\\x0ac"
    assert control_safe("a\tb\nc", keep_newlines=True) == "a\tb\nc"
    assert control_safe("\x1b\x9b\u202e") == "\\x1b\\x9b\\u202e"


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_parse_output_is_inert_too(cli, tmp_path, fmt):
    log = tmp_path / "a.log"
    log.write_bytes(suspicious_log("request failed " + HOSTILE))
    r = cli("diagnoser", "parse", "-o", fmt, str(log))
    assert r.code == 0, r.err
    assert RAW_CONTROL.search(r.out) is None, repr(r.out)
    assert ("\\x1b]52;c;" if fmt == "text" else "\\u001b]52;c;") in r.out  # shown, escaped
