"""Gradient checking: backpropagation's dC/dW and dC/db against central finite differences.

For a parameter w, the numerical derivative is (C(w + h) - C(w - h)) / (2 h), computed in float64
whatever the training dtype, so that its error (about h^2 from truncation plus eps |C| / h from
rounding) is far below any real mistake in a derivative. An entry passes when

    |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|) + rounding,
    rounding = 8 eps max(|C(w + h)|, |C(w - h)|) / h   where that is over 1e-8, else 0

``rounding`` is the difference's own rounding error: C carries a relative error of a few eps
(float64's 2.2e-16), which the division by 2 h magnifies. For a cost under about 5 it is below
1e-8 (the default atol) and not added: the criterion is atol's and rtol's alone. For a large cost
it is what the difference is good to: unscaled targets of 3e5 make the initial C about 1e11,
whose differences are good only to about 20, and a correct backprop failed.

Small networks have every parameter checked. Large ones (more than ``max_full`` parameters) get a
random sample of entries per array plus a directional check: for a random unit direction v over
all parameters, (C(theta + h v) - C(theta - h v)) / (2 h) must equal grad . v.
Layers are named as in the derivation: W(1) maps layer 1 (the input) to layer 2.

The relative error of an entry is |analytic - numeric| / max(|analytic|, |numeric|, atol): a
gradient that is zero to within atol (the criterion passes it on atol alone) has no meaningful
ratio of two roundings, which would read 1.

Entries. With ``worst=K`` the result also holds, for each array, the K compared entries that
disagree most (``EntryCheck``): the failing ones first, then by relative error, then by absolute
error, then by index. An entry's index is into W(l) as the derivation shapes it, (units of layer
l+1, units of layer l), counted from 0: [i, j] is dC/dW(l) for the weight from unit j of layer l
into unit i of layer l+1. Only compared entries are listed: not those a sampled check skipped,
nor those left out at a kink.

What is checked. Training computes its gradients with in-place forms (``Workspace.step``:
each activation's ``mul_df`` and each cost's ``fused``; on a GPU, their CUDA kernels), and that
is the backprop compared with finite differences. The readable reference, ``Network.backward``
with each activation's ``df`` and each cost's ``delta``, computes the same gradients with new
arrays; it is held to the training step's gradients on the whole batch by the same criterion
(``reference``), so a mistake in either form fails the check.

Kinks. ReLU and leaky ReLU have no derivative at z = 0. When w +/- h moves some unit's z across
0 in some row, that row's central difference mixes both slopes (a unit sitting exactly at 0,
as a dead layer with zero biases makes it, gives 1/2 where backprop takes f'(0) = 0). The
cost is a mean over rows, so such an entry is compared on the other rows only: both the
difference and backprop's gradient are recomputed on them. An entry whose every row crosses a
kink is left out. Both are counted (``kinks``) and said in a note.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from .activations import Activation
from .backend import on_gpu
from .metrics import json_ready
from .network import Network

EPS = float(np.finfo(np.float64).eps)
#: rounding = ROUNDINGS eps max |C| / h: room for 2 ROUNDINGS roundings (of eps / 2 each) in each C,
#: before their difference is divided by 2 h
ROUNDINGS = 8
#: a rounding allowance up to this (the default atol) is not added (see the module doc)
ROUNDING_FLOOR = 1e-8


@dataclass
class ParamCheck:
    """The check of one parameter array."""

    name: str  # 'W(1)', 'b(1)', ...
    shape: tuple
    checked: int  # entries compared
    max_abs_error: float
    max_rel_error: float
    passed: bool
    kinks: int = 0  # entries compared on fewer rows (or left out): see the module doc
    left_out: int = 0  # of those, entries not compared at all (every row crossed a kink)


@dataclass
class EntryCheck:
    """One compared entry of a parameter array: backprop's value against the central difference."""

    name: str  # the array: 'W(1)', 'b(1)', ...
    index: tuple  # (i, j) into W(l) of shape (units of layer l+1, units of layer l), (i,) into b(l); from 0
    analytic: float  # backprop's dC/dw
    numeric: float  # (C(w + h) - C(w - h)) / (2 h)
    abs_error: float
    rel_error: float
    passed: bool
    rows: int | None = None  # the rows compared, when a kink left some out (see the module doc); None: all


