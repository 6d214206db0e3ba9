import unittest

import context  # noqa: F401
from modelops_train.hyperparameters import HyperparameterError, Hyperparameters, parse_hyperparameters


class HyperparametersTest(unittest.TestCase):
    def test_empty_means_defaults(self):
        for text in (None, "", "  ", "{}"):
            self.assertEqual(parse_hyperparameters(text), Hyperparameters())

    def test_numbers_may_arrive_as_strings(self):
        parsed = parse_hyperparameters('{"epochs": "4", "batch_size": 2048.0, "lr": "0.01", "compile": "true", "amp": "bf16"}')
        self.assertEqual((parsed.epochs, parsed.batch_size, parsed.lr, parsed.compile, parsed.amp), (4, 2048, 0.01, True, "bf16"))

    def test_invalid_values_are_named_in_one_sentence(self):
        cases = {
            '{"epochs": 0}': "hyperparameter 'epochs' must be an integer >= 1, got 0",
            '{"epochs": "three"}': "hyperparameter 'epochs' must be an integer >= 1, got \"three\"",
            '{"batch_size": 1.5}': "hyperparameter 'batch_size' must be an integer >= 1, got 1.5",
            '{"hidden": true}': "hyperparameter 'hidden' must be an integer >= 1, got true",
            '{"seed": 4294967296}': "hyperparameter 'seed' must be an integer >= 0 and <= 4294967295, got 4294967296",
            '{"lr": -0.1}': "hyperparameter 'lr' must be a number > 0.0, got -0.1",
            '{"lr": "NaN"}': "hyperparameter 'lr' must be a number > 0.0, got \"NaN\"",
            '{"val_fraction": 1}': "hyperparameter 'val_fraction' must be a number > 0.0 and < 1.0, got 1",
            '{"amp": "fp8"}': "hyperparameter 'amp' must be one of off, bf16, got \"fp8\"",
            '{"compile": "maybe"}': "hyperparameter 'compile' must be true or false, got \"maybe\"",
        }
        for text, message in cases.items():
            with self.subTest(text=text), self.assertRaises(HyperparameterError) as raised:
                parse_hyperparameters(text)
            self.assertEqual(str(raised.exception), message)

    def test_unknown_keys_are_rejected(self):
        with self.assertRaisesRegex(HyperparameterError, r"unknown hyperparameter\(s\) epoch; known: epochs, "):
            parse_hyperparameters('{"epoch": 3}')

    def test_the_document_must_be_a_json_object(self):
        with self.assertRaisesRegex(HyperparameterError, "must be a JSON object, got list"):
            parse_hyperparameters("[1]")
        with self.assertRaisesRegex(HyperparameterError, "is not valid JSON"):
            parse_hyperparameters("{epochs: 3}")


if __name__ == "__main__":
    unittest.main()
