"""MLflow model serving: `mlflow models serve` of a pyfunc model wrapping score.py.

Before each scenario the kind saves the model (corpus/lab/apps/mlflow_save_model.py:
`mlflow.pyfunc.save_model(<workdir>/model, python_model=ScoreModel(), code_paths=[score.py, ...])`,
ScoreModel in corpus/lab/apps/mlflow_model.py), then runs

    mlflow models serve -m <workdir>/model --env-manager local --host 127.0.0.1 --port P
        --workers W [--timeout T]

(CLI: https://mlflow.org/docs/latest/api_reference/cli.html#mlflow-models-serve; `--env-manager
local` serves from the current environment instead of building one). MLflow 3.17.2 serves with
uvicorn, not gunicorn: mlflow/pyfunc/scoring_server/__init__.py get_cmd() builds
`uvicorn --host H --port P --workers W mlflow.pyfunc.scoring_server.app:app` and backend.py runs it
as `bash -c 'exec uvicorn ...'`, logging `=== Running command '...'` first (earlier MLflow
releases ran `gunicorn ... mlflow.pyfunc.scoring_server.wsgi:app` here). `--workers` ("Number of
uvicorn workers", env MLFLOW_MODELS_WORKERS, default 1) <- sc.workers; `--timeout` ("Timeout in
seconds to serve a request (default: 60)", env MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT) <- sc.timeout:
the scoring app wraps each request in asyncio.wait_for and answers 504 "Request processing time
exceeded limit" (predict keeps running in its thread). Endpoints: GET /ping, POST /invocations with
{"inputs": ["<text>"]} (the lab payload as the one input, so run() receives the same text as on
every other server).

MLflow 3.18.0 is on PyPI but its dependency mlflow-tracing==3.18.0 is not installable here, so
3.17.2 is the newest release recorded.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from . import Kind, Server


def command(server: Server, sc, port: int, workdir: Path) -> tuple[list[str], dict[str, str]]:
    model = workdir / "model"
    r = subprocess.run(
        [str(server.bin / "python"), "mlflow_save_model.py", str(model)],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if r.returncode != 0:
        raise RuntimeError(f"saving the pyfunc model failed: {r.stderr[-2000:]}")
    cmd = [
        str(server.bin / "mlflow"),
        "models",
        "serve",
        "-m",
        str(model),
        "--env-manager",
        "local",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(sc.workers),
    ]
    if sc.timeout is not None:
        cmd += ["--timeout", str(sc.timeout)]
    # `mlflow models serve --env-manager local` runs `bash -c 'exec uvicorn ...'` and finds uvicorn on
    # PATH: the venv is "activated" (its bin first on PATH), as in a shell or a serving image.
    path = f"{server.bin}:{os.environ.get('PATH', '/usr/local/bin:/usr/bin:/bin')}"
    return cmd, {"PYTHONUNBUFFERED": "1", "PATH": path}


KIND = Kind(
    "mlflow",
    command,
    app_files=("mlflow_model.py", "mlflow_save_model.py"),
    health_path="/ping",
    score_path="/invocations",
    score_body=lambda payload: json.dumps({"inputs": [payload]}),
    # `mlflow models serve` needs ~5-10 s before load_context() runs (measured 9.4 s to /ping 200
    # on this 2-CPU host under load): the 5 s of oom-init would SIGTERM it before the allocation.
    boot_extra_s=20,
    # The `mlflow models serve` CLI process stays alive as the parent of the uvicorn app process:
    # ~240 MB + ~180 MB RSS once serving (measured), more than oom-*'s 256 MiB, so the kernel killed
    # the CLI at boot in a trial run. 256 + 512 MiB holds the server; the 1 GiB allocation does not.
    memory_headroom_mb=512,
    worker_class="uvicorn (mlflow scoring server)",
)
SERVERS = [
    Server("mlflow-3.17.2", "mlflow", "3.17.2", "3.11", ("mlflow==3.17.2", "joblib")),
]
