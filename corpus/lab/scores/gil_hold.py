import ctypes
import json
import os

import joblib

model = None
# A C call made through ctypes.PyDLL keeps the GIL, as a native extension that does not release it
# would: while it runs, a gthread worker's main loop cannot heartbeat.
_libc = ctypes.PyDLL(None)


def init():
    global model
    model_path = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model.pkl")
    model = joblib.load(model_path)


def run(raw_data):
    data = json.loads(raw_data)["data"]
    # stands in for native inference that holds the GIL for LAB_RUN_SECONDS
    _libc.sleep(int(float(os.getenv("LAB_RUN_SECONDS", "6"))))
    return {"result": [sum(row) for row in data]}
