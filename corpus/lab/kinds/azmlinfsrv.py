"""The Azure ML inference server (azureml-inference-server-http), which runs score.py itself."""

from __future__ import annotations

from pathlib import Path

from . import Kind, Server


def command(server: Server, sc, port: int, workdir: Path) -> tuple[list[str], dict[str, str]]:
    cmd = [str(server.bin / "azmlinfsrv"), "--entry_script", str(workdir / "score.py"), "--port", str(port)]
    env = {"PYTHONUNBUFFERED": "1", "WORKER_COUNT": str(sc.workers)}
    if sc.timeout is not None:
        env["WORKER_TIMEOUT"] = str(sc.timeout)
    return cmd, env


KIND = Kind("azmlinfsrv", command, worker_class="sync (azmlinfsrv)")
SERVERS = [
    Server(
        "azmlinfsrv-1.5.1", "azmlinfsrv", "1.5.1", "3.11", ("azureml-inference-server-http==1.5.1", "joblib")
    ),
    # The 0.8/1.0 line resolves Flask 2.2 but the newest Werkzeug 3, whose missing __version__
    # makes create_app.py print a traceback at every boot; pin the Werkzeug of that era.
    Server(
        "azmlinfsrv-1.0.0",
        "azmlinfsrv",
        "1.0.0",
        "3.11",
        ("azureml-inference-server-http==1.0.0", "werkzeug==2.2.3", "joblib"),
    ),
    Server(
        "azmlinfsrv-0.8.4.2",
        "azmlinfsrv",
        "0.8.4.2",
        "3.9",
        ("azureml-inference-server-http==0.8.4.2", "werkzeug==2.2.3", "joblib"),
    ),
    # 0.7.x: the old layout (gunicorn lines without timestamps, messages printed twice: bare and as
    # "<time> | root | INFO | <message>").
    Server(
        "azmlinfsrv-0.7.7",
        "azmlinfsrv",
        "0.7.7",
        "3.9",
        ("azureml-inference-server-http==0.7.7", "werkzeug==2.2.3", "joblib"),
    ),
]
