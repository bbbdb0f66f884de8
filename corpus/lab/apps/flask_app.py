"""Flask app that serves an Azure ML style score.py (init()/run()) under waitress.

init() runs at import time (the module waitress-serve imports), as a typical hand-written Flask
scoring service does. GET / answers the liveness probe, POST /score hands the raw request body to
score.run(). Nothing is caught here: an exception in run() goes to Flask, which logs it and answers
500 (https://flask.palletsprojects.com/en/stable/errorhandling/).
"""

import score
from flask import Flask, jsonify, request

score.init()

app = Flask(__name__)


@app.get("/")
def health():
    return "Healthy"


@app.post("/score")
def score_endpoint():
    return jsonify(score.run(request.get_data(as_text=True)))
