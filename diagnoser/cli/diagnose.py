"""`diagnose`: read logs from files or stdin, name the root cause, print the fix plan."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from diagnoser.cli.common import EXIT_FOUND, EXIT_OK, set_verbosity, want_colour, write_stdout
from diagnoser.collect.base import SourceKind
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
    rules_only: Annotated[
        bool, typer.Option("--rules-only", help="Rules alone: leave the shipped classifier out.", rich_help_panel="Tuning")
    ] = False,
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
    service: Annotated[
        str | None,
        typer.Option(help="Find this service (Kubernetes Service / Deployment / StatefulSet / Azure ML app, Docker container) and collect its logs, states and events.", rich_help_panel="Collect"),
    ] = None,
    source: Annotated[
        list[SourceKind] | None, typer.Option("--source", help="Where to look for --service (repeatable); auto tries what is reachable.", rich_help_panel="Collect")
    ] = None,
    namespace: Annotated[str | None, typer.Option("--namespace", "-n", help="Kubernetes namespace (default: the context's).", rich_help_panel="Collect")] = None,
    context: Annotated[str | None, typer.Option(help="Kubernetes context of the kubeconfig.", rich_help_panel="Collect")] = None,
    since: Annotated[str | None, typer.Option(help="Collect only what is newer than this (30m, 2h, 1d).", rich_help_panel="Collect")] = None,
    tail: Annotated[int | None, typer.Option(min=1, help="Collect at most this many log lines per container (default 2000).", rich_help_panel="Collect")] = None,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds one network call may take.", rich_help_panel="Collect")] = 10.0,
    journal: Annotated[
        list[str] | None, typer.Option(help="Journal file or directory for the journald source (default: the system journal).", rich_help_panel="Collect")
    ] = None,
    save_bundle: Annotated[
        Path | None, typer.Option(help="Write what was read (secrets redacted) to this directory; `diagnose DIR` replays it.", rich_help_panel="Collect")
    ] = None,
    no_redact: Annotated[
        bool, typer.Option("--no-redact", help="Show secrets (tokens, keys, passwords) as the logs have them.", rich_help_panel="Output")
    ] = False,
    redact_pattern: Annotated[
        list[str] | None,
        typer.Option("--redact-pattern", metavar="REGEX", help="Also redact what this regular expression matches (repeatable; a group named 'secret' limits it to that group).", rich_help_panel="Output"),
    ] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More logging on stderr.")] = 0,
) -> int:
    """Name the documented root cause of a failing model service from its logs, with evidence and a fix plan.

    Exit codes: 0 nothing found, 1 a diagnosis at or above --fail-on, 2 usage or input error, 130 interrupted.
    """
    from diagnoser.collect import open_inputs
    from diagnoser.collect.bundle import bundle_warnings
    from diagnoser.detect import load_rules
    from diagnoser.pipeline import Options, diagnose_collected
    from diagnoser.plan import PlanOptions
    from diagnoser.plan.suggest import ReplicaInputs
    from diagnoser.redact import make_redactor

    set_verbosity(verbose)
    inputs = list(paths or [])
    if service is None:
        _no_collect_options(source, namespace, context, since, tail, journal)
    if not inputs and service is None and sys.stdin.isatty():
        raise InputError("no input: pipe logs on stdin or pass log files (see diagnose --help)")
    if inputs.count("-") > 1:
        raise ConfigError("'-' (stdin) given more than once")
    redactor = make_redactor(redact_pattern or (), enabled=not no_redact)
    sources = open_inputs(inputs) if inputs or service is None else []
    rules = load_rules(rules_dir) if rules_dir else None
    plan = PlanOptions(
        platform=platform,
        replicas=ReplicaInputs(target_rps, request_seconds, max_requests_per_container, target_utilization),
    )
    options = Options(rules=rules, plan=plan, top=top, warnings=bundle_warnings(inputs), classifier=not rules_only, redactor=redactor)
    if service is not None:
        report = _collect_and_diagnose(sources, service, source, namespace, context, since, tail, timeout, journal, options, save_bundle)
    else:
        report = diagnose_collected(sources, None, options, bundle_dir=save_bundle)
    fmt = OutputFormat.JSON if json_out else output
    write_stdout(render(report, fmt, colour=want_colour(colour) and fmt is OutputFormat.TEXT, redactor=redactor))
    failing = [d for d in report.diagnoses if d.severity.rank >= fail_on.rank]
    return EXIT_FOUND if failing else EXIT_OK


def _no_collect_options(*values: object) -> None:
    """Reject collector options given without --service."""
    names = ("--source", "--namespace", "--context", "--since", "--tail", "--journal")
    given = [n for n, v in zip(names, values, strict=True) if v not in (None, [])]
    if given:
        raise ConfigError(f"{', '.join(given)} only apply to --service", hint="add --service NAME")


def _collect_and_diagnose(sources, service, kinds, namespace, context, since, tail, timeout, journal, options, save_bundle):  # noqa: ANN001, ANN202
    """Collect the service, tell on stderr which sources were used, and diagnose."""
    from diagnoser.collect.base import DEFAULT_TAIL, Request, parse_since
    from diagnoser.pipeline import diagnose_service

    request = Request(
        service=service,
        namespace=namespace,
        context=context,
        since_seconds=parse_since(since),
        tail=tail if tail is not None else DEFAULT_TAIL,
        timeout=timeout,
        journal=tuple(journal or ()),
    )
    report, outcome = diagnose_service(sources, request, list(kinds or [SourceKind.AUTO]), options, bundle_dir=save_bundle)
    if outcome.used:
        sys.stderr.write(f"collected {len(outcome.pieces)} sources from {'; '.join(outcome.used)}\n")
    if not kinds or SourceKind.AUTO in kinds:
        for skipped in outcome.skipped:
            sys.stderr.write(f"skipped {skipped}\n")
    if save_bundle is not None:
        sys.stderr.write(f"saved bundle to {save_bundle} (replay: diagnose {save_bundle})\n")
    return report
