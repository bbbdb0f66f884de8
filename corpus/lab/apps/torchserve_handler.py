"""TorchServe custom handler serving the lab's score.py (init()/run(raw_json)).

Archived with torch-model-archiver (`--handler torchserve_handler.py --extra-files score.py`), so
TorchServe's Python backend worker imports it from the extracted .mar. As a typical custom handler:
a BaseHandler subclass whose initialize() loads the model (score.init()) and whose handle() scores
each request of the batch (score.run). Nothing is caught here: TorchServe itself logs and answers
whatever init() / run() raise.
https://pytorch.org/serve/custom_service.html
"""

import json

import score
from ts.torch_handler.base_handler import BaseHandler


class ScoreHandler(BaseHandler):
    def initialize(self, context):
        self.context = context
        score.init()
        self.initialized = True

    def handle(self, data, context):
        # One entry per request in the batch: {"body": ...} (TorchServe has already json-decoded an
        # application/json body when it parses; otherwise bytes).
        out = []
        for row in data:
            body = row.get("body") if row.get("body") is not None else row.get("data")
            if isinstance(body, (bytes, bytearray)):
                body = body.decode("utf-8")
            elif not isinstance(body, str):
                body = json.dumps(body)
            out.append(score.run(body))
        return out
