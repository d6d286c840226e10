"""Costs C(s, y) and the output layer's delta(L) = dC/dz(L), side by side.

Notation: z is the output layer's weighted input (n, k), s = f_out(z) the network's output,
y the targets (n, k): one-hot rows for cross-entropy, 0/1 for binary cross-entropy, real values
for mse. Every cost is a mean over the batch, as in PyTorch and Keras, so learning rates carry
over from them:

    mse                   C = mean over examples and outputs of (s - y)^2
    cross_entropy         C = mean over examples of -log softmax(z)[y]     (s = softmax(z))
    binary_cross_entropy  C = mean over examples and outputs of
                              -(y log s + (1 - y) log(1 - s))               (s = sigmoid(z))

The two cross-entropies are fused with their output function: the loss is computed from the
logits z (log-sum-exp, softplus) and delta(L) = (s - y) / (number of terms), never from
probabilities plus an eps, so they stay finite for any z.

Row weights make a cost a weighted mean: C = (1/n) sum_i w_i l_i over the n rows of a batch,
with l_i row i's unweighted cost (its outputs' terms summed and divided by k for mse and binary
cross-entropy) and w_i = c_i s_i: the weight of its class (``training.class_weight``, as Keras's
``class_weight``; classification costs) times its sample weight (``data.weight``, normalized to a
mean of 1 over the training rows); so delta(L) row i is scaled by w_i. ``w`` (n,) is that per-row
vector in ``loss``, ``delta``, ``fused`` and ``fused_gpu``; None (the default) is the unweighted
cost, computed exactly as before.

On the GPU each cost's training form (``fused``) is one CUDA kernel (``fused_gpu``, built from
``kernel``), which writes delta(L) over z and each row's or term's cost into scratch space,
plus one sum, instead of a dozen array operations.
"""

from __future__ import annotations

from functools import cached_property

from .activations import Activation, get_activation, sigmoid, sigmoid_into
from .backend import Kernel, xp_of

OUTPUTS = ("identity", "sigmoid", "softmax")


def softmax(z):
    """Row-wise softmax; subtracts the row max so that exp cannot overflow."""
    xp = xp_of(z)
    e = xp.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def log_softmax(z):
    """Row-wise log softmax(z) = z - logsumexp(z), stable for any z."""
    xp = xp_of(z)
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))


def output_function(name: str):
    """s = f_out(z) for the output layer: identity, sigmoid or softmax."""
    if name == "softmax":
        return softmax
    return get_activation(name).f


class Cost:
    """A cost: ``loss(z, s, y)`` (a 0-d array, so no host sync) and ``delta(z, s, y)`` = dC/dz."""

    name = ""
    #: the output function this cost pairs with by default, and the ones it accepts
    default_output = "identity"
    outputs: tuple[str, ...] = ()
    classification = False

    def loss(self, z, s, y, w=None):
        raise NotImplementedError

    def delta(self, z, s, y, w=None):
        raise NotImplementedError

    def fused(self, z, y, scale: float, tmp, w=None):
        """The training loop's form: overwrite z (n, k) with scale * n * delta(L) and return the
        batch's cost summed over its n examples (a 0-d array: no host sync). ``tmp`` is scratch
        shaped like z. With scale = 1/n this is delta(L); the loop folds the learning rate in too
        when it can (scale = lr/n), so that dW comes out as lr * dC/dW. ``w`` (n,): each row's
        weight (class weight times sample weight), or None."""
        raise NotImplementedError

    def fused_gpu(self, z, y, scale: float, tmp, w=None):
        """``fused`` as one kernel plus one sum (the GPU's form; any arrays work); with ``w``,
        one multiply of delta(L)'s rows and one weighted sum of the rows' costs more."""
        raise NotImplementedError


