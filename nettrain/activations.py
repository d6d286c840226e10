"""Activation functions f and their derivatives f', side by side.

Notation: z is a layer's weighted input (n, units), a = f(z) its activation. Each activation
gives ``f(z)`` and ``df(z, a)`` = f'(z); ``df`` receives the cached activation ``a`` too, because
for sigmoid and tanh f' is cheapest written in terms of a (sigmoid: a (1 - a); tanh: 1 - a^2).

Every function works on NumPy and CuPy arrays alike (the array module is taken from the input)
and keeps the input's dtype: float32 in, float32 out. Each activation also writes f and f' as
CUDA C expressions (``cuda_f`` of z, ``cuda_df`` of a): on the GPU the training step runs
z := f(z + b) and da *= f'(a) as one fused kernel each (backend.Kernel) instead of a chain of
array operations.

Softmax is not here: it only ever sits on the output layer, fused with cross-entropy in
``costs.py`` so that delta(L) = (softmax(z) - y) / n is computed directly and stably.
"""

from __future__ import annotations

import math
from functools import cached_property

from .backend import Kernel, xp_of


class Activation:
    """An elementwise activation: ``f(z)`` and its derivative ``df(z, a)``."""

    name = ""
    #: The values f can take, where an output layer's are bounded (mse's outputs: identity, or
    #: sigmoid): a regression target outside them cannot be fitted, and is not standardized
    bounds = (-math.inf, math.inf)
    #: f(z) and f'(z) (of a = f(z)) as CUDA C expressions for the GPU's fused kernels; where one
    #: is "" the GPU runs the array forms below instead
    cuda_f = ""
    cuda_df = ""

    def f(self, z):
        raise NotImplementedError

    def df(self, z, a):
        """f'(z), given z and the cached a = f(z)."""
        raise NotImplementedError

    # In-place forms for the training loop (network.Workspace): same math, no new arrays.
    def f_into(self, z, out):
        """out := f(z); ``out`` may be ``z`` itself."""
        xp_of(z).copyto(out, self.f(z))

    def mul_df(self, da, a, tmp):
        """da *= f'(z), with f'(z) written in terms of a = f(z) (so z need not be kept);
        ``tmp`` is scratch space shaped like ``a``."""
        da *= self.df(None, a)

    # The GPU's forms (network.Workspace uses them when the arrays live on a GPU): one fused
    # kernel each, called as kernel(inputs..., outputs...).
    @cached_property
    def bias_f_kernel(self) -> Kernel:
        """(b, z): z := f(z + b), b broadcast over the rows."""
        return Kernel(f"bias_{self.name}", "T b", "T z", f"z += b; z = {self.cuda_f};")

    @cached_property
    def mul_df_kernel(self) -> Kernel:
        """(a, da): da *= f'(z), written in terms of a = f(z)."""
        return Kernel(f"mul_d{self.name}", "T a", "T da", f"da *= {self.cuda_df};")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Identity(Activation):
    """f(z) = z;  f'(z) = 1."""

    name = "identity"
    cuda_f = "z"
    cuda_df = ""  # f' = 1: mul_df does nothing

    def f(self, z):
        return z

    def df(self, z, a):
        return xp_of(a).ones_like(a)

    def f_into(self, z, out):
        if out is not z:
            xp_of(z).copyto(out, z)

    def mul_df(self, da, a, tmp):
        pass  # f' = 1


class Sigmoid(Activation):
    """f(z) = 1 / (1 + exp(-z));  f'(z) = f(z) (1 - f(z)).

    ``f`` computes it from exp(-|z|) so that exp never overflows; the training step's in-place
    ``f_into`` takes exp(-z), which overflows to inf for z below about -88 (float32) and gives
    the exact 0 (see ``sigmoid_into``).
    """

    name = "sigmoid"
    bounds = (0.0, 1.0)
    cuda_f = "1 / (1 + exp(-z))"  # exp(-z) = inf for very negative z gives exactly 0
    cuda_df = "a * (1 - a)"

    def f(self, z):
        return sigmoid(z)

    def df(self, z, a):
        return a * (1 - a)

    def f_into(self, z, out):
        sigmoid_into(z, out)

    def mul_df(self, da, a, tmp):
        xp = xp_of(a)
        xp.subtract(1, a, out=tmp)  # 1 - a
        tmp *= a  # a (1 - a) = f'(z)
        da *= tmp


