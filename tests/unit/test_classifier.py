"""The classifier at diagnosis time: safe model loading, features, probabilities and the combiner."""

from __future__ import annotations

from collections import Counter

import orjson
import pytest

from diagnoser.detect.classifier import (
    POSSIBLE_SUMMARY,
    Classifier,
    bears_sign,
    model_from_dict,
    probabilities,
    vectorize,
)
from diagnoser.detect.features import FeatureBag, concepts, mask, tokens
from diagnoser.errors import ConfigError
from diagnoser.model import Event, Evidence, Finding, Level, Origin, Severity
from diagnoser.parse.traceback import frames_phase
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
        bag.feed(
            _event(
                f"error token{chr(97 + i % 26)}{chr(97 + (i // 26) % 26)}{chr(97 + (i // 676) % 26)} x", i + 1
            )
        )
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
    fallback = Finding(
        "run_exception", None, Origin.CLASSIFIER, Severity.HIGH, 0.7, "run_exception", "", (), 0
    )
    assert [r.cause for r in rank([], {"run_exception": 0.7}, fallback)] == ["run_exception"]
    assert [r.cause for r in rank([_rule_finding("oom_worker_reboot", 0.8)], {}, fallback)] == [
        "oom_worker_reboot"
    ]


def test_shipped_model_loads_safely_when_present():
    from diagnoser.detect.classifier import MODEL_PATH, load_model

    if not MODEL_PATH.exists():
        pytest.skip("no model trained yet")
    model = load_model()
    assert model is not None and "healthy" in model.classes
    assert orjson.loads(MODEL_PATH.read_bytes())["format_version"] == 1


# -- features that carry a cause across servers and languages of log -------------------------------


def test_lexicon_names_concepts_in_other_servers_wording():
    from diagnoser.detect.features import concepts

    assert {"c:memory", "c:capacity"} <= set(concepts("heroku[web.1]: Error R14 (Memory quota exceeded)"))
    assert "c:timeout" in concepts("Task timed out after 120.10 seconds")
    assert "c:timeout" in concepts('{"level":"error","error":"context canceled"}')
    assert {"c:notfound", "c:model", "c:notfound+model"} <= set(
        concepts("model 'mistral' not found, try pulling it")
    )
    assert "c:overload" in concepts(
        '"message": "Model \\"restorer\\" has no worker to serve inference request"'
    )
    assert "c:schedule" in concepts(
        "unable to place a task because no container instance met all of its requirements"
    )
    assert "c:exception" not in concepts(
        '"errorlog": "-", "accesslog": "-"'
    )  # a key named error... is no error


def test_informational_lines_need_strong_wording_to_count():
    from diagnoser.detect.features import is_suspicious

    def plain(message: str) -> Event:
        return Event("stdin", 1, message, message, "plain")

    assert not is_suspicious(plain("2024-10-14 07:51:37,172 uvicorn.error INFO Started server process [7]"))
    assert not is_suspicious(
        plain('{"loglevel": "info", "workers": 6, "graceful_timeout": 120, "timeout": 120, "keepalive": 5}')
    )
    assert is_suspicious(plain("Error R14 (Memory quota exceeded)"))
    assert is_suspicious(
        plain('heroku[router]: at=error code=H12 desc="Request timeout" method=GET path="/" status=503')
    )
    assert is_suspicious(plain("INFO  Worker (pid:7) was sent SIGKILL! Perhaps out of memory?"))


def test_a_traceback_is_read_by_its_innermost_frames_and_exception():
    from diagnoser.detect.features import FeatureBag

    head = "Traceback (most recent call last):\n" + "\n".join(
        f'  File "/lib/site-packages/x{i}.py", line 1, in f{i}' for i in range(40)
    )
    bag = FeatureBag()
    bag.feed(
        _event(
            head,
            1,
            kind="traceback",
            functions=["wsgi_app", "get_prediction"],
            phase=frames_phase(["wsgi_app", "get_prediction"]),
            exception="ValueError",
            exception_full="ValueError",
            exception_message="Found array with shape (1, 2)",
        )
    )
    bag.feed(
        _event(
            "x",
            2,
            kind="traceback",
            functions=["<module>", "lifespan"],
            phase=frames_phase(["<module>", "lifespan"]),
            exception="TypeError",
            exception_full="TypeError",
            exception_message="'module' object is not callable",
        )
    )
    counts = bag.finish()
    assert counts["tb:request"] == 1 and counts["tb:startup"] == 1
    assert counts["shape"] and counts["callable"] and counts["exception=valueerror"]


