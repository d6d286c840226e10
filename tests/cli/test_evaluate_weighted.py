"""`nettrain evaluate --weighted` and `--weight COLUMN`: every score weighted by a column of the
input, checked against scikit-learn's sample_weight forms and, without scikit-learn, against the
same rows written as many times as their weights say; the errors, --json, --require, --importance."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.helpers import assert_error, ok, run

HEADER = ("x1", "x2", "w", "y")
CLASS_SCORES = ("accuracy", "macro_f1", "log_loss", "roc_auc")
VALUE_SCORES = ("mse", "rmse", "mae", "r2")


def _rows(task: str, n: int = 60, seed: int = 0, weights=None) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    w = rng.integers(0, 4, n) if weights is None else np.asarray(weights)
    t = X @ [1.5, -0.5] + 0.7 * rng.normal(size=n)
    y = [("yes" if v > 0 else "no") for v in t] if task == "classification" else [f"{v:.6f}" for v in t]
    return [[f"{a:.6f}", f"{b:.6f}", f"{c:g}", v] for (a, b), c, v in zip(X, w, y)]


def _write(path, rows, header=HEADER) -> str:
    path.write_text("\n".join(",".join(map(str, r)) for r in [header, *rows]) + "\n")
    return str(path)


def _fit(folder, task: str, **data) -> str:
    """A model trained on rows with a weight column w (data.weight unless ``data`` says else)."""
    train = _write(folder / f"train-{task}.csv", _rows(task, seed=1))
    body = {
        "data": {"train": train, "target": "y", "weight": "w", **data},
        "network": {"layers": ["auto", 6, "auto"], "activation": "tanh"},
        "cost": "cross_entropy" if task == "classification" else "mse",
        "dtype": "float64",
        "training": {"learning_rate": 0.1, "epochs": 3, "batch_size": 8, "seed": 0},
        "output": str(folder / f"run-{task}-{len(data)}"),
    }
    body["data"] = {k: v for k, v in body["data"].items() if v is not None}
    cfg = folder / f"{task}-{len(data)}.yaml"
    cfg.write_text(json.dumps(body))
    ok(run("fit", cfg, "--quiet"))
    return str(folder / f"run-{task}-{len(data)}" / "model.npz")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("weighted")
    return {
        "classification": _fit(folder, "classification"),
        "regression": _fit(folder, "regression"),
        "unweighted": _fit(folder, "classification", weight=None, exclude=["w"]),
    }


def _scores(*args) -> dict:
    return json.loads(ok(run("evaluate", *args, "--json")).stdout)


# -- the scores -----------------------------------------------------------------------------------


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_a_weight_of_two_scores_as_the_row_written_twice(models, tmp_path, task):
    """Whole weights 0..3: the weighted scores are the plain scores of a file holding each row
    as many times as its weight (0: not at all), counts and supports included."""
    rows = _rows(task, seed=2)
    repeated = [[*r[:2], "1", r[3]] for r in rows for _ in range(int(r[2]))]
    weighted = _scores(models[task], _write(tmp_path / "w.csv", rows), "--weighted")
    plain = _scores(models[task], _write(tmp_path / "r.csv", repeated))
    for key in CLASS_SCORES if task == "classification" else VALUE_SCORES:
        assert weighted[key] == pytest.approx(plain[key], rel=1e-9), key
    assert weighted["n"] == len(rows) and plain["n"] == len(repeated)
    assert weighted["weight_sum"] == len(repeated)
    if task == "classification":
        assert weighted["confusion_matrix"] == plain["confusion_matrix"]
        assert [c["support"] for c in weighted["per_class"]] == [c["support"] for c in plain["per_class"]]
        for got, want in zip(weighted["per_class"], plain["per_class"]):
            assert got["f1"] == pytest.approx(want["f1"], rel=1e-9)


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_equal_weights_score_as_no_weights(models, tmp_path, task):
    data = _write(tmp_path / "e.csv", _rows(task, seed=3, weights=[2.5] * 60))
    weighted, plain = _scores(models[task], data, "--weighted"), _scores(models[task], data)
    for key in CLASS_SCORES if task == "classification" else VALUE_SCORES:
        assert weighted[key] == pytest.approx(plain[key], rel=1e-12), key
    assert weighted["weight_sum"] == 150.0
    # (and the weights do change the scores, where they differ)
    varied = _scores(models[task], _write(tmp_path / "v.csv", _rows(task, seed=3)), "--weighted")
    key = "accuracy" if task == "classification" else "mse"
    assert varied[key] != pytest.approx(plain[key], rel=1e-6)


def test_classification_scores_match_scikit_learn(models, tmp_path):
    M = pytest.importorskip("sklearn.metrics")
    from nettrain import load_model

    rows = _rows("classification", seed=4)
    report = _scores(models["classification"], _write(tmp_path / "c.csv", rows), "--weighted")
    model = load_model(models["classification"])
    X = np.array([[float(r[0]), float(r[1])] for r in rows])
    w = np.array([float(r[2]) for r in rows])
    y = np.array([r[3] for r in rows])
    proba = model.predict_proba(X)
    pred = np.asarray(model.encoding.classes)[proba.argmax(axis=1)]
    assert report["accuracy"] == pytest.approx(M.accuracy_score(y, pred, sample_weight=w), rel=1e-9)
    assert report["macro_f1"] == pytest.approx(
        M.f1_score(y, pred, average="macro", sample_weight=w), rel=1e-9
    )
    assert report["log_loss"] == pytest.approx(
        M.log_loss(y, proba, sample_weight=w, labels=model.encoding.classes), rel=1e-6
    )
    assert report["roc_auc"] == pytest.approx(
        M.roc_auc_score(y == "yes", proba[:, 1], sample_weight=w), rel=1e-9
    )
    np.testing.assert_allclose(
        report["confusion_matrix"],
        M.confusion_matrix(y, pred, labels=model.encoding.classes, sample_weight=w),
    )
    p, r, f, s = M.precision_recall_fscore_support(y, pred, labels=model.encoding.classes, sample_weight=w)
    for got, want in zip(("precision", "recall", "f1", "support"), (p, r, f, s)):
        np.testing.assert_allclose([c[got] for c in report["per_class"]], want, rtol=1e-9)


def test_regression_scores_match_scikit_learn(models, tmp_path):
    M = pytest.importorskip("sklearn.metrics")
    from nettrain import load_model

    rows = _rows("regression", seed=5)
    report = _scores(models["regression"], _write(tmp_path / "r.csv", rows), "--weighted")
    X = np.array([[float(r[0]), float(r[1])] for r in rows])
    w, y = np.array([float(r[2]) for r in rows]), np.array([float(r[3]) for r in rows])
    pred = load_model(models["regression"]).predict(X).reshape(-1)
    assert report["mse"] == pytest.approx(M.mean_squared_error(y, pred, sample_weight=w), rel=1e-9)
    assert report["mae"] == pytest.approx(M.mean_absolute_error(y, pred, sample_weight=w), rel=1e-9)
    assert report["r2"] == pytest.approx(M.r2_score(y, pred, sample_weight=w), rel=1e-9)


def test_weight_names_a_column_for_a_model_trained_without_one(models, tmp_path):
    rows = _rows("classification", seed=6)
    data = _write(tmp_path / "u.csv", rows)
    assert_error(run("evaluate", models["unweighted"], data, "--weighted"), "--weighted", "--weight COLUMN")
    report = _scores(models["unweighted"], data, "--weight", "w")
    repeated = [[*r[:2], "1", r[3]] for r in rows for _ in range(int(r[2]))]
    plain = _scores(models["unweighted"], _write(tmp_path / "r.csv", repeated))
    assert report["weighted"] is True and report["weight_column"] == "w"
    assert report["accuracy"] == pytest.approx(plain["accuracy"], rel=1e-12)
    # another column of the input than the model's data.weight
    other = _write(tmp_path / "o.csv", [[*r, "1"] for r in rows], header=(*HEADER, "ones"))
    ones = _scores(models["classification"], other, "--weight", "ones")
    assert ones["weight_column"] == "ones"
    assert ones["accuracy"] == pytest.approx(_scores(models["classification"], other)["accuracy"], rel=1e-12)


def test_an_array_model_weighs_by_the_weight_column_position(tmp_path):
    """NPY: data.weight is a position; evaluate --weighted takes that column of an input laid
    out like the training file, and scores as the rows written as often as their weights."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    w = rng.integers(0, 4, 40).astype(float)
    y = X @ [1.0, 2.0]
    np.save(tmp_path / "t.npy", np.column_stack([X[:, 0], w, X[:, 1], y]))
    cfg = tmp_path / "c.yaml"
    body = {
        "data": {"train": str(tmp_path / "t.npy"), "weight": 1},
        "network": {"layers": [2, 4, 1], "activation": "tanh"},
        "training": {"epochs": 2},
        "output": str(tmp_path / "run"),
    }
    cfg.write_text(json.dumps(body))
    ok(run("fit", cfg, "--quiet"))
    model = tmp_path / "run" / "model.npz"
    r = np.repeat(np.arange(40), w.astype(int))
    np.save(tmp_path / "twice.npy", np.column_stack([X[r, 0], np.ones(len(r)), X[r, 1], y[r]]))
    weighted = _scores(model, tmp_path / "t.npy", "--weighted")
    plain = _scores(model, tmp_path / "twice.npy")
    assert weighted["weight_column"] == "1"
    for key in VALUE_SCORES:
        assert weighted[key] == pytest.approx(plain[key], rel=1e-9), key


