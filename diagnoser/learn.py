"""Train the classifier on the corpus, with grouped cross-validation (scikit-learn, imported lazily).

Near-duplicates never sit on both sides of a split: lab cases are grouped by scenario (the same
fault recorded on several server versions), other cases by themselves.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from diagnoser.corpus import HEALTHY, Case
from diagnoser.detect.classifier import FORMAT_VERSION, LinearModel, model_from_dict, probabilities, vectorize
from diagnoser.detect.features import FeatureBag

SEED = 20261125
THRESHOLDS = (0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)
MIN_DF = 2
C = 4.0


@dataclass(frozen=True, slots=True)
class Sample:
    """One case as the learner sees it: its token counts, label, group and the rules' answer."""

    case: Case
    counts: Counter[str]
    rules_top: str  # top cause from the rules alone, or "healthy"

    @property
    def group(self) -> str:
        """Return the cross-validation group: lab cases by scenario, others by case."""
        parts = self.case.id.split("/")
        return f"lab:{parts[-1]}" if parts[0] == "lab" else self.case.id


@dataclass(frozen=True, slots=True)
class CrossValidation:
    """Predictions of grouped cross-validation, per case, for rules / classifier / combined."""

    samples: tuple[Sample, ...]
    classifier: tuple[tuple[str, float], ...]  # top class and its probability, out of fold
    threshold: float
    folds: int

    def combined(self, i: int, threshold: float | None = None) -> str:
        """Return the combined answer for sample i: rules first, then a confident classifier."""
        return combine(self.samples[i].rules_top, *self.classifier[i], threshold or self.threshold)


def combine(rules_top: str, cls_top: str, cls_p: float, threshold: float) -> str:
    """Return the combined top cause: the rules' when they fire, else the classifier's when sure."""
    if rules_top != HEALTHY:
        return rules_top
    return cls_top if cls_top != HEALTHY and cls_p >= threshold else HEALTHY


def case_counts(case: Case) -> Counter[str]:
    """Return the classifier features of one case's inputs."""
    from diagnoser.collect import InputSource
    from diagnoser.collect.files import read_lines
    from diagnoser.parse import parse_lines

    bag = FeatureBag()
    for path in case.inputs:
        for event in parse_lines(read_lines(InputSource(str(path)))):
            bag.feed(event)
    return bag.finish()


def samples(cases: Sequence[Case]) -> list[Sample]:
    """Return learner samples: features plus the rules' own answer for each case."""
    from diagnoser.corpus import evaluate

    rules_eval = evaluate(cases, classifier=False)
    return [Sample(o.case, case_counts(o.case), o.predicted) for o in rules_eval.outcomes]


def _idf(docs: Sequence[Counter[str]]) -> dict[str, float]:
    """Return smoothed idf of tokens present in at least MIN_DF documents."""
    df: Counter[str] = Counter()
    for d in docs:
        df.update(set(d))
    n = len(docs)
    return {t: math.log((1 + n) / (1 + c)) + 1.0 for t, c in df.items() if c >= MIN_DF}


def fit(train: Sequence[Sample], threshold: float) -> LinearModel:
    """Fit a multinomial logistic regression and return it as a plain-Python LinearModel."""
    from sklearn.linear_model import LogisticRegression

    idf = _idf([s.counts for s in train])
    vocab = sorted(idf)
    index = {t: i for i, t in enumerate(vocab)}
    rows = [vectorize(s.counts, idf) for s in train]
    import numpy as np

    X = np.zeros((len(rows), len(vocab)))
    for r, vec in enumerate(rows):
        for t, v in vec.items():
            X[r, index[t]] = v
    y = [s.case.label for s in train]
    clf = LogisticRegression(C=C, max_iter=5000, class_weight="balanced", random_state=SEED)
    clf.fit(X, y)
    classes = tuple(str(c) for c in clf.classes_)
    coef = clf.coef_ if len(classes) > 2 else np.vstack([-clf.coef_[0], clf.coef_[0]])
    intercept = clf.intercept_ if len(classes) > 2 else np.array([-clf.intercept_[0], clf.intercept_[0]])
    weights = {}
    for t, j in index.items():
        w = tuple(round(float(x), 5) for x in coef[:, j])
        if any(abs(x) >= 1e-4 for x in w):
            weights[t] = w
    return LinearModel(classes, {t: round(v, 5) for t, v in idf.items() if t in weights}, weights,
                       tuple(round(float(x), 5) for x in intercept), threshold)


def cross_validate(data: Sequence[Sample], folds: int = 5) -> CrossValidation:
    """Run grouped k-fold cross-validation and pick the classifier's threshold on its out-of-fold answers."""
    from sklearn.model_selection import GroupKFold

    groups = [s.group for s in data]
    labels = [s.case.label for s in data]
    predictions: list[tuple[str, float]] = [(HEALTHY, 0.0)] * len(data)
    splitter = GroupKFold(n_splits=min(folds, len(set(groups))))
    for train_idx, test_idx in splitter.split(list(range(len(data))), labels, groups):
        model = fit([data[i] for i in train_idx], 0.5)
        for i in test_idx:
            predictions[i] = probabilities(model, vectorize(data[i].counts, model.idf))[0]
    threshold = choose_threshold(data, predictions)
    return CrossValidation(tuple(data), tuple(predictions), threshold, splitter.get_n_splits())


def choose_threshold(data: Sequence[Sample], predictions: Sequence[tuple[str, float]]) -> float:
    """Return the lowest threshold among the most accurate that gives no healthy case a diagnosis."""
    best: tuple[int, float] | None = None
    for thr in THRESHOLDS:
        answers = [combine(s.rules_top, *p, thr) for s, p in zip(data, predictions, strict=True)]
        if any(a != HEALTHY for s, a in zip(data, answers, strict=True) if s.case.label == HEALTHY):
            continue
        correct = sum(a == s.case.label for s, a in zip(data, answers, strict=True))
        if best is None or correct > best[0]:
            best = (correct, thr)
    return best[1] if best else THRESHOLDS[-1]


def model_to_json(model: LinearModel) -> bytes:
    """Return the model as the JSON the package ships (deterministic)."""
    data = {
        "format_version": FORMAT_VERSION,
        "classes": list(model.classes),
        "threshold": model.threshold,
        "intercept": list(model.intercept),
        "idf": model.idf,
        "weights": {t: list(w) for t, w in model.weights.items()},
    }
    out = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    model_from_dict(orjson.loads(out))  # what we write must load
    return out


def save(model: LinearModel, path: Path) -> None:
    """Write the model where the package loads it from."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model_to_json(model) + b"\n")
