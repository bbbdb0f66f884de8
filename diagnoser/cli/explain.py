"""`diagnoser explain`: what a cause means, which rules detect it, and its fix steps."""

from __future__ import annotations

from typing import Annotated

import typer

from diagnoser.cli.common import write_stdout
from diagnoser.errors import ConfigError, did_you_mean


def explain(
    name: Annotated[
        str, typer.Argument(help="A cause id (oom_worker_reboot) or a rule id (gunicorn-worker-sigkill).")
    ],
) -> int:
    """Explain a cause or a rule: what it means, how it is detected, and how to fix it."""
    from diagnoser.detect import load_rules
    from diagnoser.plan import load_catalogue

    catalogue = load_catalogue()
    rules = load_rules()
    by_rule = {r.id: r for r in rules}
    cause_id = by_rule[name].cause if name in by_rule else name
    cause = catalogue.get(cause_id)
    if cause is None:
        hint = did_you_mean(name, sorted(catalogue) + sorted(by_rule))
        raise ConfigError(f"unknown cause or rule {name!r}", hint=hint or "see 'diagnoser rules list'")
    lines = [f"{cause.id}: {cause.title} ({cause.severity.value})", "", cause.summary, ""]
    lines += [cause.description.strip(), ""] if cause.description else []
    if cause.seed_section:
        lines.append(f"troubleshooting page section: {cause.seed_section}")
    if cause.docs:
        lines.append(f"docs: {cause.docs}")
    detecting = [r for r in rules if r.cause == cause.id]
    lines += ["", "rules:"] + [f"  {r.id} [{r.severity.value}] {r.title}" for r in detecting]
    lines += ["", "fix steps:"]
    for n, s in enumerate(cause.fix, start=1):
        lines.append(f"  {n}. [{s.platform.value}] {s.action.value} {s.knob} ({s.where})")
        if s.text:
            lines.append(f"     {s.text}")
        lines.append(f"     docs: {s.docs}")
    write_stdout("\n".join(lines) + "\n")
    return 0
