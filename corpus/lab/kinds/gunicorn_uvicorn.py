"""gunicorn managing uvicorn workers (`-k uvicorn.workers.UvicornWorker`) that serve a FastAPI app.

The common production setup for FastAPI (https://fastapi.tiangolo.com/deployment/server-workers/,
https://www.uvicorn.org/deployment/#gunicorn): gunicorn is the process manager (workers, timeout,
reboots), each worker runs uvicorn's event loop with corpus/lab/apps/gunicorn_uvicorn/fastapi_app.py. Run as

    gunicorn --bind 127.0.0.1:P --workers W -k uvicorn.workers.UvicornWorker [--timeout T]
             --access-logfile - --chdir <workdir> fastapi_app:app

(gunicorn flags: https://docs.gunicorn.org/en/stable/settings.html; `--timeout` is the worker
heartbeat timeout, which a uvicorn worker sends from its event loop.)
"""

from __future__ import annotations

from pathlib import Path

from . import Kind, Server


def command(server: Server, sc, port: int, workdir: Path) -> tuple[list[str], dict[str, str]]:
    cmd = [
        str(server.bin / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(sc.workers),
        "--worker-class",
        "uvicorn.workers.UvicornWorker",
        "--access-logfile",
        "-",
    ]
    if sc.timeout is not None:
        cmd += ["--timeout", str(sc.timeout)]
    cmd += ["--chdir", str(workdir), "fastapi_app:app"]
    return cmd, {"PYTHONUNBUFFERED": "1"}


KIND = Kind(
    "gunicorn-uvicorn",
    command,
    # Its own FastAPI app (apps/gunicorn_uvicorn/), copied into the workdir as fastapi_app.py.
    app_files=("gunicorn_uvicorn/fastapi_app.py",),
    worker_class="uvicorn.workers.UvicornWorker",
    format="gunicorn",
)
SERVERS = [
    Server(
        "gunicorn-uvicorn-23.0.0",
        "gunicorn-uvicorn",
        "23.0.0",
        "3.11",
        ("gunicorn==23.0.0", "uvicorn==0.54.0", "fastapi==0.163.2", "joblib"),
    ),
    # An older, much-deployed stack (mid-2023, the tiangolo/uvicorn-gunicorn-fastapi image era):
    # gunicorn 20.1's kill lines ("terminated due to signal N"), uvicorn 0.22, FastAPI 0.95
    # (lifespan= exists since 0.93) on pydantic 1.
    Server(
        "gunicorn-uvicorn-20.1.0",
        "gunicorn-uvicorn",
        "20.1.0",
        "3.11",
        ("gunicorn==20.1.0", "uvicorn==0.22.0", "fastapi==0.95.2", "joblib"),
    ),
]
