"""The fit loop: epochs of shuffled mini-batches, validation, events for a reporter.

Each epoch shuffles the training rows with the seeded host generator and visits all of them in
batches of ``batch_size``; the last, smaller batch is kept (its cost is a mean over its own rows).
Per step: forward, backward (network.py), update (optimizers.py). The loss of every step is
accumulated on the device and read once per epoch, so the GPU never waits on the host inside an
epoch. Same config, same seed, same machine and thread count: the same model, bit for bit.

The library never prints: progress goes to ``on_event(kind, info)``, which ``report.py`` renders.
Event kinds: 'notice' (message), 'start', 'batch' (a few per long epoch), 'epoch', 'test', 'end'.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import metrics
from .backend import Device, resolve_device, to_host
from .config import Config
from .data import Dataset, RunData, StreamedDataset, load_run_data, stream_rng
from .errors import TrainingDiverged
from .modelfile import Model, save_model, write_text_atomic
from .network import Network
from .optimizers import get_optimizer

EventHandler = Callable[[str, dict], None]


def _ignore(kind: str, info: dict) -> None:
    pass


@dataclass
class FitResult:
    """What ``fit`` produced: the model, one history record per epoch, a summary, test scores."""

    model: Model
    history: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    test: dict | None = None
    output: str | None = None


def evaluate_dataset(
    network: Network, data: Dataset, encoding, device: Device, batch_size: int = 8192
) -> dict:
    """Loss and the task's metric (accuracy, or R^2 in standardized units) on a data set."""
    xp = device.xp
    loss_sum = xp.zeros((), dtype=np.float64)
    outputs = []
    n = len(data.X)
    for start in range(0, n, batch_size):
        x = device.asarray(data.X[start : start + batch_size])
        y = device.asarray(data.Y[start : start + batch_size])
        zs, acts = network.forward_cache(x)
        loss_sum += network.cost.loss(zs[-1], acts[-1], y) * len(x)
        outputs.append(to_host(acts[-1]))
    s = np.concatenate(outputs)
    result: dict[str, Any] = {"loss": float(loss_sum) / n}
    if encoding.task == "classification":
        if s.shape[1] == 1:
            pred, true = (s[:, 0] >= 0.5).astype(int), data.Y[:, 0].astype(int)
        else:
            pred, true = s.argmax(axis=1), data.Y.argmax(axis=1)
        result["accuracy"] = metrics.accuracy(true, pred)
    else:
        result["r2"] = metrics.r2(data.Y, s)
    return result


