"""training.gradient_norms: each epoch's record gets grad_norm, one number per W(l): the root
mean square over the epoch's steps of ||dC/dW(l)|| (Frobenius), the gradient of each step's
mean mini-batch cost as backprop formed it, before clipping and without weight decay. Checked
against plain NumPy replays; off by default; it changes no step; resume continues it."""

import json

import numpy as np
import pytest

from nettrain import ConfigError, config_from_dict, fit
from nettrain.data import RunData, stream_rng
from nettrain.network import Network
from nettrain.optimizers import OPTIMIZERS
from tests.conftest import CONFIGS, DATA
from tests.helpers import assert_error, ok, run


def small(training: dict, layers=(3, 4, 2), activation="tanh", cost="mse") -> dict:
    return {
        "network": {"layers": list(layers), "activation": activation},
        "cost": cost,
        "training": {"seed": 5, "gradient_norms": True, **training},
        "dtype": "float64",
        "device": "cpu",  # (the replays draw dropout masks from the host stream, as the CPU does)
    }


@pytest.mark.parametrize(
    "optimizer, weight_decay, clip_norm, dropout",
    [
        ("sgd", 0.0, 0.0, 0.0),  # the packed update: the workspace holds lr * dC/dW
        ("sgd", 0.1, 2.0, 0.0),  # decay and clipping change the step, not what is measured
        ("momentum", 0.1, 2.0, 0.0),  # the gradients unscaled (optimizer.step)
        ("sgd", 0.0, 0.0, 0.5),  # the gradient with the step's dropout masks
    ],
)
def test_grad_norm_is_the_rms_over_the_steps_of_each_layers_gradient_norm(
    optimizer, weight_decay, clip_norm, dropout
):
    """Three epochs of batches of 4, 4 and 2 rows replayed in NumPy (the seed's shuffle and
    dropout streams, the derivation's backprop for a tanh layer under mse, the update with
    clipping, decay and momentum as PyTorch does them); per layer and epoch the recorded number
    is sqrt(mean over the 3 steps of ||dW||^2), dW taken before clipping and decay."""
    lr, mu, bs, epochs = 0.1, 0.9, 4, 3
    rng = np.random.default_rng(3)
    X = rng.standard_normal((10, 3))
    Y = np.column_stack([X[:, 0] - X[:, 1], X[:, 2] ** 2])
    training = {
        "learning_rate": lr,
        "epochs": epochs,
        "batch_size": bs,
        "optimizer": optimizer,
        "weight_decay": weight_decay,
        "dropout": dropout,
        **({"clip_norm": clip_norm} if clip_norm else {}),
    }
    cfg = config_from_dict(small(training))
    result = fit(cfg, data=RunData.from_arrays(X, Y, "mse", dtype="float64"), save=False)

    start = Network.from_config(cfg)
    W, b = [w.copy() for w in start.W], [v.copy() for v in start.b]
    velocity = [np.zeros_like(p) for p in (W[0], b[0], W[1], b[1])]
    shuffle, drops = stream_rng(5, 2), stream_rng(5, 3)
    want = []
    for _ in range(epochs):
        squares = np.zeros(2)
        perm = shuffle.permutation(len(X))
        steps = 0
        for first in range(0, len(X), bs):
            x, y = X[perm[first : first + bs]], Y[perm[first : first + bs]]
            a1 = np.tanh(x @ W[0].T + b[0])
            mask = np.ones_like(a1)
            if dropout:
                mask = (drops.random(a1.shape, dtype=np.float32) >= dropout) / (1 - dropout)
            s = (a1 * mask) @ W[1].T + b[1]
            d2 = 2 * (s - y) / y.size
            d1 = (d2 @ W[1]) * mask * (1 - a1**2)
            dW, db = [d1.T @ x, d2.T @ (a1 * mask)], [d1.sum(axis=0), d2.sum(axis=0)]
            squares += [(g**2).sum() for g in dW]  # measured here: before clipping and decay
            steps += 1
            norm = np.sqrt(sum((g**2).sum() for g in dW + db))
            if clip_norm and norm > clip_norm:
                dW, db = ([g * clip_norm / (norm + 1e-6) for g in gs] for gs in (dW, db))
            grads = [dW[0] + weight_decay * W[0], db[0], dW[1] + weight_decay * W[1], db[1]]
            for p, g, v in zip([W[0], b[0], W[1], b[1]], grads, velocity):
                if optimizer == "momentum":
                    v *= mu
                    v += g
                    p -= lr * v
                else:
                    p -= lr * g
        want.append(list(np.sqrt(squares / steps)))
    got = [r["grad_norm"] for r in result.history]
    np.testing.assert_allclose(got, want, rtol=1e-10)
    for got_p, want_p in zip(result.model.network.W, W):  # (the replay is the run it measured)
        np.testing.assert_allclose(got_p, want_p, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_a_full_batch_epoch_records_each_layers_gradient_norm_for_every_optimizer(optimizer):
    """One full-batch epoch of a deep sigmoid network (softmax, cross-entropy): one step, taken
    at the initial weights, so every optimizer records the same numbers (adamw's default decay
    is not in them): those of the derivation's backprop written out here."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 5))
    labels = rng.integers(0, 3, 40)
    Y = np.eye(3)[labels]
    sizes = (5, 6, 6, 6, 3)
    training = {"epochs": 1, "batch_size": 64, "optimizer": optimizer, "learning_rate": 0.05}
    cfg = config_from_dict(small(training, layers=sizes, activation="sigmoid", cost="cross_entropy"))
    result = fit(cfg, data=RunData.from_arrays(X, Y, "cross_entropy", dtype="float64"), save=False)

    net = Network.from_config(cfg)
    acts = [X]
    for W, b in zip(net.W[:-1], net.b[:-1]):
        acts.append(1 / (1 + np.exp(-(acts[-1] @ W.T + b))))  # a(l+1) = sigmoid(z(l+1))
    z = acts[-1] @ net.W[-1].T + net.b[-1]
    s = np.exp(z - z.max(axis=1, keepdims=True))
    s /= s.sum(axis=1, keepdims=True)
    delta = (s - Y) / len(X)  # delta(L) of the mean cross-entropy
    norms = []
    for l in range(len(net.W) - 1, -1, -1):
        norms.insert(0, np.linalg.norm(delta.T @ acts[l]))  # ||dC/dW(l)||, Frobenius
        delta = (delta @ net.W[l]) * acts[l] * (1 - acts[l])  # delta(l) = W^T delta(l+1) * f'(z(l))
    (record,) = result.history
    np.testing.assert_allclose(record["grad_norm"], norms, rtol=1e-10)
    assert norms[0] < norms[-1] / 10  # (sigmoid layers shrink the gradient on its way back)


def digits(*sets: str) -> list[str]:
    return ["fit", str(CONFIGS / "digits.yaml"), "-q", "--set", "training.epochs=3", *sets]


def history(folder) -> list[dict]:
    return [json.loads(line) for line in (folder / "history.jsonl").read_text().splitlines()]


def test_off_by_default_nothing_is_recorded(tmp_path):
    ok(run(*digits("-o", str(tmp_path / "off"))))
    assert all("grad_norm" not in r for r in history(tmp_path / "off"))
    r = ok(run(*digits("-o", str(tmp_path / "json"), "--json")))
    assert all("grad_norm" not in json.loads(line) for line in r.stdout.splitlines())


@pytest.mark.parametrize(
    "sets",
    [
        [],  # plain sgd: the packed update
        ["training.optimizer=momentum", "training.dropout=0.2", "training.clip_norm=1.0"],
    ],
    ids=["sgd", "momentum, dropout, clipped"],
)
def test_measuring_changes_no_step(tmp_path, sets):
    """The same run with the norms measured: the same losses and weights, bit for bit; JSON
    lines and history.jsonl carry the norms, one per W(l)."""
    overrides = [x for s in sets for x in ("--set", s)]
    ok(run(*digits("-o", str(tmp_path / "off"), *overrides)))
    r = ok(
        run(
            *digits("-o", str(tmp_path / "on"), "--json", "--set", "training.gradient_norms=true", *overrides)
        )
    )
    off, on = history(tmp_path / "off"), history(tmp_path / "on")
    assert [h["loss"] for h in on] == [h["loss"] for h in off]
    assert [h["val_loss"] for h in on] == [h["val_loss"] for h in off]
    from nettrain import load_model

    for a, b in zip(load_model(tmp_path / "off").network.W, load_model(tmp_path / "on").network.W):
        np.testing.assert_array_equal(a, b)
    lines = [json.loads(line) for line in r.stdout.splitlines() if '"epoch"' in line]
    assert [x["grad_norm"] for x in lines if x["event"] == "epoch"] == [h["grad_norm"] for h in on]
    assert all(len(h["grad_norm"]) == 3 and all(g > 0 for g in h["grad_norm"]) for h in on)


def timeless(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in ("time", "samples_per_s")} for r in records]


def test_resume_continues_the_norms(tmp_path):
    """A resumed run's history is the uninterrupted run's, norms included; turning the norms on
    at resume needs no --force (they change no step): the epochs from then on have them."""
    on = ["--set", "training.gradient_norms=true", "--set", "training.checkpoint_every=2"]
    ok(run(*digits("-o", str(tmp_path / "straight"), "--set", "training.epochs=4", *on)))
    straight = history(tmp_path / "straight")
    ok(run(*digits("-o", str(tmp_path / "a"), "--set", "training.epochs=2", *on)))
    ok(
        run(
            *digits(
                "-o", str(tmp_path / "a"), "--set", "training.epochs=4", *on, "--resume", str(tmp_path / "a")
            )
        )
    )
    assert timeless(history(tmp_path / "a")) == timeless(straight)
    ok(
        run(
            *digits(
                "-o",
                str(tmp_path / "b"),
                "--set",
                "training.epochs=2",
                "--set",
                "training.checkpoint_every=2",
            )
        )
    )
    ok(
        run(
            *digits(
                "-o", str(tmp_path / "b"), "--set", "training.epochs=4", *on, "--resume", str(tmp_path / "b")
            )
        )
    )
    later = history(tmp_path / "b")
    assert ["grad_norm" in r for r in later] == [False, False, True, True]
    assert [r["grad_norm"] for r in later[2:]] == [r["grad_norm"] for r in straight[2:]]


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_an_epoch_at_learning_rate_zero_records_the_gradients_norm(optimizer):
    """An epoch whose learning rate is 0 (an exponential decay that underflows: 0.1 * (1e-200)^2
    is 0 in epoch 3) leaves the weights as they were and records the norm of the gradient at
    them: with one full batch an epoch is one step, so the record is ||dC/dW(l)|| that
    Network.gradients gives at the final weights, which epoch 2 (lr 1e-201: no weight moves by
    it) ended with too. Plain sgd, which folds lr into the gradient it forms, recorded null (and
    takes no step: the weights stay bit-identical)."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((12, 3))
    Y = X[:, :2] * 2
    training = {
        "learning_rate": 0.1,
        "batch_size": 64,
        "optimizer": optimizer,
        "schedule": {"name": "exponential", "gamma": 1e-200},
    }
    data = RunData.from_arrays(X, Y, "mse", dtype="float64")
    result = fit(config_from_dict(small({**training, "epochs": 3})), data=data, save=False)
    two = fit(config_from_dict(small({**training, "epochs": 2})), data=data, save=False)
    assert result.history[2]["lr"] == 0
    net = result.model.network
    for w, w2 in zip(net.W, two.model.network.W):  # the lr-0 epoch moved nothing
        np.testing.assert_array_equal(w, w2)
    loss, dW, _ = net.gradients(X, Y)
    want = [np.linalg.norm(g) for g in dW]
    assert all(w > 0 for w in want)
    # (epoch 2's is the same number, except under plain sgd: the squares of 1e-201 dC/dW are 0)
    np.testing.assert_allclose(result.history[2]["grad_norm"], want, rtol=1e-10)
    assert result.history[2]["loss"] == pytest.approx(loss, rel=1e-12)


@pytest.mark.parametrize("value", ["yes", "1", "'true'", "[true]"])
def test_a_value_other_than_true_or_false_is_refused(tmp_path, value):
    line = assert_error(
        run(
            "fit", CONFIGS / "digits.yaml", "-o", tmp_path / "r", "--set", f"training.gradient_norms={value}"
        ),
        "training.gradient_norms",
        "is not true or false",
    )
    assert not (tmp_path / "r").exists(), line
    with pytest.raises(
        ConfigError, match=r"training\.gradient_nroms: unknown key \(did you mean 'gradient_norms'"
    ):
        config_from_dict({**small({}), "training": {"gradient_nroms": True}})


def test_the_config_key_defaults_to_false_and_is_written_to_the_resolved_config():
    cfg = config_from_dict({"network": {"layers": [2, 1]}, "data": {"train": str(DATA / "xor.csv")}})
    assert cfg.training.gradient_norms is False
    assert cfg.to_dict()["training"]["gradient_norms"] is False
    assert config_from_dict(small({})).to_dict()["training"]["gradient_norms"] is True


def test_progress_shows_the_first_and_the_last_layers_norm_only_when_measured():
    """The plain lines and the live table get one compact entry: W(1)'s and W(L)'s norms."""
    import io

    from rich.console import Console

    from nettrain.report import PlainReporter, RichReporter

    start = {"epochs": 2, "first_epoch": 1, "n_train": 10, "n_val": 0, "batches": 1}
    start.update({"batch_size": 10, "params": 9, "device": "cpu", "sizes": [4, 3, 3, 2]})
    epoch = {"epoch": 1, "loss": 0.5, "lr": 0.1, "samples_per_s": 1e5, "elapsed": 1.0, "eta": 1.0}
    measured = {**epoch, "grad_norm": [1.234e-5, 0.5, 0.0456]}
    plain = PlainReporter(io.StringIO())
    plain.on_start(start)
    assert "grad W(1)/W(3) 1.2e-05/4.6e-02  lr 0.1" in plain.epoch_line(measured)
    assert "grad" not in plain.epoch_line(epoch)
    for record, header in ((measured, "grad W(1)/W(3)"), (epoch, None)):
        live = RichReporter(err=io.StringIO())
        live.on_start(start)
        try:
            live.on_epoch(record)
            console = Console(record=True, width=120, file=io.StringIO())
            console.print(live._render())
            text = console.export_text()
        finally:
            live.close()
        assert (header in text and "1.2e-05/4.6e-02" in text) if header else "grad" not in text
