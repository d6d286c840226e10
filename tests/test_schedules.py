"""Learning-rate schedules: the lr of every epoch worked out by hand, plateau's reductions, state
that survives a checkpoint, and the lr that fit records (history, history.jsonl, progress lines)."""

from __future__ import annotations

import json
import math
import re
import warnings

import numpy as np
import pytest

from nettrain import ConfigError, fit, load_config
from nettrain.cli import app
from nettrain.schedules import SCHEDULES, get_schedule
from tests.conftest import CONFIGS
from tests.helpers import CliRunner


def lrs(name, lr, epochs, **params):
    s = get_schedule(name, lr, epochs, **params)
    return [s.lr_at(e) for e in range(1, epochs + 1)]


def test_constant():
    assert lrs("constant", 0.1, 4) == [0.1, 0.1, 0.1, 0.1]


def test_step():
    # lr * gamma ^ floor((epoch - 1) / step_size): three epochs at each level
    got = lrs("step", 0.1, 8, step_size=3, gamma=0.5)
    assert got == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025])
    # PyTorch's StepLR defaults: step_size 10, gamma 0.1
    got = lrs("step", 1.0, 21)
    assert got[9] == 1.0 and got[10] == pytest.approx(0.1) and got[20] == pytest.approx(0.01)


@pytest.mark.parametrize("bad", [0, 2.5])
def test_step_size_must_be_a_whole_number_of_epochs(bad):
    with pytest.raises(ConfigError, match="step_size"):
        load_config(CONFIGS / "digits.yaml", [f"training.schedule={{name: step, step_size: {bad}}}"])


def test_exponential():
    got = lrs("exponential", 0.2, 4, gamma=0.5)
    assert got == pytest.approx([0.2, 0.1, 0.05, 0.025])
    assert lrs("exponential", 1.0, 3) == pytest.approx([1.0, 0.95, 0.9025])  # default gamma 0.95


@pytest.mark.parametrize("name", ["step", "exponential"])
def test_a_gamma_that_grows_the_lr_past_the_largest_float_gives_inf(name):
    """gamma 1e308: 1e308 ** 2 raised OverflowError (an internal error at the third epoch)."""
    got = lrs(name, 0.5, 3, gamma=1e308, **({"step_size": 1} if name == "step" else {}))
    assert got[:2] == [0.5, 0.5e308] and got[2] == math.inf


def test_cosine_without_warmup():
    # T = 4 epochs, k = 0..3: min + (lr - min) (1 + cos(pi k / 4)) / 2 with lr 0.1, min 0.02
    got = lrs("cosine", 0.1, 4, min_lr=0.02)
    c = math.cos(math.pi / 4)  # sqrt(2) / 2
    want = [
        0.1,  # k = 0: the full rate in the first epoch
        0.02 + 0.08 * (1 + c) / 2,
        0.02 + 0.08 * 0.5,  # k = 2: halfway, cos(pi/2) = 0
        0.02 + 0.08 * (1 - c) / 2,  # the last epoch, just above min_lr (PyTorch's CosineAnnealingLR)
    ]
    assert got == pytest.approx(want)
    assert got[2] == pytest.approx(0.06)
    assert all(a > b for a, b in zip(got, got[1:]))
    assert got[-1] > 0.02
    # min_lr defaults to 0
    assert lrs("cosine", 1.0, 2) == pytest.approx([1.0, 0.5])


def test_cosine_with_warmup():
    # warm-up 2 of 6 epochs: lr * 1/2, lr * 2/2, then the cosine over T = 4 epochs
    got = lrs("cosine", 0.4, 6, warmup=2)
    c = math.cos(math.pi / 4)
    want = [0.2, 0.4, 0.4, 0.2 * (1 + c), 0.2, 0.2 * (1 - c)]
    assert got == pytest.approx(want)
    # every warm-up epoch: lr * epoch / warmup, rising linearly
    assert lrs("cosine", 1.0, 10, warmup=4)[:4] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    # warm-up as long as the run: the lr only rises
    assert lrs("cosine", 1.0, 3, warmup=3) == pytest.approx([1 / 3, 2 / 3, 1.0])


