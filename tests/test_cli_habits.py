"""The command-line habits users bring from kubectl and other CLIs: --version, examples in help,
shell completion, the verdict first, -o wide / -o yaml, text wrapped to the terminal."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
import yaml

from diagnoser import __version__
from tests.conftest import ROOT

OOM = str(ROOT / "examples" / "oom-gunicorn.log")
HEALTHY = str(ROOT / "corpus" / "cases" / "lab" / "azmlinfsrv-1.5.1" / "healthy" / "input.log")


def test_both_commands_print_their_version(cli) -> None:
    assert cli("diagnose", "--version").out == f"diagnose {__version__}\n"
    assert cli("diagnoser", "--version").out == f"diagnoser {__version__}\n"


def test_both_commands_show_examples_in_their_help(cli) -> None:
    diagnose_help = cli("diagnose", "--help").out
    assert "Examples:\n  kubectl logs web-7d9 --previous | diagnose" in diagnose_help
    toolbox_help = cli("diagnoser", "--help").out
    assert "Examples:\n    diagnoser explain oom_worker_reboot" in toolbox_help


def test_the_verdict_is_the_first_line_and_what_was_read_the_last(cli) -> None:
    lines = cli("diagnose", OOM).out.splitlines()
    assert lines[0].startswith("1. CRITICAL oom_worker_reboot: ")
    assert lines[-1] == "read 17 lines from file:" + OOM
    healthy = cli("diagnose", HEALTHY).out.splitlines()
    assert healthy[0].startswith("no failure found: listening on http://0.0.0.0:49989")
    assert healthy[-1].startswith("read 56 lines from ")


def test_yaml_output_carries_exactly_the_json_report(cli) -> None:
    as_json = json.loads(cli("diagnose", "--json", OOM).out)
    as_yaml = yaml.safe_load(cli("diagnose", "-o", "yaml", OOM).out)
    assert as_yaml == as_json


def test_wide_output_keeps_long_evidence_lines_whole(cli, tmp_path) -> None:
    filler = " ".join(f"shard-{i}" for i in range(60))
    line = f"[2026-11-25 02:50:07 +0000] [1] [ERROR] Worker (pid:7) was sent SIGKILL! {filler}"
    log = tmp_path / "long.log"
    log.write_text("\n".join([line] * 4) + "\n")
    text, wide = cli("diagnose", str(log)).out, cli("diagnose", "-o", "wide", str(log)).out
    assert "shard-59" in wide and "shard-30" in wide
    assert "shard-30" not in text  # text shortens the middle of a long line
    assert wide.count("\n") <= text.count("\n") + 1


def test_text_wraps_at_the_terminal_width(monkeypatch) -> None:
    from diagnoser.cli import diagnose as cmd

    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(cmd.sys, "stdout", Terminal())
    monkeypatch.setattr(shutil, "get_terminal_size", lambda fallback=None: shutil.os.terminal_size((72, 24)))
    assert cmd.text_width() == 72
    monkeypatch.setattr(shutil, "get_terminal_size", lambda fallback=None: shutil.os.terminal_size((20, 24)))
    assert cmd.text_width() == 60  # too narrow to be readable: a floor
    monkeypatch.setattr(cmd.sys, "stdout", sys.__stdout__)


def test_prose_lines_fit_the_width_they_are_given() -> None:
    from diagnoser.options import Files, Options
    from diagnoser.pipeline import diagnose
    from diagnoser.redact import DEFAULT
    from diagnoser.render.text import render_text

    report = diagnose([Files((OOM,))], Options())
    narrow = render_text(report, DEFAULT, width=70)
    # Quoted log lines keep their own length (-o wide shows them whole); doc links are not cut.
    prose = [ln for ln in narrow.splitlines() if ".log:" not in ln and "docs:" not in ln]
    assert len(prose) > 10 and all(len(ln) <= 70 for ln in prose), [ln for ln in prose if len(ln) > 70]


BASH = shutil.which("bash")


def _complete(script: str, words: list[str], function: str) -> list[str]:
    """Return what the bash completion function offers for `words` (the last one being completed)."""
    assert BASH is not None
    array = " ".join(f"'{w}'" for w in words)
    call = f"COMP_WORDS=({array}); COMP_CWORD={len(words) - 1}; {function} {words[0]}"
    program = f'{script}\n{call}; printf "%s\\n" "${{COMPREPLY[@]}}"'
    out = subprocess.run([BASH, "-c", program], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_diagnose_completes_its_options_and_their_values_in_bash(cli) -> None:
    script = cli("diagnose", "--completion", "bash").out
    assert _complete(script, ["diagnose", "--fail"], "_diagnose") == ["--fail-on"]
    assert _complete(script, ["diagnose", "-o", "y"], "_diagnose") == ["yaml"]
    assert _complete(script, ["diagnose", "--source", ""], "_diagnose") == [
        "auto",
        "kubernetes",
        "docker",
        "journald",
    ]
    assert "examples/oom-gunicorn.log" in _complete(script, ["diagnose", "examples/oom"], "_diagnose")
    assert _complete(script, ["diagnose", "--since", ""], "_diagnose") == []  # the user's own value


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_diagnoser_completes_its_commands_in_bash(cli) -> None:
    script = cli("diagnoser", "completion", "bash").out
    # The script calls the command on PATH, as the shell will: this interpreter's toolbox.
    toolbox = "from diagnoser.cli.main import run_toolbox; run_toolbox()"
    shim = f'diagnoser() {{ "{sys.executable}" -c "{toolbox}" "$@"; }}\n'
    assert _complete(shim + script, ["diagnoser", "rules", "l"], "_diagnoser_completion") == ["list", "lint"]


def test_zsh_and_fish_scripts_name_every_option(cli) -> None:
    zsh = cli("diagnose", "--completion", "zsh").out
    assert zsh.startswith("autoload -U +X bashcompinit && bashcompinit\n") and "complete -o filenames" in zsh
    fish = cli("diagnose", "--completion", "fish").out
    for option in (
        "-s o -l output -r -f -a 'text wide json yaml markdown sarif junit'",
        "-l save-bundle -r",
        "-l json",
    ):
        assert option in fish
    assert cli("diagnoser", "completion", "fish").out.startswith("complete --command diagnoser")
    assert cli("diagnoser", "completion", "tcsh").code == 2
