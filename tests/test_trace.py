"""nettrain.trace: one example's forward and backward pass, checked against the derivation written
out in plain NumPy here (nothing below `derive` comes from nettrain), against the training step's
gradients on that row, and for which row, weights and standardization it shows."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nettrain import load_config
from nettrain.errors import ConfigError, DataError
from nettrain.network import Network
from nettrain.trace import delta_rule, trace_config, trace_example, trace_model
from tests.conftest import CONFIGS, DATA

# -- the derivation in plain NumPy ------------------------------------------------------------------

F = {
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float)),
    "identity": (lambda z: z, lambda z: np.ones_like(z)),
}


def derive(W, b, hidden, output, cost, x, y):
    """a(1) = x; z(l+1) = W(l) a(l) + b(l); a(l+1) = f(z(l+1)); C; the deltas and gradients, with
    column vectors as in the derivation (one example)."""
    a, zs = [x], []
    fs = [*hidden, output]
    for l, (Wl, bl) in enumerate(zip(W, b)):
        z = Wl @ a[-1] + bl
        zs.append(z)
        if fs[l] == "softmax":
            e = np.exp(z - z.max())
            a.append(e / e.sum())
        else:
            a.append(F[fs[l]][0](z))
    s, k = a[-1], len(a[-1])
    if cost == "mse":
        C = np.mean((s - y) ** 2)
        dC_ds = 2 * (s - y) / k
        delta = dC_ds * F[output][1](zs[-1])  # delta(L) = dC/ds * f_out'(z(L))
    elif cost == "cross_entropy":
        C = -np.log(s[np.argmax(y)])
        delta = s - y  # the softmax's Jacobian times -y/s
    else:  # binary cross-entropy, a mean over the k outputs
        C = np.mean(-(y * np.log(s) + (1 - y) * np.log(1 - s)))
        delta = (s - y) / k
    deltas = [delta]
    for l in range(len(W) - 1, 0, -1):  # delta(l) = (W(l)^T delta(l+1)) * f'(z(l))
        deltas.insert(0, (W[l].T @ deltas[0]) * F[hidden[l - 1]][1](zs[l - 1]))
    dW = [np.outer(deltas[l], a[l]) for l in range(len(W))]  # delta(l+1) a(l)^T
    db = [deltas[l] for l in range(len(W))]
    return {"z": zs, "a": a, "C": C, "delta": deltas, "dW": dW, "db": db}


CASES = {
    # sizes, hidden activations, output, cost
    "2-2-1 sigmoid, mse": ([2, 2, 1], ["sigmoid"], "identity", "mse"),
    "3-4-3 tanh, softmax cross-entropy": ([3, 4, 3], ["tanh"], "softmax", "cross_entropy"),
    "2-3-1 relu, binary cross-entropy": ([2, 3, 1], ["relu"], "sigmoid", "binary_cross_entropy"),
    "2-3-3-2 relu+tanh, sigmoid output, mse": ([2, 3, 3, 2], ["relu", "tanh"], "sigmoid", "mse"),
    "2-3-2 tanh, binary cross-entropy of 2 outputs": ([2, 3, 2], ["tanh"], "sigmoid", "binary_cross_entropy"),
}


def case(name: str, seed: int = 1):
    """A float64 network of the case with random weights and biases, an input and a target."""
    sizes, hidden, output, cost = CASES[name]
    rng = np.random.default_rng(seed)
    W = [rng.normal(0, 1, (o, i)) for i, o in zip(sizes, sizes[1:])]
    b = [rng.normal(0, 0.5, o) for o in sizes[1:]]
    x = rng.normal(0, 1, sizes[0])
    if cost == "cross_entropy":
        y = np.eye(sizes[-1])[rng.integers(sizes[-1])]
    elif cost == "binary_cross_entropy":
        y = rng.integers(0, 2, sizes[-1]).astype(float)
    else:
        y = rng.normal(0, 1, sizes[-1])
    return Network(W, b, hidden, output, cost), W, b, hidden, output, cost, x, y


def close(actual, expected):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", CASES)
def test_every_number_is_the_derivation(name):
    net, W, b, hidden, output, cost, x, y = case(name)
    t = trace_example(net, x, y)
    want = derive(W, b, hidden, output, cost, x, y)
    assert len(t.z) == len(t.delta) == len(W) and len(t.a) == len(W) + 1
    for l in range(len(W)):  # t.z[l] = z(l+2), t.a[l] = a(l+1), t.delta[l] = delta(l+2), t.dW[l] = dC/dW(l+1)
        close(t.z[l], want["z"][l])
        close(t.delta[l], want["delta"][l])
        close(t.dW[l], want["dW"][l])
        close(t.db[l], want["db"][l])
        close(t.W[l], W[l])
    for l in range(len(W) + 1):
        close(t.a[l], want["a"][l])
    close(t.s, want["a"][-1])
    close(t.C, want["C"])
    close(t.y, y)
    # the numbers matter: no gradient is zero by accident (a dropped term would agree)
    assert all(np.abs(g).max() > 1e-6 for g in t.dW)


@pytest.mark.parametrize("name", CASES)
def test_gradients_are_the_training_steps_on_that_row(name):
    """trace uses Network.backward; the training step (Network.gradients, Workspace.step) gives the
    same dC/dW and dC/db on that one row, and the same cost."""
    net, *_, x, y = case(name, seed=2)
    t = trace_example(net, x, y)
    loss, dW, db = net.gradients(x.reshape(1, -1), y.reshape(1, -1))
    close(t.C, loss)
    for l in range(len(dW)):
        close(t.dW[l], dW[l])
        close(t.db[l], db[l])


def test_a_float32_network_is_traced_in_float64_without_changing_it():
    net, *_, x, y = case("2-2-1 sigmoid, mse")
    net32 = net.astype(np.float32)
    t = trace_example(net32, x, y)
    assert net32.dtype == np.float32 and t.W[0].dtype == np.float64 and t.dW[0].dtype == np.float64
    close(t.W[0], net32.W[0].astype(np.float64))


def test_without_a_target_only_the_forward_pass():
    net, *_, x, y = case("3-4-3 tanh, softmax cross-entropy")
    full, forward = trace_example(net, x, y), trace_example(net, x)
    assert forward.y is forward.C is forward.delta is forward.dW is forward.db is None
    for l in range(len(full.z)):
        close(forward.z[l], full.z[l])
    d = json.loads(json.dumps(forward.to_dict()))
    assert d["C"] is None and d["y"] is None and d["delta_rule"] is None
    assert all(layer["delta"] is None for layer in d["layers"])
    assert all(p["grad"] is None for p in d["params"])


@pytest.mark.parametrize(
    "cost, output, k, rule",
    [
        ("cross_entropy", "softmax", 3, "s - y"),
        ("binary_cross_entropy", "sigmoid", 1, "s - y"),
        ("binary_cross_entropy", "sigmoid", 2, "(s - y) / 2"),
        ("mse", "identity", 1, "2 (s - y)"),
        ("mse", "sigmoid", 2, "2 (s - y) / 2 * sigmoid'(z(3))"),
    ],
)
def test_delta_rule_names_the_rule(cost, output, k, rule):
    assert delta_rule(cost, output, k, 3)[0] == rule


def test_json_round_trips_every_array_with_its_shape():
    net, W, *_, x, y = case("2-3-3-2 relu+tanh, sigmoid output, mse")
    t = trace_example(net, x, y)
    d = json.loads(json.dumps(t.to_dict()))
    assert [p["name"] for p in d["params"]] == ["W(1)", "b(1)", "W(2)", "b(2)", "W(3)", "b(3)"]
    assert [p["name"] for p in d["params"]] == t.param_names()
    values = [v for pair in zip(t.W, t.b) for v in pair]
    grads = [g for pair in zip(t.dW, t.db) for g in pair]
    for p, value, grad in zip(d["params"], values, grads, strict=True):
        assert np.array(p["value"]).shape == tuple(p["shape"]) == value.shape
        assert np.array(p["grad"]).shape == tuple(p["shape"])
        close(p["value"], value)
        close(p["grad"], grad)
    assert [layer["layer"] for layer in d["layers"]] == [1, 2, 3, 4]
    assert [layer["units"] for layer in d["layers"]] == [2, 3, 3, 2] == d["sizes"]
    assert d["layers"][0]["z"] is None and d["layers"][0]["f"] is None
    assert [layer["f"] for layer in d["layers"][1:]] == ["relu", "tanh", "sigmoid"]
    close(d["layers"][2]["delta"], t.delta[1])  # layer 3's delta is delta(3)
    close(d["s"], t.s)
    close(d["x"], x)


# -- a config: initial weights, a row of its data -----------------------------------------------------


def xor_rows():
    return np.loadtxt(DATA / "xor.csv", delimiter=",", skiprows=1)


@pytest.mark.parametrize("row", [0, 3])
def test_config_row_is_that_row_standardized_at_the_initial_weights(row):
    config = load_config(CONFIGS / "xor.yaml")
    t = trace_config(config, row=row)
    data = xor_rows()  # every row trains (no validation): fit's mean and std are the file's
    X, labels = data[:, :2], data[:, 2]
    close(t.a[0], (X[row] - X.mean(axis=0)) / X.std(axis=0))
    assert [float(v) for v in t.values] == list(X[row])
    assert t.label == str(int(labels[row])) and t.target == "label"
    close(t.y, [labels[row]])
    assert t.row == row and t.where.endswith(f"xor.csv:{row + 2}")  # the header is line 1
    initial = Network.from_config(config, dtype="float64")
    for l in range(2):
        close(t.W[l], initial.W[l])
        close(t.b[l], initial.b[l])
    _, dW, _ = initial.gradients(t.a[0].reshape(1, -1), t.y.reshape(1, -1))
    close(t.dW[0], dW[0])
    assert t.weights == "initial" and t.seed == 0


def test_rows_differ():
    config = load_config(CONFIGS / "xor.yaml")
    a, b = trace_config(config, row=1), trace_config(config, row=2)
    assert not np.allclose(a.a[0], b.a[0]) and a.label == b.label == "1"


def test_config_standardizes_with_fits_statistics_from_its_training_rows():
    """seed.yaml holds out 20% for validation: the statistics come from the other 80%, as in fit."""
    from nettrain.data import load_run_data

    config = load_config(CONFIGS / "seed.yaml")
    enc = load_run_data(config).encoding
    raw = np.loadtxt(DATA / "seed.csv", delimiter=",", skiprows=1)
    t = trace_config(config, row=7)
    close(t.a[0], (raw[7, :4] - enc.x_mean) / enc.x_scale)
    assert not np.allclose(enc.x_mean, raw[:, :4].mean(axis=0))  # (a different mean, indeed)
    close(t.y, (raw[7, 4] - enc.y_mean) / enc.y_scale)
    assert t.y_standardized
    close(t.prediction, t.s[0] * enc.y_scale[0] + enc.y_mean[0])  # in the target's units


def test_config_without_data_draws_gradchecks_random_rows():
    config = load_config(CONFIGS / "seed.yaml", ["data.train=null", "data.validation=0"])
    t = trace_config(config, row=2)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    y = rng.standard_normal((3, 1))
    close(t.a[0], x[2])
    close(t.y, y[2])
    assert t.data is None and "random" in t.where and any("random" in n for n in t.notes)


def test_config_data_file_without_the_target_gives_the_forward_pass(tmp_path):
    (tmp_path / "x.csv").write_text("x2,x1\n1,0\n0,0\n")  # (columns by name, in any order)
    t = trace_config(load_config(CONFIGS / "xor.yaml"), row=0, data=str(tmp_path / "x.csv"))
    full = trace_config(load_config(CONFIGS / "xor.yaml"), row=1)  # x1 = 0, x2 = 1
    close(t.s, full.s)
    assert t.C is None and t.label is None and any("no target column" in n for n in t.notes)


# -- a model: trained weights ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def xor_model():
    from nettrain import fit

    config = load_config(CONFIGS / "xor.yaml", ["training.epochs=30"])
    return fit(config, save=False).model


def test_model_uses_its_trained_weights_and_encoding(xor_model):
    t = trace_model(xor_model, str(DATA / "xor.csv"), row=2)
    net, enc = xor_model.network, xor_model.encoding
    for l in range(2):
        close(t.W[l], net.W[l].astype(np.float64))
    close(t.a[0], (xor_rows()[2, :2] - enc.x_mean) / enc.x_scale)
    s32 = xor_model.forward(xor_rows()[2:3, :2], standardize=True)[0]  # predict's s, in float32
    np.testing.assert_allclose(t.s, s32, rtol=1e-6)
    initial = trace_config(load_config(CONFIGS / "xor.yaml"), row=2)
    assert not np.allclose(t.W[0], initial.W[0])  # trained, not initial
    assert t.weights == "trained" and t.dtype == "float32"
    assert t.prediction == xor_model.predict(xor_rows()[2:3, :2])[0]


def test_model_from_a_file(tmp_path, xor_model):
    from nettrain import save_model

    save_model(tmp_path / "m.npz", xor_model)
    t = trace_model(tmp_path / "m.npz", str(DATA / "xor.csv"), row=1)
    close(t.W[1], xor_model.network.W[1].astype(np.float64))
    assert t.source.endswith("m.npz")


def test_model_without_the_target_column(tmp_path, xor_model):
    (tmp_path / "x.csv").write_text("x1,x2\n1,1\n")
    t = trace_model(xor_model, str(tmp_path / "x.csv"))
    close(t.s, trace_model(xor_model, str(DATA / "xor.csv"), row=3).s)
    assert t.delta is None and any("no target column" in n for n in t.notes)


@pytest.mark.parametrize(
    "row, text, needle",
    [
        (4, "x1,x2,label\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n", "row 4 is past the end of"),
        (0, "x1,x3,label\n0,0,0\n", "feature column 'x2' is missing"),
        (0, "", "empty"),
    ],
)
def test_model_errors(tmp_path, xor_model, row, text, needle):
    (tmp_path / "d.csv").write_text(text)
    with pytest.raises(DataError, match=needle):
        trace_model(xor_model, str(tmp_path / "d.csv"), row=row)


def test_negative_row_and_no_training_data_for_a_data_file():
    with pytest.raises(DataError, match="count from 0"):
        trace_config(load_config(CONFIGS / "xor.yaml"), row=-1)
    with pytest.raises(ConfigError, match="data.train"):
        trace_config(load_config(CONFIGS / "xor.yaml", ["data.train=null"]), data=str(DATA / "xor.csv"))


def test_missing_values(tmp_path, xor_model):
    (tmp_path / "d.csv").write_text("x1,x2,label\n0,,1\n1,1,\n1,0,1\n0,1,0\n")
    t = trace_model(xor_model, str(tmp_path / "d.csv"), row=1)  # no target in this row
    assert t.C is None and t.label is None and any("the target is missing" in n for n in t.notes)
    with pytest.raises(DataError, match="column 'x2' is missing a value"):  # missing: error (the default)
        trace_model(xor_model, str(tmp_path / "d.csv"), row=0)
    for policy in ("drop", "mean"):
        config = load_config(
            CONFIGS / "xor.yaml", [f"data.train={tmp_path / 'd.csv'}", f"data.missing={policy}"]
        )
        if policy == "drop":
            with pytest.raises(DataError, match="row 0 has missing values, and data.missing: drop"):
                trace_config(config, row=0)
        else:  # filled with the mean of the values present in the rows with a target
            t = trace_config(config, row=0)
            assert t.values[1] == "" and t.C is not None
            assert t.a[0][1] == pytest.approx(0.0)  # the fill is the mean: 0 once standardized


@pytest.mark.parametrize("kind", ["header-less csv", "npy"])
def test_config_with_data_features_traces_its_columns(tmp_path, kind):
    """data.features leaves columns out as data.exclude does: the row is read without them (it
    said 'has 4 columns but the model expects 2 features' for a file without a header or an .npy,
    where the columns are positions)."""
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(20, 4)).round(6)
    raw[:, 3] = raw[:, 0] > 0
    if kind == "npy":
        np.save(tmp_path / "d.npy", raw)
        sets = [f"data.train={tmp_path / 'd.npy'}"]
    else:
        np.savetxt(tmp_path / "d.csv", raw, delimiter=",", fmt="%.6f")
        sets = [f"data.train={tmp_path / 'd.csv'}", "data.header=false"]
    base = [*sets, "data.target=3", "network.layers=[auto, 4, 1]"]
    by_features = trace_config(load_config(CONFIGS / "xor.yaml", [*base, "data.features=[0, 2]"]), row=5)
    by_exclude = trace_config(load_config(CONFIGS / "xor.yaml", [*base, "data.exclude=[1]"]), row=5)
    close(by_features.a[0], by_exclude.a[0])
    close(by_features.s, by_exclude.s)
    assert by_features.features == ["0", "2"]
    close([float(v) for v in by_features.values], raw[5, [0, 2]])


def test_config_data_file_with_the_model_columns_alone(tmp_path):
    """--data for a config is read as predict reads inputs: a header-less file of the columns
    data.features keeps (here 0 and 2 of a 4-column file) is matched by position, as the whole
    layout is (it said 'has 1 columns', its '0' taken for the left-out column 0)."""
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(20, 4)).round(6)
    raw[:, 3] = raw[:, 0] > 0
    np.savetxt(tmp_path / "d.csv", raw, delimiter=",", fmt="%g")
    np.savetxt(tmp_path / "x.csv", raw[:, [0, 2]], delimiter=",", fmt="%g")
    sets = [f"data.train={tmp_path / 'd.csv'}", "data.header=false", "data.target=3"]
    for columns in ("data.features=[0, 2]", "data.exclude=[1]"):
        config = load_config(CONFIGS / "xor.yaml", [*sets, columns, "network.layers=[auto, 4, 1]"])
        alone = trace_config(config, row=5, data=str(tmp_path / "x.csv"))
        whole = trace_config(config, row=5, data=str(tmp_path / "d.csv"))
        close(alone.s, whole.s)
        close(alone.s, trace_config(config, row=5).s)
        assert alone.C is None and whole.C is not None


def test_an_unseen_category_says_what_trace_can_do(tmp_path):
    # the encoder's message offers predict's --unknown ignore, an option trace has not
    from nettrain import config_from_dict, fit

    train = tmp_path / "train.csv"
    train.write_text(
        "color,size,y\n" + "".join(f"{c},{i % 5},{i % 2}\n" for i, c in enumerate(["red", "blue"] * 10))
    )
    cfg = config_from_dict(
        {
            "data": {"train": str(train), "target": "y"},
            "network": {"layers": ["auto", 4, "auto"]},
            "training": {"epochs": 1},
            "output": str(tmp_path / "run"),
        }
    )
    fit(cfg)
    new = tmp_path / "new.csv"
    new.write_text("color,size,y\nred,1,0\ngreen,2,1\n")
    assert trace_model(tmp_path / "run", str(new), row=0).label is not None
    with pytest.raises(
        DataError, match=r"new.csv:3: column 'color' holds 'green', a category training never saw"
    ) as e:
        trace_model(tmp_path / "run", str(new), row=1)
    assert "--unknown" not in str(e.value) and "trace a row" in str(e.value)


def test_a_config_with_class_weights_says_its_rows_weight_which_the_trace_leaves_out():
    """The trace shows the unweighted C and gradients; under training.class_weight the training
    step multiplies them by the row's class weight, and the trace said nothing of it."""
    from dataclasses import replace

    config = load_config(CONFIGS / "digits.yaml")
    weighted = replace(config, training=replace(config.training, class_weight={"7": 9.0}))
    t = trace_config(weighted, row=0)  # (row 0 of digits_train.csv is a 7)
    assert any("class_weight is not applied here" in n and "9 (class '7')" in n for n in t.notes), t.notes
    plain = trace_config(config, row=0)
    assert not any("class_weight" in n for n in plain.notes)
    np.testing.assert_array_equal(t.dW[0], plain.dW[0])  # (the numbers are the unweighted ones)


