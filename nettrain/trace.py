"""One example through the network with every number of the derivation kept: `nettrain trace`.

    a(1) = x                                   (standardized as fit does)
    z(l+1) = W(l) a(l) + b(l),  a(l+1) = f(z(l+1)),  s = a(L),  C = cost(s, y)
    delta(L) = dC/dz(L)                        (the cost's rule: s - y for softmax + cross-entropy, ...)
    delta(l) = (W(l)^T delta(l+1)) * f'(z(l))
    dC/dW(l) = delta(l+1) a(l)^T,  dC/db(l) = delta(l+1)

The numbers come from the readable reference code, ``Network.forward_cache`` and
``Network.backward``, on a float64 copy of the network and a batch of one row (n = 1: the costs'
means over the batch are that example's own cost), so dC/dW and dC/db are exactly what
``Network.gradients`` (the training step) gives on that row, unweighted (training.class_weight
multiplies them by the row's class weight in training: a note says by how much). Layers are numbered as in the
derivation and gradcheck: layer 1 is the input and W(l) maps layer l to layer l+1; in the lists
here ``W[0]`` is W(1), ``z[0]`` is z(2), ``a[0]`` is a(1) = x and ``delta[0]`` is delta(2).

Rows are counted from 0 among a file's data rows, as ``tail -n +2 FILE | head`` shows them for a
CSV with a header (the header is not a row; blank lines are skipped, as the reader skips them).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .errors import ConfigError, DataError, TargetColumnError
from .network import Network

#: `trace --json` writes a W(l) and its dC/dW(l) of at most this many entries (500x500) in full, a
#: larger one as a summary (norm, min, max) unless --full: a 784-1024-1024-10 network's would be
#: 62 MB of JSON, numbers no one reads one by one (a model file holds its W, and dC/dW(l) is
#: the outer product of delta(l+1) and a(l), both written in full)
JSON_MAX_ENTRIES = 250_000


@dataclass
class Trace:
    """One example's forward and backward pass. Vectors are 1-D (units,), W and dW (out, in).

    ``y``, ``C``, ``delta``, ``dW`` and ``db`` are None when the example has no target (a data
    file without the target column): then only the forward pass is known.
    """

    sizes: list[int]
    activations: list[str]  # f of layers 2..L: the hidden activations, then the output function
    cost: str
    W: list[np.ndarray]  # W[l] = W(l+1), (units of layer l+2, units of layer l+1)
    b: list[np.ndarray]  # b[l] = b(l+1)
    a: list[np.ndarray]  # a[0] = a(1) = x (standardized), ..., a[-1] = a(L) = s
    z: list[np.ndarray]  # z[0] = z(2), ..., z[-1] = z(L)
    y: np.ndarray | None = None  # the target as the cost takes it: one-hot, 0/1, or (standardized) values
    y_standardized: bool = False  # y is a regression target standardized as fit does, (value - mean) / scale
    C: float | None = None  # cost(s, y)
    delta: list[np.ndarray] | None = None  # delta[0] = delta(2), ..., delta[-1] = delta(L)
    dW: list[np.ndarray] | None = None  # dW[l] = dC/dW(l+1) = delta(l+2) a(l+1)^T
    db: list[np.ndarray] | None = None  # db[l] = dC/db(l+1) = delta(l+2)
    delta_rule: str = ""  # delta(L) for this cost and output, for n = 1: 's - y', '2 (s - y)', ...
    delta_reason: str = ""  # what gives that rule: 'softmax with cross-entropy', ...
    source: str = ""  # the config or model file the weights come from
    weights: str = "initial"  # 'initial' (a config's, seeded) or 'trained' (a model file's)
    seed: int | None = None  # a config's training.seed, which drew the initial weights
    dtype: str = "float64"  # the dtype the weights were kept in (computed in float64 all the same)
    data: str | None = None  # the data the example comes from; None: a random example
    row: int = 0  # the example's row among the data rows, from 0
    where: str = ""  # the row's place in the file for messages: 'data/xor.csv:3' (a line) or 'x.npy row 5'
    features: list[str] = field(default_factory=list)  # the feature columns, as the data names them
    values: list = field(default_factory=list)  # the example's features as read (text from a CSV)
    target: str | None = None  # the target column's name
    label: Any = None  # the target as read (a class label, a value), None when absent
    inputs: list[str] = field(default_factory=list)  # the network's inputs (one-hot: 'color=red')
    prediction: Any = None  # what predict would answer: a class label or a value in the target's units
    notes: list[str] = field(default_factory=list)
    #: the inputs before standardization (one-hot columns included) and the training data's
    #: statistics that make a(1) = (x - x_mean) / x_scale; None for a random example
    x_raw: np.ndarray | None = None
    x_mean: np.ndarray | None = None
    x_scale: np.ndarray | None = None
    filled: list[str] = field(default_factory=list)  # features missing in the row, filled (missing: mean)

    @property
    def s(self) -> np.ndarray:
        """The network's output s = a(L)."""
        return self.a[-1]

    @property
    def has_target(self) -> bool:
        return self.y is not None

    def param_names(self) -> list[str]:
        """W(1), b(1), W(2), ... as gradcheck names them."""
        return [f"{p}({l + 1})" for l in range(len(self.W)) for p in ("W", "b")]

    def too_large(self, max_entries: int | None) -> list[str]:
        """The names of the matrices W(l) with more than ``max_entries`` entries (None: no limit)."""
        if max_entries is None:
            return []
        return [f"W({l + 1})" for l, W in enumerate(self.W) if W.size > max_entries]

    def to_dict(self, max_entries: int | None = None) -> dict:
        """Everything as JSON types: the arrays as nested lists (what `trace --json` writes).

        ``layers``: one object per layer l = 1..L with ``layer``, ``units``, ``f`` (the
        activation's name; null for the input), ``z``, ``a`` and ``delta`` (null where there is
        none: the input's z and delta, every delta without a target). ``params``: one object per
        W(l) and b(l) with ``name``, ``shape``, ``value`` and ``grad`` (dC/dW(l), dC/db(l); null
        without a target).

        Every array is in full, except, when ``max_entries`` is given, a W(l) with more entries:
        its ``value`` and ``grad`` are null and its ``summary`` has ``value`` and ``grad`` as
        {norm, min, max}; ``left_out`` then names those matrices and ``max_entries`` is the limit
        (both keys only then: a small network's object is as before)."""
        left_out = self.too_large(max_entries)
        L = len(self.sizes)
        layers = []
        for l in range(L):
            layers.append(
                {
                    "layer": l + 1,
                    "units": self.sizes[l],
                    "f": None if l == 0 else self.activations[l - 1],
                    "z": None if l == 0 else _list(self.z[l - 1]),
                    "a": _list(self.a[l]),
                    "delta": None if l == 0 or self.delta is None else _list(self.delta[l - 1]),
                }
            )
        params = []
        for l in range(len(self.W)):
            for name, value, grads in (("W", self.W, self.dW), ("b", self.b, self.db)):
                name = f"{name}({l + 1})"
                grad = None if grads is None else grads[l]
                if name in left_out:
                    entry = {"name": name, "shape": list(value[l].shape), "value": None, "grad": None}
                    entry["summary"] = {"value": _summary(value[l]), "grad": _summary(grad)}
                else:
                    entry = {
                        "name": name,
                        "shape": list(value[l].shape),
                        "value": _list(value[l]),
                        "grad": None if grad is None else _list(grad),
                    }
                params.append(entry)
        return {
            "source": self.source,
            "weights": self.weights,
            "seed": self.seed,
            "dtype": self.dtype,
            "data": self.data,
            "row": self.row,
            "where": self.where,
            "features": list(self.features),
            "values": [_scalar(v) for v in self.values],
            "target": self.target,
            "label": _scalar(self.label),
            "inputs": list(self.inputs),
            "sizes": list(self.sizes),
            "activations": list(self.activations),
            "cost": self.cost,
            "x": _list(self.a[0]),
            "x_raw": None if self.x_raw is None else _list(self.x_raw),
            "x_mean": None if self.x_mean is None else _list(self.x_mean),
            "x_scale": None if self.x_scale is None else _list(self.x_scale),
            "filled": list(self.filled),
            "s": _list(self.s),
            "y": None if self.y is None else _list(self.y),
            "y_standardized": self.y_standardized,
            "C": _scalar(self.C),
            "delta_rule": self.delta_rule if self.has_target else None,
            "delta_reason": self.delta_reason if self.has_target else None,
            "prediction": _scalar(self.prediction),
            "layers": layers,
            "params": params,
            "notes": list(self.notes),
        } | ({"left_out": left_out, "max_entries": max_entries} if left_out else {})