@dataclass
class GradcheckResult:
    params: list[ParamCheck]
    passed: bool
    h: float
    rtol: float
    atol: float
    n_params: int
    sampled: bool
    directional: dict | None = None
    batch: int = 0
    source: str = ""
    notes: list[str] = field(default_factory=list)
    device: str = "cpu"
    #: Network.backward (the readable reference) against the training step's gradients:
    #: passed, differ (the arrays that disagree), max_abs_error, max_rel_error
    reference: dict | None = None
    #: for a failed check, where in the derivation the mistake enters (see ``where_wrong``)
    hint: str = ""
    #: with ``worst=K``: each array's K entries that disagree most, array by array in the order of
    #: ``params``, the worst of each first (see the module doc); None when not asked for
    worst: list[EntryCheck] | None = None
    #: the largest rounding allowance of a difference, 8 eps |C| / h (see the module doc); 0 where
    #: none was added (in JSON only where one was)
    rounding: float = 0.0

    def to_dict(self) -> dict:
        """Everything as JSON types; a number that is not finite (a broken derivative can give NaN)
        is None, as JSON has no NaN or infinity. ``worst`` is there only when it was asked for."""
        d = asdict(self)
        if self.worst is None:
            del d["worst"]
        if not self.rounding:
            del d["rounding"]
        return json_ready(d)


def _rel(a: np.ndarray, n: np.ndarray, atol: float) -> np.ndarray:
    """|a - n| / max(|a|, |n|, atol) (see the module doc)."""
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), max(atol, 1e-300))


def _host(g) -> np.ndarray:
    """A gradient array on the host, flat."""
    return np.asarray(g.get() if hasattr(g, "get") else g).reshape(-1)


def gradcheck(
    network: Network,
    x,
    y,
    *,
    h: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    max_full: int = 5000,
    samples: int = 100,
    seed: int = 0,
    copy: bool = True,
    worst: int = 0,
    sw=None,
) -> GradcheckResult:
    """Compare backprop's gradients with central differences on the batch (x, y).

    The network is copied to float64 first; the original is not touched. With ``copy=False``
    a float64 network is checked as it is, its entries moved and put back exactly (half the
    memory; not while anything else uses the network).

    Parameters
    ----------
    x : (n, inputs) inputs; y : (n, outputs) targets as the cost wants them (a 1-D y for a
        one-output network, as ``Network.gradients`` takes it; other shapes are a DataError).
    h : the finite-difference step. rtol, atol : the pass criterion (see the module doc).
    max_full : check every entry when the network has at most this many parameters.
    samples : entries per array to check when sampling.
    worst : keep each array's ``worst`` entries that disagree most in ``result.worst`` (0: none).
    sw : (n,) each row's sample weight in the cost (data.weight, normalized), or None.

    Raises
    ------
    ConfigError : ``worst`` is negative.
    """
    if worst < 0:
        from .errors import ConfigError

        raise ConfigError(f"worst must be 0 (none) or more entries per array, not {worst}")
    if copy or network.dtype != np.float64:
        _check_memory(network.n_params(), network.xp is not np, copies=PARAM_COPIES + 1)
        network = network.astype(np.float64)
    return _gradcheck(network, x, y, h, rtol, atol, max_full, samples, seed, worst, sw)


#: float64 copies of the parameters gradcheck holds at its peak: the network, backprop's
#: gradients, the random direction and the parameters it moves from (measured with tracemalloc
#: on 2.3M parameters: 4.2 copies, the rest activations and data)
PARAM_COPIES = 4


