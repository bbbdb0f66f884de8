"""`diagnoser rules list|lint|test`: the shipped rules, or those in --rules paths."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from diagnoser.cli.common import EXIT_ERROR, EXIT_OK, write_stdout

app = typer.Typer(no_args_is_help=True, help="List, lint and test detection rules.", rich_markup_mode=None)

PathsArg = Annotated[
    list[Path] | None, typer.Argument(help="Rule files or directories (default: the shipped rules).")
]


@app.command("list")
def list_rules(paths: PathsArg = None) -> int:
    """List rules: id, cause, severity, status and title."""
    from diagnoser.detect import load_rules

    rules = load_rules(paths or None)
    width = max((len(r.id) for r in rules), default=2)
    cause_width = max((len(r.cause) for r in rules), default=5)
    lines = [
        f"{r.id:<{width}}  {r.cause:<{cause_width}}  {r.severity.value:<8}  {r.status.value:<12}  {r.title}"
        for r in rules
    ]
    write_stdout("\n".join(lines) + ("\n" if lines else ""))
    typer.echo(f"{len(rules)} rules", err=True)
    return EXIT_OK


@app.command()
def lint(paths: PathsArg = None) -> int:
    """Check rules for unknown keys, unused matchers, bad regexes, missing examples and more."""
    from diagnoser.detect import lint_rules, load_rules

    rules = load_rules(paths or None)
    issues = lint_rules(rules)
    for issue in issues:
        typer.echo(str(issue), err=True)
    typer.echo(f"{len(rules)} rules, {len(issues)} problems", err=True)
    return EXIT_ERROR if issues else EXIT_OK


@app.command()
def test(paths: PathsArg = None) -> int:
    """Run every rule's positive and negative examples; todo examples must still fail."""
    from diagnoser.detect import load_rules, run_examples

    rules = load_rules(paths or None)
    results = run_examples(rules)
    bad = [r for r in results if not r.ok]
    for r in bad:
        verb = "did not fire" if r.kind.should_fire else "fired"
        note = " (a todo example now passes: move it out of todo_*)" if r.outcome.value == "fixed" else ""
        typer.echo(f"FAIL {r.name}: {verb}{note}", err=True)
    passed = len(results) - len(bad)
    write_stdout(f"rules: {passed} passed, {len(bad)} failed\n")
    return EXIT_ERROR if bad else EXIT_OK
