"""Shared fixtures: run the CLI in-process and validate JSON reports against the shipped schema."""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The start-up cache (diagnoser/diskcache.py) goes to a fresh directory for each test session, so
# runs are hermetic and ~/.cache is left alone; subprocesses inherit it.
os.environ.setdefault("DIAGNOSER_CACHE_DIR", tempfile.mkdtemp(prefix="diagnoser-cache-"))
SCHEMA_PATH = ROOT / "diagnoser" / "schema" / "report.schema.json"
# The seven causes of the Azure ML troubleshooting page (DESIGN.md, "Root-cause catalogue"), which
# the corpus, the rule examples and the format samples must each cover.
SEED_CAUSES = (
    "oom_worker_reboot",
    "init_exception",
    "model_not_found",
    "scheduling_failure",
    "run_exception",
    "autoscale_lag",
    "request_timeout",
)


@dataclass
class Result:
    """What a CLI run printed and returned."""

    code: int
    out: str
    err: str

    def json(self) -> dict:
        """Return stdout parsed as JSON, validated against the shipped schema."""
        data = json.loads(self.out)
        validate_report(data)
        return data


def validate_report(data: dict) -> None:
    """Fail the test when `data` does not validate against the shipped report schema."""
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator(schema).validate(data)


@pytest.fixture
def cli(monkeypatch, capsys):
    """Return a function that runs `diagnose` or `diagnoser` in-process with optional stdin bytes."""
    from diagnoser.cli.common import run_app

    def run(prog: str, *args: str, stdin: bytes | None = None) -> Result:
        fake = io.TextIOWrapper(io.BytesIO(stdin or b""), encoding="utf-8")
        monkeypatch.setattr(sys, "stdin", fake)
        if prog in ("diagnose", "kubectl-diagnose"):
            from diagnoser.cli.diagnose import main

            code = main(list(args), plugin=prog == "kubectl-diagnose")
        else:
            from diagnoser.cli.toolbox import app

            code = run_app(app, list(args), prog=prog)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def default_sigint() -> None:
    """Popen preexec_fn: give the child the SIGINT a terminal's Ctrl-C meets.

    A runner started in the background by a non-interactive shell ignores SIGINT, and children
    inherit that; Python then installs no KeyboardInterrupt handler and the Ctrl-C tests would
    test nothing.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add --update-golden: tests/test_golden.py then writes its golden files instead of comparing."""
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Write the golden files of tests/test_golden.py from the current code (review the diff).",
    )
