"""Learning-rate schedules: the learning rate of each epoch (epochs count from 1).

    constant     lr
    step         lr * gamma ^ floor((epoch - 1) / step_size)
    exponential  lr * gamma ^ (epoch - 1)
    cosine       warm-up: lr * epoch / warmup for the first ``warmup`` epochs, then
                 min_lr + (lr - min_lr) (1 + cos(pi k / T)) / 2, k = 0 .. T - 1 over the T = epochs -
                 warmup remaining epochs (PyTorch's CosineAnnealingLR); epochs is
                 training.epochs, which early stopping does not shorten (fit notes a cut-short cosine)
    plateau      lr, multiplied by ``factor`` (not below ``min_lr``) when the monitored value has
                 not improved by more than ``threshold`` (relative to |best|, or absolute with
                 ``threshold_mode: abs``) for more than ``patience`` epochs, then ``cooldown``
                 epochs not counted (PyTorch's ReduceLROnPlateau); monitor: val_loss when there is
                 validation data, else loss
    invscaling   lr / (t + 1) ^ power_t, t = (epoch - 1) * n: the training rows seen before the
                 epoch (scikit-learn's learning_rate='invscaling', whose t_ counts samples and
                 whose learning rate changes at the end of each epoch)

A schedule's state (for plateau: the current lr, the best value, the epochs waited, the cooldown
left) is in
``state_dict()`` so a resumed run continues exactly.
"""

from __future__ import annotations

import math


def _power(base: float, gamma: float, k: int) -> float:
    """base * gamma ** k; a gamma above 1 that grows past the largest float gives an infinite
    learning rate (the run then diverges, exit 1) instead of Python's OverflowError."""
    try:
        return base * gamma**k
    except OverflowError:
        return math.inf


class Schedule:
    name = ""
    defaults: dict[str, float] = {}

    def __init__(self, lr: float, epochs: int, n_train: int = 1, **params):
        self.base = float(lr)
        self.epochs = int(epochs)
        self.n_train = int(n_train)  # training rows per epoch (invscaling counts them)
        for key, default in self.defaults.items():
            setattr(self, key, params.get(key, default))

    def lr_at(self, epoch: int) -> float:
        """The learning rate for ``epoch`` (1-based), asked for before the epoch runs."""
        return self.base

    def observe(self, record: dict) -> None:
        """Called with each epoch's history record once the epoch is done."""

    def state_dict(self) -> dict:
        return {}

    def load_state(self, state: dict) -> None:
        pass


class Constant(Schedule):
    name = "constant"


