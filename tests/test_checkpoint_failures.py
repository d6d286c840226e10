"""A disk that fills up (or a permission taken away) during fit: a periodic checkpoint that cannot
be written is a 'warning' event (one 'Warning:' line on stderr) and training goes on, the next
checkpoint trying again; a final model that cannot be written is an exit-2 error saying what was
lost and where the newest checkpoint is; Ctrl-C while the disk is full still exits 130.

The full disk is simulated: the write of the files chosen fails with ENOSPC (no root, no mounts).
"""

from __future__ import annotations

import errno
import json
import os
import shlex
import signal
import subprocess
import sys
import textwrap
from dataclasses import replace

import pytest

import nettrain.modelfile as modelfile
from nettrain import fit, load_config, load_model
from nettrain.checkpoint import load_checkpoint
from nettrain.errors import Interrupted, OutputError
from tests.conftest import CONFIGS, ROOT
from tests.helpers import error_line, run, signal_when, subprocess_env


def disk_full(monkeypatch, fails):
    """Writing a file whose name ``fails(name)`` is true raises ENOSPC (as a full disk does,
    part-way through the write); other files are written as usual."""
    real = modelfile._stage

    def stage(path, write):
        if fails(path.name):

            def full(f):
                f.write(b"PK\x03\x04 a few bytes")
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

            return real(path, full)
        return real(path, write)

    monkeypatch.setattr(modelfile, "_stage", stage)


def epoch_of(name: str) -> int | None:
    return int(name[11:-4]) if name.startswith("checkpoint-") else None


def xor(folder, *sets):
    return load_config(CONFIGS / "xor.yaml", [f"output={folder}", *sets])


def checkpoints(folder) -> list[str]:
    return sorted((p.name for p in folder.glob("checkpoint-*.npz")), key=epoch_of)


def test_a_periodic_checkpoint_that_cannot_be_written_is_a_warning_and_training_goes_on(
    tmp_path, monkeypatch
):
    disk_full(monkeypatch, lambda name: epoch_of(name) in (2, 3))  # full for a while, then freed
    events = []
    cfg = xor(
        tmp_path / "run", "training.epochs=6", "training.checkpoint_every=1", "training.checkpoint_keep=10"
    )
    result = fit(cfg, lambda kind, info: events.append((kind, info)))
    warnings = [info for kind, info in events if kind == "warning"]
    assert [w["epoch"] for w in warnings] == [2, 3]
    assert "No space left on device" in warnings[0]["message"]
    assert "checkpoint-2.npz" in warnings[0]["message"] and "(training goes on)" in warnings[0]["message"]
    assert [info["epoch"] for kind, info in events if kind == "checkpoint"] == [1, 4, 5, 6]
    assert [r["epoch"] for r in result.history] == list(range(1, 7))
    assert checkpoints(tmp_path / "run") == [f"checkpoint-{e}.npz" for e in (1, 4, 5, 6)]
    load_model(tmp_path / "run")  # the run's model is written
    assert not [p for p in (tmp_path / "run").iterdir() if p.name.startswith(".")]  # no temporary left


def test_the_cli_prints_one_warning_line_per_failed_checkpoint_and_exits_0(tmp_path, monkeypatch):
    disk_full(monkeypatch, lambda name: name.startswith("checkpoint-"))
    args = ["fit", CONFIGS / "xor.yaml", "-o", tmp_path / "run", "--set", "training.epochs=4"]
    args += ["--set", "training.checkpoint_every=2"]
    r = run(*args)
    assert r.exit_code == 0, r.stderr
    warnings = [line for line in r.stderr.splitlines() if line.startswith("Warning: ")]
    assert len(warnings) == 2, r.stderr
    assert "checkpoint of epoch 2 not written: cannot write" in warnings[0]
    assert "No space left on device" in warnings[0] and "Traceback" not in r.stderr
    assert (tmp_path / "run" / "model.npz").is_file()
    # --quiet still shows them (a checkpoint asked for and not written); --json adds an event
    r = run(*args, "--quiet", "--json")
    assert r.exit_code == 0, r.stderr
    assert [line.startswith("Warning: ") for line in r.stderr.splitlines()] == [True, True]
    events = [json.loads(line) for line in r.stdout.splitlines()]
    assert [e["epoch"] for e in events if e["event"] == "warning"] == [2, 4]


def test_a_final_model_that_cannot_be_written_says_what_was_lost_and_where_the_checkpoint_is(
    tmp_path, monkeypatch
):
    out = tmp_path / "run"
    disk_full(
        monkeypatch, lambda name: name in ("model.npz", "history.jsonl", "config.yaml") or epoch_of(name) == 6
    )
    args = [
        "fit",
        CONFIGS / "xor.yaml",
        "-o",
        out,
        "--set",
        "training.epochs=6",
        "--set",
        "training.checkpoint_every=4",
    ]
    r = run(*args)
    assert r.exit_code == 2, r.stderr
    line = error_line(r.stderr)
    assert "model.npz" in line and "No space left on device" in line
    assert "were not written" in line
    assert f"the newest checkpoint is {out / 'checkpoint-4.npz'} (epoch 4 of 6)" in line, line
    assert checkpoints(out) == ["checkpoint-4.npz"]
    # no checkpoint at all: the weights are lost, and the message says so
    r = run("fit", CONFIGS / "xor.yaml", "-o", tmp_path / "other", "--set", "training.epochs=2")
    assert r.exit_code == 2
    line = error_line(r.stderr)
    assert "no checkpoint of it is on disk: the trained weights are lost" in line, line