def _list(a: np.ndarray) -> list:
    """An array as nested lists, with null for an entry that is not finite (JSON has no inf or NaN:
    the cost and gradients of an example far outside the data can overflow)."""
    a = np.asarray(a, dtype=np.float64)
    if np.isfinite(a).all():
        return a.tolist()
    return np.where(np.isfinite(a), a, None).tolist()


def _summary(a: np.ndarray | None) -> dict | None:
    """{norm, min, max} of an array (what the tables show of a large one); None for None."""
    if a is None:
        return None
    a = np.asarray(a, dtype=np.float64)
    with np.errstate(over="ignore"):  # (entries past 1e154 square to inf: the norm is null, no warning)
        norm = np.linalg.norm(a)
    return {"norm": _scalar(norm), "min": _scalar(a.min()), "max": _scalar(a.max())}


def _scalar(v):
    """A value as JSON takes it: text stays text, whole floats of an array stay floats, NaN is null."""
    if v is None:
        return None
    if isinstance(v, np.ndarray):
        return [_scalar(e) for e in v.tolist()]
    if isinstance(v, (list, tuple)):
        return [_scalar(e) for e in v]
    if isinstance(v, (np.integer, int)) and not isinstance(v, bool):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return None if not np.isfinite(v) else float(v)
    return str(v)


