import json
import unittest

import jsonschema
import numpy as np

from context import IMAGE_DIR
from modelops_train.data import CLASS_NAMES, FEATURE_NAMES, SyntheticSpec, generate
from modelops_train.reference import SCORE_BUCKET_BOUNDS, build_reference, histogram


class HistogramTest(unittest.TestCase):
    def test_bins_are_left_open_right_closed_with_open_ended_outer_bins(self):
        # bounds 1 and 2: bin 0 is v <= 1, bin 1 is 1 < v <= 2, bin 2 is v > 2
        result = histogram(np.array([0.0, 1.0, 1.5, 2.0, 2.0001, 5.0]), [1.0, 2.0])
        self.assertEqual(result, {"binEdges": [0.0, 1.0, 2.0, 5.0], "counts": [2, 2, 2]})

    def test_counts_match_a_direct_count_for_every_bin(self):
        values = np.random.default_rng(0).normal(size=1000)
        result = histogram(values, [-1.0, 0.0, 0.5])
        edges = result["binEdges"]
        expected = [int(((values > low) & (values <= high)).sum()) for low, high in zip(edges[:-1], edges[1:])]
        expected[0] += int((values == edges[0]).sum())  # the minimum itself belongs to bin 0
        self.assertEqual(result["counts"], expected)
        self.assertEqual(sum(result["counts"]), 1000)

    def test_bounds_outside_the_observed_range_are_dropped(self):
        result = histogram(np.array([0.2, 0.4]), [0.1, 0.3, 0.4, 0.9])
        self.assertEqual(result, {"binEdges": [0.2, 0.3, 0.4], "counts": [1, 1]})

    def test_a_bound_at_the_minimum_isolates_a_point_mass(self):
        result = histogram(np.array([0.0, 0.0, 0.0, 1.0]), [0.0, 0.0, 1.0])
        self.assertEqual(result, {"binEdges": [0.0, 0.0, 1.0], "counts": [3, 1]})

    def test_a_constant_feature_has_one_bin(self):
        self.assertEqual(histogram(np.full(5, 3.0), [3.0]), {"binEdges": [3.0, 3.0], "counts": [5]})


class ReferenceDocumentTest(unittest.TestCase):
    def setUp(self):
        dataset = generate(SyntheticSpec(rows=2000, seed=4))
        fraud_score = np.random.default_rng(1).uniform(size=len(dataset))
        self.probabilities = np.column_stack([1.0 - fraud_score, fraud_score])
        self.features = dataset.features
        self.reference = build_reference(self.features, FEATURE_NAMES, self.probabilities, CLASS_NAMES, "features", "probabilities", bins=10)

    def test_validates_against_the_schema(self):
        schema = json.loads((IMAGE_DIR / "reference.schema.json").read_text())
        jsonschema.Draft202012Validator(schema).validate(json.loads(json.dumps(self.reference)))

    def test_feature_summaries_are_deciles_in_column_order(self):
        self.assertEqual([feature["name"] for feature in self.reference["features"]], list(FEATURE_NAMES))
        v1 = self.reference["features"][0]
        self.assertEqual(v1["counts"], [200] * 10)
        column = self.features[:, 0].astype(np.float64)
        self.assertEqual((v1["binEdges"][0], v1["binEdges"][-1]), (column.min(), column.max()))
        self.assertAlmostEqual(v1["mean"], column.mean())
        self.assertAlmostEqual(v1["std"], column.std())

    def test_prediction_summary(self):
        prediction = self.reference["prediction"]
        self.assertEqual(prediction["classCounts"], np.bincount(self.probabilities.argmax(axis=1)).tolist())
        self.assertEqual(sum(prediction["score"]["counts"]), 2000)
        self.assertEqual(prediction["score"]["binEdges"][1:-1], [b for b in SCORE_BUCKET_BOUNDS if b >= self.probabilities[:, 1].min()])


if __name__ == "__main__":
    unittest.main()
