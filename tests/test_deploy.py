"""deploy/: the manifests that run diagnoser in a cluster are valid Kubernetes objects, ask for
read-only access to exactly what a diagnosis reads, and run a command line diagnose accepts.

kubernetes-validate checks each object against the OpenAPI schemas of the Kubernetes release it
ships (strict: an unknown field is an error, as `kubectl apply --validate=strict` has it).
"""

from __future__ import annotations

import shlex
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
MANIFESTS = sorted(DEPLOY.glob("*.yaml"))
# What reading logs, states and events needs (issue 17): get/list/watch on these, nothing else.
READS = {
    "": {"pods", "pods/log", "events", "services"},
    "apps": {"deployments", "replicasets", "statefulsets"},
    "autoscaling": {"horizontalpodautoscalers"},
}


def documents(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_there_are_manifests():
    assert {p.name for p in MANIFESTS} >= {"rbac.yaml", "rbac-all-namespaces.yaml", "cronjob.yaml"}


@pytest.mark.parametrize("path", MANIFESTS, ids=[p.name for p in MANIFESTS])
def test_every_object_is_valid(path):
    for doc in documents(path):
        kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)


@pytest.mark.parametrize("name", ["rbac.yaml", "rbac-all-namespaces.yaml"])
def test_roles_read_only_what_a_diagnosis_reads(name):
    roles = [d for d in documents(DEPLOY / name) if d["kind"] in ("Role", "ClusterRole")]
    assert len(roles) == 1
    granted: dict[str, set[str]] = {}
    for rule in roles[0]["rules"]:
        assert set(rule["verbs"]) == {"get", "list", "watch"}, rule
        assert "resourceNames" not in rule and "nonResourceURLs" not in rule
        for group in rule["apiGroups"]:
            granted.setdefault(group, set()).update(rule["resources"])
    assert granted == READS


def test_a_bad_manifest_is_caught():
    """The validator does fail: an unknown field and a wrong type are errors."""
    (cronjob,) = documents(DEPLOY / "cronjob.yaml")
    cronjob["spec"]["schedulee"] = cronjob["spec"].pop("schedule")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(cronjob, kubernetes_validate.latest_version(), strict=True)


def test_the_cronjob_runs_a_scan_diagnose_accepts():
    from diagnoser.cli.diagnose import _scanning, build_parser

    (cronjob,) = documents(DEPLOY / "cronjob.yaml")
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == ["/bin/sh", "-c"]
    script = container["args"][0]
    command = shlex.split(script.split(";", 1)[0].replace('"$POD_NAMESPACE"', "prod"))
    assert command[0] == "diagnose"
    args = build_parser().parse_args(command[1:])
    assert _scanning(args) and args.namespace == "prod" and args.json_out
    assert args.metrics_file == "/metrics/diagnoser.prom"
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert "/metrics" in mounts and "/tmp" in mounts  # the root file system is read-only
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["serviceAccountName"] == "diagnoser"
    assert documents(DEPLOY / "rbac.yaml")[0] == {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "diagnoser"},
    }
