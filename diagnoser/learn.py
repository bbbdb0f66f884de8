"""Train the classifier on the corpus, with grouped cross-validation (scikit-learn, imported lazily).

Near-duplicates never sit on both sides of a split: lab cases are grouped by scenario (the same
fault recorded on several server versions), other cases by their source (one group per issue
thread or documentation page). Each group weighs the same in training, so the seven recordings of
one lab scenario count as one example, like one thread's log.

Two ways of splitting: grouped k-fold (above), and leave-one-family-out, where each server or
platform family (family_of: vLLM, Triton, Kubernetes, Docker, Go apps, ...) is held out in turn, so
every answer comes from a model that never saw that family's wording: the way a new server's logs
meet the shipped model. `corpus train` chooses on the family split.

What cross-validation chooses, and nothing else:
- the regularisation C, from C_GRID: the most right answers of the combined engine;
- the threshold at which the classifier speaks alone, from THRESHOLDS: the most right answers among
  the thresholds that give no healthy case a diagnosis and name a wrong cause for at most
  MAX_WRONG of the cases. It speaks only with a line that bears the cause's sign
  (classifier.SIGNS); below classifier.CONFIDENT, or not MARGIN times the runner-up, it speaks as a
  "possible" cause at low severity.
The reported accuracy also has a nested form, where each fold's threshold is chosen on the other
folds only: the choice of threshold is then measured, not assumed.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from diagnoser.corpus import HEALTHY, UNKNOWN, Case, CaseOrigin
from diagnoser.detect.classifier import (
    FORMAT_VERSION,
    LinearModel,
    bears_sign,
    model_from_dict,
    probabilities,
    vectorize,
)
from diagnoser.detect.features import FeatureBag
from diagnoser.errors import ConfigError

SEED = 20261125
THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)
C_GRID = (4.0, 8.0, 16.0, 32.0)
MIN_DF = 2
FOLDS = 5
MAX_WRONG = 0.02  # at most this share of cases may get a wrong cause from the chosen threshold

# Server / platform families for leave-one-family-out, by the first part of a case's `format` (longest
# prefix first); a lab case's family is its server's. Formats that say nothing of the server (plain,
# access, python-client) form their own families.
FAMILIES: tuple[tuple[str, str], ...] = (
    ("azmlinfsrv", "azureml"),
    ("aml-", "azureml"),
    ("sdk-error", "azureml"),
    ("gunicorn", "gunicorn"),
    ("mlflow", "mlflow"),
    ("heroku", "gunicorn"),
    ("uvicorn", "python-web"),
    ("flask", "python-web"),
    ("waitress", "python-web"),
    ("litserve", "litserve"),
    ("kubectl", "kubernetes"),
    ("klog", "kubernetes"),
    ("kube-", "kubernetes"),
    ("k8s", "kubernetes"),
    ("knative", "kubernetes"),
    ("docker", "docker"),
    ("vllm", "llm"),
    ("tgi", "llm"),
    ("ollama", "llm"),
    ("llamacpp", "llm"),
    ("sglang", "llm"),
    ("trtllm", "llm"),
    ("lmdeploy", "llm"),
    ("triton", "triton"),
    ("torchserve", "torchserve"),
    ("sagemaker", "sagemaker"),
    ("tensorflow", "tfserving"),
    ("tfserving", "tfserving"),
    ("kserve", "kserve"),
    ("mlserver", "mlserver"),
    ("seldon", "mlserver"),
    ("bentoml", "bentoml"),
    ("ray", "ray"),
    ("go", "go-app"),
    ("java", "java-app"),
    ("node", "node-app"),
    ("rust", "rust-app"),
    ("cpp", "cpp-app"),
    ("journald", "systemd"),
    ("syslog", "systemd"),
    ("shell", "shell"),
)


def family_of(case: Case) -> str:
    """Return the server or platform family of a case (for leave-one-family-out)."""
    fmt = case.format.split("+")[0].strip().lower()
    for prefix, family in FAMILIES:
        if fmt.startswith(prefix):
            return family
    return fmt or "unknown-format"


NO_EVIDENCE = "no_suspicious_lines"  # the token FeatureBag.finish adds when no line looked wrong


@dataclass(frozen=True, slots=True)
class Sample:
    """One case as the learner sees it: its token counts, label, group and the rules' answer."""

    case: Case
    counts: Counter[str]
    rules_top: str  # top cause from the rules alone, or "healthy"

    @property
    def family(self) -> str:
        """Return the server or platform family (the leave-one-family-out fold)."""
        return family_of(self.case)

    @property
    def group(self) -> str:
        """Return the cross-validation group: lab cases by scenario, others by source."""
        parts = self.case.id.split("/")
        if parts[0] == "lab" or self.case.origin is CaseOrigin.LAB:
            return f"lab:{parts[-1]}"
        return f"src:{self.case.source.strip() or self.case.id}"


