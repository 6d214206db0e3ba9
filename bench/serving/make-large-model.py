#!/usr/bin/python3
"""Writes an ONNX model of about SIZE_MB megabytes with the fixture's interface (features FP32 [batch, 30] ->
probabilities FP32 [batch, 2]): an MLP whose hidden layer is as wide as the size asks, so that every weight is
used (nothing for onnxruntime to fold away) and cold start pays for all of them.
Run: /usr/bin/python3 bench/serving/make-large-model.py SIZE_MB OUT.onnx   (Debian's python has onnx and numpy)
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

size_mb, out = float(sys.argv[1]), sys.argv[2]
hidden = int(size_mb * 1024 * 1024 / (4 * (30 + 2)))  # w1 [30, hidden] and w2 [hidden, 2], float32
rng = np.random.default_rng(1)
w1 = (rng.standard_normal((30, hidden)) * 0.1).astype(np.float32)
w2 = (rng.standard_normal((hidden, 2)) * 0.01).astype(np.float32)
graph = helper.make_graph(
    [
        helper.make_node("MatMul", ["features", "w1"], ["h0"]),
        helper.make_node("Relu", ["h0"], ["h1"]),
        helper.make_node("MatMul", ["h1", "w2"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
    ],
    "large_mlp",
    [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 30])],
    [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 2])],
    initializer=[numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="modelops-bench")
model.ir_version = 8
onnx.save(model, out)
