"""Optimizers: how a gradient g = dC/dp becomes a parameter update, in place.

``sgd`` is the derivation's rule exactly: p := p - lr * g. The others follow PyTorch's
definitions, so that hyper-parameters carry over (t counts steps from 1):

    momentum   v := mu v + g;                 p := p - lr v
    nesterov   v := mu v + g;                 p := p - lr (g + mu v)
    adam       m := b1 m + (1 - b1) g;  v := b2 v + (1 - b2) g^2
               p := p - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
    adamw      p := p - lr wd p   (decoupled weight decay; weights only unless decay_biases), then adam
    rmsprop    v := rho v + (1 - rho) g^2;    p := p - lr g / (sqrt(v) + eps)

Weight decay (``training.weight_decay``) is L2 on the weights (not the biases, unless
``training.decay_biases``: then on every parameter, as PyTorch's optimizers do): g := g + wd p
before the update, except for adamw, where it is decoupled as above. The state (velocities,
moments, step counter) is in ``state_arrays()`` and ``state_dict()`` so a checkpoint can restore
it exactly. Add an optimizer by subclassing ``Optimizer`` and naming it in ``OPTIMIZERS``.

On the GPU each update with state (and plain SGD's with weight decay) is one fused kernel per
parameter (``KERNEL``, a backend.Kernel: the same lines in CUDA C) instead of a chain of array
operations; tests/test_kernels.py runs each kernel on the CPU against the NumPy form. Constants
such as 1 - beta1 are computed in double precision on the host, as the NumPy form does, and
passed in.
"""

from __future__ import annotations

from collections.abc import Sequence

from .backend import Kernel, on_gpu, xp_of


class Optimizer:
    """Updates parameters in place from their gradients: ``step(params, grads)``.

    Parameters
    ----------
    lr : the learning rate (a schedule may change ``self.lr`` between epochs).
    weight_decay : L2 coefficient for the parameters ``decay`` marks: ``decay[i]`` True decays
        params[i] (the weights W; training.decay_biases: the biases too); None decays them all.
    """

    name = ""
    #: hyper-parameters accepted in the config's optimizer mapping, with their defaults
    defaults: dict[str, float] = {}
    #: state arrays kept per parameter, each as big as it (velocities, moments)
    n_slots = 0

    def __init__(
        self, lr: float, weight_decay: float = 0.0, decay: Sequence[bool] | None = None, **hyper: float
    ):
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.decay = list(decay) if decay is not None else None
        for key, default in self.defaults.items():
            setattr(self, key, float(hyper.get(key, default)))
        self.t = 0  # steps taken
        self.slots: list[list] = []  # per kind of state, one array per parameter

    def _decays(self, i: int) -> bool:
        return self.weight_decay > 0 and (self.decay is None or self.decay[i])

    def _wd(self, i: int) -> float:
        """The weight decay of params[i]: 0 for one not decayed (a bias, by default)."""
        return self.weight_decay if self._decays(i) else 0.0

    def _coupled(self, params: Sequence, grads: Sequence) -> list:
        """g + wd W for the weights (L2), unchanged for biases."""
        if self.weight_decay == 0:
            return list(grads)
        return [
            g + self.weight_decay * p if self._decays(i) else g for i, (p, g) in enumerate(zip(params, grads))
        ]

    def _slot(self, params: Sequence, count: int) -> None:
        if not self.slots:
            self.slots = [[xp_of(p).zeros_like(p) for p in params] for _ in range(count)]

    def step(self, params: Sequence, grads: Sequence) -> None:
        raise NotImplementedError

    # -- state, for checkpoints -------------------------------------------------------------------

    def state_dict(self) -> dict:
        """Scalars of the state (JSON-ready); the arrays are in ``state_arrays``."""
        return {
            "name": self.name,
            "lr": self.lr,
            "t": self.t,
            "slots": len(self.slots),
            **{k: getattr(self, k) for k in self.defaults},
            "weight_decay": self.weight_decay,
        }

    def state_arrays(self) -> list:
        return [a for slot in self.slots for a in slot]

    def load_state(self, state: dict, arrays: Sequence, params: Sequence) -> None:
        self.lr = float(state["lr"])
        self.t = int(state["t"])
        count = int(state.get("slots", 0))
        n = len(params)
        if len(arrays) != count * n:
            raise ValueError(f"optimizer state has {len(arrays)} arrays, expected {count * n}")
        self.slots = [list(arrays[k * n : (k + 1) * n]) for k in range(count)]


class SGD(Optimizer):
    """Plain gradient descent: p := p - lr * g for every parameter p."""

    name = "sgd"

    def step(self, params: Sequence, grads: Sequence) -> None:
        self.t += 1
        for p, g in zip(params, self._coupled(params, grads)):
            p -= self.lr * g  # in place: the network's arrays are updated, no copy is made

    #: step_scaled with weight decay, on the GPU
    KERNEL = Kernel("sgd_decay", "T g, T c", "T p", "p -= g + c * p;")

    def step_scaled(self, params: Sequence, scaled: Sequence) -> None:
        """The same update when the gradients already carry the learning rate (lr * dC/dp, as
        the training loop computes them): p := p - (lr g + lr wd W). ``scaled`` may be changed."""
        self.t += 1
        for i, (p, g) in enumerate(zip(params, scaled)):
            if not self._decays(i):
                p -= g
            elif on_gpu(p):
                self.KERNEL(g, self.lr * self.weight_decay, p)
            else:
                g += (self.lr * self.weight_decay) * p
                p -= g

    def step_packed(self, theta, scaled) -> None:
        """step_scaled for parameters packed in one buffer (Network.pack) and gradients laid out
        alike (Workspace.grad_flat), without weight decay: one subtraction for all of them."""
        self.t += 1
        theta -= scaled


