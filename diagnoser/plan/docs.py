"""The titles of the pages fix steps cite: a reader sees what a link is before opening it."""

from __future__ import annotations

_AML = "https://learn.microsoft.com/azure/machine-learning/"
_SDK1 = "https://learn.microsoft.com/python/api/azureml-core/azureml.core."
_K8S = "https://kubernetes.io/docs/"
# Page titles as the pages print them (their <h1>), by address without its #fragment.
TITLES: dict[str, str] = {
    _AML + "v1/how-to-troubleshoot-deployment": ("Azure ML: Troubleshooting remote model deployment"),
    _AML + "how-to-inference-server-http": (
        "Azure ML: Debug scoring scripts by using the inference HTTP server"
    ),
    _AML + "how-to-troubleshoot-online-endpoints": (
        "Azure ML: Troubleshooting online endpoints deployment and scoring"
    ),
    _SDK1 + "webservice.aks.aksservicedeploymentconfiguration": (
        "azureml-core: AksServiceDeploymentConfiguration class"
    ),
    _SDK1 + "webservice.aci.aciservicedeploymentconfiguration": (
        "azureml-core: AciServiceDeploymentConfiguration class"
    ),
    _SDK1 + "webservice.local.localwebservice": ("azureml-core: LocalWebservice class"),
    _SDK1 + "model.model": "azureml-core: Model class",
    _AML + "reference-yaml-deployment-managed-online": (
        "Azure ML: CLI (v2) managed online deployment YAML schema"
    ),
    _AML + "reference-yaml-deployment-kubernetes-online": (
        "Azure ML: CLI (v2) Azure Arc-enabled Kubernetes online deployment YAML schema"
    ),
    _AML + "how-to-autoscale-endpoints": ("Azure ML: Autoscale online endpoints"),
    _AML + "concept-prebuilt-docker-images-inference": ("Azure ML: Prebuilt Docker images for inference"),
    "https://learn.microsoft.com/azure/aks/use-multiple-node-pools": "AKS: Manage node pools",
    "https://learn.microsoft.com/azure/aks/gpu-cluster": "AKS: Use GPUs for compute-intensive workloads",
    "https://learn.microsoft.com/azure/aks/cluster-container-registry-integration": (
        "AKS: Authenticate with Azure Container Registry"
    ),
    _K8S + "tasks/debug/debug-application/debug-running-pod/": "Kubernetes: Debug Running Pods",
    _K8S + "tasks/debug/debug-application/debug-pods/": "Kubernetes: Debug Pods",
    _K8S + "concepts/storage/volumes/": "Kubernetes: Volumes",
    _K8S + "concepts/storage/persistent-volumes/": "Kubernetes: Persistent Volumes",
    _K8S + "concepts/storage/ephemeral-storage/": "Kubernetes: Ephemeral Storage",
    _K8S + "concepts/scheduling-eviction/node-pressure-eviction/": ("Kubernetes: Node-pressure Eviction"),
    _K8S + "concepts/containers/images/": "Kubernetes: Images",
    _K8S + "tasks/run-application/horizontal-pod-autoscale/": ("Kubernetes: Horizontal Pod Autoscaling"),
    _K8S + "tasks/configure-pod-container/configure-liveness-readiness-startup-probes/": (
        "Kubernetes: Configure Liveness, Readiness and Startup Probes"
    ),
    _K8S + "concepts/configuration/manage-resources-containers/": (
        "Kubernetes: Resource Management for Pods and Containers"
    ),
    _K8S + "tasks/configure-pod-container/assign-memory-resource/": (
        "Kubernetes: Assign Memory Resources to Containers and Pods"
    ),
    _K8S + "tasks/manage-gpus/scheduling-gpus/": "Kubernetes: Schedule GPUs",
    _K8S + "tasks/inject-data-application/distribute-credentials-secure/": (
        "Kubernetes: Distribute Credentials Securely Using Secrets"
    ),
    _K8S + "tasks/configure-pod-container/security-context/": (
        "Kubernetes: Configure a Security Context for a Pod or Container"
    ),
    _K8S + "tasks/configure-pod-container/configure-pod-configmap/": (
        "Kubernetes: Configure a Pod to Use a ConfigMap"
    ),
    _K8S + "concepts/services-networking/dns-pod-service/": ("Kubernetes: DNS for Services and Pods"),
    _K8S + "concepts/configuration/secret/": "Kubernetes: Secrets",
    "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/": (
        "Ingress-NGINX: Annotations"
    ),
    "https://kserve.github.io/website/latest/modelserving/storage/storagecontainers/": (
        "KServe: Storage Containers"
    ),
    "https://knative.dev/docs/serving/tag-resolution/": "Knative: Configuring tag resolution",
    "https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html": (
        "NVIDIA Container Toolkit: Installing the NVIDIA Container Toolkit"
    ),
    "https://docs.kernel.org/admin-guide/cgroup-v2.html": "Linux kernel: Control Group v2",
    "https://docs.gunicorn.org/en/stable/settings.html": "gunicorn: Settings",
    "https://docs.docker.com/reference/cli/docker/container/logs/": "Docker: docker container logs",
    "https://docs.docker.com/reference/cli/docker/container/run/": "Docker: docker container run",
    "https://docs.docker.com/reference/cli/docker/login/": "Docker: docker login",
    "https://docs.docker.com/reference/dockerfile/": "Docker: Dockerfile reference",
    "https://docs.docker.com/compose/how-tos/startup-order/": "Docker Compose: Control startup order",
    "https://docs.docker.com/compose/how-tos/networking/": "Docker Compose: Networking in Compose",
    "https://docs.docker.com/engine/storage/bind-mounts/": "Docker: Bind mounts",
    "https://docs.docker.com/engine/containers/resource_constraints/": "Docker: Resource constraints",
    "https://www.tensorflow.org/install/pip": "TensorFlow: Install TensorFlow with pip",
    "https://pytorch.org/docs/stable/notes/cuda.html": "PyTorch: CUDA semantics",
    "https://pytorch.org/docs/stable/generated/torch.load.html": "PyTorch: torch.load",
    "https://12factor.net/config": "The Twelve-Factor App: Config",
    "https://docs.python.org/3/tutorial/errors.html": "Python tutorial: Errors and Exceptions",
    "https://docs.python.org/3/library/pathlib.html": "Python: pathlib (object-oriented filesystem paths)",
    "https://docs.python.org/3/library/tracemalloc.html": "Python: tracemalloc (trace memory allocations)",
    "https://docs.python.org/3/library/profile.html": "Python: The Python Profilers",
    "https://pip.pypa.io/en/stable/user_guide/": "pip: User Guide",
}


def doc_title(url: str) -> str:
    """Return `Title (url)` for a page the table knows, else the address alone."""
    base = url.split("#", 1)[0].split("?", 1)[0]
    title = TITLES.get(base)
    return f"{title} ({url})" if title else url
