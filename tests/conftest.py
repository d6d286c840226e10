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


# Hypothesis: no deadlines or "too slow" health checks (the machine is shared); under CI (CI=true)
# the examples are derived from each test's name, so a landing never depends on a random draw.
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "nettrain",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=bool(os.environ.get("CI")),
)
settings.load_profile("nettrain")
