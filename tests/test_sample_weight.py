"""data.weight and sample_weight: the weighted training cost C = (1/n) sum_i c_{y_i} s_i l_i with
s_i = weight_i / mean(weight over the training rows), its gradient for every cost, the reading and
refusing of the weight column, and that predict, evaluate and info know the column."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nettrain import config_from_dict
from nettrain.checkpoint import config_hash
from nettrain.costs import MSE, BinaryCrossEntropy, CrossEntropy
from nettrain.data import RunData, load_run_data, normalized_weights
from nettrain.data.read import with_weight
from nettrain.errors import ConfigError, DataError
from nettrain.gradcheck import gradcheck, gradcheck_config
from nettrain.network import Network
from nettrain.train import fit
from tests.helpers import assert_error, numpy_weighted, ok, run

#: (cost, output, outputs k)
COSTS = {
    "mse, identity": ("mse", "identity", 2),
    "mse, sigmoid": ("mse", "sigmoid", 2),
    "cross_entropy": ("cross_entropy", "softmax", 3),
    "binary_cross_entropy, one output": ("binary_cross_entropy", "sigmoid", 1),
    "binary_cross_entropy, one-vs-rest": ("binary_cross_entropy", "sigmoid", 3),
}


def _batch(cost, k, n=11, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4))
    if cost == "mse":
        y = rng.uniform(0.1, 0.9, (n, k))
    else:
        classes = rng.integers(0, max(k, 2), n)
        y = classes[:, None].astype(float) if k == 1 else np.eye(k)[classes]
    sw = rng.uniform(0.0, 3.0, n)
    return x, y, sw


@pytest.mark.parametrize("cost, output, k", COSTS.values(), ids=COSTS.keys())
def test_the_weighted_step_is_the_weighted_mean_and_its_gradient(cost, output, k):
    net = Network.create([4, 5, k], "tanh", output, cost, 3, "float64")
    x, y, sw = _batch(cost, k)
    want_cost, want_dW, want_db = numpy_weighted(net, x, y, sw)
    # the training step (Workspace.step, the fused cost)
    loss, dW, db = net.gradients(x, y, sw=sw)
    assert float(loss) == pytest.approx(want_cost, rel=1e-12)
    for got, want in zip(dW + db, want_dW + want_db):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)
    # the readable form: Network.loss, Cost.delta, Network.backward
    assert float(net.loss(x, y, sw=sw)) == pytest.approx(want_cost, rel=1e-12)
    zs, acts = net.forward_cache(x)
    rdW, rdb = net.backward(zs, acts, y, sw=sw)
    for got, want in zip(rdW + rdb, want_dW + want_db):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)
    # the weights do change it
    assert float(net.gradients(x, y)[0]) != pytest.approx(want_cost, rel=1e-3)


def test_class_weights_and_sample_weights_multiply():
    net = Network.create([4, 5, 3], "tanh", "softmax", "cross_entropy", 3, "float64")
    x, y, sw = _batch("cross_entropy", 3)
    c = np.array([0.5, 2.0, 3.0])
    net.set_class_weight(tuple(c))
    want_cost, want_dW, _ = numpy_weighted(net, x, y, (y @ c) * sw)
    loss, dW, _ = net.gradients(x, y, sw=sw)
    assert float(loss) == pytest.approx(want_cost, rel=1e-12)
    for got, want in zip(dW, want_dW):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)


def test_balanced_class_weights_count_rows_not_their_sample_weights(tmp_path):
    rows = [[r[0], r[1], r[2], str(int(float(r[3]) > 0))] for r in regression_rows(n=40)]
    train = write_csv(tmp_path / "t.csv", rows)
    noted = []
    for name, weight in (("weighted", "w"), ("unweighted", None)):
        cfg = write_config(tmp_path, train, name, weight=weight, exclude=None if weight else ["w"])
        body = json.loads(cfg.read_text())
        body |= {"cost": "cross_entropy", "training": {**body["training"], "class_weight": "balanced"}}
        cfg.write_text(json.dumps(body))
        err = ok(run("fit", cfg)).stderr
        noted.append([line for line in err.splitlines() if "class weights in the training cost" in line])
    assert noted[0] == noted[1] and len(noted[0]) == 1


@pytest.mark.parametrize("cost, output, k", COSTS.values(), ids=COSTS.keys())
def test_a_row_of_weight_zero_adds_nothing_to_the_gradient(cost, output, k):
    """n dC/dW on all rows with row 0 weighing 0 is (n - 1) dC/dW on the other rows alone: the
    sum over rows of s_i dl_i/dW loses nothing but row 0's term."""
    net = Network.create([4, 5, k], "tanh", output, cost, 3, "float64")
    x, y, sw = _batch(cost, k)
    sw[0] = 0.0
    x[0] *= 50  # a row far away: its unweighted gradient would be large
    n = len(x)
    loss, dW, db = net.gradients(x, y, sw=sw)
    rest_loss, rest_dW, rest_db = net.gradients(x[1:], y[1:], sw=sw[1:])
    assert n * float(loss) == pytest.approx((n - 1) * float(rest_loss), rel=1e-12)
    for a, b in zip(dW + db, rest_dW + rest_db):
        np.testing.assert_allclose(n * a, (n - 1) * b, rtol=1e-10, atol=1e-14)


def test_normalized_weights_are_relative_and_equal_weights_are_exactly_one():
    w = np.array([1.0, 2.0, 3.0, 6.0])
    s = normalized_weights(w, "float64", "w")
    np.testing.assert_allclose(s, w / 3.0, rtol=1e-15)
    np.testing.assert_array_equal(normalized_weights(w * 4, "float64", "w"), s)  # (exact: times 4)
    np.testing.assert_array_equal(normalized_weights(np.full(7, 0.3), "float32", "w"), np.ones(7))
    # (0.1 seven times has a float64 mean that is not 0.1: w / mean would miss 1 by an ulp)
    np.testing.assert_array_equal(normalized_weights(np.full(7, 0.1), "float64", "w"), np.ones(7))
    with pytest.raises(DataError, match="every training row's weight is 0"):
        normalized_weights(np.zeros(3), "float32", "the data")


