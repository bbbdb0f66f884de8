import json
import os

import joblib
import xgboost

model = None


def init():
    global model
    model_path = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model.pkl")
    model = joblib.load(model_path)


def run(raw_data):
    data = json.loads(raw_data)["data"]
    return {"result": model.predict(xgboost.DMatrix(data)).tolist()}
