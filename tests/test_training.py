"""The fit loop end to end: the shipped configs learn their tasks; determinism; mini-batches;
divergence; events; the run folder; dtypes."""

import csv
import json
import re
import time
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nettrain import ConfigError, TrainingDiverged, config_from_dict, fit, load_config, load_model
from nettrain.backend import to_host
from nettrain.network import Network, Workspace
from nettrain.optimizers import SGD
from tests.conftest import CONFIGS, DATA


def read_csv(path, target):
    """(features as named columns, X float64 (n, features), target column as text)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    t = header.index(target)
    features = [h for i, h in enumerate(header) if i != t]
    X = np.array([[float(v) for i, v in enumerate(r) if i != t] for r in body])
    return features, X, [r[t] for r in body]


def config(name: str, *overrides: str):
    return load_config(CONFIGS / f"{name}.yaml", overrides=list(overrides))


# -- the shipped configs learn ---------------------------------------------------------------------


def test_xor_is_learned():
    result = fit(config("xor"), save=False)
    features, X, labels = read_csv(DATA / "xor.csv", "label")
    assert features == result.model.encoding.features
    assert list(result.model.predict(X)) == labels == ["0", "1", "1", "0"]
    p = result.model.predict_proba(X)
    # confident, not just on the right side of 0.5
    assert np.all(np.abs(p[:, 1] - np.array([0, 1, 1, 0])) < 0.25)


def test_digits_reaches_96_percent_with_the_shipped_defaults():
    cfg = config("digits")
    tc = cfg.training
    assert (tc.epochs, tc.learning_rate, tc.batch_size) == (30, 0.1, 32)
    result = fit(cfg, save=False)
    assert result.test["accuracy"] >= 0.96
    assert result.summary["test_accuracy"] == result.test["accuracy"]
    # the same, counted here from the model's own predictions on the raw test file
    features, X, labels = read_csv(DATA / "digits_test.csv", "label")
    assert features == result.model.encoding.features
    pred = result.model.predict(X)
    accuracy = sum(p == t for p, t in zip(pred, labels, strict=True)) / len(labels)
    assert accuracy == pytest.approx(result.test["accuracy"])


def test_regression_reaches_r2_of_0_9():
    result = fit(config("regression"), save=False)
    assert result.test["r2"] >= 0.9
    # R^2 = 1 - SS_res / SS_tot, in the target's own units from the model's predictions
    features, X, y_text = read_csv(DATA / "regression_test.csv", "y")
    y = np.array([float(v) for v in y_text])
    pred = result.model.predict(X)
    assert pred.shape == y.shape
    r2 = 1 - ((y - pred) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert r2 >= 0.9
    assert r2 == pytest.approx(result.test["r2"], abs=1e-4)


# -- determinism -----------------------------------------------------------------------------------


def test_same_seed_same_weights_bit_for_bit_and_another_seed_differs():
    a = fit(config("seed", "training.epochs=10"), save=False).model.network
    b = fit(config("seed", "training.epochs=10"), save=False).model.network
    c = fit(config("seed", "training.epochs=10", "training.seed=1"), save=False).model.network
    for i in range(len(a.W)):
        assert np.array_equal(a.W[i], b.W[i]) and np.array_equal(a.b[i], b.b[i])
    assert not all(np.array_equal(a.W[i], c.W[i]) for i in range(len(a.W)))


# -- the update rule -------------------------------------------------------------------------------


def test_learning_rate_zero_cannot_be_configured():
    with pytest.raises(ConfigError, match="learning_rate"):
        config("seed", "training.learning_rate=0")


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_sgd_with_lr_zero_leaves_weights_unchanged(data):
    shapes = [(3, 2), (3,), (1, 3), (1,)]
    finite = st.floats(-1e3, 1e3, allow_nan=False)
    params = [data.draw(arrays(np.float64, s, elements=finite)) for s in shapes]
    grads = [data.draw(arrays(np.float64, s, elements=finite)) for s in shapes]
    before = [p.copy() for p in params]
    SGD(0.0).step(params, grads)
    for p, q in zip(params, before, strict=True):
        assert np.array_equal(p, q)
    # and a nonzero lr moves every parameter by exactly -lr * g (when g is nonzero)
    SGD(0.25).step(params, grads)
    for p, q, g in zip(params, before, grads, strict=True):
        np.testing.assert_array_equal(p, q - 0.25 * g)


def tiny_regression(tmp_path, n: int, **training):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 2))
    y = X[:, 0] - 2 * X[:, 1]
    path = tmp_path / "tiny.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header="a,b,y", comments="")
    raw = {
        "data": {"train": str(path), "target": "y"},
        "network": {"layers": [2, 3, 1], "activation": "tanh"},
        "cost": "mse",
        "training": {"learning_rate": 0.1, "epochs": 2, "seed": 0, **training},
        "output": str(tmp_path / "run"),
    }
    return config_from_dict(raw, base=tmp_path), X


def test_last_smaller_batch_is_kept_and_every_row_visited(tmp_path, monkeypatch):
    cfg, X = tiny_regression(tmp_path, 10, batch_size=4, epochs=2)
    seen, steps = [], []
    step = Workspace.step

    def count_step(self, x, y, scale, rng=None, rows=None):
        # the training loop's forward/backward: one call per optimizer step
        seen.append(to_host(x).copy())  # (the step reuses its buffer; a device array on a GPU machine)
        steps.append(1)
        return step(self, x, y, scale, rng, rows)

    monkeypatch.setattr(Workspace, "step", count_step)
    result = fit(cfg, save=False)
    # 10 rows in batches of 4: 4, 4 and the last 2 are kept -> 3 steps per epoch
    assert len(steps) == 2 * 3
    assert [len(x) for x in seen] == [4, 4, 2, 4, 4, 2]
    mean, scale = result.model.encoding.x_mean, result.model.encoding.x_scale
    expected = np.sort(((X - mean) / scale).astype(np.float32), axis=0)
    for epoch in (seen[:3], seen[3:]):
        rows = np.concatenate(epoch)
        np.testing.assert_array_equal(np.sort(rows, axis=0), expected)  # every row once
    assert not np.array_equal(np.concatenate(seen[:3]), np.concatenate(seen[3:]))  # reshuffled


@pytest.mark.parametrize("weight_decay, clip_norm", [(0.0, 0.0), (0.1, 0.0), (0.0, 2.0), (0.1, 2.0)])
def test_fit_is_minibatch_gradient_descent_replayed_by_hand(weight_decay, clip_norm):
    """Two epochs of fit against the same epochs in plain NumPy: each epoch's permutation of the
    rows (the seed's shuffle stream) cut into batches of 4, 4 and a last one of 2 averaged over
    its own 2 rows; the derivation's backprop for a tanh layer under mse; the gradients clipped
    to a global norm of at most clip_norm (PyTorch's clip_grad_norm_: factor clip / (norm +
    1e-6)); W := W - lr (dC/dW + wd W) with the biases left out of the decay; the epoch's loss
    the mean over all rows of the losses measured before each step."""
    from nettrain.data import RunData, stream_rng

    lr, bs, epochs = 0.1, 4, 2
    rng = np.random.default_rng(3)
    X = rng.standard_normal((10, 3))
    Y = np.column_stack([X[:, 0] - X[:, 1], X[:, 2] ** 2])
    cfg = config_from_dict(
        {
            "network": {"layers": [3, 4, 2], "activation": "tanh"},
            "cost": "mse",
            "training": {
                "learning_rate": lr,
                "epochs": epochs,
                "batch_size": bs,
                "seed": 5,
                "weight_decay": weight_decay,
                **({"clip_norm": clip_norm} if clip_norm else {}),
            },
            "dtype": "float64",
        }
    )
    result = fit(cfg, data=RunData.from_arrays(X, Y, "mse", dtype="float64"), save=False)

    start = Network.from_config(cfg)  # the initial weights fit draws
    W = [w.copy() for w in start.W]
    b = [v.copy() for v in start.b]
    shuffle = stream_rng(5, 2)
    losses, clipped = [], 0
    for _ in range(epochs):
        total = 0.0
        perm = shuffle.permutation(len(X))
        for first in range(0, len(X), bs):
            x, y = X[perm[first : first + bs]], Y[perm[first : first + bs]]
            a1 = np.tanh(x @ W[0].T + b[0])
            s = a1 @ W[1].T + b[1]
            total += ((s - y) ** 2).mean() * len(x)
            d2 = 2 * (s - y) / y.size  # dC/dz of the mean over the batch's rows and outputs
            d1 = (d2 @ W[1]) * (1 - a1**2)
            dW, db = [d1.T @ x, d2.T @ a1], [d1.sum(axis=0), d2.sum(axis=0)]
            norm = np.sqrt(sum((g**2).sum() for g in dW + db))
            if clip_norm and norm > clip_norm:
                clipped += 1
                dW, db = ([g * clip_norm / (norm + 1e-6) for g in gs] for gs in (dW, db))
            for l in range(2):
                W[l] -= lr * (dW[l] + weight_decay * W[l])
                b[l] -= lr * db[l]
        losses.append(total / len(X))
    np.testing.assert_allclose([r["loss"] for r in result.history], losses, rtol=1e-12)
    net = result.model.network
    for got, want in zip(net.W + net.b, W + b, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)
    assert not np.allclose(net.W[0], start.W[0])  # (it did train)
    if clip_norm:  # (some steps were clipped, some not)
        assert 0 < clipped < epochs * 3


@pytest.mark.parametrize("batch_size", [3, 10, 8192])
def test_evaluate_dataset_scores_the_whole_set_whatever_its_batches(batch_size):
    """The validation figures: the mean loss over every row (batches weighted by their rows, the
    last one short) and the accuracy of one sigmoid unit's classes (s >= 0.5), both against the
    network written out in NumPy."""
    from nettrain.backend import Device
    from nettrain.data import RunData
    from nettrain.train import evaluate_dataset

    rng = np.random.default_rng(4)
    X = rng.standard_normal((10, 3))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(float).reshape(-1, 1)
    data = RunData.from_arrays(X, y, "binary_cross_entropy", dtype="float64")
    net = Network.create([3, 5, 1], ["tanh"], "sigmoid", "binary_cross_entropy", seed=1, dtype="float64")
    net.b[-1][:] = 0.3  # (not a symmetric start)
    s = 1 / (1 + np.exp(-(np.tanh(X @ net.W[0].T + net.b[0]) @ net.W[1].T + net.b[1])))
    loss = -(y * np.log(s) + (1 - y) * np.log(1 - s)).mean()
    accuracy = np.mean((s[:, 0] >= 0.5) == (y[:, 0] == 1))
    assert accuracy not in (np.mean(y == 0), np.mean(y == 1))  # not what a constant class scores
    got = evaluate_dataset(net, data.train, data.encoding, Device("cpu"), batch_size=batch_size)
    assert got["loss"] == pytest.approx(loss, rel=1e-12)
    assert got["accuracy"] == pytest.approx(accuracy)


def test_a_test_row_far_outside_the_training_range_gives_its_loss_without_a_warning(tmp_path):
    """A test row at x = 1e20 puts a relu net's output near 1e20: (s - y)^2 overflowed float32,
    the test loss was inf (Infinity in fit --json, which is not JSON) and NumPy's
    RuntimeWarning reached the terminal, the test set being scored after the training loop."""
    import io

    from nettrain.report import JsonReporter

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    rows = [f"{a},{b},{3 * a + b}" for a, b in X.tolist()]
    (tmp_path / "train.csv").write_text("x1,x2,y\n" + "\n".join(rows) + "\n")
    (tmp_path / "test.csv").write_text("x1,x2,y\n1e20,0,3\n0.5,0.5,2\n")
    cfg = config_from_dict(
        {
            "data": {"train": str(tmp_path / "train.csv"), "test": str(tmp_path / "test.csv")},
            "network": {"layers": [2, 8, 1], "activation": "relu"},
            "training": {"epochs": 2},
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = fit(cfg, save=False)
    model = result.model
    enc = model.encoding
    s = model.forward(enc.transform(np.array([[1e20, 0.0], [0.5, 0.5]]))).astype(np.float64)
    expected = np.mean((s - (np.array([[3.0], [2.0]]) - enc.y_mean) / enc.y_scale) ** 2)
    assert 1e30 < expected < 1e300
    assert result.test["loss"] == pytest.approx(expected, rel=1e-6)
    # and a number that is not finite is null in the JSON lines, not Infinity
    out = io.StringIO()
    JsonReporter(out=out, err=io.StringIO(), quiet=True).emit(
        {"test_loss": float("inf"), "x": [float("nan")]}
    )
    assert json.loads(out.getvalue()) == {"test_loss": None, "x": [None]}


# -- divergence ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["regression", "seed"])
def test_huge_learning_rate_raises_training_diverged(name):
    # 1e6 as a plain integer: PyYAML (YAML 1.1) reads '1e6' as a string
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no stream of NumPy overflow warnings on the way
        with pytest.raises(TrainingDiverged) as info:
            fit(config(name, "training.learning_rate=1000000"), save=False)
    message = str(info.value)
    assert "epoch 1" in message and "learning rate" in message
    assert info.value.exit_code == 1


def test_an_unscaled_target_too_large_for_float32_says_to_standardize(tmp_path):
    """A target of 1e20 with data.standardize: false: (s - y)^2 is past float32's range at the
    first step, whatever the learning rate, which was all the message suggested."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    rows = [f"{a},{b},{1e20 * (1 + 0.1 * a)}" for a, b in X.tolist()]
    (tmp_path / "t.csv").write_text("x1,x2,y\n" + "\n".join(rows) + "\n")
    raw = {
        "data": {"train": str(tmp_path / "t.csv")},
        "network": {"layers": [2, 4, 1]},
        "training": {"epochs": 1},
    }
    with pytest.raises(TrainingDiverged) as info:
        fit(config_from_dict({**raw, "data": {**raw["data"], "standardize": False}}), save=False)
    assert "learning rate" in str(info.value) and "standardize the data (data.standardize is false)" in str(
        info.value
    )
    assert fit(config_from_dict(raw), save=False).history[0]["loss"] < 10  # standardized, it trains