def delta_rule(cost: str, output: str, k: int, L: int) -> tuple[str, str]:
    """(delta(L) = dC/dz(L) for one example (n = 1) of ``k`` outputs as the cost computes it, the
    output function and cost that give it): ('s - y', 'softmax with cross-entropy'), ..."""
    if cost == "cross_entropy":
        return "s - y", "softmax with cross-entropy, C = -log s[y]"
    if cost == "binary_cross_entropy":
        if k == 1:
            return "s - y", "sigmoid with binary cross-entropy"
        return f"(s - y) / {k}", f"sigmoid with binary cross-entropy, a mean over the {k} outputs"
    rule = "2 (s - y)" if k == 1 else f"2 (s - y) / {k}"
    if output != "identity":
        rule += f" * {output}'(z({L}))"
    mean = "C = (s - y)^2" if k == 1 else f"C = the mean of (s - y)^2 over the {k} outputs"
    return rule, f"{output} output with mse, {mean}"


def trace_example(network: Network, x, y=None) -> Trace:
    """One example through ``network`` (a float64 copy of it): x (inputs,) or (1, inputs), already
    standardized; y (outputs,) as the cost takes it (one-hot for cross_entropy), or None for the
    forward pass alone. Uses Network.forward_cache and Network.backward."""
    net = network if network.dtype == np.float64 and network.xp is np else _host64(network)
    x = np.asarray(x, dtype=np.float64).reshape(1, -1)
    if y is not None:
        x, y = net.batch(x, np.asarray(y, dtype=np.float64).reshape(1, -1))
    elif x.shape[1] != net.sizes[0]:
        raise DataError(f"x has {x.shape[1]} values; the network takes {net.sizes[0]}")
    with np.errstate(over="ignore"):  # sigmoid's exp(-z) may overflow to inf: its exact 0
        zs, acts = net.forward_cache(x)
        L = len(net.sizes)
        trace = Trace(
            sizes=net.sizes,
            activations=[*net.activation_names, net.output],
            cost=net.cost_name,
            W=[w.copy() for w in net.W],
            b=[v.copy() for v in net.b],
            a=[a[0] for a in acts],
            z=[z[0] for z in zs],
        )
        trace.delta_rule, trace.delta_reason = delta_rule(net.cost_name, net.output, net.sizes[-1], L)
        if y is not None:
            deltas: list = []
            dW, db = net.backward(zs, acts, y, deltas=deltas)
            trace.y = y[0]
            trace.C = float(net.cost.loss(zs[-1], acts[-1], y))
            trace.delta = [d[0] for d in deltas]
            trace.dW, trace.db = dW, db
    if not np.isfinite(trace.s).all():
        raise DataError(
            "the network's output is not a number for this example (inputs far outside the data?)"
        )
    if not net.output_bias:
        trace.notes.append(
            f"network.output_bias is off: b({L - 1}) stays zero and is not trained, so dC/db({L - 1}) "
            f"is 0, not delta({L})"
        )
    if any(p > 0 for p in net.dropout) or net.input_dropout > 0:
        trace.notes.append("dropout is off in the trace (as in gradcheck and predict): every unit is kept")
    return trace


