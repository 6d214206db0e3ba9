"""GPU vs CPU training benchmark for the training image: samples/s, GPU utilisation, and validation AUC at a
small and a large batch (does the large-batch recipe — scaled learning rate plus warmup — keep the AUC?).

One command on a machine with a GPU (from the repository root):
    python3 training-image/bench_gpu.py --out bench-gpu.json
Quick check that it still runs, CPU only:
    /usr/bin/python3 training-image/bench_gpu.py --devices cpu --rows 4000 --cpu-rows 4000 --epochs 1 --large-batch 1024

Each configuration trains in this process through the same fit()/evaluate() the Job runs. GPU utilisation is
sampled every 100 ms while training, with pynvml when installed, else `nvidia-smi --query-gpu=utilization.gpu`.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from modelops_train.data import SyntheticSpec, generate  # noqa: E402
from modelops_train.hyperparameters import Hyperparameters  # noqa: E402
from modelops_train.log import JsonLogger  # noqa: E402
from modelops_train.train import Runtime, Split, evaluate, fit, prepare_device, stratified_split  # noqa: E402

SAMPLE_INTERVAL_SECONDS = 0.1


class GpuUtilisationSampler:
    """Samples one GPU's utilisation (%) in a background thread between __enter__ and __exit__."""

    def __init__(self, index: int):
        self.index = index
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._read = self._pynvml_reader() or self._nvidia_smi_reader()

    def __enter__(self) -> "GpuUtilisationSampler":
        if self._read is not None:
            self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def summary(self) -> dict | None:
        if not self.samples:
            return None
        return {"mean_percent": round(sum(self.samples) / len(self.samples), 1), "max_percent": max(self.samples), "samples": len(self.samples)}

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_INTERVAL_SECONDS):
            value = self._read()
            if value is not None:
                self.samples.append(value)

    def _pynvml_reader(self):
        try:
            import pynvml

            pynvml.nvmlInit()
            handle = pynvml.nvmlDeviceGetHandleByIndex(self.index)
        except Exception:  # not installed, or installed without a usable driver: nvidia-smi is the fallback
            return None
        return lambda: float(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu)

    def _nvidia_smi_reader(self):
        if shutil.which("nvidia-smi") is None:
            return None
        command = ["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits", f"--id={self.index}"]

        def read() -> float | None:
            try:
                result = subprocess.run(command, capture_output=True, text=True, timeout=5)
                return float(result.stdout.strip()) if result.returncode == 0 else None
            except (subprocess.TimeoutExpired, ValueError):  # a slow or odd answer loses one sample, not the thread
                return None

        return read


@dataclass(frozen=True)
class BenchCase:
    device: str
    batch_size: int
    rows: int


def run_case(case: BenchCase, split: Split, hp: Hyperparameters, log: JsonLogger) -> dict:
    device = torch.device(case.device)
    hp = replace(hp, batch_size=case.batch_size)
    prepare_device(device)
    runtime = Runtime(device=device)
    with GpuUtilisationSampler(device.index) if device.type == "cuda" else _NoSampler() as sampler:
        result = fit(split, hp, runtime, log)
    evaluation = evaluate(result.model, split.validation, device)
    steady = result.history[1:] or result.history  # the first epoch pays for warm-up (CUDA context, cuBLAS, compile)
    return {
        **asdict(case),
        "samples_per_second": round(result.samples_per_second),
        "steady_samples_per_second": round(sum(e["samples_per_second"] for e in steady) / len(steady)),
        "val_auc": round(evaluation.auc, 4),
        "val_loss": round(evaluation.loss, 5),
        "learning_rate": result.plan.learning_rate,
        "steps": result.plan.total_steps,
        "gpu_utilisation": sampler.summary(),
    }


class _NoSampler:
    def __enter__(self):
        return self

    def __exit__(self, *_exc) -> None:
        pass

    def summary(self) -> None:
        return None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", default="cuda,cpu", help="comma-separated torch devices; cuda is skipped when absent")
    parser.add_argument("--rows", type=int, default=2_000_000, help="synthetic rows for GPU cases")
    parser.add_argument("--cpu-rows", type=int, default=200_000, help="synthetic rows for CPU cases (throughput needs fewer)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--small-batch", type=int, default=256)
    parser.add_argument("--large-batch", type=int, default=32_768)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--amp", choices=("off", "bf16"), default="off")
    parser.add_argument("--compile", action="store_true", help="torch.compile the model (torch >= 2.0)")
    parser.add_argument("--cpu-threads", type=int, default=len(os.sched_getaffinity(0)),
                        help="torch intra-op threads for CPU cases (default: the cores this process may use)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, help="also write the results here as JSON")
    parser.add_argument("--verbose", action="store_true", help="training logs (JSON lines) on stderr")
    return parser.parse_args(argv)


def cases(args: argparse.Namespace) -> list[BenchCase]:
    wanted = [torch.device(name) for name in args.devices.split(",") if name]
    # "cuda" means the current GPU; an explicit index keeps set_device() and the utilisation sampler on the same one.
    available = [d for d in wanted if d.type != "cuda" or torch.cuda.is_available()]
    devices = [str(torch.device("cuda", d.index or 0)) if d.type == "cuda" else str(d) for d in available]
    return [
        BenchCase(device=device, batch_size=batch, rows=args.cpu_rows if device == "cpu" else args.rows)
        for device in devices
        for batch in (args.small_batch, args.large_batch)
    ]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.cpu_threads)
    hp = Hyperparameters(epochs=args.epochs, hidden=args.hidden, amp=args.amp, compile=args.compile, seed=args.seed)
    log = JsonLogger(stream=sys.stderr if args.verbose else open(os.devnull, "w"))
    splits: dict[int, Split] = {}
    results = []
    for case in cases(args):
        if case.rows not in splits:
            splits[case.rows] = stratified_split(generate(SyntheticSpec(rows=case.rows, seed=args.seed)), hp.val_fraction, hp.seed)
        results.append(run_case(case, splits[case.rows], hp, log))
        print(json.dumps(results[-1]), flush=True)
    report = {
        "torch": torch.__version__,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "cpu_threads": args.cpu_threads,
        "settings": {k: v for k, v in vars(args).items() if k not in ("out", "verbose")},
        "results": results,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print(format_table(results))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2, default=str) + "\n")


def format_table(results: list[dict]) -> str:
    header = f"{'device':<8}{'batch':>8}{'rows':>10}{'samples/s':>14}{'steady/s':>14}{'val_auc':>9}{'gpu util %':>12}"
    lines = [header]
    for r in results:
        util = r["gpu_utilisation"]["mean_percent"] if r["gpu_utilisation"] else "-"
        lines.append(f"{r['device']:<8}{r['batch_size']:>8}{r['rows']:>10}{r['samples_per_second']:>14}{r['steady_samples_per_second']:>14}"
                     f"{r['val_auc']:>9}{util:>12}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
