"""`diagnoser corpus list|eval`: the labelled cases and how well the engine names them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from diagnoser.cli.common import EXIT_OK, write_stdout

app = typer.Typer(no_args_is_help=True, help="List the labelled corpus and evaluate the engine on it.", rich_markup_mode=None)

DEFAULT_CORPUS = Path("corpus/cases")
CorpusOpt = Annotated[Path, typer.Option("--corpus", help="Folder of cases (each with a case.yaml).")]


@app.command("list")
def list_cases(corpus: CorpusOpt = DEFAULT_CORPUS) -> int:
    """Print the manifest: one line per case, then counts by label, format and origin."""
    from diagnoser.corpus import load_cases

    cases = load_cases(corpus)
    lines = [f"{c.id}\t{c.label}\t{','.join(c.secondary) or '-'}\t{c.format}\t{c.origin.value}\t{c.source}" for c in cases]
    for title, counter in (
        ("label", Counter(c.label for c in cases)),
        ("format", Counter(c.format for c in cases)),
        ("origin", Counter(c.origin.value for c in cases)),
    ):
        lines.append(f"# by {title}: " + ", ".join(f"{k} {v}" for k, v in sorted(counter.items())))
    lines.append(f"# {len(cases)} cases")
    write_stdout("\n".join(lines) + "\n")
    return EXIT_OK


def _as_dict(evaluation: Any) -> dict[str, Any]:
    """Return an evaluation as JSON-ready data."""
    return {
        "cases": len(evaluation.outcomes),
        "correct": evaluation.correct,
        "accuracy": round(evaluation.accuracy, 4),
        "per_cause": {
            s.label: {"support": s.support, "predicted": s.predicted, "precision": round(s.precision, 4),
                      "recall": round(s.recall, 4), "f1": round(s.f1, 4)}
            for s in evaluation.scores()
        },
        "confusion": {truth: dict(row) for truth, row in evaluation.confusion().items()},
        "failures": [
            {"case": o.case.id, "label": o.case.label, "predicted": o.predicted, "causes": list(o.causes)}
            for o in evaluation.failures
        ],
    }


def _as_text(evaluation: Any) -> str:
    """Return an evaluation as the table a person reads."""
    scores = evaluation.scores()
    width = max([len(s.label) for s in scores] + [5])
    out = [f"{'cause':<{width}}  support  precision  recall     f1"]
    for s in scores:
        out.append(f"{s.label:<{width}}  {s.support:>7}  {s.precision:>9.3f}  {s.recall:>6.3f}  {s.f1:>5.3f}")
    labels = evaluation.labels
    short = {lbl: str(i) for i, lbl in enumerate(labels, start=1)}
    out += ["", "confusion (rows: truth, columns: predicted; " + ", ".join(f"{v}={k}" for k, v in short.items()) + ")"]
    out.append(" " * (width + 2) + " ".join(f"{short[lbl]:>3}" for lbl in labels))
    for truth, row in evaluation.confusion().items():
        out.append(f"{truth:<{width}}  " + " ".join(f"{row.get(lbl, 0) or '.':>3}" for lbl in labels))
    failures = evaluation.failures
    out += ["", f"failing cases: {len(failures)}"]
    out += [f"  {o.case.id}: expected {o.case.label}, got {', '.join(o.causes) or 'nothing'}" for o in failures]
    out.append(f"accuracy: {evaluation.correct}/{len(evaluation.outcomes)} = {evaluation.accuracy:.1%}")
    return "\n".join(out) + "\n"


@app.command("eval")
def eval_corpus(
    corpus: CorpusOpt = DEFAULT_CORPUS,
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    record: Annotated[
        Path | None,
        typer.Option("--record", help="Raise the floor in this baseline file (e.g. corpus/baseline.yaml) to this run's score."),
    ] = None,
) -> int:
    """Diagnose every case and print per-cause precision / recall / F1, the confusion matrix and failures."""
    from diagnoser.corpus import evaluate, load_cases, record_baseline

    evaluation = evaluate(load_cases(corpus))
    if record is not None:
        record_baseline(record, evaluation)
    if json_out:
        write_stdout(orjson.dumps(_as_dict(evaluation), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n")
    else:
        write_stdout(_as_text(evaluation))
    return EXIT_OK