def test_invscaling_divides_by_the_rows_seen_to_the_power_t():
    """lr / (t + 1) ^ power_t with t = (epoch - 1) * n_train: the first epoch at lr, then the
    rate for the rows of the epochs before."""
    got = lrs("invscaling", 0.1, 4, n_train=100, power_t=0.5)
    assert got == pytest.approx([0.1, 0.1 / math.sqrt(101), 0.1 / math.sqrt(201), 0.1 / math.sqrt(301)])
    assert lrs("invscaling", 0.1, 4, n_train=100) == got  # power_t defaults to 0.5, as scikit-learn's
    assert lrs("invscaling", 1.0, 3, n_train=15, power_t=0.25) == pytest.approx([1.0, 16**-0.25, 31**-0.25])
    assert lrs("invscaling", 0.3, 3, n_train=50, power_t=0) == [0.3, 0.3, 0.3]
    # a power_t that takes (t + 1) ^ power_t past the largest float: lr 0, not an OverflowError
    assert lrs("invscaling", 0.1, 2, n_train=1000, power_t=1e6) == [0.1, 0.0]


def test_invscaling_is_scikit_learns_sgd_optimizer():
    """scikit-learn's SGDOptimizer(lr_schedule='invscaling') told iteration_ends(t_) after each
    epoch, with t_ grown by the epoch's rows: the learning rate each epoch trains with."""
    pytest.importorskip("sklearn")
    from sklearn.neural_network._stochastic_optimizers import SGDOptimizer

    for lr, power_t, n in [(0.1, 0.5, 1212), (0.01, 0.25, 7), (0.5, 1.0, 1)]:
        opt = SGDOptimizer([np.zeros(1)], learning_rate_init=lr, lr_schedule="invscaling", power_t=power_t)
        want, t = [], 0
        for _ in range(30):
            want.append(opt.learning_rate)
            t += n  # MLP's _fit_stochastic: self.t_ += n_samples, then iteration_ends(self.t_)
            opt.iteration_ends(t)
        assert lrs("invscaling", lr, 30, n_train=n, power_t=power_t) == want


