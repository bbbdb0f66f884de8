"""`diagnose`: read logs from files or stdin, name the root cause, print the fix plan.

Built on argparse, not typer (which the `diagnoser` toolbox uses): the main job's start-up is
budgeted at 3x `python -c pass`, and typer 0.29 alone (it coerces every option through pydantic)
costs more than that. The options, help panels and exit codes are the ones DESIGN.md lists.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any, NoReturn

from diagnoser import __version__
from diagnoser.cli.common import (
    EXIT_ERROR,
    EXIT_FOUND,
    EXIT_INTERRUPTED,
    EXIT_OK,
    os_error_text,
    print_error,
    set_verbosity,
    silence_stdout,
    want_colour,
    write_stdout,
)
from diagnoser.cli.completion import SHELLS
from diagnoser.cli.progress import Progress
from diagnoser.errors import ConfigError, DiagnoserError, InputError, OutputError, did_you_mean
from diagnoser.model import Platform, Report, Severity
from diagnoser.options import (
    DEFAULT_COLLECT_TIMEOUT,
    Files,
    Input,
    Options,
    PlanOptions,
    ReplicaInputs,
    ScanRequest,
    Service,
    SourceKind,
)
from diagnoser.render import WIDTH, OutputFormat, render

PROG = "diagnose"
SCAN_DEADLINE = 300.0  # seconds a cluster scan may take in all (--deadline)
DESCRIPTION = (
    "Name the documented root cause of a failing model service from its logs, with evidence and a fix plan."
)
EPILOG = """\
Examples:
  kubectl logs web-7d9 --previous | diagnose         # what killed the last container
  diagnose app.log events.txt describe.txt           # files in any mix of formats
  diagnose --json < app.log | jq -r '.diagnoses[0].cause'
  diagnose --service web -n prod --since 1h          # collect logs, states and events, then diagnose
  diagnose -n prod                                   # what is failing in a namespace (-A: all of them)
  diagnose --platform kubernetes app.log             # the fix plan for where it runs
  diagnose -o markdown app.log > comment.md          # for a pull request or a chat channel

Exit codes: 0 nothing found, 1 a diagnosis at or above --fail-on, 2 usage or input error,
130 interrupted."""


class UsageError(DiagnoserError):
    """A command line argparse rejects: reported as `error: ...` with exit code 2."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors go through our boundary (`error: ...`, exit 2), with hints."""

    def error(self, message: str) -> NoReturn:
        hint = "see diagnose --help"
        if message.startswith("unrecognized arguments: "):
            unknown = message.split(": ", 1)[1].split()
            flag = next((u for u in unknown if u.startswith("-")), None)
            if flag is not None:
                options = [s for a in self._actions for s in a.option_strings]
                hint = did_you_mean(flag.split("=", 1)[0], options) or hint
                message = f"no such option: {flag}"
            else:
                message = "unexpected arguments: " + " ".join(unknown)
        raise UsageError(message, hint=hint)

    def _print_message(self, message: str, file: Any = None) -> None:
        """Print help or version text; argparse ignores a failed write, but help lost to a full disk is
        an error (exit 2) like any other output."""
        if message and file is sys.stdout:
            write_stdout(message)
        else:
            super()._print_message(message, file)


def _bounded(
    kind: Callable[[str], Any], low: float | None = None, high: float | None = None
) -> Callable[[str], Any]:
    """Return an argparse type converting with `kind` and checking low <= value <= high."""
    name = "integer" if kind is int else "number"

    def convert(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a valid {name}") from None
        if value != value or (low is not None and value < low) or (high is not None and value > high):
            span = f"at least {low}" if high is None else f"from {low} to {high}"
            raise argparse.ArgumentTypeError(f"{text} is out of range: it must be {span}")
        return value

    convert.__name__ = name
    return convert


def _choice(enum: type[StrEnum]) -> Callable[[str], Any]:
    """Return an argparse type accepting an enum's values (case-insensitively)."""
    values = [m.value for m in enum]

    def convert(text: str) -> Any:
        try:
            return enum(text.lower())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(values)}") from None

    convert.__name__ = enum.__name__
    return convert


def _metavar(enum: type[StrEnum]) -> str:
    return "{" + ",".join(m.value for m in enum) + "}"


