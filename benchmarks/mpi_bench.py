"""Data-parallel training speed under MPI: samples/s with 1 and 2 ranks, and the Allreduce's share.

    python benchmarks/mpi_bench.py [--rows 8192] [--epochs 3] [--ranks 1,2]

Network 784-1024-1024-10 (relu, softmax cross-entropy), global batch 512, plain SGD, float32,
synthetic data written to a temporary .npy. Each rank uses one BLAS thread (NETTRAIN_THREADS=1),
so 2 ranks use the 2 cores that one process with 2 BLAS threads would. Timed through the real CLI
(`mpiexec -n R python -m mpi4py -m nettrain fit --json`): samples/s from the run's summary, and
the seconds rank 0 spent in Allreduce (which include waiting for the slower rank).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CONFIG = """\
data:
  train: {data}
network:
  layers: [784, 1024, 1024, 10]
  activation: relu
cost: cross_entropy
training:
  learning_rate: 0.01
  epochs: {epochs}
  batch_size: 512
dtype: float32
device: cpu
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=8192)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--ranks", default="1,2")
    args = parser.parse_args()
    mpiexec = Path(sys.executable).with_name("mpiexec")
    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((args.rows, 784)).astype(np.float32)
        y = rng.integers(0, 10, args.rows).astype(np.float32)
        np.save(Path(tmp) / "d.npy", np.column_stack([X, y]))
        cfg = Path(tmp) / "c.yaml"
        cfg.write_text(CONFIG.format(data=Path(tmp) / "d.npy", epochs=args.epochs))
        env = {**os.environ, "NETTRAIN_THREADS": "1"}
        params = 784 * 1024 + 1024 + 1024 * 1024 + 1024 + 1024 * 10 + 10
        print(
            f"- 784-1024-1024-10 ({params:,} parameters, {params * 4 / 1e6:.1f} MB of float32 "
            f"gradients per Allreduce), global batch 512, {args.rows} rows x {args.epochs} epochs"
        )
        print("\n| ranks | samples/s | Allreduce s (rank 0) | share of training time |")
        print("|---|---|---|---|")
        base = None
        for r in [int(x) for x in args.ranks.split(",")]:
            cmd = [
                sys.executable,
                "-m",
                "nettrain",
                "fit",
                str(cfg),
                "--json",
                "-q",
                "-o",
                str(Path(tmp) / f"r{r}"),
            ]
            if r > 1:
                cmd = [str(mpiexec), "-n", str(r), sys.executable, "-m", "mpi4py", *cmd[1:]]
            out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
            summary = [json.loads(line) for line in out.splitlines()][-1]
            sps, t = summary["samples_per_s"], summary["train_time_s"]
            ar = summary.get("allreduce_s", 0.0)
            base = base or sps
            print(f"| {r} | {sps:,.0f} ({sps / base:.2f}x) | {ar:.2f} | {ar / t:.0%} |")
        # for comparison: one process using both cores through BLAS threads
        cmd = [sys.executable, "-m", "nettrain", "fit", str(cfg), "--json", "-q", "-o", str(Path(tmp) / "t2")]
        out = subprocess.run(
            cmd, capture_output=True, text=True, check=True, env={**os.environ, "NETTRAIN_THREADS": "2"}
        ).stdout
        sps = [json.loads(line) for line in out.splitlines()][-1]["samples_per_s"]
        print(f"| 1, with 2 BLAS threads | {sps:,.0f} ({sps / base:.2f}x) | - | - |")


if __name__ == "__main__":
    main()
