"""A Flask app (corpus/lab/apps/flask_app.py) under waitress, with waitress's own CLI.

`waitress-serve --listen=127.0.0.1:P flask_app:app`, default logging (waitress-serve sets up
the `waitress` logger at INFO on stderr; no access log, waitress has none without a WSGI
middleware such as paste's TransLogger).
Runner: https://docs.pylonsproject.org/projects/waitress/en/stable/runner.html
"""

from __future__ import annotations

from pathlib import Path

from . import Kind, Server


def command(server: Server, sc, port: int, workdir: Path) -> tuple[list[str], dict[str, str]]:
    # waitress is one process with a thread pool (--threads, default 4): it has no worker-process
    # flag, so sc.workers (1 in every scenario this kind runs) has nothing to map to.
    cmd = [str(server.bin / "waitress-serve"), f"--listen=127.0.0.1:{port}", "flask_app:app"]
    return cmd, {"PYTHONUNBUFFERED": "1"}


KIND = Kind(
    "waitress",
    command,
    app_files=("flask_app.py",),
    worker_class="waitress (1 process, 4 threads)",
    # waitress has no request timeout (--channel-timeout closes IDLE connections only:
    # https://docs.pylonsproject.org/projects/waitress/en/stable/arguments.html): a slow request
    # runs to the end, so the worker-timeout scenarios have no fault to show.
    skip=frozenset({"worker-timeout", "worker-timeout-5s"}),
)
SERVERS = [
    Server("waitress-3.0.2", "waitress", "3.0.2", "3.11", ("waitress==3.0.2", "flask==3.1.3", "joblib")),
]
