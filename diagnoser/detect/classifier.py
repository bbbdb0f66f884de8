"""The classifier at diagnosis time: a linear model over the features of detect/features.py (words of
the suspicious lines, a cross-server lexicon of concepts, structured signals), in plain Python.

The model is trained by `diagnoser corpus train` (scikit-learn, see diagnoser/learn.py) and ships as
JSON data in the package: loading it runs no code and unpickles nothing, and diagnosing needs
neither scikit-learn nor numpy.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import orjson

from diagnoser.detect.features import ClassifierGate, FeatureBag
from diagnoser.errors import ConfigError, Location
from diagnoser.model import Event, Evidence, Finding, Origin, Severity
from diagnoser.paths import MODEL_PATH

HEALTHY = "healthy"
UNKNOWN = "unknown"  # the rules' fallback for an unexplained crash: never the classifier's to name
FORMAT_VERSION = 1
EVIDENCE_LINES = 5
# The classifier speaks alone from the model's threshold (chosen by leave-one-family-out
# cross-validation, learn.py) and only with a line that bears the cause's sign (SIGNS). It names the
# cause at high severity only when it is also CONFIDENT and its cause is MARGIN times as likely as the
# runner-up (two nearly tied causes, such as a crash loop with no log: out of memory or init()?);
# otherwise its lean is a "possible" cause at low severity, below every rule. Fixed priors, not tuned.
MARGIN = 1.5
CONFIDENT = 0.5
CLASSIFIER_SUMMARY = (
    "Recognised from the wording of the lines below (a statistical match, not a known message)."
)
POSSIBLE_SUMMARY = (
    "Possible, not confirmed: the lines below only resemble this cause's logs. Check them first."
)

# What a line must be about for the classifier to quote it for a cause: any one of these tokens
# (features.py: a concept "c:x", concepts found in the same line "c:x+y", or a typed field). A
# cause the classifier names alone is always backed by a line a person recognises as about it;
# a cause with no entry here is never named by the classifier alone. Concept pairs keep the
# lexicon's order (features._LEXICON).
SIGNS: dict[str, frozenset[str]] = {
    "oom_worker_reboot": frozenset(
        {"c:memory", "c:kill", "reason=oomkilled", "exit_code=137", "signal=9", "kind=oom_kill"}
    ),
    "gpu_out_of_memory": frozenset({"c:memory+gpu"}),
    "gpu_unavailable": frozenset({"c:gpu"}),
    "init_exception": frozenset({"c:exception+startup", "tb:startup"}),
    "run_exception": frozenset({"c:exception+request", "tb:request", "c:http5xx"}),
    "model_not_found": frozenset({"c:notfound+model"}),
    "missing_dependency": frozenset({"c:dependency"}),
    "request_timeout": frozenset({"c:timeout", "kind=worker_timeout"}),
    "autoscale_lag": frozenset({"c:overload", "status=503", "status=429"}),
    "scheduling_failure": frozenset({"c:schedule", "c:capacity"}),
    "image_pull_failure": frozenset({"c:image"}),
    "probe_failure": frozenset({"c:probe"}),
    "port_in_use": frozenset({"c:port"}),
    "permission_denied": frozenset({"c:permission"}),
    "pod_evicted": frozenset({"c:evict"}),
    "illegal_instruction": frozenset({"c:sigill"}),
    # a setting named next to what is wrong with it: a line that only prints settings is not a sign
    "config_missing": frozenset({"c:notfound+config", "c:exception+config"}),
    "volume_mount_failure": frozenset({"c:volume"}),
    "dependency_unreachable": frozenset({"c:connect"}),
}
# A sign that does not count in a line that also bears another cause's concept (the pair token
# features.py gives that line): a probe's "connect: connection refused" is the app not listening yet,
# not a dependency of the app refusing it (as the dependency rule reads it too).
SIGN_UNLESS: dict[str, dict[str, str]] = {
    "dependency_unreachable": {"c:connect": "c:probe+connect"},
}


def bears_sign(cause: str, tokens: Collection[str]) -> bool:
    """Return True when `tokens` (one line's, or a whole input's counts) hold a sign of `cause`."""
    signs = SIGNS.get(cause)
    if signs is None:
        return False
    unless = SIGN_UNLESS.get(cause, {})
    if isinstance(tokens, Mapping):  # counts: some line holds the sign without what cancels it
        return any(tokens.get(t, 0) > tokens.get(unless.get(t, ""), 0) for t in signs)
    return any(t in tokens and unless.get(t) not in tokens for t in signs)


@dataclass(frozen=True, slots=True)
class LinearModel:
    """Per-token class weights with idf, intercepts, and the confidence a diagnosis needs."""

    classes: tuple[str, ...]
    idf: dict[str, float]
    weights: dict[str, list[float]]
    intercept: tuple[float, ...]
    threshold: float  # minimum probability for a classifier-only diagnosis
    c: float = 0.0  # the regularisation it was trained with (informative; `corpus train` reproduces it)


def model_from_dict(data: object, where: str = "model") -> LinearModel:
    """Build a LinearModel from parsed JSON, checking its shape."""
    try:
        assert isinstance(data, dict) and data["format_version"] == FORMAT_VERSION
        classes = tuple(str(c) for c in data["classes"])
        n = len(classes)
        # Rows stay the lists JSON gives (converting 25k floats to tuples was a tenth of start-up);
        # the shape is checked here, and the shipped file is the one `corpus train` writes.
        weights = data["weights"]
        assert isinstance(weights, dict) and all(type(w) is list and len(w) == n for w in weights.values())
        intercept = tuple(float(x) for x in data["intercept"])
        assert len(intercept) == n
        idf = {str(t): float(v) for t, v in data["idf"].items()}
        threshold, c = float(data["threshold"]), float(data.get("c", 0.0))
        return LinearModel(classes, idf, weights, intercept, threshold, c)
    except (AssertionError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"not a classifier model of format {FORMAT_VERSION} ({exc!r})", Location(where)
        ) from None


@lru_cache(maxsize=2)
def load_model(path: Path = MODEL_PATH) -> LinearModel | None:
    """Return the shipped model, or None when none has been trained yet."""
    if not path.exists():
        return None
    return model_from_dict(orjson.loads(path.read_bytes()), str(path))


def vectorize(counts: Counter[str], idf: dict[str, float]) -> dict[str, float]:
    """Return the L2-normalised sublinear tf-idf vector of known tokens."""
    vec = {t: (1.0 + math.log(c)) * idf[t] for t, c in counts.items() if c > 0 and t in idf}
    norm = math.sqrt(sum(v * v for v in vec.values()))
    return {t: v / norm for t, v in vec.items()} if norm else {}


def probabilities(model: LinearModel, vec: dict[str, float]) -> list[tuple[str, float]]:
    """Return (class, probability) pairs, most probable first."""
    scores = list(model.intercept)
    for tok, x in vec.items():
        w = model.weights.get(tok)
        if w is not None:
            for i, wi in enumerate(w):
                scores[i] += wi * x
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return sorted(((c, e / total) for c, e in zip(model.classes, exps, strict=True)), key=lambda p: -p[1])


def sure(p: float, runner_up: float, threshold: float) -> bool:
    """Return True when a top probability `p` is enough for a high-severity classifier-only diagnosis."""
    return p >= max(threshold, CONFIDENT) and p >= MARGIN * runner_up


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the classifier thinks of one input: every class probability, and its finding if it is sure."""

    probabilities: dict[str, float]
    finding: Finding | None


