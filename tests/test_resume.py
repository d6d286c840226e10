"""Checkpoints and exact resume: checkpoint-N.npz every N epochs (atomic, the newest K kept, usable
as a model), resume bit-identical to an uninterrupted run (adam, cosine warm-up, dropout, early
stopping), the config hash, and Ctrl-C / SIGTERM on a real `python -m nettrain fit` process."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from nettrain import ConfigError, ModelFileError, fit, load_config, load_model
from nettrain.checkpoint import checkpoints_in, find_checkpoint, load_checkpoint
from nettrain.cli import app, resume_argv
from nettrain.errors import Interrupted
from tests.conftest import CONFIGS, DATA, ROOT
from tests.helpers import CliRunner, signal_when

# adam + cosine with warm-up + dropout + early stopping that never triggers: every piece of state
# a checkpoint has to carry (moments and step count, schedule, two generators, best weights)
FULL = [
    "training.optimizer=adam",
    "training.learning_rate=null",
    "training.schedule={name: cosine, warmup: 2}",
    "training.dropout=0.2",
    "training.early_stopping={patience: 100}",
]


def digits(folder, *overrides):
    return load_config(CONFIGS / "digits.yaml", [f"output={folder}", *overrides])


def arrays(net):
    return [*net.W, *net.b]


def same_weights(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(arrays(a), arrays(b), strict=True))


def trajectory(history):
    return [(r["epoch"], r["loss"], r["val_loss"], r["val_accuracy"], r["lr"]) for r in history]


def checkpoints(folder: Path) -> list[str]:
    return sorted((p.name for p in folder.glob("checkpoint-*.npz")), key=lambda n: int(n[11:-4]))


# -- checkpoint files --------------------------------------------------------------------------------


def test_checkpoint_every_n_epochs_keeping_the_newest_k(tmp_path):
    events = []
    cfg = digits(
        tmp_path / "run", "training.epochs=7", "training.checkpoint_every=2", "training.checkpoint_keep=2"
    )
    fit(cfg, lambda kind, info: events.append((kind, info)))
    run = tmp_path / "run"
    # written after epochs 2, 4, 6 and the last one, 7; only the newest two are left
    assert [info["epoch"] for kind, info in events if kind == "checkpoint"] == [2, 4, 6, 7]
    assert checkpoints(run) == ["checkpoint-6.npz", "checkpoint-7.npz"]
    assert not [p.name for p in run.iterdir() if p.name.startswith(".")]  # no temporary files left
    _, state, _, _ = load_checkpoint(run / "checkpoint-6.npz")
    assert state["epoch"] == 6 and len(state["history"]) == 6


def test_pruning_reads_back_no_checkpoint_the_run_wrote(tmp_path, monkeypatch):
    """A checkpoint's config hash and stamp, which pruning sorts and picks by, are known when it
    is written: none is read back (its document holds the history, which grows with the run:
    reading each new one back made a long run with checkpoint_every quadratic in its epochs),
    and what is remembered is what reading the file gives."""
    from nettrain import checkpoint

    read = []
    real = checkpoint.read_meta
    monkeypatch.setattr(checkpoint, "read_meta", lambda path: read.append(path) or real(path))
    cfg = digits(
        tmp_path / "run", "training.epochs=7", "training.checkpoint_every=2", "training.checkpoint_keep=2"
    )
    fit(cfg)
    assert read == []
    assert checkpoints(tmp_path / "run") == ["checkpoint-6.npz", "checkpoint-7.npz"]
    paths = sorted((tmp_path / "run").glob("checkpoint-*.npz"))
    remembered = [checkpoint._facts(path) for path in paths]
    assert read == [] and all(facts[0] is not None for facts in remembered)
    checkpoint._facts_seen.clear()
    assert [checkpoint._facts(path) for path in paths] == remembered
    assert read == paths


def test_a_checkpoint_is_written_atomically(tmp_path, monkeypatch):
    import nettrain.modelfile as modelfile

    real = modelfile.np.savez
    calls = []

    def failing_savez(f, **arrays):
        calls.append(1)
        if len(calls) == 2:  # the second checkpoint: half a file, then the disk is full
            f.write(b"PK\x03\x04 half a zip")
            raise OSError(28, "No space left on device")
        real(f, **arrays)

    monkeypatch.setattr(modelfile.np, "savez", failing_savez)
    cfg = digits(tmp_path / "run", "training.epochs=4", "training.checkpoint_every=1")
    events = []
    fit(cfg, lambda kind, info: events.append((kind, info)))  # a warning, and training goes on
    assert [(kind, info["epoch"]) for kind, info in events if kind in ("checkpoint", "warning")] == [
        ("checkpoint", 1), ("warning", 2), ("checkpoint", 3), ("checkpoint", 4)
    ]  # fmt: skip
    run = tmp_path / "run"
    # the first checkpoint is whole, the second never appeared, and no partial file is left
    assert checkpoints(run) == ["checkpoint-1.npz", "checkpoint-3.npz", "checkpoint-4.npz"]
    assert load_checkpoint(run / "checkpoint-1.npz")[1]["epoch"] == 1
    assert sorted(p.name for p in run.iterdir() if p.name.startswith(".")) == []


def test_a_checkpoint_is_a_model(tmp_path):
    cfg = digits(tmp_path / "run", "training.epochs=5", "training.checkpoint_every=3")
    fit(cfg)
    ckpt = tmp_path / "run" / "checkpoint-3.npz"
    # the weights of epoch 3: those of a run of 3 epochs
    three = fit(digits(tmp_path / "three", "training.epochs=3"))
    model = load_model(ckpt)
    assert same_weights(model.network, three.model.network)
    runner = CliRunner()
    test = str(DATA / "digits_test.csv")
    from_ckpt = runner.invoke(app, ["predict", str(ckpt), test])
    from_model = runner.invoke(app, ["predict", str(tmp_path / "three" / "model.npz"), test])
    assert from_ckpt.exit_code == 0, from_ckpt.stderr
    assert from_ckpt.stdout == from_model.stdout
    assert from_ckpt.stdout.splitlines()[0].startswith("prediction")
    assert len(from_ckpt.stdout.splitlines()) == 451  # a header and one line per test row


# -- resume, in process ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The FULL config for 8 epochs, checkpoints after 3, 6 and 8, all kept."""
    folder = tmp_path_factory.mktemp("resume") / "a"
    cfg = digits(
        folder, *FULL, "training.epochs=8", "training.checkpoint_every=3", "training.checkpoint_keep=5"
    )
    return cfg, fit(cfg), folder


@pytest.mark.parametrize("epoch", [3, 6])
def test_resume_from_a_checkpoint_is_bit_identical(uninterrupted, tmp_path, epoch):
    cfg, full, a = uninterrupted
    notes = []
    resumed = fit(
        digits(
            tmp_path / "b",
            *FULL,
            "training.epochs=8",
            "training.checkpoint_every=3",
            "training.checkpoint_keep=5",
        ),
        lambda kind, info: notes.append(info.get("message", "")) if kind == "notice" else None,
        resume=str(a / f"checkpoint-{epoch}.npz"),
    )
    assert any(f"after epoch {epoch}" in n for n in notes)
    assert trajectory(resumed.history) == trajectory(full.history)
    assert same_weights(resumed.model.network, full.model.network)
    assert resumed.summary["best_epoch"] == full.summary["best_epoch"]
    assert resumed.summary["test_accuracy"] == full.summary["test_accuracy"]
    # the last epoch's live state too (the model may hold the best epoch's weights)
    m_full, s_full, opt_full, best_full = load_checkpoint(a / "checkpoint-8.npz")
    m_res, s_res, opt_res, best_res = load_checkpoint(tmp_path / "b" / "checkpoint-8.npz")
    assert same_weights(m_res.network, m_full.network)
    assert len(opt_full) == 2 * 6 and all(
        np.array_equal(x, y) for x, y in zip(opt_res, opt_full, strict=True)
    )
    assert s_res["optimizer"]["t"] == s_full["optimizer"]["t"] == 8 * 38  # 1211 rows / 32: 38 steps
    assert s_res["shuffle_rng"] == s_full["shuffle_rng"] and s_res["dropout_rng"] == s_full["dropout_rng"]
    assert all(
        np.array_equal(x, y) for x, y in zip([*best_res[0], *best_res[1]], [*best_full[0], *best_full[1]])
    )


