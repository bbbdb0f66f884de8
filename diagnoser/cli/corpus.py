"""`diagnoser corpus list|eval|train`: the labelled cases, how well the engine names them, the classifier."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from diagnoser.cli.common import EXIT_OK, write_stdout

app = typer.Typer(
    no_args_is_help=True,
    help="List the labelled corpus and evaluate the engine on it.",
    rich_markup_mode=None,
)

DEFAULT_CORPUS = Path("corpus/cases")
MODEL_OUT = Path("diagnoser/models/classifier.json")
CorpusOpt = Annotated[Path, typer.Option("--corpus", help="Folder of cases (each with a case.yaml).")]


@app.command("list")
def list_cases(corpus: CorpusOpt = DEFAULT_CORPUS) -> int:
    """Print the manifest: one line per case, then counts by label, format and origin."""
    from diagnoser.corpus import load_cases

    cases = load_cases(corpus)
    lines = [
        f"{c.id}\t{c.label}\t{','.join(c.secondary) or '-'}\t{c.format}\t{c.origin.value}\t{c.source}"
        for c in cases
    ]
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
        "wrong": evaluation.wrong,
        "per_cause": {
            s.label: {
                "support": s.support,
                "predicted": s.predicted,
                "precision": round(s.precision, 4),
                "recall": round(s.recall, 4),
                "f1": round(s.f1, 4),
            }
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
    out += [
        "",
        "confusion (rows: truth, columns: predicted; "
        + ", ".join(f"{v}={k}" for k, v in short.items())
        + ")",
    ]
    out.append(" " * (width + 2) + " ".join(f"{short[lbl]:>3}" for lbl in labels))
    for truth, row in evaluation.confusion().items():
        out.append(f"{truth:<{width}}  " + " ".join(f"{row.get(lbl, 0) or '.':>3}" for lbl in labels))
    failures = evaluation.failures
    out += ["", f"failing cases: {len(failures)}"]
    out += [
        f"  {o.case.id}: expected {o.case.label}, got {', '.join(o.causes) or 'nothing'}" for o in failures
    ]
    n = len(evaluation.outcomes)
    out.append(f"accuracy: {evaluation.correct}/{n} = {evaluation.accuracy:.1%}")
    out.append(f"wrong cause named: {evaluation.wrong}/{n} = {evaluation.wrong / n if n else 0:.1%}")
    return "\n".join(out) + "\n"


@app.command("eval")
def eval_corpus(
    corpus: CorpusOpt = DEFAULT_CORPUS,
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    rules_only: Annotated[bool, typer.Option("--rules-only", help="Leave the classifier out.")] = False,
    record: Annotated[
        Path | None,
        typer.Option(
            "--record",
            help="Raise the floor in this baseline file (e.g. corpus/baseline.yaml) to this run's score.",
        ),
    ] = None,
    cv: Annotated[
        bool,
        typer.Option(
            "--cv",
            help="Also cross-validate (grouped folds, the shipped model's C) and print rules / classifier / "
            "combined per cause and every case the rules get wrong (imports scikit-learn).",
        ),
    ] = False,
) -> int:
    """Diagnose every case with the engine (rules and the shipped classifier unless --rules-only) and print
    per-cause precision / recall / F1, the confusion matrix and failures."""
    from diagnoser.corpus import evaluate, load_cases, record_baseline

    if cv:
        from diagnoser.learn import require_training

        require_training()
    cases = load_cases(corpus)
    evaluation = evaluate(cases, classifier=not rules_only)
    if record is not None:
        record_baseline(record, evaluation)
    validation = None
    if cv:
        from diagnoser.detect.classifier import load_model
        from diagnoser.learn import cross_validate, samples

        model = load_model()
        data = samples(cases)
        c = model.c if model is not None and model.c else None
        validation = [cross_validate(data, c=c), cross_validate(data, c=c, by="family")]
    if json_out:
        report = _as_dict(evaluation)
        if validation is not None:
            report["cross_validation"] = _cv_dict(validation[0])
            report["leave_one_family_out"] = _cv_dict(validation[1])
        write_stdout(orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n")
    else:
        title = "rules alone" if rules_only else "rules + classifier (shipped model)"
        write_stdout(f"engine: {title}\n" + _as_text(evaluation))
        for run in validation or ():
            write_stdout("\n" + _cv_text(run))
    return EXIT_OK


ANSWER_KINDS = ("rules", "classifier", "combined", "nested")
TABLE_KINDS = ("rules", "classifier", "combined")


def _cv_answers(cv: Any) -> tuple[list[str], dict[str, list[str]]]:
    """Return the labels and every kind of answer of a cross-validation run."""
    return [s.case.label for s in cv.samples], {k: cv.answers(k) for k in ANSWER_KINDS}


def _right(truth: list[str], answers: list[str]) -> int:
    """Return how many answers equal the truth."""
    return sum(t == a for t, a in zip(truth, answers, strict=True))


def _cv_dict(cv: Any) -> dict[str, Any]:
    """Return a cross-validation run as JSON-ready data."""
    from diagnoser.learn import precision_recall

    truth, answers = _cv_answers(cv)
    per_cause: dict[str, dict[str, Any]] = {}
    for lbl in sorted(set(truth)):
        per_cause[lbl] = {}
        for k in TABLE_KINDS:
            p, r = precision_recall(truth, answers[k], lbl)
            per_cause[lbl][k] = {"precision": round(p, 4), "recall": round(r, 4)}
    return {
        "folds": cv.folds,
        "split": cv.by,
        "c": cv.c,
        "threshold": cv.threshold,
        "accuracy": {k: round(_right(truth, answers[k]) / len(truth), 4) for k in ANSWER_KINDS},
        "per_cause": per_cause,
        "rules_wrong": [
            {"case": s.case.id, "label": s.case.label, "rules": s.rules_top, "combined": a}
            for s, a in zip(cv.samples, answers["combined"], strict=True)
            if s.rules_top != s.case.label
        ],
    }


def _cv_text(cv: Any) -> str:
    """Return the cross-validation report: per-cause precision / recall for rules alone, the
    classifier alone and the combined engine, the accuracies, and every case the rules get wrong."""
    from diagnoser.learn import precision_recall, wrong

    truth, answers = _cv_answers(cv)
    combined = answers["combined"]
    labels = sorted(set(truth) - {"healthy"}) + ["healthy"]
    width = max(len(lbl) for lbl in labels)
    n = len(truth)
    if cv.by == "family":
        families = sorted({s.family for s in cv.samples})
        head = (
            f"leave-one-family-out cross-validation on {n} cases in {len(families)} server / platform "
            f"families ({', '.join(families)}); C={cv.c:g}, classifier threshold {cv.threshold}"
        )
    else:
        groups = len({s.group for s in cv.samples})
        head = (
            f"grouped {cv.folds}-fold cross-validation on {n} cases in {groups} groups (lab: one group per "
            f"scenario; others: one per source thread or page); C={cv.c:g}, "
            f"classifier threshold {cv.threshold}"
        )
    out = [
        head,
        "",
        f"{'cause':<{width}}  support  rules P/R    classifier P/R  combined P/R",
    ]
    for lbl in labels:
        scores = (precision_recall(truth, answers[k], lbl) for k in TABLE_KINDS)
        cols = "  ".join(f"{p:.2f}/{r:.2f}    " for p, r in scores)
        out.append(f"{lbl:<{width}}  {truth.count(lbl):>7}  {cols}")
    titles = {
        "rules": "rules alone",
        "classifier": "classifier alone",
        "combined": "combined",
        "nested": "combined, each fold's threshold chosen on the other folds",
    }
    for kind in ANSWER_KINDS:
        right = _right(truth, answers[kind])
        bad = sum(wrong(t, a) for t, a in zip(truth, answers[kind], strict=True))
        out.append(
            f"{titles[kind]} accuracy: {right}/{n} = {right / n:.1%}; wrong cause {bad}/{n} = {bad / n:.1%}"
        )
    noisy = [s.case.id for s, a in zip(cv.samples, combined, strict=True) if s.case.label == "healthy" != a]
    out.append(f"healthy cases given a diagnosis (combined): {len(noisy)}")
    out += [f"  {c}" for c in noisy]
    miss = [(s, a) for s, a in zip(cv.samples, combined, strict=True) if s.rules_top != s.case.label]
    right = sum(a == s.case.label for s, a in miss)
    silent = sum(a == "healthy" for _, a in miss)
    out += [
        "",
        f"cases the rules alone get wrong: {len(miss)}; combined right on {right}, silent on {silent}, "
        f"another cause on {len(miss) - right - silent}",
    ]
    for s, a in miss:
        mark = "right" if a == s.case.label else "silent" if a == "healthy" else "WRONG"
        out.append(f"  {s.case.id}: {s.case.label}; rules {s.rules_top}; combined {a} ({mark})")
    lost = [s.case.id for s, a in zip(cv.samples, combined, strict=True) if s.rules_top == s.case.label != a]
    out.append(f"combined wrong where rules alone were right: {len(lost)}")
    out += [f"  {c}" for c in lost]
    return "\n".join(out) + "\n"


@app.command("train")
def train(
    corpus: CorpusOpt = DEFAULT_CORPUS,
    output: Annotated[Path, typer.Option(help="Where to write the model (JSON).")] = MODEL_OUT,
    folds: Annotated[int, typer.Option(min=2, help="Grouped cross-validation folds.")] = 5,
) -> int:
    """Train the classifier (deterministic): choose C and the threshold by leave-one-family-out
    cross-validation (each server / platform family held out in turn), report it and grouped k-fold
    per cause, then fit on every case and save the JSON weights."""
    from diagnoser.corpus import load_cases
    from diagnoser.learn import cross_validate, fit, require_training, samples, save

    require_training()
    data = samples(load_cases(corpus))
    cv = cross_validate(data, folds, by="family")
    grouped = cross_validate(data, folds, c=cv.c)
    model = fit(data, cv.threshold, cv.c)
    save(model, output)
    text = (
        _cv_text(cv)
        + "\n"
        + _cv_text(grouped)
        + f"wrote {output} ({len(model.weights)} features, {len(model.classes)} classes)\n"
    )
    write_stdout(text)
    return EXIT_OK