class MSE(Cost):
    """C = mean((s - y)^2) over n examples and k outputs.

    dC/ds = 2 (s - y) / (n k);  delta(L) = dC/ds * f_out'(z).
    Weighted: C = (1/n) sum_i w_i (1/k) sum_j (s_ij - y_ij)^2, so row i of dC/ds is times w_i.
    """

    name = "mse"
    default_output = "identity"
    outputs = ("identity", "sigmoid")

    def __init__(self, output: str = "identity"):
        self.f_out: Activation = get_activation(output)
        self.identity_output = output == "identity"

    def loss(self, z, s, y, w=None):
        diff = s - y
        if w is None:
            return (diff * diff).mean()
        return ((diff * diff).mean(axis=1) * w).mean()  # (1/n) sum_i w_i (row i's mean)

    def delta(self, z, s, y, w=None):
        ds = (s - y) * (2 / s.size)
        if w is not None:
            ds = ds * w[:, None]  # row i's dC/ds times w_i
        if self.identity_output:  # f_out' = 1: skip a multiplication by ones
            return ds
        return ds * self.f_out.df(z, s)

    def fused(self, z, y, scale, tmp, w=None):
        xp = xp_of(z)
        k = z.shape[1]
        self.f_out.f_into(z, z)  # s = f_out(z)
        if not self.identity_output:
            xp.subtract(1, z, out=tmp)
            tmp *= z  # f_out'(z) = s (1 - s) for the sigmoid
        z -= y  # s - y
        if w is None:
            flat = z.reshape(-1)
            loss = xp.dot(flat, flat) / k  # sum over examples of the mean over outputs of (s - y)^2
            z *= 2 * scale / k
        else:  # each row's sum of (s - y)^2, then their sum weighted by w
            loss = xp.dot((z * z).sum(axis=1), w) / k
            z *= (2 * scale / k * w)[:, None]  # delta(L) row i times w_i
        if not self.identity_output:
            z *= tmp
        return loss

    @cached_property
    def kernel(self) -> Kernel:
        """(y, c, r, z, sq): s = f_out(z); sq := (s - y)^2 r; z := c (s - y) f_out'(z), with
        c = 2 scale / k and r = 1 / k."""
        df = f" * {self.f_out.cuda_df}" if self.f_out.cuda_df else ""
        body = f"const T a = {self.f_out.cuda_f}; const T d = a - y; sq = d * d * r; z = d * c{df};"
        return Kernel(f"mse_{self.f_out.name}", "T y, T c, T r", "T z, T sq", body)

    def fused_gpu(self, z, y, scale, tmp, w=None):
        k = z.shape[1]
        self.kernel(y, 2 * scale / k, 1 / k, z, tmp)
        if w is None:
            return tmp.sum()
        z *= w[:, None]  # delta(L) row i times w_i
        return w @ tmp.sum(axis=1)


class CrossEntropy(Cost):
    """Softmax cross-entropy. C = mean over n examples of logsumexp(z) - z[y].

    delta(L) = (softmax(z) - y) / n, with y one-hot rows.
    """

    name = "cross_entropy"
    default_output = "softmax"
    outputs = ("softmax",)
    classification = True

    def __init__(self, output: str = "softmax"):
        pass

    def loss(self, z, s, y, w=None):
        rows = -(log_softmax(z) * y).sum(axis=1)  # each row's -log softmax(z)[y]
        return rows.mean() if w is None else (rows * w).mean()

    def delta(self, z, s, y, w=None):
        delta = (s - y) * (1 / z.shape[0])
        return delta if w is None else delta * w[:, None]

    def fused(self, z, y, scale, tmp, w=None):
        xp = xp_of(z)
        z -= z.max(axis=1, keepdims=True)  # shift so that exp cannot overflow
        xp.multiply(z, y, out=tmp)
        if w is None:
            zy = tmp.sum()  # sum over examples of z[true class]
        else:
            zy = tmp.sum(axis=1)  # (n,): each row's z[true class], weighted below
        xp.exp(z, out=z)
        total = z.sum(axis=1, keepdims=True)
        z /= total  # softmax(z)
        z -= y
        if w is None:
            loss = xp.log(total).sum() - zy  # sum of logsumexp(z) - z[y]
            z *= scale
        else:
            rows = xp.log(total[:, 0]) - zy  # each row's logsumexp(z) - z[y]
            loss = xp.dot(rows, w)  # sum of w_i l_i
            z *= (scale * w)[:, None]  # delta(L) row i times w_i
        return loss

    #: (y, k, scale, z, loss), one thread a row: the row's max m, total = sum exp(z - m),
    #: loss := log(total) - sum (z - m) y, z := scale (exp(z - m) / total - y)
    kernel = Kernel(
        "softmax_cross_entropy",
        "raw T y, int32 k, T scale",
        "raw T z, T loss",
        """const ptrdiff_t r = i * k;
        T m = z[r];
        for (int j = 1; j < k; ++j) m = z[r + j] > m ? z[r + j] : m;
        T total = 0, zy = 0;
        for (int j = 0; j < k; ++j) {
            const T shifted = z[r + j] - m;
            zy += shifted * y[r + j];
            z[r + j] = exp(shifted);
            total += z[r + j];
        }
        for (int j = 0; j < k; ++j) z[r + j] = (z[r + j] / total - y[r + j]) * scale;
        loss = log(total) - zy;""",
    )

    def fused_gpu(self, z, y, scale, tmp, w=None):
        rows = tmp[:, 0]  # one cost per row
        self.kernel(y, z.shape[1], scale, z, rows)
        if w is None:
            return rows.sum()
        z *= w[:, None]  # delta(L) row i times w_i
        return rows @ w


