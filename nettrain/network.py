"""The network of the derivation: layers of weights W(l) and biases b(l), forward and backward.

Notation (as in the derivation, with examples as ROWS of a batch of n):

    a(1) = x                                   x: (n, units of layer 1)
    z(l+1) = W(l) a(l) + b(l)      in code:    z = a_prev @ W.T + b        (n, out)
    a(l+1) = f(z(l+1))                         a = f(z)                    (n, out)
    s = f_out(z(L)),  C = cost(s, y)

    delta(L) = dC/dz(L)                        (from costs.py, fused with f_out)
    delta(l) = (W(l)^T delta(l+1)) * f'(z(l))  delta = (delta_next @ W) * f'(z)
    dC/dW(l) = delta(l+1) a(l)^T               dW = delta.T @ a_prev       (out, in)
    dC/db(l) = delta(l+1)                      db = delta.sum(axis=0)      (out,)

W(l) keeps the math's shape (units out, units in). dX means dC/dX. Python lists are 0-based, so
``W[0]`` is the derivation's W(1), mapping layer 1 (the input) to layer 2.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .activations import ACTIVATIONS, RELU_FAMILY, Activation, get_activation
from .backend import Device, Kernel, on_gpu, xp_of
from .costs import COSTS, OUTPUTS, Cost, get_cost, output_function
from .errors import ConfigError, DataError

#: The config's words for weight initialisation (network.init). Biases start at zero, except
#: under the schemes of BIAS_INITS.
INITS = (
    "auto",
    "xavier_uniform",
    "xavier_normal",
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "lecun_uniform",
    "lecun_normal",
    "normal",
    "pytorch",
    "sklearn",
)

#: Other libraries' default initialisations, which draw each layer's W and then its b from one
#: uniform U(-r, r) (see ``library_bound``)
BIAS_INITS = ("pytorch", "sklearn")


def count_params(sizes) -> int:
    """The parameters of a network of these layer sizes: every W(l) and b(l) (one bias vector
    fewer without ``output_bias``)."""
    return sum(a * b + b for a, b in zip(sizes, sizes[1:]))


def init_scheme(scheme: str, activation: str) -> str:
    """The scheme a layer gets: ``auto`` picks He uniform for the relu family, else Glorot uniform."""
    if scheme == "auto":
        return "he_uniform" if activation in RELU_FAMILY else "xavier_uniform"
    return scheme.replace("glorot", "xavier")


def draw_weights(scheme: str, fan_in: int, fan_out: int, rng: np.random.Generator, scale: float = 0.01):
    """One W (fan_out, fan_in) in float64 from ``rng``:

    xavier_uniform U(-r, r), r = sqrt(6 / (fan_in + fan_out));  xavier_normal N(0, 2 / (fan_in + fan_out))
    he_uniform     r = sqrt(6 / fan_in);                         he_normal     N(0, 2 / fan_in)
    lecun_uniform  r = sqrt(3 / fan_in);                         lecun_normal  N(0, 1 / fan_in)
    normal         N(0, scale^2)
    """
    shape = (fan_out, fan_in)
    family, _, kind = scheme.rpartition("_")
    if scheme == "normal":
        return rng.normal(0.0, scale, size=shape)
    variance = {"xavier": 2.0 / (fan_in + fan_out), "he": 2.0 / fan_in, "lecun": 1.0 / fan_in}[family]
    if kind == "uniform":
        r = np.sqrt(3.0 * variance)  # U(-r, r) has variance r^2 / 3
        return rng.uniform(-r, r, size=shape)
    return rng.normal(0.0, np.sqrt(variance), size=shape)


def library_bound(scheme: str, fan_in: int, fan_out: int, logistic: bool = False) -> float:
    """r of U(-r, r), from which ``scheme`` draws a layer's W and b:

    pytorch   r = 1 / sqrt(fan_in)                    nn.Linear's reset_parameters (W by
                                                       kaiming_uniform_(a=sqrt(5)), b alike)
    sklearn   r = sqrt(6 / (fan_in + fan_out))         MLPClassifier's and MLPRegressor's
              r = sqrt(2 / (fan_in + fan_out))         _init_coef, for activation='logistic'
                                                       (``logistic``), in every layer
    """
    if scheme == "pytorch":
        return 1.0 / np.sqrt(fan_in)
    return np.sqrt((2.0 if logistic else 6.0) / (fan_in + fan_out))


def init_weights(
    sizes: Sequence[int],
    activations: Sequence[str],
    rng: np.random.Generator,
    dtype="float32",
    scheme: str = "auto",
    scale: float = 0.01,
    output_bias: bool = True,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Initial W and b on the host, drawn from ``rng`` (same seed, same weights on every device).

    ``activations[l]`` is the activation applied after W[l] (the output function for the last);
    with ``scheme='auto'`` the relu family gets He uniform, everything else Glorot/Xavier uniform.
    Biases start at zero, except under ``pytorch`` and ``sklearn`` (BIAS_INITS), which draw each
    layer's W (out, in) and then its b from U(-r, r), r from ``library_bound``: sklearn's
    logistic r where every hidden activation is sigmoid (scikit-learn has one activation for all
    its layers, the output layer's r included). A network without ``output_bias`` keeps its
    output b at zero.
    """
    W, b = [], []
    hidden = list(activations[:-1])
    logistic = bool(hidden) and all(a == "sigmoid" for a in hidden)
    last = len(sizes) - 2
    for l, (fan_in, fan_out, act) in enumerate(zip(sizes[:-1], sizes[1:], activations)):
        if scheme in BIAS_INITS:
            r = library_bound(scheme, fan_in, fan_out, logistic)
            W.append(rng.uniform(-r, r, size=(fan_out, fan_in)).astype(dtype))
            drawn = output_bias or l < last
            b.append(rng.uniform(-r, r, size=fan_out).astype(dtype) if drawn else np.zeros(fan_out, dtype))
            continue
        W.append(draw_weights(init_scheme(scheme, act), fan_in, fan_out, rng, scale).astype(dtype))
        b.append(np.zeros(fan_out, dtype=dtype))
    return W, b