@pytest.mark.parametrize(
    "w, ratios",
    [
        (np.array([1.0, 0.5, 0.0, 1.0, 0.25]) * 1e308, [1.0, 0.5, 0.0, 1.0, 0.25]),
        (np.array([5e-324, 0.0, 0.0, 0.0]), [1.0, 0.0, 0.0, 0.0]),
    ],
    ids=["near the float64 maximum", "the smallest subnormal"],
)
def test_weights_at_the_ends_of_float64_normalize_to_their_ratios(w, ratios):
    # the sum of weights near 1.8e308 overflows (a mean of inf made every weight 0: no training),
    # and the mean of the smallest subnormal weights rounds to 0 (weights of inf and NaN)
    s = normalized_weights(w, "float64", "w")
    np.testing.assert_allclose(s, np.array(ratios) / np.mean(ratios), rtol=1e-12)


def test_a_file_of_huge_weights_trains_the_model_of_their_ratios(tmp_path):
    rows = regression_rows()
    ratios = [0.5 + (i % 3) for i in range(len(rows))]
    for row, r in zip(rows, ratios):
        row[2] = f"{r * 1e307:.17g}"  # (their sum is above 1.8e308)
    huge = fit(
        config_from_dict(json.loads(write_config(tmp_path, write_csv(tmp_path / "h.csv", rows)).read_text())),
        save=False,
    )
    for row, r in zip(rows, ratios):
        row[2] = f"{r:g}"
    plain = fit(
        config_from_dict(json.loads(write_config(tmp_path, write_csv(tmp_path / "p.csv", rows)).read_text())),
        save=False,
    )
    assert np.isfinite(huge.history[-1]["loss"]) and huge.history[-1]["loss"] > 0
    np.testing.assert_allclose(huge.model.network.W[0], plain.model.network.W[0], rtol=1e-9)


# -- the weight column of a file --------------------------------------------------------------


def write_csv(path, rows, header=("x1", "x2", "w", "y")):
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for row in rows:
            f.write(",".join(str(v) for v in row) + "\n")
    return str(path)


def regression_rows(n=24, seed=0, weights=None):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = X @ [1.5, -0.5] + 0.1 * rng.normal(size=n)
    w = rng.uniform(0.5, 3.0, n) if weights is None else weights
    return [[f"{a:.6f}", f"{b:.6f}", f"{c:g}", f"{t:.6f}"] for (a, b), c, t in zip(X, w, y)]


def write_config(tmp_path, train, name="c", **data):
    cfg = tmp_path / f"{name}.yaml"
    body = {
        "data": {"train": str(train), "target": "y", "weight": "w", **data},
        "network": {"layers": ["auto", 6, "auto"], "activation": "tanh"},
        "cost": "mse",
        "dtype": "float64",
        "training": {"learning_rate": 0.05, "epochs": 4, "batch_size": 8, "seed": 0},
        "output": str(tmp_path / f"run-{name}"),
    }
    body["data"] = {k: v for k, v in body["data"].items() if v is not None}
    cfg.write_text(json.dumps(body))  # (JSON is YAML)
    return cfg


def info_json(path) -> dict:
    return json.loads(ok(run("info", path, "--json")).stdout)


def test_equal_weights_train_the_model_of_no_weights_bit_for_bit(tmp_path):
    """A weight column of 2s: the same weights (weights_sha256) as the same file with the column
    left out by data.exclude; the training loss too (weights of exactly 1)."""
    train = write_csv(tmp_path / "t.csv", regression_rows(weights=[2] * 24))
    weighted = write_config(tmp_path, train, "weighted")
    plain = write_config(tmp_path, train, "plain", weight=None, exclude=["w"])
    for cfg in (weighted, plain):
        ok(run("fit", cfg, "--quiet"))
    a, b = info_json(tmp_path / "run-weighted"), info_json(tmp_path / "run-plain")
    assert a["weight_column"] == "w" and b["weight_column"] is None
    assert a["weights_sha256"] == b["weights_sha256"]
    # and other weights give another model
    other = write_csv(tmp_path / "o.csv", regression_rows())
    ok(run("fit", write_config(tmp_path, other, "other"), "--quiet"))
    ok(run("fit", write_config(tmp_path, other, "other-plain", weight=None, exclude=["w"]), "--quiet"))
    assert (
        info_json(tmp_path / "run-other")["weights_sha256"]
        != info_json(tmp_path / "run-other-plain")["weights_sha256"]
    )


def test_dry_run_says_which_column_weighs_the_rows(tmp_path):
    """fit --dry-run's data line on stderr names the data.weight column (its YAML and --json
    have it in the config); an unweighted run's says nothing of weights."""
    train = write_csv(tmp_path / "t.csv", regression_rows())
    weighted = ok(run("fit", write_config(tmp_path, train, "weighted"), "--dry-run"))
    data_line = [line for line in weighted.stderr.splitlines() if line.startswith("data: ")]
    assert data_line == ["data: train 24 rows, weighted by column 'w'"]
    plain = ok(run("fit", write_config(tmp_path, train, "plain", weight=None, exclude=["w"]), "--dry-run"))
    assert "data: train 24 rows\n" in plain.stderr and "weight" not in plain.stderr


def test_weights_times_four_train_the_same_model(tmp_path):
    """Only the weights' ratios count: every weight times 4 (exact in floating point)."""
    rows = regression_rows(weights=np.random.default_rng(5).integers(1, 9, 24) / 8)  # (exact in text)
    times4 = [[a, b, f"{float(c) * 4:g}", t] for a, b, c, t in rows]
    for name, r in (("one", rows), ("four", times4)):
        ok(run("fit", write_config(tmp_path, write_csv(tmp_path / f"{name}.csv", r), name), "--quiet"))
    assert (
        info_json(tmp_path / "run-one")["weights_sha256"]
        == info_json(tmp_path / "run-four")["weights_sha256"]
    )


