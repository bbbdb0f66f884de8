"""FastAPI app serving the lab's score.py (init()/run(raw_json)), run by gunicorn with uvicorn workers.

The model is loaded in the app's lifespan (FastAPI's documented place for start-up work,
https://fastapi.tiangolo.com/advanced/events/), so it runs once per worker process when uvicorn
starts the app. GET / answers the liveness probe, POST /score passes the raw body to run(), as a
hand-written FastAPI scoring service does. Nothing is caught here: what init() / run() raise is
logged and answered by uvicorn / Starlette themselves.
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
async def health():
    return {"status": "Healthy"}


@app.post("/score")
async def score_endpoint(request: Request):
    raw = (await request.body()).decode("utf-8")
    return score.run(raw)
