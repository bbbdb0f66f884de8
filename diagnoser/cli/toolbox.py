"""`diagnoser`: the toolbox — rules, explain, parse. One file per command group."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from diagnoser import __version__
from diagnoser.cli.corpus import app as corpus_app
from diagnoser.cli.explain import explain
from diagnoser.cli.parse import parse
from diagnoser.cli.rules import app as rules_app

HELP = """diagnoser toolbox: check rules, explain causes, show parsed events, evaluate on the corpus.

\b
Examples:
  diagnoser explain oom_worker_reboot      # a cause: what it means, how it is found and fixed
  diagnoser parse app.log -o json          # the events the parsers make of a log
  diagnoser rules lint my-rules/           # check your own rules before --rules uses them
  diagnoser rules test                     # run every rule's examples
  diagnoser corpus eval                    # accuracy per cause on the labelled corpus
"""

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    help=HELP,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"diagnoser {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """The toolbox's own options; each command has its own."""


@app.command()
def completion(
    shell: Annotated[str, typer.Argument(help="bash, zsh or fish.", metavar="{bash,zsh,fish}")],
) -> None:
    """Print the shell completion script of diagnoser, e.g. eval "$(diagnoser completion bash)"."""
    from diagnoser.cli.completion import SHELLS, toolbox_script
    from diagnoser.errors import ConfigError

    if shell not in SHELLS:
        raise ConfigError(f"no completion for {shell!r}", hint="use bash, zsh or fish")
    typer.echo(toolbox_script("diagnoser", shell), nl=False)


if os.environ.get("_DIAGNOSER_COMPLETE"):  # the shell asks for completions (`diagnoser completion`)
    from typer.completion import completion_init

    completion_init()  # typer registers its shells only when asked: add_completion is off

app.add_typer(rules_app, name="rules")
app.add_typer(corpus_app, name="corpus")
app.command()(explain)
app.command()(parse)