def diverging_run(lr: float, epochs: int, batch_size: int):
    """fit on 20 rows of a linear target without validation data: (events, the TrainingDiverged)."""
    from nettrain.data import RunData

    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    Y = X @ np.array([[1.0], [-2.0], [0.5]])
    cfg = config_from_dict(
        {
            "network": {"layers": [3, 4, 1], "activation": "tanh"},
            "cost": "mse",
            "training": {"learning_rate": lr, "epochs": epochs, "batch_size": batch_size},
        }
    )
    events = []
    data = RunData.from_arrays(X, Y, "mse")
    with pytest.raises(TrainingDiverged) as info:
        fit(cfg, data=data, save=False, on_event=lambda kind, info: events.append((kind, info)))
    return events, info.value


def test_divergence_names_the_first_epoch_whose_training_loss_is_not_finite():
    """Without validation data only the training loss shows it: the error names that epoch, the
    one after the last finite epoch reported, not a later one."""
    events, error = diverging_run(5.0, 6, 5)
    finite = [i["loss"] for k, i in events if k == "epoch"]
    assert finite and all(np.isfinite(finite))
    assert len(finite) < 5  # it diverged well before the last epoch
    assert re.search(rf"the loss became (inf|nan) in epoch {len(finite) + 1};", str(error)), error


