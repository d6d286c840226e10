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


# NETTRAIN_FAKE_CUPY=1: ``import cupy`` gives tests/fake_cupy.py, the CuPy stand-in, with every
# kernel compiled for the CPU, so that tests/test_gpu.py (which runs only where a GPU answers)
# runs here too: tests/test_fake_gpu.py's test_the_gpu_tests_pass_on_the_stand_in does so, and
# a GPU test cannot go stale between the rare sessions with a GPU.
if os.environ.get("NETTRAIN_FAKE_CUPY") == "1":  # pragma: no cover (a subprocess of one test)
    import sys  # noqa: E402
    import tempfile  # noqa: E402

    from tests import fake_cupy  # noqa: E402
    from tests.test_kernels import CompiledKernels, all_kernels  # noqa: E402

    _kernels_dir = tempfile.TemporaryDirectory(prefix="nettrain-fake-cupy-")
    fake_cupy.COMPILED[:] = [CompiledKernels(all_kernels(), Path(_kernels_dir.name))]
    sys.modules["cupy"] = fake_cupy
