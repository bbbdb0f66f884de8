"""LitServe server that serves an Azure ML style score.py (init()/run()) as a LitAPI.

The LitServe way (https://lightning.ai/docs/litserve/home, "Define a server"): a LitAPI whose
setup() loads the model -- here score.init() -- and whose predict() runs it -- score.run() on the raw
JSON text the client sent as {"input": "<text>"} (decode_request returns request["input"], as in the
LitServe quick start). Started as `python litserve_server.py --port P ...`; the lab's knobs are the
LitServer arguments `workers_per_device` and `timeout` (request timeout, default 30 s). Nothing is
caught here: an exception in setup() or predict() goes to LitServe.
"""

import argparse

import litserve as ls
import score


class ScoreAPI(ls.LitAPI):
    def setup(self, device):
        score.init()

    def decode_request(self, request):
        return request["input"]

    def predict(self, raw):
        return score.run(raw)

    def encode_response(self, output):
        return output


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="0.0.0.0")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--workers-per-device", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=30)
    args = ap.parse_args()
    server = ls.LitServer(ScoreAPI(), workers_per_device=args.workers_per_device, timeout=args.timeout)
    server.run(host=args.host, port=args.port)
