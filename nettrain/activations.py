"""Activation functions f and their derivatives f', side by side.

Notation: z is a layer's weighted input (n, units), a = f(z) its activation. Each activation
gives ``f(z)`` and ``df(z, a)`` = f'(z); ``df`` receives the cached activation ``a`` too, because
for sigmoid and tanh f' is cheapest written in terms of a (sigmoid: a (1 - a); tanh: 1 - a^2).

Every function works on NumPy and CuPy arrays alike (the array module is taken from the input)
and keeps the input's dtype: float32 in, float32 out.

Softmax is not here: it only ever sits on the output layer, fused with cross-entropy in
``costs.py`` so that delta(L) = (softmax(z) - y) / n is computed directly and stably.
"""

from __future__ import annotations

from .backend import xp_of


class Activation:
    """An elementwise activation: ``f(z)`` and its derivative ``df(z, a)``."""

    name = ""

    def f(self, z):
        raise NotImplementedError

    def df(self, z, a):
        """f'(z), given z and the cached a = f(z)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Identity(Activation):
    """f(z) = z;  f'(z) = 1."""

    name = "identity"

    def f(self, z):
        return z

    def df(self, z, a):
        return xp_of(z).ones_like(z)


class Sigmoid(Activation):
    """f(z) = 1 / (1 + exp(-z));  f'(z) = f(z) (1 - f(z)).

    Computed as exp(-|z|) based halves so that exp never overflows for large |z|.
    """

    name = "sigmoid"

    def f(self, z):
        return sigmoid(z)

    def df(self, z, a):
        return a * (1 - a)


class Tanh(Activation):
    """f(z) = tanh(z);  f'(z) = 1 - tanh(z)^2."""

    name = "tanh"

    def f(self, z):
        return xp_of(z).tanh(z)

    def df(self, z, a):
        return 1 - a * a


class ReLU(Activation):
    """f(z) = max(z, 0);  f'(z) = 1 where z > 0, else 0 (the subgradient 0 at the kink)."""

    name = "relu"

    def f(self, z):
        return xp_of(z).maximum(z, 0)

    def df(self, z, a):
        return (z > 0).astype(z.dtype)


class LeakyReLU(Activation):
    """f(z) = z where z > 0, else alpha z;  f'(z) = 1 where z > 0, else alpha (alpha = 0.01)."""

    name = "leaky_relu"

    def __init__(self, alpha: float = 0.01):
        self.alpha = alpha

    def f(self, z):
        return xp_of(z).where(z > 0, z, z * self.alpha)

    def df(self, z, a):
        xp = xp_of(z)
        return xp.where(z > 0, xp.ones_like(z), xp.full_like(z, self.alpha))


class Softplus(Activation):
    """f(z) = log(1 + exp(z));  f'(z) = sigmoid(z).

    Written as max(z, 0) + log1p(exp(-|z|)) so that exp never overflows.
    """

    name = "softplus"

    def f(self, z):
        xp = xp_of(z)
        return xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))

    def df(self, z, a):
        return sigmoid(z)


def sigmoid(z):
    """The logistic function, stable for any z: exp is only ever taken of -|z| <= 0."""
    xp = xp_of(z)
    e = xp.exp(-xp.abs(z))
    return xp.where(z >= 0, 1 / (1 + e), e / (1 + e))


#: The config's words for hidden activations.
ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Sigmoid, Tanh, ReLU, LeakyReLU, Softplus, Identity)
}

#: The relu family gets He initialisation by default; everything else Glorot.
RELU_FAMILY = frozenset({"relu", "leaky_relu"})


def get_activation(name: str) -> Activation:
    """The activation called ``name`` (a key of ACTIVATIONS)."""
    return ACTIVATIONS[name]()
