import json
import logging
import os

import joblib

model = None


def init():
    global model
    model_path = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model.pkl")
    model = joblib.load(model_path)
    logging.info("model loaded from %s", model_path)


def run(raw_data):
    data = json.loads(raw_data)["data"]
    coef = model["coef"]
    result = [sum(coef[i] * row[i] for i in range(len(coef))) + model["intercept"] for row in data]
    return {"result": result}