PLUGIN_PROG = "kubectl diagnose"
PLUGIN_DESCRIPTION = """\
Diagnose a Kubernetes service: find it, collect its logs (current and previous), container states
and events, name the documented root cause, and print a fix plan. kubectl runs this as a plugin."""
PLUGIN_EPILOG = """\
Examples:
  kubectl diagnose web -n prod                  # the service, deployment or statefulset named web
  kubectl diagnose web --since 1h --json        # the last hour, as JSON for a bot
  kubectl diagnose web --save-bundle web-bundle # keep what was read (redacted) to replay offline

Exit codes: 0 nothing found, 1 a diagnosis at or above --fail-on, 2 usage or input error,
130 interrupted."""


def build_parser(plugin: bool = False) -> argparse.ArgumentParser:
    """Return the parser of `diagnose` (or, as a kubectl plugin, of `kubectl diagnose NAME`); option
    groups follow STYLE.md's help panels."""
    p = _Parser(
        prog=PLUGIN_PROG if plugin else PROG,
        description=PLUGIN_DESCRIPTION if plugin else DESCRIPTION,
        epilog=PLUGIN_EPILOG if plugin else EPILOG,
        allow_abbrev=False,
        add_help=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if plugin:
        p.add_argument(
            "service", metavar="NAME", help="The service (or deployment, statefulset) to diagnose."
        )
    else:
        p.add_argument(
            "paths",
            nargs="*",
            metavar="PATH",
            help="Log files to read; '-' or nothing reads stdin. Formats are detected per line.",
        )
    p.add_argument("-h", "--help", action="help", help="Show this message and exit.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}", help="Show the version.")
    if plugin:  # kubectl completes its plugins itself
        p.set_defaults(completion=None)
    else:
        p.add_argument(
            "--completion",
            choices=SHELLS,
            metavar="{" + ",".join(SHELLS) + "}",
            help='Print the shell completion script, e.g. eval "$(diagnose --completion bash)".',
        )
    p.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="Say how each diagnosis was reached (confidence, detector, rule) and log more on stderr.",
    )

    out = p.add_argument_group("Output")
    out.add_argument("--json", dest="json_out", action="store_true", help="Same as --output json.")
    out.add_argument(
        "-o",
        "--output",
        type=_choice(OutputFormat),
        default=OutputFormat.TEXT,
        metavar=_metavar(OutputFormat),
        help="Output format (default: text).",
    )
    out.add_argument("--top", type=_bounded(int, 1), metavar="N", help="Show at most this many diagnoses.")
    if not plugin:
        out.add_argument(
            "-f",
            "--follow",
            action="store_true",
            help="Keep reading growing files or an endless stdin; print each diagnosis when it appears or "
            "changes (JSON lines with a fingerprint, or text on a terminal), and the report at the end "
            "or at Ctrl-C.",
        )
    out.add_argument(
        "--fail-on",
        type=_choice(Severity),
        default=Severity.INFO,
        metavar=_metavar(Severity),
        help="Exit 1 when a diagnosis is at least this severe (default: info).",
    )
    out.add_argument(
        "--color",
        "--colour",
        dest="colour",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="Colour (default: on a TTY unless NO_COLOR).",
    )
    out.add_argument(
        "--no-redact",
        action="store_true",
        help="Show secrets (tokens, keys, passwords) as the logs have them.",
    )
    out.add_argument(
        "--redact-pattern",
        action="append",
        metavar="REGEX",
        help="Also redact what this regular expression matches (repeatable; a group named 'secret' "
        "limits it to that group).",
    )

    tune = p.add_argument_group("Tuning")
    tune.add_argument(
        "--rules-only", action="store_true", help="Rules alone: leave the shipped classifier out."
    )
    tune.add_argument(
        "--rules",
        dest="rules_dir",
        action="append",
        metavar="PATH",
        help="Rule files or directories instead of the shipped rules (repeatable).",
    )
    tune.add_argument(
        "-j",
        "--jobs",
        type=_bounded(int, 0, 2),
        default=0,
        metavar="N",
        help="Processes: 1 reads, parses and detects in one; 2 parses in a second process while this "
        "one detects; 0 (default) uses 2 for 1 MiB or more of input when 2+ cores are free.",
    )
    tune.add_argument(
        "--platform",
        type=_choice(Platform),
        metavar=_metavar(Platform),
        help="Write the fix plan for this platform instead of the detected one.",
    )
    tune.add_argument(
        "--target-rps",
        type=_bounded(float, 0),
        metavar="RPS",
        help="Peak requests per second to plan replicas for.",
    )
    tune.add_argument(
        "--request-seconds", type=_bounded(float, 0), metavar="S", help="Seconds one request takes."
    )
    tune.add_argument(
        "--max-requests-per-container",
        type=_bounded(int, 1),
        default=1,
        metavar="N",
        help="Concurrent requests one replica serves (default: 1).",
    )
    tune.add_argument(
        "--target-utilization",
        type=_bounded(float, 0.01, 1.0),
        metavar="F",
        help="autoscale_target_utilization as a fraction (default 0.7).",
    )

    col = p.add_argument_group("Collect")
    if plugin:  # NAME is the service, looked for in Kubernetes only: --service and --source are implied
        col.set_defaults(paths=[], source=[SourceKind.KUBERNETES], journal=None)
    else:
        col.add_argument(
            "--service",
            metavar="NAME",
            help="Find this service (Kubernetes Service / Deployment / StatefulSet / Azure ML app, Docker "
            "container) and collect its logs, states and events.",
        )
        col.add_argument(
            "--source",
            action="append",
            type=_choice(SourceKind),
            metavar=_metavar(SourceKind),
            help="Where to look for --service (repeatable); auto tries what is reachable.",
        )
    col.add_argument("-n", "--namespace", help="Kubernetes namespace (default: the context's).")
    if not plugin:
        col.add_argument(
            "-A",
            "--all-namespaces",
            action="store_true",
            help="Without --service or files: scan every namespace for failing workloads.",
        )
        col.add_argument(
            "-l",
            "--selector",
            metavar="SELECTOR",
            help="Without --service or files: scan only pods with these labels (app=web,tier!=db).",
        )
        col.add_argument(
            "--deadline",
            type=_bounded(float, 1),
            default=SCAN_DEADLINE,
            metavar="S",
            help=f"Seconds a scan may take in all; what is not diagnosed by then is listed (default: "
            f"{SCAN_DEADLINE:g}).",
        )
        col.add_argument(
            "--metrics-file",
            metavar="PATH",
            help="After a scan, write Prometheus text-format metrics here (for a textfile collector).",
        )
    col.add_argument("--context", help="Kubernetes context of the kubeconfig.")
    col.add_argument("--since", metavar="AGE", help="Collect only what is newer than this (30m, 2h, 1d).")
    col.add_argument(
        "--tail",
        type=_bounded(int, 1),
        metavar="N",
        help="Collect at most this many log lines per container (default 2000).",
    )
    col.add_argument(
        "--timeout",
        type=_bounded(float, 0.1),
        default=DEFAULT_COLLECT_TIMEOUT,
        metavar="S",
        help="Seconds one call to a source may take, its whole answer included (default: 10).",
    )
    if not plugin:
        col.add_argument(
            "--journal",
            action="append",
            metavar="PATH",
            help="Journal file or directory for the journald source (default: the system journal).",
        )
    col.add_argument(
        "--save-bundle",
        metavar="DIR",
        help="Write what was read (secrets redacted) to this directory; `diagnose DIR` replays it.",
    )
    return p


