"""WSGI wrapper that serves an Azure ML style score.py (init()/run()) under plain gunicorn.

GET / answers the liveness probe, POST /score calls run(body). init() runs at import time in
each worker (no --preload), as a typical hand-written scoring container does.
"""

import json

import score

score.init()


def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    method = environ.get("REQUEST_METHOD", "GET")
    if path == "/" and method == "GET":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"Healthy"]
    if path == "/score" and method == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode("utf-8")
        result = score.run(body)
        payload = json.dumps(result).encode("utf-8")
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
        start_response("200 OK", headers)
        return [payload]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"Not Found"]
