"""The termination message: one compact JSON line the TrainingJob controller reads from the pod status.

Kubernetes keeps at most 4096 bytes of it, so a message that would not fit is refused rather than truncated.
"""
import json
from pathlib import Path

from .errors import JobInputError

DEFAULT_PATH = "/dev/termination-log"
MESSAGE_LIMIT_BYTES = 4096
ERROR_TEXT_LIMIT = 1000


class MessageTooLargeError(JobInputError):
    """Only the job's own strings (URIs, dataset version) can grow the message, so it is an input error."""


def success_message(*, metrics: dict, artifact: dict, reference: dict, dataset: dict, seed: int, device: str, framework: str) -> dict:
    return {
        "metrics": {
            "val_auc": float(metrics["val_auc"]),
            "val_accuracy": float(metrics["val_accuracy"]),
            "val_loss": float(metrics["val_loss"]),
            "train_loss": float(metrics["train_loss"]),
            "samples_per_second": float(metrics["samples_per_second"]),
            "epochs": int(metrics["epochs"]),
        },
        "artifact": {"uri": artifact["uri"], "digest": artifact["digest"]},
        "reference": {"uri": reference["uri"], "digest": reference["digest"]},
        "dataset": {"uri": dataset["uri"], "version": dataset["version"]},
        "seed": int(seed),
        "device": device,
        "framework": framework,
    }


def error_message(text: str) -> dict:
    """One line, bounded: the first ERROR_TEXT_LIMIT characters are the part a person reads anyway."""
    line = " ".join(text.split())
    return {"error": line if len(line) <= ERROR_TEXT_LIMIT else line[: ERROR_TEXT_LIMIT - 1] + "…"}


def encode(message: dict) -> str:
    line = json.dumps(message, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    size = len(line.encode())
    if size >= MESSAGE_LIMIT_BYTES:
        raise MessageTooLargeError(
            f"termination message would be {size} bytes; Kubernetes keeps {MESSAGE_LIMIT_BYTES}; "
            "shorten MODELOPS_DATASET_URI, MODELOPS_OUTPUT_URI or MODELOPS_DATASET_VERSION"
        )
    return line


def write_message(path: Path, message: dict) -> None:
    path.write_text(encode(message))