class Classifier:
    """Stream events in, get at most one Finding out: the cause the model finds most probable.

    With `gate` (the default), a ClassifierGate (detect/features.py) spares the feature bag the
    events it would only count: they are counted here, and the bag's count is made whole before it
    is read, so the prediction is the one an ungated bag gives.
    """

    def __init__(self, model: LinearModel, gate: bool = True):
        self.model = model
        self.bag = FeatureBag()
        self._skipped = 0  # events the gate kept from the bag, which the bag would only have counted
        # `feed` is chosen once: the hot loop calls it for every event of the input.
        self.feed = self._gated(ClassifierGate().wants) if gate else self.bag.feed

    def _gated(self, wants: Callable[[Event], bool]) -> Callable[[Event], None]:
        """Return a feed function that passes the bag only the events `wants` says it may use."""
        feed_bag = self.bag.feed

        def feed(event: Event) -> None:
            """Add one event."""
            if wants(event):
                feed_bag(event)
            else:
                self._skipped += 1

        return feed

    def predict(self) -> list[tuple[str, float]]:
        """Return class probabilities for what was fed."""
        self.bag.events += self._skipped
        self._skipped = 0
        return probabilities(self.model, vectorize(self.bag.finish(), self.model.idf))

    def finish(self) -> Verdict:
        """Return the class probabilities and, when sure of a cause, a Finding for it."""
        ranked = self.predict()
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        return Verdict(dict(ranked), self._finding(*ranked[0], runner_up))

    def _finding(self, cause: str, p: float, runner_up: float = 0.0) -> Finding | None:
        """Return a Finding for `cause`: high severity when sure (CONFIDENT, and MARGIN times as likely
        as the runner-up), "possible" at low severity otherwise; None for healthy or unknown, below the
        model's threshold, or when no suspicious line bears the cause's sign (a cause is never named
        without a line about it to quote)."""
        if cause in (HEALTHY, UNKNOWN) or not self.bag.suspicious or p < self.model.threshold:
            return None
        confident = sure(p, runner_up, self.model.threshold)
        evidence = self._evidence(cause)
        if not evidence:
            return None
        if confident:
            return Finding(
                cause=cause,
                rule=None,
                origin=Origin.CLASSIFIER,
                severity=Severity.HIGH,
                confidence=round(p, 3),
                title=cause,
                summary=CLASSIFIER_SUMMARY,
                evidence=evidence,
                count=self.bag.suspicious,
            )
        return Finding(
            cause=cause,
            rule=None,
            origin=Origin.CLASSIFIER,
            severity=Severity.LOW,
            confidence=round(p, 3),
            title=cause,
            summary=POSSIBLE_SUMMARY,
            evidence=evidence,
            count=self.bag.suspicious,
        )

    def _evidence(self, cause: str) -> tuple[Evidence, ...]:
        """Return the suspicious lines whose tokens weigh most towards `cause`."""
        index = self.model.classes.index(cause)
        weights = self.model.weights
        scored = []
        for event, toks in self.bag.evidence:
            if not bears_sign(cause, toks):
                continue
            # fsum: exact, so the result does not depend on the set's (hash-seeded) order, and
            # lines of equal weight keep their input order.
            weight = math.fsum(weights[t][index] for t in toks if t in weights)
            scored.append((weight, event))
        best = sorted(scored, key=lambda we: -we[0])[:EVIDENCE_LINES]
        return tuple(
            Evidence(e.source, e.line, e.text, ("classifier",), e.timestamp)
            for _, e in sorted(best, key=lambda we: (we[1].source, we[1].line))
        )