def test_the_newest_checkpoint_at_the_last_epoch_is_named_as_holding_the_weights(tmp_path, monkeypatch):
    disk_full(monkeypatch, lambda name: name == "model.npz")
    cfg = xor(tmp_path / "run", "training.epochs=4", "training.checkpoint_every=2")
    with pytest.raises(OutputError) as info:
        fit(cfg)
    message = str(info.value)
    assert f"{tmp_path / 'run' / 'checkpoint-4.npz'}, holds the weights after epoch 4" in message, message
    load_checkpoint(tmp_path / "run" / "checkpoint-4.npz")


def test_an_interrupt_while_the_disk_is_full_is_still_an_interrupt(tmp_path, monkeypatch):
    """The checkpoint of the interrupt cannot be written: Interrupted all the same (exit 130), its
    message says so and names the run's newest checkpoint on disk, which is the one to resume."""
    out = tmp_path / "run"
    disk_full(monkeypatch, lambda name: epoch_of(name) not in (None, 2))  # only checkpoint-2 fits
    cfg = xor(out, "training.epochs=50", "training.checkpoint_every=2")
    steps = []
    events = []

    def stop():
        steps.append(1)
        return "SIGINT" if len(steps) > 5 else None  # xor: one step an epoch; stop in epoch 6

    with pytest.raises(Interrupted) as info:
        fit(cfg, lambda kind, info: events.append((kind, info)), stop=stop)
    exc = info.value
    assert exc.exit_code == 130
    assert "the checkpoint of epoch 5 could not be written" in str(exc)
    assert exc.checkpoint == str(out / "checkpoint-2.npz") and "epochs 3-5 again" in str(exc)
    assert [info["epoch"] for kind, info in events if kind == "warning"] == [4, 5]
    # the checkpoint it names resumes the run
    resumed = fit(replace(cfg, training=replace(cfg.training, epochs=6)), resume=exc.checkpoint)
    assert [r["epoch"] for r in resumed.history] == list(range(1, 7))
    # nothing on disk at all: no checkpoint to name
    disk_full(monkeypatch, lambda name: True)
    steps.clear()
    with pytest.raises(Interrupted) as info:
        fit(xor(tmp_path / "none", "training.epochs=50"), stop=stop)
    assert info.value.exit_code == 130 and info.value.checkpoint is None
    assert "no earlier one of this run is on disk" in str(info.value)


def test_the_cli_exits_130_when_the_interrupt_checkpoint_cannot_be_written(tmp_path, monkeypatch):
    """Ctrl-C with the disk full: 130, the warning and the interrupt on stderr, no 'Error:'."""
    from nettrain import cli

    disk_full(monkeypatch, lambda name: name.startswith("checkpoint-"))
    calls = []

    def get(self):
        calls.append(1)
        return "SIGINT" if len(calls) > 3 else None

    monkeypatch.setattr(cli._StopFlag, "get", get)
    r = run("fit", CONFIGS / "xor.yaml", "-o", tmp_path / "run", "--set", "training.epochs=50")
    assert r.exit_code == 130, r.stderr
    assert "Error:" not in r.stderr and "Traceback" not in r.stderr
    assert "Warning: checkpoint of epoch 3 not written" in r.stderr
    assert "interrupted (SIGINT) in epoch 4; the checkpoint of epoch 3 could not be written" in r.stderr
    assert "Resume with:" not in r.stderr  # nothing to resume from


DRIVER = textwrap.dedent(
    """
    import errno, os, sys
    import nettrain.modelfile as modelfile
    real = modelfile._stage
    def stage(path, write):
        if path.name.startswith("checkpoint-") and os.path.exists(sys.argv[1]):
            def full(f):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real(path, full)
        return real(path, write)
    modelfile._stage = stage
    from nettrain.cli import app
    app(sys.argv[2:], prog_name="nettrain")
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_real_sigint_with_the_disk_full_exits_130(tmp_path):
    """A real process: checkpoints are written until the 'disk' fills (a flag file appears), then
    SIGINT: exit 130, and the printed command resumes from the last checkpoint written."""
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    flag = tmp_path / "full"
    out = tmp_path / "run"
    err_path = tmp_path / "err"
    sets = ["training.epochs=100000", "training.checkpoint_every=20"]
    with open(err_path, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, str(driver), str(flag), "fit", str(CONFIGS / "xor.yaml"), "-o", str(out)]
            + [a for s in sets for a in ("--set", s)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=subprocess_env(),
            cwd=ROOT,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )

    def full_and_warned(text: str) -> bool:
        if "checkpoint:" in text and not flag.exists():
            flag.touch()
        return "Warning: checkpoint of epoch" in text

    text = signal_when(proc, err_path, full_and_warned, signal.SIGINT)
    assert proc.returncode == 130, text
    assert "Traceback" not in text and "Error:" not in text
    assert "could not be written" in text
    line = next(x for x in text.splitlines() if x.startswith("Resume with: "))
    checkpoint = shlex.split(line)[-1]
    assert os.path.dirname(checkpoint) == str(out)
    load_checkpoint(checkpoint)


def test_a_stop_after_the_last_step_with_the_model_not_written_is_still_an_interrupt(tmp_path, monkeypatch):
    disk_full(monkeypatch, lambda name: name == "model.npz")
    cfg = xor(tmp_path / "run", "training.epochs=4", "training.checkpoint_every=2")
    steps = []

    def stop():
        steps.append(1)
        return "SIGINT" if len(steps) > 4 else None  # asked once the four steps are done

    with pytest.raises(Interrupted) as info:
        fit(cfg, stop=stop)
    assert info.value.exit_code == 130
    assert "after the last epoch, and cannot write" in str(info.value)
    assert "were not written" in str(info.value) and "checkpoint-4.npz" in str(info.value)
    assert info.value.checkpoint is None  # it has no epochs left to train
