"""Baseline (d): the same endpoint as FastAPI + uvicorn (one worker) + onnxruntime.

Written the way such a service usually is: pydantic models for the V2 request, numpy for the tensor.
Run: bench/serving/.venv/bin/python bench/serving/fastapi_server.py PORT [LOOP HTTP]
LOOP HTTP: "uvloop httptools" (uvicorn[standard], the default here) or "asyncio h11" (plain `pip install uvicorn`).
"""
import sys
from typing import Any, List, Optional

import numpy as np
import onnxruntime as ort
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

options = ort.SessionOptions()
options.intra_op_num_threads = 1
options.inter_op_num_threads = 1
session = ort.InferenceSession("serving-image/test/fixtures/model.onnx", options, providers=["CPUExecutionProvider"])
app = FastAPI()


class Tensor(BaseModel):
    name: str
    shape: List[int]
    datatype: str
    data: List[Any]


class InferRequest(BaseModel):
    id: Optional[str] = None
    inputs: List[Tensor]


@app.post("/v2/models/fraud/infer")
async def infer(request: InferRequest) -> dict:
    tensor = request.inputs[0]
    # async: the run is ~20 µs, cheaper than a hop to the thread pool.
    features = np.asarray(tensor.data, dtype=np.float32).reshape(tensor.shape)
    (probabilities,) = session.run(["probabilities"], {tensor.name: features})
    return {
        "model_name": "fraud",
        "model_version": "1",
        "outputs": [{"name": "probabilities", "datatype": "FP32", "shape": list(probabilities.shape),
                     "data": probabilities.flatten().tolist()}],
    }


@app.get("/v2/health/ready")
async def ready() -> dict:
    return {"ready": True}


if __name__ == "__main__":
    loop, http = sys.argv[2:4] if len(sys.argv) > 3 else ("uvloop", "httptools")
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), workers=1, loop=loop, http=http,
                log_level="warning", access_log=False)
