"""`--service` on Kubernetes keeps secrets out as every other input does: the pod's env values whose
names say secret, its annotations and its container arguments, in the report and in a saved bundle.

The loopback API server replays the recorded namespace with those planted in the pod; with
`--no-redact` the bundle holds every one of them, so each absence below is a real check.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("kubernetes")

sys.path.insert(0, str(Path(__file__).resolve().parent))

from k8s_server import DATA, Server  # noqa: E402

PLANTED = {
    "env": "C0llect3dDbPa55",
    "env-key": "Sk3yFromEnvVar77",
    "annotation": "Ann0tat10nPa55",
    "args": "ArgP4ssValue",
}


@pytest.fixture
def k8s_with_secrets(tmp_path, monkeypatch):
    """Return a loopback API server whose scorer pod carries PLANTED in env, annotations and args."""
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    pods_path = data / "azureml-prod" / "pods.json"
    pods = json.loads(pods_path.read_text())
    pod = pods["items"][0]
    pod["metadata"].setdefault("annotations", {})["example.com/db-password"] = PLANTED["annotation"]
    container = pod["spec"]["containers"][0]
    container["env"] = [
        *container.get("env", []),
        {"name": "DB_PASS", "value": PLANTED["env"]},
        {"name": "STORAGE_ACCOUNT_KEY", "value": PLANTED["env-key"]},
    ]
    container["args"] = ["--port", "5001", "--db-pass", PLANTED["args"]]
    pods_path.write_text(json.dumps(pods))
    server = Server(tmp_path, data=data)
    monkeypatch.setenv("KUBECONFIG", str(server.kubeconfig))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    yield server
    server.close()


def _bundle(tmp_path: Path, name: str) -> str:
    return "".join(p.read_text() for p in sorted((tmp_path / name).iterdir()))


def test_service_secrets_stay_out_of_reports_and_bundles(cli, k8s_with_secrets, tmp_path):
    args = ("--service", "scorer", "-n", "azureml-prod", "--source", "kubernetes")
    shown = cli("diagnose", *args, "--no-redact", "--save-bundle", str(tmp_path / "raw"))
    assert shown.code == 1, shown.err
    raw = _bundle(tmp_path, "raw")
    assert all(secret in raw for secret in PLANTED.values())  # the collector does carry them
    for fmt in ("json", "text", "markdown", "yaml", "sarif"):
        r = cli("diagnose", *args, "-o", fmt, "--save-bundle", str(tmp_path / fmt))
        assert r.code == 1, r.err
        saved = _bundle(tmp_path, fmt)
        replay = cli("diagnose", "-o", fmt, str(tmp_path / fmt))
        for what, secret in PLANTED.items():
            assert secret not in r.out + r.err, (what, fmt)
            assert secret not in saved, (what, fmt)
            assert secret not in replay.out, (what, fmt)
    assert "<redacted>" in saved
