"""reference.json: what the model saw (validation features) and said (its predictions), for drift detection.

Format: training-image/reference.schema.json. A histogram has k+1 edges and k counts; bin i holds
edges[i] < v <= edges[i+1], bin 0 also everything below and bin k-1 everything above, so the interior edges
are Prometheus `le` bucket bounds and the outer edges are the observed minimum and maximum.
"""
from typing import Sequence

import numpy as np

API_VERSION = "modelops.dev/v1alpha1"
KIND = "ReferenceDistribution"
# The positive-class score is mostly near 0 (about 3 % fraud), so the fixed bounds are dense at the low end.
SCORE_BUCKET_BOUNDS = (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)


def histogram(values: np.ndarray, candidate_bounds: Sequence[float]) -> dict:
    """Counts of `values` in the bins defined by the candidate bounds that fall in [min, max).

    A bound equal to the minimum is kept (it isolates a point mass such as the zeros of a binary feature);
    one at or above the maximum would only make an always-empty last bin.
    """
    values = np.asarray(values, dtype=np.float64)
    low, high = float(values.min()), float(values.max())
    interior = np.unique(np.asarray(candidate_bounds, dtype=np.float64))
    interior = interior[(interior >= low) & (interior < high)]
    bins = np.searchsorted(interior, values, side="left")  # interior[i-1] < v <= interior[i]  →  bin i
    counts = np.bincount(bins, minlength=interior.size + 1)
    return {"binEdges": [low, *interior.tolist(), high], "counts": counts.tolist()}


def quantile_bounds(values: np.ndarray, bins: int) -> np.ndarray:
    """Interior bounds at the 1/bins .. (bins-1)/bins quantiles: about equal counts per bin in the reference."""
    return np.quantile(np.asarray(values, dtype=np.float64), np.linspace(0.0, 1.0, bins + 1)[1:-1])


def feature_summary(name: str, values: np.ndarray, bins: int) -> dict:
    values = np.asarray(values, dtype=np.float64)
    return {"name": name, **histogram(values, quantile_bounds(values, bins)), "mean": float(values.mean()), "std": float(values.std())}


def build_reference(
    features: np.ndarray,
    feature_names: Sequence[str],
    probabilities: np.ndarray,
    class_names: Sequence[str],
    input_name: str,
    output_name: str,
    bins: int,
) -> dict:
    predicted = probabilities.argmax(axis=1)
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "sampleCount": int(features.shape[0]),
        "input": {"name": input_name, "datatype": "FP32"},
        "features": [feature_summary(name, features[:, column], bins) for column, name in enumerate(feature_names)],
        "prediction": {
            "output": output_name,
            "classes": list(class_names),
            "classCounts": np.bincount(predicted, minlength=len(class_names)).tolist(),
            "score": histogram(probabilities[:, -1], SCORE_BUCKET_BOUNDS),
        },
    }
