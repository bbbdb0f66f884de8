"""`diagnoser`: the toolbox — rules, explain, parse. One file per command group."""

from __future__ import annotations

import typer

from diagnoser.cli.corpus import app as corpus_app
from diagnoser.cli.explain import explain
from diagnoser.cli.parse import parse
from diagnoser.cli.rules import app as rules_app

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    help="diagnoser toolbox: check rules, explain causes, show parsed events.",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(rules_app, name="rules")
app.add_typer(corpus_app, name="corpus")
app.command()(explain)
app.command()(parse)
