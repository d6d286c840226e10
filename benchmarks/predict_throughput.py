"""Prediction throughput: `nettrain predict` on a big file, against what NumPy alone needs.

    python benchmarks/predict_throughput.py [--rows 1000000] [--quick] [--label] [--repeats 2]

Writes a digits-like CSV (integer pixels 0-16 under the digits header, optionally with the label
column, which predict ignores) and the same features as a float32 .npy, trains the digits model
for one epoch, then times, as subprocesses, file to file:

- ``nettrain predict MODEL big.csv -o out.csv`` against ``np.loadtxt(big.csv, delimiter=',',
  skiprows=1, dtype=np.float32)`` (parsing only, in this process). Target (issue 5): within 1.5x.
- ``nettrain predict MODEL big.npy -o out.npy --format npy`` against ``np.load(big.npy)`` and against
  np.load plus the model's forward pass in NumPy (float32, the GEMM work predict cannot avoid).
  Target: "at memory speed".

The machine's default thread settings are left as a user has them (no thread limits).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import machine_line, median, nettrain_command, spread, time_command, train_digits_model, verdict

CSV_TARGET = 1.5  # nettrain predict CSV -> CSV within this multiple of np.loadtxt's parse


def write_digits_csv(path: Path, rows: int, with_label: bool, seed: int = 0) -> np.ndarray:
    """A digits-like CSV of ``rows`` rows; returns its features as float32 (rows, 64)."""
    from common import digits_header

    rng = np.random.default_rng(seed)
    header = digits_header(with_label)
    tokens = [str(v) for v in range(17)]  # the pixel values 0..16 as text
    X = np.empty((rows, 64), dtype=np.float32)
    with path.open("w") as f:
        f.write(",".join(header) + "\n")
        for start in range(0, rows, 50_000):
            block = rng.integers(0, 17, size=(min(50_000, rows - start), 64))
            X[start : start + len(block)] = block
            labels = rng.integers(0, 10, size=len(block))
            lines = []
            for row, label in zip(block.tolist(), labels.tolist()):
                cells = [tokens[v] for v in row]
                if with_label:
                    cells.append(tokens[label])
                lines.append(",".join(cells))
            f.write("\n".join(lines) + "\n")
    return X


def time_python(fn, repeats: int, warmup: int = 0) -> list[float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def numpy_forward(model_path: Path):
    """The model's prediction work in plain NumPy float32: standardize, ReLU layers, softmax.

    Reads the weights from the model file (arrays W0, b0, W1, ... and x_mean, x_scale), so the
    reference does exactly the arithmetic predict must do, and nothing else.
    """
    with np.load(model_path, allow_pickle=False) as z:
        layers = sum(1 for k in z.files if k.startswith("W"))
        W = [z[f"W{l}"].astype(np.float32) for l in range(layers)]
        b = [z[f"b{l}"].astype(np.float32) for l in range(layers)]
        mean, scale = z["x_mean"].astype(np.float32), z["x_scale"].astype(np.float32)

    def forward(X: np.ndarray) -> np.ndarray:
        a = (X - mean) / scale
        for l, (w, v) in enumerate(zip(W, b)):
            a = a @ w.T + v
            if l < len(W) - 1:
                np.maximum(a, 0, out=a)
        e = np.exp(a - a.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    return forward


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, help="rows of the big file (default 1,000,000; 200,000 quick)")
    parser.add_argument("--quick", action="store_true", help="200,000 rows and one timed run each")
    parser.add_argument("--label", action="store_true", help="include the label column in the CSV")
    parser.add_argument("--repeats", type=int, help="timed runs of each (default 2, 1 with --quick)")
    args = parser.parse_args(argv)
    rows = args.rows or (200_000 if args.quick else 1_000_000)
    repeats = args.repeats or (1 if args.quick else 2)
    nt = nettrain_command()

    with tempfile.TemporaryDirectory(prefix="nettrain-predict-") as tmp:
        folder = Path(tmp)
        model = train_digits_model(folder / "digits")
        csv_path, npy_path = folder / "big.csv", folder / "big.npy"
        t0 = time.perf_counter()
        X = write_digits_csv(csv_path, rows, args.label)
        np.save(npy_path, X)
        del X
        made = time.perf_counter() - t0
        csv_mb, npy_mb = csv_path.stat().st_size / 1e6, npy_path.stat().st_size / 1e6
        print(f"  ... wrote {rows:,} rows in {made:.0f} s", file=sys.stderr, flush=True)

        parse = time_python(
            lambda: np.loadtxt(csv_path, delimiter=",", skiprows=1, dtype=np.float32), repeats
        )
        predict_csv = time_command(
            [*nt, "predict", str(model), str(csv_path), "-o", str(folder / "out.csv")], repeats, warmup=0
        )
        forward = numpy_forward(model)
        load = time_python(lambda: np.load(npy_path), repeats, warmup=1)
        load_forward = time_python(
            lambda: np.save(folder / "np_out.npy", forward(np.load(npy_path))), repeats, warmup=1
        )
        predict_npy = time_command(
            [*nt, "predict", str(model), str(npy_path), "-o", str(folder / "out.npy"), "--format", "npy"],
            repeats,
            warmup=0,
        )

    ratio_csv = median(predict_csv) / median(parse)
    print("# nettrain predict throughput")
    print()
    print(f"- machine: {machine_line()}")
    print(
        f"- {rows:,} rows x 64 features: CSV {csv_mb:.0f} MB ({'with' if args.label else 'without'} "
        f"the label column), NPY {npy_mb:.0f} MB; {repeats} timed run(s) each; the files were just "
        "written, so they are read from the page cache"
    )
    print()
    print("| what | seconds: median (min-max) | rows/s |")
    print("|---|---|---|")
    for name, t in [
        ("np.loadtxt(big.csv, dtype=float32): parse only", parse),
        ("`nettrain predict MODEL big.csv -o out.csv`", predict_csv),
        ("np.load(big.npy)", load),
        ("np.load + NumPy forward pass + np.save", load_forward),
        ("`nettrain predict MODEL big.npy -o out.npy --format npy`", predict_npy),
    ]:
        print(f"| {name} | {spread(t)} | {rows / median(t):,.0f} |")
    print()
    print(
        f"- CSV: nettrain predict / np.loadtxt = {ratio_csv:.2f}x (target <= {CSV_TARGET}x): "
        f"{verdict(ratio_csv <= CSV_TARGET)}"
    )
    print(
        f"- NPY: nettrain predict / np.load = {median(predict_npy) / median(load):.1f}x; "
        f"/ (np.load + forward + np.save) = {median(predict_npy) / median(load_forward):.2f}x "
        f"(nettrain includes its ~0.3 s start-up)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