def test_a_weight_of_two_is_the_row_twice_in_full_batch_descent(tmp_path):
    """Full-batch gradient descent (batch_size above the rows: the shuffle changes only the order
    of a sum): weight 2 on some rows, 1 on the others, trains the model of the file with those
    rows written twice. (1/n) sum s_i l_i with s_i = w_i n / sum w is sum w_i l_i / sum w, the
    duplicated file's mean. A real CLI fit of two CSV files."""
    rows = regression_rows(n=20, weights=[2 if i % 3 == 0 else 1 for i in range(20)])
    doubled = []
    for r in rows:
        doubled += [[*r[:2], "1", r[3]]] * int(r[2])
    cfgs = []
    for name, r in (("weighted", rows), ("doubled", doubled)):
        cfg = tmp_path / f"{name}.yaml"
        cfg.write_text(
            json.dumps(
                {
                    "data": {
                        "train": write_csv(tmp_path / f"{name}.csv", r),
                        "target": "y",
                        "weight": "w",
                        "standardize": False,  # (the files' statistics differ: rows counted once)
                    },
                    "network": {"layers": [2, 5, 1], "activation": "tanh"},
                    "cost": "mse",
                    "dtype": "float64",
                    "training": {"learning_rate": 0.1, "epochs": 30, "batch_size": 1000, "seed": 0},
                    "output": str(tmp_path / name),
                }
            )
        )
        ok(run("fit", cfg, "--quiet"))
        cfgs.append(cfg)
    from nettrain import load_model

    a, b = load_model(tmp_path / "weighted"), load_model(tmp_path / "doubled")
    assert a.meta["training"]["loss"] == pytest.approx(b.meta["training"]["loss"], rel=1e-10)
    for p, q in zip(a.network.W + a.network.b, b.network.W + b.network.b):
        np.testing.assert_allclose(p, q, rtol=1e-10, atol=1e-13)
    # and not by chance: weights of 1 train another model
    ok(
        run(
            "fit",
            cfgs[0],
            "--quiet",
            "--set",
            "data.weight=null",
            "--set",
            "data.exclude=[w]",
            "-o",
            tmp_path / "p",
        )
    )
    c = load_model(tmp_path / "p")
    assert not np.allclose(c.network.W[0], a.network.W[0], rtol=1e-6)


def test_full_batch_duplicates_equal_weights_on_arrays():
    """The same, from arrays (no standardization): the weights themselves agree."""
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(12, 3)), rng.normal(size=12)
    w = rng.integers(0, 4, 12)
    cfg = config_from_dict(
        {
            "network": {"layers": [3, 4, 1], "activation": "tanh"},
            "cost": "mse",
            "dtype": "float64",
            "training": {"learning_rate": 0.1, "epochs": 20, "batch_size": 1000, "seed": 0},
        }
    )
    weighted = fit(cfg, data=RunData.from_arrays(X, y, "mse", "float64", sample_weight=w), save=False)
    repeated = fit(cfg, data=RunData.from_arrays(X.repeat(w, 0), y.repeat(w), "mse", "float64"), save=False)
    for a, b in zip(weighted.model.network.W, repeated.model.network.W):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


def test_the_weights_are_normalized_over_the_training_rows_after_the_hold_outs(tmp_path):
    train = write_csv(tmp_path / "t.csv", regression_rows(n=40))
    cfg = config_from_dict(json.loads(write_config(tmp_path, train, validation=0.25, test=0.2).read_text()))
    data = load_run_data(cfg)
    for held in (data.validation, data.test):  # (each held-out set's weights over their own mean)
        own = held.table.w.astype(np.float64)[held.kept]
        assert held.w.dtype == np.float64 and len(held.w) == len(held) > 0
        np.testing.assert_allclose(held.w, own / own.mean(), rtol=1e-12)
    raw = data.train.table.w.astype(np.float64)[data.train.kept]  # the training rows' own column
    assert len(raw) == len(data.train) < 40
    np.testing.assert_allclose(data.train.w, raw / raw.mean(), rtol=1e-12)
    everything = np.array([float(r[2]) for r in regression_rows(n=40)])
    assert raw.mean() != pytest.approx(everything.mean(), rel=1e-6)  # (not the whole file's mean)


def test_the_weights_are_normalized_over_the_rows_left_after_missing_values_are_dropped(tmp_path):
    """A row dropped for a missing input (data.missing: drop) takes its weight with it: the mean
    is the kept rows'."""
    rows = regression_rows(n=12, weights=[1.0] * 12)
    rows[3][0], rows[3][2] = "", "50"  # (a heavy row without x1)
    cfg = config_from_dict(
        json.loads(write_config(tmp_path, write_csv(tmp_path / "t.csv", rows), missing="drop").read_text())
    )
    data = load_run_data(cfg)
    assert len(data.train) == 11
    np.testing.assert_array_equal(data.train.w, np.ones(11))  # (equal weights: exactly 1)


def test_gradcheck_uses_the_weights_and_still_catches_a_broken_weighting(tmp_path, monkeypatch):
    train = write_csv(tmp_path / "t.csv", regression_rows())
    cfg = config_from_dict(json.loads(write_config(tmp_path, train).read_text()))
    result = gradcheck_config(cfg)
    assert result.passed
    assert any("data.weight" in note for note in result.notes)
    fused = MSE.fused

    def unweighted_delta(self, z, y, scale, tmp, w=None):
        """The weighted loss, but delta(L) without the weights: the multiply broken."""
        loss = fused(self, z, y, scale, tmp, w)
        if w is not None:
            z /= w[:, None]
        return loss

    monkeypatch.setattr(MSE, "fused", unweighted_delta)
    assert not gradcheck_config(cfg).passed
    # without data.weight the broken code is never reached
    plain = json.loads(write_config(tmp_path, train, "plain", weight=None, exclude=["w"]).read_text())
    assert gradcheck_config(config_from_dict(plain)).passed


def test_gradchecks_rows_away_from_a_kink_keep_their_own_weights():
    """An entry near a ReLU kink is compared on the other rows (gradcheck's module doc): those
    rows' x, y and sample weights, each row's own."""
    from nettrain.gradcheck import _rows_of

    x, y, sw = np.arange(12.0).reshape(6, 2), np.arange(6.0).reshape(6, 1) * 10, np.arange(6.0) / 2
    xs, ys, sws = _rows_of(np, np.array([1, 4]), x, y, sw)
    assert xs.tolist() == [[2.0, 3.0], [8.0, 9.0]] and ys.tolist() == [[10.0], [40.0]]
    assert sws.tolist() == [0.5, 2.0]
    assert _rows_of(np, np.array([1, 4]), x, y, None)[2] is None