def test_invscalings_t_is_the_rows_scikit_learns_mlp_has_seen():
    """The t above is MLPClassifier's t_: the training rows (after its early-stopping hold-out)
    times the epochs, and the rate its optimizer is left with is the one of the next epoch."""
    pytest.importorskip("sklearn")
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)), rng.integers(0, 2, size=60)
    for early_stopping, n_train in [(False, 60), (True, 54)]:
        clf = MLPClassifier(
            (4,),
            solver="sgd",
            learning_rate="invscaling",
            learning_rate_init=0.2,
            power_t=0.3,
            max_iter=3,
            early_stopping=early_stopping,
            n_iter_no_change=100,
            random_state=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        assert clf.n_iter_ == 3 and clf.t_ == 3 * n_train
        assert clf._optimizer.learning_rate == lrs("invscaling", 0.2, 4, n_train=n_train, power_t=0.3)[3]


@pytest.mark.parametrize(
    "setting, message",
    [
        ("{name: invscaling, power_t: -0.5}", "training.schedule.power_t: -0.5 is not a number >= 0"),
        ("{name: invscaling, power: 0.5}", "did you mean 'power_t'?"),
        ("invscale", "did you mean 'invscaling'?"),
    ],
)
def test_invscaling_config_errors(setting, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(CONFIGS / "digits.yaml", [f"training.schedule={setting}"])


def test_invscaling_resolves_with_its_default_power_t():
    cfg = load_config(CONFIGS / "digits.yaml", ["training.schedule=invscaling"])
    assert (cfg.training.schedule, cfg.training.schedule_params) == ("invscaling", {"power_t": 0.5})


def observe_all(s, key, values):
    out = []
    for v in values:
        s.observe({key: v})
        out.append(s.lr_at(0))
    return out


def test_plateau_reduces_after_patience_and_stops_at_min_lr():
    s = get_schedule("plateau", 0.1, 100, factor=0.5, patience=2, min_lr=0.02, threshold=0.0)
    assert s.lr_at(1) == 0.1
    # 1.0, 0.9 improve; then three epochs without improvement: patience 2 means the third reduces
    values = [1.0, 0.9, 0.95, 0.95, 0.95]
    assert observe_all(s, "val_loss", values) == pytest.approx([0.1, 0.1, 0.1, 0.1, 0.05])
    # the count restarts after a reduction: three more bad epochs, 0.05 -> 0.025
    assert observe_all(s, "val_loss", [0.95, 0.95, 0.95]) == pytest.approx([0.05, 0.05, 0.025])
    # an improvement resets the count
    assert observe_all(s, "val_loss", [0.95, 0.95, 0.8, 0.85, 0.85]) == pytest.approx([0.025] * 5)
    # 0.025 * 0.5 = 0.0125 is below min_lr: 0.02, and there it stays
    assert observe_all(s, "val_loss", [0.85]) == pytest.approx([0.02])
    assert observe_all(s, "val_loss", [0.9] * 6) == pytest.approx([0.02] * 6)


def test_plateau_defaults_are_reduce_lr_on_plateaus():
    """Without parameters: factor 0.1, patience 10, a relative threshold of 1e-4 and no min_lr, as
    PyTorch's ReduceLROnPlateau and the README's table say."""
    s = get_schedule("plateau", 1.0, 100)
    # 1.0, then eleven values better by only half the threshold: the eleventh waits more than 10
    stalled = 1.0 - 0.5e-4
    assert observe_all(s, "loss", [1.0] + [stalled] * 11) == pytest.approx([1.0] * 11 + [0.1])
    # better by twice the threshold: an improvement, the count restarts
    assert observe_all(s, "loss", [1.0 - 2e-4] + [1.0] * 10) == pytest.approx([0.1] * 11)
    assert observe_all(s, "loss", [1.0] * 11) == pytest.approx([0.01] * 11)
    # no floor: the cuts go on below 1e-3
    assert observe_all(s, "loss", [1.0] * 22)[-1] == pytest.approx(1e-4)


def test_plateau_threshold_is_relative():
    s = get_schedule("plateau", 1.0, 10, factor=0.1, patience=0, threshold=0.1)
    # best 1.0: 0.95 is within 10% of it, not an improvement; patience 0 reduces at once
    assert observe_all(s, "loss", [1.0, 0.95]) == pytest.approx([1.0, 0.1])
    # best is still 1.0; 0.89 < 1.0 * (1 - 0.1) improves
    assert observe_all(s, "loss", [0.89]) == pytest.approx([0.1])
    assert s.best == 0.89


def test_plateau_threshold_is_relative_to_the_size_of_a_negative_best():
    """val_r2 below 0: -0.95 after -1.0 is an improvement of 5% of |best|, more than 1%; -0.999
    is not (PyTorch's best * (1 + threshold) would count -0.999 and even -1.005)."""
    s = get_schedule("plateau", 1.0, 10, factor=0.5, patience=0, threshold=0.01, monitor="val_r2")
    assert observe_all(s, "val_r2", [-1.0, -0.95]) == [1.0, 1.0]
    assert observe_all(s, "val_r2", [-0.949, -1.0]) == [0.5, 0.25]


def test_plateau_skips_reductions_below_1e_8():
    """As ReduceLROnPlateau (eps=1e-8): an lr of 1e-8 is not cut to 1e-9 (a change of 9e-9)."""
    s = get_schedule("plateau", 1e-6, 10, factor=0.1, patience=0, threshold=0.0)
    lrs = observe_all(s, "loss", [1.0] * 6)
    assert lrs == pytest.approx([1e-6, 1e-7, 1e-8, 1e-8, 1e-8, 1e-8], rel=1e-12)


def test_plateau_monitor():
    # auto: val_loss when the record has it, else loss
    s = get_schedule("plateau", 1.0, 10, factor=0.5, patience=0, threshold=0.0)
    s.observe({"loss": 1.0, "val_loss": 1.0})
    s.observe({"loss": 0.5, "val_loss": 2.0})  # loss improved, val_loss did not
    assert s.lr_at(3) == 0.5
    s = get_schedule("plateau", 1.0, 10, factor=0.5, patience=0, threshold=0.0)
    s.observe({"loss": 1.0})
    s.observe({"loss": 0.5})
    assert s.lr_at(3) == 1.0
    # accuracy: higher is better
    s = get_schedule("plateau", 1.0, 10, factor=0.5, patience=0, threshold=0.0, monitor="val_accuracy")
    observe_all(s, "val_accuracy", [0.5, 0.6, 0.7])
    assert s.lr_at(4) == 1.0
    observe_all(s, "val_accuracy", [0.65])
    assert s.lr_at(5) == 0.5


def test_plateau_state_round_trip():
    params = {"factor": 0.5, "patience": 1, "threshold": 0.0}
    a = get_schedule("plateau", 0.1, 20, **params)
    observe_all(a, "val_loss", [1.0, 1.1, 1.2, 0.9, 1.0])
    b = get_schedule("plateau", 0.1, 20, **params)
    b.load_state(json.loads(json.dumps(a.state_dict())))
    rest = [1.0, 0.95, 0.99, 0.99, 0.5, 0.6, 0.6]
    assert observe_all(b, "val_loss", rest) == observe_all(a, "val_loss", rest)
    assert (b.lr, b.best, b.wait) == (a.lr, a.best, a.wait)


def test_plateau_threshold_mode_abs_compares_against_best_minus_threshold():
    """threshold_mode abs (PyTorch's 'abs', Keras's min_delta): better by more than threshold
    itself, whatever the size of best; rel would scale it by |best|."""
    s = get_schedule("plateau", 1.0, 10, factor=0.5, patience=0, threshold=0.1, threshold_mode="abs")
    # best 10.0: 9.95 is better by 0.05 < 0.1 (rel would ask for 10 * 0.1 = 1.0 either way)
    assert observe_all(s, "loss", [10.0, 9.95]) == [1.0, 0.5]
    # 9.85 is better by 0.15 > 0.1: an improvement (rel: not, 9.85 > 9.0)
    assert observe_all(s, "loss", [9.85]) == [0.5] and s.best == 9.85
    # higher is better for an accuracy: 0.5 -> 0.55 is more than 0.1 * 0.5 but not more than 0.1
    acc = {"monitor": "val_accuracy", "factor": 0.5, "patience": 0, "threshold": 0.1}
    s = get_schedule("plateau", 1.0, 10, threshold_mode="abs", **acc)
    assert observe_all(s, "val_accuracy", [0.5, 0.55, 0.61]) == [1.0, 0.5, 0.5]
    rel = get_schedule("plateau", 1.0, 10, **acc)
    assert observe_all(rel, "val_accuracy", [0.5, 0.56]) == [1.0, 1.0]  # 0.56 > 0.5 * 1.1


def test_plateau_cooldown_leaves_epochs_uncounted_after_a_cut():
    """cooldown 2, patience 0: after a cut, the next 2 epochs are not counted even when they
    bring no improvement; the third is, and cuts again. An improvement inside the cooldown
    still moves best."""
    s = get_schedule("plateau", 1.0, 20, factor=0.5, patience=0, threshold=0.0, cooldown=2)
    assert observe_all(s, "loss", [1.0, 1.0]) == [1.0, 0.5]  # a cut; the cooldown starts
    assert observe_all(s, "loss", [1.0, 1.0]) == [0.5, 0.5]  # two epochs not counted
    assert observe_all(s, "loss", [1.0]) == [0.25]  # counted again: patience 0 cuts at once
    assert observe_all(s, "loss", [0.5, 0.9]) == [0.25, 0.25]  # in the cooldown: best is 0.5 now
    assert s.best == 0.5
    assert observe_all(s, "loss", [0.6]) == [0.125]  # 0.6 is no better than 0.5
    # with cooldown 0 (the default) the same values cut at every bad epoch
    s = get_schedule("plateau", 1.0, 20, factor=0.5, patience=0, threshold=0.0)
    assert observe_all(s, "loss", [1.0, 1.0, 1.0, 1.0]) == [1.0, 0.5, 0.25, 0.125]


def test_plateau_with_patience_counts_from_the_end_of_the_cooldown():
    """patience 1, cooldown 1: a cut, one epoch not counted, then two bad epochs to the next."""
    s = get_schedule("plateau", 1.0, 20, factor=0.5, patience=1, threshold=0.0, cooldown=1)
    assert observe_all(s, "loss", [1.0, 1.0, 1.0]) == [1.0, 1.0, 0.5]
    assert observe_all(s, "loss", [1.0, 1.0, 1.0]) == [0.5, 0.5, 0.25]


def test_plateau_state_round_trip_in_a_cooldown():
    params = {"factor": 0.5, "patience": 0, "threshold": 0.0, "cooldown": 3}
    a = get_schedule("plateau", 0.1, 20, **params)
    observe_all(a, "loss", [1.0, 1.0, 1.0])  # a cut, then one of the 3 cooldown epochs
    assert a.cooldown_left == 2
    b = get_schedule("plateau", 0.1, 20, **params)
    b.load_state(json.loads(json.dumps(a.state_dict())))
    rest = [1.0, 1.0, 1.0, 1.0]
    assert observe_all(b, "loss", rest) == observe_all(a, "loss", rest)
    # a checkpoint of a nettrain before cooldown: no cooldown left
    c = get_schedule("plateau", 0.1, 20, **params)
    c.load_state({"lr": 0.1, "best": 1.0, "wait": 0})
    assert c.cooldown_left == 0


def monitor_sequences():
    """Falling, positive monitored values with plateaus, small and large steps, as a loss runs
    (positive: for a negative best, rel differs from PyTorch's on purpose)."""
    rng = np.random.default_rng(11)
    out = []
    for _ in range(12):
        steps = rng.choice([1.0, 1.0, 0.999, 0.98, 0.8, 1.05], size=40)
        out.append(list(np.cumprod(steps)))
    return out


def keras_reduce_lr_on_plateau(values, lr, factor, patience, min_delta, cooldown, min_lr=0.0, better="min"):
    """Keras 3's ReduceLROnPlateau.on_epoch_end, transcribed (keras/src/callbacks/
    reduce_lr_on_plateau.py): the lr each epoch trained with."""
    op = (lambda a, b: a < b - min_delta) if better == "min" else (lambda a, b: a > b + min_delta)
    best, wait, counter, out = (math.inf if better == "min" else -math.inf), 0, 0, []
    for current in values:
        out.append(lr)
        if counter > 0:
            counter -= 1
            wait = 0
        if op(current, best):
            best, wait = current, 0
        elif not counter > 0:
            wait += 1
            if wait >= patience and lr > min_lr:
                lr = max(lr * factor, min_lr)
                counter, wait = cooldown, 0
    return out


@pytest.mark.parametrize("cooldown", [0, 1, 2, 4])
@pytest.mark.parametrize("patience", [0, 1, 3])
@pytest.mark.parametrize("mode", ["rel", "abs"])
@pytest.mark.parametrize("monitor", ["loss", "val_accuracy"])
def test_plateau_is_torchs_reduce_lr_on_plateau(monitor, mode, patience, cooldown):
    """The same monitored values through torch.optim.lr_scheduler.ReduceLROnPlateau (mode min
    for a loss, max for an accuracy) and through nettrain's plateau: the same lr every epoch."""
    torch = pytest.importorskip("torch")
    threshold = 0.01 if mode == "abs" else 0.005
    params = {"factor": 0.5, "patience": patience, "threshold": threshold}
    params |= {"threshold_mode": mode, "cooldown": cooldown, "monitor": monitor, "min_lr": 1e-3}
    cuts = 0
    for values in monitor_sequences():
        if monitor == "val_accuracy":
            values = [1 / v for v in values]  # rising where a loss falls
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
        ref = torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt,
            mode="max" if monitor == "val_accuracy" else "min",
            factor=0.5,
            patience=patience,
            threshold=threshold,
            threshold_mode=mode,
            cooldown=cooldown,
            min_lr=1e-3,
        )
        want = []
        for v in values:
            want.append(opt.param_groups[0]["lr"])
            ref.step(v)
        s = get_schedule("plateau", 0.1, len(values), **params)
        assert observe_all(s, monitor, values)[:-1] == want[1:]
        cuts += len(set(want)) - 1
    assert cuts > 12  # the sequences did make it cut, often


@pytest.mark.parametrize("cooldown", [0, 1, 2, 4])
@pytest.mark.parametrize("patience", [1, 2, 4])
@pytest.mark.parametrize("better", ["min", "max"])
def test_plateau_abs_translates_kerass_reduce_lr_on_plateau(better, patience, cooldown):
    """Keras's ReduceLROnPlateau(patience=p, min_delta=d, cooldown=c) is plateau with patience
    p - 1, threshold_mode abs, threshold d and cooldown max(c - 1, 0), as README's table says:
    Keras counts an epoch bad before its cut, and its cooldown's last epoch counts already."""
    monitor = "loss" if better == "min" else "val_accuracy"
    d = 0.01
    for values in monitor_sequences():
        if better == "max":
            values = [1 / v for v in values]
        want = keras_reduce_lr_on_plateau(values, 0.1, 0.5, patience, d, cooldown, min_lr=1e-3, better=better)
        s = get_schedule(
            "plateau",
            0.1,
            len(values),
            factor=0.5,
            patience=patience - 1,
            threshold=d,
            threshold_mode="abs",
            cooldown=max(cooldown - 1, 0),
            monitor=monitor,
            min_lr=1e-3,
        )
        assert [0.1, *observe_all(s, monitor, values)[:-1]] == pytest.approx(want, rel=1e-15)


@pytest.mark.parametrize("name", sorted(set(SCHEDULES) - {"plateau"}))
def test_stateless_schedules_round_trip_too(name):
    a = get_schedule(name, 0.1, 10)
    b = get_schedule(name, 0.1, 10)
    b.load_state(json.loads(json.dumps(a.state_dict())))
    assert [a.lr_at(e) for e in range(1, 11)] == [b.lr_at(e) for e in range(1, 11)]


# -- through fit ------------------------------------------------------------------------------------


def digits(tmp_path, *overrides):
    return load_config(CONFIGS / "digits.yaml", [f"output={tmp_path / 'run'}", *overrides])


def test_fit_records_the_lr_of_the_schedule(tmp_path):
    cfg = digits(tmp_path, "training.epochs=5", "training.schedule={name: step, step_size: 2, gamma: 0.5}")
    result = fit(cfg)
    want = [0.1, 0.1, 0.05, 0.05, 0.025]
    assert [r["lr"] for r in result.history] == pytest.approx(want)
    lines = (tmp_path / "run" / "history.jsonl").read_text().splitlines()
    assert [json.loads(line)["lr"] for line in lines] == pytest.approx(want)


def test_fit_with_invscaling_counts_the_training_rows(tmp_path):
    """t counts the rows fit trains on: data.validation's hold-out is not among them."""
    cfg = digits(tmp_path, "training.epochs=4", "training.schedule={name: invscaling, power_t: 0.5}")
    events = []
    result = fit(cfg, lambda kind, info: events.append((kind, info)), save=False)
    n = next(info["n_train"] for kind, info in events if kind == "start")
    assert 0 < n < 1347  # digits_train.csv's rows less the validation tenth
    want = [0.1 / math.sqrt((e - 1) * n + 1) for e in range(1, 5)]
    assert [r["lr"] for r in result.history] == pytest.approx(want, rel=1e-12)


def test_fit_with_cosine_warmup_records_each_epochs_lr(tmp_path):
    cfg = digits(tmp_path, "training.epochs=5", "training.schedule={name: cosine, warmup: 1, min_lr: 0.01}")
    result = fit(cfg, save=False)
    # warm-up epoch 1: 0.1 * 1/1; then T = 4: 0.01 + 0.09 (1 + cos(pi k / 4)) / 2, k = 0..3
    c = math.cos(math.pi / 4)
    want = [0.1, 0.1, 0.01 + 0.045 * (1 + c), 0.055, 0.01 + 0.045 * (1 - c)]
    assert [r["lr"] for r in result.history] == pytest.approx(want)


def test_fit_plateau_reduces_when_val_loss_stalls(tmp_path):
    # lr 0.1 plain sgd overfits digits quickly: val_loss stops improving within a few epochs
    cfg = digits(
        tmp_path,
        "training.epochs=25",
        "training.schedule={name: plateau, factor: 0.5, patience: 1, threshold: 0}",
    )
    history = fit(cfg, save=False).history
    # replay the rule over the recorded val_loss: the lr of each epoch is the one it predicts
    lr, best, wait, want = 0.1, None, 0, []
    for r in history:
        want.append(lr)
        if best is None or r["val_loss"] < best:
            best, wait = r["val_loss"], 0
        else:
            wait += 1
            if wait > 1:
                lr, wait = lr * 0.5, 0
    assert [r["lr"] for r in history] == pytest.approx(want)
    assert history[-1]["lr"] < 0.1  # it did reduce


def test_progress_lines_show_the_lr(tmp_path):
    result = CliRunner().invoke(
        app,
        [
            "fit",
            str(CONFIGS / "digits.yaml"),
            "-o",
            str(tmp_path / "run"),
            "--set",
            "training.epochs=4",
            "--set",
            "training.schedule={name: exponential, gamma: 0.5}",
        ],
    )
    assert result.exit_code == 0, result.stderr
    epoch_lines = [line for line in result.stderr.splitlines() if line.startswith("epoch ")]
    assert len(epoch_lines) == 4
    # 0.1 * 0.5^(epoch - 1), shown with 3 significant digits
    for line, lr in zip(epoch_lines, ["0.1", "0.05", "0.025", "0.0125"]):
        assert f"  lr {lr}  " in line, line
    assert result.stdout == ""