class Momentum(Optimizer):
    """Heavy-ball momentum (PyTorch's SGD with momentum, no dampening)."""

    name = "momentum"
    defaults = {"momentum": 0.9}
    nesterov = False
    n_slots = 1

    KERNEL = Kernel(
        "momentum",
        "T g, T lr, T mu, T wd, T nesterov",
        "T p, T v",
        """T gg = g + wd * p;  // L2 weight decay (wd = 0 for biases)
        v = mu * v + gg;
        p -= lr * (nesterov != 0 ? gg + mu * v : v);""",
    )

    def step(self, params: Sequence, grads: Sequence) -> None:
        self.t += 1
        self._slot(params, self.n_slots)
        if on_gpu(params[0]):
            for i, (p, g, v) in enumerate(zip(params, grads, self.slots[0])):
                self.KERNEL(g, self.lr, self.momentum, self._wd(i), float(self.nesterov), p, v)
            return
        for p, g, v in zip(params, self._coupled(params, grads), self.slots[0]):
            v *= self.momentum
            v += g
            if self.nesterov:
                p -= self.lr * (g + self.momentum * v)
            else:
                p -= self.lr * v


class Nesterov(Momentum):
    """Nesterov momentum, in PyTorch's form."""

    name = "nesterov"
    nesterov = True


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction; ``adamw`` decouples the weight decay."""

    name = "adam"
    defaults = {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
    decoupled = False
    n_slots = 2

    KERNEL = Kernel(
        "adam",
        "T g, T lr_c1, T b1, T nb1, T b2, T nb2, T c2, T eps, T wd, T dwd",
        "T p, T m, T v",
        """p -= dwd * p;  // adamw: decoupled decay, lr * wd (0 for adam and for biases)
        T gg = g + wd * p;  // adam: L2 decay (0 for adamw and for biases)
        m = b1 * m + nb1 * gg;  // nb1 = 1 - b1
        v = b2 * v + nb2 * (gg * gg);  // nb2 = 1 - b2
        p -= lr_c1 * m / (sqrt(v / c2) + eps);""",
    )

    def step(self, params: Sequence, grads: Sequence) -> None:
        self.t += 1
        self._slot(params, self.n_slots)
        c1 = 1.0 - self.beta1**self.t  # bias corrections, from the step count t (starts at 1)
        c2 = 1.0 - self.beta2**self.t
        if on_gpu(params[0]):
            for i, (p, g, m, v) in enumerate(zip(params, grads, *self.slots)):
                wd = self._wd(i)
                l2, decoupled = (0.0, self.lr * wd) if self.decoupled else (wd, 0.0)
                b1, b2 = self.beta1, self.beta2
                self.KERNEL(g, self.lr / c1, b1, 1.0 - b1, b2, 1.0 - b2, c2, self.eps, l2, decoupled, p, m, v)
            return
        grads = list(grads) if self.decoupled else self._coupled(params, grads)
        for i, (p, g, m, v) in enumerate(zip(params, grads, self.slots[0], self.slots[1])):
            if self.decoupled and self._decays(i):
                p -= (self.lr * self.weight_decay) * p
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * (g * g)
            p -= (self.lr / c1) * m / (xp_of(v).sqrt(v / c2) + self.eps)


class AdamW(Adam):
    name = "adamw"
    decoupled = True


class RMSprop(Optimizer):
    """RMSprop (Hinton): divide by a running root mean square of the gradients."""

    name = "rmsprop"
    defaults = {"rho": 0.9, "eps": 1e-8}
    n_slots = 1

    KERNEL = Kernel(
        "rmsprop",
        "T g, T lr, T rho, T nrho, T eps, T wd",
        "T p, T v",
        """T gg = g + wd * p;  // L2 weight decay (wd = 0 for biases)
        v = rho * v + nrho * (gg * gg);  // nrho = 1 - rho
        p -= lr * gg / (sqrt(v) + eps);""",
    )

    def step(self, params: Sequence, grads: Sequence) -> None:
        self.t += 1
        self._slot(params, self.n_slots)
        if on_gpu(params[0]):
            for i, (p, g, v) in enumerate(zip(params, grads, self.slots[0])):
                self.KERNEL(g, self.lr, self.rho, 1.0 - self.rho, self.eps, self._wd(i), p, v)
            return
        for p, g, v in zip(params, self._coupled(params, grads), self.slots[0]):
            v *= self.rho
            v += (1.0 - self.rho) * (g * g)
            p -= self.lr * g / (xp_of(v).sqrt(v) + self.eps)


#: The config's words for optimizers.
OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (SGD, Momentum, Nesterov, Adam, AdamW, RMSprop)
}
#: The learning rate each optimizer gets when the config gives none (Keras's defaults).
DEFAULT_LR = {
    "sgd": 0.01,
    "momentum": 0.01,
    "nesterov": 0.01,
    "adam": 0.001,
    "adamw": 0.001,
    "rmsprop": 0.001,
}
#: The weight decay each optimizer gets when the config gives none (PyTorch's AdamW: 0.01).
DEFAULT_WEIGHT_DECAY = {"adamw": 0.01}


def get_optimizer(name: str, lr: float, weight_decay: float = 0.0, decay=None, **hyper) -> Optimizer:
    return OPTIMIZERS[name](lr, weight_decay, decay, **hyper)
