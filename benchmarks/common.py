"""Helpers shared by the benchmark scripts: machine facts, subprocess timing, a small digits model.

Nothing here is part of nettrain. The scripts run from a checkout (``python benchmarks/X.py``), so
this module is importable as ``common`` from the script's own folder.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

#: The repository root (benchmarks/ sits directly under it).
ROOT = Path(__file__).resolve().parents[1]


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_line() -> str:
    """One line naming the CPU, its logical core count and the Python version."""
    return f"{cpu_model()}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}"


def nettrain_command() -> list[str]:
    """How a user starts nettrain: the console script next to this Python (the venv's), else -m."""
    script = Path(sys.executable).with_name("nettrain")
    if script.exists():
        return [str(script)]
    found = shutil.which("nettrain")
    return [found] if found else [sys.executable, "-m", "nettrain"]


def run_quiet(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a command with stdout discarded; raise with its stderr when it fails."""
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **kwargs)
    if done.returncode != 0:
        raise SystemExit(f"command failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr}")
    return done


def time_command(cmd: list[str], repeats: int, warmup: int = 1, **kwargs) -> list[float]:
    """Wall times (s) of ``repeats`` runs of a command, after ``warmup`` untimed runs.

    The warm-up runs fill the page cache with the interpreter, the packages and the data, so the
    figures are those of a second run, not of a cold disk.
    """
    for _ in range(warmup):
        run_quiet(cmd, **kwargs)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run_quiet(cmd, **kwargs)
        times.append(time.perf_counter() - t0)
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float], digits: int = 3) -> str:
    """'median (min-max)' of a list of seconds."""
    return f"{median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def train_digits_model(folder: Path) -> Path:
    """Train the shipped digits config for one epoch into ``folder``; return the model file.

    Exactly what a user would run: ``nettrain fit configs/digits.yaml --set training.epochs=1``.
    """
    run_quiet(
        [
            *nettrain_command(),
            "fit",
            str(ROOT / "configs" / "digits.yaml"),
            "--set",
            "training.epochs=1",
            "-o",
            str(folder),
            "-q",
        ]
    )
    model = folder / "model.npz"
    if not model.exists():
        raise SystemExit(f"nettrain fit did not write {model}")
    return model


def digits_header(with_label: bool) -> list[str]:
    """The column names of data/digits_train.csv (pixel_0_0 ... pixel_7_7, then label)."""
    header = (ROOT / "data" / "digits_train.csv").open().readline().strip().split(",")
    return header if with_label else [h for h in header if h != "label"]
