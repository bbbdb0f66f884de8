import json
import os

import joblib

model = None


def init():
    global model
    model_path = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model.pkl")
    model = joblib.load(model_path)


def run(raw_data):
    data = json.loads(raw_data)["data"]
    # stands in for a batch whose activations exceed the memory limit: LAB_ALLOC_MB of real pages
    buffers = []
    for _ in range(int(os.getenv("LAB_ALLOC_MB", "1024")) // 16):
        buffers.append(b"\x01" * (16 * 1024 * 1024))
    return {"result": [sum(row) for row in data], "buffers": len(buffers)}
