"""The backend's decisions: devices, and the BLAS thread count for training on the CPU."""

import pytest
from threadpoolctl import threadpool_info

from nettrain.backend import MULTI_THREAD_FLOPS, cpu_threads, parse_device, resolve_device, step_flops
from nettrain.errors import BackendError


def blas_threads() -> int:
    return max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")


def test_step_flops_by_hand():
    # 4-2-2-1, batch 32: forward 4*2 + 2*2 + 2*1 = 14 MACs per row, dW the same 14,
    # da for every layer but the first 2*2 + 2*1 = 6 -> 34 MACs = 68 flops per row
    assert step_flops([4, 2, 2, 1], 32) == 32 * 68


def test_small_steps_use_one_thread_and_big_ones_all(monkeypatch):
    for var in ("NETTRAIN_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    with cpu_threads([64, 128, 64, 10], 64):
        assert blas_threads() == 1
    assert step_flops([784, 1024, 1024, 10], 256) > MULTI_THREAD_FLOPS
    import os

    cores = len(os.sched_getaffinity(0))
    with cpu_threads([784, 1024, 1024, 10], 256):
        assert blas_threads() == cores


def test_nettrain_threads_chooses(monkeypatch):
    monkeypatch.setenv("NETTRAIN_THREADS", "1")
    with cpu_threads([784, 1024, 1024, 10], 256):
        assert blas_threads() == 1


@pytest.mark.parametrize("value", ["abc", "0", "-2", "1.5"])
def test_a_bad_nettrain_threads_is_an_error_and_an_empty_one_unset(monkeypatch, value):
    """NETTRAIN_THREADS=abc was silently ignored; an empty value (export NETTRAIN_THREADS=) is
    no setting."""
    from nettrain.errors import ConfigError

    monkeypatch.setenv("NETTRAIN_THREADS", value)
    with pytest.raises(ConfigError, match=f"NETTRAIN_THREADS='{value}': give a whole number of threads"):
        cpu_threads([4, 2, 1], 8)
    monkeypatch.setenv("NETTRAIN_THREADS", " ")
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    with cpu_threads([4, 2, 1], 8):
        assert blas_threads() == 1


def test_fit_dry_run_refuses_a_bad_nettrain_threads_as_fit_does(monkeypatch, tmp_path):
    """The dry run passed with NETTRAIN_THREADS=abc, which the fit it checks for then refused."""
    from tests.conftest import CONFIGS
    from tests.helpers import assert_error, run

    monkeypatch.setenv("NETTRAIN_THREADS", "abc")
    # (on the CPU, whose BLAS threads it sets: a run on a GPU machine's default device uses none)
    dry_run = run("fit", CONFIGS / "xor.yaml", "--dry-run", "--device", "cpu", "-o", tmp_path / "run")
    assert_error(dry_run, "NETTRAIN_THREADS='abc'")


def test_explicit_blas_environment_is_respected(monkeypatch):
    monkeypatch.delenv("NETTRAIN_THREADS", raising=False)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    before = blas_threads()
    with cpu_threads([784, 1024, 1024, 10], 256):
        assert blas_threads() == before  # untouched


@pytest.mark.parametrize(
    "text,kind,index",
    [("cpu", "cpu", 0), ("gpu", "gpu", 0), ("gpu:3", "gpu", 3), ("auto", "auto", 0), (" GPU:1 ", "gpu", 1)],
)
def test_parse_device(text, kind, index):
    assert parse_device(text) == (kind, index)


@pytest.mark.parametrize("text", ["tpu", "gpu:x", "gpu:-1", ""])
def test_bad_device_is_an_error(text):
    with pytest.raises(BackendError, match="not valid"):
        parse_device(text)


def test_cpu_is_always_there():
    assert resolve_device("cpu").kind == "cpu"


def test_the_blas_libraries_are_found_once_per_process(monkeypatch):
    """threadpoolctl finds the loaded BLAS by reading /proc/self/maps (~0.75 ms, a third of a
    small partial_fit call): cpu_threads does it once and reuses the controller."""
    import threadpoolctl

    import nettrain.backend as backend

    for var in ("NETTRAIN_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    made = []
    real = threadpoolctl.ThreadpoolController

    class Counted(real):
        def __init__(self):
            made.append(1)
            super().__init__()

    monkeypatch.setattr(threadpoolctl, "ThreadpoolController", Counted)
    monkeypatch.setattr(backend, "_controller", [])
    seen = []
    for _ in range(3):
        with cpu_threads([4, 2, 1], 8):
            seen.append(real().select(user_api="blas").info()[0]["num_threads"])
    assert len(made) == 1
    assert seen == [1, 1, 1]  # (and the one controller still sets the count)
