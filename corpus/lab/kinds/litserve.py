"""LitServe: a LitAPI (corpus/lab/apps/litserve_server.py) whose setup() calls score.init() and
whose predict() calls score.run(), started as `python litserve_server.py` (LitServe's documented way:
https://lightning.ai/docs/litserve/home -- `server.run(port=...)` in the script's __main__).

Knobs are LitServer arguments (https://lightning.ai/docs/litserve/api-reference/litserver):
`workers_per_device` (inference worker processes per device; on CPU one device) <- sc.workers,
`timeout` (request timeout in seconds, default 30) <- sc.timeout. LitServe's timeout is a QUEUE
timeout: the inference loop drops a request that waited longer than it before predict() started
(litserve/loops/simple_loops.py: "Request ... was waiting in the queue for too long", HTTP 504); a
predict() that runs longer is never interrupted.
Endpoints: GET /health (200 "ok" once every worker's setup() has finished), POST /predict.
"""

from __future__ import annotations

import json
from pathlib import Path

from . import Kind, Server


def command(server: Server, sc, port: int, workdir: Path) -> tuple[list[str], dict[str, str]]:
    cmd = [
        str(server.bin / "python"),
        "litserve_server.py",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers-per-device",
        str(sc.workers),
    ]
    if sc.timeout is not None:
        cmd += ["--timeout", str(sc.timeout)]
    return cmd, {"PYTHONUNBUFFERED": "1"}


KIND = Kind(
    "litserve",
    command,
    app_files=("litserve_server.py",),
    health_path="/health",
    score_path="/predict",
    # LitServe parses the body as JSON before decode_request; the lab's payload (the text score.run
    # receives, JSON or not) travels as the "input" field, so run() sees the same text everywhere.
    score_body=lambda payload: json.dumps({"input": payload}),
    # The worker-timeout scenarios send their slow requests one after the other, so none waits in
    # the queue: LitServe's queue timeout cannot fire and both answer 200 after 6 s / 8 s (seen in a
    # trial run). Recording them would label a healthy log request_timeout.
    skip=frozenset({"worker-timeout", "worker-timeout-5s"}),
    worker_class="litserve (uvicorn API server + inference worker processes)",
)
SERVERS = [
    Server("litserve-0.2.19", "litserve", "0.2.19", "3.11", ("litserve==0.2.19", "joblib")),
]