@pytest.mark.parametrize("cls", [CrossEntropy, BinaryCrossEntropy, MSE])
def test_gradcheck_with_weights_fails_when_a_costs_loss_ignores_them(cls, monkeypatch):
    """A Cost.delta that drops the weights (the readable form, Network.backward) is caught by
    gradcheck's reference check against the training step, which keeps them."""
    output = {"cross_entropy": "softmax", "binary_cross_entropy": "sigmoid", "mse": "identity"}[cls.name]
    k = 3 if cls is not BinaryCrossEntropy else 1
    net = Network.create([4, 5, k], "tanh", output, cls.name, 3, "float64")
    x, y, sw = _batch(cls.name, k)
    assert gradcheck(net, x, y, sw=sw).passed
    delta = cls.delta
    monkeypatch.setattr(cls, "delta", lambda self, z, s, y, w=None: delta(self, z, s, y))
    result = gradcheck(net, x, y, sw=sw)
    assert not result.reference["passed"]


# -- refusals -------------------------------------------------------------------------------------


BAD = {
    "text": ("heavy", "holds 'heavy', which is not a number"),
    "negative": ("-1.5", "holds '-1.5', a negative weight"),
    "infinite": ("inf", "which is not a finite number"),
    "missing": ("", "the weight 'w' is missing"),
}


@pytest.mark.parametrize("cell, needle", BAD.values(), ids=BAD.keys())
def test_a_bad_weight_is_one_error_line_naming_file_line_and_column(tmp_path, cell, needle):
    rows = regression_rows()
    rows[4][2] = cell
    train = write_csv(tmp_path / "t.csv", rows)
    line = assert_error(run("fit", write_config(tmp_path, train)), needle)
    assert "t.csv:6" in line  # the header is line 1: row 4 is line 6
    assert not (tmp_path / "run-c").exists()


def test_all_zero_weights_are_refused(tmp_path):
    train = write_csv(tmp_path / "t.csv", regression_rows(weights=[0] * 24))
    assert_error(run("fit", write_config(tmp_path, train)), "every training row's weight is 0")


def test_a_missing_weight_drops_its_row_under_missing_drop(tmp_path):
    rows = regression_rows()
    rows[3][2] = "NA"
    train = write_csv(tmp_path / "t.csv", rows)
    cfg = config_from_dict(json.loads(write_config(tmp_path, train, missing="drop").read_text()))
    data = load_run_data(cfg)
    assert len(data.train) == 23
    assert any("left out 1 of 24 rows" in note for note in data.notes)


def test_the_note_of_rows_left_out_for_a_missing_weight_says_why(tmp_path):
    # under missing: mean a row without a weight is left out, as one without a target: the note
    # names the weight, not only the target
    rows = regression_rows()
    rows[3][2] = ""
    train = write_csv(tmp_path / "t.csv", rows)
    cfg = config_from_dict(json.loads(write_config(tmp_path, train, missing="mean").read_text()))
    (note,) = [n for n in load_run_data(cfg).notes if "left out 1 of 24 rows" in n]
    assert "(a missing target or weight cannot be filled)" in note


@pytest.mark.parametrize("cost", ["cross_entropy", "binary_cross_entropy"])
def test_a_class_whose_every_training_row_weighs_0_is_noted(tmp_path, cost):
    rows = regression_rows(n=40)
    rows = [[a, b, "0" if float(y) > 0 else w, str(int(float(y) > 0))] for a, b, w, y in rows]
    train = write_csv(tmp_path / "t.csv", rows)
    body = json.loads(write_config(tmp_path, train).read_text())
    body["cost"] = cost
    cfg = config_from_dict(body)
    n_ones = sum(r[3] == "1" for r in rows)
    (note,) = [n for n in load_run_data(cfg).notes if "weighs 0" in n]
    assert f"every row of class '1' ({n_ones} rows) weighs 0 in data.weight ('w')" in note
    rows[0][2], rows[0][3] = "0.5", "1"  # one row of class 1 that weighs something
    body["data"]["train"] = write_csv(tmp_path / "u.csv", rows)
    assert not [n for n in load_run_data(config_from_dict(body)).notes if "weighs 0" in n]


def test_a_weight_column_the_file_lacks_is_one_error_line(tmp_path):
    train = write_csv(tmp_path / "t.csv", regression_rows())
    cfg = write_config(tmp_path, train, weight="wieght")
    assert_error(run("fit", cfg), "data.weight names 'wieght', which is not a column", "columns: x1, x2, w")


@pytest.mark.parametrize(
    "data, needle",
    [
        ({"target": "w"}, "is data.target's column too"),
        ({"exclude": ["w"]}, "is data.exclude's column too"),
        ({"features": ["x1", "w"]}, "is data.features's column too"),
        ({"categorical": ["w"]}, "is data.categorical's column too"),
        ({"weight": -1}, "out of range"),
        ({"weight": [1, 2]}, "is not a column name or a 0-based index"),
    ],
)
def test_the_config_refuses_a_weight_column_that_is_another_role(tmp_path, data, needle):
    base = {"data": {"train": "t.csv", "target": "y", "weight": "w", **data}, "network": {"layers": [2, 1]}}
    with pytest.raises(ConfigError, match=f"data.weight: .*{needle}"):
        config_from_dict(base)


@pytest.mark.parametrize("key", ["sample_weight", "weights", "weight_column", "sample_weights"])
def test_other_libraries_names_point_to_data_weight(key):
    with pytest.raises(ConfigError, match=r"did you mean 'data.weight'"):
        config_from_dict({"data": {"train": "t.csv", key: "w"}, "network": {"layers": [2, 1]}})


def test_resuming_with_another_weight_column_is_refused(tmp_path):
    rows = [[*r, r[2]] for r in regression_rows()]
    train = write_csv(tmp_path / "t.csv", rows, header=("x1", "x2", "w", "y", "v"))
    cfg = write_config(tmp_path, train, exclude=["v"])
    body = json.loads(cfg.read_text())
    body["training"]["checkpoint_every"] = 1
    cfg.write_text(json.dumps(body))
    ok(run("fit", cfg, "--quiet"))
    hashes = {
        config_hash(config_from_dict({**body, "data": {**body["data"], **d}}).to_dict())
        for d in ({}, {"weight": "v", "exclude": ["w"]}, {"weight": None, "exclude": ["v", "w"]})
    }
    assert len(hashes) == 3
    changed = run(
        "fit",
        cfg,
        "--resume",
        tmp_path / "run-c",
        "--set",
        "data.weight=null",
        "--set",
        "data.exclude=[v, w]",
    )
    assert_error(changed, "data")
    d = config_from_dict({**body, "data": {**body["data"], "weight": None}}).to_dict()
    d["data"].pop("weight")  # a run folder written before the key existed resumes
    assert config_hash(d) == config_hash(
        config_from_dict({**body, "data": {**body["data"], "weight": None}}).to_dict()
    )


