"""The array backend: NumPy on the CPU, CuPy on an NVIDIA GPU.

This is the only module that imports cupy, and it does so lazily and guarded, so nettrain imports
and runs where CuPy is absent or no GPU answers. Everything else takes its array module from the
arrays themselves (``xp_of(x)``) and uses only operations NumPy and CuPy share.

The device string (``cpu``, ``gpu``, ``gpu:N``, ``auto``) is parsed once, at the edge, by
``resolve_device``.
"""

from __future__ import annotations

import functools
import os
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import BackendError, did_you_mean

DEVICES = ("auto", "cpu", "gpu")


def xp_of(x: Any):
    """The array module (numpy or cupy) that owns array ``x``."""
    if isinstance(x, np.ndarray) or np.isscalar(x):
        return np
    module = type(x).__module__
    if module.startswith("cupy"):
        import cupy  # already imported by whoever made x

        return cupy
    return np


@dataclass(frozen=True)
class Device:
    """A resolved device: ``xp`` is numpy or cupy; ``notice`` says why auto chose the CPU."""

    kind: str  # "cpu" or "gpu"
    index: int = 0
    notice: str = ""

    @property
    def xp(self):
        if self.kind == "gpu":
            import cupy

            return cupy
        return np

    def __str__(self) -> str:
        return "cpu" if self.kind == "cpu" else f"gpu:{self.index}"

    def free_bytes(self) -> int | None:
        """Free memory on this GPU in bytes, counting what CuPy's pool holds unused (None on the
        CPU)."""
        if self.kind == "cpu":
            return None
        import cupy

        with cupy.cuda.Device(self.index):
            free, _total = cupy.cuda.runtime.memGetInfo()
            pool = cupy.get_default_memory_pool()
            return int(free) + int(pool.free_bytes())

    def step_rng(self, host_rng: np.random.Generator | None):
        """The generator the training step draws dropout masks from during one epoch: the host
        generator itself on the CPU; on the GPU a DeviceRandom seeded from it."""
        if host_rng is None or self.kind == "cpu":
            return host_rng
        return DeviceRandom(host_rng, self.index)

    def asarray(self, x, dtype=None):
        """Copy a host array to this device (a no-op view on the CPU when dtype already fits)."""
        if self.kind == "gpu":
            import cupy

            with cupy.cuda.Device(self.index):
                return cupy.asarray(x, dtype=dtype)
        return np.asarray(x, dtype=dtype)


def parse_device(text: str) -> tuple[str, int]:
    """'cpu' | 'gpu' | 'gpu:N' | 'auto' -> (kind, index). Raises BackendError for anything else."""
    word = str(text).strip().lower()
    if word in ("cpu", "auto", "gpu"):
        return word, 0
    if word.startswith("gpu:") and word[4:].isdigit():
        return "gpu", int(word[4:])
    raise BackendError(
        f"device '{text}' is not valid: use cpu, gpu, gpu:N or auto{did_you_mean(word, DEVICES)}"
    )


def gpu_problem(index: int = 0) -> str:
    """Why GPU ``index`` cannot be used, or '' when it can. (cupy.is_available() hides the why.)"""
    try:
        import cupy
    except ImportError:
        return 'CuPy is not installed (pip install "nettrain[gpu]")'
    except Exception as exc:  # a broken CUDA install fails at import with many error types
        return f"CuPy failed to import: {exc}"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError, e.g. cudaErrorInsufficientDriver without a GPU
        return f"no usable CUDA driver or GPU ({exc})"
    if count == 0:
        return "no CUDA GPU found"
    if index >= count:
        return f"gpu:{index} requested but only {count} GPU(s) present"
    try:  # every kernel is compiled on first use by CUDA's NVRTC, which the CUDA Toolkit or
        # CuPy's [ctk] extra brings: a driver alone answers getDeviceCount but cannot train
        cupy.cuda.nvrtc.getVersion()
    except AttributeError:  # a CuPy that keeps it elsewhere: its first kernel will tell
        pass
    except Exception as exc:  # cuda.pathfinder's DynamicLibNotFoundError, an ImportError, ...
        return (
            f"CuPy cannot load CUDA's kernel compiler NVRTC ({exc}); install the CUDA Toolkit, or "
            'the CUDA libraries with CuPy\'s [ctk] extra (pip install "cupy-cuda12x[ctk]", or '
            '"cupy-cuda13x[ctk]")'
        )
    return ""


def gpu_count() -> int:
    """How many CUDA GPUs CuPy sees (0 without CuPy or a driver)."""
    try:
        import cupy

        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception:
        return 0


def resolve_device(text: str = "auto") -> Device:
    """Decide the device once. ``auto`` falls back to the CPU with a notice; ``gpu`` must work."""
    kind, index = parse_device(text)
    if kind == "cpu":
        return Device("cpu")
    problem = gpu_problem(index)
    if not problem:
        return gpu_device(index)
    if kind == "auto":
        # without CuPy the user never asked for a GPU: the CPU is simply the device, no notice
        installed = not problem.startswith("CuPy is not installed")
        return Device("cpu", notice=f"using the CPU: {problem}" if installed else "")
    raise BackendError(f"device '{text}' cannot be used: {problem}")


def on_gpu(x) -> bool:
    """True when ``x`` is a device (CuPy) array: the training step then runs fused kernels."""
    return type(x).__module__.startswith("cupy")


