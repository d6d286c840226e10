"""Warm start: a new run whose initial weights are a trained model's (``fit --warm-start MODEL``).

Only W(l) and b(l) come from the model: the optimizer's state, the epoch count, the schedule,
early stopping, the splits and shuffles start afresh from the config, as in a run of its own.
The weights mean something only under the encoding they were trained with, so the new data is
read and encoded with the MODEL's encoding (its feature columns, standardization statistics,
missing-value fills, categories and classes), as ``evaluate`` reads data, not refitted. The
config's network must therefore be the model's, and its data keys that decide the encoding
(target, features, exclude, categorical, missing, standardize, header, delimiter) the ones the
model was trained with.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import STANDARDIZE_WORDS, Config, with_data_sizes
from .errors import ConfigError, DataError, ModelFileError
from .modelfile import Model, load_model, weights_sha256

#: The data keys that decide how the data is encoded: with a warm start the model's encoding
#: decides, so the config must say what the model's run said.
ENCODING_KEYS = (
    "target",
    "features",
    "exclude",
    "categorical",
    "missing",
    "standardize",
    "header",
    "delimiter",
)


@dataclass
class WarmStart:
    """The model a run starts from: ``path`` (absolute; None for a Model given in Python) and
    the SHA-256 of its weights (``modelfile.weights_sha256``, as ``nettrain info`` shows it)."""

    model: Model
    path: str | None
    weights_sha256: str

    @property
    def name(self) -> str:
        return self.path or "the model given to fit"

    @property
    def encoding_rows(self) -> int | None:
        return encoding_rows(self.model.meta)

    def record(self) -> dict:
        """What the new run's model records under ``warm_start`` (and fit's events carry): the
        model's path and weights digest, and the rows its encoding was fitted on where known
        (``encoding_n_train``: the new run's encoding is that one, and so is that of a run
        warm-started from it in turn)."""
        record = {"path": self.path, "weights_sha256": self.weights_sha256}
        if (rows := self.encoding_rows) is not None:
            record["encoding_n_train"] = rows
        return record


def encoding_rows(meta: dict) -> int | None:
    """The number of rows a model's encoding (its standardization statistics) was fitted on: a
    warm-started model's encoding is the model's it began from, which its ``warm_start`` records;
    another model's was fitted on its own training rows (the summary's ``n_train``: in memory
    the rows kept, under MPI all ranks' rows, of a streamed .npy the rows its statistics were
    taken over). None where the metadata does not say (an older nettrain's model)."""
    warm = meta.get("warm_start")
    if isinstance(warm, dict):
        rows = warm.get("encoding_n_train")
    else:
        training = meta.get("training")
        rows = training.get("n_train") if isinstance(training, dict) else None
    return rows if isinstance(rows, int) and not isinstance(rows, bool) and rows > 0 else None


def open_warm_start(source, config: Config, check_data: bool = True) -> tuple[WarmStart, Config]:
    """The model ``source`` names (a model file, a run folder holding model.npz, or a Model),
    checked against the config before any data is read; and the config with network.layers'
    auto sizes filled in from the model (the data will be encoded with its encoding, so they are
    its sizes).

    ``check_data``: compare the config's data keys that decide the encoding (ENCODING_KEYS) with
    those the model's run recorded (off for arrays given to fit, where the config's data section
    is not read).

    Raises ModelFileError (an unreadable model) and ConfigError (the first difference between
    the config's network and the model's, or a data key that differs)."""
    if isinstance(source, Model):
        warm = WarmStart(source, None, weights_sha256(source.network))
    else:
        path = Path(source)
        if os.path.realpath(path) != os.path.abspath(path):
            # through a link (a `current` model a pipeline swaps in atomically each night): the
            # file it points at now is the one read and recorded, not the link, which will
            # point at another model tomorrow
            path = Path(os.path.realpath(path))
        try:
            model = load_model(path)
        except ModelFileError as exc:
            raise ModelFileError(f"--warm-start: {exc}") from None
        if path.is_dir():
            path = path / "model.npz"
        warm = WarmStart(model, os.path.abspath(path), weights_sha256(model.network))
    net = warm.model.network
    config = with_data_sizes(config, net.sizes[0], net.sizes[-1])
    nc = config.network
    for key, ours, theirs in (
        (("network", "layers"), list(nc.layers), net.sizes),
        (("network", "activation"), list(nc.activation), net.activation_names),
        (("cost",), config.cost, net.cost_name),
        (("network", "output"), nc.output, net.output),
        (("network", "output_bias"), nc.output_bias, net.output_bias),
    ):
        if ours != theirs:
            raise ConfigError(
                f"{_where(config, key)}{'.'.join(key)} {_show(ours)} but the warm-start model "
                f"{warm.name} has {_show(theirs)}; a warm start trains the model's own network"
            )
    if check_data:
        _check_data_keys(config, warm)
    return warm, config


def _check_data_keys(config: Config, warm: WarmStart) -> None:
    """A ConfigError naming the first data key that decides the encoding and differs from the
    model's run (models whose metadata lacks the key are not asked about it)."""
    then = (warm.model.meta.get("config") or {}).get("data")
    if not isinstance(then, dict):
        return
    now = json.loads(json.dumps(config.to_dict()["data"]))  # (tuples as lists, as the model has them)
    for key in ENCODING_KEYS:
        if key in then and then[key] != now.get(key):
            if key == "standardize" and _same_scaling(then[key], now.get(key), warm.model.network.output):
                continue  # (inputs and true scale a class or a bounded target alike: not at all)
            raise ConfigError(
                f"{_where(config, ('data', key))}data.{key} {_show(now.get(key))} but the warm-start "
                f"model {warm.name} was trained with {_show(then[key])}; the new data is read with "
                f"the model's encoding, so data.{key} must be the model's"
            )


def _same_scaling(then, now, output: str) -> bool:
    """Whether two data.standardize values encode alike for a network with this output: inputs
    and true differ only for a regression target under a linear output."""
    from .data.encode import standardizes_target

    if not all(isinstance(v, bool) or v in STANDARDIZE_WORDS for v in (then, now)):
        return False
    return bool(then) == bool(now) and standardizes_target(then, output) == standardizes_target(now, output)


def check_same_encoding(encoding, warm: WarmStart) -> None:
    """A DataError when data given to fit already encoded (``RunData``) was encoded otherwise
    than the model's data: other features, classes or standardization statistics."""
    theirs = warm.model.encoding
    same = encoding.to_dict() == theirs.to_dict() and all(
        (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))
        for a, b in (
            (encoding.x_mean, theirs.x_mean),
            (encoding.x_scale, theirs.x_scale),
            (encoding.y_mean, theirs.y_mean),
            (encoding.y_scale, theirs.y_scale),
        )
    )
    if not same:
        raise DataError(
            f"--warm-start: the data given to fit is encoded otherwise than the model {warm.name}'s "
            "(its features, classes or scaling); give the data as files the config names, which "
            "are then encoded with the model's encoding"
        )


