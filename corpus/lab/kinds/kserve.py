"""KServe's Python model server (`kserve` package): a `kserve.Model` subclass started with
`kserve.ModelServer().start([model])` (corpus/lab/apps/kserve_model.py), v1 protocol.

Run as its docs show a custom model: `python model.py --http_port P --model_name NAME [--workers W]`
(https://kserve.github.io/website/latest/modelserving/v1beta1/custom/custom_model/;
flags: `kserve/model_server.py` `parser`, `--workers` "The number of uvicorn workers for
multi-processing", default 1). The gRPC server stays on (default `--enable_grpc True`, port 8081), as
a user who does not touch it would have it. Health: the v1 model readiness `GET /v1/models/NAME`;
scoring: `POST /v1/models/NAME:predict` with `{"instances": ...}`
(https://kserve.github.io/website/latest/modelserving/data_plane/v1_protocol/).
"""

from __future__ import annotations

import json
from pathlib import Path

from . import Kind, Server

MODEL = "diabetes-model"


def command(server: Server, sc, port: int, workdir: Path) -> tuple[list[str], dict[str, str]]:
    cmd = [
        str(server.bin / "python"),
        str(workdir / "kserve_model.py"),
        "--http_port",
        str(port),
        "--model_name",
        MODEL,
    ]
    if sc.workers != 1:
        cmd += ["--workers", str(sc.workers)]
    return cmd, {"PYTHONUNBUFFERED": "1"}


def score_body(payload: str) -> str:
    """The lab payload {"data": X} as a v1 request {"instances": X}; other bodies as they are."""
    try:
        body = json.loads(payload)
    except ValueError:
        return payload
    if isinstance(body, dict) and "data" in body:
        body = {"instances": body.pop("data"), **body}
    return json.dumps(body)


KIND = Kind(
    "kserve",
    command,
    app_files=("kserve_model.py",),
    health_path=f"/v1/models/{MODEL}",
    score_path=f"/v1/models/{MODEL}:predict",
    score_body=score_body,
    skip=frozenset(
        {
            # KServe's model server has no request / worker timeout of its own (the only timeout
            # flag, --predictor_request_timeout_seconds, is for a transformer calling its
            # predictor): a slow predict() just runs to the end.
            "worker-timeout",
            "worker-timeout-5s",
            # The v1 endpoint decodes the body itself (`Unrecognized request format`, 400) before
            # the model is called: run() never sees the non-JSON body, so no run() exception.
            "run-bad-json",
        }
    ),
    worker_class="uvicorn (kserve ModelServer)",
)
SERVERS = [Server("kserve-0.21.0", "kserve", "0.21.0", "3.11", ("kserve==0.21.0", "joblib"))]
