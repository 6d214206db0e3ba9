import io
import json
import tempfile
import unittest
from contextlib import redirect_stdout
from pathlib import Path

import context  # noqa: F401
import bench_gpu


class BenchSmokeTest(unittest.TestCase):
    """The GPU benchmark is run for real only where there is a GPU; this keeps its CPU path from rotting."""

    def test_tiny_cpu_run_reports_both_batch_sizes(self):
        with tempfile.TemporaryDirectory() as directory:
            out = Path(directory) / "bench.json"
            args = ["--devices", "cpu", "--cpu-rows", "2000", "--epochs", "1", "--small-batch", "64", "--large-batch", "512",
                    "--hidden", "16", "--cpu-threads", "1", "--out", str(out)]
            with redirect_stdout(io.StringIO()) as stdout:
                bench_gpu.main(args)
            report = json.loads(out.read_text())
        self.assertEqual([(r["device"], r["batch_size"]) for r in report["results"]], [("cpu", 64), ("cpu", 512)])
        for result in report["results"]:
            self.assertGreater(result["samples_per_second"], 0)
            self.assertTrue(0.0 <= result["val_auc"] <= 1.0)  # too few steps here to ask for learning
            self.assertIsNone(result["gpu_utilisation"])
        self.assertIn("samples/s", stdout.getvalue())


if __name__ == "__main__":
    unittest.main()
