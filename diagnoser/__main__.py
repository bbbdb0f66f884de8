"""`python -m diagnoser` runs the `diagnose` command."""

from __future__ import annotations

from diagnoser.cli.main import run_diagnose

if __name__ == "__main__":
    run_diagnose()
