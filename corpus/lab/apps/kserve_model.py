"""A KServe custom model (kserve.Model) that serves an Azure ML style score.py (init()/run()).

As in KServe's "custom model" guide (https://kserve.github.io/website/latest/modelserving/v1beta1/
custom/custom_model/): the script parses KServe's own argument parser, builds the
model, calls load() and hands it to `kserve.ModelServer().start([model])`. load() calls score.init(),
predict() calls score.run() on the v1 request (`{"instances": ...}`, handed to run() under the key
score.py reads, "data"; any other key is passed through unchanged). Nothing is caught here: an
exception in init() or run() goes to KServe as it would from any custom model.
"""

import argparse
import json

import kserve
from kserve import logging as kserve_logging
from kserve import model_server

import score


class ScoreModel(kserve.Model):
    def __init__(self, name: str):
        super().__init__(name)
        self.ready = False

    def load(self) -> bool:
        score.init()
        self.ready = True
        return self.ready

    def predict(self, payload: dict, headers: dict = None) -> dict:
        body = dict(payload)
        if "instances" in body:
            body["data"] = body.pop("instances")
        return score.run(json.dumps(body))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(parents=[model_server.parser])
    args, _ = parser.parse_known_args()
    # as KServe's own servers do (python/sklearnserver/sklearnserver/__main__.py): configure KServe's
    # log format before load(), so lines logged while loading go through it
    kserve_logging.configure_logging(args.log_config_file)
    model = ScoreModel(args.model_name)
    model.load()
    kserve.ModelServer().start([model])