def _host64(network: Network) -> Network:
    def host(a):
        return np.asarray(a.get() if hasattr(a, "get") else a, dtype=np.float64)

    return network.with_params([host(w) for w in network.W], [host(v) for v in network.b])


# -- a config: its network at the initial weights ----------------------------------------------------


def _is_missing(value) -> bool:
    """Whether a cell as read is a missing value (NaN, or text such as '' or 'NA')."""
    from .data import is_missing

    if isinstance(value, (float, np.floating)):
        return bool(np.isnan(value))
    return isinstance(value, str) and bool(is_missing(np.array([value]))[0])


def trace_config(config, *, row: int = 0, data: str | None = None, stdin=None) -> Trace:
    """The example of row ``row`` of the config's training data (or of ``data``, a file read as
    predict and evaluate read inputs) through the config's network at its initial
    weights (seeded, as fit and gradcheck draw them), in float64.

    The row is standardized with the statistics fit takes from the training rows (after the
    validation and test hold-outs). A config without training data (and without ``data``) gets
    a random example of the right shape from its seed: row ``row`` of the inputs and targets that
    ``gradcheck --batch row+1`` draws.
    """
    _check_row(row)
    dc = config.data
    if dc.train is None:
        if data is not None:
            raise ConfigError(
                "the config names no data.train, whose statistics standardize the row; give it with "
                f"--set data.train={data}"
            )
        return _trace_random(config, row)
    from .config import with_data_sizes
    from .data import load_run_data, without_columns
    from .data.read import read_table_chunks

    if data is None and _once_only(dc.train):  # read for the statistics, then for the row
        raise DataError(
            f"{dc.train}: trace reads the training data twice (the statistics, then the row), which "
            f"{_ONCE} it to a file, or give it as '-' (standard input)"
        )
    stdin = _replayable(stdin, dc.train, data)
    run = load_run_data(replace(config, dtype="float64"), stdin=stdin())
    enc = run.encoding
    config = with_data_sizes(config, enc.n_inputs, enc.n_outputs)
    net = Network.from_config(config, dtype="float64")
    path = data if data is not None else dc.train
    text_columns = dc.categorical if isinstance(dc.categorical, tuple) else ()

    def read(need_target: bool) -> Iterator:
        if data is not None:  # as predict and evaluate read inputs: by name, or by position after an
            # array or a header-less CSV, the full layout or the model's columns alone
            from .data import read_for_model_chunks

            return read_for_model_chunks(
                path, enc, need_target=need_target, stdin=stdin(), delimiter=dc.delimiter
            )
        chunks = read_table_chunks(
            path,
            dc.target,
            need_target=need_target,
            stdin=stdin(),
            delimiter=dc.delimiter,
            header=dc.header,
            text_columns=text_columns,
        )
        # enc.excluded: data.exclude's columns, or those data.features leaves out; and the
        # weight column (data.weight), not an input either
        left_out = [*enc.excluded, *([enc.weight] if enc.weight is not None else [])]
        return (without_columns(t, left_out) for t in chunks)

    trace = _trace_row(net, enc, read, row, path)
    _from_config(trace, config)
    if config.training.class_weight is not None and trace.y is not None:
        from .data import StreamedDataset
        from .train import class_weights

        train_Y = None if isinstance(run.train, StreamedDataset) else run.train.Y
        weights = class_weights(config, enc.classes, train_Y) or (1.0,) * max(len(enc.classes), 2)
        trace.notes.append(_class_weight_note(trace, weights, enc.classes))
    if config.data.weight is not None and trace.y is not None:
        trace.notes.append(
            f"data.weight ('{config.data.weight}') is not applied here: the training step multiplies "
            f"each example's C, delta({len(trace.sizes)}) and gradients by its weight over the mean "
            "weight of the training rows"
        )
    return trace