def _gradcheck(
    net: Network, x, y, h, rtol, atol, max_full, samples, seed, worst=0, sw=None
) -> GradcheckResult:
    """gradcheck on a float64 network of its own, which it changes and puts back."""
    xp = net.xp
    x, y = net.batch(x, y)  # float64; a 1-D y is a one-output network's column, as for gradients
    sw = net._sample_weights(sw, y)  # (float64, on the network's device) or None
    params = net.params()
    names = net.param_names()
    sampled = net.n_params() > max_full
    rng = np.random.default_rng(seed)
    from .activations import RELU_FAMILY

    kinked = [l for l, f in enumerate(net.f) if f.name in RELU_FAMILY]  # hidden layers with a kink
    on_all_rows: list[np.ndarray] = []  # backprop's gradients on the whole batch, once computed

    def gradients(rows: np.ndarray | None) -> list[np.ndarray]:
        """Backprop's gradients (host, flat, in the order of params) on ``rows`` (None: all).
        Those on some rows (an entry near a kink) are computed each time, not kept: each is as
        big as the network."""
        if rows is None and on_all_rows:
            return on_all_rows
        xs, ys, sws = (x, y, sw) if rows is None else _rows_of(xp, rows, x, y, sw)
        _, dW, db = net.gradients(xs, ys, sw=sws)
        net.drop_workspaces()
        grads = [_host(g) for g in net.param_grads(dW, db)]
        if rows is None:
            on_all_rows[:] = grads
        return grads

    def cost(rows: np.ndarray | None = None):
        """C on ``rows`` (None: all), and which side of the kink each ReLU unit is on."""
        xs, ys, sws = (x, y, sw) if rows is None else _rows_of(xp, rows, x, y, sw)
        zs, acts = net.forward_cache(xs)
        # the training cost, weighted by class and sample weight (None: neither)
        w = net.row_weights(ys, sws)
        c = net.cost.loss(zs[-1], acts[-1], ys) if w is None else net.cost.loss(zs[-1], acts[-1], ys, w)
        return float(c), [zs[l] > 0 for l in kinked]

    def central(move) -> tuple[float | None, np.ndarray | None, float]:
        """(C(+h) - C(-h)) / (2 h), where move(+1), move(-1) and move(0) set the parameters,
        on the rows where no ReLU unit crosses its kink; those rows (None: all of them); and the
        difference's rounding error, 8 eps max(|C(+h)|, |C(-h)|) / h (0 up to ROUNDING_FLOOR). The
        difference is None when every row crosses one."""
        move(+1)
        c_plus, sides_plus = cost()
        move(-1)
        c_minus, sides_minus = cost()
        rows = None
        if kinked:
            crossing = xp.zeros(len(x), dtype=bool)
            for a, b in zip(sides_plus, sides_minus):
                crossing |= (a != b).any(axis=1)
            crossing = np.asarray(crossing.get() if hasattr(crossing, "get") else crossing)
            if crossing.any():
                rows = np.flatnonzero(~crossing)
                if len(rows):
                    move(+1)
                    c_plus, _ = cost(rows)
                    move(-1)
                    c_minus, _ = cost(rows)
        move(0)
        if rows is not None and not len(rows):
            return None, rows, 0.0
        rounding = ROUNDINGS * EPS * max(abs(c_plus), abs(c_minus)) / h
        return (c_plus - c_minus) / (2 * h), rows, rounding if rounding > ROUNDING_FLOOR else 0.0

    checks = []
    entries: list[EntryCheck] | None = [] if worst else None
    left_out = 0  # entries whose every row crossed a kink
    largest_rounding = 0.0
    blind: list[str] = []  # arrays whose differences are all rounding
    for j, (name, p) in enumerate(zip(names, params)):
        flat_p = p.reshape(-1)  # a view: writing into it changes the network's parameter
        if sampled and p.size > samples:
            idx = rng.choice(p.size, size=samples, replace=False)
        else:
            idx = np.arange(p.size)
        analytic, numeric, rounding = [], [], []
        compared, on_rows = [], []  # the flat index of each compared entry, and its rows (None: all)
        kinks = 0
        for i in idx.tolist():
            orig = float(flat_p[i])

            def move(sign, i=i, orig=orig, flat_p=flat_p):
                flat_p[i] = orig + sign * h

            difference, rows, noise = central(move)
            kinks += rows is not None
            if difference is not None:
                numeric.append(difference)
                rounding.append(noise)
                analytic.append(float(gradients(rows)[j][i]))
                compared.append(i)
                on_rows.append(None if rows is None else len(rows))
        missed = len(idx) - len(analytic)
        left_out += missed
        analytic, numeric, rounding = np.array(analytic), np.array(numeric), np.array(rounding)
        largest_rounding = max(largest_rounding, float(rounding.max(initial=0.0)))
        err = np.abs(analytic - numeric)
        ok = err <= atol + rtol * np.maximum(np.abs(analytic), np.abs(numeric)) + rounding
        # differences whose rounding is as large as every gradient of the array carry no digit of
        # them: the array is not checked, and does not pass on that allowance (nor do its
        # entries, which --worst lists)
        if len(analytic) and rounding.max() > 0 and rounding.max() >= np.abs(analytic).max():
            blind.append(name)
            ok[:] = False
        checks.append(
            ParamCheck(
                name,
                tuple(p.shape),
                len(analytic),
                float(err.max(initial=0.0)),
                float(_rel(analytic, numeric, atol).max(initial=0.0)),
                bool(ok.all()),
                kinks,
                missed,
            )
        )
        if entries is not None:
            entries += _worst_entries(name, p.shape, compared, on_rows, analytic, numeric, ok, atol, worst)

    reference = _reference_check(net, x, y, gradients(None), names, rtol, atol, sw)

    directional = None
    if sampled:
        dirs = [rng.standard_normal(p.shape) for p in params]
        norm = np.sqrt(sum(float((d * d).sum()) for d in dirs))
        for d in dirs:
            d /= norm
        base = [p.copy() for p in params]

        dirs = [xp.asarray(d) for d in dirs]

        def move_along(sign):
            for p, p0, d in zip(params, base, dirs):  # p = p0 + sign h d, in place: no temporaries
                xp.multiply(d, sign * h, out=p)
                p += p0

        numeric, rows, noise = central(move_along)
        largest_rounding = max(largest_rounding, noise)
        if numeric is not None:
            host = [np.asarray(d.get() if hasattr(d, "get") else d) for d in dirs]
            analytic = float(sum(float(g @ d.reshape(-1)) for g, d in zip(gradients(rows), host)))
            err = abs(analytic - numeric)
            directional = {
                "analytic": analytic,
                "numeric": numeric,
                "abs_error": err,
                "rel_error": err / max(abs(analytic), abs(numeric), atol, 1e-300),
                "passed": bool(err <= atol + rtol * max(abs(analytic), abs(numeric)) + noise),
                "rows": len(x) if rows is None else len(rows),
            }
    passed = (
        all(c.passed for c in checks)
        and (directional is None or directional["passed"])
        and reference["passed"]
    )
    result = GradcheckResult(
        checks,
        passed,
        h,
        rtol,
        atol,
        net.n_params(),
        sampled,
        directional,
        batch=int(x.shape[0]),
        reference=reference,
        worst=entries,
        rounding=largest_rounding,
    )
    if blind:
        result.hint = (
            f"the differences of {', '.join(blind)} are all rounding (8 eps |C| / h up to "
            f"{largest_rounding:.3g}, as large as their gradients): the cost is too large to check "
            "by finite differences; standardize the data (data.standardize: true)"
        )
    elif not passed:
        failing = [c.name for c in checks if not c.passed]
        form = "training" if failing else "readable"
        result.hint = where_wrong(net, failing or reference["differ"], form)
    kinks = sum(c.kinks for c in checks)
    if kinks:
        result.notes.append(
            f"{kinks} entr{'y' if kinks == 1 else 'ies'} moved a ReLU unit across its kink (z = 0, "
            "no derivative) in some rows: compared on the other rows"
            + (f"; {left_out} crossed in every row and were left out" if left_out > 0 else "")
        )
    if largest_rounding > 0 and not blind:
        result.notes.append(
            f"the cost is large for the step h = {h:g}: each difference is good only to its rounding, "
            f"8 eps |C| / h, up to {largest_rounding:.3g}, which the check allows for; standardized data "
            "(data.standardize: true) gives a sharper check"
        )
    if directional is not None and directional["rows"] < len(x):
        result.notes.append(f"the random direction was compared on {directional['rows']} of {len(x)} rows")
    if sampled and directional is None:
        result.notes.append("no directional check: the random direction crossed a ReLU kink in every row")
    return result


