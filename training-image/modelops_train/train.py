"""The fraud MLP and its training loop.

GPU path: the whole training split is copied to the device once and mini-batches are gathered by index
from a permutation drawn on the device, so no step waits on host I/O. Loss totals stay on the device and
are read once per epoch, so no step synchronises with the host either. The learning rate is given for a
global batch of 256 and scaled to the real global batch, after a linear warmup (large batches train
unstably without one). AdamW uses its fused CUDA kernel where the torch version has it.
"""
import inspect
import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from .data import Dataset
from .errors import JobInputError
from .hyperparameters import Hyperparameters
from .log import JsonLogger
from .metrics import accuracy, roc_auc

REFERENCE_BATCH_SIZE = 256
CLASS_COUNT = 2
EVALUATION_BATCH_SIZE = 65536


@dataclass(frozen=True)
class Runtime:
    device: torch.device
    rank: int = 0
    world_size: int = 1

    @property
    def is_chief(self) -> bool:
        return self.rank == 0


@dataclass(frozen=True)
class Split:
    train: Dataset
    validation: Dataset


@dataclass(frozen=True)
class TrainingPlan:
    shard_rows: int  # training rows each process sees per epoch
    batch_size: int  # per process
    steps_per_epoch: int
    warmup_steps: int
    total_steps: int
    learning_rate: float  # peak, after scaling to the global batch
    world_size: int

    @property
    def global_batch_size(self) -> int:
        return self.batch_size * self.world_size


@dataclass
class TrainingResult:
    model: "FraudMLP"
    train_loss: float
    samples_per_second: float
    plan: TrainingPlan
    history: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Evaluation:
    probabilities: np.ndarray  # float32 [rows, CLASS_COUNT]
    loss: float
    accuracy: float
    auc: float


class FraudMLP(nn.Module):
    """30 → hidden → hidden → 2 logits, with the training split's standardisation as buffers.

    Keeping the standardisation inside the module puts it in the exported ONNX graph, so serving feeds raw features.
    """

    def __init__(self, feature_mean: np.ndarray, feature_std: np.ndarray, hidden: int, positive_rate: float = 0.5):
        super().__init__()
        self.register_buffer("feature_mean", torch.as_tensor(feature_mean, dtype=torch.float32))
        # A constant column would divide by zero; scaling it by 1 leaves it at 0 after centring.
        self.register_buffer("feature_std", torch.as_tensor(np.where(feature_std > 0, feature_std, 1.0), dtype=torch.float32))
        features = len(feature_mean)
        self.layers = nn.Sequential(
            nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, CLASS_COUNT)
        )
        # Start at the class prior instead of 50/50: with ~3 % fraud a net started at 50/50 spends its first
        # few hundred steps learning the base rate and can stall there, predicting no fraud at all.
        with torch.no_grad():
            self.layers[-1].bias.copy_(torch.tensor([0.0, math.log(positive_rate / (1.0 - positive_rate))]))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.layers((features - self.feature_mean) / self.feature_std)


def select_device(preference: str, local_rank: int) -> torch.device:
    cuda = torch.cuda.is_available()
    if preference == "cuda" and not cuda:
        raise JobInputError("hyperparameter device=cuda but no CUDA device is visible to this container")
    if preference == "cpu" or not cuda:
        return torch.device("cpu")
    return torch.device("cuda", local_rank)


def prepare_device(device: torch.device) -> None:
    """Makes a CUDA device current and lets float32 matmuls use TF32 tensor cores (an MLP trains just as well)."""
    if device.type == "cuda":
        torch.cuda.set_device(device)
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def stratified_split(dataset: Dataset, val_fraction: float, seed: int) -> Split:
    """Each class is shuffled and split on its own, so the rare fraud class appears in both parts."""
    rng = np.random.default_rng(seed)
    train_rows, validation_rows = [], []
    for label in (0, 1):
        rows = rng.permutation(np.flatnonzero(dataset.labels == label))
        cut = round(len(rows) * val_fraction)
        validation_rows.append(rows[:cut])
        train_rows.append(rows[cut:])
    train, validation = np.sort(np.concatenate(train_rows)), np.sort(np.concatenate(validation_rows))
    for name, rows in (("training", train), ("validation", validation)):
        if np.unique(dataset.labels[rows]).size < CLASS_COUNT:
            raise JobInputError(f"the {name} split has no rows of one class; use more rows or a different val_fraction")
    return Split(
        train=Dataset(dataset.features[train], dataset.labels[train]),
        validation=Dataset(dataset.features[validation], dataset.labels[validation]),
    )


def scaled_learning_rate(base_lr: float, global_batch_size: int, scaling: str) -> float:
    ratio = global_batch_size / REFERENCE_BATCH_SIZE
    return base_lr * {"sqrt": math.sqrt(ratio), "linear": ratio, "none": 1.0}[scaling]


