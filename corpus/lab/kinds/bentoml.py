"""BentoML: a `@bentoml.service` class around score.py (corpus/lab/apps/service.py) started with
`bentoml serve service:DiabetesModel --port P` in its folder.

https://docs.bentoml.com/en/latest/reference/bentoml/cli.html and `bentoml serve --help`
(the CLI has no worker or timeout flag). Workers and the request timeout are service configuration
(`@bentoml.service(workers=..., traffic={"timeout": ...})`, defaults 1 and 60 s: bentoml/_internal/
configuration/v2/default_configuration.yaml, https://docs.bentoml.com/en/latest/reference/bentoml/
configurations.html); the service takes them from Bento arguments, `--arg workers=N --arg timeout=S`
(`bentoml.use_arguments`, https://docs.bentoml.com/en/latest/build-with-bentoml/template-arguments.html),
given only when a scenario sets them. (A `BENTOML_CONFIG` file with `version: 2` / `services:` is
rejected at import by 1.4.40: "Key 'version' error: <lambda>(2) should evaluate to True".)
Health: `GET /readyz`; scoring: `POST /predict` with `{"data": ...}` (the API's parameter names are
the JSON body's keys).
"""

from __future__ import annotations

from pathlib import Path

from . import Kind, Server

SERVICE = "DiabetesModel"


def command(server: Server, sc, port: int, workdir: Path) -> tuple[list[str], dict[str, str]]:
    cmd = [str(server.bin / "bentoml"), "serve", f"service:{SERVICE}", "--port", str(port)]
    if sc.workers != 1:
        cmd += ["--arg", f"workers={sc.workers}"]
    if sc.timeout is not None:
        cmd += ["--arg", f"timeout={sc.timeout}"]
    env = {"PYTHONUNBUFFERED": "1"}
    return cmd, env


KIND = Kind(
    "bentoml",
    command,
    app_files=("service.py",),
    health_path="/readyz",
    score_path="/predict",
    skip=frozenset(
        {
            # BentoML validates the body against the API's signature (pydantic) before the
            # service's method runs: a non-JSON body or a body without "data" is answered 400 by
            # BentoML itself, and score.run() never sees it (no run() exception to record).
            "run-bad-json",
            "run-keyerror",
        }
    ),
    worker_class="bentoml service worker",
)
SERVERS = [Server("bentoml-1.4.40", "bentoml", "1.4.40", "3.11", ("bentoml==1.4.40", "joblib"))]
