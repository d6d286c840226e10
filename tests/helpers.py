"""Helpers shared by several test files (not a test module)."""

from __future__ import annotations

import contextlib
import csv
import inspect
import io
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import yaml
from typer import testing

from nettrain.cli import app
from tests.conftest import CONFIGS, DATA, ROOT

MODULE = [sys.executable, "-m", "nettrain"]


OLD_CLICK = "mix_stderr" in inspect.signature(testing.CliRunner.__init__).parameters  # Click < 8.2


class CliRunner(testing.CliRunner):
    """Typer's CliRunner with stderr kept apart from stdout, as the tests read them: Click 8.2 and
    later always do that. Before 8.2 (Typer below 0.24 allows Click 8.0 and 8.1) it is the
    ``mix_stderr=False`` option (without it ``result.stderr`` raises), and the runner reads stderr
    without flushing it, so what was written to sys.stderr but not flushed is written through."""

    def __init__(self, **kwargs):
        if OLD_CLICK:
            kwargs.setdefault("mix_stderr", False)
        super().__init__(**kwargs)

    @contextlib.contextmanager
    def isolation(self, *args, **kwargs):
        with super().isolation(*args, **kwargs) as streams:
            if OLD_CLICK:
                sys.stderr.reconfigure(write_through=True)
            yield streams


def run(*args, input=None):
    """Invoke the app in-process; stdout and stderr come back separately."""
    return CliRunner().invoke(app, [str(a) for a in args], input=input)


def ok(result):
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result


