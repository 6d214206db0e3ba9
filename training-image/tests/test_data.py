import tempfile
import unittest
from pathlib import Path

import numpy as np

import context  # noqa: F401
from modelops_train.data import FEATURE_NAMES, SyntheticSpec, generate, write_csv
from modelops_train.dataset_io import load_dataset, parse_synthetic_uri
from modelops_train.errors import JobInputError


class GeneratorTest(unittest.TestCase):
    def test_same_spec_gives_identical_data(self):
        first, second = generate(SyntheticSpec(rows=500, seed=3)), generate(SyntheticSpec(rows=500, seed=3))
        np.testing.assert_array_equal(first.features, second.features)
        np.testing.assert_array_equal(first.labels, second.labels)

    def test_another_seed_gives_other_data(self):
        self.assertFalse(np.array_equal(generate(SyntheticSpec(500, 3)).features, generate(SyntheticSpec(500, 4)).features))

    def test_shape_dtype_and_fraud_rate(self):
        dataset = generate(SyntheticSpec(rows=10_000, seed=1, fraud_rate=0.04))
        self.assertEqual(dataset.features.shape, (10_000, len(FEATURE_NAMES)))
        self.assertEqual(dataset.features.dtype, np.float32)
        self.assertEqual(int(dataset.labels.sum()), 400)
        hours = dataset.features[:, FEATURE_NAMES.index("hour")]
        self.assertTrue(((hours >= 0) & (hours < 24)).all())
        self.assertTrue((dataset.features[:, FEATURE_NAMES.index("amount")] > 0).all())

    def test_shift_moves_the_features_but_not_the_labels(self):
        base, drifted = generate(SyntheticSpec(5000, 2)), generate(SyntheticSpec(5000, 2, shift=1.0))
        np.testing.assert_array_equal(base.labels, drifted.labels)
        v1 = FEATURE_NAMES.index("v1")
        self.assertAlmostEqual(float(drifted.features[:, v1].mean() - base.features[:, v1].mean()), 2.0, places=4)

    def test_small_data_sets_keep_both_classes(self):
        self.assertEqual(sorted(set(generate(SyntheticSpec(rows=2, seed=0)).labels.tolist())), [0, 1])


class DatasetUriTest(unittest.TestCase):
    def test_synthetic_uri(self):
        self.assertEqual(parse_synthetic_uri("synthetic://fraud?rows=10&seed=2&fraud_rate=0.1&shift=-0.5"), SyntheticSpec(10, 2, 0.1, -0.5))

    def test_synthetic_uri_errors_name_the_problem(self):
        for uri, fragment in [
            ("synthetic://fraud?rows=10", "lacks the required parameter\\(s\\) seed"),
            ("synthetic://fraud?rows=10&seed=1&colour=red", "unknown parameter\\(s\\) colour;"),
            ("synthetic://fraud?rows=ten&seed=1", "invalid"),
            ("synthetic://fraud?rows=10&seed=1&fraud_rate=1.5", "fraud_rate must be between 0 and 1"),
            ("synthetic://cats?rows=10&seed=1", "unknown synthetic data set 'cats'"),
        ]:
            with self.subTest(uri=uri), self.assertRaisesRegex(JobInputError, fragment):
                load_dataset(uri)

    def test_unsupported_scheme_and_relative_file_uri(self):
        with self.assertRaisesRegex(JobInputError, "scheme 'gs' is not supported"):
            load_dataset("gs://bucket/data.csv")
        with self.assertRaisesRegex(JobInputError, "names the host 'data'; a file URI needs an absolute path"):
            load_dataset("file://data/fraud.csv")

    def test_csv_round_trip_is_exact_via_path_and_file_uri(self):
        dataset = generate(SyntheticSpec(rows=300, seed=9))
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "fraud.csv"
            write_csv(dataset, path)
            for uri in (str(path), path.as_uri()):
                loaded = load_dataset(uri)
                np.testing.assert_array_equal(loaded.features, dataset.features)
                np.testing.assert_array_equal(loaded.labels, dataset.labels)

    def test_csv_columns_are_found_by_header_name(self):
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "reordered.csv"
            header = "label," + ",".join(reversed(FEATURE_NAMES))
            path.write_text(f"{header}\n1,{','.join(map(str, range(30)))}\n0,{','.join(['0'] * 30)}\n")
            loaded = load_dataset(str(path))
            self.assertEqual(loaded.labels.tolist(), [1, 0])
            self.assertEqual(loaded.features[0, FEATURE_NAMES.index("hour")], 0.0)
            self.assertEqual(loaded.features[0, FEATURE_NAMES.index("v1")], 29.0)

    def test_csv_errors(self):
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "bad.csv"
            path.write_text("v1,label\n0.5,1\n0.1,0\n")
            with self.assertRaisesRegex(JobInputError, "lacks column"):
                load_dataset(str(path))
            with self.assertRaisesRegex(JobInputError, "cannot read dataset CSV"):
                load_dataset(str(Path(directory) / "missing.csv"))


if __name__ == "__main__":
    unittest.main()
