"""A BentoML service (`@bentoml.service` class) that serves an Azure ML style score.py.

As in BentoML's quickstart / "Services" guide (https://docs.bentoml.com/en/latest/build-with-bentoml/
services.html): the model is loaded in the service's __init__ (score.init()), one `@bentoml.api`
method `predict(data)` calls score.run() with the request's JSON fields (`POST /predict` with
`{"data": ...}`). Served with `bentoml serve service:DiabetesModel`; its `workers` and request timeout
(`traffic.timeout`) are the service's configuration, taken from Bento arguments (`--arg workers=N
--arg timeout=S`, bentoml.use_arguments(); defaults: BentoML's own, 1 worker and 60 s). Nothing is caught here: an
exception in init() or run() goes to BentoML as it would from any service.
"""

import json

import bentoml
from pydantic import BaseModel

import score


class Args(BaseModel):
    workers: int = 1
    timeout: float = 60.0


args = bentoml.use_arguments(Args)


@bentoml.service(workers=args.workers, traffic={"timeout": args.timeout})
class DiabetesModel:
    def __init__(self) -> None:
        score.init()

    @bentoml.api
    def predict(self, data: list) -> dict:
        return score.run(json.dumps({"data": data}))