# -- the output -----------------------------------------------------------------------------------


def test_json_says_weighted_and_the_column_only_when_weighted(models, tmp_path):
    data = _write(tmp_path / "d.csv", _rows("classification", seed=7))
    weighted, plain = (
        _scores(models["classification"], data, "--weighted"),
        _scores(models["classification"], data),
    )
    assert weighted["weighted"] is True and weighted["weight_column"] == "w"
    assert isinstance(weighted["per_class"][0]["support"], float)
    assert not {"weighted", "weight_column", "weight_sum"} & set(plain)
    assert isinstance(plain["per_class"][0]["support"], int)


def test_the_tables_say_the_counts_are_sums_of_weights(models, tmp_path):
    data = _write(tmp_path / "d.csv", _rows("classification", seed=8))
    text = ok(run("evaluate", models["classification"], data, "--weighted")).stdout
    assert "weighted: every score weights each row by its column 'w'" in text
    assert "weighted support" in text and "confusion matrix of weighted counts" in text
    plain = ok(run("evaluate", models["classification"], data)).stdout
    assert "weighted" not in plain
    regression = ok(
        run("evaluate", models["regression"], _write(tmp_path / "r.csv", _rows("r")), "--weighted")
    )
    assert "weighted: every score" in regression.stdout


def test_require_bounds_the_weighted_score(models, tmp_path):
    data = _write(tmp_path / "d.csv", _rows("classification", seed=9))
    weighted = _scores(models["classification"], data, "--weighted")["accuracy"]
    plain = _scores(models["classification"], data)["accuracy"]
    assert weighted != plain
    between = f"accuracy>={(weighted + plain) / 2}"
    higher = weighted > plain
    result = run("evaluate", models["classification"], data, "--weighted", "--require", between)
    assert result.exit_code == (0 if higher else 1), result.stderr
    assert (
        "evaluate passed: weighted accuracy" if higher else "evaluate FAILED: weighted accuracy"
    ) in result.stderr
    unweighted = run("evaluate", models["classification"], data, "--require", between)
    assert unweighted.exit_code == (1 if higher else 0)