def test_json_leaves_out_a_matrix_above_max_entries_with_a_summary():
    """to_dict(max_entries): a W(l) with more entries has null value and grad and a summary;
    `left_out` and `max_entries` say so; the vectors and the smaller matrices stay in full."""
    net, *_, x, y = case("3-4-3 tanh, softmax cross-entropy")
    t = trace_example(net, x, y)
    assert [W.size for W in t.W] == [12, 12]
    full = json.loads(json.dumps(t.to_dict()))
    assert "left_out" not in full and "max_entries" not in full
    assert full == json.loads(json.dumps(t.to_dict(max_entries=12)))  # none above 12 entries
    d = json.loads(json.dumps(t.to_dict(max_entries=11)))
    assert d["left_out"] == ["W(1)", "W(2)"] and d["max_entries"] == 11
    for p in d["params"]:
        if p["name"].startswith("W"):
            l = int(p["name"][2]) - 1
            assert p["value"] is None and p["grad"] is None and p["shape"] == list(t.W[l].shape)
            for key, a in (("value", t.W[l]), ("grad", t.dW[l])):
                s = p["summary"][key]
                assert s["norm"] == pytest.approx(np.sqrt((a**2).sum()), rel=1e-12)
                assert (s["min"], s["max"]) == (a.min(), a.max())
        else:
            assert (
                "summary" not in p
                and p["value"]
                == full["params"][[q["name"] for q in full["params"]].index(p["name"])]["value"]
            )
    assert d["layers"] == full["layers"]  # z, a and delta in full


