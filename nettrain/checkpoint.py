"""Checkpoints: everything a run needs to continue exactly where it stopped.

A checkpoint is a model file (so ``nettrain predict`` can use it) with more members:

    opt0, opt1, ...       the optimizer's state arrays (velocities, moments), in its order
    best_W0, best_b0, ... the weights of the best epoch so far (early stopping, restore_best)

and, in the JSON metadata, ``checkpoint``: the epochs done, the history, the optimizer's and
the schedule's scalars, the random generators' states (shuffle, dropout), the early-stopping
state, a hash of the config and when it was written (``saved_at``, ns since the epoch: the
order of checkpoints in a folder, kept when cp, tar or a checkout resets file times). Files are
named ``checkpoint-<epoch>.npz`` in the run folder and written atomically; only the newest
``checkpoint_keep`` of the run's config are kept (a checkpoint of another config left in the
folder is never deleted by that pruning).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path

import numpy as np

from .errors import ConfigError, ModelFileError, os_reason, shown
from .metrics import json_text
from .modelfile import Model, load_model, read_members, read_meta, save_model

PATTERN = re.compile(r"^checkpoint-(\d+)\.npz$")


#: training keys added after checkpoints were first written, and their "off" values, which
#: ``comparable`` leaves out as the older configs did not have them
LATER_TRAINING_KEYS = {"decay_biases": False, "input_dropout": 0.0}

#: the schedule parameters that count epochs: 1.0 and 1 are one setting
WHOLE_EPOCHS = ("step_size", "warmup", "patience", "cooldown")


def config_hash(config_dict: dict) -> str:
    """A hash of what decides the training trajectory: the resolved config without the run
    folder, the device, the number of epochs (resuming may extend a run), the checkpoint settings
    and gradient_norms (it measures, and changes no step)."""
    d = comparable(config_dict)
    d.pop("output", None)
    d.pop("device", None)
    for key in ("epochs", "checkpoint_every", "checkpoint_keep", "gradient_norms"):
        d.get("training", {}).pop(key, None)
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


def comparable(config_dict: dict) -> dict:
    """A resolved config in one canonical form, whichever nettrain wrote it: an optimizer or
    schedule parameter at its default, an empty data.exclude, an unset data.features and a
    data.split_seed unset or equal to training.seed (the same hold-outs) are left out (newer
    configs write them, older ones did not), and so are training keys added later at their "off"
    values (decay_biases false, input_dropout 0), so that a checkpoint from before still resumes."""
    from .optimizers import OPTIMIZERS
    from .schedules import SCHEDULES

    d = json.loads(json.dumps(config_dict))
    data, training = d.get("data"), d.get("training")
    if isinstance(data, dict) and not data.get("exclude"):
        data.pop("exclude", None)
    if isinstance(data, dict) and not data.get("features"):
        data.pop("features", None)
    if isinstance(data, dict) and data.get("weight") is None:  # (a key added later: off)
        data.pop("weight", None)
    if isinstance(data, dict):  # a data file by its real path: earlier versions resolved links
        for key in ("train", "test", "validation"):
            path = data.get(key)
            if isinstance(path, str) and path != "-" and os.path.isfile(path):
                data[key] = os.path.realpath(path)
    seed = training.get("seed") if isinstance(training, dict) else None
    if isinstance(data, dict) and data.get("split_seed") in (None, seed):
        # unset, or training.seed itself: the same hold-outs (added later: the hash is as before)
        data.pop("split_seed", None)
    if isinstance(training, dict) and training.get("class_weight") is None:
        training.pop("class_weight", None)  # (added later: an unweighted run's hash is as before)
    # (added later, off by default: a run without them hashes as before, so its checkpoints resume)
    for key, off in LATER_TRAINING_KEYS.items():
        if isinstance(training, dict) and key in training and training[key] == off:
            training.pop(key)
    for key, registry in (("optimizer", OPTIMIZERS), ("schedule", SCHEDULES)):
        value = training.get(key) if isinstance(training, dict) else None
        if isinstance(value, dict) and value.get("name") in registry:
            for k in WHOLE_EPOCHS:  # (written as 1.0 by a nettrain that kept the YAML's float)
                if isinstance(value.get(k), float) and value[k].is_integer():
                    value[k] = int(value[k])
            defaults = registry[value["name"]].defaults
            params = {k: v for k, v in value.items() if k != "name" and defaults.get(k, object()) != v}
            training[key] = {"name": value["name"], **params} if params else value["name"]
    return d


def checkpoint_path(folder: str | Path, epoch: int) -> Path:
    return Path(folder) / f"checkpoint-{epoch}.npz"


def checkpoints_in(folder: str | Path) -> list[tuple[int, Path]]:
    """(epoch, path) of every checkpoint in a run folder, oldest first: in the order they were
    written (then by epoch), so checkpoints left by an earlier run in the same folder count as
    older than this run's even when their epoch numbers are higher. The order is the one each
    checkpoint stores (``saved_at``), not its file time, which a copy resets; a checkpoint of an
    older nettrain, without one, counts as older than those with one, and among its like goes by
    its file time."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for p in folder.iterdir():
        m = PATTERN.match(p.name)
        if m:
            try:
                st = p.stat()
            except OSError:  # deleted meanwhile
                continue
            if p.is_file():
                # one without the stamp (an older nettrain's) was written before any with it
                # (this one's): its file time, which a copy makes the newest, orders it only among
                # those like it
                saved_at = _facts(p)[1]
                key = (0, st.st_mtime_ns) if saved_at is None else (1, saved_at)
                found.append((key, int(m.group(1)), p))
    return [(epoch, p) for _, epoch, p in sorted(found)]


