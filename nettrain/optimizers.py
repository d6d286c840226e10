"""Optimizers: how a gradient becomes a parameter update.

``sgd`` is the derivation's rule exactly: w := w - lr * dC/dw, b := b - lr * dC/db, in place.
Every optimizer updates the arrays it is given in place and keeps any state it needs (velocities,
moments, a step counter) in ``state_dict()`` so that checkpoints can save and restore it; plain
SGD has none. Add an optimizer by subclassing ``Optimizer`` and naming it in ``OPTIMIZERS``.
"""

from __future__ import annotations

from collections.abc import Sequence


class Optimizer:
    """Updates parameters in place from their gradients: ``step(params, grads)``."""

    name = ""

    def __init__(self, lr: float):
        self.lr = float(lr)

    def step(self, params: Sequence, grads: Sequence) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict:
        return {"name": self.name, "lr": self.lr}

    def load_state_dict(self, state: dict) -> None:
        self.lr = float(state["lr"])


class SGD(Optimizer):
    """Plain gradient descent: p := p - lr * dp for every parameter p."""

    name = "sgd"

    def step(self, params: Sequence, grads: Sequence) -> None:
        for p, g in zip(params, grads):
            p -= self.lr * g  # in place: the network's arrays are updated, no copy is made


#: The config's words for optimizers.
OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD}


def get_optimizer(name: str, lr: float) -> Optimizer:
    return OPTIMIZERS[name](lr)
