import json
import time


def init():
    print("init done")


def run(raw):
    d = json.loads(raw)
    if d.get("fail"):
        raise KeyError("feature_x")
    if d.get("sleep"):
        time.sleep(d["sleep"])
    return {"ok": True}
