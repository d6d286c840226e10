"""kill -9 at any moment never leaves a half-written model or history (issue "Real-world data in,
nothing lost"): every file of a run folder is written to a temporary file in the same folder,
fsync'ed and renamed.

`python -m nettrain fit` runs into a folder that already holds a good model from an earlier run
and is killed with SIGKILL after seeded random delays (a few runs, a few seconds in all). After
each kill, every file in the folder is whole: the model loads and predicts finite numbers, each
checkpoint loads, every history line is JSON, config.yaml loads as a config. Temporary files and
fit's lock file may remain after SIGKILL (nothing can remove them), but they are never named
like a real file, and the next fit takes the lock over.
"""

from __future__ import annotations

import json
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from nettrain import load_config, load_model
from nettrain.checkpoint import load_checkpoint
from nettrain.runlock import LOCK_NAME
from tests.helpers import MODULE, animals, same_weights, subprocess_env, write_config, write_rows

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

FILES = re.compile(r"^(model\.npz|history\.jsonl|config\.yaml|checkpoint-\d+\.npz)$")
TEMPORARY = re.compile(r"^\.nettrain-[^/]+\.tmp$")  # modelfile.TEMP_PREFIX, TEMP_SUFFIX


def fit_process(config: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [*MODULE, "fit", str(config), "-o", str(out), "--quiet"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=subprocess_env(),
        cwd=config.parent,
    )


def check_folder(out: Path, first) -> dict[str, int]:
    """Every file whole; returns how many of each kind were found."""
    found = {"model": 0, "checkpoint": 0, "history": 0, "config": 0, "temporary": 0}
    for p in out.iterdir():
        name = p.name
        if TEMPORARY.match(name):
            found["temporary"] += 1
            continue
        if name == LOCK_NAME:  # fit's lock, left by the kill; it holds no lock once fit is dead
            assert not p.read_text() or p.read_text().strip().isdigit()
            continue
        assert FILES.match(name), f"unexpected file {name}"
        if name == "model.npz":
            model = load_model(p)
            x = np.random.default_rng(0).normal(size=(20, model.network.sizes[0]))
            assert np.isfinite(model.forward(x.astype(model.network.dtype))).all()
            # a finished run of the same config and seed gives the same model, bit for bit
            assert same_weights(model, first)
            found["model"] += 1
        elif name.startswith("checkpoint-"):
            model, state, _, _ = load_checkpoint(p)
            assert f"checkpoint-{state['epoch']}.npz" == name
            found["checkpoint"] += 1
        elif name == "history.jsonl":
            records = [json.loads(line) for line in p.read_text().splitlines()]
            assert [r["epoch"] for r in records] == list(range(1, len(records) + 1))
            assert p.read_text().endswith("\n")
            found["history"] += 1
        elif name == "config.yaml":
            assert isinstance(yaml.safe_load(p.read_text()), dict)
            load_config(p)
            found["config"] += 1
    return found


def test_sigkill_at_random_moments_never_leaves_a_broken_file(tmp_path):
    header, rows = animals(3000)
    write_rows(tmp_path / "train.csv", header, rows)
    config = write_config(
        tmp_path / "c.yaml",
        "train.csv",
        [5, 32, 2],
        target="label",
        validation=0.2,
        training={"epochs": 40, "batch_size": 32, "checkpoint_every": 1, "checkpoint_keep": 2},
    )
    out = tmp_path / "run"
    start = time.monotonic()
    first_run = fit_process(config, out)
    _, err = first_run.communicate(timeout=60)
    duration = time.monotonic() - start
    assert first_run.returncode == 0, err
    first = load_model(out)
    assert check_folder(out, first)["model"] == 1

    rng = random.Random(20261126)
    kinds = []
    t0 = time.monotonic()
    for i in range(6):
        # half anywhere in the run, half near its end, where the final files are written
        delay = duration * (rng.uniform(0.2, 1.0) if i % 2 else rng.uniform(0.8, 1.05))
        proc = fit_process(config, out)
        try:
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode in (-signal.SIGKILL, 0), err
        kinds.append(proc.returncode)
        found = check_folder(out, first)
        assert found["model"] == 1  # the earlier model stays until a whole new one replaces it
        assert found["history"] == found["config"] == 1
    assert time.monotonic() - t0 < 30
    assert -signal.SIGKILL in kinds  # at least some runs were really killed part-way


def test_an_interrupt_while_saving_leaves_the_earlier_run_whole(tmp_path, monkeypatch):
    """config.yaml, history.jsonl and model.npz are written to temporary files first and renamed
    together: a Ctrl-C while the model is being written (the slow part) leaves all three files of
    the earlier run as they were, and no temporary file."""
    from dataclasses import replace

    from nettrain import fit
    from tests.conftest import CONFIGS

    config = replace(load_config(CONFIGS / "xor.yaml"), output=str(tmp_path / "run"))
    fit(config)
    before = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()}
    assert {"config.yaml", "history.jsonl", "model.npz"} <= set(before)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    other = replace(config, training=replace(config.training, seed=9, epochs=config.training.epochs + 1))
    with pytest.raises(KeyboardInterrupt):
        fit(other)
    after = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()}
    assert after == before
