"""MODELOPS_DATASET_URI → Dataset.

Accepted forms:
  synthetic://fraud?rows=N&seed=S[&fraud_rate=R&shift=X]   the generator in data.py
  /path/to/file.csv or file:///path/to/file.csv           CSV with a header row naming every feature and `label`
"""
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import numpy as np

from .data import FEATURE_NAMES, LABEL_COLUMN, Dataset, SyntheticSpec, generate
from .errors import JobInputError

_SYNTHETIC_PARAMETERS = {"rows": int, "seed": int, "fraud_rate": float, "shift": float}


def load_dataset(uri: str) -> Dataset:
    parts = urlsplit(uri)
    if parts.scheme == "synthetic":
        return generate(parse_synthetic_uri(uri))
    if parts.scheme == "file" and parts.netloc not in ("", "localhost"):
        raise JobInputError(f"dataset URI {uri} names the host '{parts.netloc}'; a file URI needs an absolute path: file:///path")
    if parts.scheme in ("", "file"):
        return read_csv(Path(unquote(parts.path)))
    raise JobInputError(f"dataset URI scheme '{parts.scheme}' is not supported; use synthetic://fraud?rows=N&seed=S, a path or file://")


def parse_synthetic_uri(uri: str) -> SyntheticSpec:
    parts = urlsplit(uri)
    if parts.netloc != "fraud":
        raise JobInputError(f"unknown synthetic data set '{parts.netloc}' in {uri}; the only one is synthetic://fraud")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - set(_SYNTHETIC_PARAMETERS))
    if unknown:
        raise JobInputError(f"dataset URI {uri} has unknown parameter(s) {', '.join(unknown)}; known: {', '.join(_SYNTHETIC_PARAMETERS)}")
    missing = sorted({"rows", "seed"} - set(query))
    if missing:
        raise JobInputError(f"dataset URI {uri} lacks the required parameter(s) {', '.join(missing)}")
    try:
        values = {name: _SYNTHETIC_PARAMETERS[name](query[name][-1]) for name in query}
        return SyntheticSpec(**values)
    except ValueError as error:
        raise JobInputError(f"dataset URI {uri} is invalid: {error}") from None


def read_csv(path: Path) -> Dataset:
    try:
        with path.open() as file:
            header = [name.strip() for name in file.readline().strip().split(",")]
            table = np.loadtxt(file, delimiter=",", dtype=np.float64, ndmin=2)
    except (OSError, ValueError) as error:
        raise JobInputError(f"cannot read dataset CSV {path}: {error}") from None
    missing = [name for name in FEATURE_NAMES + (LABEL_COLUMN,) if name not in header]
    if missing:
        raise JobInputError(f"dataset CSV {path} lacks column(s) {', '.join(missing)}")
    if len(table) < 2:
        raise JobInputError(f"dataset CSV {path} has {len(table)} data row(s); at least 2 are needed")
    labels = table[:, header.index(LABEL_COLUMN)]
    if not np.isin(labels, (0, 1)).all():
        raise JobInputError(f"dataset CSV {path}: column '{LABEL_COLUMN}' must hold only 0 and 1")
    features = table[:, [header.index(name) for name in FEATURE_NAMES]]
    if not np.isfinite(features).all():
        raise JobInputError(f"dataset CSV {path} holds empty, NaN or infinite feature values")
    return Dataset(features=features.astype(np.float32), labels=labels.astype(np.int64))
