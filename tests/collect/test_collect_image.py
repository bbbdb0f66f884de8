"""The image deploy/image/build.sh makes, run as deploy/cronjob.yaml runs it: as user 65532 with a
read-only root file system and /tmp on a tmpfs, configured in-cluster (service-account files and
KUBERNETES_SERVICE_HOST), scanning the loopback API server's namespace over HTTPS.

Building the image takes debootstrap (about a minute and a half with a near mirror): the test skips
where debootstrap, root or dockerd are missing, and fails in CI (`CI` set), where all must be there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("kubernetes")

sys.path.insert(0, str(Path(__file__).resolve().parent))

from k8s_server import Server, in_cluster_files  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TAG = "diagnoser-test/diagnoser:1"


@pytest.fixture(scope="session")
def image(dockerd):
    """Build the image into the test dockerd once per session; return its tag."""
    missing = [tool for tool in ("debootstrap", "chroot", "openssl") if shutil.which(tool) is None]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{', '.join(missing)} must be installed in CI")
        pytest.skip(f"{', '.join(missing)} not installed")
    env = {**os.environ, "DOCKER_HOST": dockerd.host}
    built = subprocess.run(
        [str(ROOT / "deploy" / "image" / "build.sh"), TAG],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    return TAG


def test_the_image_scans_a_namespace_in_cluster(dockerd, image, tmp_path):
    cert, key, account = in_cluster_files(tmp_path)
    server = Server(tmp_path, tls=(cert, key))
    try:
        run = dockerd.docker(
            "run", "--rm", "--network", "host", "--read-only", "--tmpfs", "/tmp", "--user", "65532:65532",
            "-v", f"{account}:/var/run/secrets/kubernetes.io/serviceaccount:ro",
            "-e", "KUBERNETES_SERVICE_HOST=127.0.0.1", "-e", f"KUBERNETES_SERVICE_PORT={server.port}",
            image, "-n", "azureml-prod", "--json",
            check=False,
            timeout=120,
        )  # fmt: skip
    finally:
        server.close()
    out, err = run.stdout.decode(), run.stderr.decode()
    assert run.returncode == 1, err
    assert "Traceback" not in err
    (line,) = [json.loads(x) for x in out.splitlines()]
    assert (line["namespace"], line["workload"]) == ("azureml-prod", "scorer")
    assert line["report"]["diagnoses"][0]["cause"] == "init_exception"


def test_the_image_runs_as_a_user_with_diagnose_on_path(dockerd, image):
    run = dockerd.docker(
        "run", "--rm", "--read-only", "--entrypoint", "/bin/sh", image, "-c", "id -u; diagnose --version",
        check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    uid, version = run.stdout.decode().split("\n")[:2]
    assert uid == "65532" and version.startswith("diagnose ")