#: _facts' answers, by (path, inode, size, mtime): pruning asks about the same files at every
#: checkpoint, and their documents (with the history) grow with the run
_facts_seen: dict[tuple, tuple[str | None, int | None]] = {}


def stored_hash(path: str | Path) -> str | None:
    """The config hash of a checkpoint, made by this nettrain from the config it stores (as
    ``--resume`` compares them: an older nettrain's hash may differ for the same config);
    None for a file that cannot be read as a checkpoint."""
    return _facts(path)[0]


def _facts(path: str | Path) -> tuple[str | None, int | None]:
    """(stored_hash, saved_at) of a checkpoint; (None, None) for a file that cannot be read."""
    try:
        st = os.stat(path)
    except OSError:
        return None, None
    key = (str(path), st.st_ino, st.st_size, st.st_mtime_ns)
    if key not in _facts_seen:
        if len(_facts_seen) > 1000:  # (a long run replaces its files: forget the old ones)
            _facts_seen.clear()
        try:
            meta = read_meta(path)
        except (ModelFileError, OSError):
            meta = {}
        state = meta.get("checkpoint")
        saved_at = state.get("saved_at") if isinstance(state, dict) else None
        _facts_seen[key] = (_hash_of(meta), saved_at if type(saved_at) is int else None)
    return _facts_seen[key]


def _remember(path: Path, meta: dict) -> None:
    """Tell _facts what the checkpoint just written at ``path`` holds (``meta``, its document),
    so that pruning does not read back its whole document (with the history): the config as
    read_meta would return it (through JSON), and the stamp."""
    try:
        st = os.stat(path)
    except OSError:
        return
    if len(_facts_seen) > 1000:
        _facts_seen.clear()
    state = meta["checkpoint"]
    small = {"config": meta.get("config"), "checkpoint": {"config_hash": state.get("config_hash")}}
    _facts_seen[(str(path), st.st_ino, st.st_size, st.st_mtime_ns)] = (
        _hash_of(json.loads(json_text(small))),
        state["saved_at"],
    )


def _hash_of(meta: dict) -> str | None:
    stored, state = meta.get("config"), meta.get("checkpoint")
    if isinstance(stored, dict):
        try:
            return config_hash(stored)
        except (TypeError, ValueError, AttributeError, KeyError):  # a garbled config
            return None
    return state.get("config_hash") if isinstance(state, dict) else None