def diagnose(args: argparse.Namespace) -> int:
    """Run the main job for parsed arguments; return the exit code."""
    from diagnoser.pipeline import diagnose as run  # deferred: `diagnose --help` needs no stage

    if args.completion:
        from diagnoser.cli.completion import diagnose_script

        write_stdout(diagnose_script(build_parser(), args.completion))
        return EXIT_OK
    set_verbosity(args.verbose)
    paths = list(args.paths or [])
    if _scanning(args):
        return _scan(args)
    if args.service is None:
        _no_collect_options(args.source, args.namespace, args.context, args.since, args.tail, args.journal)
        _no_scan_options(args)
    if not paths and args.service is None and sys.stdin.isatty():
        raise InputError("no input: pipe logs on stdin or pass log files (see diagnose --help)")
    if paths.count("-") > 1:
        raise ConfigError("'-' (stdin) given more than once")
    if getattr(args, "follow", False):
        return _follow(args, paths)
    progress = Progress(sys.stderr) if sys.stderr.isatty() else None
    options = dataclasses.replace(options_from(args), progress=progress)
    unsaved: OutputError | None = None
    try:
        try:
            report = run(inputs_from(args), options)
        finally:
            if progress is not None:
                progress.clear()
    except OutputError as failed:
        if failed.report is None:
            raise
        report, unsaved = failed.report, failed  # only the bundle failed: the report still goes out, first
    if args.service is not None:
        _tell_collected(report, args.source, options.save_bundle if unsaved is None else None)
    fmt = _output_format(args)
    colour = want_colour(args.colour) and fmt in (OutputFormat.TEXT, OutputFormat.WIDE)
    text = render(report, fmt, options.redactor, colour=colour, verbose=args.verbose > 0, width=text_width())
    write_stdout(text)
    if unsaved is not None:
        raise unsaved
    return _exit_code(report, args.fail_on)


