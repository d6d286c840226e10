"""Early stopping on a deliberately over-long run: it stops, keeps the best epoch's weights (bit
for bit those of a run that ends at that epoch), says so, and refuses monitors it cannot watch."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nettrain import ConfigError, fit, load_config, load_model
from nettrain.cli import app
from tests.conftest import CONFIGS
from tests.helpers import CliRunner

EPOCHS = 200
PATIENCE = 5


def digits(tmp_path, *overrides, name="run"):
    return load_config(CONFIGS / "digits.yaml", [f"output={tmp_path / name}", *overrides])


def weights(net):
    return [*net.W, *net.b]


def same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(weights(a), weights(b), strict=True))


def replay(values, patience, min_delta=0.0, higher=False):
    """The rule by hand: (best epoch, stop epoch or None) over one value per epoch."""
    best, best_epoch, wait = None, 0, 0
    for epoch, v in enumerate(values, start=1):
        better = best is None or (v > best + min_delta if higher else v < best - min_delta)
        if better:
            best, best_epoch, wait = v, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return best_epoch, epoch
    return best_epoch, None


@pytest.fixture(scope="module")
def stopped(tmp_path_factory):
    """digits.yaml for 200 epochs with early stopping on val_loss, patience 5."""
    tmp = tmp_path_factory.mktemp("early")
    cfg = digits(tmp, f"training.epochs={EPOCHS}", f"training.early_stopping={{patience: {PATIENCE}}}")
    return tmp, fit(cfg)


def test_it_stops_before_the_end_and_keeps_the_best_epoch(stopped):
    _, result = stopped
    history, s = result.history, result.summary
    last = len(history)
    assert last < EPOCHS
    assert s["stopped_early"] is True
    assert s["monitor"] == "val_loss"
    # the best epoch is the lowest val_loss so far; the run stopped PATIENCE epochs later
    losses = [r["val_loss"] for r in history]
    assert s["best_epoch"] == losses.index(min(losses)) + 1
    assert last == s["best_epoch"] + PATIENCE
    assert replay(losses, PATIENCE) == (s["best_epoch"], last)
    assert s["kept_epoch"] == s["best_epoch"] < last
    assert s["best"] == min(losses) == s["val_loss"]
    assert s["epochs"] == last
    # every figure of the summary is the kept epoch's, as the weights are (not the last one's)
    assert s["loss"] == history[s["kept_epoch"] - 1]["loss"] != history[-1]["loss"]


def test_the_model_has_the_best_epochs_weights_bit_for_bit(stopped, tmp_path):
    tmp, result = stopped
    best = result.summary["best_epoch"]
    # the same seed and trajectory, stopped by epochs at the best epoch, without early stopping
    short = fit(digits(tmp_path, f"training.epochs={best}"), save=False)
    assert same(result.model.network, short.model.network)
    # and so is the saved model file, whose test score is that of the best epoch
    saved = load_model(tmp / "run" / "model.npz")
    assert same(saved.network, short.model.network)
    assert result.summary["test_accuracy"] == short.summary["test_accuracy"]
    assert saved.meta["training"]["kept_epoch"] == best


def test_restore_best_false_keeps_the_last_epoch(stopped, tmp_path):
    _, first = stopped
    result = fit(
        digits(
            tmp_path,
            f"training.epochs={EPOCHS}",
            f"training.early_stopping={{patience: {PATIENCE}, restore_best: false}}",
        ),
        save=False,
    )
    last = len(result.history)
    assert last == len(first.history)  # restoring does not change when it stops
    s = result.summary
    assert s["stopped_early"] and s["kept_epoch"] == last and s["best_epoch"] == first.summary["best_epoch"]
    short = fit(digits(tmp_path, f"training.epochs={last}"), save=False)
    assert same(result.model.network, short.model.network)
    assert not same(result.model.network, first.model.network)


def test_monitor_val_accuracy_higher_is_better(tmp_path):
    cfg = digits(
        tmp_path,
        f"training.epochs={EPOCHS}",
        "training.early_stopping={monitor: val_accuracy, patience: 4}",
    )
    result = fit(cfg, save=False)
    acc = [r["val_accuracy"] for r in result.history]
    s = result.summary
    assert s["stopped_early"] and len(acc) < EPOCHS
    # the first epoch reaching the highest accuracy (a tie is no improvement)
    assert s["best_epoch"] == acc.index(max(acc)) + 1 == s["kept_epoch"]
    assert replay(acc, 4, higher=True) == (s["best_epoch"], len(acc))
    assert s["val_accuracy"] == max(acc)


def test_monitor_val_r2_higher_is_better(tmp_path):
    cfg = load_config(
        CONFIGS / "regression.yaml",
        [
            f"output={tmp_path / 'run'}",
            "training.epochs=15",
            "training.early_stopping={monitor: val_r2, patience: 2}",
        ],
    )
    result = fit(cfg, save=False)
    r2 = [r["val_r2"] for r in result.history]
    best_epoch, stop = replay(r2, 2, higher=True)
    s = result.summary
    assert (s["best_epoch"], len(r2)) == (best_epoch, stop or 15)
    assert s["val_r2"] == max(r2) == r2[best_epoch - 1]
    assert best_epoch > 1  # R^2 rose after the first epoch: lower-is-better would keep epoch 1


def test_min_delta(tmp_path):
    cfg = digits(
        tmp_path, f"training.epochs={EPOCHS}", "training.early_stopping={patience: 3, min_delta: 0.01}"
    )
    result = fit(cfg, save=False)
    losses = [r["val_loss"] for r in result.history]
    best_epoch, stop = replay(losses, 3, min_delta=0.01)
    assert (result.summary["best_epoch"], len(losses)) == (best_epoch, stop)
    # min_delta mattered here: without it the same values give another best epoch or stop
    assert replay(losses, 3) != (best_epoch, stop)
    assert min(losses) < losses[best_epoch - 1]  # a lower val_loss, but by less than 0.01


def test_monitor_loss_needs_no_validation(tmp_path):
    cfg = digits(
        tmp_path,
        "data.validation=0",
        "training.epochs=8",
        "training.early_stopping={monitor: loss, patience: 2}",
    )
    result = fit(cfg, save=False)
    assert result.summary["monitor"] == "loss" and "val_loss" not in result.history[0]


def test_val_loss_without_validation_data_is_a_config_error(tmp_path):
    cfg = digits(tmp_path, "data.validation=0", "training.early_stopping=true")
    with pytest.raises(ConfigError, match="validation"):
        fit(cfg, save=False)
    result = CliRunner().invoke(
        app,
        [
            "fit",
            str(CONFIGS / "digits.yaml"),
            "-o",
            str(tmp_path / "cli"),
            "--set",
            "data.validation=0",
            "--set",
            "training.early_stopping={monitor: val_accuracy}",
        ],
    )
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "val_accuracy" in errors[0] and "data.validation" in errors[0]
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not (tmp_path / "cli").exists()


def test_a_monitor_the_run_does_not_measure_is_a_config_error(tmp_path):
    # val_r2 is a regression metric; digits is classification
    cfg = digits(tmp_path, "training.epochs=3", "training.early_stopping={monitor: val_r2}")
    with pytest.raises(ConfigError, match="val_r2"):
        fit(cfg, save=False)


def test_every_unmeasured_monitor_is_reported_at_once_with_file_and_line(tmp_path):
    """Early stopping and a plateau schedule both watching figures a run without validation does
    not measure: both named, each with the config file's line, as the loader's own errors (only
    the first was, with neither file nor line)."""
    data = CONFIGS.parent / "data" / "xor.csv"
    text = (
        f"data: {{train: {data}, target: label}}\nnetwork: {{layers: [2, 4, 1]}}\n"
        "cost: binary_cross_entropy\ntraining:\n  epochs: 3\n"
        "  early_stopping: true\n  schedule: {name: plateau, monitor: val_accuracy}\n"
    )
    path = tmp_path / "watch.yaml"
    path.write_text(text)
    at = {"es": 6, "sched": 7}
    cfg = load_config(path, [f"output={tmp_path / 'run'}"])
    with pytest.raises(ConfigError) as info:
        fit(cfg, save=False)
    assert info.value.problems == [
        f"{path}:{at['es']}: training.early_stopping.monitor: val_loss needs validation data: "
        "set data.validation (a fraction or a file), or monitor: loss",
        f"{path}:{at['sched']}: training.schedule.monitor: val_accuracy needs validation data: "
        "set data.validation (a fraction or a file), or monitor: loss",
    ]
    # with validation, a figure of the other task: blamed on the --set that gave it
    cfg = load_config(path, ["data.validation=0.5", "training.early_stopping={monitor: val_r2}"])
    with pytest.raises(ConfigError) as info:
        fit(cfg, save=False)
    assert info.value.problems == [
        "--set training.early_stopping={monitor: val_r2}: training.early_stopping.monitor: val_r2 is not "
        "measured in this classification run; it measures: loss, val_loss, val_accuracy"
    ]
    result = CliRunner().invoke(app, ["fit", str(path), "--dry-run"])
    assert result.exit_code == 2 and result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: 2 problems in the config:\n")
    assert f"{path}:{at['sched']}: training.schedule.monitor" in result.stderr


def test_progress_says_when_and_why_it_stopped_and_which_epoch_it_kept(stopped, tmp_path):
    _, first = stopped
    best, last = first.summary["best_epoch"], len(first.history)
    args = [
        "fit",
        str(CONFIGS / "digits.yaml"),
        "-o",
        str(tmp_path / "cli"),
        "--set",
        f"training.epochs={EPOCHS}",
        "--set",
        f"training.early_stopping={{patience: {PATIENCE}}}",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    err = result.stderr
    assert (
        f"early stopping: val_loss did not improve for {PATIENCE} epochs; stopped after epoch {last}, "
        f"kept the weights of epoch {best} (val_loss "
    ) in err
    assert f"done: {last} epochs" in err and f"(stopped early, kept epoch {best})" in err
    # the JSON summary says the same
    result = CliRunner().invoke(app, [*args, "--json", "-o", str(tmp_path / "json")])
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["event"] == "summary"
    assert (summary["stopped_early"], summary["best_epoch"], summary["kept_epoch"]) == (True, best, best)


def test_a_run_that_reaches_its_last_epoch_keeps_the_best_epoch_and_the_done_line_says_so(tmp_path):
    """restore_best restores also when patience never runs out (Keras restores only on an early
    stop): the model and the summary's figures are the best epoch's, so the done line, which
    prints those figures, names that epoch instead of passing them off as the last one's."""
    sets = ["training.epochs=12", "training.learning_rate=0.5", "training.early_stopping={patience: 50}"]
    args = ["fit", str(CONFIGS / "digits.yaml"), "-o", str(tmp_path / "run")]
    result = CliRunner().invoke(app, [*args, *(a for s in sets for a in ("--set", s))])
    assert result.exit_code == 0, result.stderr
    history = [json.loads(line) for line in (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
    losses = [r["val_loss"] for r in history]
    best = losses.index(min(losses)) + 1
    assert len(history) == 12 and best < 12  # (lr 0.5 overfits: the best epoch is an early one)
    done = [line for line in result.stderr.splitlines() if line.startswith("done:")]
    assert done and done[0].startswith("done: 12 epochs in ")
    assert f"(kept epoch {best}, the best val_loss)" in done[0] and "stopped early" not in done[0]
    assert f"loss {history[best - 1]['loss']:.6g} " in done[0]
    saved = load_model(tmp_path / "run" / "model.npz")
    s = saved.meta["training"]
    assert (s["stopped_early"], s["best_epoch"], s["kept_epoch"], s["epochs"]) == (False, best, best, 12)
    short = fit(digits(tmp_path, *sets[:2], f"training.epochs={best}"), save=False)
    assert same(saved.network, short.model.network)


def test_the_done_line_names_no_kept_epoch_when_it_is_the_last():
    from nettrain.report import summary_line

    s = {"epochs": 5, "loss": 0.1, "train_time_s": 1.0, "stopped_early": False, "kept_epoch": 5}
    line = summary_line({"summary": {**s, "best_epoch": 5, "monitor": "val_loss"}, "history": []})
    assert line.startswith("done: 5 epochs in 1.0s  loss 0.1")
    assert "kept" not in summary_line({"summary": {**s, "kept_epoch": None}, "history": []})
    plain = {"epochs": 5, "loss": 0.1, "train_time_s": 1.0}  # (no early stopping)
    assert "kept" not in summary_line({"summary": plain, "history": []})


def test_plain_progress_says_the_last_epoch_and_its_checkpoint_of_a_long_run():
    """Over 100 epochs the plain lines are 100 evenly spaced ones; an early stop (or an
    interrupt) at an epoch between them still gets its epoch line and its checkpoint line,
    before the stop is announced (the last line said was an epoch before the stop)."""
    import io

    from nettrain.report import PlainReporter

    err = io.StringIO()
    r = PlainReporter(err)
    r(
        "start",
        {
            "epochs": 300,
            "n_train": 10,
            "n_val": 2,
            "sizes": [2, 1],
            "params": 3,
            "batches": 1,
            "device": "cpu",
        },
    )
    record = {"loss": 0.5, "lr": 0.1, "samples_per_s": 1e3, "elapsed": 1.0, "eta": 2.0}
    for epoch in range(1, 42):
        r("epoch", {**record, "epoch": epoch})
        if epoch % 20 == 0 or epoch == 41:
            r("checkpoint", {"epoch": epoch, "path": f"run/checkpoint-{epoch}.npz"})
    r("early_stop", {"epoch": 41, "restored": 31, "monitor": "val_loss", "best": 0.25, "patience": 10})
    lines = err.getvalue().splitlines()
    said = [int(line.split()[1].split("/")[0]) for line in lines if line.startswith("epoch ")]
    assert said == [1, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39, 41]
    assert lines.index("checkpoint: run/checkpoint-41.npz") == len(lines) - 2
    assert "checkpoint: run/checkpoint-20.npz" not in lines  # (epoch 20 is not one of the 100)
    # an epoch that is said, then more that are not, then the end: only the last is added
    err2 = io.StringIO()
    r2 = PlainReporter(err2)
    r2(
        "start",
        {
            "epochs": 300,
            "n_train": 10,
            "n_val": 0,
            "sizes": [2, 1],
            "params": 3,
            "batches": 1,
            "device": "cpu",
        },
    )
    for epoch in (1, 2, 3, 4, 5):
        r2("epoch", {**record, "epoch": epoch})
    r2.close()
    assert [line.split()[1] for line in err2.getvalue().splitlines()[1:]] == ["1/300", "3/300", "5/300"]


def notices(config) -> list[str]:
    said: list[str] = []
    fit(config, lambda kind, info: said.append(info["message"]) if kind == "notice" else None, save=False)
    return said


def test_a_cosine_schedule_cut_short_by_early_stopping_says_it_runs_over_the_epochs(tmp_path):
    stop = ["training.early_stopping={patience: 2}", "training.learning_rate=0.1"]
    said = notices(digits(tmp_path, f"training.epochs={EPOCHS}", "training.schedule=cosine", *stop))
    cut = [m for m in said if "cosine schedule runs over training.epochs (200)" in m]
    assert len(cut) == 1 and "for a full decay" in cut[0], said
    # not for schedules that do not depend on training.epochs, nor for a run that ran them all
    step = "training.schedule={name: step, step_size: 3, gamma: 0.5}"
    assert not [
        m for m in notices(digits(tmp_path, f"training.epochs={EPOCHS}", step, *stop)) if "runs over" in m
    ]
    full = notices(digits(tmp_path, "training.epochs=4", "training.schedule=cosine", *stop))
    assert not [m for m in full if "runs over" in m]
