"""An MLServer custom inference runtime (mlserver.MLModel) that serves an Azure ML style score.py.

As in MLServer's "custom inference runtimes" guide (https://mlserver.readthedocs.io/en/latest/
user-guide/custom.html): load() calls score.init(), predict() decodes the V2 request's inputs
(NumpyCodec, one input per key of the lab's JSON body: "data" for a good request), calls
score.run() on them as JSON and returns the result as one BYTES output. Nothing is caught here: an
exception in init() or run() goes to MLServer as it would from any custom runtime. The folder is
served with `mlserver start .` next to model-settings.json (corpus/lab/apps/mlserver/).
"""

import json

from mlserver import MLModel
from mlserver.codecs import NumpyCodec, StringCodec
from mlserver.types import InferenceRequest, InferenceResponse

import score


class ScoreRuntime(MLModel):
    async def load(self) -> bool:
        score.init()
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        body = {inp.name: NumpyCodec.decode_input(inp).tolist() for inp in payload.inputs}
        result = score.run(json.dumps(body))
        return InferenceResponse(
            model_name=self.name,
            outputs=[StringCodec.encode_output("result", [json.dumps(result)])],
        )
