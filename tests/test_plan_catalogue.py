"""The platform matrix: every cause has a plan for every (sub)platform where it applies, every knob and
every default cites its docs, and each sub-platform gets its own paste-ready snippets."""

from __future__ import annotations

import pytest

from diagnoser.model import Platform, ValueSource
from diagnoser.options import PlanOptions
from diagnoser.plan import build_fixes, load_catalogue, select_platforms, shows
from diagnoser.plan.defaults import DEFAULTS
from diagnoser.plan.observe import Observations

P = Platform
V1_SUBS = {P.AZUREML_V1_AKS, P.AZUREML_V1_ACI, P.AZUREML_V1_LOCAL}
V2_SUBS = {P.AZUREML_V2_MANAGED, P.AZUREML_V2_KUBERNETES}
K8S, DOCKER, GUNICORN, AMLSRV = P.KUBERNETES, P.DOCKER, P.GUNICORN, P.AZMLINFSRV
# Where each documented cause can happen, hence where its plan must speak.
APPLIES = {
    "oom_worker_reboot": V1_SUBS | V2_SUBS | {K8S, DOCKER, GUNICORN, AMLSRV},
    "init_exception": V1_SUBS | V2_SUBS | {K8S, DOCKER, AMLSRV},
    "model_not_found": V1_SUBS | V2_SUBS | {K8S, DOCKER, AMLSRV},
    # ACI and local web services have no scheduler of their own; managed endpoints fail on quota.
    "scheduling_failure": {P.AZUREML_V1_AKS} | V2_SUBS | {K8S},
    "run_exception": V1_SUBS | V2_SUBS | {K8S, DOCKER, AMLSRV},
    # A local web service serves one developer: no autoscaling question.
    "autoscale_lag": {P.AZUREML_V1_AKS, P.AZUREML_V1_ACI} | V2_SUBS | {K8S},
    "request_timeout": V1_SUBS | V2_SUBS | {K8S, GUNICORN, AMLSRV},
}
# The class or file a paste-ready snippet names on each sub-platform, for the knobs with a value.
SNIPPET_WORDS = {
    P.AZUREML_V1_AKS: ("AksWebservice", "service.update("),
    P.AZUREML_V1_ACI: ("AciWebservice",),
    P.AZUREML_V1_LOCAL: ("LocalWebservice",),
    P.AZUREML_V2_MANAGED: ("instance_type:", "request_settings:\n", "instance_count"),
    P.AZUREML_V2_KUBERNETES: ("request_settings:\n", "scale_settings:\n", "resources:\n"),  # YAML fragments
}
CATALOGUE = load_catalogue()
MATRIX = sorted((cause, p.value) for cause, platforms in APPLIES.items() for p in platforms)


def _plan(cause: str, platform: Platform, obs: Observations | None = None):
    return build_fixes(
        CATALOGUE[cause], select_platforms((platform,), None), obs or Observations(), PlanOptions()
    )


def _four_workers() -> Observations:
    obs = Observations()
    obs.worker_count = 4
    return obs


# Platforms whose only knob for a cause is a worker count: at the default of one worker there is nothing
# to lower, so their own step shows only when the logs show more workers.
WORKER_ONLY = {("oom_worker_reboot", "gunicorn"), ("oom_worker_reboot", "azmlinfsrv")}


@pytest.mark.parametrize(("cause", "platform"), MATRIX)
def test_every_cause_has_a_plan_for_every_platform_it_applies_to(cause, platform):
    platform = Platform(platform)
    plan = _plan(cause, platform)
    own = [s for s in plan if s.platform in (platform, platform.family)]
    if (cause, platform.value) in WORKER_ONLY:
        assert not own  # one worker (the default) cannot be lowered
        own = [s for s in _plan(cause, platform, _four_workers()) if s.platform is platform]
    assert own, f"{cause} has no step for {platform.value}"
    for step in plan:
        assert step.docs.startswith("https://"), (cause, step.knob)
        assert shows(step.platform, select_platforms((platform,), None)), (
            cause,
            platform.value,
            step.platform.value,
        )
        if step.current_source is ValueSource.DEFAULT:
            assert step.current_docs and step.current_docs.startswith("https://"), (cause, step.knob)
        else:
            assert step.current is None, (cause, step.knob)  # nothing observed in an empty input


@pytest.mark.parametrize(("cause", "platform"), MATRIX)
def test_a_sub_platform_plan_leaves_out_its_siblings(cause, platform):
    platform = Platform(platform)
    siblings = set(platform.family.sub_platforms) - {platform}
    assert not {s.platform for s in _plan(cause, platform)} & siblings


@pytest.mark.parametrize("cause", ["oom_worker_reboot", "request_timeout", "autoscale_lag"])
def test_each_sub_platform_gets_its_own_snippet(cause):
    for platform, words in SNIPPET_WORDS.items():
        if platform not in APPLIES[cause]:
            continue
        snippets = [s.snippet or "" for s in _plan(cause, platform) if s.platform is platform]
        assert any(w in snippet for w in words for snippet in snippets), (cause, platform.value, snippets)


