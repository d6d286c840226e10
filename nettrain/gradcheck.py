"""Gradient checking: backpropagation's dC/dW and dC/db against central finite differences.

For a parameter w, the numerical derivative is (C(w + h) - C(w - h)) / (2 h), computed in float64
whatever the training dtype, so that its error (about h^2 from truncation plus 1e-16 / h from
rounding) is far below any real mistake in a derivative. An entry passes when

    |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|)

Small networks have every parameter checked. Large ones (more than ``max_full`` parameters) get a
random sample of entries per array plus a directional check: for a random unit direction v over
all parameters, (C(theta + h v) - C(theta - h v)) / (2 h) must equal grad . v.
Layers are named as in the derivation: W(1) maps layer 1 (the input) to layer 2.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from .network import Network


@dataclass
class ParamCheck:
    """The check of one parameter array."""

    name: str  # 'W(1)', 'b(1)', ...
    shape: tuple
    checked: int  # entries compared
    max_abs_error: float
    max_rel_error: float
    passed: bool


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

    def to_dict(self) -> dict:
        return asdict(self)


def _rel(a: np.ndarray, n: np.ndarray) -> np.ndarray:
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-300)


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
) -> GradcheckResult:
    """Compare backprop's gradients with central differences on the batch (x, y).

    The network is copied to float64 first; the original is not touched.

    Parameters
    ----------
    x : (n, inputs) inputs; y : (n, outputs) targets as the cost wants them.
    h : the finite-difference step. rtol, atol : the pass criterion (see the module doc).
    max_full : check every entry when the network has at most this many parameters.
    samples : entries per array to check when sampling.
    """
    net = network.astype(np.float64)
    xp = net.xp
    x = xp.asarray(x, dtype=np.float64)
    y = xp.asarray(y, dtype=np.float64)
    _, dW, db = net.gradients(x, y)
    grads = net.param_grads(dW, db)
    params = net.params()
    names = net.param_names()
    sampled = net.n_params() > max_full
    rng = np.random.default_rng(seed)

    def cost() -> float:
        return float(net.loss(x, y))

    checks = []
    for name, p, g in zip(names, params, grads):
        flat_p = p.reshape(-1)  # a view: writing into it changes the network's parameter
        g_host = np.asarray(g.get() if hasattr(g, "get") else g).reshape(-1)
        if sampled and p.size > samples:
            idx = rng.choice(p.size, size=samples, replace=False)
        else:
            idx = np.arange(p.size)
        numeric = np.empty(len(idx))
        for k, i in enumerate(idx):
            i = int(i)
            orig = float(flat_p[i])
            flat_p[i] = orig + h
            c_plus = cost()
            flat_p[i] = orig - h
            c_minus = cost()
            flat_p[i] = orig
            numeric[k] = (c_plus - c_minus) / (2 * h)
        analytic = g_host[idx]
        err = np.abs(analytic - numeric)
        ok = err <= atol + rtol * np.maximum(np.abs(analytic), np.abs(numeric))
        checks.append(
            ParamCheck(
                name,
                tuple(p.shape),
                len(idx),
                float(err.max(initial=0.0)),
                float(_rel(analytic, numeric).max(initial=0.0)),
                bool(ok.all()),
            )
        )

    directional = None
    if sampled:
        dirs = [rng.standard_normal(p.shape) for p in params]
        norm = np.sqrt(sum(float((d * d).sum()) for d in dirs))
        dirs = [xp.asarray(d / norm) for d in dirs]
        analytic = float(sum(float((g * d).sum()) for g, d in zip(grads, dirs)))
        for p, d in zip(params, dirs):
            p += h * d
        c_plus = cost()
        for p, d in zip(params, dirs):
            p -= 2 * h * d
        c_minus = cost()
        for p, d in zip(params, dirs):
            p += h * d
        numeric = (c_plus - c_minus) / (2 * h)
        err = abs(analytic - numeric)
        directional = {
            "analytic": analytic,
            "numeric": numeric,
            "abs_error": err,
            "rel_error": err / max(abs(analytic), abs(numeric), 1e-300),
            "passed": bool(err <= atol + rtol * max(abs(analytic), abs(numeric))),
        }
    passed = all(c.passed for c in checks) and (directional is None or directional["passed"])
    return GradcheckResult(
        checks, passed, h, rtol, atol, net.n_params(), sampled, directional, batch=int(x.shape[0])
    )


def gradcheck_config(config, *, batch: int = 16, stdin=None, device=None, **kwargs) -> GradcheckResult:
    """Gradcheck the network a config describes, at its initial weights (float64).

    Uses the first ``batch`` training rows (standardized as fit would) when the config names
    training data, else random inputs and targets of the right shapes from the config's seed.
    ``device`` (a backend.Device; the CPU by default) is where backprop runs: on a GPU that is
    the training step's fused kernels, checked against the plain forward pass's costs.
    """
    from .data import load_run_data
    from .errors import ConfigError

    if batch < 1:
        raise ConfigError(f"batch must be at least 1 row, not {batch}")
    sizes = config.network.layers
    net = Network.from_config(config, dtype="float64", device=device)
    if config.data.train is not None:
        from dataclasses import replace

        from .backend import Device
        from .data import StreamedDataset

        data = load_run_data(replace(config, dtype="float64"), stdin=stdin)
        if isinstance(data.train, StreamedDataset):
            x, y = next(data.train.batches(np.random.default_rng(0), Device("cpu")))
            x, y = x[:batch], y[:batch]
            source = f"{len(x)} rows of {data.train.path}"
        else:
            x, y = data.train.X[:batch], data.train.Y[:batch]
            source = f"first {len(x)} rows of {data.train.table.source}"
    else:
        rng = np.random.default_rng(config.training.seed)
        x = rng.standard_normal((batch, sizes[0]))
        if config.cost == "cross_entropy":
            y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], batch)]
        elif config.cost == "binary_cross_entropy":
            y = rng.integers(0, 2, (batch, sizes[-1])).astype(np.float64)
        else:
            y = rng.standard_normal((batch, sizes[-1]))
        source = f"{batch} random inputs and targets (the config names no training data)"
    if device is not None:
        x, y = device.asarray(x), device.asarray(y)
    result = gradcheck(net, x, y, **kwargs)
    result.source = source
    result.device = str(device) if device is not None else "cpu"
    return result