def _where(config: Config, key: tuple) -> str:
    """'c.yaml:9: ' (or '--set KEY=VALUE: ') where the key was given, else ''."""
    return config.where(key) if config.where is not None else ""


def _show(value) -> str:
    return repr(value) if isinstance(value, str) else json.dumps(value)


#: How many models back ``warm_start_chain`` follows a chain (each is read to check its weights).
CHAIN_LIMIT = 50


def warm_start_chain(meta: dict, limit: int = CHAIN_LIMIT, read: dict | None = None) -> list[dict]:
    """The models a warm-started model descends from, nearest first: its ``warm_start`` record,
    then the record of the model found at that path, and so on, each with a ``status``:

    - ``found``: the file at ``path`` holds the weights the record names (their digest);
    - ``missing``: no file there; ``replaced``: a model with other weights there;
      ``unreadable``: not a readable model; ``no path``: a Model given to fit in Python;
    - ``not followed``: past ``limit`` models, or a path met before.

    The chain goes on only past a ``found`` model; one found that has no ``warm_start`` began
    from fresh weights, so a list whose last entry is ``found`` is the whole chain. [] for a
    model that began from fresh weights itself. Each model in the chain is read (its weights, to
    check their digest), so this costs what loading them costs; ``read`` (path -> (digest,
    warm_start record), or None for an unreadable file) keeps what was read for the chains of
    other models of the same call (runs of one nightly job share their ancestors)."""
    read = {} if read is None else read
    chain: list[dict] = []
    seen: set[str] = set()
    record = meta.get("warm_start")
    while isinstance(record, dict):
        entry = {"path": record.get("path"), "weights_sha256": record.get("weights_sha256")}
        chain.append(entry)
        path = entry["path"]
        if not isinstance(path, str):
            entry["status"] = "no path"
            break
        if len(chain) > limit or path in seen:
            entry["status"] = "not followed"
            break
        seen.add(path)
        if not os.path.isfile(path):
            entry["status"] = "missing"
            break
        if path not in read:
            try:
                model = load_model(path)
                read[path] = (weights_sha256(model.network), model.meta.get("warm_start"))
            except ModelFileError:
                read[path] = None
        if read[path] is None:
            entry["status"] = "unreadable"
            break
        digest, record = read[path]
        if digest != entry["weights_sha256"]:
            entry["status"] = "replaced"
            break
        entry["status"] = "found"
    return chain