def test_a_last_update_that_overflows_the_weights_is_divergence_too():
    """The step losses are measured before each update: one step (a single batch and epoch) with
    a learning rate that overflows float32 has a finite loss and infinite weights afterwards."""
    events, error = diverging_run(1e39, 1, 20)
    assert all(np.isfinite(i["loss"]) for k, i in events if k == "epoch")
    assert "a weight became NaN or infinite in epoch 1" in str(error)


def test_a_last_update_to_weights_too_large_for_the_outputs_is_divergence_too():
    """A last step whose weights are finite but so large that the outputs overflow (inf - inf in
    the softmax) is divergence too, not a model whose every prediction is NaN."""
    from nettrain.data import RunData

    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    cfg = config_from_dict(
        {
            "network": {"layers": [3, 8, 2], "activation": "relu"},
            "cost": "cross_entropy",
            "training": {"learning_rate": 1e30, "epochs": 1, "batch_size": 20},
        }
    )
    data = RunData.from_arrays(X, (X[:, :1] > 0).astype(int), "cross_entropy")
    with pytest.raises(TrainingDiverged, match="the network's output became NaN or infinite in epoch 1"):
        fit(cfg, data=data, save=False)


def test_divergence_keeps_the_earlier_good_model(tmp_path):
    out = f"output={tmp_path / 'run'}"
    good = fit(config("seed", out, "training.epochs=5"), save=True)
    files = {
        name: (tmp_path / "run" / name).read_bytes() for name in ("model.npz", "history.jsonl", "config.yaml")
    }
    with pytest.raises(TrainingDiverged):
        fit(config("seed", out, "training.learning_rate=1000000"), save=True)
    for name, content in files.items():
        assert (tmp_path / "run" / name).read_bytes() == content, name
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == sorted(files)  # no temp files
    reloaded = load_model(tmp_path / "run" / "model.npz").network
    assert all(np.array_equal(w, v) for w, v in zip(reloaded.W, good.model.network.W, strict=True))


