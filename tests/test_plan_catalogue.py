"""Every cause has a fix plan for every platform where it applies, and every step cites its docs."""

from __future__ import annotations

import pytest

from diagnoser.model import Platform
from diagnoser.plan import load_catalogue

V1, V2, K8S, DOCKER, GUNICORN, AMLSRV = (
    Platform.AZUREML_V1, Platform.AZUREML_V2, Platform.KUBERNETES, Platform.DOCKER, Platform.GUNICORN,
    Platform.AZMLINFSRV,
)
# Where each documented cause can happen, hence where its plan must speak.
APPLIES = {
    "oom_worker_reboot": {V1, V2, K8S, DOCKER, GUNICORN, AMLSRV},
    "init_exception": {V1, V2, K8S, DOCKER, AMLSRV},
    "model_not_found": {V1, V2, K8S, DOCKER, AMLSRV},
    "scheduling_failure": {V1, V2, K8S},
    "run_exception": {V1, V2, K8S, DOCKER, AMLSRV},
    "autoscale_lag": {V1, V2, K8S},
    "request_timeout": {V1, V2, K8S, GUNICORN, AMLSRV},
}
CATALOGUE = load_catalogue()


@pytest.mark.parametrize("cause", sorted(APPLIES))
def test_documented_cause_has_steps_for_each_platform_it_applies_to(cause):
    platforms = {step.platform for step in CATALOGUE[cause].fix}
    missing = APPLIES[cause] - platforms
    assert not missing, f"{cause} has no step for {sorted(p.value for p in missing)}"


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