def test_whole_input_signals_use_counts_only():
    bag = FeatureBag()
    for i, status in enumerate((200, 200, 503, 200)):
        bag.feed(
            Event(
                "stdin", i + 1, "x", "GET / HTTP/1.1", "access", fields={"kind": "access", "status": status}
            )
        )
    for i in range(100):
        bag.feed(Event("stdin", 10 + i, "ok", "served request", "plain"))
    counts = bag.finish()
    assert counts["access:5xx_with_ok"] == 1 and counts["suspicious<5%"] == 1 and counts["status=503"] == 1


def test_classifier_names_no_cause_without_a_suspicious_line():
    model = model_from_dict(
        {
            **TINY,
            "weights": {**TINY["weights"], "no_suspicious_lines": [-5.0, 5.0]},
            "idf": {**TINY["idf"], "no_suspicious_lines": 1.0},
        }
    )
    clf = Classifier(model)
    clf.feed(Event("stdin", 1, "all good", "all good", "plain"))
    verdict = clf.finish()
    assert verdict.probabilities["oom_worker_reboot"] > 0.9
    assert verdict.finding is None


def test_classifier_names_no_cause_when_two_are_nearly_tied():
    from diagnoser.detect.classifier import MARGIN, sure

    assert sure(0.6, 0.2, 0.3) and not sure(0.44, 0.33, 0.3) and not sure(0.29, 0.01, 0.3)
    tied = {
        "format_version": 1,
        "classes": ["healthy", "init_exception", "oom_worker_reboot"],
        "threshold": 0.3,
        "intercept": [-3.0, 0.0, 0.2],
        "idf": {"crashloopbackoff": 1.0},
        "weights": {"crashloopbackoff": [0.0, 1.0, 1.0]},
    }
    clf = Classifier(model_from_dict(tied))
    clf.feed(_event("Back-off restarting failed container: CrashLoopBackOff", 1))
    verdict = clf.finish()
    top, second = sorted(verdict.probabilities.values(), reverse=True)[:2]
    assert top >= 0.3 and top < MARGIN * second
    assert verdict.finding is None


def test_classifier_names_no_cause_without_a_line_that_bears_its_sign():
    # The same weights, but the only suspicious line says nothing about memory or a kill: no finding.
    model = model_from_dict(
        {**TINY, "weights": {**TINY["weights"], "panic": [-3.0, 3.0]}, "idf": {**TINY["idf"], "panic": 1.0}}
    )
    clf = Classifier(model)
    clf.feed(_event("panic: runtime error: invalid memory address or nil pointer dereference", 1))
    verdict = clf.finish()
    assert verdict.probabilities["oom_worker_reboot"] > 0.9
    assert verdict.finding is None
    assert bears_sign("oom_worker_reboot", {"c:memory"}) and not bears_sign(
        "oom_worker_reboot", {"c:exception"}
    )
    assert not bears_sign("a_cause_without_signs", {"c:memory"})


def test_an_unsure_lean_is_only_a_possible_cause_at_low_severity():
    # threshold 0.3: above it the classifier speaks; below CONFIDENT (0.5) only as "possible".
    model = model_from_dict(
        {
            **TINY,
            "classes": ["healthy", "oom_worker_reboot", "run_exception"],
            "threshold": 0.3,
            "intercept": [0.0, 0.0, 0.0],
            "weights": {"sigkill": [-0.1, 0.5, 0.2]},
            "idf": {"sigkill": 1.0},
        }
    )
    clf = Classifier(model)
    clf.feed(_event("worker was sent SIGKILL", 1))
    verdict = clf.finish()
    p = verdict.probabilities["oom_worker_reboot"]
    assert 0.3 <= p < 0.5
    assert verdict.finding is not None
    assert verdict.finding.severity is Severity.LOW
    assert verdict.finding.summary == POSSIBLE_SUMMARY


def test_the_classifier_never_names_unknown_or_healthy():
    model = model_from_dict({**TINY, "classes": ["healthy", "unknown"]})
    clf = Classifier(model)
    clf.feed(_event("worker was sent SIGKILL! Perhaps out of memory", 1))
    assert clf.finish().finding is None


def test_a_probe_that_cannot_connect_is_no_sign_of_an_unreachable_dependency():
    probe_line = set(
        concepts('Readiness probe failed: Get "http://10.0.0.7:8080/readyz": connect: connection refused')
    )
    assert "c:probe+connect" in probe_line
    assert not bears_sign("dependency_unreachable", probe_line)
    assert bears_sign(
        "dependency_unreachable", set(concepts("psycopg2: could not connect to server: Connection refused"))
    )
    # over a whole input's counts: some line must hold the sign without the probe
    counts = Counter(probe_line)
    assert not bears_sign("dependency_unreachable", counts)
    counts.update(concepts("dial tcp 10.0.0.9:5432: connect: connection refused"))
    assert bears_sign("dependency_unreachable", counts)
