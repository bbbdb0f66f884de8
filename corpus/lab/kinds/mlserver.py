"""MLServer (Seldon): a custom inference runtime (`MLModel` with load()/predict(),
corpus/lab/apps/mlserver_runtime.py) served with `mlserver start .` from a folder holding
model-settings.json (corpus/lab/apps/mlserver/model-settings.json) and settings.json; V2 protocol.

https://mlserver.readthedocs.io/en/latest/user-guide/custom.html (custom runtime, `mlserver start .`),
https://mlserver.readthedocs.io/en/latest/reference/settings.html (settings.json: `http_port`, default
8080; `grpc_port` 8081 and `metrics_port` 8082 left at their defaults; `parallel_workers`, default 1:
inference runs in that many worker processes apart from the main one, "parallel inference",
https://mlserver.readthedocs.io/en/latest/user-guide/parallel-inference.html). Health: the V2 model
readiness `GET /v2/models/NAME/ready`; scoring: `POST /v2/models/NAME/infer` with one FP64 input named
after the lab payload's key (https://kserve.github.io/website/latest/modelserving/data_plane/
v2_protocol/; the same settings pages now live at https://docs.seldon.ai/mlserver/reference/settings).
Note `run-typeerror`: the string feature is sent as FP64 data as a client would, so the runtime's
NumpyCodec.decode_input() raises `ValueError: could not convert string to float: 'a'` inside predict()
before score.run() is called: still the request's own exception in the model's predict (500), not run()'s
TypeError.
"""

from __future__ import annotations

import json
from pathlib import Path

from . import Kind, Server

MODEL = "diabetes-model"


def command(server: Server, sc, port: int, workdir: Path) -> tuple[list[str], dict[str, str]]:
    settings = {"http_port": port, "parallel_workers": sc.workers}
    (workdir / "settings.json").write_text(json.dumps(settings, indent=2) + "\n")
    return [str(server.bin / "mlserver"), "start", str(workdir)], {"PYTHONUNBUFFERED": "1"}


def _shape(x) -> list[int]:
    return [len(x), *_shape(x[0])] if isinstance(x, list) and x else ([0] if isinstance(x, list) else [])


def _flat(x) -> list:
    return [v for item in x for v in _flat(item)] if isinstance(x, list) else [x]


def score_body(payload: str) -> str:
    """The lab payload {"key": X} as a V2 inference request: one FP64 input "key" holding X."""
    try:
        body = json.loads(payload)
    except ValueError:
        return payload
    inputs = [{"name": k, "shape": _shape(v), "datatype": "FP64", "data": _flat(v)} for k, v in body.items()]
    return json.dumps({"inputs": inputs})


KIND = Kind(
    "mlserver",
    command,
    app_files=("mlserver_runtime.py", "mlserver/model-settings.json"),
    health_path=f"/v2/models/{MODEL}/ready",
    score_path=f"/v2/models/{MODEL}/infer",
    score_body=score_body,
    skip=frozenset(
        {
            # MLServer has no request / inference timeout setting (settings.py:
            # parallel_workers_timeout is only the grace period at shutdown).
            "worker-timeout",
            "worker-timeout-5s",
            # The REST server parses the V2 body (pydantic) before the runtime is called: run()
            # never sees a non-JSON body, so there is no run() exception to record.
            "run-bad-json",
        }
    ),
    worker_class="parallel inference workers (mlserver)",
)
# uvloop is pinned to 0.21.0 (Oct 2024, the newest when MLServer 1.7 came out): MLServer 1.7.1 does not
# bound it, and with today's uvloop (0.22+, whose get_event_loop() raises when no loop is set) every
# parallel inference worker dies at start (`RuntimeError: There is no current event loop in thread
# 'MainThread'` from mlserver/parallel/worker.py _ignore_signals), so no model ever loads.
SERVERS = [
    Server("mlserver-1.7.1", "mlserver", "1.7.1", "3.11", ("mlserver==1.7.1", "uvloop==0.21.0", "joblib"))
]