class Step(Schedule):
    name = "step"
    defaults = {"step_size": 10, "gamma": 0.1}

    def lr_at(self, epoch: int) -> float:
        return _power(self.base, self.gamma, (epoch - 1) // int(self.step_size))


class Exponential(Schedule):
    name = "exponential"
    defaults = {"gamma": 0.95}

    def lr_at(self, epoch: int) -> float:
        return _power(self.base, self.gamma, epoch - 1)


class Cosine(Schedule):
    name = "cosine"
    defaults = {"min_lr": 0.0, "warmup": 0}

    def lr_at(self, epoch: int) -> float:
        warmup = int(self.warmup)
        if epoch <= warmup:
            return self.base * epoch / warmup
        T = max(self.epochs - warmup, 1)
        k = epoch - warmup - 1
        return self.min_lr + (self.base - self.min_lr) * (1 + math.cos(math.pi * k / T)) / 2


#: A plateau reduction smaller than this is skipped (ReduceLROnPlateau's eps).
MIN_REDUCTION = 1e-8


class Plateau(Schedule):
    """ReduceLROnPlateau: lr times ``factor`` after more than ``patience`` epochs in a row
    without an improvement, then ``cooldown`` epochs whose lack of improvement is not counted.

    An epoch improves on ``best`` when its value is beyond ``best`` by more than

        threshold_mode rel:  threshold * |best|   (PyTorch scales best by 1 -/+ threshold, which
                                                   turns round for a negative monitor such as an
                                                   r2 below 0; the same otherwise)
        threshold_mode abs:  threshold            (PyTorch's 'abs'; Keras's min_delta)

    lower for a loss, higher for an accuracy or r2. The counting is PyTorch's step(): the epoch
    is judged (best kept, or one more bad epoch), then an epoch inside a cooldown decrements it
    and forgets the bad epochs, then more than ``patience`` bad epochs cut the lr and start a
    cooldown of ``cooldown`` epochs."""

    name = "plateau"
    defaults = {
        "factor": 0.1,
        "patience": 10,
        "min_lr": 0.0,
        "threshold": 1e-4,
        "threshold_mode": "rel",
        "cooldown": 0,
        "monitor": "auto",
    }

    def __init__(self, lr: float, epochs: int, n_train: int = 1, **params):
        super().__init__(lr, epochs, n_train, **params)
        self.lr = self.base
        self.best: float | None = None
        self.wait = 0  # bad epochs in a row (PyTorch's num_bad_epochs)
        self.cooldown_left = 0  # epochs of cooldown still to come (PyTorch's cooldown_counter)

    def lr_at(self, epoch: int) -> float:
        return self.lr

    def improves(self, value: float, better_is_higher: bool) -> bool:
        """Whether ``value`` beats ``best`` by more than the threshold."""
        if self.best is None:
            return True
        margin = self.threshold if self.threshold_mode == "abs" else abs(self.best) * self.threshold
        if better_is_higher:
            return value > self.best + margin
        return value < self.best - margin

    def observe(self, record: dict) -> None:
        key = self.monitor
        if key == "auto":
            key = "val_loss" if "val_loss" in record else "loss"
        value = record.get(key)
        if value is None:
            return
        if self.improves(value, key.endswith(("accuracy", "r2"))):
            self.best, self.wait = value, 0
        else:
            self.wait += 1
        if self.cooldown_left > 0:  # bad epochs in a cooldown are not counted
            self.cooldown_left -= 1
            self.wait = 0
        if self.wait > int(self.patience):
            lr = max(self.lr * self.factor, self.min_lr)
            if self.lr - lr > MIN_REDUCTION:
                self.lr = lr
            self.cooldown_left = int(self.cooldown)
            self.wait = 0

    def state_dict(self) -> dict:
        return {"lr": self.lr, "best": self.best, "wait": self.wait, "cooldown_left": self.cooldown_left}

    def load_state(self, state: dict) -> None:
        self.lr, self.best, self.wait = float(state["lr"]), state["best"], int(state["wait"])
        # (a checkpoint of a nettrain before cooldown has none to finish)
        self.cooldown_left = int(state.get("cooldown_left", 0))


class InvScaling(Schedule):
    """scikit-learn's learning_rate='invscaling' (MLPClassifier, MLPRegressor with solver='sgd'):

        lr(epoch) = lr / (t + 1) ^ power_t,   t = (epoch - 1) * n_train

    t is scikit-learn's ``t_``: the training rows (samples, not steps or epochs) seen so far.
    scikit-learn adds n_samples to t_ at the end of each epoch and then sets the learning rate
    (SGDOptimizer.iteration_ends(t_)), so the first epoch trains at lr and epoch e at the rate
    for the (e - 1) * n rows before it. With n = 1000 and power_t 0.5 the second epoch's lr is
    lr / sqrt(1001), about lr / 31.6. Nothing to save: the rate follows from the epoch."""

    name = "invscaling"
    defaults = {"power_t": 0.5}

    def lr_at(self, epoch: int) -> float:
        t = (epoch - 1) * self.n_train
        try:
            return self.base / (t + 1) ** self.power_t
        except OverflowError:  # (t + 1) ^ power_t past the largest float: the rate is 0 to float's precision
            return 0.0


#: The config's words for schedules.
SCHEDULES: dict[str, type[Schedule]] = {
    cls.name: cls for cls in (Constant, Step, Exponential, Cosine, Plateau, InvScaling)
}


def get_schedule(name: str, lr: float, epochs: int, n_train: int = 1, **params) -> Schedule:
    """The schedule ``name``; ``n_train`` is the number of training rows of an epoch."""
    return SCHEDULES[name](lr, epochs, n_train, **params)
