"""Peak memory of `nettrain fit` on a big float32 .npy data set, against the issue's target.

    python benchmarks/memory.py [--rows 2000000] [--features 64] [--quick] [--validation 0.1]

Writes an N x (d + 1) float32 .npy in a temporary folder (d standard-normal features, then a
regression target column, the last column, which nettrain takes as the target by default), and
runs ``nettrain fit`` on it (a d-32-1 ReLU network, mse, 2 epochs, batch 256, the config's other
defaults) as a subprocess. The peak resident set size of that process comes from ``os.wait4``
(the kernel's maxrss of exactly that child, started from a minimal Python so that the
benchmark's own memory cannot leak into the figure). For scale, the same is measured for a process that
only does ``np.load`` of the file, and for ``nettrain --version`` (the interpreter and the
imports). Target (issue 5): peak below 1.3 x data size + 100 MB, no per-epoch copies.

It also measures ``nettrain predict`` on a CSV with a text (categorical) column, which the
careful CSV reader reads (``--csv-rows``, default 100,000; 0 skips it): 10 numeric columns, a
city column with one long name, a 0/1 target. No target is set for it; the figure is for scale
against the file's size and against Python's ``csv`` module holding the rows as lists.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import machine_line, nettrain_command, verdict

MB = 1e6


# The child's ru_maxrss would start at this process's own RSS: the kernel carries the high-water
# mark of the forked address space across exec. So a tiny Python process starts the command and
# reports its rusage; its own few MB are all that can leak into the figure.
_MEASURE = (
    "import os, subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(p.pid, 0)\n"
    "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss * 1024)\n"
)


def peak_rss(cmd: list[str]) -> tuple[float, float]:
    """(peak RSS in bytes, wall seconds) of one run of ``cmd``; exits if the command fails."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-S", "-c", _MEASURE, *cmd], capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    code, peak = (int(x) for x in done.stdout.split())
    if code != 0:
        raise SystemExit(f"command failed ({code}): {' '.join(cmd)}\n{done.stderr}")
    return peak, seconds