def test_importance_weighs_its_scores(models, tmp_path):
    rows = _rows("classification", seed=10)
    data = _write(tmp_path / "d.csv", rows)
    report = _scores(models["classification"], data, "--weighted", "--importance", "--repeats", "2")
    assert report["importance"]["baseline"] == report["accuracy"]
    assert report["importance"]["weighted"] is True
    plain = _scores(models["classification"], data, "--importance", "--repeats", "2")
    assert plain["importance"]["baseline"] == plain["accuracy"] != report["accuracy"]
    assert "weighted" not in plain["importance"]
    text = ok(run("evaluate", models["classification"], data, "--weighted", "--importance")).stdout
    assert "drop in weighted accuracy" in text


def test_regression_importance_weighs_its_r2(models, tmp_path):
    data = _write(tmp_path / "d.csv", _rows("regression", seed=10))
    report = _scores(models["regression"], data, "--weighted", "--importance", "--repeats", "2")
    assert report["importance"]["baseline"] == report["r2"]
    plain = _scores(models["regression"], data, "--importance", "--repeats", "2")
    assert plain["importance"]["baseline"] == plain["r2"] != report["r2"]


# -- errors ---------------------------------------------------------------------------------------


def test_an_input_without_the_weight_column_is_one_error_line(models, tmp_path):
    rows = _rows("classification", seed=11)
    data = _write(tmp_path / "d.csv", [[r[0], r[1], r[3]] for r in rows], header=("x1", "x2", "y"))
    ok(run("evaluate", models["classification"], data))  # (unweighted, the column is not needed)
    assert_error(
        run("evaluate", models["classification"], data, "--weighted"),
        "d.csv: has no column 'w'",
        "data.weight",
        "--weighted",
    )
    assert_error(
        run("evaluate", models["classification"], data, "--weight", "wt"), "no column 'wt'", "--weight"
    )


