"""Shared test set-up: one BLAS thread (CI time must not depend on the neighbours, and float32
results differ between thread counts), paths to the shipped configs and data."""

import os

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"  # before numpy loads its BLAS; inherited by subprocess runs of the CLI

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"
DATA = ROOT / "data"


@pytest.fixture
def root() -> Path:
    return ROOT
