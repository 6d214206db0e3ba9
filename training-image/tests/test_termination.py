import io
import json
import tempfile
import unittest
from contextlib import redirect_stderr
from pathlib import Path

import context  # noqa: F401
from modelops_train.__main__ import EXIT_INPUT_ERROR, main
from modelops_train.errors import JobInputError
from modelops_train.termination import MESSAGE_LIMIT_BYTES, MessageTooLargeError, encode, error_message, success_message

DIGEST = "sha256:" + "ab" * 32


def message_for(dataset_uri: str = "synthetic://fraud?rows=100&seed=1") -> dict:
    return success_message(
        metrics={"val_auc": 0.93, "val_accuracy": 0.97, "val_loss": 0.08, "train_loss": 0.07, "samples_per_second": 1e5, "epochs": 3},
        artifact={"uri": "/out/model.onnx", "digest": DIGEST},
        reference={"uri": "/out/reference.json", "digest": DIGEST},
        dataset={"uri": dataset_uri, "version": "v1"},
        seed=7,
        device="cpu",
        framework="torch-1.13.1",
    )


class TerminationMessageTest(unittest.TestCase):
    def test_success_message_is_one_compact_line_in_the_contract_shape(self):
        line = encode(message_for())
        self.assertNotIn("\n", line)
        self.assertNotIn(", ", line)
        self.assertLess(len(line.encode()), MESSAGE_LIMIT_BYTES)
        message = json.loads(line)
        self.assertEqual(list(message), ["metrics", "artifact", "reference", "dataset", "seed", "device", "framework"])
        self.assertEqual(list(message["metrics"]), ["val_auc", "val_accuracy", "val_loss", "train_loss", "samples_per_second", "epochs"])
        self.assertIsInstance(message["metrics"]["epochs"], int)
        self.assertIsInstance(message["metrics"]["samples_per_second"], float)

    def test_a_message_over_the_kubernetes_limit_is_refused_not_truncated(self):
        with self.assertRaisesRegex(MessageTooLargeError, "shorten MODELOPS_DATASET_URI"):
            encode(message_for("file:///" + "d" * 4000))
        self.assertTrue(issubclass(MessageTooLargeError, JobInputError))

    def test_error_message_is_one_bounded_line(self):
        message = error_message("first line\nsecond   line " + "x" * 5000)
        self.assertTrue(message["error"].startswith("first line second line x"))
        self.assertEqual(len(message["error"]), 1000)
        self.assertLess(len(encode(message).encode()), MESSAGE_LIMIT_BYTES)


class EntryPointFailureTest(unittest.TestCase):
    """main() in-process: every failure before training ends in an {"error"} message, stderr and exit code 2."""

    def run_main(self, environ: dict) -> tuple[int, str, str]:
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "termination-log"
            stderr = io.StringIO()
            with redirect_stderr(stderr):
                code = main({"MODELOPS_TERMINATION_MESSAGE_PATH": str(path), **environ})
            return code, path.read_text(), stderr.getvalue()

    def test_failures_write_an_error_message(self):
        valid = {"MODELOPS_DATASET_URI": "synthetic://fraud?rows=100&seed=1", "MODELOPS_OUTPUT_URI": "/tmp/unused"}
        cases = [
            ({}, "environment variable(s) MODELOPS_DATASET_URI, MODELOPS_OUTPUT_URI must be set"),
            ({**valid, "MODELOPS_HYPERPARAMETERS": '{"batch_size": -1}'}, "hyperparameter 'batch_size' must be an integer >= 1, got -1"),
            ({**valid, "MODELOPS_OUTPUT_URI": "s3://bucket/run"}, "an s3:// output needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
            ({**valid, "WORLD_SIZE": "2", "RANK": "0"}, "WORLD_SIZE=2 needs MASTER_ADDR and MASTER_PORT to be set"),
            ({**valid, "WORLD_SIZE": "2", "RANK": "2"}, "WORLD_SIZE=2, RANK=2, LOCAL_RANK=0 are inconsistent"),
            ({**valid, "MODELOPS_DATASET_VERSION": "v" * 4000}, "termination message would be"),
        ]
        for environ, expected in cases:
            with self.subTest(expected=expected):
                code, termination, stderr = self.run_main(environ)
                self.assertEqual(code, EXIT_INPUT_ERROR)
                self.assertEqual(list(json.loads(termination)), ["error"])
                self.assertIn(expected, json.loads(termination)["error"])
                self.assertEqual(stderr.strip(), termination)


if __name__ == "__main__":
    unittest.main()
