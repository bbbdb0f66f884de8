"""Save the lab's pyfunc model (mlflow_model.ScoreModel + score.py) for `mlflow models serve`.

Run by the mlflow kind before each scenario, in the scenario's workdir:
`python mlflow_save_model.py <model dir>` (mlflow.pyfunc.save_model:
https://mlflow.org/docs/latest/api_reference/python_api/mlflow.pyfunc.html#mlflow.pyfunc.save_model).
"""

import sys

import mlflow.pyfunc
from mlflow_model import ScoreModel

mlflow.pyfunc.save_model(
    sys.argv[1],
    python_model=ScoreModel(),
    code_paths=["score.py", "mlflow_model.py"],
)
