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
    rules_only: Annotated[bool, typer.Option("--rules-only", help="Leave the classifier out.")] = False,
    record: Annotated[
        Path | None,
        typer.Option("--record", help="Raise the floor in this baseline file (e.g. corpus/baseline.yaml) to this run's score."),
    ] = None,
) -> int:
    """Diagnose every case and print per-cause precision / recall / F1, the confusion matrix and failures."""
    from diagnoser.corpus import evaluate, load_cases, record_baseline

    evaluation = evaluate(load_cases(corpus), classifier=not rules_only)
    if record is not None:
        record_baseline(record, evaluation)
    if json_out:
        write_stdout(orjson.dumps(_as_dict(evaluation), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n")
    else:
        write_stdout(_as_text(evaluation))
    return EXIT_OK


def _prf(truth: list[str], predicted: list[str], label: str) -> tuple[float, float]:
    """Return (precision, recall) of `label`."""
    tp = sum(t == p == label for t, p in zip(truth, predicted, strict=True))
    n_pred = sum(p == label for p in predicted)
    n_true = sum(t == label for t in truth)
    return (tp / n_pred if n_pred else 1.0, tp / n_true if n_true else 1.0)


@app.command("train")
def train(
    corpus: CorpusOpt = DEFAULT_CORPUS,
    output: Annotated[Path, typer.Option(help="Where to write the model (JSON).")] = Path("diagnoser/models/classifier.json"),
    folds: Annotated[int, typer.Option(min=2, help="Grouped cross-validation folds.")] = 5,
) -> int:
    """Train the classifier (seeded), report grouped cross-validation for rules / classifier / combined, save it."""
    from diagnoser.corpus import load_cases
    from diagnoser.learn import cross_validate, fit, samples, save

    data = samples(load_cases(corpus))
    cv = cross_validate(data, folds)
    truth = [s.case.label for s in data]
    rules = [s.rules_top for s in data]
    cls = [p[0] if p[0] == "healthy" or p[1] >= cv.threshold else "healthy" for p in cv.classifier]
    combined = [cv.combined(i) for i in range(len(data))]
    labels = sorted(set(truth))
    width = max(len(lbl) for lbl in labels)
    out = [f"grouped {cv.folds}-fold cross-validation on {len(data)} cases, classifier threshold {cv.threshold}", ""]
    out.append(f"{'cause':<{width}}  support  rules P/R      classifier P/R  combined P/R")
    for lbl in labels:
        cols = [_prf(truth, pred, lbl) for pred in (rules, cls, combined)]
        out.append(f"{lbl:<{width}}  {truth.count(lbl):>7}  " + "  ".join(f"{p:.2f}/{r:.2f}     " for p, r in cols))
    for name, pred in (("rules", rules), ("classifier", cls), ("combined", combined)):
        right = sum(t == p for t, p in zip(truth, pred, strict=True))
        out.append(f"{name} accuracy: {right}/{len(data)} = {right / len(data):.1%}")
    gained = [s.case.id for s, c in zip(data, combined, strict=True) if c == s.case.label != s.rules_top]
    lost = [s.case.id for s, c in zip(data, combined, strict=True) if c != s.case.label == s.rules_top]
    out.append(f"combined right where rules alone were wrong ({len(gained)}): " + ", ".join(gained))
    out.append(f"combined wrong where rules alone were right ({len(lost)}): " + ", ".join(lost))
    model = fit(data, cv.threshold)
    save(model, output)
    out.append(f"wrote {output} ({len(model.weights)} features, {len(model.classes)} classes)")
    write_stdout("\n".join(out) + "\n")
    return EXIT_OK
