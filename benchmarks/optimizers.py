"""Optimizers at their default learning rates on digits, and early stopping on an over-long run.

    python benchmarks/optimizers.py [--epochs 50] [--bar 0.96] [--long 300] [--patience 10]

Table 1 trains configs/digits.yaml with each optimizer at its default learning rate (the same as
``--set training.learning_rate=null``) and ``data.validation`` set to the test file, so each
epoch's val_accuracy is the test accuracy: the first epoch that reaches the bar, the best test
accuracy (and its epoch), and the training time.

Table 2 runs digits.yaml (validation: 10% held out of the training rows, as shipped) for 300
epochs with ``early_stopping: {patience: 10}``: where it stopped, the epoch whose weights it kept
and that model's test accuracy, against the last epoch's (the same run with
``restore_best: false``) and a run through all 300 epochs without early stopping.

Both print markdown tables (README-ready). One BLAS thread, so the numbers repeat.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy loads its BLAS

import argparse  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import cpu_model  # noqa: E402  (benchmarks/common.py, beside this script)

from nettrain import fit, load_config  # noqa: E402
from nettrain.optimizers import DEFAULT_LR, OPTIMIZERS  # noqa: E402

CONFIG = ROOT / "configs" / "digits.yaml"
TEST = ROOT / "data" / "digits_test.csv"


def run(out: Path, *overrides: str):
    """(FitResult, wall seconds) of digits.yaml with ``--set`` style overrides, not saved."""
    cfg = load_config(CONFIG, [f"output={out}", *overrides])
    t0 = time.perf_counter()
    result = fit(cfg, save=False)
    return result, time.perf_counter() - t0


def optimizer_table(out: Path, epochs: int, bar: float) -> str:
    rows = [
        f"| optimizer | default lr | first epoch with test acc >= {bar:g} | best test acc (epoch) | time |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in OPTIMIZERS:
        result, seconds = run(
            out,
            f"training.optimizer={name}",
            "training.learning_rate=null",
            f"training.epochs={epochs}",
            f"data.validation={TEST}",
        )
        acc = [r["val_accuracy"] for r in result.history]
        first = next((i + 1 for i, a in enumerate(acc) if a >= bar), None)
        best = max(acc)
        rows.append(
            f"| {name} | {DEFAULT_LR[name]:g} | {first if first else f'not in {epochs}'} | "
            f"{best:.4f} ({acc.index(best) + 1}) | {seconds:.2f} s |"
        )
    return "\n".join(rows)


def early_stopping_table(out: Path, epochs: int, patience: int) -> str:
    rows = [
        "| optimizer (lr) | stopped after epoch | kept epoch | test acc, kept | test acc, last epoch "
        f"| test acc, all {epochs} epochs | time (early stop / all) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, lr in (("sgd", 0.1), ("adam", None)):
        base = [f"training.optimizer={name}", f"training.epochs={epochs}"]
        base.append(f"training.learning_rate={lr if lr is not None else 'null'}")
        early, t_early = run(out, *base, f"training.early_stopping={{patience: {patience}}}")
        last, _ = run(out, *base, f"training.early_stopping={{patience: {patience}, restore_best: false}}")
        full, t_full = run(out, *base)
        s = early.summary
        assert last.summary["epochs"] == s["epochs"]  # the same run, the same stop
        shown_lr = lr if lr is not None else DEFAULT_LR[name]
        rows.append(
            f"| {name} ({shown_lr:g}) | {s['epochs']} | {s['kept_epoch']} | {s['test_accuracy']:.4f} | "
            f"{last.summary['test_accuracy']:.4f} | {full.summary['test_accuracy']:.4f} | "
            f"{t_early:.2f} s / {t_full:.2f} s |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50, help="epochs per optimizer (table 1)")
    parser.add_argument("--bar", type=float, default=0.96, help="the test accuracy to reach (table 1)")
    parser.add_argument("--long", type=int, default=300, help="epochs of the over-long run (table 2)")
    parser.add_argument("--patience", type=int, default=10, help="early stopping patience (table 2)")
    args = parser.parse_args()
    print(
        "digits (1347 train / 450 test rows, 64-128-64-10 relu), batch 32, seed 0; "
        f"{cpu_model()}, one BLAS thread, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        print()
        print(optimizer_table(out, args.epochs, args.bar))
        print()
        print(early_stopping_table(out, args.long, args.patience))


if __name__ == "__main__":
    main()
