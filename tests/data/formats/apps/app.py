import os
import signal
import time


def application(environ, start_response):
    p = environ.get("PATH_INFO", "/")
    if p == "/kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if p == "/sleep":
        time.sleep(10)
    if p == "/boom":
        raise ValueError("boom from app")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok\n"]