# -- events ----------------------------------------------------------------------------------------


def test_events_start_epochs_end_with_validation():
    events = []
    result = fit(config("seed", "training.epochs=3"), on_event=lambda k, i: events.append((k, i)), save=False)
    kinds = [k for k, _ in events if k not in ("notice", "batch")]
    assert kinds == ["start", "epoch", "epoch", "epoch", "end"]
    epochs = [i for k, i in events if k == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    for e, h in zip(epochs, result.history, strict=True):
        assert {"epoch", "loss", "val_loss"} <= set(e)
        assert np.isfinite(e["loss"]) and np.isfinite(e["val_loss"])
        assert e["loss"] == h["loss"] and e["val_loss"] == h["val_loss"]
    start = events[[k for k, _ in events].index("start")][1]
    assert start["epochs"] == 3 and start["n_train"] == 160 and start["n_val"] == 40
    assert events[-1][0] == "end" and events[-1][1]["summary"] == result.summary


def test_events_without_validation_and_with_test():
    events = []
    fit(config("xor", "training.epochs=2"), on_event=lambda k, i: events.append((k, i)), save=False)
    epochs = [i for k, i in events if k == "epoch"]
    assert len(epochs) == 2 and all("val_loss" not in e for e in epochs)
    events.clear()
    fit(config("digits", "training.epochs=1"), on_event=lambda k, i: events.append((k, i)), save=False)
    kinds = [k for k, _ in events if k not in ("notice", "batch")]
    assert kinds == ["start", "epoch", "test", "end"]
    assert "accuracy" in events[[k for k, _ in events].index("test")][1]


# -- the run folder --------------------------------------------------------------------------------


def test_fit_writes_model_history_and_a_reloadable_config(tmp_path):
    cfg = config("seed", "training.epochs=4", f"output={tmp_path / 'run'}")
    result = fit(cfg, save=True)
    run = tmp_path / "run"
    assert result.output == str(run)
    lines = (run / "history.jsonl").read_text().splitlines()
    assert len(lines) == 4
    records = [json.loads(line) for line in lines]
    assert [r["epoch"] for r in records] == [1, 2, 3, 4]
    assert [r["loss"] for r in records] == [h["loss"] for h in result.history]
    again = load_config(run / "config.yaml")
    assert again.to_dict() == cfg.to_dict()
    model = load_model(run / "model.npz")
    for w, v in zip(
        model.network.W + model.network.b, result.model.network.W + result.model.network.b, strict=True
    ):
        assert w.dtype == v.dtype and np.array_equal(w, v)


def test_save_false_writes_nothing(tmp_path):
    result = fit(config("xor", "training.epochs=1", f"output={tmp_path / 'run'}"), save=False)
    assert result.output is None and not (tmp_path / "run").exists()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype_is_kept_through_training(dtype):
    result = fit(config("seed", "training.epochs=2", f"dtype={dtype}"), save=False)
    net = result.model.network
    assert all(p.dtype == np.dtype(dtype) for p in net.W + net.b)


def test_fit_on_arrays_already_encoded():
    """RunData.from_arrays: the Python API's way to train on NumPy arrays without files."""
    from nettrain.data import RunData

    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 3))
    labels = (X[:, 0] + X[:, 1] > 0).astype(int)
    Y = np.eye(2)[labels]
    cfg = config_from_dict(
        {
            "network": {"layers": [3, 8, 2]},
            "cost": "cross_entropy",
            "training": {"epochs": 20, "learning_rate": 0.1},
        }
    )
    result = fit(cfg, data=RunData.from_arrays(X, Y, "cross_entropy"), save=False)
    assert result.model.network.dtype == np.float32
    pred = result.model.predict(X)
    assert pred.dtype == np.int64 and set(pred.tolist()) <= {0, 1}  # class numbers, as given
    assert np.mean(pred == labels) > 0.9
    # regression: values come back in the given units (no standardization was applied)
    y = (2 * X[:, 0]).reshape(-1, 1)
    cfg = config_from_dict(
        {
            "network": {"layers": [3, 8, 1], "activation": "tanh"},
            "cost": "mse",
            "training": {"epochs": 30, "learning_rate": 0.05},
        }
    )
    model = fit(cfg, data=RunData.from_arrays(X, y, "mse"), save=False).model
    assert np.mean(np.abs(model.predict(X) - y[:, 0])) < 0.3


def test_network_from_config_is_what_fit_starts_from(monkeypatch):
    """fit and gradcheck both build the network with Network.from_config: every network key
    counts, and the initial weights are fit's."""
    cfg = config_from_dict(
        {
            "network": {
                "layers": [3, 5, 2],
                "activation": "tanh",
                "init": {"name": "normal", "scale": 0.3},
                "output_bias": False,
            },
            "cost": "cross_entropy",
            "training": {"seed": 4, "dropout": 0.25},
            "dtype": "float64",
        }
    )
    net = Network.from_config(cfg)
    assert net.dtype == np.float64 and net.output_bias is False and net.dropout == [0.25]
    assert abs(float(net.W[0].std()) - 0.3) < 0.15  # normal(0, 0.3), not Glorot
    seen = {}
    original = Network.from_config.__func__

    def spy(cls, config, dtype=None, device=None):
        seen["net"] = original(cls, config, dtype, device)
        seen["W0"] = seen["net"].W[0].copy()
        return seen["net"]

    monkeypatch.setattr(Network, "from_config", classmethod(spy))
    from nettrain.data import RunData

    fit(
        cfg,
        data=RunData.from_arrays(np.ones((4, 3)), np.eye(2)[[0, 1, 0, 1]], "cross_entropy", dtype="float64"),
        save=False,
    )
    assert np.array_equal(to_host(seen["W0"]), net.W[0])  # (the host's draw, on the GPU too)


