"""Console entry points: `diagnose` (the main job) and `diagnoser` (the toolbox)."""

from __future__ import annotations

import sys

from diagnoser.cli.common import run_app


def run_diagnose() -> None:
    """Run the `diagnose` command."""
    from diagnoser.cli.diagnose import app

    sys.exit(run_app(app, prog="diagnose"))


def run_toolbox() -> None:
    """Run the `diagnoser` toolbox."""
    from diagnoser.cli.toolbox import app

    sys.exit(run_app(app, prog="diagnoser"))


if __name__ == "__main__":
    run_toolbox()
