"""TorchServe and Multi Model Server (MMS) frontend log lines: the log4j framing is stripped.

Both frontends log with the log4j pattern `%d{ISO8601} [%-5p] %t %c - %m%n`
(pytorch/serve frontend/server/src/main/resources/log4j2.xml; MMS log4j.properties), e.g.
    2020-07-10 15:29:38,027 [INFO ] W-9000-model_1.0-stdout org.pytorch.serve.wlm.WorkerLifeCycle - msg
    2022-12-15T02:34:24,258 [WARN ] W-9000-model_1.0-stderr MODEL_LOG - msg
    2019-11-11 16:30:48,056 [INFO ] main com.amazonaws.ml.mms.ModelServer - msg
The level is padded to 5 characters; log4j 1 writes ISO8601 with a space, log4j 2 with a `T`.
Python worker output is copied line by line by WorkerLifeCycle.ReaderThread (thread
`W-<port>-<model>_<version>-stdout|-stderr`; stdout logged at INFO, stderr at WARN; logger
`MODEL_LOG` in recent TorchServe, `...wlm.WorkerLifeCycle` in old TorchServe and MMS).
Each reader thread carries one stream, so the thread name is the sub-source: a traceback the
worker prints is assembled from its thread's lines only.
"""

from __future__ import annotations

import re

from diagnoser.model import Level
from diagnoser.parse.base import LEVELS, Rec, ymd_hms

LINE = re.compile(
    r"(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d),(\d{3}) \[(TRACE|DEBUG|INFO |WARN |ERROR|FATAL)\] "
    r"(\S+) (\S+) -(?: |$)(.*)",
    re.S,
)
_WORKER_OUT = ("-stdout", "-stderr")
_TB = "Traceback (most recent call last):"


def deframe(text: str, rec: Rec) -> str | None:
    """Strip a TorchServe / MMS log4j prefix into `rec` and return the message; None if not one.

    Callers check `text[23:25] == " ["` first (cheap). An outer framing already in `rec`
    (CRI, docker, compose) stays the format; its sub-source key is kept as a prefix of the thread.
    """
    m = LINE.match(text)
    if m is None:
        return None
    thread, logger, msg = m[4], m[5], m[6]
    if rec.format == "plain":
        rec.format = "torchserve"
    if rec.timestamp is None:
        rec.timestamp = ymd_hms(m[1], m[2])
    rec.level = LEVELS.get(m[3].rstrip())
    rec.component = "torchserve"
    f = rec.fields
    f["logger"] = logger
    f["thread"] = thread
    if thread.endswith(_WORKER_OUT):
        f["worker"] = thread[:-7]
        rec.stream = rec.stream or thread[-6:]
        if msg.startswith(_TB):
            rec.level = Level.ERROR  # a worker's traceback on stderr is logged at WARN
    elif thread.startswith("W-"):
        f["worker"] = thread
    rec.key = f"{rec.key}/{thread}" if rec.key else thread
    rec.message = msg
    return msg
