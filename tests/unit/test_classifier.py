"""The classifier at diagnosis time: safe model loading, features, probabilities and the combiner."""

from __future__ import annotations

from collections import Counter

import orjson
import pytest

from diagnoser.detect.classifier import Classifier, model_from_dict, probabilities, vectorize
from diagnoser.detect.features import FeatureBag, mask, tokens
from diagnoser.errors import ConfigError
from diagnoser.model import Event, Evidence, Finding, Level, Origin, Severity
from diagnoser.rank import rank

TINY = {
    "format_version": 1,
    "classes": ["healthy", "oom_worker_reboot"],
    "threshold": 0.6,
    "intercept": [0.5, -0.5],
    "idf": {"sigkill": 1.0, "perhaps_out": 1.0, "booting": 1.0},
    "weights": {"sigkill": [-3.0, 3.0], "perhaps_out": [-2.0, 2.0], "booting": [0.2, -0.2]},
}


def _event(message: str, line: int = 1, **fields) -> Event:
    return Event("stdin", line, message, message, "plain", level=Level.ERROR, fields=dict(fields))


def test_masking_hides_variable_parts_but_keeps_file_names():
    assert mask("Worker (pid:24563) killed at 10.1.2.3:5001") == "Worker (pid:<NUM>) killed at <IP>"
    assert "model.pkl" in tokens("No such file or directory: '/var/azureml-app/azureml-models/m/1/model.pkl'")


def test_model_shape_is_checked():
    model_from_dict(TINY)
    with pytest.raises(ConfigError, match="not a classifier model"):
        model_from_dict({**TINY, "intercept": [0.0]})
    with pytest.raises(ConfigError, match="not a classifier model"):
        model_from_dict({**TINY, "format_version": 99})


def test_probabilities_follow_the_weights():
    model = model_from_dict(TINY)
    sure = probabilities(model, vectorize(Counter({"sigkill": 3, "perhaps_out": 2}), model.idf))
    assert sure[0][0] == "oom_worker_reboot" and sure[0][1] > 0.9
    calm = probabilities(model, vectorize(Counter({"booting": 4}), model.idf))
    assert calm[0][0] == "healthy"
    assert abs(sum(p for _, p in sure) - 1.0) < 1e-9


def test_classifier_finding_needs_the_threshold_and_quotes_the_heaviest_lines():
    model = model_from_dict(TINY)
    clf = Classifier(model)
    clf.feed(_event("Booting worker", 1))
    clf.feed(_event("worker was sent SIGKILL! Perhaps out of memory", 2))
    verdict = clf.finish()
    assert verdict.finding is not None
    assert verdict.finding.origin is Origin.CLASSIFIER
    assert [e.line for e in verdict.finding.evidence] == [2]
    quiet = Classifier(model_from_dict({**TINY, "threshold": 0.999}))
    quiet.feed(_event("worker was sent SIGKILL", 1))
    assert quiet.finish().finding is None


def test_bag_memory_is_bounded():
    bag = FeatureBag()
    for i in range(20000):
        bag.feed(_event(f"error token{chr(97 + i % 26)}{chr(97 + (i // 26) % 26)}{chr(97 + (i // 676) % 26)} x", i + 1))
    assert len(bag.counts) <= 4000
    assert len(bag.evidence) <= 64


def _rule_finding(cause: str, conf: float) -> Finding:
    ev = (Evidence("stdin", 1, "x", ("m",)),)
    return Finding(cause, cause.replace("_", "-"), Origin.RULE, Severity.HIGH, conf, cause, "", ev, 1)


def test_combiner_agreement_raises_confidence_and_marks_both():
    [entry] = rank([_rule_finding("oom_worker_reboot", 0.8)], {"oom_worker_reboot": 0.5}, None)
    assert entry.origin is Origin.BOTH
    assert entry.confidence == 0.9
    [alone] = rank([_rule_finding("oom_worker_reboot", 0.8)], {"oom_worker_reboot": 0.1}, None)
    assert (alone.origin, alone.confidence) == (Origin.RULE, 0.8)


def test_combiner_uses_the_classifier_only_when_no_rule_fired():
    fallback = Finding("run_exception", None, Origin.CLASSIFIER, Severity.HIGH, 0.7, "run_exception", "", (), 0)
    assert [r.cause for r in rank([], {"run_exception": 0.7}, fallback)] == ["run_exception"]
    assert [r.cause for r in rank([_rule_finding("oom_worker_reboot", 0.8)], {}, fallback)] == ["oom_worker_reboot"]


def test_shipped_model_loads_safely_when_present():
    from diagnoser.detect.classifier import MODEL_PATH, load_model

    if not MODEL_PATH.exists():
        pytest.skip("no model trained yet")
    model = load_model()
    assert model is not None and "healthy" in model.classes
    assert orjson.loads(MODEL_PATH.read_bytes())["format_version"] == 1