class Network:
    """A fully-connected network: ``W[l]`` (out, in), ``b[l]`` (out,), hidden activations, output
    function and cost.

    Parameters
    ----------
    W, b : lists of arrays (NumPy or CuPy, all of one dtype), one per layer transition.
    activations : one hidden activation name per hidden layer (len(W) - 1 of them).
    output : the output function ('identity', 'sigmoid' or 'softmax').
    cost : the cost name ('mse', 'cross_entropy', 'binary_cross_entropy').
    """

    def __init__(
        self,
        W: list,
        b: list,
        activations: Sequence[str],
        output: str,
        cost: str,
        *,
        output_bias: bool = True,
        dropout: Sequence[float] | None = None,
        input_dropout: float = 0.0,
    ):
        if isinstance(activations, str):  # one name for every hidden layer
            activations = [activations] * (len(W) - 1)
        if len(W) != len(b) or len(activations) != len(W) - 1:
            raise ConfigError("need one b per W and one activation per hidden layer")
        for what, name, known in (
            *(("activation", a, ACTIVATIONS) for a in activations),
            ("cost", cost, COSTS),
            ("output", output, OUTPUTS),
        ):
            if name not in known:
                raise ConfigError(f"{what} '{name}' is not known; one of: {', '.join(known)}")
        if output not in COSTS[cost].outputs:
            takes = " or ".join(COSTS[cost].outputs)
            raise ConfigError(f"cost {cost} takes the output {takes}, not {output}")
        self.W = list(W)
        self.b = list(b)
        self.activation_names = list(activations)
        self.output = output
        self.cost_name = cost
        self.f: list[Activation] = [get_activation(name) for name in activations]
        self.f_out = output_function(output)
        self.cost: Cost = get_cost(cost, output)
        #: False: the derivation's bias-free output s = f_out(W a); b[-1] stays zero, untrained
        self.output_bias = output_bias
        #: the dropout rate of each hidden layer's activations while training (0: none)
        self.dropout = list(dropout) if dropout is not None else [0.0] * len(activations)
        #: the dropout rate of the inputs a(1) = x while training (0: none)
        self.input_dropout = float(input_dropout)
        #: each class's weight in the training cost (training.class_weight), in the order of the
        #: classes (two for a one-output binary cross-entropy), or None: see ``row_weights``
        self.class_weight: tuple[float, ...] | None = None
        self._class_weight = None  # the same as a vector on the device, in the network's dtype

    def set_class_weight(self, weights: Sequence[float] | None) -> Network:
        """Weight each class's rows in the training cost: C = (1/n) sum_i w[class of row i] l_i
        (Keras's class_weight). ``weights`` has one number per class (k outputs: k classes; one
        sigmoid output: classes 0 and 1), or None for the plain mean. Returns self."""
        if weights is None:
            self.class_weight = self._class_weight = None
            return self
        if not self.cost.classification:
            raise ConfigError(f"class weights are for classification costs, not {self.cost_name}")
        k = self.sizes[-1]
        weights = tuple(float(v) for v in weights)
        if len(weights) != max(k, 2):
            raise ConfigError(f"class weights: {len(weights)} numbers for {max(k, 2)} classes")
        self.class_weight = weights
        self._class_weight = self.xp.asarray(np.asarray(weights, dtype=self.dtype))
        return self

    def row_weights(self, y, sw=None):
        """Each row's weight w (n,) in the cost for targets y (n, k): its class weight times its
        sample weight ``sw`` (n,) (data.weight, normalized; None: 1), on y's device with no host
        read; None with neither (the unweighted cost). With k outputs y's rows are one-hot, so
        the class weight is y @ weights; one sigmoid output holds the class (0 or 1) itself:
        w0 + (w1 - w0) y."""
        if self.class_weight is None:
            return sw
        if y.shape[1] == 1:
            w0, w1 = self.class_weight
            w = y[:, 0] * (w1 - w0) + w0
        else:
            w = y @ self._class_weight.astype(y.dtype, copy=False)
        return w if sw is None else w * sw

    @classmethod
    def create(
        cls,
        sizes: Sequence[int],
        activations: Sequence[str],
        output: str,
        cost: str,
        seed: int | np.random.Generator = 0,
        dtype: str = "float32",
        device: Device | None = None,
        *,
        init: str = "auto",
        init_scale: float = 0.01,
        output_bias: bool = True,
        dropout: Sequence[float] | None = None,
        input_dropout: float = 0.0,
    ) -> Network:
        """A new network with initial weights drawn from a host generator seeded with ``seed``."""
        if len(sizes) < 2 or any(isinstance(k, bool) or int(k) != k or k < 1 for k in sizes):
            raise ConfigError(
                f"sizes {list(sizes)} must be two or more whole numbers >= 1 (input, ..., output)"
            )
        if isinstance(activations, str):  # one name for every hidden layer
            activations = [activations] * (len(sizes) - 2)
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        W, b = init_weights(sizes, [*activations, output], rng, dtype, init, init_scale, output_bias)
        if device is not None:
            W = [device.asarray(w) for w in W]
            b = [device.asarray(v) for v in b]
        return cls(
            W,
            b,
            activations,
            output,
            cost,
            output_bias=output_bias,
            dropout=dropout,
            input_dropout=input_dropout,
        )

    @classmethod
    def from_config(cls, config, dtype: str | None = None, device: Device | None = None) -> Network:
        """The network a config describes, at its initial weights (seed stream 0, as fit draws
        them); ``dtype`` overrides the config's (gradcheck uses float64)."""
        from .data import stream_rng

        n, tc = config.network, config.training
        if 0 in n.layers:  # config.AUTO: only the data can say
            raise ConfigError(
                f"network.layers {['auto' if k == 0 else k for k in n.layers]} has auto sizes: fill "
                "them from the data first (config.with_data_sizes; fit does it)"
            )
        return cls.create(
            n.layers,
            n.activation,
            n.output,
            config.cost,
            seed=stream_rng(tc.seed, 0),
            dtype=dtype or config.dtype,
            device=device,
            init=n.init,
            init_scale=n.init_scale,
            output_bias=n.output_bias,
            dropout=tc.dropout,
            input_dropout=tc.input_dropout,
        )

    # -- shape ------------------------------------------------------------------------------------

    @property
    def sizes(self) -> list[int]:
        """Units per layer: input, hidden..., output."""
        return [self.W[0].shape[1]] + [w.shape[0] for w in self.W]

    @property
    def dtype(self):
        return self.W[0].dtype

    @property
    def xp(self):
        return xp_of(self.W[0])

    def set_weights(self, source: Network, device: Device) -> None:
        """W and b := ``source``'s (a loaded model's, on the host), cast to this network's dtype
        (float32 to float64 is exact; float64 to float32 rounds), on ``device``: a resumed
        checkpoint's weights, or a warm start's. Before ``pack``, which keeps them as views."""
        self.W[:] = [device.asarray(np.asarray(w).astype(self.dtype)) for w in source.W]
        self.b[:] = [device.asarray(np.asarray(v).astype(self.dtype)) for v in source.b]

    def n_params(self) -> int:
        return sum(int(p.size) for p in self.params())

    def params(self) -> list:
        """Every trained parameter array, in the order W[0], b[0], W[1], b[1], ... (without the
        output layer's b when ``output_bias`` is False)."""
        return self.param_grads(self.W, self.b)

    def param_names(self) -> list[str]:
        """The derivation's names of ``params()``: W(1), b(1), W(2), ..."""
        return self.param_grads(
            [f"W({l + 1})" for l in range(len(self.W))], [f"b({l + 1})" for l in range(len(self.b))]
        )

    def param_grads(self, dW: list, db: list) -> list:
        """Gradients (or anything per layer) in the order of ``params()``."""
        out = [p for pair in zip(dW, db) for p in pair]
        return out if self.output_bias else out[:-1]

    def is_weight(self) -> list[bool]:
        """For each of ``params()``: True for a W (weight decay applies), False for a b."""
        return self.param_grads([True] * len(self.W), [False] * len(self.b))

    # -- forward ----------------------------------------------------------------------------------

    def forward(self, x, logits: bool = False):
        """The network's output s for a batch x (n, inputs) -> (n, outputs). Keeps nothing.
        ``logits``: z(L) instead, the output layer's weighted input (s = f_out(z(L)))."""
        a = x
        last = len(self.W) - 1
        for l, (W, b) in enumerate(zip(self.W, self.b)):
            z = a @ W.T + b
            if l == last:
                return z if logits else self.f_out(z)
            a = self.f[l].f(z)
        return a

    def forward_cache(self, x) -> tuple[list, list]:
        """Forward pass keeping what backprop needs: zs[l] = z(l+2) and acts[l] = a(l+1).

        ``acts`` starts with the input x and ends with the output s; ``zs[-1]`` is z(L).
        """
        acts = [x]
        zs = []
        last = len(self.W) - 1
        for l, (W, b) in enumerate(zip(self.W, self.b)):
            z = acts[-1] @ W.T + b
            zs.append(z)
            acts.append(self.f_out(z) if l == last else self.f[l].f(z))
        return zs, acts

    def loss(self, x, y, sw=None):
        """The cost C(s, y) of a batch, a 0-d array (read it with float() when you need it);
        ``sw`` (n,): each row's sample weight (see row_weights), or None."""
        x, y = self.batch(x, y)
        zs, acts = self.forward_cache(x)
        w = self.row_weights(y, self._sample_weights(sw, y))
        return self.cost.loss(zs[-1], acts[-1], y) if w is None else self.cost.loss(zs[-1], acts[-1], y, w)

    def _sample_weights(self, sw, y):
        """Sample weights (n,) as an array like y (its dtype and device), or None."""
        if sw is None:
            return None
        sw = self.xp.asarray(sw, dtype=y.dtype)
        if sw.shape != (len(y),):
            raise DataError(f"sample weights have shape {sw.shape}; the batch has {len(y)} rows")
        return sw

    def batch(self, x, y):
        """x (n, inputs) and y (n, outputs) in the network's dtype, as ``loss`` and
        ``gradients`` take them; a 1-D y is the single output's column. Any other shape is a
        DataError (NumPy would broadcast (n,) against (n, k) into a wrong (n, n) loss)."""
        xp = self.xp
        x = xp.asarray(x, dtype=self.dtype)
        y = xp.asarray(y, dtype=self.dtype)
        n_in, n_out = self.sizes[0], self.sizes[-1]
        if y.ndim == 1 and n_out == 1:
            y = y.reshape(-1, 1)
        if x.ndim != 2 or x.shape[1] != n_in:
            raise DataError(f"x has shape {x.shape}; the network takes (n, {n_in})")
        if y.shape != (len(x), n_out):
            hint = " (one-hot rows for cross_entropy)" if self.cost_name == "cross_entropy" else ""
            raise DataError(f"y has shape {y.shape}; the network's targets are ({len(x)}, {n_out}){hint}")
        return x, y

    # -- backward ---------------------------------------------------------------------------------

    def backward(
        self,
        zs: list,
        acts: list,
        y,
        masks: list | None = None,
        pre: list | None = None,
        deltas: list | None = None,
        sw=None,
    ):
        """Backpropagation by the chain rule from the cache of ``forward_cache``: the reference
        form, allocating new arrays (``gradients`` and the training loop use the in-place form
        in ``Workspace``, which computes the same numbers). Returns (dW, db).

        ``deltas``: a list to receive every delta, indexed like ``zs``: deltas[l] = delta(l+2)
        = dC/dz(l+2), so deltas[-1] is delta(L) (what ``nettrain trace`` shows). ``sw`` (n,):
        each row's sample weight (see row_weights), or None."""
        dW: list = [None] * len(self.W)
        db: list = [None] * len(self.b)
        if deltas is not None:
            deltas[:] = [None] * len(self.W)
        # delta(L) = dC/dz(L), each row's times its weight (class and sample), if any
        w = self.row_weights(y, self._sample_weights(sw, y))
        delta = self.cost.delta(zs[-1], acts[-1], y) if w is None else self.cost.delta(zs[-1], acts[-1], y, w)
        for l in range(len(self.W) - 1, -1, -1):
            if deltas is not None:
                deltas[l] = delta  # delta(l+2)
            dW[l] = delta.T @ acts[l]  # dC/dW(l) = delta(l+1) a(l)^T
            db[l] = delta.sum(axis=0)  # dC/db(l) = delta(l+1)
            if l > 0:
                # delta(l) = (W(l)^T delta(l+1)) * f'(z(l))   (times the dropout mask, if any)
                da = delta @ self.W[l]
                if masks is not None and masks[l - 1] is not None:
                    da *= masks[l - 1]
                    a = pre[l - 1]
                else:
                    a = acts[l]
                delta = da * self.f[l - 1].df(zs[l - 1], a)
        if not self.output_bias:
            db[-1] = self.xp.zeros_like(self.b[-1])
        return dW, db

    def pack(self):
        """Moves W and b into one flat buffer ``theta``, each a view into it, laid out as a
        Workspace's gradients: an update of every parameter can then be one operation (plain
        SGD: theta -= lr * gradients). Returns theta. Replace weights in place from then on
        (``W[l][...] = new``), so that they stay views."""
        theta, views = flat_views([*self.W, *self.b])
        for view, p in zip(views, [*self.W, *self.b]):
            view[...] = p
        self.W[:] = views[: len(self.W)]
        self.b[:] = views[len(self.W) :]
        self.theta = theta
        return theta

    def workspace(self, n: int) -> Workspace:
        """The buffers for batches of ``n`` rows (made once per batch size, then reused)."""
        cache = self.__dict__.setdefault("_workspaces", {})
        ws = cache.get(n)
        if ws is None or ws.dtype != self.dtype or ws.xp is not self.xp:
            ws = cache[n] = Workspace(self, n)
        return ws

    def drop_workspaces(self) -> None:
        """Let go of the batch buffers, each as big as the parameters (gradcheck computes
        gradients on batches of many sizes once each)."""
        self.__dict__.pop("_workspaces", None)

    def gradients(self, x, y, rng: np.random.Generator | None = None, sw=None):
        """(loss, dW, db) for a batch: one forward and one backward pass (fresh arrays). ``sw``
        (n,): each row's sample weight (see row_weights), or None.

        With ``rng`` and nonzero ``dropout`` rates, hidden activations are dropped, and with a
        nonzero ``input_dropout`` the inputs (inverted dropout: each kept unit is scaled by
        1 / (1 - p) so that predictions need no rescaling);
        the masks come from ``rng`` on the host, so a seed gives the same masks on every device.
        """
        x, y = self.batch(x, y)  # (n, inputs), (n, outputs) in the network's dtype
        ws = self.workspace(len(x))
        with np.errstate(over="ignore"):  # see activations.sigmoid_into
            if sw is None:
                loss_sum = ws.step(x, y, 1.0 / len(x), rng)
            else:
                loss_sum = ws.step(x, y, 1.0 / len(x), rng, sw=self._sample_weights(sw, y))
        return loss_sum / len(x), [g.copy() for g in ws.dW], [g.copy() for g in ws.db]

    def astype(self, dtype) -> Network:
        """A copy of this network with parameters of another dtype (gradcheck uses float64)."""
        return self.with_params([w.astype(dtype) for w in self.W], [v.astype(dtype) for v in self.b])

    def with_params(self, W: list, b: list) -> Network:
        """The same network (activations, output, cost, output bias, dropout) with the
        parameters W and b: host copies of a GPU network, a checkpoint's snapshot."""
        return Network(
            W,
            b,
            self.activation_names,
            self.output,
            self.cost_name,
            output_bias=self.output_bias,
            dropout=self.dropout,
            input_dropout=self.input_dropout,
        ).set_class_weight(self.class_weight)

    def __repr__(self) -> str:
        hidden = ",".join(self.activation_names) or "-"
        return (
            f"Network(sizes={self.sizes}, activations=[{hidden}], output={self.output}, "
            f"cost={self.cost_name}, dtype={self.dtype})"
        )