def _class_weight_note(trace: Trace, weights, classes) -> str:
    """What training.class_weight does to this example, which the trace shows unweighted."""
    y = np.asarray(trace.y).ravel()
    i = int(y[0] == 1) if len(y) == 1 else int(np.argmax(y))
    return (
        f"training.class_weight is not applied here: the training step multiplies this example's C, "
        f"delta({len(trace.sizes)}) and gradients by its class's weight, {weights[i]:.4g} "
        f"(class '{classes[i] if i < len(classes) else i}')"
    )


def _from_config(trace: Trace, config) -> None:
    trace.source, trace.weights = config.path or "config", "initial"
    trace.seed, trace.dtype = config.training.seed, str(config.dtype)


def _trace_random(config, row: int) -> Trace:
    """A random example from the config's seed, as gradcheck draws its random batch."""
    sizes = config.network.layers
    if 0 in sizes:
        raise ConfigError(
            "network.layers has auto sizes, which come from the data, and the config names no "
            "data.train: give the sizes as numbers, or the data"
        )
    net = Network.from_config(config, dtype="float64")
    from .gradcheck import random_batch

    x, y = random_batch(config, row + 1)  # the draws of gradcheck --batch row+1: this is the last
    trace = trace_example(net, x[row], y[row])
    _from_config(trace, config)
    if config.training.class_weight is not None:
        trace.notes.append(
            "training.class_weight is not applied here: the training step multiplies an example's C, "
            f"delta({len(trace.sizes)}) and gradients by its class's weight"
        )
    seed = config.training.seed
    trace.row = row
    trace.where = f"random example {row} (seed {seed})"
    trace.features = [f"x{j + 1}" for j in range(sizes[0])]
    trace.inputs = list(trace.features)
    trace.values = [float(v) for v in x[row]]
    trace.notes.append(
        f"the config names no training data: a random input and target from seed {seed}, row {row} "
        f"of those gradcheck --batch {row + 1} draws"
    )
    return trace


# -- a model: its trained weights ------------------------------------------------------------------------


def trace_model(model, data: str, *, row: int = 0, stdin=None) -> Trace:
    """The example of row ``row`` of ``data`` (read as predict and evaluate read inputs; its target
    column, if present, gives y) through a trained model (a Model, or a model file or run folder),
    in float64, standardized by the model's own encoding."""
    _check_row(row)
    from .modelfile import Model, load_model

    m = model if isinstance(model, Model) else load_model(model)
    enc = m.encoding
    stdin = _replayable(stdin, data)

    def read(need_target: bool) -> Iterator:
        from .data import read_for_model_chunks

        if need_target and enc.target is None:
            raise TargetColumnError("the model does not record its target column")
        return read_for_model_chunks(data, enc, need_target=need_target, stdin=stdin())

    trace = _trace_row(m.network, enc, read, row, data)
    trace.source = str(model) if not isinstance(model, Model) else ""
    trace.weights, trace.dtype = "trained", str(m.network.dtype)
    return trace


# -- the row -------------------------------------------------------------------------------------------


def _check_row(row: int) -> None:
    if isinstance(row, bool) or not isinstance(row, (int, np.integer)) or row < 0:
        raise DataError(f"row {row!r}: rows count from 0 (the first data row, after a CSV's header)")


def _once_only(path: str) -> bool:
    """Whether ``path`` names a pipe or another input that can be read only once ('-' excepted:
    its bytes are kept, see _replayable)."""
    import os
    import stat

    try:
        return path != "-" and not stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False  # (the reader says what is wrong with it)


