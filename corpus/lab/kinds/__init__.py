"""Server kinds of the fault lab: one module per kind, found by name, so adding a server is adding a file.

Each module in this package defines `KIND` (a `Kind`: how to start that server around a lab
`score.py`, where its health and scoring endpoints are) and `SERVERS` (the versions recorded, each a
`Server` with its pip requirements). The scenarios (run.py) are the same fault matrix for every kind:
the scoring scripts in `corpus/lab/scores/` (init()/run(), model under AZUREML_MODEL_DIR) are wrapped
by each kind's adapter app in `corpus/lab/apps/`, so "init raises" means the same fault everywhere.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

LAB_DIR = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("DIAGNOSER_LAB_CACHE", "/tmp/diagnoser-lab"))


@dataclass(frozen=True)
class Server:
    """One recorded server version: its venv is made with `python -m venv` + `pip install`."""

    name: str
    kind: str
    version: str
    python: str  # interpreter used to create the venv
    requirements: tuple[str, ...]
    # Debian packages the server needs besides Python (e.g. a JRE); installed with apt-get if missing.
    apt: tuple[str, ...] = ()

    @property
    def venv(self) -> Path:
        return CACHE / "venvs" / self.name

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    @property
    def packages(self) -> list[str]:
        """The distribution names of the requirements (for the versions meta.yaml records)."""
        names = []
        for req in self.requirements:
            name = req.split(";")[0]
            for sep in ("==", ">=", "<=", "~=", "<", ">", "[", " "):
                name = name.split(sep)[0]
            names.append(name.strip())
        return names


# command(server, scenario, port, workdir) -> (argv, env): the scenario's knobs (workers, timeout)
# mapped to the server's own flags or variables.
Command = Callable[[Server, object, int, Path], tuple[list[str], dict[str, str]]]


@dataclass(frozen=True)
class Kind:
    """How the lab drives one kind of server."""

    name: str
    command: Command
    app_files: tuple[str, ...] = ()  # copied from corpus/lab/apps/ into the scenario's workdir
    health_path: str = "/"  # GET, 200 when the server is up (the liveness probe)
    score_path: str = "/score"  # POST, the scoring call
    # The request body the server's protocol expects, made from the lab payload ({"data": ...}).
    score_body: Callable[[str], str] = lambda payload: payload
    # Scenarios that do not apply (no such knob on this server); the generic matrix runs otherwise.
    skip: frozenset[str] = field(default_factory=frozenset)
    worker_class: str = ""  # what meta.yaml's knobs.worker_class says
    format: str = ""  # the corpus `format` of its log (default: the kind's name)
    # Added to a scenario's memory limit: what the server itself needs beyond a plain Python worker
    # (e.g. a JVM frontend), so an oom-* scenario's allocation, not the server's boot, is what the
    # kernel kills.
    memory_headroom_mb: int = 0
    # Seconds added to every scenario's boot wait, for servers whose own start-up is slower than a
    # plain Python worker's (`mlflow models serve` imports MLflow twice, in its CLI and in the
    # uvicorn app it execs): else oom-init's 5 s window ends before init() even runs. The wait ends
    # as soon as the server answers its health probe or exits, so it only lengthens a hang.
    boot_extra_s: float = 0.0
    # Seconds to wait after the health probe first answers 200, before traffic, for servers whose
    # health endpoint answers before their workers have loaded the model (TorchServe's /ping).
    settle_s: float = 0.0


def _discover() -> tuple[dict[str, Kind], list[Server]]:
    kinds: dict[str, Kind] = {}
    servers: list[Server] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        kind: Kind = module.KIND
        kinds[kind.name] = kind
        servers.extend(module.SERVERS)
    return kinds, servers


def python_for(version: str) -> str:
    """Find a working interpreter of that minor version (PATH, then pyenv's versions)."""
    cands = [shutil.which(f"python{version}") or ""]
    cands += [
        str(c / "bin" / "python")
        for c in sorted(Path(os.path.expanduser("~/.pyenv/versions")).glob(f"{version}.*"))
    ]
    for exe in cands:
        if exe and subprocess.run([exe, "-c", "pass"], capture_output=True).returncode == 0:
            return exe
    return ""


KINDS, SERVERS = _discover()