# -- predict, evaluate, info ----------------------------------------------------------------------


def test_predict_and_evaluate_leave_the_weight_column_out(tmp_path):
    rows = regression_rows()
    train = write_csv(tmp_path / "t.csv", rows)
    ok(run("fit", write_config(tmp_path, train), "--quiet"))
    model = tmp_path / "run-c" / "model.npz"
    with_column = ok(run("predict", model, train)).stdout
    without = write_csv(tmp_path / "x.csv", [[r[0], r[1]] for r in rows], header=("x1", "x2"))
    assert ok(run("predict", model, without)).stdout == with_column
    report = json.loads(ok(run("evaluate", model, train, "--json")).stdout)
    assert report["n"] == len(rows)
    text = ok(run("info", model)).stderr + ok(run("info", model)).stdout
    assert "weight column" in text and "w (data.weight" in text


@pytest.mark.parametrize("left_out", ["weight", "exclude"])
def test_a_headerless_test_file_laid_out_like_training_or_as_the_models_columns(tmp_path, left_out):
    # a header-less training file (x1, w, x2, y) with data.weight (or data.exclude) naming column
    # 1: a test or validation file laid out like it (header-less CSV, NPY) leaves column 1 out,
    # as a headed one does by name; an array of the model's columns alone keeps them all
    rows = regression_rows()
    table = np.array([[float(a), float(w), float(b), float(y)] for a, b, w, y in rows])
    train = tmp_path / "t.csv"
    train.write_text("".join(",".join(f"{v:.17g}" for v in row) + "\n" for row in table))
    np.save(tmp_path / "like.npy", table)
    np.savez(tmp_path / "model.npz", X=table[:, [0, 2]], y=table[:, 3])
    data = {"header": False, "target": 3, "weight": None, "validation": str(train)}
    data |= {"weight": 1} if left_out == "weight" else {"exclude": [1]}
    scores, weighted = [], []
    for test in (train, tmp_path / "like.npy", tmp_path / "model.npz"):
        cfg = config_from_dict(json.loads(write_config(tmp_path, train, test=str(test), **data).read_text()))
        result = fit(cfg, save=False)
        scores.append((result.test["loss"], result.history[-1]["val_loss"]))
        weighted.append(result.summary.get("test_weighted"))
    if left_out == "exclude":
        assert scores[0] == scores[1] == scores[2] and weighted == [None] * 3
    else:  # the files laid out like training carry the weights; the model's columns alone do not
        assert scores[0] == scores[1] and weighted == [True, True, False]
        assert scores[2][1] == scores[0][1] and scores[2][0] != scores[0][0]


def test_an_array_laid_out_like_the_training_file_leaves_the_weight_out(tmp_path):
    """NPY: the weight is a column position; an input of the training file's layout (target
    included, or not) gets it left out as data.exclude's columns are."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    w = rng.uniform(0.5, 2.0, 30)
    y = X @ [1.0, 2.0]
    np.save(tmp_path / "t.npy", np.column_stack([X[:, 0], w, X[:, 1], y]))
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        json.dumps(
            {
                "data": {"train": str(tmp_path / "t.npy"), "weight": 1},
                "network": {"layers": [2, 4, 1], "activation": "tanh"},
                "training": {"epochs": 2},
                "output": str(tmp_path / "run"),
            }
        )
    )
    ok(run("fit", cfg, "--quiet"))
    model = tmp_path / "run" / "model.npz"
    np.save(tmp_path / "full.npy", np.column_stack([X[:, 0], w, X[:, 1], y]))
    np.save(tmp_path / "no_target.npy", np.column_stack([X[:, 0], w, X[:, 1]]))
    np.save(tmp_path / "inputs.npy", X)
    outs = [ok(run("predict", model, tmp_path / f)).stdout for f in ("full.npy", "inputs.npy")]
    assert outs[0] == outs[1]
    # one column short of the file: without the target or without the weight? (as data.exclude's)
    assert_error(run("predict", model, tmp_path / "no_target.npy"), "cannot be told apart")
    assert info_json(model)["weight_column"] == "1"


def test_a_validation_files_weight_column_weighs_its_scores(tmp_path):
    """val_loss is the weighted mean over the validation rows by their file's column (one row at
    1000, the others at 0.001): evaluate --weighted's mse of the model, not the plain one; so is
    the test file's, and the model records that both are weighted."""
    rows = regression_rows(n=40)
    train = write_csv(tmp_path / "t.csv", rows[:30])
    val = write_csv(
        tmp_path / "v.csv", [[*r[:2], "1000" if i == 0 else "0.001", r[3]] for i, r in enumerate(rows[30:])]
    )
    cfg = write_config(tmp_path, train, validation=val, test=val, standardize="inputs")
    res = ok(run("fit", cfg))
    assert "sample weights weigh the validation and test scores too (data.weight: w)" in res.stderr
    assert "test (weighted): loss" in res.stderr
    from nettrain import load_model
    from nettrain.data import read_table

    model = load_model(tmp_path / "run-c")
    table = read_table(val, "y")
    weighted = model.evaluate(with_weight(table, "w"), weight="w")
    plain = model.evaluate(table.columns(["x1", "x2"]))
    training = model.meta["training"]
    assert training["val_loss"] == pytest.approx(weighted["mse"], rel=1e-9)
    assert training["val_loss"] != pytest.approx(plain["mse"], rel=1e-3)
    # (the same file: equal on the CPU, to rounding on a GPU, where the validation set is kept on
    # the card and the test set sent over in batches)
    assert training["test_loss"] == pytest.approx(training["val_loss"], rel=1e-12)
    assert training["val_weighted"] is True and training["test_weighted"] is True
    info = info_json(tmp_path / "run-c")["training"]
    assert info["val_weighted"] is True and info["test_weighted"] is True
    assert "val scores weighted" in ok(run("info", tmp_path / "run-c")).stdout


def test_cv_normalizes_each_folds_weights(tmp_path):
    from nettrain.crossval import cross_validate

    train = write_csv(tmp_path / "t.csv", regression_rows(n=40))
    cfg = config_from_dict(json.loads(write_config(tmp_path, train).read_text()))
    result = cross_validate(cfg, folds=4)
    assert len(result.folds) == 4
    plain = config_from_dict(
        json.loads(write_config(tmp_path, train, "p", weight=None, exclude=["w"]).read_text())
    )
    other = cross_validate(plain, folds=4)
    assert [f.scores for f in result.folds] != [f.scores for f in other.folds]


