"""A deterministic synthetic credit-card fraud data set, shaped like the public Kaggle one.

Columns: v1..v28 (PCA-like components, variance falling with the index), amount (log-normal, in
currency units) and hour (time of day in [0, 24)). About 3 % of rows are fraud. Fraud rows differ in a
handful of components (the same ones that carry the signal in the public data), in a wider spread on
all components, in larger amounts and in night-time hours; the classes overlap, so a good model reaches
an AUC around 0.98, not 1.0.

`shift` models covariate drift for tests and demos: every component moves by `shift` of its standard
deviation and amounts scale by exp(shift). The labels' relation to the features is unchanged.

Also a CLI that writes the data as CSV (header row; the same columns plus `label`):
    python -m modelops_train.data --rows 100000 --seed 1 --out fraud.csv
"""
import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

COMPONENT_COUNT = 28
FEATURE_NAMES: tuple[str, ...] = tuple(f"v{i}" for i in range(1, COMPONENT_COUNT + 1)) + ("amount", "hour")
LABEL_COLUMN = "label"
CLASS_NAMES = ("legit", "fraud")

# Mean offset of fraud rows, in standard deviations of the component.
_FRAUD_COMPONENT_OFFSETS = {"v3": -0.8, "v4": 1.0, "v10": -0.9, "v11": 0.8, "v12": -1.0, "v14": -1.3, "v17": -0.9}
_FRAUD_SPREAD = 1.1  # fraud rows scatter wider on every component: a signal a linear model cannot use
_COMPONENT_SCALES = np.linspace(2.0, 0.3, COMPONENT_COUNT)  # PCA output: variance falls with the index


@dataclass(frozen=True)
class Dataset:
    features: np.ndarray  # float32 [rows, len(FEATURE_NAMES)], raw (not standardised)
    labels: np.ndarray  # int64 [rows], 1 = fraud

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class SyntheticSpec:
    rows: int
    seed: int
    fraud_rate: float = 0.03
    shift: float = 0.0

    def __post_init__(self):
        if self.rows < 2:
            raise ValueError(f"rows must be >= 2, got {self.rows}")
        if not 0.0 < self.fraud_rate < 1.0:
            raise ValueError(f"fraud_rate must be between 0 and 1 (exclusive), got {self.fraud_rate}")


def generate(spec: SyntheticSpec) -> Dataset:
    """Same spec, same bytes: every draw comes from one numpy Generator seeded with spec.seed, in a fixed order."""
    rng = np.random.default_rng(spec.seed)
    labels = _labels(rng, spec.rows, spec.fraud_rate)
    is_fraud = labels == 1
    components = _components(rng, is_fraud, spec.shift)
    amount = _amounts(rng, is_fraud, spec.shift)
    hour = _hours(rng, is_fraud)
    features = np.column_stack([components, amount, hour]).astype(np.float32)
    return Dataset(features=features, labels=labels)


def _labels(rng: np.random.Generator, rows: int, fraud_rate: float) -> np.ndarray:
    # An exact fraud count (at least one of each class) keeps small data sets usable for a validation AUC.
    fraud_rows = min(rows - 1, max(1, round(rows * fraud_rate)))
    labels = np.zeros(rows, dtype=np.int64)
    labels[:fraud_rows] = 1
    return rng.permutation(labels)


def _components(rng: np.random.Generator, is_fraud: np.ndarray, shift: float) -> np.ndarray:
    noise = rng.standard_normal((len(is_fraud), COMPONENT_COUNT))
    noise[is_fraud] *= _FRAUD_SPREAD
    offsets = np.zeros(COMPONENT_COUNT)
    for name, offset in _FRAUD_COMPONENT_OFFSETS.items():
        offsets[FEATURE_NAMES.index(name)] = offset
    standardised = noise + np.outer(is_fraud, offsets) + shift
    return standardised * _COMPONENT_SCALES


def _amounts(rng: np.random.Generator, is_fraud: np.ndarray, shift: float) -> np.ndarray:
    log_mean = np.where(is_fraud, 4.2, 3.4)
    log_sigma = np.where(is_fraud, 1.5, 1.1)
    amounts = np.exp(rng.normal(log_mean, log_sigma) + shift)
    return np.round(amounts, 2)


def _hours(rng: np.random.Generator, is_fraud: np.ndarray) -> np.ndarray:
    peak = np.where(is_fraud, 2.0, 14.0)  # fraud clusters at night, legit spending in the afternoon
    spread = np.where(is_fraud, 5.0, 4.0)
    return np.mod(rng.normal(peak, spread), 24.0)


def write_csv(dataset: Dataset, path: Path) -> None:
    table = np.column_stack([dataset.features.astype(np.float64), dataset.labels])
    # 9 significant digits round-trip a float32 exactly.
    formats = ["%.9g"] * len(FEATURE_NAMES) + ["%d"]
    np.savetxt(path, table, delimiter=",", header=",".join(FEATURE_NAMES + (LABEL_COLUMN,)), comments="", fmt=formats)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m modelops_train.data", description="Write the synthetic fraud data set as CSV.")
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--fraud-rate", type=float, default=SyntheticSpec.fraud_rate)
    parser.add_argument("--shift", type=float, default=SyntheticSpec.shift)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        spec = SyntheticSpec(rows=args.rows, seed=args.seed, fraud_rate=args.fraud_rate, shift=args.shift)
    except ValueError as error:
        parser.error(str(error))
    write_csv(generate(spec), args.out)


if __name__ == "__main__":
    main()