def test_resume_after_the_best_epoch_keeps_plateau_and_early_stopping_state(tmp_path):
    # plain sgd at 0.1 overfits digits: val_loss is lowest before epoch 10, then rises, so a
    # checkpoint of epoch 12 comes after the best epoch and after plateau reduced the lr
    sets = [
        "training.epochs=40",
        "training.schedule={name: plateau, factor: 0.5, patience: 1, threshold: 0}",
        "training.early_stopping={patience: 10}",
        "training.checkpoint_every=2",
        "training.checkpoint_keep=30",
    ]
    full = fit(digits(tmp_path / "a", *sets))
    s = full.summary
    assert s["stopped_early"] and s["best_epoch"] < 12 < len(full.history)
    assert full.history[11]["lr"] < 0.1  # plateau had reduced it by epoch 12
    resumed = fit(digits(tmp_path / "b", *sets), resume=str(tmp_path / "a" / "checkpoint-12.npz"))
    assert trajectory(resumed.history) == trajectory(full.history)
    assert resumed.summary["best_epoch"] == s["best_epoch"]
    assert same_weights(resumed.model.network, full.model.network)


def stop_after(steps: int, name: str = "SIGINT"):
    """A `stop` callable that asks to stop after the given number of optimizer steps."""
    count = [0]

    def stop():
        count[0] += 1
        return name if count[0] >= steps else None

    return stop


