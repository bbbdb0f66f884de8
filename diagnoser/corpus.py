"""Labelled log cases and their evaluation: per-cause precision / recall / F1 and a confusion matrix.

A case is a folder holding `case.yaml` and its input files:
    label: oom_worker_reboot        # a catalogue id, or "healthy" (no diagnosis allowed)
    secondary: [request_timeout]    # causes that must also be diagnosed (optional)
    format: gunicorn                # the main input format
    origin: lab                     # lab (recorded from real software) | docs | issue-thread | hand-written
    source: "corpus/lab scenario oom-run on azmlinfsrv 1.5.1"   # where it comes from
    inputs: [input.log]             # read in order, as `diagnose FILE...` would
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import yaml

from diagnoser.errors import ConfigError, Location

HEALTHY = "healthy"
UNKNOWN = "unknown"  # the engine's answer for a crash no documented cause explains
CASE_FILE = "case.yaml"
CASE_KEYS = {"label", "secondary", "format", "origin", "source", "inputs", "notes"}


class CaseOrigin(StrEnum):
    """Where a case's log comes from."""

    LAB = "lab"  # recorded from real software the lab ran
    DOCS = "docs"  # copied from vendor documentation
    ISSUE_THREAD = "issue-thread"  # pasted by a user in a public issue or forum thread
    HAND_WRITTEN = "hand-written"