def _worst_entries(name, shape, compared, on_rows, analytic, numeric, ok, atol, k) -> list[EntryCheck]:
    """The ``k`` entries of one array that disagree most: failing first, then by relative error,
    then by absolute error (NaN counts as the largest), then by flat index."""
    err = np.abs(analytic - numeric)
    rel = _rel(analytic, numeric, atol)
    # np.lexsort sorts by its last key first
    order = np.lexsort(
        (np.array(compared), -np.nan_to_num(err, nan=np.inf), -np.nan_to_num(rel, nan=np.inf), ok)
    )
    return [
        EntryCheck(
            name,
            tuple(int(i) for i in np.unravel_index(compared[e], shape)),
            float(analytic[e]),
            float(numeric[e]),
            float(err[e]),
            float(rel[e]),
            bool(ok[e]),
            on_rows[e],
        )
        for e in order[:k].tolist()
    ]


def where_wrong(net: Network, failing: list[str], form: str = "training") -> str:
    """Where a mistake that makes the arrays ``failing`` ('W(2)', 'b(1)', ...) wrong enters the
    derivation; '' when nothing fails. dC/dW(l) = delta(l+1) a(l)^T and dC/db(l) = delta(l+1), and
    delta(l) = (W(l)^T delta(l+1)) * f'(z(l)) carries delta(l+1) down: a wrong delta(k+1) makes
    layer k's gradients wrong and, through it, every layer's below; the highest failing layer k
    says where the wrong delta is made.

    ``form`` says which backprop failed, and so which method the hint names: "training" (the
    training step against finite differences: an activation's ``mul_df``, a cost's ``fused``) or
    "readable" (only ``Network.backward`` disagrees with the training step: ``df``, ``delta``)."""
    layers = sorted({int(name[2:-1]) for name in failing if name[:2] in ("W(", "b(")})
    if not layers:
        return ""
    k, top = layers[-1], len(net.W)  # W(top) maps into the output layer, top + 1
    gpu = form == "training" and on_gpu(net.W[0])
    if k == top:
        made = (
            f"delta({top + 1}), the output's: dC/dz({top + 1}) of the cost {net.cost_name} with the "
            f"{net.output} output ("
            + (
                _code_of(net.cost, "fused_gpu" if gpu else "fused") + ", the training step's form"
                if form == "training"
                else _code_of(net.cost, "delta") + ", Network.backward's form; the training step agrees "
                "with finite differences"
            )
            + ")"
        )
    else:
        act = net.f[k - 1]
        if form == "training":
            # an activation without its own mul_df trains with df (Activation.mul_df calls it)
            method = "mul_df" if _defined_in(act, "mul_df") is not Activation else "df"
            code = _code_of(act, method) + ", the training step's form"
            if gpu and act.cuda_df:
                code += f"; on a GPU its cuda_df, {act.cuda_df}"
        else:
            code = (
                _code_of(act, "df") + ", Network.backward's form; the training step "
                "agrees with finite differences"
            )
        made = (
            f"delta({k + 1}) = (W({k + 1})^T delta({k + 2})) * f'(z({k + 1})): f' of layer {k + 1}'s "
            f"activation, {net.activation_names[k - 1]} ({code})"
        )
    if k > 1 and layers == [k]:  # the layers below, which delta(k+1) reaches, are right
        return (
            f"only layer {k}'s gradients fail, not the layers' below that delta({k + 1}) reaches: the "
            f"mistake is in dC/dW({k}) = delta({k + 1}) a({k})^T or dC/db({k}) = delta({k + 1}) themselves"
        )
    return (
        f"the highest layer that fails is {k}, whose gradients are made from delta({k + 1}); the layers "
        f"below reuse it: look first at {made}"
    )