# -- the Python API -------------------------------------------------------------------------------


def test_from_arrays_checks_the_sample_weights():
    X, y = np.ones((4, 2)), np.arange(4.0)
    data = RunData.from_arrays(X, y, "mse", sample_weight=[1, 2, 3, 6])
    np.testing.assert_allclose(data.train.w, [1 / 3, 2 / 3, 1, 2], rtol=1e-6)
    assert RunData.from_arrays(X, y, "mse").train.w is None
    for bad, needle in (
        ([1, 2, 3], "one number per row"),
        ([1, -2, 3, 4], "finite and >= 0"),
        ([1, np.nan, 3, 4], "finite and >= 0"),
        ([0, 0, 0, 0], "every training row's weight is 0"),
        (["a", "b", "c", "d"], "must hold numbers"),
    ):
        with pytest.raises(DataError, match=needle):
            RunData.from_arrays(X, y, "mse", sample_weight=bad)


def test_weights_given_to_fit_are_normalized_over_the_rows_left_after_the_hold_out():
    """fit(config, data=arrays) with a validation fraction: the kept rows' weights over their own
    mean (from_arrays normalized them over every row), as load_run_data normalizes a file's."""
    from nettrain.train import _hold_out

    n = 40
    X, y = np.arange(n, dtype=np.float64).reshape(-1, 1), np.zeros(n)
    w = np.where(np.arange(n) < 10, 8.0, 1.0)  # (the held-out rows shift the mean)
    cfg = config_from_dict(
        {
            "network": {"layers": [1, 2, 1]},
            "cost": "mse",
            "dtype": "float64",
            "data": {"validation": 0.25},
        }
    )
    data = _hold_out(cfg, RunData.from_arrays(X, y, "mse", "float64", sample_weight=w))
    kept = data.train.X[:, 0].astype(int)  # (row i holds i)
    held = data.validation.X[:, 0].astype(int)
    assert len(kept) == 30 and len(held) == 10
    assert w[kept].mean() != pytest.approx(w.mean())  # (else the test shows nothing)
    np.testing.assert_allclose(data.train.w, w[kept] / w[kept].mean(), rtol=1e-12)
    # the held-out rows keep theirs, over their own mean, to weigh the validation scores
    np.testing.assert_allclose(data.validation.w, w[held] / w[held].mean(), rtol=1e-12)


def test_sample_weights_of_the_wrong_shape_are_a_data_error():
    net = Network.create([2, 3, 1], "tanh", "identity", "mse", 0, "float64")
    x, y = np.ones((4, 2)), np.zeros((4, 1))
    for bad in (np.ones(3), np.ones((4, 1))):
        with pytest.raises(DataError, match=r"sample weights have shape .*the batch has 4 rows"):
            net.loss(x, y, sw=bad)
        with pytest.raises(DataError, match="sample weights have shape"):
            net.gradients(x, y, sw=bad)
    assert float(net.loss(x, y, sw=np.full(4, 2.0))) == pytest.approx(2 * float(net.loss(x, y)))


# -- the scikit-learn estimators (without scikit-learn) -------------------------------------------

FAST = {"hidden_layers": (8,), "epochs": 5, "learning_rate": 0.05, "device": "cpu"}


def _classification(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)


def _weights_of(est):
    return [w.copy() for w in est.coefs_ + est.intercepts_]


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_estimator_sample_weight_of_equal_values_is_no_weight_bit_for_bit(kind):
    from nettrain import NettrainClassifier, NettrainRegressor

    X, y = _classification()
    est = NettrainClassifier if kind == "classifier" else NettrainRegressor
    y = y if kind == "classifier" else X @ [1.0, 2.0, -1.0]
    plain = _weights_of(est(**FAST).fit(X, y))
    for sw in (None, np.ones(len(X)), np.full(len(X), 3.0), 2.5):
        for a, b in zip(plain, _weights_of(est(**FAST).fit(X, y, sample_weight=sw))):
            np.testing.assert_array_equal(a, b)
    other = _weights_of(est(**FAST).fit(X, y, sample_weight=np.arange(len(X)) % 4))
    assert not np.allclose(other[0], plain[0], rtol=1e-4)


def test_estimator_sample_weight_equals_repeated_rows_in_full_batch_descent():
    from nettrain import NettrainRegressor

    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(15, 4)), rng.normal(size=15)
    sw = rng.integers(0, 5, 15)
    params = {**FAST, "batch_size": 1000, "dtype": "float64"}
    weighted = NettrainRegressor(**params).fit(X, y, sample_weight=sw)
    repeated = NettrainRegressor(**params).fit(X.repeat(sw, 0), y.repeat(sw))
    np.testing.assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-10, atol=1e-12)


def test_estimator_sample_weight_is_checked_as_scikit_learn_checks_it():
    from nettrain import NettrainClassifier

    X, y = _classification(20)
    sw = np.ones(20)
    before = sw.copy()
    NettrainClassifier(**FAST).fit(X, y, sample_weight=sw)
    np.testing.assert_array_equal(sw, before)  # not overwritten (normalized on a copy)
    for bad, needle in (
        (np.ones(40), r"sample_weight.shape == \(40,\), expected \(20,\)"),
        (np.ones((20, 2)), "1D array or scalar"),
        (np.r_[np.nan, np.ones(19)], "NaN or infinity"),
        (np.r_[-1.0, np.ones(19)], "Negative values"),
        (np.zeros(20), "at least one non-zero"),
        ((y == 1).astype(float), r"one class only .*two or more classes"),
    ):
        with pytest.raises(ValueError, match=needle):
            NettrainClassifier(**FAST).fit(X, y, sample_weight=bad)
    # a scalar weighs every row alike (the unweighted fit), and is checked as an array is
    plain = NettrainClassifier(**FAST).fit(X, y).model_.network
    same = NettrainClassifier(**FAST).fit(X, y, sample_weight=2.5).model_.network
    assert all(np.array_equal(a, b) for a, b in zip(plain.W, same.W, strict=True))
    for bad, needle in ((0, "at least one non-zero"), (-1.0, "Negative values"), (np.inf, "NaN or infinity")):
        with pytest.raises(ValueError, match=needle):
            NettrainClassifier(**FAST).fit(X, y, sample_weight=bad)


