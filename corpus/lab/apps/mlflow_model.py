"""An MLflow pyfunc model wrapping an Azure ML style score.py (init()/run()).

A `mlflow.pyfunc.PythonModel` (https://mlflow.org/docs/latest/ml/model/python_model/): load_context()
imports score.py -- shipped in the model's code/ dir through `code_paths` -- and calls score.init();
predict() calls score.run() on each input (the raw JSON text the client sent in
{"inputs": ["<text>"]}). The import is inside load_context so that saving the model does not run
the scoring script; a broken score.py fails when `mlflow models serve` loads the model, as it would
for a model logged from a training job. Nothing is caught here.
"""

import mlflow.pyfunc


class ScoreModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        import score

        self.score = score
        score.init()

    def predict(self, context, model_input, params=None):
        return [self.score.run(str(raw)) for raw in model_input]
