"""Plain gunicorn serving corpus/lab/apps/app.py, a WSGI wrapper around score.py."""

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
        sc.worker_class,
        "--access-logfile",
        "-",
    ]
    if sc.worker_class == "gthread":
        cmd += ["--threads", "2"]
    if sc.timeout is not None:
        cmd += ["--timeout", str(sc.timeout)]
    cmd += ["--chdir", str(workdir), "app:application"]
    return cmd, {"PYTHONUNBUFFERED": "1"}


KIND = Kind("gunicorn", command, app_files=("app.py",), worker_class="")
SERVERS = [
    Server("gunicorn-20.1.0", "gunicorn", "20.1.0", "3.11", ("gunicorn==20.1.0", "joblib")),
    Server("gunicorn-23.0.0", "gunicorn", "23.0.0", "3.11", ("gunicorn==23.0.0", "joblib")),
    Server("gunicorn-27.0.1", "gunicorn", "27.0.1", "3.11", ("gunicorn==27.0.1", "joblib")),
]