def error_line(stderr: str) -> str:
    """The one 'Error:' line of a run's stderr (and no traceback)."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, stderr
    return lines[0]


def assert_error(result, *needles, code=2) -> str:
    """Exit `code`, exactly one 'Error:' line on stderr naming every needle, no traceback, no
    data on stdout. Returns the line."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # not a crash
    line = error_line(result.stderr)
    assert result.stdout == ""
    for needle in needles:
        assert needle in line, (needle, line)
    return line


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("FORCE_COLOR", "CLICOLOR_FORCE", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CI", "NETTRAIN_DEBUG"):
        env.pop(var, None)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def nettrain(*args, cwd=None, **kwargs) -> subprocess.CompletedProcess:
    """`python -m nettrain ARGS` in a real process (text mode, captured)."""
    kwargs.setdefault("capture_output", True)
    return subprocess.run(
        [*MODULE, *map(str, args)], text=True, env=subprocess_env(), cwd=cwd or ROOT, timeout=120, **kwargs
    )


def nettrain_on_a_terminal(*args, stream: str = "stdout") -> subprocess.CompletedProcess:
    """``nettrain(*args)`` with its ``stream`` (stdout or stdin) a pseudo-terminal; the other
    output captured, stdin empty."""
    import pytest

    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    try:
        if stream == "stdin":
            return nettrain(*args, stdin=slave)
        return nettrain(
            *args, stdout=slave, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, capture_output=False
        )
    finally:
        os.close(slave)
        os.close(master)


def write_config(path: Path, train, layers, cost="cross_entropy", training=None, **data) -> Path:
    """A config file next to its data: `data` keys as given, a quick training section."""
    t = {"learning_rate": 0.3, "epochs": 15, "batch_size": 16, "seed": 0}
    t.update(training or {})
    cfg = {
        "data": {"train": str(train), **data},
        "network": {"layers": list(layers), "activation": "tanh"},
        "cost": cost,
        "training": t,
        "output": "run",
    }
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def write_rows(path: Path, header, rows, delimiter=",", newline="\n", bom=False, tail="") -> Path:
    """A CSV file (quoting as needed) with the given delimiter and line ends."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator=newline)
    if header is not None:
        w.writerow(header)
    w.writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + (buf.getvalue() + tail).encode("utf-8"))
    return path


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def animals(n=240, seed=0):
    """A learnable table: numeric 'size' and 'weight', categorical 'color', label yes/no.

    The label depends on size and on the colour (red pushes towards yes), so one-hot inputs
    matter. Values are written with 3 decimals."""
    rng = np.random.default_rng(seed)
    colors = ["red", "green", "blue"]
    rows = []
    for i in range(n):
        color = colors[i % 3]
        size, weight = rng.normal(), rng.normal()
        label = "yes" if size + (1.5 if color == "red" else -0.7) > 0 else "no"
        rows.append([f"{size:.3f}", color, f"{weight:.3f}", label])
    return ["size", "color", "weight", "label"], rows


def weights(model) -> list[np.ndarray]:
    return [np.asarray(p) for p in model.network.params()]


def same_weights(a, b) -> bool:
    wa, wb = weights(a), weights(b)
    return len(wa) == len(wb) and all(x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(wa, wb))


def signal_when(proc, err_path: Path, ready: Callable[[str], bool], signum, timeout: float = 60) -> str:
    """Wait (on the process's stderr file, not the clock) until ``ready(stderr)``, send
    ``signum``, wait for the exit; returns the stderr text. Kills the process if anything fails."""
    try:
        deadline = time.monotonic() + timeout
        while not ready(err_path.read_text()):
            assert proc.poll() is None, err_path.read_text()
            assert time.monotonic() < deadline, f"not ready within {timeout} s"
            time.sleep(0.01)
        proc.send_signal(signum)
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return err_path.read_text()


def fitted(tmp_path_factory, config: str, epochs: int):
    """The run folder of `nettrain fit configs/CONFIG` for ``epochs`` epochs."""
    out = tmp_path_factory.mktemp(config) / "run"
    r = run("fit", CONFIGS / f"{config}.yaml", "--set", f"training.epochs={epochs}", "-o", out, "-q")
    assert r.exit_code == 0, r.stderr
    return out


# -- the weighted cost written out (class weights and sample weights) ---------------------------------


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def numpy_weighted(net, x, y, w):
    """The cost (1/n) sum_i w_i l_i and its gradients in plain NumPy, from the derivation (tanh
    hidden layers); l_i is row i's cost, its outputs' terms averaged for mse and BCE."""
    W = [np.array(v) for v in net.W]
    b = [np.array(v) for v in net.b]
    acts, zs = [x], []
    for l in range(len(W)):
        z = acts[-1] @ W[l].T + b[l]
        zs.append(z)
        acts.append(np.tanh(z) if l < len(W) - 1 else z)
    z = zs[-1]
    n, k = z.shape
    if net.cost_name == "cross_entropy":
        s = _softmax(z)
        per_row = -np.log(s[y == 1])
        delta = w[:, None] * (s - y) / n
    elif net.cost_name == "binary_cross_entropy":
        s = _sigmoid(z)
        per_row = (-(y * np.log(s) + (1 - y) * np.log(1 - s))).sum(axis=1) / k
        delta = w[:, None] * (s - y) / (n * k)
    elif net.output == "sigmoid":  # mse with a sigmoid output: dC/dz = dC/ds s (1 - s)
        s = _sigmoid(z)
        per_row = ((s - y) ** 2).sum(axis=1) / k
        delta = w[:, None] * 2 * (s - y) / (n * k) * s * (1 - s)
    else:
        per_row = ((z - y) ** 2).sum(axis=1) / k
        delta = w[:, None] * 2 * (z - y) / (n * k)
    cost = (w * per_row).sum() / n
    dW, db = [None] * len(W), [None] * len(W)
    for l in range(len(W) - 1, -1, -1):
        dW[l] = delta.T @ acts[l]
        db[l] = delta.sum(axis=0)
        if l > 0:
            delta = (delta @ W[l]) * (1 - acts[l] ** 2)
    return cost, dW, db


def table(name: str) -> tuple[np.ndarray, np.ndarray]:
    """A shipped data set (data/NAME, numbers only) as X and y: every column but the last, the last."""
    rows = np.loadtxt(DATA / name, delimiter=",", skiprows=1)
    return rows[:, :-1], rows[:, -1]