def warmup_cosine(step: int, warmup_steps: int, total_steps: int) -> float:
    """Learning-rate multiplier: linear ramp to 1 over the warmup, then cosine decay towards 0."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def make_optimizer(model: nn.Module, lr: float, weight_decay: float, device: torch.device) -> torch.optim.Optimizer:
    fused_available = "fused" in inspect.signature(torch.optim.AdamW).parameters  # torch >= 2.0
    options = {"fused": True} if device.type == "cuda" and fused_available else {}
    return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay, **options)


def prepare_for_training(model: FraudMLP, hp: Hyperparameters, runtime: Runtime) -> nn.Module:
    """Wraps the model for data parallelism and compilation; the plain module stays the one to export."""
    wrapped: nn.Module = model
    if runtime.world_size > 1:
        device_ids = [runtime.device.index] if runtime.device.type == "cuda" else None
        # The buffers (the standardisation) never change, so broadcasting them before every step is wasted traffic.
        wrapped = nn.parallel.DistributedDataParallel(model, device_ids=device_ids, broadcast_buffers=False)
    if hp.compile:
        if not hasattr(torch, "compile"):
            raise JobInputError(f"hyperparameter compile=true needs torch >= 2.0; this image has torch {torch.__version__}")
        wrapped = torch.compile(wrapped)
    return wrapped


def plan_training(train_rows: int, hp: Hyperparameters, world_size: int) -> TrainingPlan:
    # Every process takes an equal shard, so all run the same number of steps: DDP's all-reduces need that.
    shard_rows = train_rows // world_size
    if shard_rows == 0:
        raise JobInputError(f"the training split has {train_rows} rows, fewer than WORLD_SIZE={world_size}")
    batch_size = min(hp.batch_size, shard_rows)
    steps_per_epoch = math.ceil(shard_rows / batch_size)
    total_steps = steps_per_epoch * hp.epochs
    return TrainingPlan(
        shard_rows=shard_rows,
        batch_size=batch_size,
        steps_per_epoch=steps_per_epoch,
        warmup_steps=max(1, round(hp.warmup_fraction * total_steps)),
        total_steps=total_steps,
        learning_rate=scaled_learning_rate(hp.lr, batch_size * world_size, hp.lr_scaling),
        world_size=world_size,
    )


def fit(split: Split, hp: Hyperparameters, runtime: Runtime, log: JsonLogger) -> TrainingResult:
    torch.manual_seed(hp.seed)
    device = runtime.device
    features = torch.as_tensor(split.train.features, device=device)  # the whole split moves to the device once
    labels = torch.as_tensor(split.train.labels, device=device)
    train_features64 = split.train.features.astype(np.float64)
    positive_rate = float(split.train.labels.mean())
    model = FraudMLP(train_features64.mean(axis=0), train_features64.std(axis=0), hp.hidden, positive_rate).to(device)
    trainable = prepare_for_training(model, hp, runtime)
    plan = plan_training(len(labels), hp, runtime.world_size)
    optimizer = make_optimizer(model, plan.learning_rate, hp.weight_decay, device)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: warmup_cosine(step, plan.warmup_steps, plan.total_steps))
    # Same seed in every process: the same permutation everywhere, of which each process takes its own stride.
    sampler = torch.Generator(device=device)
    sampler.manual_seed(hp.seed)
    log.info("training_started", device=str(device), train_rows=len(labels), **asdict(plan), global_batch_size=plan.global_batch_size,
             fused_optimizer=bool(optimizer.defaults.get("fused")), amp=hp.amp, compile=hp.compile, seed=hp.seed)

    history = []
    trainable.train()
    started = time.perf_counter()
    for epoch in range(1, hp.epochs + 1):
        epoch_started = time.perf_counter()
        shard = torch.randperm(len(labels), generator=sampler, device=device)[runtime.rank :: runtime.world_size][: plan.shard_rows]
        loss_total = _train_epoch(trainable, optimizer, scheduler, features, labels, shard, plan, hp.amp)
        epoch_loss = _mean_over_processes(loss_total, plan.shard_rows, runtime)  # the one host sync per epoch
        seconds = time.perf_counter() - epoch_started
        samples = plan.shard_rows * runtime.world_size
        history.append({"epoch": epoch, "train_loss": epoch_loss, "seconds": round(seconds, 4), "samples_per_second": samples / seconds})
        log.info("epoch_finished", **history[-1])
    elapsed = time.perf_counter() - started
    return TrainingResult(
        model=model,
        train_loss=history[-1]["train_loss"],
        samples_per_second=plan.shard_rows * runtime.world_size * hp.epochs / elapsed,
        plan=plan,
        history=history,
    )


def _train_epoch(trainable, optimizer, scheduler, features, labels, shard, plan: TrainingPlan, amp: str) -> torch.Tensor:
    """One pass over this process's shard; returns the summed loss as a device tensor (read later, once)."""
    loss_total = torch.zeros((), device=features.device)
    for step in range(plan.steps_per_epoch):
        rows = shard[step * plan.batch_size : (step + 1) * plan.batch_size]
        with torch.autocast(features.device.type, dtype=torch.bfloat16, enabled=amp == "bf16"):
            loss = nn.functional.cross_entropy(trainable(features[rows]), labels[rows])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        loss_total += loss.detach().float() * len(rows)
    return loss_total


def _mean_over_processes(loss_total: torch.Tensor, rows: int, runtime: Runtime) -> float:
    totals = torch.stack([loss_total, torch.tensor(float(rows), device=loss_total.device)])
    if runtime.world_size > 1:
        dist.all_reduce(totals)
    loss_sum, row_count = totals.tolist()
    return loss_sum / row_count


@torch.no_grad()
def evaluate(model: nn.Module, dataset: Dataset, device: torch.device) -> Evaluation:
    """Float32 inference on the whole split (no autocast: the exported model runs in float32 too)."""
    model.eval()
    features = torch.as_tensor(dataset.features, device=device)
    logits = torch.cat([model(chunk) for chunk in features.split(EVALUATION_BATCH_SIZE)])
    loss = nn.functional.cross_entropy(logits, torch.as_tensor(dataset.labels, device=device)).item()
    probabilities = torch.softmax(logits, dim=1).cpu().numpy()
    return Evaluation(
        probabilities=probabilities,
        loss=loss,
        accuracy=accuracy(dataset.labels, probabilities),
        auc=roc_auc(dataset.labels, probabilities[:, 1]),
    )
