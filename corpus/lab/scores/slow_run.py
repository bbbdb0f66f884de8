import json
import os
import time

import joblib

model = None


def init():
    global model
    model_path = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model.pkl")
    model = joblib.load(model_path)


def run(raw_data):
    data = json.loads(raw_data)["data"]
    # stands in for a slow model: sleeps LAB_RUN_SECONDS per request
    time.sleep(float(os.getenv("LAB_RUN_SECONDS", "5")))
    return {"result": [sum(row) for row in data]}
