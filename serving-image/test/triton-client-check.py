"""Manual compatibility check: Triton's own Python HTTP client against a running serving image.

The client uses the binary tensor data extension by default, for inputs and outputs. Use a virtualenv outside
the repository (tritonclient pulls in urllib3, which ships a .js file that `eslint .` would then lint):
  python3 -m venv /tmp/triton-venv && /tmp/triton-venv/bin/pip install "tritonclient[http]" numpy
  MODEL_URI=serving-image/test/fixtures/model.onnx MODEL_NAME=fraud node --import tsx serving-image/src/main.ts &
  /tmp/triton-venv/bin/python serving-image/test/triton-client-check.py [host:port]
"""
import json
import os
import sys

import numpy as np
import tritonclient.http as httpclient

url = sys.argv[1] if len(sys.argv) > 1 else "localhost:8080"
samples = json.load(open(os.path.join(os.path.dirname(__file__), "fixtures", "samples.json")))
features = np.array(samples["features"], dtype=np.float32)
expected = np.array(samples["probabilities"], dtype=np.float32)

client = httpclient.InferenceServerClient(url=url)
assert client.is_server_live() and client.is_server_ready() and client.is_model_ready("fraud")
metadata = client.get_model_metadata("fraud")
assert metadata["inputs"] == [{"name": "features", "datatype": "FP32", "shape": [-1, 30]}], metadata

for binary in (True, False):
    inputs = [httpclient.InferInput("features", list(features.shape), "FP32")]
    inputs[0].set_data_from_numpy(features, binary_data=binary)
    outputs = [httpclient.InferRequestedOutput("probabilities", binary_data=binary)]
    result = client.infer("fraud", inputs, outputs=outputs, request_id="check")
    probabilities = result.as_numpy("probabilities")
    assert probabilities.shape == (4, 2), probabilities.shape
    assert np.allclose(probabilities, expected, atol=1e-5), (probabilities, expected)
    assert result.get_response()["id"] == "check"
    print(f"binary_data={binary}: ok", probabilities.tolist())

try:
    bad = [httpclient.InferInput("features", [1, 29], "FP32")]
    bad[0].set_data_from_numpy(np.zeros((1, 29), dtype=np.float32))
    client.infer("fraud", bad)
    raise SystemExit("a bad shape was accepted")
except httpclient.InferenceServerException as error:
    print("bad shape refused:", error.message())