def write_dataset(path: Path, rows: int, features: int, seed: int = 0) -> None:
    """N x (features + 1) float32, written block by block so this process stays small."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(features).astype(np.float32) / np.float32(np.sqrt(features))
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, features + 1))
    for start in range(0, rows, 100_000):
        X = rng.standard_normal((min(100_000, rows - start), features), dtype=np.float32)
        out[start : start + len(X), :features] = X
        out[start : start + len(X), features] = np.tanh(X @ w)
    out.flush()
    del out


def write_mixed_csv(path: Path, rows: int, seed: int = 0) -> None:
    """10 numeric columns, a city (5 names, one long), a 0/1 target ``y``."""
    rng = np.random.default_rng(seed)
    cities = np.array(["amsterdam", "berlin", "copenhagen", "dublin", "edinburgh-and-lothians-region"])
    with open(path, "w") as f:
        f.write(",".join([f"x{i}" for i in range(10)] + ["city", "y"]) + "\n")
        for start in range(0, rows, 10_000):
            m = min(10_000, rows - start)
            X = rng.standard_normal((m, 10))
            c = rng.integers(0, len(cities), m)
            y = (X[:, 0] + c > 2).astype(int)
            for i in range(m):
                f.write(",".join(f"{v:.6f}" for v in X[i]) + f",{cities[c[i]]},{y[i]}\n")


def csv_predict_peak(folder: Path, rows: int, nt: list[str]) -> tuple[int, float, float, float]:
    """(file bytes, peak RSS of nettrain predict, its seconds, peak RSS of csv.reader to lists)."""
    data = folder / "mixed.csv"
    write_mixed_csv(data, rows)
    config = folder / "mixed.yaml"
    config.write_text(
        "data:\n  train: mixed.csv\n  target: y\nnetwork:\n  layers: [auto, 16, auto]\n"
        "cost: binary_cross_entropy\ntraining:\n  epochs: 1\ndevice: cpu\noutput: run-mixed\n"
    )
    subprocess.run([*nt, "fit", str(config), "-q"], check=True, capture_output=True)
    peak, seconds = peak_rss([*nt, "predict", str(folder / "run-mixed" / "model.npz"), str(data)])
    lists, _ = peak_rss(
        [sys.executable, "-c", f"import csv; rows = list(csv.reader(open({str(data)!r}, newline='')))"]
    )
    return data.stat().st_size, peak, seconds, lists


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, help="rows (default 2,000,000; 500,000 with --quick)")
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--csv-rows", type=int, help="rows of the CSV predict run (default 100,000; 0: skip)")
    parser.add_argument(
        "--validation", type=float, action="append", help="validation fraction(s) to run (default 0 and 0.1)"
    )
    args = parser.parse_args(argv)
    rows = args.rows or (500_000 if args.quick else 2_000_000)
    d = args.features
    fractions = args.validation or [0.0, 0.1]
    nt = nettrain_command()

    results = []
    with tempfile.TemporaryDirectory(prefix="nettrain-memory-") as tmp:
        folder = Path(tmp)
        data = folder / "data.npy"
        write_dataset(data, rows, d)
        size = data.stat().st_size
        base, _ = peak_rss([*nt, "--version"])
        load, load_s = peak_rss([sys.executable, "-c", f"import numpy as np; np.load({str(data)!r})"])
        for fraction in fractions:
            config = folder / f"fit-{fraction}.yaml"
            config.write_text(
                "data:\n"
                f"  train: {data.name}\n"
                f"  validation: {fraction}\n"
                "network:\n"
                f"  layers: [{d}, 32, 1]\n"
                "  activation: relu\n"
                "cost: mse\n"
                "training:\n"
                "  learning_rate: 0.01\n"
                "  epochs: 2\n"
                "  batch_size: 256\n"
                "device: cpu\n"
                f"output: run-{fraction}\n"
            )
            peak, seconds = peak_rss([*nt, "fit", str(config), "-q"])
            results.append((fraction, peak, seconds))
        csv_rows = 100_000 if args.csv_rows is None else args.csv_rows
        mixed = csv_predict_peak(folder, csv_rows, nt) if csv_rows else None

    target = 1.3 * size + 100 * MB
    print("# nettrain fit: peak memory")
    print()
    print(f"- machine: {machine_line()}")
    print(f"- data: {rows:,} x {d + 1} float32 .npy = {size / MB:.0f} MB ({d} features + target)")
    print(f"- target: peak < 1.3 x data + 100 MB = {target / MB:.0f} MB")
    print()
    print("| process | peak RSS, MB | x data size | wall s |")
    print("|---|---|---|---|")
    print(f"| `nettrain --version` (interpreter + imports) | {base / MB:.0f} | | |")
    print(f"| `np.load(data.npy)` alone | {load / MB:.0f} | {load / size:.2f} | {load_s:.1f} |")
    for fraction, peak, seconds in results:
        print(
            f"| `nettrain fit` (validation {fraction:g}, 2 epochs) | {peak / MB:.0f} | {peak / size:.2f} "
            f"| {seconds:.1f} |"
        )
    print()
    for fraction, peak, _ in results:
        over = (
            "" if peak < target else f", {(peak - target) / MB:.0f} MB over ({peak / target:.1f}x the target)"
        )
        print(
            f"- validation {fraction:g}: {peak / MB:.0f} MB vs {target / MB:.0f} MB: "
            f"{verdict(peak < target)}{over}"
        )
    if mixed:
        csv_size, peak, seconds, lists = mixed
        print()
        print(f"# nettrain predict: peak memory on a CSV with a text column ({csv_rows:,} rows)")
        print()
        print("| process | peak RSS, MB | x file size | wall s |")
        print("|---|---|---|---|")
        print(f"| the file | {csv_size / MB:.0f} | 1.00 | |")
        print(f"| Python `list(csv.reader(file))` | {lists / MB:.0f} | {lists / csv_size:.1f} | |")
        ratio = peak / csv_size
        print(f"| `nettrain predict MODEL mixed.csv` | {peak / MB:.0f} | {ratio:.1f} | {seconds:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