@dataclass(frozen=True)
class Kernel:
    """A fused elementwise GPU kernel: one pass over the arrays instead of one per operation.

    Written as CuPy's ``ElementwiseKernel`` takes it: ``inputs`` and ``outputs`` are parameter
    lists such as ``"T g, T lr"`` (T is the arrays' dtype; inputs are read-only, scalars are
    cast to T, arrays broadcast against each other) and ``body`` is CUDA C run once per element,
    with each name bound to that element. Outputs are updated in place and may be read first.
    A ``raw`` parameter is the whole array, which the body indexes itself, with ``i`` the
    element's index (costs.py's softmax cross-entropy: one element a row).

    The math lives next to its NumPy form (activations.py, costs.py, network.py, optimizers.py);
    this module only compiles it, on first use, once per process. Call it with the inputs, then
    the output arrays: ``kernel(g, lr, p, v)``. tests/test_kernels.py runs every body on the CPU.
    """

    name: str
    inputs: str
    outputs: str
    body: str

    def __call__(self, *args) -> None:
        _compiled(self)(*args)


@functools.cache
def _compiled(kernel: Kernel):
    import cupy

    return cupy.ElementwiseKernel(kernel.inputs, kernel.outputs, kernel.body, kernel.name, no_return=True)


class DeviceRandom:
    """Uniform draws made on the GPU (dropout masks), seeded from the host generator.

    ``random(shape, dtype)`` answers like ``numpy.random.Generator.random``. One is made per
    epoch from one integer drawn from the run's host generator, so a seed (and a resume, which
    restores the host generator) gives the same masks every time without a host-to-device copy
    per step.
    """

    def __init__(self, host_rng: np.random.Generator, device_index: int = 0):
        import cupy

        # (CuPy before 13.3 refused integer seeds under NumPy 2: pyproject.toml asks for 13.3)
        with cupy.cuda.Device(device_index):
            self._state = cupy.random.RandomState(int(host_rng.integers(2**63)))

    def random(self, shape, dtype=np.float32):
        return self._state.random_sample(shape, dtype=dtype)


def gpu_device(index: int) -> Device:
    """GPU ``index`` as a Device, made CuPy's current device for the rest of the process: CuPy
    allocates arrays, launches kernels and keeps its cuBLAS handle and random generators on the
    current device, so every array of the run must be made there, not only those copied over."""
    import cupy

    cupy.cuda.Device(index).use()
    return Device("gpu", index)


def synchronize(x) -> None:
    """Wait until the GPU has finished writing ``x`` (nothing to wait for on the CPU). Needed only
    where something other than CuPy reads device memory: a CUDA-aware MPI call."""
    if on_gpu(x):
        import cupy

        cupy.cuda.get_current_stream().synchronize()


def to_host(x) -> np.ndarray:
    """A NumPy copy of ``x`` (waits for the GPU when x lives there)."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "get"):
        return x.get()
    return np.asarray(x)


#: A training step below this many floating-point operations runs BLAS on one thread: two
#: threads on small matrices only add synchronisation, and collapse when anything else uses a
#: core (measured: README, Speed). Bigger steps use every core.
MULTI_THREAD_FLOPS = 50e6
THREAD_ENV = ("NETTRAIN_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def available_memory() -> int | None:
    """Bytes of host memory available to new allocations without swapping (Linux's
    MemAvailable), or None where that is not known."""
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def gib(n: float) -> str:
    """Bytes in GiB, for messages."""
    return f"{n / 2**30:.1f} GiB"


def step_flops(sizes, batch_size: int) -> float:
    """Multiply-adds x 2 of one training step: forward, dW and da for every layer (no da for the
    first)."""
    pairs = list(zip(sizes[:-1], sizes[1:]))
    per_row = sum(3 * i * o for i, o in pairs) - pairs[0][0] * pairs[0][1]
    return 2.0 * batch_size * per_row


def nettrain_threads() -> int | None:
    """NETTRAIN_THREADS as a number of threads (None: unset or empty); anything else is a
    ConfigError, so a typo does not go unnoticed."""
    text = os.environ.get("NETTRAIN_THREADS", "").strip()
    if not text:
        return None
    if not (text.isdigit() and int(text) > 0):
        from .errors import ConfigError

        raise ConfigError(f"NETTRAIN_THREADS={text[:40]!r}: give a whole number of threads, 1 or more")
    return int(text)


def cpu_threads(sizes, batch_size: int):
    """A context that sets the BLAS thread count for training this network on the CPU.

    ``NETTRAIN_THREADS=N`` chooses N; an explicit OPENBLAS_NUM_THREADS / OMP_NUM_THREADS /
    MKL_NUM_THREADS is respected as it is; otherwise one thread for small steps and all cores for
    big ones (MULTI_THREAD_FLOPS). Needs threadpoolctl; without it, nothing changes.
    """
    explicit = nettrain_threads()
    if explicit is None and any(os.environ.get(v) for v in THREAD_ENV[1:]):
        return nullcontext()
    controller = _blas_controller()
    if controller is None:
        return nullcontext()
    if explicit is not None:
        threads = explicit
    elif step_flops(sizes, batch_size) < MULTI_THREAD_FLOPS:
        threads = 1
    else:
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return _limits(controller, threads)


#: threadpoolctl's view of the BLAS libraries loaded (NumPy's, loaded with it), found once:
#: finding them reads /proc/self/maps, which cost each fit ~0.75 ms (a third of a small
#: partial_fit call); a library loaded later is not NumPy's and not ours to limit
_controller: list = []


def _blas_controller():
    """threadpoolctl's ThreadpoolController, made once; None without threadpoolctl."""
    if not _controller:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            return None
        _controller.append(ThreadpoolController())
    return _controller[0]


@contextmanager
def _limits(controller, threads: int):
    with controller.limit(limits=threads, user_api="blas"):
        yield
