"""Baseline (f): Seldon MLServer 1.7 with a custom onnxruntime runtime, as a Seldon user serves a custom ONNX
predictor. Started by run.ts as `mlserver start bench/serving/mlserver` with one process (parallel workers off:
on one core they would only add inter-process hops).
"""
import onnxruntime as ort
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse


class OnnxFraud(MLModel):
    async def load(self) -> bool:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            "serving-image/test/fixtures/model.onnx", options, providers=["CPUExecutionProvider"]
        )
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        request_input = payload.inputs[0]
        features = NumpyCodec.decode_input(request_input)
        (probabilities,) = self.session.run(["probabilities"], {request_input.name: features})
        return InferenceResponse(
            model_name=self.name,
            id=payload.id,
            outputs=[NumpyCodec.encode_output("probabilities", probabilities)],
        )
