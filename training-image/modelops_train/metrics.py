"""Classification metrics in numpy (no scikit-learn in the image)."""
import numpy as np


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve via the Mann-Whitney rank statistic; tied scores share their average rank."""
    positive = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, dtype=np.float64)
    positives = int(positive.sum())
    negatives = positive.size - positives
    if positives == 0 or negatives == 0:
        raise ValueError("ROC AUC needs at least one row of each class")
    order = np.argsort(scores, kind="mergesort")
    _, first_positions, tie_sizes = np.unique(scores[order], return_index=True, return_counts=True)
    average_ranks = first_positions + (tie_sizes + 1) / 2.0  # 1-based
    ranks = np.empty(scores.size)
    ranks[order] = np.repeat(average_ranks, tie_sizes)
    return float((ranks[positive].sum() - positives * (positives + 1) / 2.0) / (positives * negatives))


def accuracy(labels: np.ndarray, probabilities: np.ndarray) -> float:
    return float((probabilities.argmax(axis=1) == labels).mean())
