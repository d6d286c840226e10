"""data.standardize: inputs: the inputs z-scored with the training statistics, a regression
target left in its units (scikit-learn's make_pipeline(StandardScaler(), MLPRegressor()))."""

import json

import numpy as np
import pytest
import yaml

from nettrain.config import config_from_dict
from nettrain.data.encode import standardizes_target
from nettrain.modelfile import load_model
from nettrain.network import Network
from nettrain.train import fit
from tests.helpers import ok, read_csv, run


def rows(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs on different scales and a target far from 0 and 1 (mean ~2000, sd ~170)."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(5, 2, n), rng.normal(-300, 40, n), rng.uniform(0, 1, n)])
    y = 1000 + 80 * X[:, 0] - 2 * X[:, 1] + 50 * X[:, 2] + rng.normal(0, 5, n)
    return X, y


def write(path, X, y):
    lines = ["a,b,c,y"] + [",".join(f"{v:.10g}" for v in (*x, t)) for x, t in zip(X, y)]
    path.write_text("\n".join(lines) + "\n")
    return path


def raw_config(train, standardize, **training) -> dict:
    return {
        "data": {"train": str(train), "target": "y", "standardize": standardize},
        "network": {"layers": [3, 8, 1], "activation": "tanh"},
        "cost": "mse",
        "dtype": "float64",
        "training": {"learning_rate": 0.01, "epochs": 5, "batch_size": 16, "seed": 3, **training},
    }


@pytest.fixture
def data(tmp_path):
    X, y = rows(120, 0)
    Xt, yt = rows(40, 1)
    return tmp_path, write(tmp_path / "train.csv", X, y), write(tmp_path / "test.csv", Xt, yt), X, y, yt


def fitted(tmp_path, train, standardize, name):
    cfg = raw_config(train, standardize)
    cfg["output"] = str(tmp_path / name)
    (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(cfg))
    ok(run("fit", tmp_path / f"{name}.yaml", "-q"))
    return tmp_path / name / "model.npz"


def test_the_model_keeps_the_inputs_statistics_and_a_target_of_mean_0_scale_1(data):
    tmp_path, train, _, X, y, _ = data
    inputs = load_model(fitted(tmp_path, train, "inputs", "inputs")).encoding
    both = load_model(fitted(tmp_path, train, True, "both")).encoding
    assert np.array_equal(inputs.y_mean, [0.0]) and np.array_equal(inputs.y_scale, [1.0])
    assert np.array_equal(inputs.x_mean, both.x_mean) and np.array_equal(inputs.x_scale, both.x_scale)
    # (the statistics are the training rows' own: mean and population sd)
    assert np.allclose(inputs.x_mean, X.mean(axis=0)) and np.allclose(inputs.x_scale, X.std(axis=0))
    assert both.y_mean[0] == pytest.approx(y.mean()) and both.y_scale[0] == pytest.approx(y.std())
    assert standardizes_target(True, "identity") and not standardizes_target("inputs", "identity")


def test_predict_and_evaluate_of_such_a_model_are_in_the_targets_units(data):
    tmp_path, train, test, _, _, yt = data
    model = fitted(tmp_path, train, "inputs", "m")
    table = read_csv(ok(run("predict", model, test)).stdout)
    pred = np.array([float(r[table[0].index("prediction")]) for r in table[1:]])
    assert abs(pred.mean() - yt.mean()) < 0.5 * yt.std()  # (trained a little: near the target, not 0)
    report = json.loads(ok(run("evaluate", model, test, "--json")).stdout)
    assert report["mse"] == pytest.approx(np.mean((pred - yt) ** 2), rel=1e-6)
    assert report["mae"] == pytest.approx(np.mean(np.abs(pred - yt)), rel=1e-6)
    info = ok(run("info", model)).stdout
    assert "standardized" in info and "inputs (the target in its units)" in info
    both = ok(run("info", fitted(tmp_path, train, True, "b"))).stdout
    assert "inputs and target (mean" in both


def test_info_json_says_what_the_model_standardizes(data):
    """info --json's ``standardized``: the same facts as the text's line, for scripts."""
    tmp_path, train, _, _, y, _ = data
    found = {}
    for standardize in ("inputs", True, False):
        model = fitted(tmp_path, train, standardize, f"s{standardize}")
        found[standardize] = json.loads(ok(run("info", model, "--json")).stdout)["standardized"]
        if standardize is False:
            lines = ok(run("info", model)).stdout.splitlines()
            line = next(line for line in lines if line.startswith("standardized"))
            assert line.split() == ["standardized", "no"]
    assert found["inputs"] == {"inputs": True, "target": False, "target_mean": None, "target_scale": None}
    assert found[False] == {"inputs": False, "target": False, "target_mean": None, "target_scale": None}
    both = found[True]
    assert (both["inputs"], both["target"]) == (True, True)
    assert both["target_mean"] == [pytest.approx(y.mean())]
    assert both["target_scale"] == [pytest.approx(y.std())]


def test_the_cost_is_on_the_raw_target(data):
    """One full batch: the first epoch's loss is the initial network's mse against y itself
    under inputs, against y's z-scores under true; the inputs are z-scored either way."""
    tmp_path, train, _, X, y, _ = data
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    losses = {}
    for standardize in ("inputs", True):
        config = config_from_dict(raw_config(train, standardize, epochs=1, batch_size=len(y)))
        s0 = Network.from_config(config).forward(Z)[:, 0]
        target = y if standardize == "inputs" else (y - y.mean()) / y.std()
        losses[standardize] = fit(config, save=False).history[0]["loss"]
        assert losses[standardize] == pytest.approx(np.mean((s0 - target) ** 2), rel=1e-9)
    assert losses["inputs"] > 1000 * losses[True]


def test_trace_shows_the_raw_target(data):
    tmp_path, train, _, _, y, _ = data
    for standardize, scaled in (("inputs", False), (True, True)):
        (tmp_path / "t.yaml").write_text(yaml.safe_dump(raw_config(train, standardize)))
        t = json.loads(ok(run("trace", tmp_path / "t.yaml", "--row", "0", "--json")).stdout)
        assert t["y_standardized"] is scaled
        assert (t["y"][0] == pytest.approx(y[0])) is not scaled


def test_a_target_too_large_under_inputs_says_to_standardize_it_too(tmp_path):
    from nettrain.errors import TrainingDiverged

    X, y = rows(50, 0)
    train = write(tmp_path / "big.csv", X, y * 1e17)
    with pytest.raises(TrainingDiverged) as info:
        fit(config_from_dict({**raw_config(train, "inputs"), "dtype": "float32"}), save=False)
    assert "standardize the target too (data.standardize: true" in str(info.value)


def test_info_of_a_model_trained_on_arrays_says_not_standardized(tmp_path, data):
    """Arrays given to fit are used as they are, whatever the config's data.standardize says
    (it defaults to true): info reads the model's identity statistics, not the config's key."""
    from nettrain import RunData, save_model

    _, train, _, X, y, _ = data
    config = config_from_dict(raw_config(train, True, epochs=1))
    model = fit(config, data=RunData.from_arrays(X, y, "mse", dtype="float64"), save=False).model
    save_model(tmp_path / "arrays.npz", model)
    found = json.loads(ok(run("info", tmp_path / "arrays.npz", "--json")).stdout)["standardized"]
    assert found == {"inputs": False, "target": False, "target_mean": None, "target_scale": None}
    lines = ok(run("info", tmp_path / "arrays.npz")).stdout.splitlines()
    assert next(line for line in lines if line.startswith("standardized")).split() == ["standardized", "no"]