def _defined_in(obj, method: str) -> type:
    """The class whose code ``obj.method`` runs (the first in the MRO that defines it)."""
    return next(c for c in type(obj).__mro__ if method in vars(c))


def _code_of(obj, method: str) -> str:
    """Where to read (and fix) ``obj.method``: 'Sigmoid.mul_df in nettrain/activations.py', or
    'ELU.df in module __main__' for a class defined outside nettrain."""
    cls = _defined_in(obj, method)
    module = cls.__module__
    where = module.replace(".", "/") + ".py" if module.startswith("nettrain.") else f"module {module}"
    return f"{cls.__qualname__}.{method} in {where}"


def _rows_of(xp, rows, x, y, sw):
    """(x, y, sw) of the batch's ``rows`` (sw may be None)."""
    index = xp.asarray(rows)
    return x[index], y[index], None if sw is None else sw[index]


def _reference_check(
    net: Network, x, y, trained: list[np.ndarray], names: list[str], rtol, atol, sw=None
) -> dict:
    """Network.backward's gradients (Activation.df, Cost.delta) against the training step's
    (``trained``, host and flat) on the whole batch, entry by entry, by the check's criterion."""
    zs, acts = net.forward_cache(x)
    dW, db = net.backward(zs, acts, y, sw=sw)
    del zs, acts
    differ, max_abs, max_rel = [], 0.0, 0.0
    for name, g, t in zip(names, net.param_grads(dW, db), trained):
        r, ok = _host(g), True
        for i in range(0, len(r), CHUNK):  # in slices: the temporaries stay small
            a, b = r[i : i + CHUNK], t[i : i + CHUNK]
            err = np.abs(a - b)
            ok &= bool((err <= atol + rtol * np.maximum(np.abs(a), np.abs(b))).all())
            max_abs = _worse(max_abs, float(err.max(initial=0.0)))
            max_rel = _worse(max_rel, float(_rel(a, b, atol).max(initial=0.0)))
        if not ok:
            differ.append(name)
    return {"passed": not differ, "differ": differ, "max_abs_error": max_abs, "max_rel_error": max_rel}


