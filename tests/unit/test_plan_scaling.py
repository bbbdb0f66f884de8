"""Replica plans from what the autoscaler shows: observed min / max / current replicas and targets."""

from __future__ import annotations

from pathlib import Path

from test_parse_helpers import parse_text

from diagnoser.model import Event, Platform, ValueSource
from diagnoser.options import PlanOptions, ReplicaInputs
from diagnoser.plan import build_fixes, load_catalogue
from diagnoser.plan.observe import Observations
from diagnoser.plan.suggest import suggest_replicas

HPA = Path(__file__).resolve().parents[1] / "data" / "hpa"
AUTOSCALE = load_catalogue()["autoscale_lag"]


def _observe(*texts: str) -> Observations:
    obs = Observations()
    for text in texts:
        for ev in parse_text(text):
            obs.feed(ev)
    return obs


def _hpa(name: str) -> str:
    return (HPA / name).read_text(encoding="utf-8")


def _step(steps, knob):
    return next(s for s in steps if s.knob == knob)


def test_pinned_hpa_makes_max_replicas_the_first_step_with_the_hpa_rule():
    obs = _observe(_hpa("describe_hpa.txt"))  # 5 current / 5 desired, max 5, cpu 308%/80%, TooManyReplicas
    assert obs.scaling.pinned_at_max and obs.scaling.hpa_need == 20  # ceil(5 x 308 / 80)
    steps = build_fixes(AUTOSCALE, (Platform.KUBERNETES,), obs, PlanOptions())
    first = steps[0]
    assert first.knob == "spec.maxReplicas"
    assert (first.current, first.current_source, first.suggested) == ("5", ValueSource.OBSERVED, "20")
    assert "pinned at its maximum" in first.why and "ceil(5 x 308% / 80%) = 20" in first.why
    assert '"maxReplicas":20' in first.snippet
    minimum = _step(steps, "spec.minReplicas")
    assert (minimum.current, minimum.current_source) == ("1", ValueSource.OBSERVED)


def test_formula_uses_the_observed_target_and_current_max():
    # kubectl get hpa: scorer at 3 of max 3, 95%/70%; the user gives 20 rps x 10 s.
    obs = _observe(_hpa("get_hpa.txt"))
    inputs = ReplicaInputs(target_rps=20, request_seconds=10)
    minimum = suggest_replicas(obs, inputs, "spec.minReplicas", Platform.KUBERNETES)
    assert minimum.suggested == "286"  # the observed target 70 % is the formula's utilisation
    assert (
        "/ 0.7 /" in minimum.reasoning and "above the maximum 3: raise the maximum too" in minimum.reasoning
    )
    maximum = suggest_replicas(obs, inputs, "spec.maxReplicas", Platform.KUBERNETES)
    # The HPA wants ceil(3 x 95 / 70) = 5, the formula 286: the larger one wins.
    assert (maximum.current, maximum.suggested) == ("3", "286")
    assert "ceil(3 x 95% / 70%) = 5" in maximum.reasoning


def test_observed_target_changes_the_formula():
    obs = Observations()
    obs.feed(
        Event(
            "t",
            1,
            "x",
            "AksWebservice.deploy_configuration(autoscale_target_utilization=50, autoscale_max_replicas=4)",
            "plain",
        )
    )
    s = suggest_replicas(
        obs,
        ReplicaInputs(target_rps=20, request_seconds=10),
        "autoscale_min_replicas",
        Platform.AZUREML_V1_AKS,
    )
    assert s.suggested == "400"  # ceil(20 x 10 / 0.5)
    assert (s.current, s.current_source) == ("1", ValueSource.DEFAULT)  # min not shown: the AKS default
    m = suggest_replicas(
        obs,
        ReplicaInputs(target_rps=20, request_seconds=10),
        "autoscale_max_replicas",
        Platform.AZUREML_V1_AKS,
    )
    assert (m.current, m.current_source, m.suggested) == ("4", ValueSource.OBSERVED, "400")


def test_not_pinned_max_is_left_alone_and_min_keeps_the_peak_ready():
    # Rescale events show the HPA reached 14 replicas; nothing says it hit its maximum.
    obs = _observe(_hpa("events_rescale.txt"))
    assert not obs.scaling.pinned_at_max and obs.scaling.peak_replicas == 14
    maximum = suggest_replicas(obs, ReplicaInputs(), "spec.maxReplicas", Platform.KUBERNETES)
    assert maximum.suggested is None and maximum.current is None  # maxReplicas has no default
    minimum = suggest_replicas(obs, ReplicaInputs(), "spec.minReplicas", Platform.KUBERNETES)
    assert (minimum.current, minimum.current_source, minimum.suggested) == ("1", ValueSource.DEFAULT, "14")
    assert "needed 14 replicas" in minimum.reasoning


def test_pinned_without_utilisation_doubles_the_maximum():
    text = (
        "Name:          web\nNamespace:     default\nReference:     Deployment/web\nMin replicas:  2\n"
        "Max replicas:  6\nConditions:\n  Type            Status  Reason            Message\n"
        "  ScalingLimited  True    TooManyReplicas   the desired replica count is more than the maximum\n"
    )
    obs = _observe(text)
    assert obs.scaling.limited_at_max and obs.scaling.max_replicas == 6
    s = suggest_replicas(obs, ReplicaInputs(), "spec.maxReplicas", Platform.KUBERNETES)
    assert (s.current, s.suggested) == ("6", "12") and "at least double the maximum 6" in s.reasoning


def test_v1_autoscaler_json_and_v2_scale_settings_are_read():
    obs = _observe(
        '    "autoScaler": {\n      "autoscaleEnabled": true,\n'
        '      "minReplicas": 2,\n      "maxReplicas": 3,\n'
        '      "refreshPeriodInSeconds": 1,\n      "targetUtilization": 60\n    },'
    )
    sc = obs.scaling
    assert (sc.min_replicas, sc.max_replicas, sc.target_utilization) == (2, 3, 60)
    obs = _observe(
        "scale_settings:\n  type: target_utilization\n  min_instances: 1\n  max_instances: 1\n"
        "  target_utilization_percentage: 70\ninstance_count: 1\n"
    )
    sc = obs.scaling
    assert (sc.min_replicas, sc.max_replicas, sc.target_utilization, sc.instance_count) == (1, 1, 70, 1)


def test_managed_instance_count_uses_the_observed_count():
    obs = _observe("instance_count: 2")
    steps = build_fixes(
        AUTOSCALE, (Platform.AZUREML_V2_MANAGED,), obs, PlanOptions(replicas=ReplicaInputs(20, 10))
    )
    step = _step(steps, "instance_count")
    assert (step.current, step.current_source, step.suggested) == ("2", ValueSource.OBSERVED, "286")
    assert "--set instance_count=286" in step.snippet and "--min-count 286" in step.snippet


def test_the_autoscaler_is_read_after_a_gunicorn_worker_booted():
    # A gunicorn log pasted before the HPA's: the boot starts counting the first burst of workers, and the
    # HPA status that follows it is still read.
    boot = "[2024-03-05 10:00:00 +0000] [7] [INFO] Booting worker with pid: 7\n"
    alone, after_boot = _observe(_hpa("describe_hpa.txt")), _observe(boot, _hpa("describe_hpa.txt"))
    assert after_boot.initial_boots == 1
    assert after_boot.scaling.pinned_at_max and after_boot.scaling.hpa_need == alone.scaling.hpa_need == 20