def fit(
    config: Config,
    on_event: EventHandler | None = None,
    *,
    stdin=None,
    save: bool = True,
    data: RunData | None = None,
) -> FitResult:
    """Train the network a config describes and (when ``save``) write its run folder.

    The run folder (``config.output``) receives config.yaml (the resolved config), history.jsonl
    (one JSON object per epoch) and model.npz, all written atomically and only after training
    succeeded, so an earlier good model is never replaced by a diverged one.

    Raises
    ------
    ConfigError, DataError, BackendError : bad config, data or device (before any training).
    TrainingDiverged : the loss became NaN or infinite (nothing is written).
    """
    emit = on_event or _ignore
    tc = config.training
    device = resolve_device(config.device)
    if device.notice:
        emit("notice", {"message": device.notice})
    if data is None:
        data = load_run_data(config, stdin=stdin)
    for note in data.notes:
        emit("notice", {"message": note})
    xp = device.xp

    net = Network.create(
        config.network.layers,
        config.network.activation,
        config.network.output,
        config.cost,
        seed=stream_rng(tc.seed, 0),
        dtype=config.dtype,
        device=device,
    )
    optimizer = get_optimizer(tc.optimizer, tc.learning_rate)
    shuffle_rng = stream_rng(tc.seed, 2)

    streamed = isinstance(data.train, StreamedDataset)
    n = len(data.train)
    bs = min(tc.batch_size, n)
    if streamed:
        n_batches = data.train.n_batches()
    else:
        # the training data goes to the device once
        X = device.asarray(data.train.X)
        Y = device.asarray(data.train.Y)
        n_batches = math.ceil(n / bs)
    batch_every = max(1, n_batches // 20)
    emit(
        "start",
        {
            "epochs": tc.epochs,
            "n_train": n,
            "n_val": len(data.validation.X) if data.validation else 0,
            "batches": n_batches,
            "batch_size": bs,
            "params": net.n_params(),
            "device": str(device),
            "sizes": net.sizes,
            "task": config.task,
            "output": config.output,
        },
    )

    def memory_batches():
        """One epoch: a fresh permutation of the rows, cut into batches (the last may be short)."""
        perm = device.asarray(shuffle_rng.permutation(n))
        for start in range(0, n, bs):
            idx = perm[start : start + bs]
            yield X[idx], Y[idx]

    history: list[dict] = []
    t_start = time.perf_counter()
    # overflow on the way to NaN is expected when training diverges: the loss check below
    # reports it as TrainingDiverged instead of a stream of NumPy RuntimeWarnings
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(1, tc.epochs + 1):
            t0 = time.perf_counter()
            batches = data.train.batches(shuffle_rng, device) if streamed else memory_batches()
            loss_sum = xp.zeros((), dtype=np.float64)  # summed on the device, read once per epoch
            for k, (xb, yb) in enumerate(batches):
                loss, dW, db = net.gradients(xb, yb)
                loss_sum += loss * len(xb)
                optimizer.step(net.params(), [g for pair in zip(dW, db) for g in pair])
                if on_event is not None and (k + 1) % batch_every == 0 and k + 1 < n_batches:
                    emit("batch", {"epoch": epoch, "batch": k + 1, "batches": n_batches})
            train_loss = float(loss_sum) / n  # float() waits for the device: once per epoch
            if not math.isfinite(train_loss):
                raise _diverged("the loss", train_loss, epoch, tc.learning_rate)
            record: dict[str, Any] = {"epoch": epoch, "loss": train_loss}
            if data.validation is not None:
                val = evaluate_dataset(net, data.validation, data.encoding, device)
                if not math.isfinite(val["loss"]):
                    raise _diverged("the validation loss", val["loss"], epoch, tc.learning_rate)
                record["val_loss"] = val["loss"]
                for key in ("accuracy", "r2"):
                    if key in val:
                        record[f"val_{key}"] = val[key]
            elapsed = time.perf_counter() - t0
            record["lr"] = optimizer.lr
            record["time"] = round(elapsed, 6)
            record["samples_per_s"] = n / elapsed if elapsed > 0 else float("inf")
            history.append(record)
            total = time.perf_counter() - t_start
            emit(
                "epoch",
                {**record, "epochs": tc.epochs, "elapsed": total, "eta": total / epoch * (tc.epochs - epoch)},
            )

        # the step losses are measured before each update: the last update can still blow up
        if not all(bool(xp.isfinite(p).all()) for p in net.params()):
            raise _diverged("a weight", "NaN or infinite", tc.epochs, tc.learning_rate)
    train_time = time.perf_counter() - t_start
    summary: dict[str, Any] = {
        "epochs": tc.epochs,
        "loss": history[-1]["loss"],
        "train_time_s": round(train_time, 3),
        "n_train": n,
        "device": str(device),
        "samples_per_s": n * tc.epochs / train_time if train_time > 0 else None,
    }
    for key in ("val_loss", "val_accuracy", "val_r2"):
        if key in history[-1]:
            summary[key] = history[-1][key]
    # the model keeps host copies of the weights; on the CPU they are the same arrays
    host_net = Network(
        [to_host(w) for w in net.W],
        [to_host(v) for v in net.b],
        net.activation_names,
        net.output,
        net.cost_name,
    )
    test = None
    if data.test is not None:
        test = evaluate_dataset(host_net, data.test, data.encoding, Device("cpu"))
        summary.update({f"test_{k}": v for k, v in test.items()})
        emit("test", test)
    model = Model(host_net, data.encoding, {"config": config.to_dict(), "training": summary})
    result = FitResult(model, history, summary, test)
    if save:
        result.output = save_run(config, result)
    emit("end", {"summary": summary, "history": history, "output": result.output})
    return result


def _diverged(what: str, value: float | str, epoch: int, lr: float) -> TrainingDiverged:
    return TrainingDiverged(
        f"training diverged: {what} became {value} in epoch {epoch}; try a lower learning rate "
        f"(now {lr:g}, e.g. --set training.learning_rate={lr / 10:g}); nothing was written"
    )


def save_run(config: Config, result: FitResult) -> str:
    """Write config.yaml, history.jsonl and model.npz into the run folder; the model last."""
    folder = Path(config.output)
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(folder / "config.yaml", config.to_yaml())
    write_text_atomic(folder / "history.jsonl", "".join(json.dumps(r) + "\n" for r in result.history))
    save_model(folder / "model.npz", result.model)
    return str(folder)
