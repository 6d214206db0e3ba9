"""One training job, end to end: environment → data → training → artifacts → termination message."""
import json
from dataclasses import asdict, dataclass
from typing import Mapping

import numpy as np
import torch

from .data import CLASS_NAMES, FEATURE_NAMES, Dataset
from .dataset_io import load_dataset
from .distributed import ProcessGroupEnv, process_group, read_process_group_env
from .errors import JobInputError
from .export import INPUT_NAME, OUTPUT_NAME, ProbabilityModel, export_onnx, inference_copy
from .hyperparameters import Hyperparameters, parse_hyperparameters
from .log import JsonLogger
from .outputs import Output, artifact_uri, open_output, sha256_digest
from .reference import build_reference
from .termination import encode, success_message
from .train import Runtime, TrainingResult, evaluate, fit, prepare_device, select_device, stratified_split

MODEL_FILE = "model.onnx"
REFERENCE_FILE = "reference.json"
METRICS_FILE = "metrics.json"
# PyTorch's probabilities for the first validation rows, so anyone can check an ONNX runtime against them.
PREDICTIONS_CHECK_FILE = "predictions_check.json"
PREDICTIONS_CHECK_ROWS = 16


@dataclass(frozen=True)
class JobConfig:
    dataset_uri: str
    dataset_version: str
    output_uri: str
    output: Output
    hyperparameters: Hyperparameters
    processes: ProcessGroupEnv

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "JobConfig":
        missing = [name for name in ("MODELOPS_DATASET_URI", "MODELOPS_OUTPUT_URI") if not environ.get(name)]
        if missing:
            raise JobInputError(f"environment variable(s) {', '.join(missing)} must be set")
        return cls(
            dataset_uri=environ["MODELOPS_DATASET_URI"],
            dataset_version=environ.get("MODELOPS_DATASET_VERSION", ""),
            output_uri=environ["MODELOPS_OUTPUT_URI"],
            output=open_output(environ["MODELOPS_OUTPUT_URI"], environ),
            hyperparameters=parse_hyperparameters(environ.get("MODELOPS_HYPERPARAMETERS")),
            processes=read_process_group_env(environ),
        )


def framework() -> str:
    return f"torch-{torch.__version__}"


def run_job(config: JobConfig, log: JsonLogger) -> dict | None:
    """Trains; the rank-0 process also publishes and returns the termination message (others return None)."""
    check_message_fits(config)  # fail before training, not after, if the URIs are too long to report
    hp = config.hyperparameters
    device = select_device(hp.device, config.processes.local_rank)
    prepare_device(device)
    runtime = Runtime(device=device, rank=config.processes.rank, world_size=config.processes.world_size)
    log.info("job_started", dataset_uri=config.dataset_uri, dataset_version=config.dataset_version, output_uri=config.output_uri,
             hyperparameters=asdict(hp), seed=hp.seed, world_size=runtime.world_size, device=str(device), framework=framework())
    dataset = load_dataset(config.dataset_uri)
    split = stratified_split(dataset, hp.val_fraction, hp.seed)
    log.info("dataset_loaded", rows=len(dataset), fraud_rows=int(dataset.labels.sum()), train_rows=len(split.train),
             validation_rows=len(split.validation))
    with process_group(config.processes, device):
        result = fit(split, hp, runtime, log)
    if not runtime.is_chief:
        return None
    return publish(config, result, split.validation, runtime, config.output, log)


def publish(config: JobConfig, result: TrainingResult, validation: Dataset, runtime: Runtime, output: Output,
            log: JsonLogger) -> dict:
    hp = config.hyperparameters
    evaluation = evaluate(result.model, validation, runtime.device)
    metrics = {
        "val_auc": evaluation.auc,
        "val_accuracy": evaluation.accuracy,
        "val_loss": evaluation.loss,
        "train_loss": result.train_loss,
        "samples_per_second": result.samples_per_second,
        "epochs": hp.epochs,
    }
    log.info("evaluated", **metrics)
    inference_model = inference_copy(result.model)
    reference = build_reference(validation.features, FEATURE_NAMES, evaluation.probabilities, CLASS_NAMES, INPUT_NAME, OUTPUT_NAME,
                                hp.reference_bins)
    model_digest = output.write(MODEL_FILE, export_onnx(inference_model, len(FEATURE_NAMES)))
    reference_digest = output.write(REFERENCE_FILE, _json_bytes(reference))
    message = job_message(config, metrics, model_digest, reference_digest, str(runtime.device))
    report = {**message, "hyperparameters": asdict(hp), "plan": asdict(result.plan), "history": result.history,
              "validation_rows": len(validation)}
    output.write(METRICS_FILE, _json_bytes(report))
    output.write(PREDICTIONS_CHECK_FILE, _json_bytes(predictions_check(inference_model, validation.features)))
    log.info("published", output_uri=config.output_uri, model_digest=model_digest, reference_digest=reference_digest)
    return message


def predictions_check(model: ProbabilityModel, features: np.ndarray) -> dict:
    rows = features[:PREDICTIONS_CHECK_ROWS]
    with torch.no_grad():
        probabilities = model(torch.as_tensor(rows)).numpy()
    return {"input": INPUT_NAME, "output": OUTPUT_NAME, "features": rows.tolist(), "probabilities": probabilities.tolist()}


def job_message(config: JobConfig, metrics: dict, model_digest: str, reference_digest: str, device: str) -> dict:
    return success_message(
        metrics=metrics,
        artifact={"uri": artifact_uri(config.output_uri, MODEL_FILE), "digest": model_digest},
        reference={"uri": artifact_uri(config.output_uri, REFERENCE_FILE), "digest": reference_digest},
        dataset={"uri": config.dataset_uri, "version": config.dataset_version},
        seed=config.hyperparameters.seed,
        device=device,
        framework=framework(),
    )


def check_message_fits(config: JobConfig) -> None:
    """Encodes a success message with the longest values the run could produce; raises if it would not fit."""
    longest_float = -1.2345678901234567e-300
    metrics = dict.fromkeys(("val_auc", "val_accuracy", "val_loss", "train_loss", "samples_per_second"), longest_float)
    digest = sha256_digest(b"")
    encode(job_message(config, {**metrics, "epochs": config.hyperparameters.epochs}, digest, digest, f"cuda:{config.processes.local_rank}"))


def _json_bytes(document: dict) -> bytes:
    return (json.dumps(document, indent=2, allow_nan=False) + "\n").encode()