def test_a_summary_of_entries_whose_squares_overflow_warns_nothing():
    """A left-out W(l) with entries past 1e154 (a blown-up model): the norm overflows to inf and
    is null, min and max are numbers, and the library issues no RuntimeWarning (which Python
    would print on stderr)."""
    import warnings

    net, *_, x, y = case("3-4-3 tanh, softmax cross-entropy")
    t = trace_example(net, x, y)
    t.W[0] = np.full_like(t.W[0], 1e200, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = t.to_dict(max_entries=11)
    assert d["params"][0]["summary"]["value"] == {"norm": None, "min": 1e200, "max": 1e200}


def test_dW_is_the_outer_product_of_the_jsons_vectors_exactly():
    """What README tells a script whose W(l) was left out: dC/dW(l) = outer(delta(l+1), a(l)),
    bit for bit from the JSON's numbers."""
    net, *_, x, y = case("2-3-3-2 relu+tanh, sigmoid output, mse")
    d = json.loads(json.dumps(trace_example(net, x, y).to_dict()))
    for l, p in enumerate(p for p in d["params"] if p["name"].startswith("W")):
        delta, a = d["layers"][l + 1]["delta"], d["layers"][l]["a"]
        assert np.array_equal(np.outer(delta, a), np.array(p["grad"]))
