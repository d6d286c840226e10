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

from .activations import RELU_FAMILY, Activation, get_activation
from .backend import Device, xp_of
from .costs import Cost, get_cost, output_function


def init_weights(
    sizes: Sequence[int], activations: Sequence[str], rng: np.random.Generator, dtype="float32"
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Initial W and b on the host, drawn from ``rng`` (same seed, same weights on every device).

    Glorot/Xavier uniform, U(-r, r) with r = sqrt(6 / (fan_in + fan_out)), for layers whose
    activation is sigmoid, tanh, identity or an output function; He uniform,
    r = sqrt(6 / fan_in), for the relu family. Biases start at zero.
    ``activations[l]`` is the activation applied after W[l].
    """
    W, b = [], []
    for fan_in, fan_out, act in zip(sizes[:-1], sizes[1:], activations):
        if act in RELU_FAMILY:
            r = np.sqrt(6.0 / fan_in)
        else:
            r = np.sqrt(6.0 / (fan_in + fan_out))
        W.append(rng.uniform(-r, r, size=(fan_out, fan_in)).astype(dtype))
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

    def __init__(self, W: list, b: list, activations: Sequence[str], output: str, cost: str):
        if len(W) != len(b) or len(activations) != len(W) - 1:
            raise ValueError("need one b per W and one activation per hidden layer")
        self.W = list(W)
        self.b = list(b)
        self.activation_names = list(activations)
        self.output = output
        self.cost_name = cost
        self.f: list[Activation] = [get_activation(name) for name in activations]
        self.f_out = output_function(output)
        self.cost: Cost = get_cost(cost, output)

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
    ) -> Network:
        """A new network with initial weights drawn from a host generator seeded with ``seed``."""
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        W, b = init_weights(sizes, [*activations, output], rng, dtype)
        if device is not None:
            W = [device.asarray(w) for w in W]
            b = [device.asarray(v) for v in b]
        return cls(W, b, activations, output, cost)

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

    def n_params(self) -> int:
        return sum(int(w.size) + int(v.size) for w, v in zip(self.W, self.b))

    def params(self) -> list:
        """Every parameter array, in the order W[0], b[0], W[1], b[1], ..."""
        return [p for pair in zip(self.W, self.b) for p in pair]

    # -- forward ----------------------------------------------------------------------------------

    def forward(self, x):
        """The network's output s for a batch x (n, inputs) -> (n, outputs). Keeps nothing."""
        a = x
        last = len(self.W) - 1
        for l, (W, b) in enumerate(zip(self.W, self.b)):
            z = a @ W.T + b
            a = self.f_out(z) if l == last else self.f[l].f(z)
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

    def loss(self, x, y):
        """The cost C(s, y) of a batch, a 0-d array (read it with float() when you need it)."""
        zs, acts = self.forward_cache(x)
        return self.cost.loss(zs[-1], acts[-1], y)

    # -- backward ---------------------------------------------------------------------------------

    def backward(self, zs: list, acts: list, y) -> tuple[list, list]:
        """Backpropagation by the chain rule, from the cache of ``forward_cache``.

        Returns (dW, db), lists shaped like W and b.
        """
        dW: list = [None] * len(self.W)
        db: list = [None] * len(self.b)
        delta = self.cost.delta(zs[-1], acts[-1], y)  # delta(L) = dC/dz(L)
        for l in range(len(self.W) - 1, -1, -1):
            dW[l] = delta.T @ acts[l]  # dC/dW(l) = delta(l+1) a(l)^T
            db[l] = delta.sum(axis=0)  # dC/db(l) = delta(l+1)
            if l > 0:
                # delta(l) = (W(l)^T delta(l+1)) * f'(z(l))
                delta = (delta @ self.W[l]) * self.f[l - 1].df(zs[l - 1], acts[l])
        return dW, db

    def gradients(self, x, y):
        """(loss, dW, db) for a batch: one forward and one backward pass."""
        zs, acts = self.forward_cache(x)
        loss = self.cost.loss(zs[-1], acts[-1], y)
        dW, db = self.backward(zs, acts, y)
        return loss, dW, db

    def astype(self, dtype) -> Network:
        """A copy of this network with parameters of another dtype (gradcheck uses float64)."""
        return Network(
            [w.astype(dtype) for w in self.W],
            [v.astype(dtype) for v in self.b],
            self.activation_names,
            self.output,
            self.cost_name,
        )

    def copy(self) -> Network:
        return self.astype(self.dtype)

    def __repr__(self) -> str:
        hidden = ",".join(self.activation_names) or "-"
        return (
            f"Network(sizes={self.sizes}, activations=[{hidden}], output={self.output}, "
            f"cost={self.cost_name}, dtype={self.dtype})"
        )