Probabilities = Mapping[str, float]


@dataclass(frozen=True, slots=True)
class CrossValidation:
    """Out-of-fold classifier probabilities of grouped cross-validation, and what they lead to."""

    samples: tuple[Sample, ...]
    probabilities: tuple[Probabilities, ...]  # per sample, from a model that never saw its group
    fold_of: tuple[int, ...]  # the fold each sample was tested in
    threshold: float
    folds: int
    c: float
    by: str = "group"  # "group" (grouped k-fold) or "family" (leave-one-family-out)

    def classifier(self, i: int, threshold: float | None = None) -> str:
        """Return the classifier's own answer for sample i: its top cause when sure, else healthy."""
        return classifier_answer(self.samples[i], self.probabilities[i], threshold or self.threshold)

    def combined(self, i: int, threshold: float | None = None) -> str:
        """Return the combined answer for sample i: rules first, then a sure classifier."""
        return combine(self.samples[i].rules_top, self.classifier(i, threshold))

    @property
    def _fold_thresholds(self) -> dict[int, float]:
        rest = {}
        for k in set(self.fold_of):
            others = [j for j, f in enumerate(self.fold_of) if f != k]
            rest[k] = choose_threshold(
                [self.samples[j] for j in others], [self.probabilities[j] for j in others]
            )
        return rest

    def answers(self, kind: str) -> list[str]:
        """Return every sample's answer: kind is rules, classifier, combined or nested."""
        n = range(len(self.samples))
        if kind == "rules":
            return [s.rules_top for s in self.samples]
        if kind == "classifier":
            return [self.classifier(i) for i in n]
        if kind == "combined":
            return [self.combined(i) for i in n]
        if kind == "nested":
            fold_thr = self._fold_thresholds
            return [self.combined(i, fold_thr[self.fold_of[i]]) for i in n]
        raise ValueError(kind)


def ranked(probs: Probabilities) -> list[tuple[str, float]]:
    """Return (class, probability) most probable first (a tie goes to the first class by name, as at
    diagnosis time, where classes keep their sorted order)."""
    return sorted(probs.items(), key=lambda kv: (-kv[1], kv[0]))


def classifier_answer(sample: Sample, probs: Probabilities, threshold: float) -> str:
    """Return the cause the classifier names for a sample, as at diagnosis time (as a sure or a
    "possible" cause): none without a suspicious line, below the threshold, for healthy or unknown,
    or when no line bears the cause's sign."""
    if sample.counts.get(NO_EVIDENCE):
        return HEALTHY
    cause, p = ranked(probs)[0]
    if cause in (HEALTHY, UNKNOWN) or p < threshold or not bears_sign(cause, sample.counts):
        return HEALTHY
    return cause


def combine(rules_top: str, classifier_top: str) -> str:
    """Return the combined top cause: the rules' when they fire (their unexplained-crash fallback
    included: the classifier is then only a "possible" cause below it), else the classifier's."""
    return rules_top if rules_top != HEALTHY else classifier_top


def wrong(label: str, answer: str) -> bool:
    """Return True when an answer names a cause that is not the label (silence and unknown are not wrong)."""
    return answer not in (label, HEALTHY, UNKNOWN)


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


def require_training() -> None:
    """Raise ConfigError unless scikit-learn, the `train` extra, is installed: before any work is done."""
    import importlib.util

    if importlib.util.find_spec("sklearn") is None:
        raise ConfigError(
            "training and cross-validation need scikit-learn, which the default install leaves out",
            hint="pip install 'diagnoser[train]', or with pipx: pipx inject diagnoser scikit-learn",
        )


def _idf(docs: Sequence[Counter[str]]) -> dict[str, float]:
    """Return smoothed idf of tokens present in at least MIN_DF documents."""
    df: Counter[str] = Counter()
    for d in docs:
        df.update(set(d))
    n = len(docs)
    return {t: math.log((1 + n) / (1 + c)) + 1.0 for t, c in df.items() if c >= MIN_DF}


