"""Baseline (e): KServe 0.21's ModelServer with a custom onnxruntime Model, as a KServe user serves a custom
ONNX predictor. One worker; gRPC, latency logging and access logs off, and the kserve.trace logger (a line per
request from KServe's timing middleware, on whatever the flags say) raised to WARNING: each costs it throughput.
Run: .cache/bench-serving/kserve/bin/python bench/serving/kserve_server.py PORT
"""
import logging
import sys
import uuid

import onnxruntime as ort
from kserve import InferOutput, InferRequest, InferResponse, Model, ModelServer

MODEL_PATH = "serving-image/test/fixtures/model.onnx"


class FraudModel(Model):
    def __init__(self, name: str):
        super().__init__(name)
        self.session = None
        self.load()

    def load(self) -> bool:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(MODEL_PATH, options, providers=["CPUExecutionProvider"])
        self.ready = True
        return self.ready

    async def predict(self, payload: InferRequest, headers=None, response_headers=None) -> InferResponse:
        features = payload.inputs[0].as_numpy()
        (probabilities,) = self.session.run(["probabilities"], {payload.inputs[0].name: features})
        output = InferOutput(name="probabilities", shape=list(probabilities.shape), datatype="FP32")
        output.set_data_from_numpy(probabilities, binary_data=False)
        return InferResponse(model_name=self.name, infer_outputs=[output], response_id=payload.id or str(uuid.uuid4()))


if __name__ == "__main__":
    server = ModelServer(
        http_port=int(sys.argv[1]),
        grpc_port=int(sys.argv[1]) + 1000,
        workers=1,
        enable_grpc=False,
        enable_latency_logging=False,
        access_log_format=None,
    )
    logging.getLogger("kserve.trace").setLevel(logging.WARNING)
    server.start([FraudModel("fraud")])
