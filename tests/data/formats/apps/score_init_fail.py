import os


def init():
    path = os.path.join(os.getenv("AZUREML_MODEL_DIR", "/nope"), "model.pkl")
    try:
        open(path)
    except FileNotFoundError as e:
        raise RuntimeError("could not load model") from e


def run(raw):
    return 1