def test_every_documented_default_is_shown_by_some_step_with_its_docs():
    used = set()
    for cause in CATALOGUE.values():
        for template in cause.fix:
            if not template.suggest:
                continue
            for step in build_fixes(cause, (template.platform,), Observations(), PlanOptions()):
                if (
                    step.knob == template.knob
                    and step.platform is template.platform
                    and step.current_source is ValueSource.DEFAULT
                ):
                    key = next(
                        k for k, d in DEFAULTS.items() if k[0] == step.knob and d.docs == step.current_docs
                    )
                    assert DEFAULTS[key].value == step.current
                    used.add(key)
    unused = set(DEFAULTS) - used
    # The family-level request timeout holds when only "azureml-v2" is known; no step is family-level. A
    # default worker count of 1 is never shown: it only tells the plan that there is no worker to take away.
    expected = {("request_settings.request_timeout_ms", P.AZUREML_V2)}
    expected |= {k for k, d in DEFAULTS.items() if k[0] in ("WORKER_COUNT", "--workers") and d.value == "1"}
    assert unused <= expected, sorted(unused)


@pytest.mark.parametrize(
    ("cause", "platform", "knob", "default", "url_part"),
    [
        (
            "request_timeout",
            P.AZUREML_V1_AKS,
            "scoring_timeout_ms",
            "60000",
            "aksservicedeploymentconfiguration",
        ),
        (
            "request_timeout",
            P.AZUREML_V2_MANAGED,
            "request_settings.request_timeout_ms",
            "5000",
            "deployment-managed-online",
        ),
        (
            "request_timeout",
            P.AZUREML_V2_KUBERNETES,
            "request_settings.request_timeout_ms",
            "5000",
            "deployment-kubernetes-online",
        ),
        (
            "request_timeout",
            P.GUNICORN,
            "--timeout",
            "30",
            "docs.gunicorn.org/en/stable/settings.html#timeout",
        ),
        ("request_timeout", P.AZMLINFSRV, "SCORING_TIMEOUT_MS", "3600000", "server/config.py"),
        ("request_timeout", P.AZMLINFSRV, "WORKER_TIMEOUT", "300", "constants.py"),
        (
            "request_timeout",
            P.KUBERNETES,
            "nginx.ingress.kubernetes.io/proxy-read-timeout",
            "60",
            "ingress-nginx",
        ),
        ("oom_worker_reboot", P.AZUREML_V1_AKS, "memory_gb", "0.5", "aksservicedeploymentconfiguration"),
        ("oom_worker_reboot", P.AZUREML_V1_ACI, "memory_gb", "0.5", "aciservicedeploymentconfiguration"),
        (
            "autoscale_lag",
            P.AZUREML_V1_AKS,
            "autoscale_max_replicas",
            "10",
            "aksservicedeploymentconfiguration",
        ),
        (
            "autoscale_lag",
            P.AZUREML_V1_AKS,
            "autoscale_min_replicas",
            "1",
            "aksservicedeploymentconfiguration",
        ),
        (
            "autoscale_lag",
            P.AZUREML_V2_KUBERNETES,
            "scale_settings.max_instances",
            "1",
            "deployment-kubernetes-online",
        ),
        ("autoscale_lag", P.KUBERNETES, "spec.minReplicas", "1", "horizontal-pod-autoscaler-v2"),
    ],
)
def test_without_the_value_in_the_logs_current_is_the_cited_default(cause, platform, knob, default, url_part):
    step = next(s for s in _plan(cause, platform) if s.knob == knob and s.platform is platform)
    assert (step.current, step.current_source) == (default, ValueSource.DEFAULT)
    assert url_part in step.current_docs


@pytest.mark.parametrize(("platform", "knob"), [(P.AZMLINFSRV, "WORKER_COUNT"), (P.GUNICORN, "--workers")])
def test_workers_are_lowered_only_from_more_than_one(platform, knob):
    assert not [s for s in _plan("oom_worker_reboot", platform) if s.knob == knob]  # default 1: no step
    step = next(s for s in _plan("oom_worker_reboot", platform, _four_workers()) if s.knob == knob)
    assert (step.current, step.suggested) == ("4", "2")


def test_documented_maxima_cap_the_suggestion():
    obs = Observations()
    obs.request_timeout_ms = 120000  # the managed endpoint's request_timeout_ms that fired
    obs.aks_scoring_timeout_ms = 300000
    managed = next(
        s
        for s in build_fixes(CATALOGUE["request_timeout"], (P.AZUREML_V2_MANAGED,), obs, PlanOptions())
        if s.knob == "request_settings.request_timeout_ms"
    )
    assert (managed.current, managed.suggested) == ("120000", "180000")
    assert "maximum 180000 ms" in managed.why
    aks = next(
        s
        for s in build_fixes(CATALOGUE["request_timeout"], (P.AZUREML_V1_AKS,), obs, PlanOptions())
        if s.knob == "scoring_timeout_ms"
    )
    assert aks.suggested is None and "already at the documented maximum 300000 ms" in aks.why


@pytest.mark.parametrize("cause", sorted(CATALOGUE))
def test_every_step_cites_docs_and_every_cause_has_a_generic_step(cause):
    entry = CATALOGUE[cause]
    assert entry.docs.startswith("https://")
    assert any(step.platform is Platform.GENERIC for step in entry.fix), f"{cause} has no generic step"
    for step in entry.fix:
        assert step.docs.startswith("https://"), (cause, step.knob)
        assert step.why and step.knob, (cause, step.knob)


def test_knobs_with_a_suggester_show_the_value_in_their_snippet():
    for cause in CATALOGUE.values():
        for step in cause.fix:
            if step.suggest and step.snippet:
                assert "{suggested}" in step.snippet, (cause.id, step.knob)
