"""Documented defaults (and maxima) of the knobs the fix plans name, per platform, each with its source.

When the logs do not show a knob's value, the value in force is its default: the plan shows it as
`current` marked `current_source: default`, with the page that documents it.
"""

from __future__ import annotations

from dataclasses import dataclass

from diagnoser.model import Platform

AKS_V1_DOCS = "https://learn.microsoft.com/python/api/azureml-core/azureml.core.webservice.aks.aksservicedeploymentconfiguration"
ACI_V1_DOCS = "https://learn.microsoft.com/python/api/azureml-core/azureml.core.webservice.aci.aciservicedeploymentconfiguration"
MANAGED_V2_DOCS = (
    "https://learn.microsoft.com/azure/machine-learning/reference-yaml-deployment-managed-online"
)
K8S_V2_DOCS = "https://learn.microsoft.com/azure/machine-learning/reference-yaml-deployment-kubernetes-online"
# azureml-inference-server-http: SCORING_TIMEOUT_MS defaults to 3600 * 1000 (server/config.py,
# AMLInferenceServerConfig.scoring_timeout); WORKER_COUNT 1 and WORKER_TIMEOUT 300 s (constants.py
# DEFAULT_WORKER_COUNT, DEFAULT_WORKER_TIMEOUT_SECONDS); the learn page lists worker_count default 1.
AMLSRV_CONFIG = (
    "https://github.com/microsoft/azureml-inference-server/blob/00d92700eb335576854128e8d6e7ba5336573c65/"
    "azureml_inference_server_http/server/config.py"
)
AMLSRV_CONSTANTS = (
    "https://github.com/microsoft/azureml-inference-server/blob/d3be3bedaf674e0511a2ab5e36ae64c1286deb98/"
    "azureml_inference_server_http/constants.py"
)
GUNICORN_SETTINGS = "https://docs.gunicorn.org/en/stable/settings.html"
HPA_V2_API = (
    "https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/horizontal-pod-autoscaler-v2/"
)
INGRESS_TIMEOUTS = (
    "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#custom-timeouts"
)


@dataclass(frozen=True, slots=True)
class KnobDefault:
    """A knob's documented default on a platform, its documented maximum if any, and the page saying so."""

    value: str
    platform: Platform
    docs: str
    maximum: int | None = None

    @property
    def applies_to(self) -> str:
        """Return the platform as a person reads it."""
        return self.platform.label


def _d(value: str, platform: Platform, docs: str, maximum: int | None = None) -> KnobDefault:
    return KnobDefault(value, platform, docs, maximum)


# (knob, platform) -> default. The inference server's and gunicorn's own settings hold wherever they
# run (platform AZMLINFSRV / GUNICORN is looked up last, for any platform).
DEFAULTS: dict[tuple[str, Platform], KnobDefault] = {
    # AKS: scoring_timeout_ms "Defaults to 60000"; the seed page: a 504 is the one-minute default.
    # Maximum 300000 ms: SDK v1 release notes ("Scoring timeout on AKS webservices should be between
    # 5ms and 300000ms"):
    # https://learn.microsoft.com/azure/machine-learning/v1/azure-machine-learning-release-notes
    ("scoring_timeout_ms", Platform.AZUREML_V1_AKS): _d(
        "60000", Platform.AZUREML_V1_AKS, AKS_V1_DOCS, 300000
    ),
    ("memory_gb", Platform.AZUREML_V1_AKS): _d("0.5", Platform.AZUREML_V1_AKS, AKS_V1_DOCS),
    ("autoscale_min_replicas", Platform.AZUREML_V1_AKS): _d("1", Platform.AZUREML_V1_AKS, AKS_V1_DOCS),
    ("autoscale_max_replicas", Platform.AZUREML_V1_AKS): _d("10", Platform.AZUREML_V1_AKS, AKS_V1_DOCS),
    ("memory_gb", Platform.AZUREML_V1_ACI): _d("0.5", Platform.AZUREML_V1_ACI, ACI_V1_DOCS),
    # request_timeout_ms: default 5000 on both kinds of online deployment; at most 180000 on managed ones.
    ("request_settings.request_timeout_ms", Platform.AZUREML_V2_MANAGED): _d(
        "5000", Platform.AZUREML_V2_MANAGED, MANAGED_V2_DOCS, 180000
    ),
    ("request_settings.request_timeout_ms", Platform.AZUREML_V2_KUBERNETES): _d(
        "5000", Platform.AZUREML_V2_KUBERNETES, K8S_V2_DOCS
    ),
    ("request_settings.request_timeout_ms", Platform.AZUREML_V2): _d(
        "5000", Platform.AZUREML_V2, MANAGED_V2_DOCS
    ),
    # Kubernetes online deployments: scale_settings defaults to target_utilization with min_instances 1,
    # max_instances 1 (target_utilization_percentage 70, named in the steps' text).
    ("scale_settings.min_instances", Platform.AZUREML_V2_KUBERNETES): _d(
        "1", Platform.AZUREML_V2_KUBERNETES, K8S_V2_DOCS
    ),
    ("scale_settings.max_instances", Platform.AZUREML_V2_KUBERNETES): _d(
        "1", Platform.AZUREML_V2_KUBERNETES, K8S_V2_DOCS
    ),
    # HPA: minReplicas "defaults to 1 pod"; maxReplicas is required (no default).
    ("spec.minReplicas", Platform.KUBERNETES): _d("1", Platform.KUBERNETES, HPA_V2_API),
    ("nginx.ingress.kubernetes.io/proxy-read-timeout", Platform.KUBERNETES): _d(
        "60", Platform.KUBERNETES, INGRESS_TIMEOUTS
    ),
    ("SCORING_TIMEOUT_MS", Platform.AZMLINFSRV): _d("3600000", Platform.AZMLINFSRV, AMLSRV_CONFIG),
    ("WORKER_TIMEOUT", Platform.AZMLINFSRV): _d("300", Platform.AZMLINFSRV, AMLSRV_CONSTANTS),
    ("WORKER_COUNT", Platform.AZMLINFSRV): _d("1", Platform.AZMLINFSRV, AMLSRV_CONSTANTS),
    ("--timeout", Platform.GUNICORN): _d("30", Platform.GUNICORN, GUNICORN_SETTINGS + "#timeout"),
    ("--workers", Platform.GUNICORN): _d("1", Platform.GUNICORN, GUNICORN_SETTINGS + "#workers"),
}
_SERVERS = (Platform.AZMLINFSRV, Platform.GUNICORN)


def default_for(knob: str, platform: Platform | None) -> KnobDefault | None:
    """Return the documented default of `knob` on `platform` (or its family, or its server), else None."""
    tried = [platform, platform.family] if platform is not None else []
    for p in [*tried, *_SERVERS]:
        if p is not None and (knob, p) in DEFAULTS:
            return DEFAULTS[(knob, p)]
    return None
