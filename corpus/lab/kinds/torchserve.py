"""TorchServe: a Java frontend (Netty) that starts Python backend workers running a custom handler.

The lab's score.py is served by corpus/lab/apps/torchserve_handler.py (a BaseHandler subclass whose
initialize() calls score.init() and handle() calls score.run), archived with torch-model-archiver
into `<workdir>/model-store/m.mar`, and started the documented way:

    torchserve --start --foreground --ncs --model-store <workdir>/model-store --models m=m.mar
               --ts-config <workdir>/config.properties --disable-token-auth

(https://pytorch.org/serve/server.html; `--disable-token-auth`: token authorization is on by
default since 0.11.0, https://pytorch.org/serve/token_authorization_api.html). Inference is
`POST /predictions/m` on the inference address, health `GET /ping`
(https://pytorch.org/serve/inference_api.html). The frontend logs (log4j2, the default
log4j2.xml: console + ./logs/) and the workers' stdout/stderr (forwarded by the frontend as
`MODEL_LOG` / `MODEL_METRICS` lines) all end up in the frontend's stdout.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from . import Kind, Server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(server: Server, sc, port: int, workdir: Path) -> tuple[list[str], dict[str, str]]:
    store = workdir / "model-store"
    store.mkdir(exist_ok=True)
    # torch-model-archiver packs the handler and score.py (the model itself stays under
    # AZUREML_MODEL_DIR, which score.init() reads, as in every other kind of the lab).
    # https://github.com/pytorch/serve/blob/master/model-archiver/README.md
    subprocess.run(
        [
            str(server.bin / "torch-model-archiver"),
            "--model-name",
            "m",
            "--version",
            "1.0",
            "--handler",
            str(workdir / "torchserve_handler.py"),
            "--extra-files",
            str(workdir / "score.py"),
            "--export-path",
            str(store),
            "--force",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    # config.properties keys: https://pytorch.org/serve/configuration.html
    #  - inference/management/metrics addresses (defaults 8080/8081/8082 on 127.0.0.1)
    #  - default_workers_per_model: workers of each model loaded at start-up (default: #CPUs)
    #  - default_response_timeout: seconds a worker may take for one inference before the
    #    frontend declares it stuck and restarts it (default 120)
    props = [
        f"inference_address=http://127.0.0.1:{port}",
        f"management_address=http://127.0.0.1:{_free_port()}",
        f"metrics_address=http://127.0.0.1:{_free_port()}",
        f"default_workers_per_model={sc.workers}",
    ]
    if sc.timeout is not None:
        props.append(f"default_response_timeout={sc.timeout}")
    (workdir / "config.properties").write_text("\n".join(props) + "\n")
    cmd = [
        str(server.bin / "torchserve"),
        "--start",
        "--foreground",
        "--ncs",
        "--model-store",
        str(store),
        "--models",
        "m=m.mar",
        "--ts-config",
        str(workdir / "config.properties"),
    ]
    if tuple(int(x) for x in server.version.split(".")[:2]) >= (0, 11):
        cmd.append("--disable-token-auth")
    # The `torchserve` CLI keeps its pid file in tempfile.gettempdir() (ts/model_server.py) and,
    # finding a stale one, prints "Removing orphan pid file." first. Each scenario gets its own
    # temp dir, as each TorchServe container has its own /tmp (the Java side, its worker sockets
    # /tmp/.ts.sock.<port> and the extracted /tmp/models/<id>/, still use java.io.tmpdir=/tmp).
    tmp = workdir / "tmp"
    tmp.mkdir(exist_ok=True)
    if getattr(sc, "special", None) == "port_in_use":
        # Two TorchServes sharing one network namespace, each with its own /tmp (two containers of
        # a pod, or host networking): each process gets a temp dir of its own, so the second one
        # does not stop at the first one's pid file ("TorchServe is already running, ...", exit 1,
        # which is what a second start in the SAME /tmp prints) but really tries the taken port.
        cmd = ["sh", "-c", 'TMPDIR="$(mktemp -d -p "$0")" exec "$@"', str(tmp), *cmd]
    return cmd, {"PYTHONUNBUFFERED": "1", "TMPDIR": str(tmp)}


KIND = Kind(
    "torchserve",
    command,
    app_files=("torchserve_handler.py",),
    health_path="/ping",
    score_path="/predictions/m",
    worker_class="torchserve backend worker",
    # The JVM frontend (~150 MiB RSS) plus a backend worker that imports torch (~230 MiB) do not
    # fit in the lab's 256 MiB: the worker would be OOM-killed while loading, before init() or
    # run() allocate anything. 512 MiB more keeps the 1 GiB allocation the thing that is killed.
    memory_headroom_mb=512,
    # GET /ping answers "Healthy" as soon as the frontend is up, while the worker is still
    # importing torch (2-4 s here) and even while it crash-loops: wait for the first worker load.
    settle_s=6.0,
)
SERVERS = [
    Server(
        "torchserve-0.12.0",
        "torchserve",
        "0.12.0",
        "3.11",
        # torch pinned: the CPU build on local disk (never a CUDA build from the index).
        # torchserve 0.12.0's wheel does not declare PyYAML although ts/utils/util.py imports it
        # (the backend worker dies with `ModuleNotFoundError: No module named 'yaml'`); its docs
        # install requirements/common.txt (pyyaml, numpy, psutil, ...) with
        # ts_scripts/install_dependencies.py, so a working install has both.
        # https://github.com/pytorch/serve#-quick-start-with-torchserve
        (
            "torchserve==0.12.0",
            "torch-model-archiver==0.12.0",
            "torch==2.13.0",
            "pyyaml",
            "numpy",
            "joblib",
        ),
        apt=("openjdk-17-jre-headless",),
    ),
    # The last line before token authorization (0.11.0): no --disable-token-auth, no key_file.json.
    # Its base_handler.py does `from pkg_resources import packaging`: without a setuptools that
    # still ships pkg_resources (< 81; torch 2.13 needs >= 77.0.3) every worker dies with
    # `ModuleNotFoundError: No module named 'pkg_resources'`.
    Server(
        "torchserve-0.10.0",
        "torchserve",
        "0.10.0",
        "3.11",
        (
            "torchserve==0.10.0",
            "torch-model-archiver==0.10.0",
            "torch==2.13.0",
            "setuptools==80.9.0",
            "pyyaml",
            "numpy",
            "joblib",
        ),
        apt=("openjdk-17-jre-headless",),
    ),
]