def _output_format(args: argparse.Namespace) -> OutputFormat:
    """Return the format asked for: --json is -o json."""
    return OutputFormat.JSON if args.json_out else args.output


def _exit_code(report: Report, fail_on: Severity) -> int:
    """Return 1 when a diagnosis is at least as severe as --fail-on, else 0."""
    return EXIT_FOUND if any(d.severity.rank >= fail_on.rank for d in report.diagnoses) else EXIT_OK


def _follow(args: argparse.Namespace, paths: list[str]) -> int:
    """Follow growing files or an endless stdin: print each diagnosis when it appears or changes (JSON
    lines, or text blocks on a terminal), then the report when the input ends or at Ctrl-C."""
    from datetime import UTC, datetime

    from diagnoser.pipeline import Update, follow
    from diagnoser.render import render_final, render_update

    if args.service is not None or args.save_bundle:
        raise ConfigError("--follow reads files or stdin", hint="leave out --service and --save-bundle")
    options = options_from(args)
    fmt = _output_format(args)
    lines = fmt is OutputFormat.JSON or not sys.stdout.isatty()  # bots read JSON lines
    width = text_width()

    def emit(update: Update) -> None:
        at = datetime.now(UTC).isoformat(timespec="seconds")
        write_stdout(render_update(update, options.redactor, at, as_json=lines, width=width))

    def final(report: Report) -> None:
        if lines:
            write_stdout(render_final(report, options.redactor))
        else:
            colour = want_colour(args.colour)
            write_stdout("\n" + render(report, fmt, options.redactor, colour=colour, width=width))

    try:
        report = follow(Files(tuple(paths)), options, emit)
    except KeyboardInterrupt as interrupt:
        so_far = getattr(interrupt, "report", None)
        if so_far is not None:
            final(so_far)
        raise
    final(report)
    return _exit_code(report, args.fail_on)


def text_width() -> int:
    """Return where text output wraps: the terminal's width (within reason) on a terminal, else 100."""
    if not sys.stdout.isatty():
        return WIDTH
    import shutil

    return max(60, min(shutil.get_terminal_size((WIDTH, 24)).columns, 200))


def inputs_from(args: argparse.Namespace) -> list[Input]:
    """Return what to read: the paths (stdin when none and no --service), then the service to collect."""
    inputs: list[Input] = []
    if args.paths or args.service is None:
        inputs.append(Files(tuple(args.paths or ())))
    if args.service is not None:
        inputs.append(
            Service(
                name=args.service,
                kinds=tuple(args.source or (SourceKind.AUTO,)),
                namespace=args.namespace,
                context=args.context,
                since=args.since,
                tail=args.tail,
                timeout=args.timeout,
                journal=tuple(args.journal or ()),
            )
        )
    return inputs


def options_from(args: argparse.Namespace) -> Options:
    """Return the run's options; a bad --redact-pattern fails here, before any work."""
    plan = PlanOptions(
        platform=args.platform,
        replicas=ReplicaInputs(
            args.target_rps, args.request_seconds, args.max_requests_per_container, args.target_utilization
        ),
    )
    return Options(
        rule_paths=tuple(Path(p) for p in args.rules_dir or ()),
        plan=plan,
        top=args.top,
        classifier=not args.rules_only,
        redact=not args.no_redact,
        redact_patterns=tuple(args.redact_pattern or ()),
        save_bundle=Path(args.save_bundle) if args.save_bundle else None,
        jobs=args.jobs,
    )


def _scanning(args: argparse.Namespace) -> bool:
    """Return True for a cluster scan: a namespace, -A or -l, and neither --service nor files."""
    return (
        getattr(args, "service", None) is None
        and not (args.paths or [])
        and bool(args.namespace or getattr(args, "all_namespaces", False) or getattr(args, "selector", None))
    )


def _no_scan_options(args: argparse.Namespace) -> None:
    """Reject the scan's options where no scan runs (files given, or --service)."""
    given = [
        flag
        for flag, value in (
            ("--all-namespaces", getattr(args, "all_namespaces", False)),
            ("--selector", getattr(args, "selector", None)),
            ("--metrics-file", getattr(args, "metrics_file", None)),
        )
        if value
    ]
    if given:
        raise ConfigError(
            f"{', '.join(given)} only apply to a cluster scan",
            hint="leave out the files: diagnose -n NS or -A",
        )


