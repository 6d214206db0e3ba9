import itertools
import unittest

import numpy as np

import context  # noqa: F401
from modelops_train.metrics import accuracy, roc_auc


def pairwise_auc(labels, scores):
    """The definition: P(score of a random positive > score of a random negative), ties counting half."""
    positives = [s for s, y in zip(scores, labels) if y == 1]
    negatives = [s for s, y in zip(scores, labels) if y == 0]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(positives, negatives))
    return wins / (len(positives) * len(negatives))


class MetricsTest(unittest.TestCase):
    def test_auc_matches_the_pairwise_definition_with_ties(self):
        rng = np.random.default_rng(0)
        labels = rng.integers(0, 2, size=200)
        scores = np.round(rng.uniform(size=200) + 0.3 * labels, 1)  # rounding makes many ties
        self.assertAlmostEqual(roc_auc(labels, scores), pairwise_auc(labels, scores), places=12)

    def test_auc_extremes(self):
        self.assertEqual(roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.8, 0.9])), 1.0)
        self.assertEqual(roc_auc(np.array([1, 1, 0, 0]), np.array([0.1, 0.2, 0.8, 0.9])), 0.0)
        self.assertEqual(roc_auc(np.array([0, 1]), np.array([0.5, 0.5])), 0.5)

    def test_auc_needs_both_classes(self):
        with self.assertRaises(ValueError):
            roc_auc(np.array([1, 1]), np.array([0.1, 0.2]))

    def test_accuracy_uses_the_argmax_class(self):
        probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
        self.assertAlmostEqual(accuracy(np.array([0, 1, 1]), probabilities), 2 / 3)


if __name__ == "__main__":
    unittest.main()
