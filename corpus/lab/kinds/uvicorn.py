"""A FastAPI app (corpus/lab/apps/fastapi_app.py) under uvicorn's own CLI.

`uvicorn --host 127.0.0.1 --port P --workers W fastapi_app:app`, default logging (uvicorn's
`INFO:     ...` lines on stderr, access log on stdout). Flags: https://www.uvicorn.org/settings/
(`--workers`: "Use multiple worker processes"; with 1 uvicorn runs the server in the one process,
no supervisor; `--app-dir` defaults to the current directory, the scenario's workdir).
"""

from __future__ import annotations

from pathlib import Path

from . import Kind, Server


def command(server: Server, sc, port: int, workdir: Path) -> tuple[list[str], dict[str, str]]:
    cmd = [
        str(server.bin / "uvicorn"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(sc.workers),
        "fastapi_app:app",
    ]
    return cmd, {"PYTHONUNBUFFERED": "1"}


KIND = Kind(
    "uvicorn",
    command,
    app_files=("fastapi_app.py",),
    worker_class="uvicorn (asyncio)",
    # uvicorn has no request timeout: its timeouts are --timeout-keep-alive (idle connections) and
    # --timeout-graceful-shutdown (https://www.uvicorn.org/settings/#timeouts); a slow request just
    # runs to the end, so the worker-timeout scenarios have no fault to show.
    skip=frozenset({"worker-timeout", "worker-timeout-5s"}),
)
SERVERS = [
    Server("uvicorn-0.55.0", "uvicorn", "0.55.0", "3.11", ("uvicorn==0.55.0", "fastapi==0.165.0", "joblib")),
]