def test_an_estimators_warning_names_sample_weight_not_data_weight():
    # the estimator's user gave sample_weight=, not a config's data.weight
    from nettrain import NettrainClassifier

    X, y = _classification(60)
    X, y = X[20:], y[20:]  # (rows on which 5 epochs end above a constant's loss)
    with pytest.warns(Warning, match="above .* weighted by sample_weight") as caught:
        NettrainClassifier(**FAST).fit(X, y, sample_weight=np.where(y == 1, 4.0, 0.5))
    assert not any("data.weight" in str(w.message) for w in caught)


def test_data_weight_with_arrays_given_to_fit_is_a_config_error():
    # the column of a file fit does not read: the run would be unweighted without a word
    X, y = _classification(20)
    cfg = config_from_dict(
        {"data": {"weight": "w"}, "network": {"layers": [3, 4, 3]}, "cost": "cross_entropy"}
    )
    with pytest.raises(
        ConfigError, match=r"data.weight: 'w' is a column of the training file.*sample_weight="
    ):
        fit(cfg, data=RunData.from_arrays(X, y, "cross_entropy"), save=False)
    fit(cfg, data=RunData.from_arrays(X, y, "cross_entropy", sample_weight=np.ones(20)), save=False)
    from nettrain import NettrainClassifier

    with pytest.raises(
        ValueError, match=r"data.weight: 'w' is a column of a file.*fit\(X, y, sample_weight=w\)"
    ):
        NettrainClassifier(**FAST, config={"data": {"weight": "w"}}).fit(X, y)


@pytest.fixture
def metadata_routing():
    sklearn = pytest.importorskip("sklearn")
    with sklearn.config_context(enable_metadata_routing=True):
        yield sklearn


def test_metadata_routing_passes_sample_weight_to_each_folds_fit(metadata_routing):
    # with scikit-learn's metadata routing on, cross_validate and GridSearchCV pass
    # sample_weight only to an estimator that asked for it (set_fit_request), as scikit-learn's
    # own estimators: without that request it is an error naming set_fit_request
    from sklearn.base import clone
    from sklearn.exceptions import UnsetMetadataPassedError
    from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

    from nettrain import NettrainClassifier

    X, y = _classification(60)
    params = {**FAST, "epochs": 40}  # (5 epochs end above a constant's loss: a warning)
    w = np.where(y == 1, 4.0, 0.5)
    folds = KFold(3)
    with pytest.raises(UnsetMetadataPassedError, match="set_fit_request"):
        cross_val_score(NettrainClassifier(**params), X, y, cv=folds, params={"sample_weight": w})
    clf = (
        NettrainClassifier(**params)
        .set_fit_request(sample_weight=True)
        .set_score_request(sample_weight=False)
    )
    assert clone(clf).get_metadata_routing().fit.requests == {"sample_weight": True}
    scores = cross_val_score(clf, X, y, cv=folds, params={"sample_weight": w})
    by_hand = [
        NettrainClassifier(**params).fit(X[a], y[a], sample_weight=w[a]).score(X[b], y[b])
        for a, b in folds.split(X)
    ]
    assert list(scores) == by_hand
    unweighted = cross_val_score(NettrainClassifier(**params), X, y, cv=folds)
    assert list(scores) != list(unweighted)  # (the weights were used)
    search = GridSearchCV(clf, {"learning_rate": [0.05]}, cv=folds).fit(X, y, sample_weight=w)
    assert search.best_score_ == pytest.approx(np.mean(by_hand))
    assert NettrainClassifier().set_partial_fit_request(
        classes=True
    ).get_metadata_routing().partial_fit.requests == {
        "sample_weight": None,
        "classes": True,
    }


def test_metadata_requests_belong_to_their_estimator(metadata_routing):
    """A clone's requests are its own (changing them leaves the original's), a refused request
    leaves the ones made before, and an alias is kept as given."""
    from sklearn.base import clone

    from nettrain import NettrainClassifier

    clf = NettrainClassifier().set_fit_request(sample_weight=True)
    copy = clone(clf).set_fit_request(sample_weight=False)
    assert copy.get_metadata_routing().fit.requests == {"sample_weight": False}
    assert clf.get_metadata_routing().fit.requests == {"sample_weight": True}
    with pytest.raises(ValueError):
        clf.set_fit_request(sample_weight=1.5)  # (not a bool, None or a name)
    assert clf.get_metadata_routing().fit.requests == {"sample_weight": True}
    clf.set_score_request(sample_weight="score_weight")
    assert clf.get_metadata_routing().score.requests == {"sample_weight": "score_weight"}


def test_a_metadata_request_needs_metadata_routing_on():
    pytest.importorskip("sklearn")
    from nettrain import NettrainRegressor

    with pytest.raises(RuntimeError, match="enable_metadata_routing=True"):
        NettrainRegressor().set_fit_request(sample_weight=True)


def test_trace_shows_the_example_unweighted_and_says_so(tmp_path):
    from nettrain.trace import trace_config

    train = write_csv(tmp_path / "t.csv", regression_rows())
    body = json.loads(write_config(tmp_path, train).read_text())
    weighted = trace_config(config_from_dict(body))
    assert any("data.weight ('w') is not applied here" in note for note in weighted.notes)
    body["data"] = {**body["data"], "weight": None, "exclude": ["w"]}
    plain = trace_config(config_from_dict(body))
    assert weighted.C == plain.C
    assert not any("data.weight" in note for note in plain.notes)


@pytest.mark.parametrize("header", [True, False])
def test_trace_reads_the_row_without_its_weight_column(tmp_path, header):
    # a header-less training file's weight column is left out by position (it was read as an
    # input: 'has 3 columns but the model expects 2 features')
    from nettrain.trace import trace_config

    rows = regression_rows()
    train = write_csv(tmp_path / "t.csv", rows)
    if not header:  # (the same rows without their header line)
        text = (tmp_path / "t.csv").read_text()
        (tmp_path / "t.csv").write_text(text.split("\n", 1)[1])
    data = {} if header else {"header": False, "target": 3, "weight": 2}
    cfg = config_from_dict(json.loads(write_config(tmp_path, train, **data).read_text()))
    trace = trace_config(cfg, row=1)
    np.testing.assert_allclose(np.ravel(trace.x_raw), [float(v) for v in rows[1][:2]])