class BinaryCrossEntropy(Cost):
    """Sigmoid binary cross-entropy, mean over n examples and k outputs.

    Per term: -(y log s + (1 - y) log(1 - s)) = softplus(z) - y z
            = max(z, 0) - y z + log1p(exp(-|z|))          (stable for any z)
    delta(L) = (sigmoid(z) - y) / (n k).
    """

    name = "binary_cross_entropy"
    default_output = "sigmoid"
    outputs = ("sigmoid",)
    classification = True

    def __init__(self, output: str = "sigmoid"):
        pass

    def loss(self, z, s, y, w=None):
        xp = xp_of(z)
        terms = xp.maximum(z, 0) - y * z + xp.log1p(xp.exp(-xp.abs(z)))
        return terms.mean() if w is None else (terms * w[:, None]).mean()

    def delta(self, z, s, y, w=None):
        delta = (s - y) * (1 / z.size)
        return delta if w is None else delta * w[:, None]

    def fused(self, z, y, scale, tmp, w=None):
        xp = xp_of(z)
        k = z.shape[1]
        # sum of max(z, 0) - y z + log1p(exp(-|z|)), each part summed over terms that are >= 0:
        # max(z, 0) - y z is exactly 0 for a sure right answer (z = 40, y = 1). Summed apart,
        # sum(max(z, 0)) - sum(y z) left their rounding (1e-7 of sum |z|) as the loss: noise,
        # negative too, once a well-fitted batch's loss was below it
        xp.maximum(z, 0, out=tmp)
        tmp -= y * z  # (an (n, k) temporary: the output layer's size)
        loss = tmp.sum() if w is None else tmp.sum(axis=1)
        xp.abs(z, out=tmp)
        tmp *= -1
        xp.exp(tmp, out=tmp)
        xp.log1p(tmp, out=tmp)
        sigmoid_into(z, z)
        z -= y
        if w is None:
            loss = (loss + tmp.sum()) / k
            z *= scale / k
        else:  # each row's terms, then their sum weighted by w
            loss = xp.dot(loss + tmp.sum(axis=1), w) / k
            z *= (scale / k * w)[:, None]  # delta(L) row i times w_i
        return loss

    #: (y, c, r, z, term): term := (softplus(z) - y z) r, stably; z := c (sigmoid(z) - y), with
    #: c = scale / k and r = 1 / k
    kernel = Kernel(
        "binary_cross_entropy",
        "T y, T c, T r",
        "T z, T term",
        """term = ((z > 0 ? z : (T)0) - y * z + log1p(exp(-fabs(z)))) * r;
        z = (1 / (1 + exp(-z)) - y) * c;""",
    )

    def fused_gpu(self, z, y, scale, tmp, w=None):
        k = z.shape[1]
        self.kernel(y, scale / k, 1 / k, z, tmp)
        if w is None:
            return tmp.sum()
        z *= w[:, None]  # delta(L) row i times w_i
        return w @ tmp.sum(axis=1)


#: The config's words for costs.
COSTS: dict[str, type[Cost]] = {c.name: c for c in (MSE, CrossEntropy, BinaryCrossEntropy)}


def get_cost(name: str, output: str | None = None) -> Cost:
    """The cost called ``name`` paired with output function ``output`` (default: the cost's own)."""
    cls = COSTS[name]
    return cls(output or cls.default_output)


__all__ = ["COSTS", "OUTPUTS", "Cost", "get_cost", "log_softmax", "output_function", "sigmoid", "softmax"]
