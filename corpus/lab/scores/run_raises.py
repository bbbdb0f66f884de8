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
    coef = model["coef"]
    for row in data:
        if len(row) != len(coef):
            raise ValueError(
                f"X has {len(row)} features, but the model is expecting {len(coef)} features as input"
            )
    return {"result": [sum(coef[i] * row[i] for i in range(len(coef))) for row in data]}
