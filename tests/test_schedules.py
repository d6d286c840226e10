"""Learning-rate schedules: the lr of every epoch worked out by hand, plateau's reductions, state
that survives a checkpoint, and the lr that fit records (history, history.jsonl, progress lines)."""

from __future__ import annotations

import json
import math

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