def _worse(old: float, new: float) -> float:
    """The larger error, NaN winning (Python's max keeps its first argument against a NaN)."""
    return math.nan if math.isnan(old) or math.isnan(new) else max(old, new)


#: entries compared at a time by the reference check
CHUNK = 1 << 12


def gradcheck_config(config, *, batch: int = 16, stdin=None, device=None, **kwargs) -> GradcheckResult:
    """Gradcheck the network a config describes, at its initial weights (float64).

    Uses the first ``batch`` training rows (standardized as fit would) when the config names
    training data, else random inputs and targets of the right shapes from the config's seed.
    ``device`` (a backend.Device; the CPU by default) is where backprop runs: on a GPU that is
    the training step's fused kernels, checked against the plain forward pass's costs.
    """
    from .data import load_run_data
    from .errors import ConfigError
    from .train import class_weights

    if batch < 1:
        raise ConfigError(f"batch must be at least 1 row, not {batch}")
    on_gpu = device is not None and device.kind == "gpu"
    sw = None  # the rows' sample weights (data.weight), normalized as fit normalizes them
    if config.data.train is not None:
        from dataclasses import replace

        from .backend import Device
        from .config import with_data_sizes
        from .data import StreamedDataset

        data = load_run_data(replace(config, dtype="float64"), stdin=stdin)
        config = with_data_sizes(config, data.encoding.n_inputs, data.encoding.n_outputs)
        _check_memory(_n_params(config.network.layers), on_gpu)
        net = Network.from_config(config, dtype="float64", device=device)
        train_Y = None if isinstance(data.train, StreamedDataset) else data.train.Y
        net.set_class_weight(class_weights(config, data.encoding.classes, train_Y))
        if isinstance(data.train, StreamedDataset):
            x, y, sw = next(data.train.batches(np.random.default_rng(0), Device("cpu")))
            x, y = x[:batch], y[:batch]
            sw = None if sw is None else sw[:batch]
            source = f"{len(x)} row{'s' if len(x) > 1 else ''} of {data.train.path}"
        else:
            x, y = data.train.X[:batch], data.train.Y[:batch]
            sw = None if data.train.w is None else data.train.w[:batch]
            source = f"{f'first {len(x)} rows' if len(x) > 1 else 'first row'} of {data.train.table.source}"
    else:
        sizes = config.network.layers
        if 0 in sizes:
            raise ConfigError(
                "network.layers has auto sizes, which come from the data, and the config names no "
                "data.train: give the sizes as numbers, or the data"
            )
        _check_memory(_n_params(sizes), on_gpu)
        net = Network.from_config(config, dtype="float64", device=device)
        x, y = random_batch(config, batch)
        classes = [str(c) for c in range(max(sizes[-1], 2))]
        net.set_class_weight(class_weights(config, classes, y, one_per_row=False))
        source = f"{batch} random inputs and targets (the config names no training data)"
    if device is not None:
        x, y = device.asarray(x), device.asarray(y)
        sw = None if sw is None else device.asarray(sw)
    result = gradcheck(net, x, y, copy=False, sw=sw, **kwargs)  # the float64 network built here
    result.source = source
    if sw is not None:
        result.notes.append(
            f"the cost is weighted by data.weight ('{config.data.weight}'): each row's weight over "
            "the mean weight of the training rows, as fit weighs it"
        )
    if any(p > 0 for p in net.dropout) or net.input_dropout > 0:
        result.notes.append(
            "dropout is off in the check (as in trace and predict): every unit is kept, so the "
            "gradients checked are those of the network without dropout"
        )
    result.device = str(device) if device is not None else "cpu"
    return result