@pytest.mark.parametrize(
    "cost, data, want",
    [
        ("cross_entropy", "digits", (64, 16, 10)),
        ("binary_cross_entropy", "pets", (2, 16, 1)),
        ("mse", "regression", (10, 16, 1)),
        ("mse", "npz two targets", (3, 16, 2)),
    ],
)
def test_auto_layer_sizes_come_from_the_data(tmp_path, cost, data, want):
    """layers: [auto, 16, auto]: the inputs (after one-hot encoding) and the outputs (classes,
    one unit for two classes under binary cross-entropy, the target's columns) are the data's;
    the run's config.yaml, the model and the dry run hold the numbers."""
    from tests.conftest import DATA

    train = {"digits": DATA / "digits_train.csv", "regression": DATA / "regression_train.csv"}.get(data)
    target = {"digits": "label", "regression": "y"}.get(data)
    if data == "pets":
        rng = np.random.default_rng(0)
        rows = "".join(
            f"{rng.normal():.3f},{rng.normal():.3f},{'cat' if i % 2 else 'dog'}\n" for i in range(60)
        )
        train, target = tmp_path / "pets.csv", "kind"
        train.write_text("weight,height,kind\n" + rows)
    if data == "npz two targets":
        X = np.random.default_rng(0).normal(size=(50, 3))
        train, target = tmp_path / "two.npz", None
        np.savez(train, X=X, y=X[:, :2] * 2)
    cfg = config_from_dict(
        {
            "data": {"train": str(train), **({"target": target} if target else {})},
            "network": {"layers": ["auto", 16, "auto"], "activation": "tanh"},
            "cost": cost,
            "training": {"epochs": 2},
            "output": str(tmp_path / "run"),
        }
    )
    result = fit(cfg)
    assert tuple(result.model.network.sizes) == want
    import yaml

    saved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert tuple(saved["network"]["layers"]) == want
    assert result.model.meta["config"]["network"]["layers"] == list(want)


def test_fractions_are_held_out_of_arrays_given_to_fit():
    """fit(config, data=RunData.from_arrays(...)) with data.test and data.validation fractions:
    both are held out (the test one first), as from a file; the test set is scored."""
    from nettrain.data import RunData

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    labels = (X[:, 0] > 0).astype(int)
    cfg = config_from_dict(
        {
            "data": {"validation": 0.1, "test": 0.2},
            "network": {"layers": [3, 4, 2]},
            "cost": "cross_entropy",
            "training": {"epochs": 2},
        }
    )
    result = fit(cfg, data=RunData.from_arrays(X, labels, "cross_entropy"), save=False)
    assert result.summary["n_train"] == 200 - 40 - 16
    assert "test_accuracy" in result.summary and result.test is not None


def test_arrays_given_to_fit_get_the_file_checks_of_a_fraction_and_refuse_exclude_and_features():
    """The hold-out of arrays given to fit is the file one: a class left with no training row,
    or too few rows, is a DataError (it trained on 2 rows without the held-out class); and
    data.exclude and data.features, which name a file's columns, are refused instead of ignored."""
    from nettrain.data import RunData
    from nettrain.errors import ConfigError, DataError

    def cfg(**data):
        return config_from_dict(
            {"data": data, "network": {"layers": ["auto", 4, "auto"]}, "cost": "cross_entropy"}
        )

    X, labels = np.eye(3), np.array([0, 1, 2])
    with pytest.raises(DataError, match="leaves no training row of class"):
        fit(cfg(test=0.3), data=RunData.from_arrays(X, labels, "cross_entropy"), save=False)
    with pytest.raises(DataError, match="1 row\\(s\\) is too few to hold out a validation fraction"):
        fit(cfg(validation=0.5), data=RunData.from_arrays(X[:1], [0], "mse"), save=False)
    X = np.random.default_rng(0).standard_normal((40, 3))
    with pytest.raises(ConfigError, match="data.exclude names columns of the config's data files"):
        fit(cfg(exclude=[0]), data=RunData.from_arrays(X, X[:, 0] > 0, "cross_entropy"), save=False)
    with pytest.raises(ConfigError, match="data.features names columns of the config's data files"):
        fit(cfg(features=[0]), data=RunData.from_arrays(X, X[:, 0] > 0, "cross_entropy"), save=False)