@dataclass(frozen=True, slots=True)
class Case:
    """One labelled log case."""

    id: str
    label: str
    secondary: tuple[str, ...]
    format: str
    origin: CaseOrigin
    source: str
    inputs: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the engine said about one case."""

    case: Case
    predicted: str  # top cause, or "healthy"
    causes: tuple[str, ...]  # every cause diagnosed, ranked

    @property
    def correct(self) -> bool:
        """Return True when the top cause is the label (and a healthy case got no diagnosis at all)."""
        if self.case.label == HEALTHY:
            return not self.causes
        return self.predicted == self.case.label

    @property
    def missing_secondary(self) -> tuple[str, ...]:
        """Return secondary causes the engine did not name."""
        return tuple(c for c in self.case.secondary if c not in self.causes)


@dataclass(frozen=True, slots=True)
class ClassScore:
    """Precision, recall and F1 of one label."""

    label: str
    support: int
    predicted: int
    true_positive: int

    @property
    def precision(self) -> float:
        """Return TP / predicted (1.0 when never predicted)."""
        return self.true_positive / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        """Return TP / support (1.0 when the label has no cases)."""
        return self.true_positive / self.support if self.support else 1.0

    @property
    def f1(self) -> float:
        """Return the harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The result of evaluating a corpus."""

    outcomes: tuple[Outcome, ...]

    @property
    def correct(self) -> int:
        """Return how many cases were right."""
        return sum(o.correct for o in self.outcomes)

    @property
    def wrong(self) -> int:
        """Return how many cases got a cause that is not their label (silence and unknown are not wrong)."""
        return sum(o.predicted not in (o.case.label, HEALTHY, UNKNOWN) for o in self.outcomes)

    @property
    def accuracy(self) -> float:
        """Return the share of cases that were right."""
        return self.correct / len(self.outcomes) if self.outcomes else 0.0

    @property
    def labels(self) -> list[str]:
        """Return every label seen as truth or prediction, healthy last."""
        seen = {o.case.label for o in self.outcomes} | {o.predicted for o in self.outcomes}
        return sorted(seen - {HEALTHY}) + ([HEALTHY] if HEALTHY in seen else [])

    def scores(self) -> list[ClassScore]:
        """Return per-label precision / recall / F1."""
        support = Counter(o.case.label for o in self.outcomes)
        predicted = Counter(o.predicted for o in self.outcomes)
        tp = Counter(o.case.label for o in self.outcomes if o.correct)
        return [ClassScore(lbl, support[lbl], predicted[lbl], tp[lbl]) for lbl in self.labels]

    def confusion(self) -> dict[str, Counter[str]]:
        """Return truth -> Counter(predicted)."""
        matrix: dict[str, Counter[str]] = {lbl: Counter() for lbl in self.labels}
        for o in self.outcomes:
            matrix[o.case.label][o.predicted] += 1
        return matrix

    @property
    def failures(self) -> list[Outcome]:
        """Return the cases that were wrong."""
        return [o for o in self.outcomes if not o.correct]


def _case_from_dir(directory: Path, root: Path) -> Case:
    """Read one case folder."""
    path = directory / CASE_FILE
    loc = Location(str(path))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = Location(str(path), mark.line + 1, mark.column + 1) if mark is not None else loc
        raise ConfigError(f"not valid YAML: {getattr(exc, 'problem', None) or exc}", where) from None
    if not isinstance(data, dict):
        raise ConfigError("a case file must be a mapping", loc)
    unknown = set(data) - CASE_KEYS
    if unknown:
        raise ConfigError(f"unknown keys {sorted(unknown)}", loc, f"allowed: {sorted(CASE_KEYS)}")
    try:
        origin = CaseOrigin(data["origin"])
        inputs = tuple(directory / name for name in data["inputs"])
        label = str(data["label"])
    except (KeyError, ValueError, TypeError) as exc:
        raise ConfigError(f"bad or missing field: {exc}", loc) from None
    missing = [str(p) for p in inputs if not p.is_file()]
    if missing or not inputs:
        raise ConfigError(f"inputs missing: {missing or 'none listed'}", loc)
    return Case(
        id=str(directory.relative_to(root)),
        label=label,
        secondary=tuple(data.get("secondary") or ()),
        format=str(data.get("format", "")),
        origin=origin,
        source=str(data.get("source", "")),
        inputs=inputs,
    )


def load_cases(root: Path) -> list[Case]:
    """Return every case under `root` (any depth), sorted by id; raise on a malformed case."""
    if not root.is_dir():
        raise ConfigError("corpus folder not found", Location(str(root)), "pass --corpus DIR")
    return [_case_from_dir(p.parent, root) for p in sorted(root.rglob(CASE_FILE))]


def evaluate(cases: Iterable[Case], rules: Sequence | None = None, classifier: bool = True) -> Evaluation:
    """Diagnose every case (rules and classifier, or rules alone) and return the evaluation."""
    from diagnoser.detect import load_rules
    from diagnoser.options import Files, Options
    from diagnoser.pipeline import diagnose

    options = Options(rules=tuple(rules) if rules is not None else load_rules(), classifier=classifier)
    outcomes = []
    for case in cases:
        report = diagnose([Files(tuple(str(p) for p in case.inputs))], options)
        causes = tuple(d.cause for d in report.diagnoses)
        outcomes.append(Outcome(case, causes[0] if causes else HEALTHY, causes))
    return Evaluation(tuple(outcomes))


def record_baseline(path: Path, evaluation: Evaluation) -> None:
    """Write this evaluation's score as the floor in `path` (and its wrong answers as the ceiling);
    refuse to lower an existing floor or raise the ceiling.

    More cases may lower the share while more of them are right; the count of right cases may never
    fall, and the count of cases given a wrong cause may never rise.
    """
    old = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
    old_correct = int(old.get("min_correct", 0))
    old_accuracy = float(old.get("min_accuracy", 0.0))
    old_cases = int(old.get("cases", 0))
    old_wrong = old.get("max_wrong")
    accuracy = int(evaluation.accuracy * 10000) / 10000  # floor to 4 digits, so the run itself passes
    grew = len(evaluation.outcomes) > old_cases
    if evaluation.correct < old_correct or (accuracy < old_accuracy and not grew):
        raise ConfigError(
            f"this run ({evaluation.correct} correct, {accuracy:.2%}) is below the recorded floor "
            f"({old_correct} correct, {old_accuracy:.2%})",
            Location(str(path)),
            "fix the regressions instead of lowering the floor",
        )
    if old_wrong is not None and evaluation.wrong > int(old_wrong):
        raise ConfigError(
            f"this run names a wrong cause for {evaluation.wrong} cases, above the recorded {old_wrong}",
            Location(str(path)),
            "fix the wrong answers instead of raising the ceiling",
        )
    path.write_text(
        "# Written by `diagnoser corpus eval --record`: the suite fails below the first two numbers\n"
        "# and above max_wrong (cases given a cause that is not their label).\n"
        f"min_correct: {evaluation.correct}\nmin_accuracy: {accuracy}\nmax_wrong: {evaluation.wrong}\n"
        f"cases: {len(evaluation.outcomes)}\n"
    )