def random_batch(config, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n random inputs and targets of the shapes the config's network.layers give (numbers), from
    its seed, as its cost takes them: one-hot rows, 0/1, or standard normal values."""
    sizes = config.network.layers
    rng = np.random.default_rng(config.training.seed)
    x = rng.standard_normal((n, sizes[0]))
    if config.cost == "cross_entropy":
        y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)]
    elif config.cost == "binary_cross_entropy":
        y = rng.integers(0, 2, (n, sizes[-1])).astype(np.float64)
    else:
        y = rng.standard_normal((n, sizes[-1]))
    return x, y


def _check_memory(n_params: int, on_gpu: bool, copies: int = PARAM_COPIES) -> None:
    """A ConfigError, before the network is built in float64, when the check would need more
    memory than the machine has free (the kernel would kill it part-way: each copy fits alone)."""
    if on_gpu:
        return  # a GPU says so itself, at the allocation: out of GPU memory
    from .backend import available_memory, gib

    need = copies * 8 * n_params
    free = available_memory()
    if free is not None and need > free:
        from .errors import ConfigError

        raise ConfigError(
            f"gradcheck of {n_params:,} parameters needs about {gib(need)} of memory "
            f"({copies} float64 copies of them) and {gib(free)} is available: check a narrower "
            "network with the same depth, activations and cost (backprop is the same code at any width)"
        )


def _n_params(sizes) -> int:
    from .network import count_params

    return count_params(sizes)