@pytest.mark.parametrize(
    "cell, needle",
    [
        ("-1", "a negative weight"),
        ("nan", "is missing"),  # (NaN is a missing value, as in training)
        ("inf", "not a finite number"),
        ("heavy", "which is not a number"),
        ("", "is missing"),
    ],
)
def test_a_bad_weight_is_one_error_line_naming_line_and_column(models, tmp_path, cell, needle):
    rows = _rows("classification", seed=12)
    rows[4][2] = cell
    data = _write(tmp_path / "d.csv", rows)
    assert_error(run("evaluate", models["classification"], data, "--weighted"), "d.csv:6", needle)


def test_all_zero_weights_are_refused(models, tmp_path):
    data = _write(tmp_path / "d.csv", _rows("classification", seed=13, weights=[0] * 60))
    assert_error(run("evaluate", models["classification"], data, "--weighted"), "every row's weight", "is 0")


@pytest.mark.parametrize(
    "column, needle", [("x1", "an input of the model"), ("y", "the target"), (" ", "--weight is empty")]
)
def test_weight_cannot_name_an_input_or_the_target(models, tmp_path, column, needle):
    data = _write(tmp_path / "d.csv", _rows("classification", seed=14))
    assert_error(run("evaluate", models["classification"], data, "--weight", column), needle)


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_weight_cannot_name_a_target_of_numbers(models, tmp_path, task):
    """A target column of numbers (a regression's values, class labels 0 and 1) named by --weight
    was read as the weights too, and the rows were scored weighted by their own targets."""
    rows = _rows(task, seed=14)
    model = models["regression"]
    if task == "classification":
        rows = [[*r[:3], "1" if r[3] == "yes" else "0"] for r in rows]
        model = _fit(tmp_path, task, train=_write(tmp_path / "train01.csv", rows))
    data = _write(tmp_path / "d.csv", rows)
    assert_error(run("evaluate", model, data, "--weight", "y"), "the weight column 'y'", "is the target")


def test_a_missing_weight_leaves_its_row_out_where_the_model_drops_rows(tmp_path):
    model = _fit(tmp_path, "classification", missing="drop")
    rows = _rows("classification", seed=15)
    rows[3][2] = ""
    data = _write(tmp_path / "d.csv", rows)
    result = ok(run("evaluate", model, data, "--weighted", "--json"))
    report = json.loads(result.stdout)
    assert report["n"] == len(rows) - 1 and report["rows_left_out"] == 1
    kept = _write(tmp_path / "k.csv", rows[:3] + rows[4:])
    assert report["accuracy"] == _scores(model, kept, "--weighted")["accuracy"]
    assert "left out 1 of 60 rows" in result.stderr