#: Workspace.drop in one pass on the GPU: pre := a; mask := 1 / (1 - p) where u >= p, else 0; a *= mask
DROPOUT = Kernel(
    "dropout",
    "T u, T p, T scale",
    "T a, T pre, T mask",
    "pre = a; mask = u >= p ? scale : (T)0; a *= mask;",
)


#: Parameters and gradients packed into one flat buffer start at multiples of this many elements
#: (256 bytes in float32), as BLAS output arrays like best; the padding stays zero
ALIGN = 64


def flat_views(arrays: list, extra: int = 0) -> tuple:
    """(flat, views): a zeroed buffer holding one view shaped like each of ``arrays`` (each
    starting at a multiple of ALIGN), plus ``extra`` spare elements at its end. Network.pack and
    Workspace use the same layout, so that their buffers line up element for element."""
    xp = xp_of(arrays[0])
    offsets, total = [], 0
    for p in arrays:
        offsets.append(total)
        total += -(-int(p.size) // ALIGN) * ALIGN
    flat = xp.zeros(total + extra, dtype=arrays[0].dtype)
    return flat, [flat[o : o + p.size].reshape(p.shape) for o, p in zip(offsets, arrays)]


class Workspace:
    """Preallocated arrays for one batch size, and the training step that fills them in place.

    This is where the speed tricks live; the math is the derivation's, line for line:

        a[l] = f(a[l-1] @ W[l].T + b[l])    z is computed into a[l] and activated in place, since
                                             every f' here can be written from a = f(z)
        delta(L) = scale * n * dC/dz(L)     costs.py's fused form; the loss sum comes out too
        dW[l] = delta.T @ a[l-1],  db[l] = delta.sum(0)
        delta = (delta @ W[l]) * f'(a)       into da[l-1], using tmp[l-1] for f'

    ``scale`` is 1/n for the true gradient; the training loop passes lr/n for plain SGD so that
    dW comes out as lr * dC/dW and the update is one subtraction. Nothing is allocated per step
    except small row-wise reductions and, with dropout, the uniform draws.
    """

    def __init__(self, net: Network, n: int):
        xp = net.xp
        self.xp = xp
        self.gpu = on_gpu(net.W[0])  # the elementwise chains then run as fused kernels
        self.dtype = net.dtype
        self.net = net
        sizes = net.sizes
        self.a = [xp.empty((n, k), dtype=net.dtype) for k in sizes[1:]]
        self.da = [xp.empty((n, k), dtype=net.dtype) for k in sizes[1:-1]]
        self.tmp = [xp.empty((n, k), dtype=net.dtype) for k in sizes[1:]]
        self.pre = [
            xp.empty((n, k), dtype=net.dtype) if p > 0 else None for k, p in zip(sizes[1:-1], net.dropout)
        ]
        self.keep = [
            xp.empty((n, k), dtype=net.dtype) if p > 0 else None for k, p in zip(sizes[1:-1], net.dropout)
        ]
        self.masks: list = [None] * (len(sizes) - 2)  # keep[l] while layer l drops units, else None
        # input dropout: x dropped into x_drop (x itself, the caller's batch, stays as it is);
        # x_pre is the GPU's DROPOUT kernel's copy of x before dropping, which the inputs do not
        # need (the CPU path does without it)
        dropping_inputs = net.input_dropout > 0
        self.x_drop, self.x_keep = (
            [xp.empty((n, sizes[0]), dtype=net.dtype) for _ in range(2)] if dropping_inputs else [None] * 2
        )
        self.x_pre = xp.empty((n, sizes[0]), dtype=net.dtype) if dropping_inputs and self.gpu else None
        # a row of ones: ones @ delta sums delta over the batch (one BLAS call; a NumPy
        # reduction with axis=0 costs more per call on small arrays)
        self.ones = xp.ones(n, dtype=net.dtype)
        # every gradient lives in one contiguous buffer (MPI sums it with one Allreduce); its last
        # element is spare, for the ranks' stop requests (distributed.py)
        # (aligned as in Network.pack: the same layout as ``theta``)
        self.flat, views = flat_views([*net.W, *net.b], extra=1)
        #: the gradients without the spare element, laid out as net.theta
        self.grad_flat = self.flat[:-1]
        self.dW = views[: len(net.W)]
        self.db = views[len(net.W) :]
        #: dW and db in the order of net.params()
        self.grads = net.param_grads(self.dW, self.db)

    def step(self, x, y, scale: float, rng=None, rows: tuple[int, int] | None = None, sw=None):
        """Forward and backward for the batch (x, y): fills dW and db with scale * n * dC/dW
        (and dC/db); returns the batch's cost summed over its rows (a 0-d array). ``sw`` (n,):
        each row's sample weight (data.weight, normalized), on x's device, or None.

        ``rows = (first, total)`` says that x holds rows first.. of a global batch of ``total``
        rows (MPI): dropout then draws the whole batch's masks and keeps these rows' part, so
        every rank consumes the generator alike and the masks are those of one process.
        """
        net, xp = self.net, self.xp
        last = len(net.W) - 1
        if net.input_dropout > 0 and rng is not None:
            x = self.drop_inputs(x, rng, rows)  # a(1) = x, inverted dropout (its masks drawn first)
        a_prev = x
        for l in range(last + 1):
            a = self.a[l]
            xp.dot(a_prev, net.W[l].T, out=a)  # z = a_prev W^T
            if l < last:
                f = net.f[l]
                if self.gpu and f.cuda_f:
                    f.bias_f_kernel(net.b[l], a)  # a = f(z + b): one fused kernel
                else:
                    a += net.b[l]  # z = a_prev W^T + b
                    f.f_into(a, a)  # a = f(z), in place
                p = net.dropout[l]
                self.masks[l] = self.drop(l, a, p, rng, rows) if p > 0 and rng is not None else None
            else:
                a += net.b[l]  # z(L) = a_prev W^T + b; the cost applies f_out
            a_prev = a
        delta = self.a[last]
        cost = net.cost.fused_gpu if self.gpu else net.cost.fused
        # delta(L), in place of z(L); each row's cost and delta(L) row times its weight, if any
        w = net.row_weights(y, sw)
        loss = (
            cost(delta, y, scale, self.tmp[last]) if w is None else cost(delta, y, scale, self.tmp[last], w)
        )
        for l in range(last, -1, -1):
            a_in = x if l == 0 else self.a[l - 1]
            xp.dot(delta.T, a_in, out=self.dW[l])  # dC/dW(l) = delta(l+1) a(l)^T
            xp.dot(self.ones, delta, out=self.db[l])  # dC/db(l) = delta(l+1), summed over rows
            if l > 0:
                da = self.da[l - 1]
                xp.dot(delta, net.W[l], out=da)  # W(l)^T delta(l+1)
                if self.masks[l - 1] is not None:
                    da *= self.masks[l - 1]
                    a_f = self.pre[l - 1]
                else:
                    a_f = a_in
                f = net.f[l - 1]
                if self.gpu and f.cuda_df:
                    f.mul_df_kernel(a_f, da)  # * f'(z(l)): one fused kernel
                else:
                    f.mul_df(da, a_f, self.tmp[l - 1])  # * f'(z(l))
                delta = da
        if not net.output_bias:
            self.db[-1][...] = 0
        return loss

    def drop_inputs(self, x, rng, rows):
        """Inverted dropout on the inputs a(1) = x, as ``drop`` drops a layer's (its draws, the
        global batch's under MPI): x copied into ``x_drop``, which is dropped and returned; x is
        left as it is. The inputs take no derivative, so on the host the copy before dropping is
        not kept (the GPU's DROPOUT kernel writes it to ``x_pre``): dW(1) = delta(2) a(1)^T uses
        the dropped x."""
        a = self.x_drop
        a[...] = x
        self._drop(a, self.net.input_dropout, rng, rows, self.x_keep, self.x_pre)  # (x_pre: None on the host)
        return a

    def drop(self, l: int, a, p: float, rng, rows):
        """Inverted dropout on layer l's activations a, in place; returns the mask.

        A unit is kept where a uniform draw u >= p and then scaled by 1 / (1 - p), so the
        expected activation is unchanged and predictions need no rescaling. a before dropout is
        kept in pre[l] for f'. ``rng`` draws on the host (a NumPy Generator) or on the device
        (backend.DeviceRandom); on the GPU all of it is one fused kernel (DROPOUT).
        """
        return self._drop(a, p, rng, rows, self.keep[l], self.pre[l])

    def _drop(self, a, p: float, rng, rows, mask, pre):
        """``drop``'s work on any buffers: a times the mask drawn into ``mask``, in place; a
        before dropping copied into ``pre`` (None: not kept, on the host only)."""
        shape = a.shape if rows is None else (rows[1], a.shape[1])
        u = rng.random(shape, dtype=np.float32)  # float32 draws whatever the dtype: the same masks
        if rows is not None:  # MPI: the global batch's draws, this rank's rows
            u = u[rows[0] : rows[0] + len(a)]
        scale = 1.0 / (1.0 - p)
        if self.gpu:
            DROPOUT(self.xp.asarray(u, dtype=a.dtype), p, scale, a, pre, mask)
            return mask
        np.greater_equal(u, p, out=mask)  # 1.0 where kept, 0.0 where dropped
        mask *= mask.dtype.type(scale)
        if pre is not None:
            np.copyto(pre, a)
        a *= mask
        return mask
