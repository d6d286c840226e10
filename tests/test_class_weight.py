"""training.class_weight: the weighted training cost C = (1/n) sum_i w_{y_i} l_i (Keras's
class_weight), its gradient, 'balanced' (scikit-learn's), the config's refusals, and that a run
without weights is the run it was."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest

from nettrain import config_from_dict
from nettrain.checkpoint import config_hash
from nettrain.costs import CrossEntropy
from nettrain.errors import ConfigError
from nettrain.gradcheck import gradcheck_config
from nettrain.network import Network
from nettrain.train import class_weights, fit
from tests.conftest import DATA
from tests.helpers import assert_error, numpy_weighted, run

CASES = {
    "cross_entropy, 3 classes": ("cross_entropy", 3, (0.5, 2.0, 3.0)),
    "binary_cross_entropy, one output": ("binary_cross_entropy", 1, (0.25, 4.0)),
    "binary_cross_entropy, one-vs-rest": ("binary_cross_entropy", 3, (1.0, 5.0, 0.2)),
}


@pytest.mark.parametrize("cost, k, weights", CASES.values(), ids=CASES.keys())
def test_the_weighted_step_is_the_weighted_cost_and_its_gradient(cost, k, weights):
    rng = np.random.default_rng(1)
    net = Network.create(
        [4, 5, k], "tanh", "softmax" if cost == "cross_entropy" else "sigmoid", cost, 3, "float64"
    )
    net.set_class_weight(weights)
    n = 11
    x = rng.standard_normal((n, 4))
    classes = rng.integers(0, max(k, 2), n)
    y = classes[:, None].astype(float) if k == 1 else np.eye(k)[classes]
    w = np.asarray(weights)[classes]
    want_cost, want_dW, want_db = numpy_weighted(net, x, y, w)

    loss, dW, db = net.gradients(x, y)  # the training step (Workspace.step, the fused cost)
    assert float(loss) == pytest.approx(want_cost, rel=1e-12)
    for got, want in zip(dW + db, want_dW + want_db):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)
    # the readable form: Network.loss, Cost.delta, Network.backward
    assert float(net.loss(x, y)) == pytest.approx(want_cost, rel=1e-12)
    zs, acts = net.forward_cache(x)
    rdW, rdb = net.backward(zs, acts, y)
    for got, want in zip(rdW + rdb, want_dW + want_db):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)
    # and weights do change it: the unweighted step is not the weighted one
    plain = net.with_params(net.W, net.b).set_class_weight(None)
    assert float(plain.gradients(x, y)[0]) != pytest.approx(want_cost, rel=1e-3)


def test_weights_of_one_in_the_weighted_step_give_the_plain_step():
    rng = np.random.default_rng(2)
    net = Network.create([4, 6, 3], "tanh", "softmax", "cross_entropy", 0, "float64")
    x, y = rng.standard_normal((9, 4)), np.eye(3)[rng.integers(0, 3, 9)]
    plain = net.gradients(x, y)
    net.set_class_weight((1.0, 1.0, 1.0))
    weighted = net.gradients(x, y)
    assert float(weighted[0]) == pytest.approx(float(plain[0]), rel=1e-14)
    for a, b in zip(weighted[1] + weighted[2], plain[1] + plain[2]):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-16)


def imbalanced_digits(tmp_path, keep_every: int = 8) -> str:
    """digits_train.csv with the rows of classes 1..9 kept and only every ``keep_every``-th row
    of class 0: a real data set where class 0 is rare."""
    with open(DATA / "digits_train.csv", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    kept, zeros = [header], 0
    for row in body:
        if row[-1] == "0":
            zeros += 1
            if zeros % keep_every:
                continue
        kept.append(row)
    path = tmp_path / "imbalanced.csv"
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(kept)
    return str(path)


def config(train: str, tmp_path, cost="cross_entropy", layers=(64, 16, 10), **training) -> dict:
    return {
        "data": {"train": train, "target": "label"},
        "network": {"layers": list(layers), "activation": "tanh"},
        "cost": cost,
        "dtype": "float64",
        "training": {"learning_rate": 0.05, "epochs": 3, "batch_size": 16, "seed": 0, **training},
        "output": str(tmp_path / "run"),
    }


def test_balanced_is_scikit_learns_compute_class_weight(tmp_path):
    """n / (classes * count of the class), over the training rows: scikit-learn's rule, checked
    against its compute_class_weight where scikit-learn is installed (the bench extra)."""
    from nettrain.data import load_run_data

    cfg = config_from_dict(config(imbalanced_digits(tmp_path), tmp_path, class_weight="balanced"))
    data = load_run_data(cfg)
    labels = data.train.Y.argmax(axis=1)
    got = class_weights(cfg, data.encoding.classes, data.train.Y)
    counts = np.bincount(labels, minlength=10)
    np.testing.assert_allclose(got, len(labels) / (10 * counts), rtol=1e-12)
    assert got[0] > 5 * got[1]  # the rare class weighs most
    # a mapping: the classes it names, by their labels; the others 1
    mapped = config_from_dict(config(str(DATA / "digits_train.csv"), tmp_path, class_weight={0: 4, "3": 0.5}))
    assert class_weights(mapped, data.encoding.classes, data.train.Y) == (4, 1, 1, 0.5, 1, 1, 1, 1, 1, 1)
    try:  # last: without scikit-learn (CI's fresh clone) the checks above still run
        from sklearn.utils.class_weight import compute_class_weight
    except ImportError:
        return
    want = compute_class_weight("balanced", classes=np.arange(10), y=labels)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_gradcheck_checks_the_weighted_gradients_and_fails_when_the_weighting_is_broken(
    tmp_path, monkeypatch
):
    base = config(str(DATA / "digits_train.csv"), tmp_path, layers=(64, 8, 10), class_weight={0: 9.0, 3: 0.1})
    cfg = config_from_dict(base)
    assert gradcheck_config(cfg).passed
    fused = CrossEntropy.fused

    def unweighted_delta(self, z, y, scale, tmp, w=None):
        """The weighted loss, but delta(L) without the weights: the multiply broken."""
        loss = fused(self, z, y, scale, tmp, w)
        if w is not None:
            z /= w[:, None]
        return loss

    monkeypatch.setattr(CrossEntropy, "fused", unweighted_delta)
    assert not gradcheck_config(cfg).passed
    # without class weights the broken code is never reached
    assert gradcheck_config(
        config_from_dict({**base, "training": {**base["training"], "class_weight": None}})
    ).passed


def test_the_config_refuses_what_cannot_be_a_class_weight(tmp_path):
    train = str(DATA / "digits_train.csv")
    for value, needle in (
        ({0: 0}, "must be finite and > 0"),
        ({0: -2.5}, "must be finite and > 0"),
        ({0: float("inf")}, "finite"),
        ({0: "big"}, "is not a number"),
        ("balance", "'balance' is not known"),
        ([1, 2], "is not 'balanced' or a mapping"),
        ({}, "an empty mapping names no class"),  # (it read 'a mapping is not ... a mapping')
    ):
        with pytest.raises(ConfigError, match=needle):
            config_from_dict(config(train, tmp_path, class_weight=value))
    mse = config(str(DATA / "regression_train.csv"), tmp_path, cost="mse", class_weight="balanced")
    mse["data"]["target"] = None
    with pytest.raises(ConfigError, match="training.class_weight: is for classification costs.*not mse"):
        config_from_dict(mse)
    cfg = config_from_dict(config(train, tmp_path, class_weight={0: 2, 12: 3}))
    with pytest.raises(ConfigError, match="'12' is not a class of the training data; classes: 0, 1, 2"):
        fit(cfg, save=False)


def test_an_unknown_label_is_one_clear_line_on_the_command_line(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"data: {{train: {DATA / 'digits_train.csv'}, target: label}}\nnetwork: {{layers: [64, 10]}}\n"
        "cost: cross_entropy\ntraining:\n  class_weight: {0: 2, seven: 3}\n"
    )
    assert_error(run("fit", cfg, "-o", tmp_path / "r"), "training.class_weight.seven", "not a class")


def test_no_key_null_and_weights_of_one_are_the_same_run(tmp_path):
    train = str(DATA / "digits_train.csv")
    runs = [
        fit(config_from_dict(config(train, tmp_path, **extra)), save=False)
        for extra in ({}, {"class_weight": None}, {"class_weight": {str(c): 1.0 for c in range(10)}})
    ]
    losses = [[h["loss"] for h in r.history] for r in runs]
    assert losses[0] == losses[1] == losses[2]
    for r in runs[1:]:
        for a, b in zip(
            runs[0].model.network.W + runs[0].model.network.b, r.model.network.W + r.model.network.b
        ):
            np.testing.assert_array_equal(a, b)
    weighted = fit(config_from_dict(config(train, tmp_path, class_weight={0: 3.0})), save=False)
    assert [h["loss"] for h in weighted.history] != losses[0]


def test_the_resume_hash_follows_the_weights(tmp_path):
    train = str(DATA / "digits_train.csv")
    hashes = [
        config_hash(config_from_dict(config(train, tmp_path, **extra)).to_dict())
        for extra in ({}, {"class_weight": None}, {"class_weight": {0: 2.0}}, {"class_weight": {0: 3.0}})
    ]
    assert hashes[0] == hashes[1]
    assert len({hashes[0], hashes[2], hashes[3]}) == 3
    d = config_from_dict(config(train, tmp_path)).to_dict()
    d["training"].pop("class_weight")  # a run folder written before the key existed resumes
    assert config_hash(d) == hashes[0]


def _minority_recall(tmp_path, train: str, test: str, name: str, weight) -> float:
    cfg = tmp_path / f"{name}.yaml"
    cfg.write_text(
        f"data: {{train: {train}, target: label}}\nnetwork: {{layers: [2, 8, 2], activation: tanh}}\n"
        "cost: cross_entropy\ntraining: {learning_rate: 0.1, epochs: 20, batch_size: 32, seed: 0"
        + (f", class_weight: {weight}" if weight else "")
        + f"}}\noutput: {tmp_path / name}\n"
    )
    nettrain = [sys.executable, "-m", "nettrain"]
    subprocess.run([*nettrain, "fit", str(cfg)], check=True, capture_output=True, timeout=120)
    out = subprocess.run(
        [*nettrain, "predict", str(tmp_path / name / "model.npz"), test],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.splitlines()
    predicted = [line.split(",")[0] for line in out[1:]]
    with open(test, newline="") as f:
        truth = [row[-1] for row in list(csv.reader(f))[1:]]
    minority = [p for p, t in zip(predicted, truth) if t == "rare"]
    return sum(p == "rare" for p in minority) / len(minority)


def test_balanced_weights_raise_the_rare_class_recall(tmp_path):
    """Two overlapping Gaussian classes, 19 to 1: without weights the rare class is mostly
    predicted as the common one; balanced weights find much more of it (a real CLI run)."""
    rng = np.random.default_rng(7)

    def write(path, n_common, n_rare):
        x = np.vstack([rng.normal(0.0, 1.0, (n_common, 2)), rng.normal(1.5, 1.0, (n_rare, 2))])
        labels = ["common"] * n_common + ["rare"] * n_rare
        with open(path, "w", newline="") as f:
            out = csv.writer(f)
            out.writerow(["x1", "x2", "label"])
            out.writerows([[f"{a:.6f}", f"{b:.6f}", c] for (a, b), c in zip(x, labels)])
        return str(path)

    train = write(tmp_path / "train.csv", 1900, 100)
    test = write(tmp_path / "test.csv", 950, 50)
    plain = _minority_recall(tmp_path, train, test, "plain", None)
    balanced = _minority_recall(tmp_path, train, test, "balanced", "balanced")
    assert balanced > plain + 0.3, (plain, balanced)


def test_resuming_with_other_class_weights_is_refused(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"data: {{train: {DATA / 'digits_train.csv'}, target: label}}\nnetwork: {{layers: [64, 10]}}\n"
        "cost: cross_entropy\ntraining: {epochs: 2, checkpoint_every: 1, class_weight: {0: 2}}\n"
        f"output: {tmp_path / 'run'}\n"
    )
    assert run("fit", cfg, "--quiet").exit_code == 0
    changed = run("fit", cfg, "--resume", tmp_path / "run", "--set", "training.class_weight={0: 3}")
    assert_error(changed, "training.class_weight")
    again = run("fit", cfg, "--resume", tmp_path / "run", "--set", "training.epochs=3", "--quiet")
    assert again.exit_code == 0, again.stderr


def test_a_streamed_npy_takes_a_mapping_and_refuses_balanced(tmp_path, monkeypatch):
    """A training .npy too big for memory is streamed: a mapping needs only the classes; 'balanced'
    would need a pass to count them, and says so."""
    import nettrain.data.stream as stream

    monkeypatch.setattr(stream, "STREAM_BYTES", 1000)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    np.save(tmp_path / "m.npy", np.column_stack([X, (X[:, 0] > 1).astype(float)]))
    base = {
        "data": {"train": str(tmp_path / "m.npy")},
        "network": {"layers": [2, 4, 2]},
        "cost": "cross_entropy",
        "training": {"epochs": 2, "class_weight": {1: 4.0}},
        "output": str(tmp_path / "run"),
    }
    result = fit(config_from_dict(base), save=False)
    assert result.model.network.sizes == [2, 4, 2]
    with pytest.raises(ConfigError, match="'balanced' counts the classes of the training data in memory"):
        fit(config_from_dict({**base, "training": {"epochs": 2, "class_weight": "balanced"}}), save=False)


@pytest.mark.parametrize(
    "cost,sizes,batch", [("cross_entropy", [4, 8, 10], 16), ("binary_cross_entropy", [4, 3, 1], 1)]
)
def test_gradcheck_without_data_takes_balanced_weights_of_its_random_targets(tmp_path, cost, sizes, batch):
    """A config without data.train gets random targets: a class none of them holds (10 classes,
    16 rows) was refused with 'class ... has no training row', of data there is none of."""
    output = "softmax" if cost == "cross_entropy" else "sigmoid"
    cfg = config_from_dict(
        {
            "network": {"layers": sizes, "activation": "tanh", "output": output},
            "cost": cost,
            "training": {
                "learning_rate": 0.1,
                "epochs": 1,
                "batch_size": 4,
                "seed": 0,
                "class_weight": "balanced",
            },
            "output": str(tmp_path / "runs"),
        }
    )
    result = gradcheck_config(cfg, batch=batch)
    assert result.passed


def test_dry_run_checks_the_class_weights_against_the_data(tmp_path):
    """--dry-run reads the data to refuse what fit would refuse: a class_weight key that is not a
    class of the data passed the dry run, then failed the fit."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"data: {{train: {DATA / 'xor.csv'}, target: label}}\nnetwork: {{layers: [2, 4, 1]}}\n"
        f"cost: binary_cross_entropy\noutput: {tmp_path / 'run'}\n"
    )
    bad = run("fit", cfg, "--dry-run", "--set", "training.class_weight={seven: 2}")
    assert_error(bad, "training.class_weight.seven", "'seven' is not a class of the training data")
    good = run("fit", cfg, "--dry-run", "--set", "training.class_weight={1: 2}")
    assert good.exit_code == 0, good.stderr
    assert not (tmp_path / "run").exists()