@pytest.mark.parametrize("header", [True, False])
def test_a_warm_start_reads_the_weight_column_too(tmp_path, header):
    """--warm-start reads the training file with the model's encoding: the weight column is taken
    out of it first, by name or (without a header) by position; the weights are used (the same
    rows with weights all 1 train other weights from the same start)."""

    def write(name, rows):
        if header:
            return write_csv(tmp_path / name, rows)
        (tmp_path / name).write_text("\n".join(",".join(r) for r in rows) + "\n")
        return str(tmp_path / name)

    rows = regression_rows()
    data = {} if header else {"header": False, "target": 3, "weight": 2}
    cfg = write_config(tmp_path, write("t.csv", rows), **data)
    ok(run("fit", cfg, "--quiet"))
    first = tmp_path / "run-c"
    ok(run("fit", cfg, "--quiet", "--warm-start", first, "-o", tmp_path / "warm"))
    ones = write("ones.csv", [[a, b, "1", t] for a, b, _, t in rows])
    ok(
        run(
            "fit",
            cfg,
            "--quiet",
            "--warm-start",
            first,
            "-o",
            tmp_path / "ones",
            "--set",
            f"data.train={ones}",
        )
    )
    warm = info_json(tmp_path / "warm")
    assert warm["weight_column"] == ("w" if header else "2")
    assert warm["features"] == (["x1", "x2"] if header else ["0", "1"])
    assert warm["weights_sha256"] != info_json(tmp_path / "ones")["weights_sha256"]


def test_a_weighted_run_resumes_bit_for_bit(tmp_path):
    train = write_csv(tmp_path / "t.csv", regression_rows())
    cfg = write_config(tmp_path, train)
    body = json.loads(cfg.read_text())
    body["training"]["checkpoint_every"] = 1
    cfg.write_text(json.dumps(body))
    ok(run("fit", cfg, "--quiet", "-o", tmp_path / "whole"))
    ok(run("fit", cfg, "--quiet", "-o", tmp_path / "half", "--set", "training.epochs=2"))
    ok(run("fit", cfg, "--quiet", "--resume", tmp_path / "half", "--set", "training.epochs=4"))
    assert info_json(tmp_path / "half")["weights_sha256"] == info_json(tmp_path / "whole")["weights_sha256"]


def test_info_of_several_runs_has_a_weight_column_where_one_run_set_data_weight(tmp_path):
    train = write_csv(tmp_path / "t.csv", regression_rows())
    ok(run("fit", write_config(tmp_path, train, "a"), "--quiet"))
    ok(run("fit", write_config(tmp_path, train, "b", weight=None, exclude=["w"]), "--quiet"))
    table = ok(run("info", tmp_path / "run-a", tmp_path / "run-b")).stdout
    assert "weight column" in table
    lines = [line.split() for line in table.splitlines() if "run-a" in line or "run-b" in line]
    assert lines[0][1] == "w" and lines[1][1] == "-"  # (the column after the run: layers are shared)
    both = ok(run("info", tmp_path / "run-b", tmp_path / "run-b")).stdout
    assert "weight column" not in both
    # shared by every run, the column is named on the header line as what it is
    shared = ok(run("info", tmp_path / "run-a", tmp_path / "run-a")).stdout.splitlines()[0]
    assert "weight column w" in shared.split(", ")


def test_info_of_a_warm_started_run_says_whether_that_run_was_weighted(tmp_path):
    # the model's encoding is its source's: info's weight column is what weighted this run's
    # training (its data.weight), as info of several runs shows it
    rows = regression_rows()
    train = write_csv(tmp_path / "t.csv", rows)
    unweighted = write_csv(tmp_path / "u.csv", [[a, b, y] for a, b, _, y in rows], header=("x1", "x2", "y"))
    ok(run("fit", write_config(tmp_path, unweighted, "plain", weight=None), "--quiet"))
    ok(run("fit", write_config(tmp_path, train, "a"), "--quiet"))
    warm = ("--quiet", "--warm-start")
    ok(run("fit", write_config(tmp_path, train, "weighted"), *warm, tmp_path / "run-plain"))
    ok(run("fit", write_config(tmp_path, train, "unweighted", weight=None), *warm, tmp_path / "run-a"))
    assert info_json(tmp_path / "run-weighted")["weight_column"] == "w"
    assert "w (data.weight" in ok(run("info", tmp_path / "run-weighted")).stdout
    assert info_json(tmp_path / "run-unweighted")["weight_column"] is None
    assert "data.weight" not in ok(run("info", tmp_path / "run-unweighted")).stdout


def test_info_of_several_runs_marks_which_runs_val_scores_are_weighted(tmp_path):
    """Runs whose validation scores are weighted by data.weight beside runs whose are not (a
    validation file without the column, a run without data.weight): a 'val weighted' column says
    which, and --json keeps each run's val_weighted; runs that agree get no such column."""
    rows = regression_rows(n=40)
    train = write_csv(tmp_path / "t.csv", rows[:30])
    val = write_csv(tmp_path / "v.csv", rows[30:])
    bare = write_csv(tmp_path / "b.csv", [[a, b, y] for a, b, _, y in rows[30:]], header=("x1", "x2", "y"))
    for name, data in (("weighted", {"validation": val}), ("nocol", {"validation": bare})):
        ok(run("fit", write_config(tmp_path, train, name, **data), "-q"))
    ok(run("fit", write_config(tmp_path, train, "plain", validation=val, weight=None, exclude=["w"]), "-q"))
    folders = [tmp_path / f"run-{n}" for n in ("weighted", "nocol", "plain")]
    out = ok(run("info", *folders)).stdout
    lines = out.splitlines()
    titles = next(line for line in lines if line.split()[:1] == ["run"])
    assert "val weighted" in titles and "test weighted" not in titles, out
    marks = {f.name: next(line for line in lines if str(f) in line).split()[-3] for f in folders}
    assert marks == {"run-weighted": "yes", "run-nocol": "no", "run-plain": "no"}, out
    jsons = [json.loads(line)["training"] for line in ok(run("info", *folders, "--json")).stdout.splitlines()]
    assert [t.get("val_weighted") for t in jsons] == [True, False, None]
    # every run's scores unweighted alike, or weighted alike: nothing to mark
    assert "val weighted" not in ok(run("info", *folders[1:])).stdout
    assert "val weighted" not in ok(run("info", folders[0], folders[0])).stdout