def save_checkpoint(
    folder: str | Path,
    epoch: int,
    model: Model,
    state: dict,
    optimizer_arrays: list,
    best: tuple[list, list] | None,
    keep: int,
) -> Path:
    """Write ``checkpoint-<epoch>.npz`` atomically and delete all but the newest ``keep`` of
    this config (``state['config_hash']``): checkpoints of another config in the folder, left
    by another run, are not this run's to delete."""
    extra = {f"opt{i}": np.asarray(a) for i, a in enumerate(optimizer_arrays)}
    if best is not None:
        for l, (w, b) in enumerate(zip(*best)):
            extra[f"best_W{l}"] = np.asarray(w)
            extra[f"best_b{l}"] = np.asarray(b)
    meta = dict(model.meta)
    meta["checkpoint"] = {
        **state,
        "epoch": epoch,
        "optimizer_arrays": len(optimizer_arrays),
        "has_best": best is not None,
        "saved_at": time.time_ns(),
    }
    path = checkpoint_path(folder, epoch)
    save_model(path, Model(model.network, model.encoding, meta), extra=extra)
    _remember(path, meta)
    chash = state.get("config_hash")
    mine = [p for _, p in checkpoints_in(folder) if p == path or stored_hash(p) == chash]
    for old in mine[:-keep] if keep > 0 else []:
        if old != path:
            try:
                old.unlink()
            except OSError:
                pass
    return path


def find_checkpoint(where: str | Path) -> Path:
    """The checkpoint to resume from: a checkpoint file, or the newest written in a run folder."""
    p = Path(where)
    try:
        is_dir = p.is_dir()
    except OSError as exc:  # a name too long, a loop of links
        raise ConfigError(f"--resume: '{shown(where)}' cannot be used: {os_reason(exc)}") from None
    if is_dir:
        found = checkpoints_in(p)
        if not found:
            raise ConfigError(
                f"--resume: no checkpoint-<epoch>.npz in '{where}'; checkpoints are "
                "written every training.checkpoint_every epochs and when fit is interrupted"
            )
        return found[-1][1]
    if not p.exists():
        raise ConfigError(f"--resume: '{where}' not found")
    return p


def stored_config(path: str | Path) -> dict:
    """The resolved config a checkpoint stores (its paths absolute), which ``fit --resume`` uses
    when no CONFIG is given."""
    config = read_meta(path).get("config")
    if not isinstance(config, dict):
        raise ConfigError(f"--resume: {shown(path)} stores no config; name the CONFIG to resume with")
    return config


def load_checkpoint(path: str | Path) -> tuple[Model, dict, list[np.ndarray], tuple[list, list] | None]:
    """(model, checkpoint state, optimizer arrays, best weights or None) from a checkpoint file."""
    model = load_model(path)
    state = model.meta.get("checkpoint")
    if not isinstance(state, dict):
        raise ModelFileError(f"{path}: a model file, not a checkpoint (it holds no training state)")
    try:
        n_opt = int(state.get("optimizer_arrays", 0))
    except (TypeError, ValueError, OverflowError):
        raise ModelFileError(f"{path}: the checkpoint's state is malformed") from None
    n_layers = len(model.network.W)
    names = [f"opt{i}" for i in range(n_opt)]
    if state.get("has_best"):
        names += [f"best_{k}{l}" for l in range(n_layers) for k in ("W", "b")]
    arrays = read_members(path, names)
    opt = [arrays[f"opt{i}"] for i in range(n_opt)]
    best = None
    if state.get("has_best"):
        best = (
            [arrays[f"best_W{l}"] for l in range(n_layers)],
            [arrays[f"best_b{l}"] for l in range(n_layers)],
        )
        shapes = [a.shape for a in (*model.network.W, *model.network.b)]
        if [a.shape for a in (*best[0], *best[1])] != shapes:
            raise ModelFileError(f"{path}: the checkpoint's best weights do not fit its network")
    return model, state, opt, best
