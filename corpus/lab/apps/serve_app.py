"""A Ray Serve deployment that serves an Azure ML style score.py (init()/run()).

As in Ray Serve's "Getting started" guide (https://docs.ray.io/en/latest/serve/getting_started.html):
one `@serve.deployment` class whose __init__ loads the model (score.init()) and whose async
`__call__(request)` answers HTTP requests: POST calls score.run() with the raw body, GET answers
"Healthy" (the liveness probe, as corpus/lab/apps/app.py does). `app = DiabetesModel.bind()` is the
application `serve run` deploys. Nothing is caught here: an exception in init() or run() goes to
Ray Serve as it would from any deployment.
"""

from ray import serve
from starlette.requests import Request

import score


@serve.deployment
class DiabetesModel:
    def __init__(self) -> None:
        score.init()

    async def __call__(self, request: Request):
        if request.method == "GET":
            return "Healthy"
        body = await request.body()
        return score.run(body.decode("utf-8"))


app = DiabetesModel.bind()
