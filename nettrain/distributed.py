"""Data-parallel training over MPI: the only module that imports mpi4py.

Launch: ``mpiexec -n 4 python -m mpi4py -m nettrain fit config.yaml``. Every rank holds the whole
model and the same shuffled order of rows (the same seed); each global mini-batch (``batch_size``
is the global size) is split evenly across the ranks; each rank computes the gradient of its
part, scaled by 1 / (global batch size), and one Allreduce over a single contiguous buffer of all
parameters sums them, so every rank applies the same update: the gradient of the whole batch.
The same buffer carries one more number, the ranks' stop requests (Ctrl-C, SIGTERM), so that all
ranks stop after the same step. Only rank 0 reports progress and writes files.

``python -m mpi4py`` as the launcher matters: when one rank fails with an exception it aborts the
whole job instead of leaving the others waiting forever in the next Allreduce.
"""

from __future__ import annotations

import os
import sys

#: Environment variables that MPI launchers set in every rank (MPICH/Hydra, Open MPI, PMIx, Slurm).
LAUNCHER_VARS = ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS")


class World:
    """The MPI world as training needs it: rank, size, an in-place sum, a barrier."""

    def __init__(self, comm):
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.seconds = 0.0  # time spent in allreduce_sum, for the run summary

    def allreduce_sum(self, buffer) -> float:
        """buffer := the sum of every rank's buffer, in place (one MPI call). Returns the sum's
        last element as a float (the stop requests), read from the host copy when there is one."""
        import time

        start = time.perf_counter()
        try:
            return self._allreduce(buffer)
        finally:
            self.seconds += time.perf_counter() - start

    def _allreduce(self, buffer) -> float:
        from mpi4py import MPI

        from .backend import on_gpu, synchronize

        if on_gpu(buffer) and not _cuda_aware():  # CuPy without CUDA-aware MPI: via the host
            host = buffer.get()  # waits for the GPU
            self.comm.Allreduce(MPI.IN_PLACE, host, op=MPI.SUM)
            buffer.set(host)
            return float(host[-1])
        synchronize(buffer)  # MPI reads GPU memory itself: the step's kernels must be done
        self.comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
        return float(buffer[-1])

    def barrier(self) -> None:
        """Wait until every rank gets here."""
        self.comm.Barrier()

    def sum(self, value: float) -> float:
        from mpi4py import MPI

        return self.comm.allreduce(float(value), op=MPI.SUM)


def _cuda_aware() -> bool:
    """Whether the MPI library can read GPU memory (detected, not assumed)."""
    try:
        from mpi4py import MPI

        return bool(getattr(MPI, "Query_cuda_support", lambda: False)())
    except Exception:
        return False


_WORLD: World | None = None
_CHECKED = False


def world() -> World | None:
    """The MPI world when this process is one of several MPI ranks, else None.

    mpi4py is imported only when an MPI launcher started us (or ``python -m mpi4py`` already
    imported it), so a plain run never pays for MPI.
    """
    global _WORLD, _CHECKED
    if _CHECKED:
        return _WORLD
    _CHECKED = True
    if "mpi4py" not in sys.modules and not any(v in os.environ for v in LAUNCHER_VARS):
        return None
    try:
        from mpi4py import MPI
    except ImportError:
        return None
    comm = MPI.COMM_WORLD
    if comm.Get_size() > 1:
        _WORLD = World(comm)
    return _WORLD


def rank() -> int:
    w = world()
    return w.rank if w is not None else 0


def local_rank() -> int:
    """This rank's number among the ranks on its node (MPICH, Open MPI, Slurm), else its rank."""
    for var in ("MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID"):
        value = os.environ.get(var)
        if value is not None and value.isdigit():
            return int(value)
    return rank()


def gpu_for_rank(device):
    """Under MPI with device gpu (no index given), rank r uses GPU (local rank mod GPUs on the
    node); otherwise the device as resolved."""
    if world() is None or device.kind != "gpu" or device.index != 0:
        return device
    from .backend import gpu_count, gpu_device

    return gpu_device(local_rank() % max(gpu_count(), 1))


def load_once(load):
    """Under MPI, rank 0 runs ``load()`` (reading and encoding the data once, standard input
    included) and sends the result, or its error, to every rank: all ranks then hold the same
    arrays, or raise the same error. Without MPI, just ``load()``."""
    w = world()
    if w is None:
        return load()
    from .errors import NettrainError

    outcome = None
    if w.rank == 0:
        try:
            outcome = ("ok", load())
        except NettrainError as exc:
            outcome = ("error", exc)
    # ranks talk to their own job: pickling our own objects between them is safe here
    kind, value = w.comm.bcast(outcome, root=0)
    if kind == "error":
        value.collective = True  # (every rank raises it here: the job may end without MPI_Abort)
        raise value
    return value


def together(step):
    """Under MPI, ``step()`` on every rank, and then what became of it on every rank, before any
    of them goes on (one allgather): its result where it succeeded everywhere; else the error of
    the lowest rank that failed, raised on every rank and marked ``collective`` (``end_together``
    then ends the job with its exit code and no MPI_Abort; on a rank that did not fail itself it
    says which rank did). Every rank must call it at the same point, as it is a collective call;
    an error other than a NettrainError (a bug) is raised at once, and its rank aborts the job,
    as the others could wait for it forever. Without MPI, just ``step()``."""
    w = world()
    if w is None:
        return step()
    from .errors import NettrainError

    result, failed = None, None
    try:
        result = step()
    except NettrainError as exc:
        failed = exc
    # each rank's error as (message, exit code): plain data, whatever the error's class
    said = w.comm.allgather(None if failed is None else (str(failed), failed.exit_code))
    first = next((r for r, e in enumerate(said) if e is not None), None)
    if first is None:
        return result
    error = failed
    if failed is None or (first != w.rank and not all(said)):  # (another rank's: say which)
        message, code = said[first]
        error = NettrainError(f"MPI rank {first} of {w.size}: {message}")
        error.exit_code = code
    error.collective = True
    raise error


def end_together(exc: BaseException) -> None:
    """Before a rank exits on an error that every rank raised at the same point (``collective``:
    ``load_once``, ``together``): finalize MPI, so that the job ends with the ranks' exit code
    and no MPI_Abort (whose line MPICH's mpiexec prints: ``Abort(2) on node 0 ...``). Nothing
    for another error, or without MPI: a rank that fails alone aborts the job, as before."""
    if not getattr(exc, "collective", False) or world() is None:
        return
    from mpi4py import MPI

    if not MPI.Is_finalized():
        MPI.Finalize()
