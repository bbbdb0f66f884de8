"""Fixtures for collector tests: a real dockerd, a loopback Kubernetes API, real journal files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from k8s_server import Server  # noqa: E402


@pytest.fixture
def k8s(tmp_path, monkeypatch):
    """Return a loopback API server replaying tests/data/k8s-api, with KUBECONFIG pointing at it."""
    server = Server(tmp_path)
    monkeypatch.setenv("KUBECONFIG", str(server.kubeconfig))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    yield server
    server.close()


@pytest.fixture
def no_docker(monkeypatch, tmp_path):
    """Point DOCKER_HOST at a socket nobody listens on."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/nobody.sock")


class Dockerd:
    """A dockerd of our own: data root, exec root, pidfile and socket under a temporary directory."""

    def __init__(self, root: Path):
        self.root = root
        self.sock = root / "docker.sock"
        self.host = f"unix://{self.sock}"
        self.log = root / "dockerd.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> str | None:
        """Start dockerd and wait for it; return why it could not start, or None."""
        exe = shutil.which("dockerd")
        if exe is None:
            return "dockerd not installed (apt-get install docker.io)"
        cmd = [
            exe,
            f"--data-root={self.root / 'data'}",
            f"--exec-root={self.root / 'exec'}",
            f"--pidfile={self.root / 'dockerd.pid'}",
            f"--host={self.host}",
            "--iptables=false",
            "--ip-forward=false",
            "--ip-masq=false",
            "--bridge=none",
        ]
        # containerd: dockerd starts its own under exec-root when none is given.
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return f"dockerd exited {self.proc.returncode}: {self.log.read_text()[-600:]}"
            if self.sock.exists() and self.docker("version", check=False).returncode == 0:
                return None
            time.sleep(0.3)
        return f"dockerd did not answer within 60 s: {self.log.read_text()[-600:]}"

    def docker(
        self, *args: str, check: bool = True, input: bytes | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess:
        """Run the docker CLI against this daemon."""
        env = {**os.environ, "DOCKER_HOST": self.host}
        return subprocess.run(
            ["docker", *args], env=env, capture_output=True, check=check, input=input, timeout=timeout
        )

    def stop(self) -> None:
        """Stop the daemon we started (by its pid) and wait for it."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


ENTRYPOINT = r"""#!/bin/sh
# A model server's start-up as gunicorn + azmlinfsrv print it,
# then init() loads a model bigger than the limit.
now() { date -u "+%Y-%m-%d %H:%M:%S"; }
echo "[$(now) +0000] [1] [INFO] Starting gunicorn 20.1.0"
echo "[$(now) +0000] [1] [INFO] Listening at: http://0.0.0.0:31311 (1)"
echo "[$(now) +0000] [1] [INFO] Booting worker with pid: $$"
echo "$(now),120 I [$$] azmlinfsrv.user_script - Invoking user's init function"
echo "$(now),121 I [$$] azmlinfsrv.user_script - Loading model from /var/azureml-app/azureml-models/model/1"
model=$(head -c 300000000 /dev/zero | tr "\0" a)
echo "$(now),500 I [$$] azmlinfsrv.user_script - Users's init has completed successfully"
"""


@pytest.fixture(scope="session")
def dockerd(tmp_path_factory):
    """Start a real dockerd for the session with an imported busybox image `diagnoser-test/busybox`."""
    if os.geteuid() != 0:
        pytest.skip("dockerd needs root")
    if shutil.which("docker") is None:
        pytest.skip("docker CLI not installed (apt-get install docker.io)")
    busybox = shutil.which("busybox") or "/bin/busybox"
    if not Path(busybox).is_file():
        pytest.skip("busybox not installed (apt-get install busybox-static)")
    root = Path(tmp_path_factory.mktemp("dockerd"))
    daemon = Dockerd(root)
    why = daemon.start()
    if why:
        daemon.stop()
        if os.environ.get("CI"):
            pytest.fail(f"dockerd must start in CI: {why}")
        pytest.skip(f"dockerd cannot start here: {why}")
    rootfs = root / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    (rootfs / "tmp").mkdir()
    shutil.copy2(busybox, rootfs / "bin" / "busybox")
    for applet in ("sh", "echo", "head", "tr", "date", "sleep", "cat", "dd"):
        (rootfs / "bin" / applet).symlink_to("busybox")
    (rootfs / "entrypoint.sh").write_text(ENTRYPOINT)
    (rootfs / "entrypoint.sh").chmod(0o755)
    tar = subprocess.run(["tar", "-C", str(rootfs), "-c", "."], capture_output=True, check=True).stdout
    daemon.docker("import", "-c", 'CMD ["/entrypoint.sh"]', "-", "diagnoser-test/busybox:1", input=tar)
    yield daemon
    for cid in daemon.docker("ps", "-aq", check=False).stdout.decode().split():
        daemon.docker("rm", "-f", cid, check=False)
    daemon.stop()


def wait_exited(daemon: Dockerd, name: str, restarts: int = 0, timeout: float = 60) -> dict:
    """Wait until container `name` has stopped for good and return its State."""
    deadline = time.monotonic() + timeout
    state: dict = {}
    while time.monotonic() < deadline:
        out = daemon.docker("inspect", name).stdout
        info = json.loads(out)[0]
        state = info["State"]
        if state["Status"] == "exited" and info["RestartCount"] >= restarts:
            return state
        time.sleep(0.3)
    raise AssertionError(f"container {name} did not exit: {state}")
