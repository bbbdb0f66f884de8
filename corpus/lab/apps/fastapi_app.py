"""FastAPI app that serves an Azure ML style score.py (init()/run()) under uvicorn.

score.init() runs in the app's lifespan (FastAPI's documented place for loading a model:
https://fastapi.tiangolo.com/advanced/events/), once per uvicorn worker process. GET / answers the
liveness probe, POST /score hands the raw request body to score.run(). Nothing is caught here: an
exception in init() or run() goes to uvicorn / Starlette as it would in a hand-written service.
"""

from contextlib import asynccontextmanager

import score
from fastapi import FastAPI, Request


@asynccontextmanager
async def lifespan(app: FastAPI):
    score.init()
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/")
def health():
    return "Healthy"


@app.post("/score")
async def score_endpoint(request: Request):
    raw = await request.body()
    return score.run(raw.decode("utf-8"))