def fit(train: Sequence[Sample], threshold: float, c: float) -> LinearModel:
    """Fit a multinomial logistic regression and return it as a plain-Python LinearModel."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    idf = _idf([s.counts for s in train])
    vocab = sorted(idf)
    index = {t: i for i, t in enumerate(vocab)}
    X = np.zeros((len(train), len(vocab)))
    for r, s in enumerate(train):
        for t, v in vectorize(s.counts, idf).items():
            X[r, index[t]] = v
    y = [s.case.label for s in train]
    sizes = Counter(s.group for s in train)
    weight = np.array([1.0 / sizes[s.group] for s in train])
    weight *= len(train) / weight.sum()
    clf = LogisticRegression(C=c, max_iter=10000, class_weight="balanced", random_state=SEED)
    clf.fit(X, y, sample_weight=weight)
    classes = tuple(str(k) for k in clf.classes_)
    coef = clf.coef_ if len(classes) > 2 else np.vstack([-clf.coef_[0], clf.coef_[0]])
    intercept = clf.intercept_ if len(classes) > 2 else np.array([-clf.intercept_[0], clf.intercept_[0]])
    weights: dict[str, list[float]] = {}
    for t, j in index.items():
        w = [round(float(x), 5) for x in coef[:, j]]
        if any(abs(x) >= 1e-4 for x in w):
            weights[t] = w
    return LinearModel(
        classes,
        {t: round(v, 5) for t, v in idf.items() if t in weights},
        weights,
        tuple(round(float(x), 5) for x in intercept),
        threshold,
        c,
    )


def _splits(data: Sequence[Sample], folds: int, by: str = "group") -> list[tuple[list[int], list[int]]]:
    """Return the folds: grouped k-fold (deterministic: GroupKFold balances group sizes, no shuffling),
    or by="family": one fold per server / platform family, each held out in turn."""
    if by == "family":
        families = sorted({s.family for s in data})
        every = range(len(data))
        return [
            ([i for i in every if data[i].family != f], [i for i in every if data[i].family == f])
            for f in families
        ]
    from sklearn.model_selection import GroupKFold

    groups = [s.group for s in data]
    splitter = GroupKFold(n_splits=min(folds, len(set(groups))))
    return [(list(tr), list(te)) for tr, te in splitter.split(list(range(len(data))), groups=groups)]


def cross_validate(
    data: Sequence[Sample], folds: int = FOLDS, c: float | None = None, by: str = "group"
) -> CrossValidation:
    """Run cross-validation (grouped k-fold, or by="family" leave-one-family-out), choosing C from
    C_GRID unless given, and the threshold."""
    grid = (c,) if c is not None else C_GRID
    splits = _splits(data, folds, by)
    fold_of = [0] * len(data)
    for k, (_, test_idx) in enumerate(splits):
        for i in test_idx:
            fold_of[i] = k
    best: CrossValidation | None = None
    for cc in grid:
        probs: list[Probabilities] = [{}] * len(data)
        for train_idx, test_idx in splits:
            model = fit([data[i] for i in train_idx], THRESHOLDS[0], cc)
            for i in test_idx:
                probs[i] = dict(probabilities(model, vectorize(data[i].counts, model.idf)))
        threshold = choose_threshold(data, probs)
        cv = CrossValidation(tuple(data), tuple(probs), tuple(fold_of), threshold, len(splits), cc, by)
        if best is None or _score(cv) > _score(best):
            best = cv
    assert best is not None
    return best


def _score(cv: CrossValidation) -> tuple[int, int]:
    """Return how a cross-validation run ranks: right combined answers, then right nested answers."""
    truth = [s.case.label for s in cv.samples]
    right = sum(a == t for a, t in zip(cv.answers("combined"), truth, strict=True))
    nested = sum(a == t for a, t in zip(cv.answers("nested"), truth, strict=True))
    return right, nested


def choose_threshold(data: Sequence[Sample], probs: Sequence[Probabilities]) -> float:
    """Return the lowest threshold among the most accurate that gives no healthy case a diagnosis and
    a wrong cause to at most MAX_WRONG of the cases."""
    best: tuple[int, float] | None = None
    for thr in THRESHOLDS:
        answers = [
            combine(s.rules_top, classifier_answer(s, p, thr)) for s, p in zip(data, probs, strict=True)
        ]
        if any(a != HEALTHY for s, a in zip(data, answers, strict=True) if s.case.label == HEALTHY):
            continue
        if sum(wrong(s.case.label, a) for s, a in zip(data, answers, strict=True)) > MAX_WRONG * len(data):
            continue
        correct = sum(a == s.case.label for s, a in zip(data, answers, strict=True))
        if best is None or correct > best[0]:
            best = (correct, thr)
    return best[1] if best else THRESHOLDS[-1]


def precision_recall(truth: Sequence[str], predicted: Sequence[str], label: str) -> tuple[float, float]:
    """Return (precision, recall) of `label` (1.0 when it is never predicted / never true)."""
    tp = sum(t == p == label for t, p in zip(truth, predicted, strict=True))
    n_pred = sum(p == label for p in predicted)
    n_true = sum(t == label for t in truth)
    return (tp / n_pred if n_pred else 1.0, tp / n_true if n_true else 1.0)


def model_to_json(model: LinearModel) -> bytes:
    """Return the model as the JSON the package ships (deterministic)."""
    data = {
        "format_version": FORMAT_VERSION,
        "classes": list(model.classes),
        "threshold": model.threshold,
        "c": model.c,
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
