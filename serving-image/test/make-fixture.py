#!/usr/bin/python3
"""Builds the serving image's test fixture: a small fraud-style ONNX classifier and its reference file.

Deterministic (fixed seeds, rounded numbers), so re-running it reproduces the committed files byte for byte.
Run with Debian's python (it has onnx and numpy): /usr/bin/python3 serving-image/test/make-fixture.py
The I/O contract is the training image's: input `features` FP32 [batch, 30], output `probabilities` FP32 [batch, 2].
Beside it, `mixed.onnx` takes and returns the datatypes JavaScript has no plain typed array for: a BYTES input
`category` [batch, 1] (mapped to a BYTES `label` and an INT64 `code` by ONNX-ML LabelEncoders, as tabular models
encode categorical features) and an FP16 input `values` [batch, 2] (returned as FP16 `scaled` = values / 2 + 1).
"""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FEATURES = [f"v{i}" for i in range(1, 29)] + ["amount", "hour"]
CLASSES = ["legit", "fraud"]
HIDDEN = 16
BINS = 10
SAMPLES = 2000
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def build_model(rng: np.random.Generator) -> onnx.ModelProto:
    n = len(FEATURES)
    # Standardise amount and hour inside the graph so the raw values the reference describes are the inputs.
    scale = np.ones(n, dtype=np.float32)
    scale[FEATURES.index("amount")] = 1 / 100.0
    scale[FEATURES.index("hour")] = 1 / 12.0
    w1 = (rng.standard_normal((n, HIDDEN)) * 0.4).astype(np.float32) * scale[:, None]
    b1 = (rng.standard_normal(HIDDEN) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((HIDDEN, len(CLASSES))) * 0.6).astype(np.float32)
    b2 = np.array([1.5, -1.5], dtype=np.float32)  # most transactions are legit
    nodes = [
        helper.make_node("MatMul", ["features", "w1"], ["h0"]),
        helper.make_node("Add", ["h0", "b1"], ["h1"]),
        helper.make_node("Relu", ["h1"], ["h2"]),
        helper.make_node("MatMul", ["h2", "w2"], ["logits0"]),
        helper.make_node("Add", ["logits0", "b2"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "fraud_mlp",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", n])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", len(CLASSES)])],
        initializer=[numpy_helper.from_array(a, name) for a, name in ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="modelops-fixture")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


CATEGORIES = ["card", "wire", "cash", "crypto"]


def build_mixed_model() -> onnx.ModelProto:
    encode_ml = {"domain": "ai.onnx.ml"}
    nodes = [
        helper.make_node("LabelEncoder", ["category"], ["label"], keys_strings=CATEGORIES,
                         values_strings=[c.upper() for c in CATEGORIES], default_string="OTHER", **encode_ml),
        helper.make_node("LabelEncoder", ["category"], ["code"], keys_strings=CATEGORIES,
                         values_int64s=list(range(len(CATEGORIES))), default_int64=-1, **encode_ml),
        helper.make_node("Cast", ["values"], ["values32"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["values32", "half"], ["halved"]),
        helper.make_node("Add", ["halved", "one"], ["scaled32"]),
        helper.make_node("Cast", ["scaled32"], ["scaled"], to=TensorProto.FLOAT16),
    ]
    graph = helper.make_graph(
        nodes,
        "mixed_datatypes",
        [helper.make_tensor_value_info("category", TensorProto.STRING, ["batch", 1]),
         helper.make_tensor_value_info("values", TensorProto.FLOAT16, ["batch", 2])],
        [helper.make_tensor_value_info("label", TensorProto.STRING, ["batch", 1]),
         helper.make_tensor_value_info("code", TensorProto.INT64, ["batch", 1]),
         helper.make_tensor_value_info("scaled", TensorProto.FLOAT16, ["batch", 2])],
        initializer=[numpy_helper.from_array(np.array(0.5, dtype=np.float32), "half"),
                     numpy_helper.from_array(np.array(1.0, dtype=np.float32), "one")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 2)],
                              producer_name="modelops-fixture")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def forward(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    w = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    h = np.maximum(x @ w["w1"] + w["b1"], 0)
    logits = h @ w["w2"] + w["b2"]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def sample_features(rng: np.random.Generator) -> np.ndarray:
    x = rng.standard_normal((SAMPLES, len(FEATURES))).astype(np.float32)
    x[:, FEATURES.index("amount")] = np.round(rng.lognormal(3.5, 1.0, SAMPLES), 2)
    x[:, FEATURES.index("hour")] = rng.integers(0, 24, SAMPLES)
    return x


def histogram(values: np.ndarray, edges: np.ndarray) -> dict:
    # Interior edges bound the bins as in the schema: (e[i], e[i+1]], with the outer bins open-ended.
    idx = np.searchsorted(edges[1:-1], values, side="left")
    counts = np.bincount(idx, minlength=len(edges) - 1)
    return {"binEdges": [round(float(e), 6) for e in edges], "counts": [int(c) for c in counts]}


def feature_edges(column: np.ndarray) -> np.ndarray:
    edges = np.quantile(column, np.linspace(0, 1, BINS + 1))
    return np.round(edges, 4)


def build_reference(model: onnx.ModelProto, x: np.ndarray) -> dict:
    probabilities = forward(model, x)
    predicted = probabilities.argmax(axis=1)
    features = []
    for i, name in enumerate(FEATURES):
        column = x[:, i].astype(np.float64)
        edges = np.unique(feature_edges(column))
        features.append({"name": name, **histogram(column, edges),
                         "mean": round(float(column.mean()), 6), "std": round(float(column.std()), 6)})
    score_edges = np.linspace(0, 1, BINS + 1)
    return {
        "apiVersion": "modelops.dev/v1alpha1",
        "kind": "ReferenceDistribution",
        "sampleCount": SAMPLES,
        "input": {"name": "features", "datatype": "FP32"},
        "features": features,
        "prediction": {
            "output": "probabilities",
            "classes": CLASSES,
            "classCounts": [int(c) for c in np.bincount(predicted, minlength=len(CLASSES))],
            "score": histogram(probabilities[:, -1].astype(np.float64), score_edges),
        },
    }


def main() -> None:
    rng = np.random.default_rng(20251126)
    model = build_model(rng)
    x = sample_features(rng)
    os.makedirs(OUT_DIR, exist_ok=True)
    with open(os.path.join(OUT_DIR, "model.onnx"), "wb") as f:
        f.write(model.SerializeToString())
    with open(os.path.join(OUT_DIR, "reference.json"), "w") as f:
        json.dump(build_reference(model, x), f, indent=1)
        f.write("\n")
    with open(os.path.join(OUT_DIR, "mixed.onnx"), "wb") as f:
        f.write(build_mixed_model().SerializeToString())
    # A few rows with their expected probabilities, so tests can check the served numbers.
    rows = x[:4]
    with open(os.path.join(OUT_DIR, "samples.json"), "w") as f:
        json.dump({"features": [[round(float(v), 4) for v in r] for r in rows],
                   "probabilities": [[round(float(p), 6) for p in r] for r in forward(model, np.round(rows, 4))]}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