_ONCE = "a pipe cannot give again (<(...), a FIFO): save"


def _replayable(stdin, *paths) -> Callable[[], Any]:
    """A function giving standard input afresh at every call: its bytes are read once when one of
    ``paths`` is '-', since the data is read more than once (statistics, then the row)."""
    if "-" not in paths:
        return lambda: stdin
    from .data import read_bytes

    raw = read_bytes("-", stdin)
    return lambda: io.BytesIO(raw)


def _nth_row(chunks: Iterator, row: int):
    """Row ``row`` (from 0) of the input read a chunk at a time, as a Table of one row."""
    seen, source = 0, ""
    try:
        for table in chunks:
            source = table.source
            if row < seen + table.n:
                return table.slice(row - seen, row - seen + 1)
            seen += table.n
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    last = f", 0 to {seen - 1}" if seen > 1 else ""
    raise DataError(f"row {row} is past the end of {source}: it has {seen} data row{'s' * (seen != 1)}{last}")


def _trace_row(net: Network, enc, read: Callable[[bool], Iterator], row: int, path: str) -> Trace:
    """Row ``row`` of the input ``read(need_target)`` gives (``path``), encoded by ``enc``, through
    ``net``. An input without the target column gives the forward pass alone, with a note."""
    from .data import align_features
    from .data.encode import UnseenCategory

    notes = []
    try:
        table, has_target = _nth_row(read(True), row), True
    except TargetColumnError as exc:
        if _once_only(path):  # read once already: a pipe has nothing left for the features alone
            raise DataError(
                f"{exc}; trace then reads the input again for the forward pass alone, which "
                f"{_ONCE} the features to a file, or give them as '-' (standard input)"
            ) from None
        table, has_target = _nth_row(read(False), row), False
        notes.append(f"{table.source} has no target column: the forward pass only (no C, delta or gradients)")
    table = align_features(table, enc.features)
    try:
        raw, kept = enc.raw_inputs(table)
    except UnseenCategory as exc:  # (its message offers predict's --unknown ignore, which trace has not)
        raise DataError(
            f"{exc.where}: column '{exc.column}' holds '{exc.value}', a category training never saw: "
            "trace a row whose categories it knows"
        ) from None
    if not kept.all():
        raise DataError(
            f"{table.where(0)}: row {row} has missing values, and data.missing: drop leaves such rows "
            "out: pick another row"
        )
    x = enc.scale(raw, "float64", table.where)
    y = label = None
    if has_target and table.y is not None:
        _, present = enc.target_values(table)
        if present.all():
            label = table.y[0]
            y = enc.encode_y(table, "float64")[0]
        else:
            notes.append(f"{table.where(0)}: the target is missing: the forward pass only")
    trace = trace_example(net, x[0], y)
    trace.notes[:0] = notes
    trace.data = table.source
    trace.row = row
    trace.where = table.where(0)
    trace.features = list(enc.features)
    trace.values = [table.column(j)[0] for j in range(len(enc.features))]
    trace.filled = filled = [name for name, value in zip(enc.features, trace.values) if _is_missing(value)]
    if filled:  # (data.missing: mean; under error or drop such a row was refused above)
        trace.notes.append(
            f"{', '.join(filled)}: missing in this row, filled with the training data's mean as fit "
            "and predict fill it (data.missing: mean): x holds the filled value"
        )
    trace.target = None if table.y is None or not has_target else str(table.target or enc.target)
    trace.label = label
    trace.inputs = list(enc.inputs)
    trace.x_raw = np.asarray(raw[0], dtype=np.float64)
    trace.x_mean = np.asarray(enc.x_mean, dtype=np.float64)
    trace.x_scale = np.asarray(enc.x_scale, dtype=np.float64)
    trace.prediction = enc.decode(trace.s.reshape(1, -1))[0]
    if enc.task == "regression" and trace.y is not None:
        trace.y_standardized = not (np.all(enc.y_scale == 1) and np.all(enc.y_mean == 0))
    return trace
