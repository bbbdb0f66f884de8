import os

import joblib

model = None
weights = []


def init():
    global model
    model_path = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model.pkl")
    model = joblib.load(model_path)
    # stands in for loading a model larger than the memory limit: LAB_ALLOC_MB of real pages
    for _ in range(int(os.getenv("LAB_ALLOC_MB", "1024")) // 16):
        weights.append(b"\x01" * (16 * 1024 * 1024))


def run(raw_data):
    return {"result": len(weights)}