def _scan(args: argparse.Namespace) -> int:
    """Scan a namespace (or all) for failing workloads and diagnose each: JSON lines in workload order
    as they are done, or a table at the end; metrics to --metrics-file."""
    import time

    from diagnoser.pipeline import scan
    from diagnoser.render import render_metrics, render_scan_line, render_scan_table

    fmt = _output_format(args)
    if fmt not in (OutputFormat.TEXT, OutputFormat.WIDE, OutputFormat.JSON):
        raise ConfigError(
            f"a cluster scan prints a table or JSON lines, not {fmt.value}",
            hint="use -o text or --json; for one workload's report in another format, add --service NAME",
        )
    if args.save_bundle or args.source not in (None, [SourceKind.KUBERNETES], [SourceKind.AUTO]):
        raise ConfigError(
            "a cluster scan reads Kubernetes only, and saves no bundle",
            hint="leave out --save-bundle and --source, or diagnose one workload with --service NAME",
        )
    if args.all_namespaces and args.namespace:
        raise ConfigError("--namespace and --all-namespaces do not go together", hint="keep one of them")
    options = options_from(args)
    request = ScanRequest(args.namespace, args.all_namespaces, args.selector, args.context, args.timeout)
    service = Service("", context=args.context, since=args.since, tail=args.tail, timeout=args.timeout)
    found, diagnosed = scan(request, service, options, args.deadline)
    order = {w.key: i for i, w in enumerate(found.workloads)}
    done: dict[int, Any] = {}
    shown = 0
    for result in diagnosed:
        done[order[result.workload.key]] = result
        while fmt is OutputFormat.JSON and shown in done:  # in workload order, each as soon as it can be
            write_stdout(render_scan_line(done[shown], options.redactor))
            shown += 1
    results = [done[i] for i in sorted(done)]
    if fmt is OutputFormat.JSON:
        for warning in found.warnings:
            sys.stderr.write(f"warning: {options.redactor(warning)}\n")
    else:
        write_stdout(render_scan_table(results, found, options.redactor, text_width()))
    if args.metrics_file:
        _write_atomically(
            Path(args.metrics_file), render_metrics(results, found, options.redactor, time.time())
        )
    failing = [r for r in results if r.report is None or not r.report.diagnoses]
    severe = any(_exit_code(r.report, args.fail_on) == EXIT_FOUND for r in results if r.report is not None)
    return EXIT_FOUND if severe or failing else EXIT_OK


def _write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file beside it and a rename: a textfile collector
    never reads a half-written file."""
    import os

    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(
            f"{path}: --metrics-file: cannot write the metrics: {exc.strerror or exc}",
            hint="name a file in a directory you can write to",
        ) from None


def _no_collect_options(*values: object) -> None:
    """Reject collector options given without --service."""
    names = ("--source", "--namespace", "--context", "--since", "--tail", "--journal")
    given = [n for n, v in zip(names, values, strict=True) if v not in (None, [])]
    if given:
        raise ConfigError(f"{', '.join(given)} only apply to --service", hint="add --service NAME")


def _tell_collected(report: Report, sources: list[SourceKind] | None, bundle: Path | None) -> None:
    """Tell on stderr which sources the collection used, which it skipped if it chose, and the bundle."""
    collected = report.collected
    if collected is not None and collected.used:
        sys.stderr.write(f"collected {collected.pieces} sources from {'; '.join(collected.used)}\n")
    if collected is not None and (not sources or SourceKind.AUTO in sources):
        for skipped in collected.skipped:
            sys.stderr.write(f"skipped {skipped}\n")
    if bundle is not None:
        sys.stderr.write(f"saved bundle to {bundle} (replay: diagnose {bundle})\n")


def main(argv: Sequence[str] | None = None, plugin: bool = False) -> int:
    """Parse `argv` (default: sys.argv[1:]) and run; map every outcome to an exit code. `plugin`: the
    command line is kubectl's, `kubectl diagnose NAME [options]`."""
    try:
        try:
            args = build_parser(plugin).parse_args(argv)
        except SystemExit as exc:  # --help printed its text
            return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_ERROR
        return diagnose(args)
    except DiagnoserError as exc:
        print_error(str(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        silence_stdout()
        return EXIT_OK
    except OSError as exc:  # outside the stages' own handling: still a message, not a traceback
        print_error(os_error_text(exc))
        return EXIT_ERROR
