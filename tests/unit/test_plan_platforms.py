"""Which (sub)platform the evidence shows, and --platform (samples: tests/data/platforms/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_parse_helpers import FORMATS, parse_text

from diagnoser.model import Platform
from diagnoser.options import PlanOptions
from diagnoser.plan import build_fixes, load_catalogue, select_platforms
from diagnoser.plan.observe import Observations

DATA = Path(__file__).resolve().parents[1] / "data"
P = Platform
AZURE_SUBS = set(P.AZUREML_V1.sub_platforms) | set(P.AZUREML_V2.sub_platforms)


def _platforms(*paths: Path) -> tuple[Platform, ...]:
    obs = Observations()
    for path in paths:
        for ev in parse_text(path.read_text(encoding="utf-8"), f"file:{path.name}"):
            obs.feed(ev)
    return obs.platforms


def _text_platforms(text: str) -> tuple[Platform, ...]:
    obs = Observations()
    for ev in parse_text(text):
        obs.feed(ev)
    return obs.platforms


@pytest.mark.parametrize(
    ("sample", "platform"),
    [
        ("platforms/aks_v1_deploy.log", P.AZUREML_V1_AKS),
        ("platforms/aks_v1_describe.txt", P.AZUREML_V1_AKS),
        ("platforms/aci_v1_deploy.log", P.AZUREML_V1_ACI),
        ("platforms/local_v1_deploy.log", P.AZUREML_V1_LOCAL),
        ("platforms/managed_v2_get_logs.log", P.AZUREML_V2_MANAGED),
        ("platforms/k8s_v2_pod.json", P.AZUREML_V2_KUBERNETES),
        (
            "../../corpus/cases/docs/hpa-old-events-azureml-fe-503/ingress-nginx-controller.log",
            P.AZUREML_V1_AKS,
        ),
    ],
)
def test_sub_platform_detected_from_its_evidence(sample, platform):
    found = _platforms(DATA / sample)
    assert platform in found, found  # pods and events also show Kubernetes, which is true too
    assert not (set(found) & AZURE_SUBS) - {platform}, found  # no sibling is claimed
    assert platform.family not in found  # the family is implied


@pytest.mark.parametrize(
    ("sample", "forbidden"),
    [
        # A plain gunicorn log is gunicorn, nothing else.
        ("formats/gunicorn27_error.log", AZURE_SUBS | {P.AZUREML_V1, P.AZUREML_V2, P.KUBERNETES}),
        # The inference server alone says nothing of where it runs.
        ("formats/azmlinfsrv_run_errors.log", AZURE_SUBS),
        # The SDK v1 image's front end runs on ACI and AKS alike: the family only.
        ("formats/aci_frontend.log", AZURE_SUBS),
        # A plain Kubernetes pod is no Azure ML deployment.
        ("formats/describe_pod.txt", AZURE_SUBS | {P.AZUREML_V1, P.AZUREML_V2}),
    ],
)
def test_no_sub_platform_without_its_evidence(sample, forbidden):
    found = set(_platforms(DATA / sample))
    assert found and not found & forbidden, found


def test_gunicorn_log_is_not_aks():
    found = _platforms(FORMATS / "gunicorn27_error.log")
    assert found == (P.GUNICORN,)


def test_package_name_is_not_an_inference_server_container():
    found = _text_platforms("Successfully installed azureml-inference-server-http-1.0.0 flask-2.3.2")
    assert found == (P.AZMLINFSRV,)
    found = _text_platforms("containers with unready status: [inference-server]")
    assert found == (P.AZUREML_V2,)


def test_ingress_upstream_v2_front_end_is_kubernetes_online_endpoint():
    assert _text_platforms("pod azureml-fe-v2-7c9d8f6b5-x2x4q restarted") == (P.AZUREML_V2_KUBERNETES,)


def test_family_votes_go_to_the_sub_platform_so_order_stays_by_evidence():
    found = _text_platforms(
        "from azureml.core import Workspace\nimport azureml.core\nACI service creation operation finished"
    )
    assert found == (P.AZUREML_V1_ACI,)


def test_override_replaces_the_detected_platform_and_a_family_shows_its_variants():
    cause = load_catalogue()["request_timeout"]
    assert select_platforms((P.GUNICORN,), P.AZUREML_V1_ACI) == (P.AZUREML_V1_ACI,)
    aci = build_fixes(cause, select_platforms((P.GUNICORN,), P.AZUREML_V1_ACI), Observations(), PlanOptions())
    assert {s.platform for s in aci} == {P.AZUREML_V1_ACI, P.GENERIC}
    family = build_fixes(cause, select_platforms((), P.AZUREML_V1), Observations(), PlanOptions())
    assert {s.platform for s in family} >= {P.AZUREML_V1_AKS, P.AZUREML_V1_ACI, P.AZUREML_V1_LOCAL}
    managed = build_fixes(cause, (P.AZUREML_V2_MANAGED,), Observations(), PlanOptions())
    assert P.AZUREML_V2_KUBERNETES not in {s.platform for s in managed}
