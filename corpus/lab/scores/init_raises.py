import os

import joblib

model = None


def init():
    global model
    model_path = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model.pkl")
    model = joblib.load(model_path)
    config = model.get("config", {})
    if "n_features" not in config:
        raise ValueError("model config is missing required key 'n_features'")


def run(raw_data):
    return {"result": []}
