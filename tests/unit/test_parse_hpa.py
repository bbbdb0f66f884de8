"""HorizontalPodAutoscaler state from every kubectl shape (samples and sources: tests/data/hpa/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_parse_helpers import kinds, parse_text

from diagnoser.model import Level
from diagnoser.parse.hpa import read_targets

HPA = Path(__file__).resolve().parents[1] / "data" / "hpa"


def _parse(name: str):
    return parse_text((HPA / name).read_text(encoding="utf-8"), f"file:{name}")


def _status(name: str) -> list[dict]:
    return [e.fields for e in kinds(_parse(name), "hpa_status")]


def _subset(fields: dict, **want) -> dict:
    return {k: fields.get(k) for k in want}


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("95%/70%", [(None, 95, 70)]),
        ("cpu: 95%/70%", [("cpu", 95, 70)]),
        ("<unknown>/70%", [(None, None, 70)]),
        ("305% / 50%", [(None, 305, 50)]),
        ("memory: 10%/75%, cpu: 105%/75%", [("memory", 10, 75), ("cpu", 105, 75)]),
        ("6262500m/30 (avg)", [(None, None, None)]),
    ],
)
def test_targets_cell_every_layout(text, want):
    assert read_targets(text) == want


def test_get_hpa_table():
    telemetry, scorer = _status("get_hpa.txt")
    assert _subset(
        telemetry,
        hpa=1,
        target_ref=1,
        min_replicas=1,
        max_replicas=1,
        current_replicas=1,
        utilization=1,
        target_utilization=1,
    ) == {
        "hpa": "istio-telemetry",
        "target_ref": "Deployment/istio-telemetry",
        "min_replicas": 1,
        "max_replicas": 5,
        "current_replicas": 3,
        "utilization": 308,
        "target_utilization": 80,
    }
    assert _subset(scorer, current_replicas=1, max_replicas=1, utilization=1) == {
        "current_replicas": 3,
        "max_replicas": 3,
        "utilization": 95,
    }
    levels = [e.level for e in kinds(_parse("get_hpa.txt"), "hpa_status")]
    assert levels == [Level.INFO, Level.WARNING]  # only the second is at its maximum above target


def test_get_hpa_named_metrics_keep_the_one_asking_for_most_replicas():
    (f,) = _status("get_hpa_named_metrics.txt")
    assert _subset(f, metric=1, utilization=1, target_utilization=1, current_replicas=1, max_replicas=1) == {
        "metric": "cpu",
        "utilization": 105,
        "target_utilization": 75,
        "current_replicas": 11,
        "max_replicas": 11,
    }


def test_get_hpa_unknown_metric():
    (f,) = _status("get_hpa_unknown.txt")
    assert f["metrics_unknown"] is True and f["target_utilization"] == 80 and "utilization" not in f


def test_get_hpa_kubectl_1_7_desired_current_columns():
    _, exporter = _status("get_hpa_v1_7.txt")
    assert _subset(exporter, desired_replicas=1, current_replicas=1, utilization=1, target_utilization=1) == {
        "desired_replicas": 3,
        "current_replicas": 3,
        "utilization": 8,
        "target_utilization": 1,
    }


def test_get_hpa_before_kubectl_1_6_target_current_columns():
    (f,) = _status("get_hpa_v1_1.txt")
    assert _subset(
        f, target_ref=1, utilization=1, target_utilization=1, max_replicas=1, current_replicas=1
    ) == {
        "target_ref": "ReplicationController/php-apache",
        "utilization": 305,
        "target_utilization": 50,
        "max_replicas": 10,
        "current_replicas": None,
    }


def test_describe_hpa_status_conditions_and_events():
    evs = _parse("describe_hpa.txt")
    (status,) = kinds(evs, "hpa_status")
    assert _subset(
        status.fields,
        hpa=1,
        namespace=1,
        min_replicas=1,
        max_replicas=1,
        current_replicas=1,
        desired_replicas=1,
        metric=1,
        utilization=1,
        target_utilization=1,
    ) == {
        "hpa": "istio-telemetry",
        "namespace": "istio-system",
        "min_replicas": 1,
        "max_replicas": 5,
        "current_replicas": 5,
        "desired_replicas": 5,
        "metric": "cpu",
        "utilization": 308,
        "target_utilization": 80,
    }
    assert "pod" not in status.fields and status.level is Level.WARNING
    limited = [e for e in kinds(evs, "hpa_condition") if e.fields["condition"] == "ScalingLimited"]
    assert limited[0].fields["reason"] == "TooManyReplicas" and limited[0].fields["status_value"] == "True"
    rescales = [e for e in kinds(evs, "k8s_event") if e.fields["reason"] == "SuccessfulRescale"]
    assert [e.message.split(";")[0] for e in rescales] == ["New size: 3", "New size: 5"]
    assert all(e.fields["object"] == "horizontalpodautoscaler/istio-telemetry" for e in rescales)


def test_describe_hpa_before_kubectl_1_6():
    (f,) = _status("describe_hpa_v1_1.txt")
    assert _subset(
        f, min_replicas=1, max_replicas=1, current_replicas=1, utilization=1, target_utilization=1
    ) == {
        "min_replicas": 1,
        "max_replicas": 10,
        "current_replicas": 3,
        "utilization": 0,
        "target_utilization": 50,
    }


def test_hpa_objects_v2_json_and_v1_yaml():
    evs = _parse("hpa_v2.json")
    (f,) = [e.fields for e in kinds(evs, "hpa_status")]
    assert _subset(f, max_replicas=1, current_replicas=1, utilization=1, target_utilization=1, metric=1) == {
        "max_replicas": 10,
        "current_replicas": 10,
        "utilization": 305,
        "target_utilization": 50,
        "metric": "cpu",
    }
    assert kinds(evs, "hpa_condition")[0].fields["reason"] == "TooManyReplicas"
    (f,) = _status("hpa_v1.yaml")
    assert _subset(
        f, min_replicas=1, max_replicas=1, current_replicas=1, utilization=1, target_utilization=1
    ) == {
        "min_replicas": 1,
        "max_replicas": 5,
        "current_replicas": 2,
        "utilization": 35,
        "target_utilization": 80,
    }


def test_hpa_object_on_one_line_as_the_collector_writes_it():
    line = (
        '{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"web"},'
        '"spec":{"maxReplicas":4,"scaleTargetRef":{"kind":"Deployment","name":"web"}},'
        '"status":{"currentReplicas":4,"desiredReplicas":4}}'
    )
    (ev,) = kinds(parse_text(line), "hpa_status")
    assert _subset(ev.fields, min_replicas=1, max_replicas=1, current_replicas=1) == {
        "min_replicas": 1,
        "max_replicas": 4,
        "current_replicas": 4,  # minReplicas defaults to 1
    }


def test_rescale_rows_pasted_without_header():
    evs = _parse("events_rescale.txt")
    assert [e.fields["reason"] for e in evs] == ["SuccessfulRescale"] * 4
    assert evs[-1].message.startswith("New size: 14;")


def test_describe_pod_still_reads_as_a_pod():
    evs = parse_text(
        "Name:         web-1\nNamespace:    default\nStatus:       Pending\nReason:       Evicted\n"
    )
    assert not kinds(evs, "hpa_status") and kinds(evs, "pod_status")[0].fields["pod"] == "web-1"