@pytest.mark.parametrize(("name", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_interrupt_then_resume_is_bit_identical(uninterrupted, tmp_path, name, code):
    _, full, _ = uninterrupted
    cfg = digits(
        tmp_path / "b",
        *FULL,
        "training.epochs=8",
        "training.checkpoint_every=3",
        "training.checkpoint_keep=5",
    )
    # 38 steps per epoch: step 170 is in epoch 5, so the state at the start of epoch 5 is saved
    with pytest.raises(Interrupted) as info:
        fit(cfg, stop=stop_after(170, name))
    assert info.value.exit_code == code
    assert info.value.checkpoint == str(tmp_path / "b" / "checkpoint-4.npz")
    assert checkpoints(tmp_path / "b") == ["checkpoint-3.npz", "checkpoint-4.npz"]
    assert not (tmp_path / "b" / "model.npz").exists()
    resumed = fit(cfg, resume=str(tmp_path / "b"))  # the folder: its newest checkpoint
    assert trajectory(resumed.history) == trajectory(full.history)
    assert same_weights(resumed.model.network, full.model.network)


class StepClock:
    """A training clock that moves 10 ms at each optimizer step (fit asks ``stop`` once a step),
    and a ``stop`` that asks to stop after the given number of steps (never, by default)."""

    def __init__(self, monkeypatch):
        self.now = 0.0
        monkeypatch.setattr("nettrain.train.time", SimpleNamespace(perf_counter=lambda: self.now))

    def stop(self, steps: int | None = None):
        count = [0]

        def stop():
            count[0] += 1
            self.now += 0.01
            return "SIGINT" if steps is not None and count[0] >= steps else None

        return stop


def test_a_resumed_runs_training_time_is_the_whole_runs(tmp_path, monkeypatch):
    from nettrain.report import summary_line

    clock = StepClock(monkeypatch)
    cfg = digits(tmp_path / "a", "training.epochs=4")
    full = fit(cfg, stop=clock.stop())
    assert full.summary["train_time_s"] == pytest.approx(4 * 38 * 0.01)  # 38 steps an epoch
    # interrupted in epoch 3: the checkpoint holds the state (and the time) at the end of epoch 2;
    # the steps of epoch 3 before the interrupt are run again, and timed again, on resume
    clock.now = 0.0
    cfg = digits(tmp_path / "b", "training.epochs=4")
    with pytest.raises(Interrupted):
        fit(cfg, stop=clock.stop(100))
    _, state, _, _ = load_checkpoint(tmp_path / "b" / "checkpoint-2.npz")
    assert (state["train_time_s"], state["timed_epochs"]) == (pytest.approx(2 * 38 * 0.01), 2)
    clock.now = 0.0
    events = []
    resumed = fit(
        cfg, lambda kind, info: events.append((kind, info)), resume=str(tmp_path / "b"), stop=clock.stop()
    )
    assert resumed.summary["train_time_s"] == pytest.approx(full.summary["train_time_s"])
    assert resumed.summary["samples_per_s"] == pytest.approx(full.summary["samples_per_s"])
    assert load_model(tmp_path / "b" / "model.npz").meta["training"]["train_time_s"] == pytest.approx(1.52)
    end = next(info for kind, info in events if kind == "end")
    assert summary_line(end).startswith("done: 4 epochs in 1.5s (resumed after epoch 2)  loss")
    # the epochs' elapsed goes on from the checkpoint's time too, as train_time_s does: the same
    # figures as the uninterrupted run's epochs 3 and 4 (38 steps, 0.38 s, an epoch)
    assert next(info for kind, info in events if kind == "start")["elapsed"] == pytest.approx(0.76)
    elapsed = [info["elapsed"] for kind, info in events if kind == "epoch"]
    assert elapsed == [pytest.approx(1.14), pytest.approx(1.52)]


class OneRankWorld:
    """An MPI world of one rank (the sums are the rank's own figures) whose Allreduce takes 2 ms
    a call: fit's MPI code path without MPI."""

    rank, size, seconds = 0, 1, 0.0

    class comm:
        @staticmethod
        def bcast(value, root=0):
            return value

    def allreduce_sum(self, buffer) -> float:
        self.seconds += 0.002
        return float(buffer[-1])

    def sum(self, value: float) -> float:
        return float(value)


def test_a_resumed_mpi_runs_allreduce_time_is_the_whole_runs(tmp_path, monkeypatch):
    """allreduce_s, like train_time_s, goes on from the checkpoint's figure after a resume."""
    clock = StepClock(monkeypatch)
    monkeypatch.setattr("nettrain.distributed.world", OneRankWorld)
    cfg = digits(tmp_path / "a", "training.epochs=4")
    full = fit(cfg, stop=clock.stop())
    assert (full.summary["ranks"], full.summary["allreduce_s"]) == (1, pytest.approx(4 * 38 * 0.002))
    # interrupted in epoch 3: the checkpoint of epoch 2 holds its 76 Allreduce calls' time
    monkeypatch.setattr("nettrain.distributed.world", OneRankWorld)
    with pytest.raises(Interrupted):
        fit(digits(tmp_path / "b", "training.epochs=4"), stop=clock.stop(100))
    _, state, _, _ = load_checkpoint(tmp_path / "b" / "checkpoint-2.npz")
    assert state["allreduce_s"] == pytest.approx(2 * 38 * 0.002)
    monkeypatch.setattr("nettrain.distributed.world", OneRankWorld)
    resumed = fit(digits(tmp_path / "b", "training.epochs=4"), resume=str(tmp_path / "b"), stop=clock.stop())
    assert resumed.summary["allreduce_s"] == pytest.approx(full.summary["allreduce_s"])
    # and a checkpoint the resumed run writes holds the whole run's, for a resume of that one
    _, state, _, _ = load_checkpoint(tmp_path / "b" / "checkpoint-4.npz")
    assert state["allreduce_s"] == pytest.approx(4 * 38 * 0.002)
    # a checkpoint that records the training time but not the Allreduce time still resumes,
    # its epochs' Allreduce time counted as none
    from nettrain.checkpoint import save_checkpoint

    model, state, opt, best = load_checkpoint(tmp_path / "b" / "checkpoint-2.npz")
    del state["allreduce_s"]
    save_checkpoint(tmp_path / "c", 2, model, state, opt, best, keep=5)
    monkeypatch.setattr("nettrain.distributed.world", OneRankWorld)
    resumed = fit(digits(tmp_path / "c", "training.epochs=4"), resume=str(tmp_path / "c"), stop=clock.stop())
    assert resumed.summary["allreduce_s"] == pytest.approx(2 * 38 * 0.002)
    assert resumed.summary["train_time_s"] == pytest.approx(full.summary["train_time_s"])


def test_an_older_checkpoint_without_its_time_resumes_timing_the_epochs_after_it(tmp_path, monkeypatch):
    from nettrain.checkpoint import save_checkpoint
    from nettrain.report import summary_line

    clock = StepClock(monkeypatch)
    cfg = digits(tmp_path / "a", "training.epochs=4", "training.checkpoint_every=2")
    fit(cfg, stop=clock.stop())
    # checkpoint-2 as an older nettrain wrote it: no training time in its state
    model, state, opt, best = load_checkpoint(tmp_path / "a" / "checkpoint-2.npz")
    del state["train_time_s"], state["timed_epochs"]
    save_checkpoint(tmp_path / "old", 2, model, state, opt, best, keep=5)
    clock.now = 0.0
    events = []
    resumed = fit(
        digits(tmp_path / "old", "training.epochs=4"),
        lambda kind, info: events.append((kind, info)),
        resume=str(tmp_path / "old"),
        stop=clock.stop(),
    )
    # the epochs before it count no time, and samples/s is over the epochs that were timed
    assert resumed.summary["train_time_s"] == pytest.approx(2 * 38 * 0.01)
    assert resumed.summary["samples_per_s"] == pytest.approx(1211 * 2 / (2 * 38 * 0.01))
    end = next(info for kind, info in events if kind == "end")
    assert summary_line(end).startswith("done: epochs 3-4 (resumed) in 0.8s  loss")
    # and elapsed, like train_time_s, counts from the resume
    assert [info["elapsed"] for kind, info in events if kind == "epoch"] == [
        pytest.approx(0.38),
        pytest.approx(0.76),
    ]
    # and a checkpoint written after it says which epochs its time covers
    _, state, _, _ = load_checkpoint(tmp_path / "old" / "checkpoint-4.npz")
    assert (state["train_time_s"], state["timed_epochs"]) == (pytest.approx(0.76), 2)


def test_a_run_with_input_dropout_alone_resumes_bit_identical(tmp_path):
    """input_dropout without hidden dropout still draws from the dropout generator, which the
    checkpoint carries: interrupted in epoch 2 and resumed, the uninterrupted run's weights."""
    sets = ["training.epochs=3", "training.input_dropout=0.3"]
    cfg = digits(tmp_path / "b", *sets)
    with pytest.raises(Interrupted):
        fit(cfg, stop=stop_after(50))  # 38 steps an epoch: in the second
    assert checkpoints(tmp_path / "b") == ["checkpoint-1.npz"]
    resumed = fit(cfg, resume=str(tmp_path / "b"))
    full = fit(digits(tmp_path / "a", *sets))
    assert same_weights(resumed.model.network, full.model.network)
    plain = fit(digits(tmp_path / "c", "training.epochs=3"))
    assert not same_weights(plain.model.network, full.model.network)  # the inputs were dropped


def test_interrupt_in_the_first_epoch_resumes_from_the_start(tmp_path):
    cfg = digits(tmp_path / "b", "training.epochs=2", "training.dropout=0.3")
    with pytest.raises(Interrupted):
        fit(cfg, stop=stop_after(5))
    assert checkpoints(tmp_path / "b") == ["checkpoint-0.npz"]
    resumed = fit(cfg, resume=str(tmp_path / "b"))
    full = fit(digits(tmp_path / "a", "training.epochs=2", "training.dropout=0.3"))
    assert same_weights(resumed.model.network, full.model.network)


def test_resume_with_a_changed_config_needs_force(tmp_path):
    fit(digits(tmp_path / "a", "training.epochs=3", "training.checkpoint_every=3"))
    changed = digits(tmp_path / "b", "training.epochs=5", "training.learning_rate=0.05")
    with pytest.raises(ConfigError, match="--force") as err:
        fit(changed, resume=str(tmp_path / "a"))
    # the message names what changed (not the epochs, which a resume may extend)
    assert "training.learning_rate 0.1 -> 0.05" in str(err.value)
    assert "epochs" not in str(err.value)
    assert not (tmp_path / "b").exists()
    forced = fit(changed, resume=str(tmp_path / "a"), force=True)
    assert [r["epoch"] for r in forced.history] == [1, 2, 3, 4, 5]
    assert [r["lr"] for r in forced.history] == [0.1, 0.1, 0.1, 0.05, 0.05]
    # the command line: exit 2, one Error line that names the way out
    result = CliRunner().invoke(
        app,
        [
            "fit",
            str(CONFIGS / "digits.yaml"),
            "-o",
            str(tmp_path / "c"),
            "--set",
            "training.learning_rate=0.05",
            "--resume",
            str(tmp_path / "a"),
        ],
    )
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "--force" in errors[0] and "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def three_epochs(tmp_path_factory):
    """A 3-epoch run of digits with a checkpoint of its last epoch, to resume with more epochs."""
    folder = tmp_path_factory.mktemp("three") / "run"
    fit(digits(folder, "training.epochs=3", "training.checkpoint_every=3", "training.weight_decay=0.01"))
    return folder


@pytest.mark.parametrize(
    "setting, shown",
    [
        ("training.decay_biases=true", "training.decay_biases false -> true"),
        ("training.schedule={name: plateau, threshold_mode: abs}", "training.schedule"),
        ("training.schedule={name: plateau, cooldown: 2}", "training.schedule"),
        ("network.init=pytorch", "network.init auto -> pytorch"),
        ("training.input_dropout=0.1", "training.input_dropout 0.0 -> 0.1"),
    ],
)
def test_resume_with_a_changed_porting_key_needs_force(three_epochs, tmp_path, setting, shown):
    """The keys that translate PyTorch's and Keras's settings are part of the config's hash: a
    resume that changes one is refused, naming it."""
    with pytest.raises(ConfigError, match="--force") as err:
        fit(
            digits(tmp_path / "b", "training.epochs=5", "training.weight_decay=0.01", setting),
            resume=str(three_epochs),
        )
    assert shown in str(err.value)


def test_resume_refusal_names_a_parameter_set_back_to_its_default_by_value(tmp_path):
    """The hash's canonical form leaves out a schedule's parameters at their defaults; the
    refusal still names what the config now says (abs -> rel, 1 -> 0), not null."""
    plateau = "training.schedule={name: plateau, threshold_mode: abs, cooldown: 1}"
    fit(digits(tmp_path / "a", "training.epochs=1", "training.checkpoint_every=1", plateau))
    back = "training.schedule={name: plateau, threshold_mode: rel, cooldown: 0}"
    with pytest.raises(ConfigError, match="--force") as err:
        fit(digits(tmp_path / "b", "training.epochs=2", back), resume=str(tmp_path / "a"))
    message = str(err.value)
    assert "training.schedule.cooldown 1 -> 0" in message
    assert "training.schedule.threshold_mode abs -> rel" in message
    assert "null" not in message


def test_a_run_with_features_resumes_bit_identical_and_a_changed_list_needs_force(tmp_path):
    """data.features is part of the config the checkpoint holds: the same list resumes (the
    same model as a run without a stop), another one is a changed config."""
    sets = ["network.layers=[auto, 16, 10]", "training.checkpoint_every=1", "data.test=null"]
    chosen = "data.features=[pixel_2_3, pixel_3_4, pixel_4_4, pixel_5_2, pixel_6_5]"
    full = fit(digits(tmp_path / "a", "training.epochs=2", *sets, chosen))
    resumed = fit(
        digits(tmp_path / "b", "training.epochs=2", *sets, chosen),
        resume=str(tmp_path / "a" / "checkpoint-1.npz"),
    )
    assert full.model.network.sizes[0] == 5 and same_weights(resumed.model.network, full.model.network)
    assert trajectory(resumed.history) == trajectory(full.history)
    other = digits(tmp_path / "c", "training.epochs=3", *sets, "data.features=[pixel_2_3, pixel_3_4]")
    with pytest.raises(ConfigError, match="changed: data.features") as err:
        fit(other, resume=str(tmp_path / "a"))
    assert "pixel_6_5] -> [pixel_2_3, pixel_3_4]" in str(err.value)


def test_resume_with_more_epochs_continues(tmp_path):
    # epochs is not in the hash: a finished run of 4 epochs, extended to 7, equals a run of 7
    fit(digits(tmp_path / "a", "training.epochs=4", "training.checkpoint_every=2"))
    longer = fit(digits(tmp_path / "a", "training.epochs=7"), resume=str(tmp_path / "a"))
    seven = fit(digits(tmp_path / "b", "training.epochs=7"))
    assert [r["epoch"] for r in longer.history] == list(range(1, 8))
    assert trajectory(longer.history) == trajectory(seven.history)
    assert same_weights(longer.model.network, seven.model.network)


def test_an_earlier_runs_checkpoints_in_the_folder_are_older(tmp_path):
    # an earlier run left checkpoint-4 and -6; a new run with another config in the same folder
    fit(
        digits(
            tmp_path / "a", "training.epochs=6", "training.checkpoint_every=2", "training.checkpoint_keep=2"
        )
    )
    assert checkpoints(tmp_path / "a") == ["checkpoint-4.npz", "checkpoint-6.npz"]
    cfg = digits(
        tmp_path / "a",
        "training.epochs=3",
        "training.learning_rate=0.05",
        "training.checkpoint_every=1",
        "training.checkpoint_keep=2",
    )
    fit(cfg)
    # the new run keeps its newest two; the earlier run's, of another config, are not its to prune
    # (they count as older, though: --resume RUN finds the new run's last)
    assert checkpoints(tmp_path / "a") == [
        "checkpoint-2.npz",
        "checkpoint-3.npz",
        "checkpoint-4.npz",
        "checkpoint-6.npz",
    ]
    notices = []

    def on_event(kind, info):
        if kind == "notice":
            notices.append(info["message"])

    extended = fit(
        replace(cfg, training=replace(cfg.training, epochs=4)), on_event=on_event, resume=str(tmp_path / "a")
    )
    assert [r["epoch"] for r in extended.history] == [1, 2, 3, 4]
    # the notice names the checkpoint the folder gave, not only the folder: the earlier run's
    # higher-numbered one is there too, so a user can see which was taken
    assert f"resuming from {tmp_path / 'a' / 'checkpoint-3.npz'} after epoch 3" in notices


def test_a_copied_run_folder_resumes_from_its_newest_checkpoint_whatever_the_file_times(tmp_path):
    # cp -r, tar and checkouts give files new times in no set order: the newest checkpoint is the
    # one written last, as each stores, not the file touched last
    cfg = digits(
        tmp_path / "a", "training.epochs=3", "training.checkpoint_every=1", "training.checkpoint_keep=3"
    )
    fit(cfg)
    run = tmp_path / "a"
    assert checkpoints(run) == ["checkpoint-1.npz", "checkpoint-2.npz", "checkpoint-3.npz"]
    for age, name in enumerate(checkpoints(run)):  # checkpoint-1 now looks the newest
        os.utime(run / name, ns=(10**18 - age * 10**9,) * 2)
    assert find_checkpoint(run) == run / "checkpoint-3.npz"
    assert [p.name for _, p in checkpoints_in(run)] == checkpoints(run)
    extended = fit(replace(cfg, training=replace(cfg.training, epochs=4)), resume=str(run))
    assert [r["epoch"] for r in extended.history] == [1, 2, 3, 4]
    # pruning keeps the newest three: the new epoch's and the two before it, not the old file times'
    assert checkpoints(run) == ["checkpoint-2.npz", "checkpoint-3.npz", "checkpoint-4.npz"]


def without_saved_at(path: Path) -> None:
    """The checkpoint as an older nettrain wrote it: no saved_at in its metadata."""
    with np.load(path) as z:
        members = {k: z[k] for k in z.files}
    meta = json.loads(members["meta"].tobytes())
    del meta["checkpoint"]["saved_at"]
    members["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(path, **members)


def test_a_copied_folder_of_a_run_resumed_after_an_upgrade_resumes_from_the_upgrades_checkpoint(tmp_path):
    # epochs 1 and 2 written by an older nettrain (no saved_at), epoch 3 by this one; then cp -r
    # gave the old files newer times than epoch 3's stamp: the stamped one is still the newest
    # (the old ones went by their copy's file time and were taken as newer: resumed from epoch 2)
    cfg = digits(
        tmp_path / "a", "training.epochs=3", "training.checkpoint_every=1", "training.checkpoint_keep=3"
    )
    fit(cfg)
    run = tmp_path / "a"
    for name in ("checkpoint-1.npz", "checkpoint-2.npz"):
        without_saved_at(run / name)
    now = time.time_ns()
    for seconds, name in ((10, "checkpoint-1.npz"), (11, "checkpoint-2.npz"), (0, "checkpoint-3.npz")):
        os.utime(run / name, ns=(now + seconds * 10**9,) * 2)  # the copy: the old ones after epoch 3
    assert find_checkpoint(run) == run / "checkpoint-3.npz"
    assert [p.name for _, p in checkpoints_in(run)] == checkpoints(run)
    extended = fit(replace(cfg, training=replace(cfg.training, epochs=4)), resume=str(run))
    assert [r["epoch"] for r in extended.history] == [1, 2, 3, 4]
    assert checkpoints(run) == ["checkpoint-2.npz", "checkpoint-3.npz", "checkpoint-4.npz"]


def test_the_resume_command_names_the_checkpoint_just_written_and_works_from_anywhere():
    cwd = os.getcwd()
    ckpt = os.path.join(cwd, "runs", "x", "checkpoint-11.npz")
    assert resume_argv(["fit", "c.yaml", "-o", "runs/x"], ckpt) == [
        "fit", os.path.join(cwd, "c.yaml"), "-o", os.path.join(cwd, "runs", "x"), "--resume", ckpt
    ]  # fmt: skip
    # an earlier --resume (an older checkpoint, perhaps since deleted) is replaced, in either spelling
    for old in (["--resume", "runs/x/checkpoint-5.npz"], ["--resume=runs/x/checkpoint-5.npz"]):
        argv = ["/abs/c.yaml", *old, "--set", "training.epochs=50"]
        assert resume_argv(["fit", *argv], ckpt) == [
            "fit", "/abs/c.yaml", "--set", "training.epochs=50", "--resume", ckpt
        ]  # fmt: skip
    # a checkpoint given relative, elsewhere: absolute (the '..' tidied: no link is crossed)
    assert resume_argv(["fit", "/c.yaml"], "../elsewhere/checkpoint-1.npz")[-1] == os.path.normpath(
        os.path.join(cwd, "..", "elsewhere", "checkpoint-1.npz")
    )
    # every spelling of -o; --device's value is not a path; what follows '--' stays an argument
    for spelling in (["-o", "r"], ["-or"], ["--output", "r"], ["--output=r"], ["-qo", "r"]):
        got = resume_argv(["fit", "--device", "cpu", *spelling, "--", "-c.yaml"], ckpt)
        assert got[:3] == ["fit", "--device", "cpu"]
        assert got[-4:] == ["--resume", ckpt, "--", os.path.join(cwd, "-c.yaml")], got
        assert os.path.join(cwd, "r") in got[3] + "|" + got[4]
    # paths set with --set are relative to the current folder: made absolute (quoted for YAML
    # when they must be); '-' (standard input), fractions and absolute paths stay as they were
    got = resume_argv(
        ["fit", "/c.yaml", "--set", "data.train=d/a.csv", "--set=data.test=0.2", "--set", "data.validation=-"]
        + ["--set", "data={train: b.csv, test: /t.csv}", "--set", "output=run"],
        ckpt,
    )
    assert got[1:] == [
        "/c.yaml", "--set", f"data.train={os.path.join(cwd, 'd', 'a.csv')}", "--set=data.test=0.2",
        "--set", "data.validation=-", "--set", "data={train: b.csv, test: /t.csv}",
        "--set", f"data.train={os.path.join(cwd, 'b.csv')}", "--set", f"output={os.path.join(cwd, 'run')}",
        "--resume", ckpt,
    ]  # fmt: skip
    from nettrain.config import parse_override

    quoted = resume_argv(["fit", "/c.yaml", "--set", 'data.train="#x: y.csv"'], ckpt)[3]
    assert parse_override(quoted) == (("data", "train"), os.path.join(cwd, "#x: y.csv")), quoted


def test_resume_from_what_is_not_a_checkpoint(tmp_path):
    fit(digits(tmp_path / "a", "training.epochs=1"))
    cfg = digits(tmp_path / "b", "training.epochs=2")
    with pytest.raises(ModelFileError, match="not a checkpoint"):
        fit(cfg, resume=str(tmp_path / "a" / "model.npz"))
    with pytest.raises(ConfigError, match="no checkpoint"):
        fit(cfg, resume=str(tmp_path / "a"))
    with pytest.raises(ConfigError, match="not found"):
        fit(cfg, resume=str(tmp_path / "nowhere"))


def test_a_model_whose_checkpoint_entry_is_no_mapping_is_not_a_checkpoint(tmp_path):
    from nettrain.data import Encoding
    from nettrain.modelfile import Model, save_model
    from nettrain.network import Network

    net = Network.create([2, 3, 1], ["tanh"], "sigmoid", "binary_cross_entropy")
    enc = Encoding("classification", "binary_cross_entropy", ["a", "b"], "y", 1, np.zeros(2), np.ones(2))
    enc.classes = ["0", "1"]
    for state in (5, [1, 2], "epoch 3"):
        save_model(tmp_path / "m.npz", Model(net, enc, {"checkpoint": state}))
        with pytest.raises(ModelFileError, match="a model file, not a checkpoint"):
            load_checkpoint(tmp_path / "m.npz")


def test_a_folder_named_like_a_checkpoint_is_not_one(tmp_path):
    from nettrain.checkpoint import checkpoints_in, find_checkpoint

    (tmp_path / "checkpoint-9.npz").mkdir()
    assert checkpoints_in(tmp_path) == []
    with pytest.raises(ConfigError, match="no checkpoint-<epoch>.npz in"):
        find_checkpoint(tmp_path)


def _rezip(src: Path, dst: Path, change: dict) -> Path:
    import zipfile

    with zipfile.ZipFile(src) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    parts.update(change)
    with zipfile.ZipFile(dst, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return dst


@pytest.mark.parametrize("forgery", ["a huge declared shape", "NaN moments", "best weights of another shape"])
def test_a_forged_checkpoint_is_refused_before_allocating(tmp_path, forgery):
    """The checkpoint's own members get the model file's checks: a 1 kB file declaring 32 GiB
    of optimizer state made --resume try to allocate it."""
    import io

    cfg = FULL + ["training.epochs=2", "training.checkpoint_every=1"]
    fit(digits(tmp_path / "run", *cfg))
    ckpt = tmp_path / "run" / "checkpoint-1.npz"
    opt = load_checkpoint(ckpt)[2]
    if forgery == "a huge declared shape":  # a header alone: 2**33 floats declared, none stored
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(buf, {"descr": "<f4", "fortran_order": False, "shape": (2**33,)})
        change = {"opt0.npy": buf.getvalue()}
    elif forgery == "NaN moments":
        change = {"opt0.npy": _npy(np.full_like(opt[0], np.nan))}
    else:
        change = {"best_W0.npy": _npy(np.zeros((3, 3), np.float32))}
    forged = _rezip(ckpt, tmp_path / "forged.npz", change)
    with pytest.raises(ModelFileError):
        load_checkpoint(forged)
    r = CliRunner().invoke(
        app,
        ["fit", str(CONFIGS / "digits.yaml"), "-o", str(tmp_path / "run"), "--resume", str(forged)]
        + [a for s in cfg for a in ("--set", s)],
    )
    assert r.exit_code == 2 and "Error:" in r.stderr and "Traceback" not in r.stderr


def _npy(a: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


# -- Ctrl-C and SIGTERM on a real process --------------------------------------------------------------

# 30 epochs of batches of 4 (about 1.5 s of training on one core): long enough to be interrupted
# after a few epochs, short enough to run through uninterrupted for the comparison
SUBPROCESS_SETS = [
    *FULL,
    "training.epochs=30",
    "training.batch_size=4",
]


def env():
    e = dict(os.environ)
    for var in ("FORCE_COLOR", "CLICOLOR_FORCE", "TTY_COMPATIBLE", "NETTRAIN_DEBUG"):
        e.pop(var, None)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    e["OPENBLAS_NUM_THREADS"] = e["OMP_NUM_THREADS"] = e["MKL_NUM_THREADS"] = "1"
    return e


def fit_args(output: str) -> list[str]:
    args = ["fit", str(CONFIGS / "digits.yaml"), "-o", output]
    for s in SUBPROCESS_SETS:
        args += ["--set", s]
    return args


def _default_sigint():
    # a shell's background jobs start with SIGINT ignored; a user's Ctrl-C reaches a foreground one
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(args, cwd, err_path):
    with open(err_path, "w") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "nettrain", *args],
            stdout=subprocess.DEVNULL,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=env(),
            cwd=cwd,
            preexec_fn=_default_sigint,
        )


def interrupt_after_epoch(proc, err_path: Path, epoch: int, signum) -> str:
    """Send ``signum`` once the plain progress shows `epoch`; returns stderr."""
    return signal_when(proc, err_path, lambda text: f"epoch {epoch:>2}/" in text, signum)


def test_sigint_then_the_printed_resume_command_is_bit_identical(tmp_path):
    # the uninterrupted run, meanwhile, into another folder
    reference = start(fit_args("uninterrupted"), tmp_path, tmp_path / "ref.err")
    proc = start(fit_args("run"), tmp_path, tmp_path / "run.err")
    text = interrupt_after_epoch(proc, tmp_path / "run.err", 3, signal.SIGINT)
    assert proc.returncode == 130, text
    assert "Traceback" not in text
    run = tmp_path / "run"
    saved = checkpoints(run)
    assert len(saved) == 1 and int(saved[0][11:-4]) >= 3, (saved, text)
    assert not (run / "model.npz").exists()
    lines = [line for line in text.splitlines() if line.startswith("Resume with: ")]
    assert len(lines) == 1, text
    command = shlex.split(lines[0][len("Resume with: ") :])
    # started as `python -m nettrain` (no nettrain script on the PATH): this very Python again
    assert command[:4] == [sys.executable, "-m", "nettrain", "fit"]
    assert command[-2:] == ["--resume", str(tmp_path / "run" / saved[0])]  # the checkpoint just written
    # run exactly that, from another folder (the paths in it are absolute)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    resumed = subprocess.run(command, cwd=elsewhere, env=env(), capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert f"after epoch {int(saved[0][11:-4])}" in resumed.stderr
    assert reference.wait(timeout=120) == 0, (tmp_path / "ref.err").read_text()
    a, b = load_model(run / "model.npz"), load_model(tmp_path / "uninterrupted" / "model.npz")
    assert same_weights(a.network, b.network)
    assert a.meta["training"]["epochs"] == b.meta["training"]["epochs"] == 30
    history = (run / "history.jsonl").read_text().splitlines()
    assert len(history) == 30


def test_sigterm_exits_143_with_a_checkpoint(tmp_path):
    proc = start(fit_args("run"), tmp_path, tmp_path / "run.err")
    text = interrupt_after_epoch(proc, tmp_path / "run.err", 1, signal.SIGTERM)
    assert proc.returncode == 143, text
    assert "Traceback" not in text
    saved = checkpoints(tmp_path / "run")
    assert len(saved) == 1, text
    _, state, _, _ = load_checkpoint(tmp_path / "run" / saved[0])
    assert state["epoch"] == int(saved[0][11:-4]) >= 1
    assert f"Resume with: {sys.executable} -m nettrain fit " in text


def test_a_stop_asked_for_after_the_last_step_saves_the_run_and_says_interrupted(tmp_path):
    """Ctrl-C during the last evaluation or the final save: nothing is left to stop, so the
    complete run is saved, and the caller still hears of the interrupt (exit 130 from the CLI)."""
    from dataclasses import replace

    from nettrain import fit
    from nettrain.errors import Interrupted
    from tests.conftest import CONFIGS

    config = replace(load_config(CONFIGS / "xor.yaml"), output=str(tmp_path / "run"))
    steps = config.training.epochs  # xor: one batch of 4 rows an epoch
    calls = []

    def stop():
        calls.append(1)
        return "SIGINT" if len(calls) > steps else None  # asked once the steps are done

    with pytest.raises(Interrupted) as caught:
        fit(config, stop=stop)
    assert len(calls) == steps + 1
    assert caught.value.exit_code == 130 and caught.value.checkpoint is None
    assert caught.value.result.history[-1]["epoch"] == config.training.epochs  # the finished run
    assert "after the last epoch" in str(caught.value) and str(tmp_path / "run") in str(caught.value)
    model = load_model(tmp_path / "run" / "model.npz")
    assert model.meta["training"]["epochs"] == config.training.epochs
    assert not list((tmp_path / "run").glob("checkpoint-*"))


@pytest.mark.parametrize(
    "change, note",
    [
        ({"schedule": "plateau"}, "the plateau schedule's state starts afresh"),
        ({"optimizer": "rmsprop"}, "the optimizer's state starts afresh (adam -> rmsprop)"),
        ({"output_bias": False}, "the optimizer's state starts afresh (optimizer state has"),
    ],
)
def test_resume_with_force_across_a_change_that_state_cannot_follow(tmp_path, change, note):
    """--force continues with the checkpoint's weights; the optimizer's or schedule's state that
    does not fit the new config starts afresh, with a note (it was an internal error)."""
    from dataclasses import replace

    from nettrain import fit
    from tests.conftest import CONFIGS

    base = load_config(CONFIGS / "xor.yaml")
    first = replace(
        base,
        output=str(tmp_path / "first"),
        training=replace(base.training, epochs=3, checkpoint_every=1, optimizer="adam", optimizer_params={}),
    )
    fit(first)
    training = replace(first.training, epochs=5, **{k: v for k, v in change.items() if k != "output_bias"})
    if "schedule" in change:
        training = replace(training, schedule="plateau", schedule_params={})
    network = replace(first.network, output_bias=change.get("output_bias", True))
    second = replace(first, output=str(tmp_path / "second"), training=training, network=network)
    notes = []
    result = fit(
        second, resume=str(tmp_path / "first"), force=True, on_event=lambda kind, info: notes.append(info)
    )
    messages = [n.get("message", "") for n in notes if isinstance(n, dict)]
    assert any(note in m for m in messages), messages
    assert [h["epoch"] for h in result.history] == [1, 2, 3, 4, 5]


def test_a_new_run_in_a_folder_with_checkpoints_says_they_may_be_replaced(tmp_path):
    """A fresh fit (no --resume) into a run folder holding an earlier run's checkpoints says so:
    its own checkpoints would replace those of the same epoch."""
    from nettrain import fit
    from tests.conftest import CONFIGS

    base = load_config(CONFIGS / "xor.yaml")
    config = replace(
        base, output=str(tmp_path / "run"), training=replace(base.training, epochs=2, checkpoint_every=1)
    )
    notes: list[str] = []

    def listen(kind, info):
        if kind == "notice":
            notes.append(info["message"])

    fit(config, on_event=listen)
    assert not any("earlier run" in m for m in notes)
    fit(replace(config, training=replace(config.training, seed=5)), on_event=listen)
    assert any(
        "holds checkpoints of an earlier run (checkpoint-1.npz, checkpoint-2.npz)" in m for m in notes
    ), notes


def test_json_output_ends_with_an_interrupted_event(tmp_path):
    """--json: an interrupted fit's last line says so, with the checkpoint and the resume command
    (the one printed on stderr), so a program reading the lines knows how to go on."""
    import json

    with subprocess.Popen(  # its pipes closed on every path (tests/test_mpi.py's signal_rank)
        [sys.executable, "-m", "nettrain", *fit_args("run"), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env(),
        cwd=tmp_path,
        text=True,
        preexec_fn=_default_sigint,
    ) as proc:
        try:
            assert json.loads(proc.stdout.readline())["event"] == "epoch"
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 130, err
    last = json.loads(out.splitlines()[-1])
    assert last["event"] == "interrupted" and last["signal"] == "SIGINT" and last["exit_code"] == 130
    assert (tmp_path / last["checkpoint"]).is_file()
    assert f"Resume with: {last['resume']}" in err


def test_resuming_a_checkpoint_at_or_past_the_epochs_is_refused_and_keeps_the_model(tmp_path):
    """A checkpoint of epoch 4 resumed with epochs 3 (or 4) has nothing to train: refused,
    instead of writing the checkpoint's older weights over the run's model."""
    run = tmp_path / "run"
    fit(digits(run, "training.epochs=6", "training.checkpoint_every=2", "training.checkpoint_keep=3"))
    before = (run / "model.npz").read_bytes()
    for epochs in (3, 4):
        with pytest.raises(ConfigError, match=r"has 4 epochs done and training.epochs is \d: nothing"):
            fit(
                digits(run, f"training.epochs={epochs}", "training.checkpoint_every=2"),
                resume=run / "checkpoint-4.npz",
            )
    assert (run / "model.npz").read_bytes() == before


def test_dry_run_checks_the_checkpoint_to_resume(tmp_path):
    run = tmp_path / "run"
    fit(digits(run, "training.epochs=2", "training.checkpoint_every=1"))
    cfg = str(CONFIGS / "digits.yaml")
    dry = [
        "fit",
        cfg,
        "-o",
        str(run),
        "--dry-run",
        "--set",
        "training.epochs=5",
        "--set",
        "training.checkpoint_every=1",
    ]
    r = CliRunner().invoke(app, [*dry, "--resume", str(run)])
    assert r.exit_code == 0, r.stderr
    assert f"resume: {run / 'checkpoint-2.npz'}, after epoch 2" in r.stderr
    r = CliRunner().invoke(app, [*dry, "--resume", str(tmp_path / "nowhere")])
    assert r.exit_code == 2 and "not found" in r.stderr
    r = CliRunner().invoke(app, [*dry, "--resume", str(run), "--set", "training.batch_size=7"])
    assert r.exit_code == 2 and "different config (changed: training.batch_size" in r.stderr


def test_resume_continues_the_run_in_its_own_folder_and_ends_with_a_checkpoint(tmp_path):
    """--resume RUN without -o writes into RUN (not the config's output, where it replaced
    another model); the resumed run ends with a checkpoint, so resuming it again has nothing
    left to redo instead of retraining from the old interrupt."""
    run = tmp_path / "run"
    fit(digits(run, "training.epochs=4", "training.checkpoint_every=2", "training.checkpoint_keep=5"))
    (run / "checkpoint-4.npz").unlink()  # as if interrupted in epoch 3: the newest is epoch 2
    elsewhere = tmp_path / "elsewhere"
    args = ["fit", str(CONFIGS / "digits.yaml"), "--set", f"output={elsewhere}", "-q"]
    args += ["--set", "training.epochs=4", "--set", "training.checkpoint_every=0"]
    r = CliRunner().invoke(app, [*args, "--resume", str(run)])
    assert r.exit_code == 0, r.stderr
    assert not elsewhere.exists()
    assert load_model(run).meta["training"]["epochs"] == 4
    assert checkpoints(run)[-1] == "checkpoint-4.npz"
    r = CliRunner().invoke(app, [*args, "--resume", str(run)])
    assert r.exit_code == 2 and "has 4 epochs done" in r.stderr


def test_a_new_run_says_it_will_replace_the_folders_model(tmp_path):
    events = []
    fit(digits(tmp_path / "run", "training.epochs=1"))
    fit(digits(tmp_path / "run", "training.epochs=1"), lambda kind, info: events.append((kind, info)))
    notes = [info["message"] for kind, info in events if kind == "notice"]
    assert any("holds the model of an earlier run; this run replaces it" in m for m in notes)


def _edit_meta(ckpt: Path, edit) -> None:
    """Rewrite checkpoint ``ckpt`` in place with its metadata (the JSON document) changed by
    ``edit(meta)``: what an older nettrain, or another setting, would have written."""
    import io
    import zipfile

    with zipfile.ZipFile(ckpt) as zf:
        meta = json.loads(np.load(io.BytesIO(zf.read("meta.npy"))).tobytes())
    edit(meta)
    buf = io.BytesIO()
    np.save(buf, np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
    _rezip(ckpt, ckpt.with_name("edited.npz"), {"meta.npy": buf.getvalue()}).replace(ckpt)


def test_resume_a_run_with_auto_layer_sizes(tmp_path):
    """The checkpoint records the sizes the data gave; resuming the same config (still 'auto')
    matches it."""
    sets = ["network.layers=[auto, 32, auto]", "training.checkpoint_every=1"]
    fit(digits(tmp_path / "run", "training.epochs=2", *sets))
    result = fit(digits(tmp_path / "run", "training.epochs=3", *sets), resume=tmp_path / "run")
    assert result.model.network.sizes == [64, 32, 10] and len(result.history) == 3


def test_a_checkpoint_written_before_the_config_gained_keys_still_resumes(tmp_path):
    """Older checkpoints hold configs without data.exclude, data.features, data.split_seed,
    training.decay_biases and training.input_dropout, with
    only the optimizer's parameters the config gave, and encodings without
    positional/delimiter/label_numbers: they resume with the same config, without --force."""
    run = tmp_path / "run"
    sets = ["training.optimizer=adam", "training.learning_rate=0.01", "training.checkpoint_every=2"]
    fit(digits(run, "training.epochs=2", *sets))

    def as_older_nettrain_wrote_it(meta):
        meta["config"]["data"].pop("exclude")
        meta["config"]["data"].pop("features")
        meta["config"]["data"].pop("split_seed")
        meta["config"]["training"]["optimizer"] = "adam"
        meta["config"]["training"].pop("decay_biases")  # (a nettrain before training.decay_biases)
        meta["config"]["training"].pop("input_dropout")  # (and before training.input_dropout)
        for key in ("positional", "delimiter", "label_numbers"):
            meta["encoding"].pop(key)
        meta["checkpoint"]["config_hash"] = "20a85d99e8b5c5b1"  # what the older nettrain hashed it to

    _edit_meta(run / "checkpoint-2.npz", as_older_nettrain_wrote_it)
    result = fit(digits(run, "training.epochs=3", *sets), resume=run)
    assert len(result.history) == 3


def test_a_checkpoint_whose_config_kept_a_float_cooldown_resumes_with_the_whole_number(tmp_path):
    """A nettrain that kept cooldown: 1.0 as written stored 1.0 in the checkpoint's config: the
    same setting as 1, so the run resumes under a config that writes 1, without --force."""
    run = tmp_path / "run"
    sets = ["training.schedule={name: plateau, patience: 1, cooldown: 1}", "training.checkpoint_every=1"]
    fit(digits(run, "training.epochs=1", *sets))

    def as_floats(meta):
        schedule = meta["config"]["training"]["schedule"]
        schedule["patience"], schedule["cooldown"] = 1.0, 1.0

    _edit_meta(run / "checkpoint-1.npz", as_floats)
    result = fit(digits(run, "training.epochs=2", *sets), resume=run)
    assert len(result.history) == 2


def test_a_run_that_stopped_early_is_not_resumed_and_a_resumed_one_ends_with_a_checkpoint(tmp_path):
    run = tmp_path / "run"
    sets = ["training.epochs=200", "training.early_stopping={patience: 2}", "training.checkpoint_keep=500"]
    result = fit(digits(run, *sets, "training.checkpoint_every=1"))
    stop = len(result.history)
    assert result.summary["stopped_early"] and checkpoints(run)[-1] == f"checkpoint-{stop}.npz"
    with pytest.raises(ConfigError, match=f"stopped early after epoch {stop}.*nothing left to train"):
        fit(digits(run, *sets, "training.checkpoint_every=1"), resume=run)
    # as if interrupted two epochs before the stop: the resumed run stops at the same epoch and
    # leaves its last checkpoint there (checkpoint_every 0: only the resume writes one)
    for name in checkpoints(run)[-2:]:
        (run / name).unlink()
    again = fit(digits(run, *sets), resume=run)
    assert len(again.history) == stop and checkpoints(run)[-1] == f"checkpoint-{stop}.npz"


def test_a_checkpoint_whose_target_was_scaled_otherwise_needs_force(tmp_path, monkeypatch):
    """A sigmoid output's regression target was standardized by earlier versions and is not
    now: resuming such a checkpoint compared only the inputs' means and went on in other loss
    units (0.55, then 0.046 in one history). Now it needs --force, which says what changes."""
    import nettrain.data as data_module

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    y = 1 / (1 + np.exp(-X[:, 0]))
    path = tmp_path / "d.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header="a,b,c,y", comments="", fmt="%.6f")
    cfg = config_from_dict_like(tmp_path, path)
    monkeypatch.setattr(data_module, "standardizes_target", lambda standardize, output: standardize)
    fit(replace(cfg, training=replace(cfg.training, epochs=2, checkpoint_every=1)))  # as before
    monkeypatch.undo()
    with pytest.raises(ConfigError, match="was trained on the target standardized .* add --force"):
        fit(cfg, resume=str(tmp_path / "run"))
    resumed = fit(cfg, resume=str(tmp_path / "run"), force=True)
    assert resumed.model.encoding.y_scale.tolist() == [1.0]


def config_from_dict_like(tmp_path, path):
    from nettrain import config_from_dict

    return config_from_dict(
        {
            "data": {"train": str(path), "target": "y"},
            "network": {"layers": [3, 4, 1], "output": "sigmoid"},
            "training": {"epochs": 4, "checkpoint_every": 1},
            "output": str(tmp_path / "run"),
        }
    )


def test_data_paths_through_links_compare_by_the_file_they_name(tmp_path):
    """Earlier versions stored data paths with links resolved; now the link's own path is kept.
    The resume check compares the files the paths name, so such a checkpoint still resumes."""
    from nettrain.checkpoint import comparable

    real = tmp_path / "real.csv"
    real.write_text("a,y\n1,2\n")
    link = tmp_path / "latest.csv"
    link.symlink_to(real)
    old = {"data": {"train": str(real), "test": None}, "training": {"optimizer": "sgd"}}
    new = {"data": {"train": str(link), "test": None}, "training": {"optimizer": "sgd"}}
    assert comparable(old) == comparable(new)
    other = tmp_path / "other.csv"
    other.write_text("a,y\n1,2\n")
    assert comparable({**new, "data": {"train": str(other), "test": None}}) != comparable(old)
    piped = {"data": {"train": "/dev/stdin", "test": None}, "training": {"optimizer": "sgd"}}
    assert comparable(piped)["data"]["train"] == "/dev/stdin"  # (not a file: as written)


def test_an_invscaling_run_resumes_bit_identical_and_a_changed_power_t_needs_force(tmp_path):
    """invscaling's rate follows from the epoch and the training rows: a resume continues the
    same rates (the same model as a run without a stop); another power_t is a changed config."""
    sets = ["network.layers=[auto, 16, 10]", "training.checkpoint_every=2", "data.test=null"]
    inv = "training.schedule={name: invscaling, power_t: 0.25}"
    full = fit(digits(tmp_path / "a", "training.epochs=4", *sets, inv))
    resumed = fit(
        digits(tmp_path / "b", "training.epochs=4", *sets, inv),
        resume=str(tmp_path / "a" / "checkpoint-2.npz"),
    )
    assert trajectory(resumed.history) == trajectory(full.history)
    assert same_weights(resumed.model.network, full.model.network)
    assert full.history[1]["lr"] < full.history[0]["lr"]
    with pytest.raises(ConfigError, match="--force") as err:
        fit(
            digits(tmp_path / "c", "training.epochs=4", *sets, "training.schedule={name: invscaling}"),
            resume=str(tmp_path / "a" / "checkpoint-2.npz"),
        )
    assert "training.schedule" in str(err.value)


# -- resume from a state held in memory (RunState: the estimators' partial_fit) -------------------------


def test_resume_from_a_run_state_in_memory_is_bit_identical(uninterrupted, tmp_path):
    """fit(keep_state=True) returns the state its last epoch ends in; fit(resume=that state) goes
    on as from that epoch's checkpoint file: weights, trajectory, optimizer, generators."""
    cfg, full, a = uninterrupted
    first = fit(replace(cfg, training=replace(cfg.training, epochs=3)), save=False, keep_state=True)
    assert first.state is not None and first.state.state["epoch"] == 3
    m3, s3, opt3, best3 = load_checkpoint(a / "checkpoint-3.npz")
    assert same_weights(first.state.model.network, m3.network)
    assert all(np.array_equal(x, y) for x, y in zip(first.state.optimizer_arrays, opt3, strict=True))
    assert first.state.state["shuffle_rng"] == s3["shuffle_rng"]
    notes = []
    resumed = fit(
        cfg,
        lambda kind, info: notes.append(info.get("message", "")) if kind == "notice" else None,
        save=False,
        resume=first.state,
        keep_state=True,
    )
    assert "resuming from the run state given to fit after epoch 3" in notes
    assert trajectory(resumed.history) == trajectory(full.history)
    assert same_weights(resumed.model.network, full.model.network)
    # the end state is the last epoch's live state (the model holds the best epoch's weights)
    m8, s8, opt8, _ = load_checkpoint(a / "checkpoint-8.npz")
    assert same_weights(resumed.state.model.network, m8.network)
    assert all(np.array_equal(x, y) for x, y in zip(resumed.state.optimizer_arrays, opt8, strict=True))
    assert resumed.state.state["optimizer"]["t"] == s8["optimizer"]["t"]


def test_the_end_state_holds_the_last_epochs_weights_where_the_model_has_the_best_epochs(tmp_path):
    """With early stopping's restore_best the model holds the best epoch's weights, but the run
    goes on from its last epoch's: the state kept is those, and resuming from it is the run that
    was never stopped. (A min_delta no change reaches keeps epoch 1 the best.)"""
    stopping = "training.early_stopping={patience: 100, min_delta: 1000, restore_best: true}"
    cfg = digits(tmp_path / "a", *FULL[:-1], stopping, "training.epochs=3")
    first = fit(cfg, save=False, keep_state=True)
    assert first.summary["epochs"] == 3 and not same_weights(first.state.model.network, first.model.network)
    longer = replace(cfg, training=replace(cfg.training, epochs=4))
    full, resumed = fit(longer, save=False), fit(longer, save=False, resume=first.state)
    assert trajectory(resumed.history) == trajectory(full.history)


def test_a_run_state_is_not_changed_by_resuming_from_it(uninterrupted):
    """The optimizer updates its moments in place: a resume works on copies, so the same state
    resumes twice to the same run."""
    cfg, full, a = uninterrupted
    short = replace(cfg, training=replace(cfg.training, epochs=3, early_stopping=None))
    state = fit(short, save=False, keep_state=True).state
    before = [np.array(x) for x in state.optimizer_arrays]
    longer = replace(short, training=replace(short.training, epochs=4))
    once, twice = fit(longer, save=False, resume=state), fit(longer, save=False, resume=state)
    assert all(np.array_equal(x, y) for x, y in zip(state.optimizer_arrays, before, strict=True))
    assert same_weights(once.model.network, twice.model.network)
    assert fit(short, save=False).state is None  # (kept only when asked for)


def test_a_run_state_of_another_config_is_refused_as_a_checkpoint_is(uninterrupted):
    cfg, full, a = uninterrupted
    short = replace(cfg, training=replace(cfg.training, epochs=3))
    state = fit(short, save=False, keep_state=True).state
    other = replace(cfg, training=replace(cfg.training, learning_rate=0.5))
    with pytest.raises(ConfigError, match=r"the run state given to fit was written with a different config"):
        fit(other, save=False, resume=state)