def test_a_bounded_output_gets_its_target_unscaled_and_a_note_when_it_cannot_reach_it(tmp_path):
    """Under data.standardize a sigmoid output got the target's z-scores, half of them below 0:
    it predicted only between the mean and the mean + 1 sd. Only a linear output's target is
    standardized now; one outside a bounded output's reach gets a note."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3))
    y = 1 / (1 + np.exp(-(X @ [2.0, -1.0, 0.5])))  # in (0, 1), mean about 0.5
    path = tmp_path / "d.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header="a,b,c,y", comments="", fmt="%.6f")

    def run(output, target=path):
        cfg = config_from_dict(
            {
                "data": {"train": str(target), "target": "y"},
                "network": {"layers": ["auto", 16, "auto"], "activation": "tanh", "output": output},
                "training": {"optimizer": "adam", "learning_rate": 0.01, "epochs": 60},
            }
        )
        events = []
        result = fit(cfg, on_event=lambda kind, info: events.append((kind, info)), save=False)
        notes = [info["message"] for kind, info in events if kind == "notice"]
        return result, notes

    result, notes = run("sigmoid")
    enc = result.model.encoding
    assert enc.y_mean.tolist() == [0.0] and enc.y_scale.tolist() == [1.0] and enc.x_scale[0] != 1.0
    predicted = result.model.predict(X)
    assert predicted.min() < y.mean() - y.std() and predicted.max() > y.mean() + y.std()
    assert not notes
    linear, _ = run("identity")
    assert linear.model.encoding.y_scale[0] == pytest.approx(y.std(), rel=1e-6)
    wide = tmp_path / "wide.csv"
    np.savetxt(wide, np.column_stack([X, 10 * y]), delimiter=",", header="a,b,c,y", comments="", fmt="%.6f")
    _, notes = run("sigmoid", wide)
    assert any("but a sigmoid output reaches only [0, 1]: set network.output: identity" in n for n in notes)


def test_notes_for_a_quantity_taken_as_classes_and_a_loss_worse_than_a_constant(tmp_path):
    """A numeric target of many values under cross_entropy (a regression target with the
    starter config's cost) and a finite blow-up (exit 0, one prediction for every row) each get
    a note; the baseline is the loss of the best constant prediction."""
    from nettrain.data import load_run_data
    from nettrain.errors import DataError
    from nettrain.train import baseline_loss

    assert baseline_loss("mse", np.array([[0.0], [2.0]])) == pytest.approx(1.0)
    assert baseline_loss("cross_entropy", np.eye(4)) == pytest.approx(np.log(4))
    assert baseline_loss("binary_cross_entropy", np.array([[0.0], [1.0]])) == pytest.approx(np.log(2))
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 2))
    y = np.round(100 + 50 * X[:, 0] + rng.standard_normal(200), 1)
    path = tmp_path / "q.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header="a,b,y", comments="", fmt="%.6g")
    base = {"data": {"train": str(path), "target": "y"}, "network": {"layers": ["auto", 8, "auto"]}}
    rd = load_run_data(config_from_dict({**base, "cost": "cross_entropy"}))
    assert any(
        "distinct numbers in 200 rows, each one a class" in n and "set cost: mse" in n for n in rd.notes
    )
    continuous = tmp_path / "c.csv"
    np.savetxt(
        continuous, np.column_stack([X, X[:, 0]]), delimiter=",", header="a,b,y", comments="", fmt="%.6g"
    )
    with pytest.raises(
        DataError, match="distinct numbers in 200 rows: if it is a quantity to predict, set cost: mse"
    ):
        data = {"train": str(continuous), "target": "y", "validation": 0.5}
        load_run_data(config_from_dict({**base, "cost": "cross_entropy", "data": data}))
    events = []
    offset = tmp_path / "o.csv"  # inputs around 50, unscaled: an SGD step blows up, finitely
    X = X * 10 + 50
    np.savetxt(offset, np.column_stack([X, y]), delimiter=",", header="a,b,y", comments="", fmt="%.6g")
    cfg = {**base, "data": {"train": str(offset), "target": "y", "standardize": False}}
    fit(config_from_dict(cfg), on_event=lambda kind, info: events.append((kind, info)), save=False)
    notes = [info["message"] for kind, info in events if kind == "notice"]
    assert any("above the" in n and "of always predicting the training mean" in n for n in notes), notes
    events.clear()
    fit(
        config_from_dict({**base, "training": {"epochs": 5}}),
        on_event=lambda k, i: events.append((k, i)),
        save=False,
    )
    assert not [i for k, i in events if k == "notice" and "above the" in i["message"]]


def test_the_baseline_is_the_loss_of_the_best_constant_prediction_for_every_output():
    """baseline_loss against the cost of the constant prediction written out, on several outputs
    whose means (or class frequencies) differ: each output gets its own constant."""
    from nettrain.train import baseline_loss

    rng = np.random.default_rng(2)
    Y = np.column_stack([rng.normal(0.0, 1.0, 50), rng.normal(10.0, 3.0, 50)])
    mean = Y.mean(axis=0)
    assert baseline_loss("mse", Y) == pytest.approx(((Y - mean) ** 2).mean(), rel=1e-12)
    one_hot = np.eye(3)[rng.choice(3, 60, p=[0.5, 0.3, 0.2])]
    p = one_hot.mean(axis=0)
    assert baseline_loss("cross_entropy", one_hot) == pytest.approx(-(one_hot @ np.log(p)).mean(), rel=1e-12)
    bits = np.column_stack([rng.random(40) < 0.2, rng.random(40) < 0.7]).astype(float)
    q = bits.mean(axis=0)
    bce = -(bits * np.log(q) + (1 - bits) * np.log(1 - q)).mean()
    assert baseline_loss("binary_cross_entropy", bits) == pytest.approx(bce, rel=1e-12)


def test_the_note_on_a_loss_worse_than_a_constant_starts_above_twice_its_loss():
    """The README's rule: a note when the training loss ends above twice the baseline."""
    from types import SimpleNamespace

    from nettrain.train import _worse_than_a_constant, baseline_loss

    Y = np.random.default_rng(3).normal(5.0, 2.0, (30, 1))
    data = SimpleNamespace(train=SimpleNamespace(Y=Y))
    cfg = config_from_dict({"network": {"layers": [2, 1]}, "cost": "mse"})
    base = baseline_loss("mse", Y)
    assert _worse_than_a_constant(cfg, {"loss": 1.99 * base}, data) is None
    note = _worse_than_a_constant(cfg, {"loss": 2.01 * base}, data)
    assert note is not None and f"above the {base:.4g} of always predicting the training mean" in note


def test_the_baseline_of_a_class_weighted_training_loss_is_weighted_too():
    """With training.class_weight the training loss is (1/n) sum_i w_{y_i} l_i, so the note's
    constant prediction is scored the same way: a rare class weighed 10 (1 row in 20) made an
    unweighted baseline of 0.1985 against a weighted loss of 0.44, and a note blamed the learning
    rate of a run that had trained well."""
    from types import SimpleNamespace

    from nettrain.train import _worse_than_a_constant, baseline_loss

    w = (1.0, 10.0)
    Y = np.eye(2)[np.r_[np.zeros(1900, int), np.ones(100, int)]]
    rows = Y @ np.array(w)

    def weighted(p):  # the weighted cross-entropy of always predicting p
        return -(rows * (Y @ np.log(p))).mean()

    q = rows @ Y / rows.sum()
    base = baseline_loss("cross_entropy", Y, w)
    assert base == pytest.approx(weighted(q), rel=1e-12)
    assert all(weighted(np.array([1 - r, r])) >= base for r in (0.05, 0.2, 0.4, 0.5))
    bits = Y[:, 1:]  # one sigmoid output, classes 0 and 1
    bce = -(rows * (bits[:, 0] * np.log(q[1]) + (1 - bits[:, 0]) * np.log(q[0]))).mean()
    assert baseline_loss("binary_cross_entropy", bits, w) == pytest.approx(bce, rel=1e-12)
    assert baseline_loss("cross_entropy", Y, None) == pytest.approx(baseline_loss("cross_entropy", Y))
    cfg = config_from_dict({"network": {"layers": [2, 2]}, "cost": "cross_entropy"})
    data = SimpleNamespace(train=SimpleNamespace(Y=Y))
    loss = 0.4388  # the weighted loss of a run that trained well
    assert loss > 2 * baseline_loss("cross_entropy", Y)
    assert _worse_than_a_constant(cfg, {"loss": loss}, data, w) is None
    note = _worse_than_a_constant(cfg, {"loss": 2.01 * base}, data, w)
    assert note is not None and "weighted by training.class_weight" in note


def test_the_ranks_stop_codes_add_up_to_the_most_severe_signal():
    """Under MPI the ranks' stop requests are summed in the gradients' Allreduce: any SIGTERM
    wins over SIGHUP, which wins over any number of SIGINTs (below 4096 ranks)."""
    from nettrain.train import STOP_CODES, _stop_from_code

    assert _stop_from_code(0.0) is None
    assert _stop_from_code(4095 * STOP_CODES["SIGINT"]) == "SIGINT"
    assert _stop_from_code(STOP_CODES["SIGHUP"] + 3 * STOP_CODES["SIGINT"]) == "SIGHUP"
    assert _stop_from_code(STOP_CODES["SIGTERM"] + 4095 * STOP_CODES["SIGHUP"]) == "SIGTERM"
    assert np.float32(STOP_CODES["SIGTERM"] + STOP_CODES["SIGINT"]) >= STOP_CODES["SIGTERM"]  # (float32)


def test_eta_goes_at_the_pace_of_the_epochs_after_the_first(tmp_path, monkeypatch):
    # the first epoch pays for the warm-up (on a GPU, compiling kernels): an estimate from the
    # mean of all epochs would stay far too high for the rest of the run
    import nettrain.network as network
    from nettrain.train import eta

    assert eta(10.0, 10.0, 1, 5) == 50.0  # one epoch: nothing better to go by
    assert eta(12.0, 10.0, 3, 5) == 5.0  # 1 s an epoch since
    workspace = network.Network.workspace

    def slow_first(self, n):
        if not self.__dict__.get("_workspaces"):
            time.sleep(0.3)
        return workspace(self, n)

    monkeypatch.setattr(network.Network, "workspace", slow_first)
    events = []
    cfg = load_config(CONFIGS / "xor.yaml", [f"output={tmp_path}", "training.epochs=20"])
    fit(cfg, lambda kind, info: events.append(info) if kind == "epoch" else None)
    elapsed = [e["elapsed"] for e in events]
    assert elapsed[0] >= 0.3
    for k, e in enumerate(events[1:], start=2):
        assert e["eta"] == pytest.approx((elapsed[k - 1] - elapsed[0]) / (k - 1) * (20 - k))
    assert events[1]["eta"] < 0.1 * elapsed[0] * 18  # not held up by the first epoch's warm-up


@pytest.mark.parametrize(
    "optimizer, early, snapshot, copies",
    [
        ("sgd", False, False, 2),
        ("momentum", False, True, 5),
        ("adam", True, True, 8),
        ("adamw", False, False, 4),
        ("sgd", "without restore_best", False, 2),  # early stopping that keeps no best weights
    ],
)
def test_a_network_too_big_for_the_memory_is_refused_before_it_is_built(
    tmp_path, monkeypatch, optimizer, early, snapshot, copies
):
    # each copy would be allocated alone and the kernel kill the run part-way: refused up front,
    # counting weights, gradients, optimizer state, the interrupt's epoch-start copy, the best
    import nettrain.backend as backend
    from nettrain.train import check_memory

    overrides = [f"output={tmp_path}", "network.layers=[2, 300, 300, 1]", f"training.optimizer={optimizer}"]
    if early:
        keep = "false" if early == "without restore_best" else "true"
        overrides += [f"training.early_stopping={{monitor: loss, patience: 3, restore_best: {keep}}}"]
    cfg = load_config(CONFIGS / "xor.yaml", overrides)
    need = copies * 4 * (2 * 300 + 300 + 300 * 300 + 300 + 300 + 1)
    monkeypatch.setattr(backend, "available_memory", lambda: need - 1)
    with pytest.raises(ConfigError, match=f"at least {copies} copies of them .* of memory is available"):
        check_memory(cfg, snapshot)
    monkeypatch.setattr(backend, "available_memory", lambda: need)
    check_memory(cfg, snapshot)  # just enough
    monkeypatch.setattr(backend, "available_memory", lambda: None)  # not known: no check
    check_memory(cfg, snapshot)


def test_fit_and_its_dry_run_refuse_a_network_the_memory_cannot_hold(tmp_path, monkeypatch):
    import nettrain.backend as backend
    from tests.helpers import error_line, run

    monkeypatch.setattr(backend, "available_memory", lambda: 100)  # bytes: 17 x 4 x 3 = 204 needed
    built = []
    monkeypatch.setattr(Network, "from_config", lambda *a, **k: built.append(1))
    for dry in ([], ["--dry-run"]):
        # (the host's memory: on a GPU, the default device where one answers, the card holds them)
        r = run("fit", CONFIGS / "xor.yaml", "--device", "cpu", "-o", tmp_path / "run", *dry)
        assert r.exit_code == 2 and "network.layers [2, 4, 1] makes 17 parameters" in error_line(r.stderr)
        assert "the epoch-start copy an interrupt saves" in r.stderr and r.stdout == ""
    assert not built and not (tmp_path / "run" / "model.npz").exists()
    monkeypatch.setattr(backend, "available_memory", lambda: 10**9)
    assert run("fit", CONFIGS / "xor.yaml", "-o", tmp_path / "run", "--dry-run").exit_code == 0


def test_history_jsonl_is_strict_json_when_an_epoch_takes_no_measurable_time(tmp_path, monkeypatch):
    """An epoch shorter than the clock's tick has samples_per_s inf: fit --json gave null, and
    history.jsonl 'Infinity', which strict JSON readers (jq, JavaScript) refuse."""
    import json
    import types

    import nettrain.train as train_module
    from nettrain import fit, load_config
    from tests.conftest import CONFIGS

    monkeypatch.setattr(train_module, "time", types.SimpleNamespace(perf_counter=lambda: 0.0))
    cfg = load_config(CONFIGS / "xor.yaml", ["training.epochs=2", f"output={tmp_path / 'run'}"])
    fit(cfg)

    def strict(text):
        raise ValueError(text)

    lines = (tmp_path / "run" / "history.jsonl").read_text().splitlines()
    records = [json.loads(line, parse_constant=strict) for line in lines]
    assert [r["samples_per_s"] for r in records] == [None, None]


@pytest.mark.parametrize(
    "losses, says, not_says",
    [
        # one epoch: a loss still falling or one blown up look alike, so both are named
        (
            [9.0],
            ["one epoch cannot tell", "training.epochs (1) may be too few", "(0.001), or that rate too high"],
            [],
        ),
        # each epoch lower than the one before: more epochs, not a lower rate
        (
            [9.0, 8.0, 7.0],
            ["still falling over the last 3 epochs", "training.epochs (3) may be too few for"],
            ["too high"],
        ),
        # a rise among the last five: the rate
        (
            [9.0, 12.0, 11.0],
            ["rose during the last 3 epochs", "learning rate (0.001) may be too high"],
            ["too few"],
        ),
        ([10, 9, 8, 7, 6, 5, 5.5], ["rose during the last 5 epochs", "may be too high"], ["too few"]),
        # a rise before the last five epochs does not count
        ([1.0, 20, 19, 18, 17, 16], ["still falling over the last 5 epochs"], ["too high"]),
    ],
)
def test_the_note_on_a_loss_worse_than_a_constant_follows_the_losses_trend(losses, says, not_says):
    """A loss still falling at the end was cut short (a 1-epoch run at a small rate got 'the
    learning rate may be too high'); one that rose points at the learning rate."""
    from types import SimpleNamespace

    from nettrain.train import _worse_than_a_constant, baseline_loss

    Y = np.random.default_rng(3).normal(0.0, 1.0, (30, 1))
    base = baseline_loss("mse", Y)
    data = SimpleNamespace(train=SimpleNamespace(Y=Y))
    cfg = config_from_dict(
        {
            "network": {"layers": [2, 1]},
            "cost": "mse",
            "training": {"epochs": len(losses), "learning_rate": 1e-3},
        }
    )
    history = [{"epoch": e, "loss": 10 * base * v} for e, v in enumerate(losses, 1)]
    note = _worse_than_a_constant(cfg, history[-1], data, None, history)
    assert note is not None and note.startswith(f"the training loss ends at {history[-1]['loss']:.4g}, above")
    for text in says:
        assert text in note, (text, note)
    for text in not_says:
        assert text not in note, (text, note)


def test_a_short_run_at_a_small_rate_is_told_to_train_longer(tmp_path):
    """Through fit: three epochs of a loss falling slowly from far above the constant's."""
    cfg = load_config(
        CONFIGS / "regression.yaml",
        [
            f"output={tmp_path}",
            "training.epochs=3",
            "training.learning_rate=0.0001",
            "data.standardize=inputs",
        ],
    )
    notes = []
    history = fit(cfg, lambda kind, info: notes.append(info["message"]) if kind == "notice" else None).history
    assert history[0]["loss"] > history[1]["loss"] > history[2]["loss"]
    (note,) = [n for n in notes if n.startswith("the training loss ends at")]
    assert "still falling over the last 3 epochs: training.epochs (3) may be too few" in note
    assert "too high" not in note
