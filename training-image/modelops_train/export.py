"""ONNX export. The serving image relies on this interface:
input `features` FP32 [batch, 30] of raw feature values, output `probabilities` FP32 [batch, 2] (softmax)."""
import copy
import inspect
import io

import onnx
import torch

INPUT_NAME = "features"
OUTPUT_NAME = "probabilities"
# The newest opset the legacy TorchScript exporter of torch 1.13 writes; onnxruntime 1.30 runs it.
ONNX_OPSET = 17


class ProbabilityModel(torch.nn.Module):
    """Wraps a logits model so the exported graph ends in softmax over the classes."""

    def __init__(self, logits_model: torch.nn.Module):
        super().__init__()
        self.logits_model = logits_model

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.logits_model(features), dim=1)


def inference_copy(logits_model: torch.nn.Module) -> ProbabilityModel:
    """A float32 CPU copy in eval mode, independent of where and in which precision training ran."""
    return ProbabilityModel(copy.deepcopy(logits_model)).to("cpu", torch.float32).eval()


def export_onnx(model: ProbabilityModel, feature_count: int) -> bytes:
    buffer = io.BytesIO()
    options = {}
    # torch >= 2.5 has a dynamo exporter (the default from 2.9); the TorchScript one gives the plain graph we check below.
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        options["dynamo"] = False
    with torch.no_grad():
        torch.onnx.export(
            model,
            torch.zeros(2, feature_count),
            buffer,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            opset_version=ONNX_OPSET,
            **options,
        )
    onnx_bytes = buffer.getvalue()
    check_interface(onnx_bytes, feature_count, class_count=2)
    return onnx_bytes


def check_interface(onnx_bytes: bytes, feature_count: int, class_count: int) -> None:
    """Fails loudly if the exported graph drifts from the interface the serving image expects."""
    model = onnx.load_from_string(onnx_bytes)
    onnx.checker.check_model(model)
    expected = {INPUT_NAME: feature_count, OUTPUT_NAME: class_count}
    for value in (*model.graph.input, *model.graph.output):
        tensor = value.type.tensor_type
        batch, width = tensor.shape.dim
        if value.name not in expected or tensor.elem_type != onnx.TensorProto.FLOAT:
            raise RuntimeError(f"exported ONNX has unexpected tensor {value.name}")
        if not batch.dim_param or width.dim_value != expected.pop(value.name):
            raise RuntimeError(f"exported ONNX tensor {value.name} must be [batch, n] with a dynamic batch")
    if expected:
        raise RuntimeError(f"exported ONNX lacks {', '.join(expected)}")
