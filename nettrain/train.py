"""The fit loop: epochs of shuffled mini-batches, validation, events for a reporter.

Each epoch shuffles the training rows with the seeded host generator and visits all of them in
batches of ``batch_size``; the last, smaller batch is kept (its cost is a mean over its own rows).
Per step: forward, backward (network.py), update (optimizers.py). The loss of every step is
accumulated on the device and read once per epoch, so the GPU never waits on the host inside an
epoch (as are the layers' gradient norms that ``training.gradient_norms`` records). Same
config, same seed, same machine and thread count: the same model, bit for bit.

The library never prints: progress goes to ``on_event(kind, info)``, which ``report.py`` renders.
Event kinds: 'notice' (message), 'warning' (message, epoch, path: a checkpoint that could not be
written), 'start', 'batch' (a few per long epoch), 'epoch', 'checkpoint', 'early_stop', 'test',
'end'.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from . import distributed, metrics
from .backend import Device, cpu_threads, nettrain_threads, resolve_device, to_host, xp_of
from .checkpoint import PATTERN as CHECKPOINT
from .checkpoint import (
    checkpoint_path,
    checkpoints_in,
    comparable,
    config_hash,
    find_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from .config import Config, with_data_sizes
from .data import (
    UNKNOWN_POLICIES,
    Dataset,
    RunData,
    StreamedDataset,
    held_out_note,
    hold_out_rows,
    load_run_data,
    normalized_weights,
    scoring_weights,
    stream_rng,
)
from .errors import (
    ConfigError,
    DataError,
    Interrupted,
    NettrainError,
    OutputError,
    TrainingDiverged,
    os_reason,
    shown,
)
from .modelfile import Model, load_model, model_writer, read_meta, text_writer, write_all_atomic
from .network import Network
from .optimizers import SGD, get_optimizer
from .runlock import RunLock
from .schedules import get_schedule
from .warmstart import check_same_encoding, encoding_rows, open_warm_start

EventHandler = Callable[[str, dict], None]

#: What fit writes into the run folder (besides checkpoint-<epoch>.npz).
RUN_FILES = ("model.npz", "history.jsonl", "config.yaml")
#: The first line of the config.yaml fit writes: such a file may be replaced by a run of it.
RESOLVED_MARK = "# nettrain: the resolved config of this run; `nettrain fit` on it repeats the run\n"


def _ignore(kind: str, info: dict) -> None:
    pass


@dataclass
class RunState:
    """A run's state at the end of an epoch, held in memory: what a checkpoint file holds, in
    the four parts ``load_checkpoint`` reads from one (the model with the run's metadata, the
    checkpoint state: epochs done, history, optimizer and schedule scalars, the generators'
    states, early stopping; the optimizer's arrays; the best weights or None).
    ``fit(config, resume=state)`` continues from it as ``--resume`` from a checkpoint file, with
    the same checks; ``fit(..., keep_state=True)`` returns the state a run ends in as
    ``FitResult.state``. The estimators' ``partial_fit`` goes on this way, one epoch a call."""

    model: Model
    state: dict
    optimizer_arrays: list
    best: tuple[list, list] | None = None
    #: what messages call it where they would name a checkpoint file
    name: str = "the run state given to fit"

    def __str__(self) -> str:
        return self.name


@dataclass
class FitResult:
    """What ``fit`` produced: the model, one history record per epoch, a summary, test scores,
    and with ``keep_state`` the run's end state (``RunState``) to resume from."""

    model: Model
    history: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    test: dict | None = None
    output: str | None = None
    state: RunState | None = None


def evaluate_dataset(
    network: Network, data: Dataset, encoding, device: Device, batch_size: int = 8192, on_device=None
) -> dict:
    """Loss and the task's metric (accuracy, or R^2 in standardized units) on a data set.

    A set with weights ``data.w`` (a validation or test set's, data.weight: ``scoring_weights``,
    a mean of 1) is scored as scikit-learn's ``sample_weight`` and Keras's validation sample
    weights: the loss is the weighted mean of the rows' losses, sum w_i l_i / sum w_i, the
    metric metrics.py's weighted form; the result then has ``weighted: True``.

    ``on_device`` may hold (X, Y, w) already copied to the device (fit copies the validation
    set once when it fits; w float64, or None without weights); else each batch is copied
    over."""
    xp = device.xp
    loss_sum = xp.zeros((), dtype=np.float64)
    outputs = []
    n = len(data.X)
    w = data.w
    if on_device is not None:
        X, Y, W = on_device
    else:
        X, Y, W = data.X, data.Y, w
    # the cost is taken in float64 from the outputs: a row far outside the training data's range
    # overflowed float32 (mse's (s - y)^2 past 3e38: a test loss of inf, and NumPy's
    # RuntimeWarning on the terminal, as fit scores its test set after the training loop's
    # errstate); an output that overflowed itself still gives inf or NaN, quietly
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for start in range(0, n, batch_size):
            x = device.asarray(X[start : start + batch_size], dtype=network.dtype)
            y = device.asarray(Y[start : start + batch_size], dtype=np.float64)
            zs, acts = network.forward_cache(x)
            z, s = zs[-1].astype(np.float64), acts[-1].astype(np.float64)
            if w is None:
                loss_sum += network.cost.loss(z, s, y) * len(x)
            else:  # (1/m) sum w_i l_i over the batch's m rows, times m
                wb = device.asarray(W[start : start + batch_size], dtype=np.float64)
                loss_sum += network.cost.loss(z, s, y, wb) * len(x)
            outputs.append(to_host(acts[-1]))
    s = np.concatenate(outputs)
    # sum w_i l_i / sum w_i: the weights' mean is 1, so their sum is n (exactly n for equal ones)
    total = n if w is None else float(np.sum(w, dtype=np.float64))
    result: dict[str, Any] = {"loss": float(loss_sum) / total}
    if encoding.task == "classification":
        true = data.Y[:, 0].astype(int) if s.shape[1] == 1 else data.Y.argmax(axis=1)
        result["accuracy"] = metrics.accuracy(true, encoding.predicted_index(s), w)
    else:
        result["r2"] = metrics.r2(data.Y, s, w)
    if w is not None:
        result["weighted"] = True
    return result


def gather(source, rows, out) -> None:
    """out := source[rows] without allocating (NumPy's take with mode='clip' writes straight
    into ``out``; mode='raise' would buffer it)."""
    if isinstance(source, np.ndarray):
        np.take(source, rows, axis=0, out=out, mode="clip")
    else:
        xp_of(source).take(source, rows, axis=0, out=out)


#: In-memory training data bigger than this share of the GPU's free memory stays on the host
#: and goes over in chunks (each at most CHUNK_SHARE of the free memory).
DEVICE_SHARE = 0.5
CHUNK_SHARE = 0.125


def device_chunk_rows(device: Device, train, batch_size: int) -> int | None:
    """None when the training set is copied to the device whole (always on the CPU); else the
    rows per chunk, a multiple of the batch size."""
    free = device.free_bytes()
    size = train.X.nbytes + train.Y.nbytes
    if free is None or size <= DEVICE_SHARE * free:
        return None
    row = max(1, size // max(1, len(train.X)))
    batches = int(CHUNK_SHARE * free) // (row * batch_size)
    return max(1, batches) * batch_size


class Share:
    """This rank's even share of every global batch under MPI (all of it in one process), and
    where that share starts, which dropout needs to draw the same masks as one process."""

    def __init__(self, world=None):
        self.world = world
        self.first = 0

    def __call__(self, *arrays):
        """The rows of this rank's share of each array (the global batch)."""
        if self.world is None:
            return arrays
        q, extra = divmod(len(arrays[0]), self.world.size)
        rank = self.world.rank
        lo = rank * q + min(rank, extra)
        hi = lo + q + (rank < extra)
        self.first = lo
        return tuple(a[lo:hi] for a in arrays)

    def rows(self, m_global: int):
        """(first row, global batch size) of the current share, for dropout (None alone)."""
        return None if self.world is None else (self.first, m_global)


def memory_batches(X, Y, perm, bs: int, share: Share, buffers: dict, W=None):
    """One epoch over training data on the device: the rows of the permutation ``perm`` cut into
    global batches of ``bs`` (the last may be short); this rank's share of each is gathered into
    buffers reused from batch to batch (no allocation per step). ``W`` (n,): the rows' sample
    weights on the same device, gathered with them, or None. Yields (xb, yb, wb, global size),
    wb None without W."""
    xp = xp_of(X)
    for start in range(0, len(perm), bs):
        (idx,) = share(perm[start : start + bs])
        m = len(idx)
        if m not in buffers:
            buffers[m] = (
                xp.empty((m, X.shape[1]), X.dtype),
                xp.empty((m, Y.shape[1]), Y.dtype),
                None if W is None else xp.empty(m, W.dtype),
            )
        xb, yb, wb = buffers[m]
        gather(X, idx, xb)
        gather(Y, idx, yb)
        if W is not None:
            gather(W, idx, wb)
        yield xb, yb, wb, min(bs, len(perm) - start)


def chunked_batches(X, Y, perm, bs: int, share: Share, chunk_rows: int, device: Device, dtype, W=None):
    """``memory_batches`` for training data left on the host (too big for the GPU): the same
    permutation and batches, the rows of ``chunk_rows`` (a multiple of bs) gathered on the host
    and copied over at once (and their sample weights ``W``, host (n,), when given)."""
    for first in range(0, len(perm), chunk_rows):
        rows = perm[first : first + chunk_rows]
        Xc = device.asarray(X.take(rows, axis=0), dtype=dtype)
        Yc = device.asarray(Y.take(rows, axis=0), dtype=dtype)
        Wc = None if W is None else device.asarray(W.take(rows), dtype=dtype)
        for start in range(0, len(rows), bs):
            xb, yb = Xc[start : start + bs], Yc[start : start + bs]
            if Wc is None:
                yield *share(xb, yb), None, len(xb)
            else:
                yield *share(xb, yb, Wc[start : start + bs]), len(xb)


def class_weights(
    config: Config, classes: list[str], Y, one_per_row: bool = True
) -> tuple[float, ...] | None:
    """training.class_weight as one number per class, in the order of ``classes`` (the
    encoding's), from the training targets Y (n, outputs): None for no weights, or when every
    weight is 1 (the plain mean, computed as without the key).

    'balanced' is scikit-learn's compute_class_weight: n / (n_classes * count of class c) over
    the training rows. A mapping names classes by their labels; a class it leaves out weighs 1.
    Raises ConfigError for a label that is not a class, DataError for rows that are not one
    class each or a class with no training row under 'balanced' (both only with ``one_per_row``:
    without it, Y is random targets, whose absent classes weigh 1)."""
    spec = config.training.class_weight
    if spec is None:
        return None
    path = ("training", "class_weight")
    if isinstance(Y, np.ndarray):
        Y = np.asarray(Y, dtype=np.float64)
        if Y.shape[1] == 1:
            counts = np.array([len(Y) - Y[:, 0].sum(), Y[:, 0].sum()])
            multi = ((Y[:, 0] != 0) & (Y[:, 0] != 1)).any()
        else:
            counts = Y.sum(axis=0)
            multi = (Y.sum(axis=1) != 1).any()
        if multi and one_per_row:
            raise DataError(
                "training.class_weight weighs each row by its class: the targets must be one class "
                "per row (one-hot rows, or 0/1 for one output), not several labels"
            )
    elif spec == "balanced":
        raise ConfigError(
            config.problem(
                path, "'balanced' counts the classes of the training data in memory; give a mapping"
            )
        )
    if spec == "balanced":
        if (counts == 0).any() and one_per_row:
            missing = classes[int(np.argmin(counts))]
            raise DataError(f"training.class_weight 'balanced': class '{missing}' has no training row")
        # (random targets, gradcheck's without data: a class none of them holds weighs no row,
        # whatever its weight; 1)
        with np.errstate(divide="ignore"):
            weights = [float(v) if c else 1.0 for v, c in zip(counts.sum() / (len(classes) * counts), counts)]
    else:
        index = {c: i for i, c in enumerate(classes)}
        numbers = {}
        for c, i in index.items():
            try:
                numbers.setdefault(float(c), i)
            except ValueError:
                pass
        weights = [1.0] * len(classes)
        for label, weight in spec.items():
            i = index.get(label)
            if i is None:
                try:
                    i = numbers.get(float(label))
                except ValueError:
                    pass
            if i is None:
                raise ConfigError(
                    config.problem(
                        (*path, label),
                        f"'{label}' is not a class of the training data; classes: {', '.join(classes)}",
                    )
                )
            weights[i] = weight
    return None if all(w == 1.0 for w in weights) else tuple(weights)


def to_scalar(value):
    """A step's loss as something cheap to add up: a Python float from NumPy (no cost), the
    0-d device array itself from CuPy (float() there would wait for the GPU every step)."""
    return float(value) if isinstance(value, (np.ndarray, np.generic)) else value


#: How a rank's stop request travels in the Allreduce's spare element: the sum of every rank's
#: code tells whether any rank was asked to stop, and whether any of them by SIGTERM (exact in
#: float32 for up to 4095 ranks)
STOP_CODES = {"SIGINT": 1.0, "SIGHUP": 2.0**12, "SIGTERM": 2.0**24}


def _stop_from_code(total: float) -> str | None:
    """The signal a job stops on from the sum of its ranks' STOP_CODES (under 4096 ranks: the
    codes cannot add up to the next one): the most severe that any rank got."""
    for name in ("SIGTERM", "SIGHUP", "SIGINT"):
        if total >= STOP_CODES[name]:
            return name
    return None


def _allreduce(world, ws, signal_name: str | None) -> str | None:
    """Sum every rank's gradients (one Allreduce of the workspace's flat buffer) and, in its
    spare last element, the ranks' stop requests: all ranks stop after the same step, under the
    same signal's name (SIGTERM when any rank got one: a job being shut down)."""
    ws.flat[-1] = STOP_CODES.get(signal_name, 1.0) if signal_name else 0.0
    return _stop_from_code(world.allreduce_sum(ws.flat))


def clip_by_global_norm(grads: list, clip: float, scale: float = 1.0) -> None:
    """Scale every gradient by min(1, clip / (||g|| + 1e-6)), ||g|| the norm over all of them,
    in place: torch.nn.utils.clip_grad_norm_'s rule. ``grads`` may hold scale * g (plain SGD
    folds the learning rate in); the norm compared with ``clip`` is still that of g.

    The factor stays a device scalar: no host sync.
    """
    if scale == 0:  # lr 0: the gradients are zeros already
        return
    xp = xp_of(grads[0])
    total = sum(xp.dot(g.reshape(-1), g.reshape(-1)) for g in grads)  # no temporaries
    factor = xp.minimum(1.0, clip / (xp.sqrt(total) / scale + 1e-6)).astype(grads[0].dtype)
    for g in grads:
        g *= factor


class GradientNorms:
    """``training.gradient_norms``: each layer's gradient norm over an epoch, for seeing gradients
    vanish or explode. For W(l) (``W[l - 1]``), over the epoch's K steps (a short last batch is
    a step like the others):

        grad_norm(l) = sqrt( (1/K) sum_k ||dC_k/dW(l)||^2 ),   ||G||^2 = sum_ij G_ij^2 (Frobenius)

    the root mean square of the norm of the gradient each step formed, C_k being step k's
    mini-batch cost (the mean over its global batch; under MPI the gradient after the ranks'
    sum, the same on every rank). Measured before clipping and without weight decay's wd W.

    The squared norms are summed on the device (one dot product per layer and step, into a
    float64 vector) and read once per epoch, as the loss is: no step waits for the host.
    """

    def __init__(self, xp, n_layers: int):
        self.sums = xp.zeros(n_layers, dtype=np.float64)
        # one 1-element view per layer: ``part += ...`` adds into ``sums`` in place
        self.parts = [self.sums[l : l + 1] for l in range(n_layers)]
        self.steps = 0

    def add(self, dW: list) -> None:
        """Add one step's ||dW(l)||^2 for every layer (dW: the workspace's, after the Allreduce)."""
        xp = xp_of(dW[0])
        for part, g in zip(self.parts, dW):
            v = g.reshape(-1)  # (a view: dW is contiguous)
            part += xp.dot(v, v)
        self.steps += 1

    def read(self, scale: float = 1.0) -> list[float | None]:
        """The epoch's grad_norm, one per layer (float() waits for the device: once per epoch).

        ``scale``: what the gradients were multiplied by (plain SGD folds lr into them, so
        scale = lr there; at lr 0 it forms them unscaled, scale 1). None where there is no
        number to give: gradients scaled by 0, or a norm that overflowed.
        """
        if scale == 0 or self.steps == 0:
            return [None] * len(self.parts)
        rms = np.sqrt(to_host(self.sums) / self.steps) / scale
        return [float(x) if math.isfinite(x) else None for x in rms]


class _Early:
    """Early stopping: watch ``monitor``; stop after ``patience`` epochs without an improvement of
    more than ``min_delta``; remember the best epoch's weights when ``restore_best``."""

    def __init__(self, spec: dict):
        self.monitor = spec["monitor"]
        self.patience = int(spec["patience"])
        self.min_delta = float(spec["min_delta"])
        self.restore_best = bool(spec["restore_best"])
        self.higher = self.monitor.endswith(("accuracy", "r2"))
        self.best: float | None = None
        self.best_epoch = 0
        self.wait = 0
        self.best_weights: tuple[list, list] | None = None

    def update(self, epoch: int, record: dict, net: Network) -> bool:
        """Record an epoch; True when training should stop."""
        value = record[self.monitor]
        if self.best is None or (
            value > self.best + self.min_delta if self.higher else value < self.best - self.min_delta
        ):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self.best_weights = ([to_host(w).copy() for w in net.W], [to_host(v).copy() for v in net.b])
            return False
        self.wait += 1
        return self.wait >= self.patience

    def state(self) -> dict:
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait}

    def load(self, state: dict, best_weights) -> None:
        self.best, self.best_epoch, self.wait = state["best"], int(state["best_epoch"]), int(state["wait"])
        self.best_weights = best_weights


def check_memory(config, snapshot: bool) -> None:
    """A ConfigError, before the network is built, when the copies of its parameters that fit
    holds (README: Memory of the network) cannot fit in the memory available: each would be
    allocated alone, and the kernel would kill the run part-way instead (or swap for long).
    Counted: the weights, the gradients, the optimizer's state, the epoch-start copy of weights
    and state that an interrupt saves (``snapshot``), early stopping's best weights (restore_best);
    not a step's temporaries, so a run that fits is never refused."""
    from .backend import available_memory, gib
    from .network import count_params
    from .optimizers import OPTIMIZERS

    tc = config.training
    slots = OPTIMIZERS[tc.optimizer].n_slots
    best = bool(tc.early_stopping and tc.early_stopping.get("restore_best"))
    copies = 2 + slots + (1 + slots if snapshot else 0) + best
    n = count_params(config.network.layers)
    need = copies * np.dtype(config.dtype).itemsize * n
    free = available_memory()
    if free is not None and need > free:
        raise ConfigError(
            f"network.layers {list(config.network.layers)} makes {n:,} parameters, and fit holds at "
            f"least {copies} copies of them ({gib(need)} in {config.dtype}: weights, gradients"
            + (f", {tc.optimizer}'s state" if slots else "")
            + (", the epoch-start copy an interrupt saves" if snapshot else "")
            + (", early stopping's best" if best else "")
            + f"), where {gib(free)} of memory is available: make the network smaller"
        )


def eta(total: float, first: float, done: int, left: int) -> float:
    """Seconds left for ``left`` more epochs, after ``done`` took ``total`` seconds, the first of
    them ``first``: at the pace of the epochs after the first, which pays for the warm-up (BLAS
    threads, buffers; on a GPU, compiling the kernels) and would hold the estimate up for long."""
    if done < 2:
        return total * left
    return (total - first) / (done - 1) * left


def run_meta(config: Config, training: dict, started_from: dict | None) -> dict:
    """The metadata fit gives a model or checkpoint of a run: the resolved config, the training
    summary and, for a warm-started run, the model it started from (``warm_start``)."""
    meta = {"config": config.to_dict(), "training": training}
    if started_from is not None:
        meta["warm_start"] = started_from
    return meta


def start_from(config: Config, warm_start=None, resume=None, check_data: bool = True):
    """(the warm start or None, the config, the encoding the data is read with, the rows it was
    fitted on) of a run that starts from ``warm_start`` (its config then has the model's auto
    layer sizes, and the encoding is its model's) or resumes ``resume`` (a warm-started run's
    encoding is its model's, kept in its checkpoint, never fitted on the data); the encoding is
    None where it is fitted on the training rows, and its rows None too, or where the model does
    not say (warmstart.encoding_rows). ``check_data``: see warmstart.open_warm_start. Raises
    ConfigError for both at once, and what open_warm_start and find_checkpoint raise."""
    if warm_start is not None:
        if resume is not None:
            raise ConfigError(
                "warm start and resume do not go together: resume continues a run (its weights, "
                "optimizer state and epochs); a warm start begins a new one from a model's weights"
            )
        warm, config = open_warm_start(warm_start, config, check_data=check_data)
        return warm, config, warm.model.encoding, warm.encoding_rows
    if isinstance(resume, RunState):  # (in memory: its model is at hand)
        if isinstance(resume.model.meta.get("warm_start"), dict):
            return None, config, resume.model.encoding, encoding_rows(resume.model.meta)
    elif resume is not None:
        path = find_checkpoint(resume)
        meta = read_meta(path)
        if isinstance(meta.get("warm_start"), dict):
            return None, config, load_model(path).encoding, encoding_rows(meta)
    return None, config, None, None


def check_unknown(unknown: str, model_encoding: bool) -> None:
    """A ConfigError for an ``unknown`` policy that is not one, or 'ignore' where the training
    data is not read with a model's encoding (``model_encoding``: a warm start, or the resume of
    a warm-started run): a run that fits its own encoding knows every category of its training
    data, so there it would do nothing."""
    if unknown not in UNKNOWN_POLICIES:
        raise ConfigError(f"unknown='{unknown}' is not one of: {', '.join(UNKNOWN_POLICIES)}")
    if unknown == "ignore" and not model_encoding:
        raise ConfigError(
            "--unknown ignore is for a warm start's training data (--warm-start, or --resume of a "
            "warm-started run), read with the model's categories; a fit without one learns the "
            "categories of its own training data, so none is unknown and the option would do nothing"
        )


def _host_copy(arrays: list) -> list:
    return [to_host(a).copy() for a in arrays]


#: The first words of fit's notices that the scikit-learn estimators tell apart: the two that
#: echo what was asked for (not passed on as Python warnings) and the one that says training
#: ended worse than a constant prediction (passed on as a ConvergenceWarning)
CLASS_WEIGHTS_NOTE = "class weights in the training cost"
WARM_START_NOTE = "warm start from"
#: how fit's notice of a resumed run begins ('resuming from PATH after epoch N')
RESUME_NOTE = "resuming from"
WORSE_THAN_A_CONSTANT = "the training loss ends at"

#: fit's notice for training.decay_biases: true with no weight decay to apply to the biases
DECAY_BIASES_NOTE = (
    "training.decay_biases is true, but training.weight_decay is 0: nothing is decayed (set a "
    "weight_decay, or leave decay_biases out)"
)

#: what a model trained on arrays records as its data (metadata training.data), for info
ARRAYS_SOURCE = "arrays given to fit"


def fit(
    config: Config,
    on_event: EventHandler | None = None,
    *,
    stdin=None,
    save: bool = True,
    data: RunData | None = None,
    resume: str | None = None,
    force: bool = False,
    stop: Callable[[], str | None] | None = None,
    warm_start=None,
    unknown: str = "error",
    keep_state: bool = False,
) -> FitResult:
    """Train the network a config describes and (when ``save``) write its run folder.

    The run folder (``config.output``) receives config.yaml (the resolved config), history.jsonl
    (one JSON object per epoch) and model.npz, all written atomically and only after training
    succeeded, so an earlier good model is never replaced by a diverged one; and checkpoints
    (checkpoint-<epoch>.npz) every ``training.checkpoint_every`` epochs.

    Parameters
    ----------
    resume : a checkpoint file, or a run folder whose newest checkpoint to continue from, or a
        ``RunState`` (a checkpoint held in memory: a ``keep_state`` run's ``FitResult.state``).
    keep_state : return the state the run ends in (the end of its last epoch, before early
        stopping's restore_best) as ``FitResult.state``, to resume from in memory.
    force : resume even though the config differs from the checkpoint's.
    warm_start : a Model, or a model file or run folder: start from its weights instead of
        fresh ones (warmstart.py). The config's network must be the model's; the data is
        encoded with the model's encoding. Everything else starts afresh (a new run). The
        model records it under ``warm_start`` (path, weights_sha256). Not with ``resume``.
    unknown : 'error' or 'ignore': a category of a warm start's training data that the model
        never saw is a DataError, or encoded as all zeros with a note (also on ``resume`` of a
        warm-started run, whose data is read with the model's encoding again). A ConfigError
        for a run whose encoding is fitted on its own training data, where no category is
        unknown, and with ``data`` (already encoded).
    stop : polled after every step; when it returns a signal name ('SIGINT', 'SIGTERM'), training
        stops, a checkpoint of the state at the start of the current epoch is written (that
        epoch is run again on resume, so the result is exactly that of an uninterrupted run), and
        Interrupted is raised.

    Raises
    ------
    ConfigError, DataError, BackendError : bad config, data or device (before any training).
    ModelFileError : the warm-start model cannot be read (before any training).
    OutputError : the run folder cannot be written, or would replace an input (before training).
    TrainingDiverged : the loss became NaN or infinite (nothing is written).
    Interrupted : ``stop`` asked to stop (a checkpoint was written when ``save``).
    OutputError : another fit is writing the run folder (runlock.py): refused before the data
        is read.
    """
    locks: list[RunLock] = []  # the run folder's, held from before the data is read to the end
    try:
        return _fit(
            config, on_event, stdin, save, data, resume, force, stop, warm_start, unknown, locks, keep_state
        )
    finally:
        for lock in locks:
            lock.release()


def _fit(
    config, on_event, stdin, save, data, resume, force, stop, warm_start, unknown, locks: list, keep_state
) -> FitResult:
    """fit's work; ``locks`` receives the run folder's lock, which fit lets go of at the end."""
    world = distributed.world()
    if world is not None and world.rank != 0:  # only rank 0 reports and writes
        on_event, save = None, False
    emit = on_event or _ignore
    tc = config.training
    device = distributed.gpu_for_rank(resolve_device(config.device))
    if device.kind == "cpu":
        nettrain_threads()  # (a bad NETTRAIN_THREADS fails now, not after reading the data)
    if device.notice:
        emit("notice", {"message": device.notice})
    warm, config, encoding, encoding_n = start_from(config, warm_start, resume, check_data=data is None)
    check_unknown(unknown, encoding is not None)
    if unknown == "ignore" and data is not None:
        raise ConfigError(
            "unknown='ignore' is for the data fit reads; the data given to fit is encoded already"
        )
    if data is not None and config.data.weight is not None and getattr(data.train, "w", None) is None:
        # (the column of a file fit does not read: the run would be unweighted, unsaid)
        raise ConfigError(
            config.problem(
                ("data", "weight"),
                f"'{config.data.weight}' is a column of the training file, which fit does not read "
                "when given data: pass the weights as RunData.from_arrays(..., sample_weight=w)",
            )
        )
    if data is None:  # (before reading the data: the config alone says whether there is some)
        check_monitors(config, bool(config.data.validation))
    if save:  # a run folder that cannot be written fails now, not after the training
        check_output(config)
        # and one that another fit is writing too: two runs would prune each other's checkpoints
        locks.append(RunLock(config.output).acquire())
        if locks[-1].notice:
            emit("notice", {"message": locks[-1].notice})
    if data is None:
        data = distributed.load_once(
            lambda: load_run_data(
                config, stdin=stdin, encoding=encoding, encoding_rows=encoding_n, unknown=unknown
            ).without_tables()
        )
        source = "standard input" if config.data.train == "-" else str(config.data.train)
    else:
        if warm is not None:
            check_same_encoding(data.encoding, warm)
        data = _hold_out(config, data)
        source = ARRAYS_SOURCE  # (not the config's data.train, which was not read)
    # network.layers' auto sizes are the data's: from here on (and in the model) the numbers
    config = with_data_sizes(config, data.encoding.n_inputs, data.encoding.n_outputs)
    for note in data.notes:
        emit("notice", {"message": note})
    if note := _weighted_scores_note(config, data):
        emit("notice", {"message": note})
    check_data_fits(config, data)
    check_monitors(config, data.validation is not None)
    if device.kind == "cpu":  # (a GPU says so itself, at the allocation: out of GPU memory)
        check_memory(config, snapshot=(stop is not None or world is not None) and save)
    xp = device.xp

    net = Network.from_config(config, device=device)
    if warm is not None:
        net.set_weights(warm.model.network, device)
    train_Y = None if isinstance(data.train, StreamedDataset) else data.train.Y
    net.set_class_weight(class_weights(config, data.encoding.classes, train_Y))
    if net.class_weight is not None:
        shown = ", ".join(f"{c}: {w:.4g}" for c, w in zip(data.encoding.classes, net.class_weight))
        emit("notice", {"message": f"{CLASS_WEIGHTS_NOTE}: {shown}"})
    # weight decay on the weights W only, or (decay_biases) on every parameter, as PyTorch's
    # optimizers apply their weight_decay
    decayed = None if tc.decay_biases else net.is_weight()
    optimizer = get_optimizer(tc.optimizer, tc.learning_rate, tc.weight_decay, decayed, **tc.optimizer_params)
    if tc.decay_biases and tc.weight_decay == 0:  # (valid, as for a sweep over weight_decay, but inert)
        emit("notice", {"message": DECAY_BIASES_NOTE})
    schedule = get_schedule(tc.schedule, tc.learning_rate, tc.epochs, len(data.train), **tc.schedule_params)
    shuffle_rng = stream_rng(tc.seed, 2)
    dropout_rng = stream_rng(tc.seed, 3) if any(tc.dropout) or tc.input_dropout else None
    early = _Early(tc.early_stopping) if tc.early_stopping else None
    history: list[dict] = []
    #: how many of history's first records are a resumed state's: copies already made for a run
    #: state (run_state), never changed, which a new run state shares rather than copies again
    #: (a copy at every partial_fit made 10,000 calls quadratic)
    resumed = 0
    first_epoch = 1
    # the training time of the epochs before a resume and how many epochs it covers (a checkpoint
    # carries both; one of an older nettrain does not, and its epochs go untimed), and the part
    # of it spent in MPI's Allreduce (under MPI)
    time_before, timed_before, allreduce_before = 0.0, 0, 0.0
    chash = config_hash(config.to_dict())

    #: the model this run started from (path, weights_sha256), recorded in its model files
    started_from = warm.record() if warm is not None else None
    if started_from is not None and unknown == "ignore":  # (what repeats the run: save_run)
        started_from["unknown"] = unknown
    if warm is not None:
        digest = warm.weights_sha256[:16]
        emit("notice", {"message": f"{WARM_START_NOTE} {warm.name} (weights sha256 {digest}...)"})
    if resume is not None:
        if not isinstance(resume, RunState):
            resume = str(find_checkpoint(resume))  # a run folder's newest: named in the notice
        first_epoch, history, notes, started_from, (time_before, timed_before, allreduce_before) = _resume(
            resume,
            force,
            config,
            net,
            optimizer,
            schedule,
            shuffle_rng,
            dropout_rng,
            early,
            data,
            device,
        )
        resumed = len(history)
        if started_from is not None and unknown == "ignore":  # (its data now read with it too)
            started_from = {**started_from, "unknown": unknown}
        emit("notice", {"message": f"{RESUME_NOTE} {resume} after epoch {first_epoch - 1}"})
        for note in notes:
            emit("notice", {"message": note})

    if save and resume is None:
        earlier = checkpoints_in(config.output) if Path(config.output).is_dir() else []
        if earlier:
            names = ", ".join(p.name for _, p in earlier[:3]) + (", ..." if len(earlier) > 3 else "")
            emit(
                "notice",
                {
                    "message": f"{config.output} holds checkpoints of an earlier run ({names}); this "
                    "run's checkpoints replace those of the same epoch (another -o keeps them)"
                },
            )
        if (Path(config.output) / "model.npz").is_file():
            emit(
                "notice",
                {
                    "message": f"{config.output} holds the model of an earlier run; this run "
                    "replaces it when it finishes (another -o keeps it)"
                },
            )

    streamed = isinstance(data.train, StreamedDataset)
    n = len(data.train)
    bs = min(tc.batch_size, n)
    if streamed:
        n_batches = data.train.n_batches()
    else:
        # the training data goes to the device once, or, when it would take more than half of
        # the GPU's free memory, a chunk of shuffled rows at a time (the same batches)
        chunk_rows = device_chunk_rows(device, data.train, bs)
        # the rows' sample weights (data.weight, normalized to a mean of 1), or None
        X, Y, W = data.train.X, data.train.Y, data.train.w
        if chunk_rows is None:  # (in the network's dtype: arrays given to fit may differ)
            X, Y = device.asarray(X, dtype=net.dtype), device.asarray(Y, dtype=net.dtype)
            W = None if W is None else device.asarray(W, dtype=net.dtype)
        n_batches = math.ceil(n / bs)
    # the validation set goes to the device once too, when it fits beside the training data
    val_on_device = None
    if data.validation is not None and device.kind == "gpu":
        val = data.validation
        if device_chunk_rows(device, val, bs) is None:
            val_on_device = (
                device.asarray(val.X, dtype=net.dtype),
                device.asarray(val.Y, dtype=net.dtype),
                None if val.w is None else device.asarray(val.w, dtype=np.float64),
            )
    batch_every = max(1, n_batches // 20)
    emit(
        "start",
        {
            "epochs": tc.epochs,
            "first_epoch": first_epoch,
            # the training time before this process (a resumed run's: the checkpoint's), from
            # which the epochs' elapsed goes on
            "elapsed": time_before,
            "n_train": n,
            "n_val": len(data.validation.X) if data.validation else 0,
            "n_test": len(data.test.X) if data.test else 0,
            "batches": n_batches,
            "batch_size": bs,
            "params": net.n_params(),
            "device": str(device),
            "sizes": net.sizes,
            "task": config.task,
            "output": config.output,
            "ranks": world.size if world is not None else None,
            "warm_start": started_from,
        },
    )

    share = Share(world)  # this rank's rows of each global batch
    gather_buffers: dict[int, tuple] = {}

    # the newest checkpoint of this run that is on disk: (epoch, path); the one resumed from first
    newest: list[tuple[int, str]] = []
    if resume is not None and save and not isinstance(resume, RunState):
        newest.append((first_epoch - 1, resume))

    def checkpoint(epoch: int, snap: dict | None = None, then: str = "training goes on") -> str | None:
        """Write checkpoint-<epoch>.npz from the live state, or from a snapshot of it; None when
        it could not be written (a full disk, a permission taken away): a 'warning' event says
        so, ending with what happens ``then``, and training goes on (the next checkpoint tries
        again)."""
        if not save:
            return None
        held = run_state(snap or snapshot(epoch))
        try:
            path = save_checkpoint(
                config.output,
                epoch,
                held.model,
                held.state,
                held.optimizer_arrays,
                held.best,
                tc.checkpoint_keep,
            )
        except OutputError as exc:
            emit(
                "warning",
                {
                    "message": f"checkpoint of epoch {epoch} not written: {exc} ({then})",
                    "epoch": epoch,
                    "path": str(checkpoint_path(config.output, epoch)),
                },
            )
            return None
        newest[:] = [(epoch, str(path))]
        emit("checkpoint", {"epoch": epoch, "path": str(path)})
        return str(path)

    def run_state(snap: dict) -> RunState:
        """A snapshot as a checkpoint holds it (written by ``checkpoint``, or kept in memory)."""
        host = net.with_params(snap["W"], snap["b"])
        upto = snap["history"]
        records = history[: min(resumed, upto)] + [dict(r) for r in history[resumed:upto]]
        last = records[-1] if records else {}
        training = {"epochs": snap["epoch"], "checkpoint": True, "device": str(device), "n_train": n}
        training.update({k: last[k] for k in ("loss", "val_loss", "val_accuracy", "val_r2") if k in last})
        model = Model(host, data.encoding, run_meta(config, training, started_from))
        state = {
            "config_hash": chash,
            "epoch": snap["epoch"],
            "history": records,
            "optimizer": snap["optimizer"],
            "schedule": snap["schedule"],
            "shuffle_rng": snap["shuffle_rng"],
            "dropout_rng": snap["dropout_rng"],
            "early_stopping": snap["early"],
            "train_time_s": snap["train_time_s"],
            "timed_epochs": snap["timed_epochs"],
            "allreduce_s": snap["allreduce_s"],
        }
        if data.validation is not None:  # (checkpoints of before it: their scores were unweighted)
            state["val_weighted"] = data.validation.w is not None
        return RunState(model, state, snap["optimizer_arrays"], snap["best"])

    def newest_checkpoint() -> tuple[int, str] | None:
        """(epoch, path) of this run's newest checkpoint still on disk, or None."""
        return newest[0] if newest and os.path.isfile(newest[0][1]) else None

    def snapshot(epoch: int) -> dict:
        """Host copies of everything that decides the rest of the run."""
        return {
            "epoch": epoch,
            "W": _host_copy(net.W),
            "b": _host_copy(net.b),
            "optimizer": optimizer.state_dict(),
            "optimizer_arrays": _host_copy(optimizer.state_arrays()),
            "schedule": schedule.state_dict(),
            "shuffle_rng": shuffle_rng.bit_generator.state,
            "dropout_rng": dropout_rng.bit_generator.state if dropout_rng is not None else None,
            "early": early.state() if early else None,
            "best": early.best_weights if early else None,
            # how many records: the history only grows, so its first n are this snapshot's
            # (copied by run_state when one is written; a copy here, every epoch, made a long
            # run quadratic: 16,000 epochs of XOR took 12.8 s, 1.0 s without it)
            "history": len(history),
            # the training time up to now (the end of the epochs done: at the start of the next)
            "train_time_s": time_before + time.perf_counter() - t_start,
            "timed_epochs": timed_before + epoch - first_epoch + 1,
            "allreduce_s": allreduce_before + (world.seconds if world is not None else 0.0),
        }

    # plain SGD takes the fast update (see the batch loop); anything else goes through optimizer.step
    plain_sgd = type(optimizer) is SGD
    # without weight decay its update is one subtraction over parameters packed in one buffer
    packed = plain_sgd and optimizer.weight_decay == 0
    if packed:
        net.pack()
    t_start = time.perf_counter()
    first_done = 0.0  # seconds to the end of this run's first epoch (eta)
    stopped_early = False
    last_epoch = first_epoch - 1
    params = net.params()
    # overflow on the way to NaN is expected when training diverges: the loss check below
    # reports it as TrainingDiverged instead of a stream of NumPy RuntimeWarnings. The BLAS
    # thread count follows the size of a step (backend.cpu_threads).
    threads = cpu_threads(net.sizes, bs) if device.kind == "cpu" else nullcontext()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"), threads:
        for epoch in range(first_epoch, tc.epochs + 1):
            t0 = time.perf_counter()
            # an interrupt writes the state at the start of this epoch: exact on resume
            snap = snapshot(epoch - 1) if (stop is not None or world is not None) and save else None
            optimizer.lr = schedule.lr_at(epoch)
            # one epoch: a fresh permutation of the rows (every rank draws the same one)
            if streamed:
                # every rank streams the same chunks in the same order (same seed) and keeps its
                # share of each global batch: memory stays one chunk, whatever the file's size
                batches = (
                    (*share(xb, yb), None, len(xb)) if wb is None else (*share(xb, yb, wb), len(xb))
                    for xb, yb, wb in data.train.batches(shuffle_rng, device)
                )
            elif chunk_rows is not None:
                perm = shuffle_rng.permutation(n)
                batches = chunked_batches(X, Y, perm, bs, share, chunk_rows, device, net.dtype, W)
            else:
                perm = device.asarray(shuffle_rng.permutation(n))
                batches = memory_batches(X, Y, perm, bs, share, gather_buffers, W)
            # the epoch's cost, summed on the device and read once per epoch (on the CPU a
            # Python float is the cheapest accumulator)
            loss_sum = 0.0 if xp is np else xp.zeros((), dtype=np.float64)
            # dropout draws on the host on the CPU; on the GPU from a device generator seeded
            # from the host one here (so a resumed epoch draws the same masks)
            step_rng = device.step_rng(dropout_rng)
            norms = GradientNorms(xp, len(net.W)) if tc.gradient_norms else None
            # plain SGD folds lr into delta(L): the workspace's dW is then lr * dC/dW and the
            # update one subtraction (optimizers.SGD.step_scaled); clipping scales too. At lr 0 (a
            # schedule's decay underflowed) it forms the gradient unscaled, as gradient_norms
            # measures it, and takes no step: p - 0 (g + wd p) would leave every parameter as it is
            frozen = plain_sgd and optimizer.lr == 0
            scale = optimizer.lr if plain_sgd and not frozen else 1.0
            for k, (xb, yb, wb, m) in enumerate(batches):
                # m is the global batch size: this rank's rows are m under one process; wb the
                # rows' sample weights, or None
                ws = net.workspace(len(xb))
                grads = ws.grads
                signal_name = stop() if stop is not None else None
                if wb is None:
                    loss_sum += to_scalar(ws.step(xb, yb, scale / m, step_rng, share.rows(m)))
                else:
                    loss_sum += to_scalar(ws.step(xb, yb, scale / m, step_rng, share.rows(m), sw=wb))
                if world is not None:
                    signal_name = _allreduce(world, ws, signal_name)
                if norms is not None:  # the whole batch's gradient, before clipping and decay
                    norms.add(ws.dW)
                if tc.clip_norm and not frozen:
                    clip_by_global_norm(grads, tc.clip_norm, scale)
                if frozen:
                    optimizer.t += 1  # (a step all the same, as the optimizer's state counts them)
                elif packed:
                    optimizer.step_packed(net.theta, ws.grad_flat)
                elif plain_sgd:
                    optimizer.step_scaled(params, grads)
                else:
                    optimizer.step(params, grads)
                if stop is not None or world is not None:
                    if signal_name:
                        path = checkpoint(epoch - 1, snap, then="stopping")
                        message = f"interrupted ({signal_name}) in epoch {epoch}"
                        if path:
                            message += f"; saved {path}"
                        elif save:  # the checkpoint could not be written (the warning says why)
                            message += f"; the checkpoint of epoch {epoch - 1} could not be written"
                            older = newest_checkpoint()
                            if older:
                                path = older[1]
                                message += (
                                    f"; the newest is {path} (epoch {older[0]}: resuming it runs "
                                    f"epochs {older[0] + 1}-{epoch - 1} again)"
                                )
                            else:
                                message += ", and no earlier one of this run is on disk"
                        raise Interrupted(message, signal_name, path)
                if on_event is not None and (k + 1) % batch_every == 0 and k + 1 < n_batches:
                    emit("batch", {"epoch": epoch, "batch": k + 1, "batches": n_batches})
            if world is not None:
                loss_sum = world.sum(float(loss_sum))
            train_loss = float(loss_sum) / n  # float() waits for the device: once per epoch
            grad_norm = norms.read(scale) if norms is not None else None
            if not math.isfinite(train_loss):
                raise _diverged("the loss", train_loss, epoch, optimizer.lr, config)
            record: dict[str, Any] = {"epoch": epoch, "loss": train_loss}
            if data.validation is not None:
                val = evaluate_dataset(net, data.validation, data.encoding, device, on_device=val_on_device)
                if not math.isfinite(val["loss"]):
                    raise _diverged("the validation loss", val["loss"], epoch, optimizer.lr, config)
                record["val_loss"] = val["loss"]
                for key in ("accuracy", "r2"):
                    if key in val:
                        record[f"val_{key}"] = val[key]
            if grad_norm is not None:
                record["grad_norm"] = grad_norm
            elapsed = time.perf_counter() - t0
            record["lr"] = optimizer.lr
            record["time"] = round(elapsed, 6)
            record["samples_per_s"] = n / elapsed if elapsed > 0 else float("inf")
            history.append(record)
            schedule.observe(record)
            last_epoch = epoch
            total = time.perf_counter() - t_start
            done = epoch - first_epoch + 1
            if done == 1:
                first_done = total
            emit(
                "epoch",
                {
                    **record,
                    "epochs": tc.epochs,
                    # the whole run's training time, as train_time_s: a resumed run's goes on
                    # from the checkpoint's (the ETA is at this process's own pace)
                    "elapsed": time_before + total,
                    "eta": eta(total, first_done, done, tc.epochs - epoch),
                },
            )
            if early is not None:  # (check_monitors made sure the record has its monitor)
                stopped_early = early.update(epoch, record, net)
            # a resumed run ends with a checkpoint too, so the folder's newest one is the end, not
            # the interrupt it resumed from (--resume RUN then has nothing to redo)
            ends = epoch == tc.epochs or stopped_early
            last = ends and (tc.checkpoint_every or resume is not None)
            if last or (tc.checkpoint_every and epoch % tc.checkpoint_every == 0):
                checkpoint(epoch, then="the run's files are written next" if ends else "training goes on")
            if stopped_early:
                break

        # the step losses are measured before each update: the last update can still blow up,
        # to weights that are NaN, or finite but so large that the output overflows (inf - inf)
        if not all(bool(xp.isfinite(p).all()) for p in net.params()):
            raise _diverged("a weight", "NaN or infinite", last_epoch, optimizer.lr, config)
        if last_epoch >= first_epoch:  # the last batch (this rank's rows) through the final weights
            bad = float(not bool(xp.isfinite(net.forward(xb)).all())) if len(xb) else 0.0
            if (world.sum(bad) if world is not None else bad) > 0:  # (every rank learns of it)
                raise _diverged("the network's output", "NaN or infinite", last_epoch, optimizer.lr, config)
    # the whole run's training time, the epochs before a resume included (when the checkpoint
    # said how long they took), and the epochs it covers
    train_time = time_before + time.perf_counter() - t_start
    timed_epochs = timed_before + last_epoch - first_epoch + 1
    # the end of the last epoch, as its checkpoint would hold it (before restore_best below)
    end = snapshot(last_epoch) if keep_state else None
    kept_epoch = last_epoch
    if early is not None and early.restore_best and early.best_weights is not None:
        kept_epoch = early.best_epoch
        for p, best in zip(net.W + net.b, early.best_weights[0] + early.best_weights[1]):
            p[...] = device.asarray(best)  # in place: W and b may be views (Network.pack)
    upto = history[:kept_epoch] if 0 < kept_epoch <= len(history) else history  # (to the kept epoch)
    kept = upto[-1] if upto else {}
    if (
        kept
        and isinstance(data.train, Dataset)
        and (note := _worse_than_a_constant(config, kept, data, net.class_weight, upto))
    ):
        emit("notice", {"message": note})
    if stopped_early:
        emit(
            "early_stop",
            {
                "epoch": last_epoch,
                "best_epoch": early.best_epoch,
                "monitor": early.monitor,
                "best": early.best,
                "patience": early.patience,
                "restored": kept_epoch,
            },
        )
        if note := _cosine_cut_short(config, last_epoch, history):
            emit("notice", {"message": note})
    # the figures of the epoch whose weights the model keeps (the best one under restore_best)
    summary: dict[str, Any] = {
        "epochs": last_epoch,
        "loss": kept.get("loss"),
        "train_time_s": round(train_time, 3),
        "n_train": n,
        "data": source,
        "device": str(device),
        # over the epochs train_time_s covers: all of them, but those before the resume from an
        # older nettrain's checkpoint, which did not say how long they took
        "samples_per_s": n * timed_epochs / train_time if train_time > 0 and timed_epochs else None,
    }
    if world is not None:
        # (the whole run's, as train_time_s: the checkpoint a run resumed from carries its share)
        summary.update({"ranks": world.size, "allreduce_s": round(allreduce_before + world.seconds, 3)})
    if early is not None:
        summary.update(
            {
                "stopped_early": stopped_early,
                "best_epoch": early.best_epoch,
                "kept_epoch": kept_epoch,
                "monitor": early.monitor,
                "best": early.best,
            }
        )
    summary.update({key: kept[key] for key in ("val_loss", "val_accuracy", "val_r2") if key in kept})
    # a run with sample weights (data.weight, or weights given to fit) says whether its
    # validation and test scores are weighted: by their rows' weights, or (a file without the
    # weight column) not
    weighted_run = config.data.weight is not None or getattr(data.train, "w", None) is not None
    if weighted_run and data.validation is not None:
        # whether the validation scores are weighted by data.weight (a file without its column:
        # not); the test scores' test_weighted comes with them
        summary["val_weighted"] = data.validation.w is not None
    # the model keeps host copies of the weights; on the CPU they are the same arrays
    host_net = net.with_params([to_host(w) for w in net.W], [to_host(v) for v in net.b])
    test = None
    if data.test is not None:
        test = evaluate_dataset(host_net, data.test, data.encoding, Device("cpu"))
        if weighted_run:
            test.setdefault("weighted", False)
        summary.update({f"test_{k}": v for k, v in test.items()})
        emit("test", test)
    model = Model(host_net, data.encoding, run_meta(config, summary, started_from))
    if end is not None and kept_epoch == last_epoch:
        # the model's weights are the end state's: one copy, shared (resuming copies them into
        # the new run's own buffers, so neither changes the other)
        end["W"], end["b"] = host_net.W, host_net.b
    result = FitResult(model, history, summary, test, state=run_state(end) if end is not None else None)
    if save:
        try:
            result.output = save_run(config, result)
        except OutputError as exc:
            raise _not_saved(exc, newest_checkpoint(), last_epoch, stop) from None
    emit(
        "end",
        {
            "summary": summary,
            "history": history,
            "output": result.output,
            "first_epoch": first_epoch,
            "timed_epochs": timed_epochs,
            "warm_start": started_from,
        },
    )
    # a stop asked for after the last step found nothing left to stop: the run is complete and
    # saved, but the caller still hears that it was interrupted (exit 130 / 143 from the CLI)
    late = stop() if stop is not None else None
    if world is not None:  # every rank says the same (and every rank gets here)
        late = _stop_from_code(world.sum(STOP_CODES[late] if late in STOP_CODES else 0.0))
    if late:
        where = f"; it is saved in {result.output}" if result.output else ""
        stopped = Interrupted(f"interrupted ({late}) after the last epoch: the run is complete{where}", late)
        stopped.result = result  # the finished run, for a caller that did not save it
        raise stopped
    return result


def _not_saved(exc: OutputError, newest: tuple[int, str] | None, last_epoch: int, stop) -> NettrainError:
    """The error for a trained run whose config.yaml, history.jsonl and model.npz could not be
    written: what was lost, and where its newest checkpoint is. An Interrupted when a stop was
    asked for meanwhile (the exit code stays 130 / 143), with the checkpoint to resume when it
    leaves epochs to train."""
    message = f"{exc}; the run's model.npz, history.jsonl and config.yaml were not written"
    resume_from = None
    if newest is None:
        message += (
            " and no checkpoint of it is on disk: the trained weights are lost "
            "(training.checkpoint_every writes checkpoints)"
        )
    elif newest[0] >= last_epoch:
        message += (
            f"; the newest checkpoint, {newest[1]}, holds the weights after epoch {newest[0]} "
            "(a model file: predict and evaluate read it)"
        )
    else:
        resume_from = newest[1]
        message += (
            f"; the newest checkpoint is {newest[1]} (epoch {newest[0]} of {last_epoch}): "
            "free space and --resume it to train the rest again"
        )
    late = stop() if stop is not None else None
    if late:
        return Interrupted(f"interrupted ({late}) after the last epoch, and {message}", late, resume_from)
    return OutputError(message)


def _changed_keys(before: dict, after: dict, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two resolved configs (those that the resume hash
    covers: not output, device, epochs, the checkpoint settings or gradient_norms)."""
    ignored = {
        "output",
        "device",
        "training.epochs",
        "training.checkpoint_every",
        "training.checkpoint_keep",
        "training.gradient_norms",
    }
    out = []
    for key in sorted(set(before) | set(after)):
        path = f"{prefix}{key}"
        a, b = before.get(key), after.get(key)
        if path in ignored:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            out += _changed_keys(a, b, path + ".")
        elif a != b:
            out.append(f"{path} {_as_yaml(a)} -> {_as_yaml(b)}")
    return out


def _parameters_in_full(before: dict, after: dict) -> tuple[dict, dict]:
    """``before`` and ``after`` (comparable configs, which leave out an optimizer's or a schedule's
    parameters at their defaults, and LATER_TRAINING_KEYS at their "off" values) with those written
    out in full (the parameters where the optimizer or schedule has the same name on both sides),
    so that a change to a default reads 'cooldown 1 -> 0', not '1 -> null'."""
    from .checkpoint import LATER_TRAINING_KEYS
    from .optimizers import OPTIMIZERS
    from .schedules import SCHEDULES

    before, after = json.loads(json.dumps(before)), json.loads(json.dumps(after))
    t0, t1 = before.get("training"), after.get("training")
    if not (isinstance(t0, dict) and isinstance(t1, dict)):
        return before, after
    for key, off in LATER_TRAINING_KEYS.items():  # (left out at their "off" values: false -> true)
        for t in (t0, t1):
            t.setdefault(key, off)
    for key, registry in (("optimizer", OPTIMIZERS), ("schedule", SCHEDULES)):
        a, b = t0.get(key), t1.get(key)
        names = [v.get("name") if isinstance(v, dict) else v for v in (a, b)]
        if a != b and names[0] == names[1] and isinstance(names[0], str) and names[0] in registry:
            full = {"name": names[0], **registry[names[0]].defaults}
            t0[key], t1[key] = [{**full, **v} if isinstance(v, dict) else full for v in (a, b)]
    return before, after


def _as_yaml(value) -> str:
    """A config value as the config file writes it (false, null, {name: adam}), not as Python
    does (False, None, {'name': 'adam'})."""
    import yaml

    from .config import _yaml_types

    text = yaml.dump(value, Dumper=_yaml_types()[1], default_flow_style=True, sort_keys=False, width=10**6)
    return text.removesuffix("\n...\n").strip()


def open_checkpoint(where, config: Config, force: bool = False):
    """The checkpoint ``--resume`` names, checked against the config before anything runs:
    (path, model, state, optimizer arrays, best weights). A ConfigError when the config changed
    (unless ``force``) or when the checkpoint has as many epochs as the config asks or more."""
    if isinstance(where, RunState):  # (a checkpoint held in memory: copies, as a file's are, so
        # that the optimizer's in-place updates leave it as it was, to be resumed again)
        path, model, state, best = where, where.model, where.state, where.best
        opt_arrays = [np.array(a) for a in where.optimizer_arrays]
    else:
        path = find_checkpoint(where)
        model, state, opt_arrays, best = load_checkpoint(path)
    # the checkpoint's config, in the canonical form config_hash takes, against this one: the
    # hash it stored was made by the nettrain that wrote it, whose canonical form may differ
    stored = model.meta.get("config")
    then = config_hash(stored) if isinstance(stored, dict) else state.get("config_hash")
    if then != config_hash(config.to_dict()) and not force:
        changed = _changed_keys(
            *_parameters_in_full(comparable(model.meta.get("config") or {}), comparable(config.to_dict()))
        )
        what = f"changed: {', '.join(changed[:6])}" if changed else f"hash {state.get('config_hash')}"
        raise ConfigError(
            f"--resume: {path} was written with a different config ({what}); resume with the "
            "same config, or add --force to continue anyway"
        )
    done = int(state.get("epoch", 0))
    early = state.get("early_stopping") or {}
    patience = (config.training.early_stopping or {}).get("patience")
    if patience and int(early.get("wait", 0)) >= patience and not force:
        raise ConfigError(
            f"--resume: {path}'s run stopped early after epoch {done} ({early.get('wait')} epochs "
            "without improvement): nothing left to train; to go on, raise "
            "training.early_stopping.patience (with --force)"
        )
    if done >= config.training.epochs:
        raise ConfigError(
            f"--resume: {path} has {done} epochs done and training.epochs is "
            f"{config.training.epochs}: nothing to train; to train on, raise it "
            f"(--set training.epochs={done + 10})"
        )
    return path, model, state, opt_arrays, best


def _resume(where, force, config, net, optimizer, schedule, shuffle_rng, dropout_rng, early, data, device):
    """Load a checkpoint's state into the freshly built run; returns (first epoch, history,
    notes, the checkpoint's ``warm_start``: the model a warm-started run began from, and (the
    training time so far, the epochs it covers, the seconds of it spent in MPI's Allreduce): (0,
    0, 0) from an older nettrain's checkpoint, which does not carry them). Under
    ``force``, state that does not fit the new config (another optimizer or schedule, another
    set of trained parameters) starts afresh, and a note says so."""
    path, model, state, opt_arrays, best = open_checkpoint(where, config, force)
    if [list(w.shape) for w in model.network.W] != [list(w.shape) for w in net.W]:
        raise ConfigError(
            f"--resume: {path} holds a network of other layer sizes "
            f"({model.network.sizes}, the config says {net.sizes})"
        )
    enc_now, enc_then = data.encoding.to_dict(), model.encoding.to_dict()
    for key in ("positional", "delimiter", "label_numbers"):  # not recorded by older checkpoints
        if key not in (model.meta.get("encoding") or {}):
            enc_now.pop(key, None)
            enc_then.pop(key, None)
    now, then = data.encoding, model.encoding
    same_data = (
        enc_now == enc_then
        and np.array_equal(now.x_mean, then.x_mean)
        and np.array_equal(now.x_scale, then.x_scale)
    )
    if not same_data and not force:
        raise ConfigError(
            f"--resume: the data's encoding differs from {path}'s (the data changed?); "
            "add --force to continue anyway"
        )
    if now.task == "regression" and not force:
        if not (np.array_equal(now.y_mean, then.y_mean) and np.array_equal(now.y_scale, then.y_scale)):
            raise ConfigError(
                f"--resume: {path} was trained on the target standardized (mean {then.y_mean[0]:.6g}, "
                f"scale {then.y_scale[0]:.6g}) and this run scales it otherwise (nettrain now leaves "
                f"the target of a {config.network.output} output as it is, or the data changed); add "
                "--force to go on with the new scaling (the loss's units change)"
                if not np.array_equal(now.y_scale, then.y_scale)
                else f"--resume: the target's mean differs from {path}'s (the data changed?); add "
                "--force to continue anyway"
            )
    net.set_weights(model.network, device)
    params = net.params()
    notes = []
    saved_opt = state["optimizer"]
    try:
        if saved_opt.get("name", optimizer.name) != optimizer.name:
            raise ValueError(f"{saved_opt.get('name')} -> {optimizer.name}")
        optimizer.load_state(saved_opt, [device.asarray(a) for a in opt_arrays], params)
    except (ValueError, KeyError, TypeError) as exc:  # only reachable with --force: the hash differs
        optimizer.t, optimizer.slots = 0, []
        notes.append(f"--force: the optimizer's state starts afresh ({exc})")
    try:
        schedule.load_state(state.get("schedule") or {})
    except (ValueError, KeyError, TypeError):
        notes.append(f"--force: the {schedule.name} schedule's state starts afresh")
    shuffle_rng.bit_generator.state = state["shuffle_rng"]
    if dropout_rng is not None and state.get("dropout_rng"):
        dropout_rng.bit_generator.state = state["dropout_rng"]
    if early is not None and state.get("early_stopping"):
        early.load(state["early_stopping"], best)
    if note := _validation_weighting_note(path, state, data):
        notes.append(note)
    started_from = model.meta.get("warm_start")
    started_from = started_from if isinstance(started_from, dict) else None
    return int(state["epoch"]) + 1, list(state.get("history", [])), notes, started_from, _time_so_far(state)


def _validation_weighting_note(path, state: dict, data: RunData) -> str | None:
    """The note of a resumed run whose validation scores are weighted (data.weight) where its
    checkpoint's were not, or the other way round: the history before the resume, and early
    stopping's and plateau's best, are then scores of another kind than the epochs to come. A
    checkpoint without ``val_weighted`` was written by a nettrain that weighted no validation
    scores."""
    history = state.get("history") or []
    if data.validation is None or not any("val_loss" in r for r in history if isinstance(r, dict)):
        return None
    now = data.validation.w is not None
    then = state.get("val_weighted")
    if then is None:  # an older nettrain's checkpoint
        if not now:
            return None
        why = "it was written by a nettrain that did not weight validation scores"
    elif bool(then) == now:
        return None
    else:
        why = "its validation file had no weight column then" if now else "its validation file had one then"
    epoch = int(state["epoch"])
    shown = "the checkpoint" if isinstance(path, RunState) else str(path)
    return (
        f"{shown}'s validation scores (epochs 1-{epoch}, the best that early stopping and plateau "
        "compare with) "
        f"are {'unweighted' if now else 'weighted'} ({why}) and this run's are "
        f"{'weighted by data.weight' if now else 'unweighted'}: they do not compare; fit afresh "
        "to score every epoch alike"
    )


def _time_so_far(state: dict) -> tuple[float, int, float]:
    """(seconds, epochs, Allreduce seconds) a checkpoint says its run has trained; (0, 0, 0) when
    it does not say, or says it in a form that makes no sense (an older nettrain's, an edited
    file). The Allreduce seconds are 0 also where only they are missing (a checkpoint of a
    nettrain that recorded the training time but not them)."""
    seconds, epochs = state.get("train_time_s"), state.get("timed_epochs")
    ok = _seconds(seconds) and type(epochs) is int and 0 <= epochs <= int(state["epoch"])
    if not ok:
        return 0.0, 0, 0.0
    allreduce = state.get("allreduce_s")
    return float(seconds), epochs, float(allreduce) if _seconds(allreduce) else 0.0


def _seconds(value) -> bool:
    """Whether a checkpoint's figure is a number of seconds (finite, not negative)."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def _hold_out(config, data: RunData) -> RunData:
    """Data given to fit without test or validation rows, with a config that asks for a test or
    validation fraction: the fractions are held out here as load_run_data would (the test one
    first; the same seed streams, of config.split_seed, stratified by class). Files named in the
    config's data section are not read; its data.exclude or data.features, which name their
    columns, is refused."""
    for key in ("exclude", "features"):
        if getattr(config.data, key):
            raise ConfigError(
                f"{config.path or 'config'}: data.{key} names columns of the config's data files, but "
                "fit was given data: leave those columns out of the arrays instead"
            )
    for key, stream in (("test", 4), ("validation", 1)):
        fraction, train = getattr(config.data, key), data.train
        if getattr(data, key) is not None or not isinstance(fraction, float) or fraction <= 0:
            continue
        if not isinstance(train, Dataset):
            continue
        labels = None
        if config.task == "classification":
            labels = train.Y.argmax(axis=1) if train.Y.shape[1] > 1 else train.Y[:, 0]
        rng = stream_rng(config.split_seed, stream)
        kept, held = hold_out_rows(len(train), fraction, rng, labels, "the data given to fit", key)
        # the kept rows' sample weights, normalized over them as load_run_data does; the held-out
        # rows' weigh their scores, as scikit-learn's early stopping weighs its validation score
        w = w_held = None
        if train.w is not None:
            w = normalized_weights(
                train.w[kept].astype(np.float64), train.w.dtype, "the data given to fit: sample_weight"
            )
            w_held = scoring_weights(
                train.w[held].astype(np.float64), f"the {key} rows of the data given to fit"
            )
        data = replace(
            data,
            train=Dataset(train.X[kept], train.Y[kept], w=w),
            notes=[*data.notes, *held_out_note(fraction, labels, held, key)],
            **{key: Dataset(train.X[held], train.Y[held], w=w_held)},
        )
    return data


#: the start of the note of a run whose validation or test scores are weighted
WEIGHTED_SCORES_NOTE = "sample weights weigh"


def _weighted_scores_note(config, data: RunData) -> str | None:
    """The note of a run whose validation or test scores are weighted by their rows' weights
    (data.weight's column, or the sample weights given to fit)."""
    sets = (("validation", data.validation), ("test", data.test))
    weighted = [name for name, ds in sets if ds is not None and ds.w is not None]
    if not weighted:
        return None
    by = f" (data.weight: {config.data.weight})" if config.data.weight is not None else ""
    return f"{WEIGHTED_SCORES_NOTE} the {' and '.join(weighted)} scores too{by}"


def _cosine_cut_short(config, last_epoch: int, history: list[dict]) -> str | None:
    """A note when early stopping ended a cosine schedule well before its end: the cosine runs
    over training.epochs, not over the epochs a run happens to last, so a run stopped at epoch
    24 of 200 trained at nearly its full learning rate. Said only while the last epoch's lr was
    still above the last tenth of the decay (min_lr + 0.1 (lr - min_lr)); step, exponential and
    plateau do not depend on training.epochs."""
    tc = config.training
    warmup = int(tc.schedule_params.get("warmup", 0))
    if tc.schedule != "cosine" or not history or not warmup < last_epoch < tc.epochs:
        return None
    base, low = tc.learning_rate, float(tc.schedule_params.get("min_lr", 0.0))
    lr = history[-1].get("lr")
    if not isinstance(lr, (int, float)) or not base > low or lr <= low + 0.1 * (base - low):
        return None
    return (
        f"the cosine schedule runs over training.epochs ({tc.epochs}), not the {last_epoch} epochs "
        f"early stopping ran: its learning rate had come down only to {lr:.4g} (from {base:g} toward "
        f"{low:g}); for a full decay, set training.epochs near where the run stops"
    )


def baseline_loss(cost: str, Y: np.ndarray, class_weight=None, sample_weight=None) -> float:
    """The training loss of the best constant prediction: the targets' mean for mse (their
    variance), the class frequencies for the cross-entropies (their entropy). With class weights
    (one per class, as Network.class_weight) and sample weights s (n,) (data.weight, normalized),
    the training loss is (1/n) sum_i w_i l_i with w_i = c_{y_i} s_i, and so is the baseline: the
    constant is then the weighted mean or class frequencies q, and its loss (1/n) sum_i w_i times
    the rows' loss against it."""
    Y = np.asarray(Y, dtype=np.float64)
    s = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if cost == "mse":
        if s is None:
            return float(Y.var(axis=0).mean())
        m = s @ Y / s.sum()  # the weighted mean of each output
        return float((s @ (Y - m) ** 2).mean() / len(Y))
    scale = 1.0
    rows = None
    if class_weight is not None:
        w = np.asarray(class_weight, dtype=np.float64)
        rows = w[0] + (w[1] - w[0]) * Y[:, 0] if Y.shape[1] == 1 else Y @ w
    if s is not None:
        rows = s if rows is None else rows * s
    if rows is None:
        p = Y.mean(axis=0)
    else:
        p = rows @ Y / rows.sum()
        scale = float(rows.sum() / len(Y))
    with np.errstate(divide="ignore", invalid="ignore"):
        if cost == "cross_entropy":
            return scale * float(-np.nansum(p * np.log(p)))
        return scale * float(np.nanmean(-(p * np.log(p) + (1 - p) * np.log(1 - p))))


#: the epochs at the end of a run whose training losses say whether it was still falling
TREND_EPOCHS = 5


def _worse_than_a_constant(config, record: dict, data, class_weight=None, history=None) -> str | None:
    """A note when training ends far above the loss of a constant prediction: finite but blown
    up (a learning rate too high for unscaled inputs gave a loss of 1e14 and one prediction for
    every row, exit 0 without a word), or not trained enough (one epoch at a small learning
    rate). ``record``: the history of the epoch whose weights are kept; ``history``: the
    records up to it (default: that one alone); ``class_weight``: the weights of its (weighted)
    training loss, one per class.

    The advice follows the training losses of the last TREND_EPOCHS epochs up to it: each lower
    than the one before, the loss was still falling (too few epochs for the learning rate: more
    of them, or a larger rate, take it further; true also of a loss that blew up first and is
    coming back); a rise anywhere among them, the learning rate may be too high; a single epoch
    cannot tell the two apart and names both."""
    sw = getattr(data.train, "w", None)  # the rows' sample weights (data.weight), or None
    loss, base = record["loss"], baseline_loss(config.cost, data.train.Y, class_weight, sw)
    if not base > 0 or loss <= 2 * base:
        return None
    what = "the training mean" if config.cost == "mse" else "the class frequencies"
    by = [
        *(["training.class_weight"] if class_weight is not None and config.cost != "mse" else []),
        *(["data.weight"] if sw is not None else []),
    ]
    if by:
        what = f"{what}, weighted by {' and '.join(by)}"
    unscaled = "" if config.data.standardize else ", or the inputs unscaled (data.standardize: false)"
    lr, epochs = f"the learning rate ({config.training.learning_rate:g})", config.training.epochs
    losses = [r["loss"] for r in (history or [record])][-TREND_EPOCHS:]
    if len(losses) == 1:
        advice = (
            f"one epoch cannot tell a loss still falling from one blown up: training.epochs ({epochs}) "
            f"may be too few for {lr}, or that rate too high{unscaled}"
        )
    elif all(b < a for a, b in zip(losses, losses[1:])):
        advice = (
            f"it was still falling over the last {len(losses)} epochs: training.epochs ({epochs}) may "
            f"be too few for {lr}{unscaled}"
        )
    else:
        advice = f"it rose during the last {len(losses)} epochs: {lr} may be too high{unscaled}"
    return f"{WORSE_THAN_A_CONSTANT} {loss:.4g}, above the {base:.4g} of always predicting {what}; {advice}"


def check_data_fits(config, data) -> None:
    """The data given to fit matches the config's network and cost (RunData made by hand, from
    arrays, can disagree: a (n, 1) label column for a softmax of 2 would train on garbage)."""
    sizes, enc = config.network.layers, data.encoding
    if enc.cost != config.cost:
        raise ConfigError(f"the data was made for cost {enc.cost}, but the config's cost is {config.cost}")
    enc.check_inputs(sizes[0])
    if enc.n_outputs != sizes[-1]:
        raise DataError(
            f"the data's targets have {enc.n_outputs} columns but the network has {sizes[-1]} "
            f"outputs; set the last of network.layers to {enc.n_outputs}"
            + (" (cross_entropy wants one-hot rows)" if config.cost == "cross_entropy" else "")
        )


#: the words check_monitors' problem begins with (the scikit-learn estimators reword its advice)
NEEDS_VALIDATION = "needs validation data"


def check_monitors(config, has_validation: bool) -> None:
    """Fail before training when early stopping or the plateau schedule watches a figure this
    run will not measure: a val_* one without validation data, accuracy for values, R^2 for
    classes. One ConfigError names every such key, with its file and line (or --set)."""
    tc = config.training
    measured = ["loss"]
    if has_validation:
        measured += ["val_loss", "val_accuracy" if config.task == "classification" else "val_r2"]
    watched = []
    if tc.early_stopping:
        watched.append((("training", "early_stopping", "monitor"), tc.early_stopping["monitor"]))
    monitor = (tc.schedule_params or {}).get("monitor", "auto") if tc.schedule == "plateau" else "auto"
    if monitor != "auto":
        watched.append((("training", "schedule", "monitor"), monitor))
    problems = []
    for key, name in watched:
        if name not in measured:
            why = f"{NEEDS_VALIDATION}: set data.validation (a fraction or a file), or monitor: loss"
            if has_validation or not name.startswith("val_"):
                why = f"is not measured in this {config.task} run; it measures: {', '.join(measured)}"
            problems.append(config.problem(key, f"{name} {why}"))
    if problems:
        raise ConfigError(problems)


def _diverged(what: str, value: float | str, epoch: int, lr: float, config: Config) -> TrainingDiverged:
    # large unscaled values overflow whatever the learning rate: a target of 1e20 has its
    # (s - y)^2 past float32's 3e38 at the first step
    unscaled = ", or standardize the data (data.standardize is false)" if not config.data.standardize else ""
    if config.data.standardize == "inputs" and config.task == "regression":
        unscaled = ", or standardize the target too (data.standardize: true; inputs leaves it in its units)"
    if math.isfinite(lr):
        advice = f"try a lower learning rate (now {lr:g}, e.g. --set training.learning_rate={lr / 10:g})"
    else:  # a step or exponential schedule's gamma above 1 grew it past the largest float
        gamma = config.training.schedule_params.get("gamma", "above 1")
        advice = f"the learning rate grew to inf (training.schedule's gamma is {gamma}): lower the gamma"
    return TrainingDiverged(
        f"training diverged: {what} became {value} in epoch {epoch}; {advice}{unscaled}; nothing was written"
    )


def check_output(config: Config) -> None:
    """Fail early (without creating anything) when the run folder could not be written, or
    when what fit writes there would replace the config file or a data file it reads."""
    try:
        _check_output(config)
    except OSError as exc:  # a name too long, a loop of links, an unreadable folder on the way
        raise OutputError(
            f"the run folder '{shown(config.output)}' cannot be used: {os_reason(exc)}"
        ) from None


#: The longest file name fit writes in a run folder, at least: the atomic writer's temporary
#: '.nettrain-XXXXXXXX.tmp' (checkpoint names of long runs are measured)
LONGEST_RUN_NAME = 22


def _check_output(config: Config) -> None:
    output = config.output
    folder = Path(output)
    # every file fit writes must fit the system's path limit, or the trained weights are lost
    # at the end (a 4075-character folder took the lock file and failed on the model's temp name)
    longest = max(LONGEST_RUN_NAME, len(f"checkpoint-{config.training.epochs}.npz"))
    limit = os.pathconf("/", "PC_PATH_MAX") if hasattr(os, "pathconf") else 4096
    if len(os.fsencode(os.path.abspath(output))) + 1 + longest >= limit:
        raise OutputError(
            f"the run folder '{shown(output)}' cannot be used: its path is too long for the files "
            f"fit writes in it (over {limit - 2 - longest} bytes); choose a shorter output (-o DIR)"
        )
    inputs = {"config": config.path, "training data": config.data.train, "test data": config.data.test}
    if isinstance(config.data.validation, str):
        inputs["validation data"] = config.data.validation
    for what, path in inputs.items():
        if not isinstance(path, str) or path == "-" or not os.path.isfile(path):
            continue
        name = Path(path).name
        written = name in RUN_FILES or CHECKPOINT.match(name)  # (old checkpoints are deleted)
        if what == "config" and name == "config.yaml" and _first_line(path) == RESOLVED_MARK:
            continue  # `nettrain fit RUN/config.yaml`: the run's own resolved config, rewritten alike
        if written and folder.is_dir() and os.path.samefile(Path(path).parent, folder):
            raise OutputError(
                f"the run folder '{output}' would get a new {name}, replacing the {what} file "
                f"'{path}'; choose another output (-o DIR)"
            )
    if folder.exists():
        prepare_output(output)
        if not os.access(folder, os.W_OK | os.X_OK):  # (a read-only mount too)
            raise OutputError(f"the run folder '{output}' is not writable; choose another output (-o DIR)")
        for name in RUN_FILES:
            # `-o .` in a project whose config.yaml is another tool's: fit names the files it
            # writes, not the user, so it replaces only those an earlier fit wrote
            if (folder / name).is_file() and not _written_by_fit(folder / name):
                raise OutputError(
                    f"the run folder '{output}' holds a {name} that nettrain fit did not write; fit "
                    f"would replace it: move it, or choose another output (-o DIR)"
                )
        return
    parent = folder.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"cannot make the run folder '{output}': '{parent}' is a file")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot make the run folder '{output}': '{parent}' is not writable")


#: The keys of a resolved config (every default filled in): a config.yaml fit wrote before its
#: first line was marked has exactly these, no comment and an absolute output (a config written
#: by hand, as `nettrain init` starts one, may have the seven keys too, but not those)
RESOLVED_KEYS = {"data", "network", "cost", "training", "device", "dtype", "output"}


def _written_by_fit(path: Path) -> bool:
    """Whether a run folder's config.yaml, history.jsonl or model.npz looks like one fit wrote
    (or is empty): a file of the same name that is something else is not replaced."""
    import zipfile

    try:
        if path.stat().st_size == 0:
            return True
        if path.name == "model.npz":  # a model or checkpoint: a zip archive with nettrain's meta
            with zipfile.ZipFile(path) as zf:
                return "meta.npy" in zf.namelist()
        with open(path, "rb") as f:
            head = f.read(1 << 20).decode("utf-8", errors="replace")
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        return False
    if path.name == "history.jsonl":  # one JSON object per epoch
        try:
            first = json.loads(head.splitlines()[0])
        except (ValueError, IndexError):
            return False
        return isinstance(first, dict) and "epoch" in first
    if head.startswith(RESOLVED_MARK):
        return True
    import yaml

    if any(line.lstrip().startswith("#") for line in head.splitlines()):
        return False  # (fit's resolved config has no comment but the mark)
    try:
        doc = yaml.safe_load(head)
    except yaml.YAMLError:
        return False
    return (
        isinstance(doc, dict)
        and set(doc) == RESOLVED_KEYS
        and isinstance(doc["output"], str)
        and os.path.isabs(doc["output"])
    )


def _first_line(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.readline()
    except OSError:
        return ""


def prepare_output(output: str) -> Path:
    """The run folder, created if needed; an OutputError (before any training) if it cannot be."""
    folder = Path(output)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"the run folder '{output}' is a file; choose another output (-o DIR)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise OutputError(f"cannot make the run folder '{output}': a part of its path is a file") from None
    except OSError as exc:
        raise OutputError(f"cannot make the run folder '{shown(output)}': {os_reason(exc)}") from None
    for name in RUN_FILES:
        if (folder / name).is_dir():
            raise OutputError(f"cannot write '{folder / name}': it is a folder")
    return folder


def save_run(config: Config, result: FitResult) -> str:
    """Write config.yaml, history.jsonl and model.npz into the run folder, together: an
    interrupt or an error while writing leaves the earlier run's three files as they were."""
    folder = prepare_output(config.output)
    # (as fit --json writes them: a number that is not finite, a samples_per_s of an epoch the
    # clock did not see pass, is null, not the Infinity that strict JSON readers refuse)
    history = "".join(json.dumps(metrics.json_ready(r)) + "\n" for r in result.history)
    header = RESOLVED_MARK
    warm = result.model.meta.get("warm_start")
    if warm:  # (the config alone does not repeat such a run: say what does)
        header += (
            f"# warm-started from {warm['path'] or 'a model given to fit'} (weights sha256 "
            f"{warm['weights_sha256']}): repeat with --warm-start that model"
            + (" and --unknown ignore" if warm.get("unknown") == "ignore" else "")
            + "\n"
        )
    write_all_atomic(
        [
            (folder / "config.yaml", text_writer(header + config.to_yaml())),
            (folder / "history.jsonl", text_writer(history)),
            (folder / "model.npz", model_writer(result.model)),
        ]
    )
    return str(folder)