class Tanh(Activation):
    """f(z) = tanh(z);  f'(z) = 1 - tanh(z)^2."""

    name = "tanh"
    cuda_f = "tanh(z)"
    cuda_df = "(1 - a * a)"

    def f(self, z):
        return xp_of(z).tanh(z)

    def df(self, z, a):
        return 1 - a * a

    def f_into(self, z, out):
        xp_of(z).tanh(z, out=out)

    def mul_df(self, da, a, tmp):
        xp = xp_of(a)
        xp.multiply(a, a, out=tmp)
        xp.subtract(1, tmp, out=tmp)  # 1 - a^2 = f'(z)
        da *= tmp


class ReLU(Activation):
    """f(z) = max(z, 0);  f'(z) = 1 where z > 0, else 0 (the subgradient 0 at the kink)."""

    name = "relu"
    cuda_f = "(z < 0 ? (T)0 : z)"  # NaN passes through, as with np.maximum
    cuda_df = "(a > 0 ? (T)1 : (T)0)"

    def f(self, z):
        return xp_of(z).maximum(z, 0)

    def df(self, z, a):
        w = z if z is not None else a  # a > 0 exactly where z > 0
        return (w > 0).astype(w.dtype)

    def f_into(self, z, out):
        xp_of(z).maximum(z, 0, out=out)

    def mul_df(self, da, a, tmp):
        xp = xp_of(a)
        xp.greater(a, 0, out=tmp)  # a > 0 exactly where z > 0: f'(z) as 1.0 / 0.0
        da *= tmp


class LeakyReLU(Activation):
    """f(z) = z where z > 0, else alpha z;  f'(z) = 1 where z > 0, else alpha (alpha = 0.01)."""

    name = "leaky_relu"

    def __init__(self, alpha: float = 0.01):
        self.alpha = alpha
        self.cuda_f = f"(z > 0 ? z : (T){alpha!r} * z)"
        self.cuda_df = f"(a > 0 ? (T)1 : (T){alpha!r})"

    def f(self, z):
        return xp_of(z).where(z > 0, z, z * self.alpha)

    def df(self, z, a):
        w = z if z is not None else a  # a > 0 exactly where z > 0
        xp = xp_of(w)
        return xp.where(w > 0, xp.ones_like(w), xp.full_like(w, self.alpha))

    def mul_df(self, da, a, tmp):
        xp = xp_of(a)
        xp.greater(a, 0, out=tmp)
        tmp *= 1 - self.alpha
        tmp += self.alpha  # 1 where z > 0, alpha elsewhere
        da *= tmp


class Softplus(Activation):
    """f(z) = log(1 + exp(z));  f'(z) = sigmoid(z).

    Written as max(z, 0) + log1p(exp(-|z|)) so that exp never overflows.
    """

    name = "softplus"
    cuda_f = "((z > 0 ? z : (T)0) + log1p(exp(-fabs(z))))"
    cuda_df = "(-expm1(-a))"  # sigmoid(z) = 1 - exp(-a)

    def f(self, z):
        xp = xp_of(z)
        return xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))

    def df(self, z, a):
        if z is None:  # sigmoid(z) = 1 - exp(-a), since exp(-a) = 1 / (1 + exp(z))
            return -xp_of(a).expm1(-a)
        return sigmoid(z)

    def mul_df(self, da, a, tmp):
        xp = xp_of(a)
        xp.negative(a, out=tmp)
        xp.expm1(tmp, out=tmp)
        xp.negative(tmp, out=tmp)  # 1 - exp(-a) = sigmoid(z) = f'(z)
        da *= tmp


def sigmoid_into(z, out):
    """out := 1 / (1 + exp(-z)), in place (``out`` may be ``z``), in four ufunc calls.

    For z below about -88 (float32) exp(-z) overflows to inf and 1 / (1 + inf) = 0 is the exact
    answer, so the only cost of the overflow is NumPy's warning: the training loop runs with
    overflow warnings off.
    """
    xp = xp_of(z)
    xp.negative(z, out=out)
    xp.exp(out, out=out)
    out += 1
    xp.reciprocal(out, out=out)


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
