"""`diagnose`: read logs from files or stdin, name the root cause, print the fix plan."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from diagnoser.cli.common import EXIT_FOUND, EXIT_OK, set_verbosity, want_colour, write_stdout
from diagnoser.errors import ConfigError, InputError
from diagnoser.model import Platform, Severity
from diagnoser.render import OutputFormat, render

app = typer.Typer(
    add_completion=False,
    no_args_is_help=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.command()
def diagnose(
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Log files to read; '-' or nothing reads stdin. Formats are detected per line."),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Same as --output json.", rich_help_panel="Output")] = False,
    output: Annotated[OutputFormat, typer.Option("--output", "-o", help="Output format.", rich_help_panel="Output")] = (
        OutputFormat.TEXT
    ),
    top: Annotated[int | None, typer.Option(min=1, help="Show at most this many diagnoses.", rich_help_panel="Output")] = None,
    fail_on: Annotated[
        Severity, typer.Option(help="Exit 1 when a diagnosis is at least this severe.", rich_help_panel="Output")
    ] = Severity.INFO,
    colour: Annotated[
        bool | None, typer.Option("--color/--no-color", help="Colour (default: on a TTY unless NO_COLOR).", rich_help_panel="Output")
    ] = None,
    rules_dir: Annotated[
        list[Path] | None, typer.Option("--rules", help="Rule files or directories instead of the shipped rules.", rich_help_panel="Tuning")
    ] = None,
    platform: Annotated[
        Platform | None, typer.Option(help="Write the fix plan for this platform instead of the detected one.", rich_help_panel="Tuning")
    ] = None,
    target_rps: Annotated[float | None, typer.Option(min=0, help="Peak requests per second to plan replicas for.", rich_help_panel="Tuning")] = None,
    request_seconds: Annotated[float | None, typer.Option(min=0, help="Seconds one request takes.", rich_help_panel="Tuning")] = None,
    max_requests_per_container: Annotated[int, typer.Option(min=1, help="Concurrent requests one replica serves.", rich_help_panel="Tuning")] = 1,
    target_utilization: Annotated[
        float | None, typer.Option(min=0.01, max=1.0, help="autoscale_target_utilization as a fraction (default 0.7).", rich_help_panel="Tuning")
    ] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More logging on stderr.")] = 0,
) -> int:
    """Name the documented root cause of a failing model service from its logs, with evidence and a fix plan.

    Exit codes: 0 nothing found, 1 a diagnosis at or above --fail-on, 2 usage or input error, 130 interrupted.
    """
    from diagnoser.collect import open_inputs
    from diagnoser.detect import load_rules
    from diagnoser.pipeline import Options, diagnose as run_pipeline
    from diagnoser.plan import PlanOptions
    from diagnoser.plan.suggest import ReplicaInputs

    set_verbosity(verbose)
    inputs = list(paths or [])
    if not inputs and sys.stdin.isatty():
        raise InputError("no input: pipe logs on stdin or pass log files (see diagnose --help)")
    if inputs.count("-") > 1:
        raise ConfigError("'-' (stdin) given more than once")
    sources = open_inputs(inputs)
    rules = load_rules(rules_dir) if rules_dir else None
    plan = PlanOptions(
        platform=platform,
        replicas=ReplicaInputs(target_rps, request_seconds, max_requests_per_container, target_utilization),
    )
    report = run_pipeline(sources, Options(rules=rules, plan=plan, top=top))
    fmt = OutputFormat.JSON if json_out else output
    write_stdout(render(report, fmt, colour=want_colour(colour) and fmt is OutputFormat.TEXT))
    failing = [d for d in report.diagnoses if d.severity.rank >= fail_on.rank]
    return EXIT_FOUND if failing else EXIT_OK
