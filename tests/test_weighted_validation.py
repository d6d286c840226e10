"""Validation and test scores of a run with sample weights (data.weight) are weighted by the
held-out rows' weights, as scikit-learn's MLP early stopping (sample_weight_val) and Keras's
validation sample weights weigh them: the loss is sum w_i l_i / sum w_i, accuracy and R^2
metrics.py's weighted forms. Equal weights score as none; a weight of k as the row k times."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nettrain import config_from_dict, load_model
from nettrain.data import RunData, load_run_data, read_table
from nettrain.data.read import with_weight
from nettrain.train import _hold_out, fit
from tests.helpers import assert_error, ok, run

HEADER = ("x1", "x2", "w", "y")


def write_csv(path, rows, header=HEADER) -> str:
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for row in rows:
            f.write(",".join(str(v) for v in row) + "\n")
    return str(path)


def rows_of(task: str, n: int, seed: int, weights=None) -> list[list]:
    """Rows (x1, x2, w, y): y a value (regression) or a class 0..2 (classification); w uniform
    in [0.5, 3], or ``weights``."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    if task == "regression":
        y = [f"{v:.6f}" for v in X @ [1.5, -0.5] + 0.3 * rng.normal(size=n)]
    else:
        y = [int(v) for v in (X[:, 0] + 0.5 * rng.normal(size=n) > 0) + (X[:, 1] > 0.8)]
    w = np.round(rng.uniform(0.5, 3.0, n), 2) if weights is None else weights
    return [[f"{a:.6f}", f"{b:.6f}", f"{c:g}", t] for (a, b), c, t in zip(X, w, y)]


COSTS = {"regression": "mse", "classification": "cross_entropy", "binary": "binary_cross_entropy"}


def config(tmp_path, task: str, train, name="c", **data) -> dict:
    cost = COSTS[task]
    body = {
        "data": {"train": str(train), "target": "y", "weight": "w", **data},
        "network": {"layers": ["auto", 6, "auto"], "activation": "tanh"},
        "cost": cost,
        "dtype": "float64",
        "training": {"learning_rate": 0.1, "epochs": 3, "batch_size": 8, "seed": 0},
        "output": str(tmp_path / f"run-{name}"),
    }
    body["data"] = {k: v for k, v in body["data"].items() if v is not None}
    return body


def scores(result) -> list[dict]:
    """Each epoch's validation figures, then the test's."""
    keep = ("val_loss", "val_accuracy", "val_r2")
    return [{k: h[k] for k in keep if k in h} for h in result.history] + [
        {k: v for k, v in (result.test or {}).items() if k != "weighted"}
    ]


def assert_close(a: list[dict], b: list[dict], rel=1e-12):
    assert [sorted(d) for d in a] == [sorted(d) for d in b]
    for x, y in zip(a, b):
        for key in x:
            assert x[key] == pytest.approx(y[key], rel=rel, abs=1e-15), (key, x[key], y[key])


def task_rows(task, n, seed, weights=None):
    rows = rows_of("classification" if task != "regression" else "regression", n, seed, weights)
    if task == "binary":
        rows = [[*r[:3], min(int(r[3]), 1)] for r in rows]
    return rows


@pytest.mark.parametrize("task", ["regression", "classification", "binary"])
def test_equal_weights_score_as_no_weights(tmp_path, task):
    """Weights all 3 (held-out fractions and a separate validation file): the validation and
    test scores of every epoch are those of the run without weights, to 1e-12."""
    train = write_csv(tmp_path / "t.csv", task_rows(task, 60, 0, weights=[3] * 60))
    val = write_csv(tmp_path / "v.csv", task_rows(task, 20, 1, weights=[3] * 20))
    for data in ({"validation": 0.25, "test": 0.2}, {"validation": val, "test": val}):
        weighted = fit(config_from_dict(config(tmp_path, task, train, **data)), save=False)
        plain = fit(
            config_from_dict(config(tmp_path, task, train, weight=None, exclude=["w"], **data)), save=False
        )
        assert weighted.summary["val_weighted"] is True and weighted.test["weighted"] is True
        assert "val_weighted" not in plain.summary and "weighted" not in plain.test
        assert_close(scores(weighted), scores(plain))


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_a_weight_of_k_scores_as_the_row_written_k_times(tmp_path, task):
    """A validation (and test) file with weights 0..3 scores as the file with each row written
    that many times (weights all 1): the same training, the same val_loss, accuracy or R^2 of
    every epoch and the same test scores, to 1e-12; and not as the file without weights."""
    train = write_csv(tmp_path / "t.csv", task_rows(task, 60, 0))
    k = np.random.default_rng(3).integers(0, 4, 30)
    k[:2] = (0, 3)
    held = task_rows(task, 30, 1, weights=k)
    val = write_csv(tmp_path / "v.csv", held)
    repeated = write_csv(tmp_path / "r.csv", [[*r[:2], 1, r[3]] for r, m in zip(held, k) for _ in range(m)])
    once = write_csv(tmp_path / "o.csv", [[*r[:2], 1, r[3]] for r in held])
    runs = {}
    for name, path in (("weighted", val), ("repeated", repeated), ("once", once)):
        runs[name] = fit(
            config_from_dict(config(tmp_path, task, train, validation=path, test=path)), save=False
        )
    for a, b in zip(runs["weighted"].model.network.W, runs["repeated"].model.network.W):
        np.testing.assert_array_equal(a, b)  # (the validation set does not touch the training)
    assert_close(scores(runs["weighted"]), scores(runs["repeated"]))
    assert runs["weighted"].history[-1]["val_loss"] != pytest.approx(runs["once"].history[-1]["val_loss"])


def test_a_held_out_fraction_carries_its_rows_weights(tmp_path):
    """data.validation: 0.25 of a weighted file: val_loss and val_r2 are the weighted mse and
    R^2 of the model (evaluate --weighted's on those rows), at every epoch the model could keep:
    here the last."""
    train = write_csv(tmp_path / "t.csv", task_rows("regression", 80, 0))
    cfg = config_from_dict(config(tmp_path, "regression", train, validation=0.25, standardize="inputs"))
    result = fit(cfg, save=False)
    data = load_run_data(cfg)
    table = data.validation.table
    report = result.model.evaluate(table, weight="w")
    assert report["weighted"] is True and len(data.validation.w) == report["n"] == 20
    assert result.history[-1]["val_loss"] == pytest.approx(report["mse"], rel=1e-9)
    assert result.history[-1]["val_r2"] == pytest.approx(report["r2"], rel=1e-9)
    plain = result.model.evaluate(table)
    assert result.history[-1]["val_loss"] != pytest.approx(plain["mse"], rel=1e-4)


def test_early_stopping_and_restore_best_follow_the_weighted_val_loss(tmp_path):
    """The monitor is the weighted val_loss: the kept model's weighted mse on the validation
    file is the best val_loss early stopping saw, and the summary's."""
    train = write_csv(tmp_path / "t.csv", task_rows("regression", 80, 0))
    held = task_rows("regression", 30, 1, weights=[50 if i < 3 else 0.1 for i in range(30)])
    val = write_csv(tmp_path / "v.csv", held)
    body = config(tmp_path, "regression", train, validation=val, standardize="inputs")
    body["training"] |= {
        "epochs": 12,
        "learning_rate": 0.3,
        "early_stopping": {"patience": 3, "restore_best": True},
    }
    ok(run("fit", _write(tmp_path, body), "--quiet"))
    model = load_model(tmp_path / "run-c")
    training = model.meta["training"]
    table = read_table(val, "y")
    weighted = model.evaluate(with_weight(table, "w"), weight="w")["mse"]
    history = [json.loads(line) for line in (tmp_path / "run-c" / "history.jsonl").read_text().splitlines()]
    best = min(h["val_loss"] for h in history)
    assert training["best"] == best == training["val_loss"]
    assert weighted == pytest.approx(best, rel=1e-9)
    assert model.evaluate(table.columns(["x1", "x2"]))["mse"] != pytest.approx(best, rel=1e-4)


def _write(tmp_path, body: dict, name="c.yaml"):
    path = tmp_path / name
    path.write_text(json.dumps(body))  # (JSON is YAML)
    return path


def test_a_validation_file_without_the_weight_column_is_scored_unweighted_with_a_note(tmp_path):
    """A validation or test file without data.weight's column (a benchmark set, a file written
    before the weights were) is scored unweighted, as Keras scores validation_data without
    sample weights; a note says so, and the model records val_weighted: false."""
    train = write_csv(tmp_path / "t.csv", task_rows("regression", 40, 0))
    held = task_rows("regression", 20, 1)
    val = write_csv(tmp_path / "v.csv", [[r[0], r[1], r[3]] for r in held], header=("x1", "x2", "y"))
    body = config(tmp_path, "regression", train, validation=val, test=val, standardize="inputs")
    res = ok(run("fit", _write(tmp_path, body), "--json"))
    notes = [json.loads(line)["message"] for line in res.stdout.splitlines() if '"note"' in line]
    for name in ("validation", "test"):
        assert (
            f"{name} data: {val} has no weight column 'w' (data.weight): its scores are unweighted" in notes
        )
    assert "test (weighted)" not in res.stderr
    model = load_model(tmp_path / "run-c")
    training = model.meta["training"]
    assert training["val_weighted"] is False and training["test_weighted"] is False
    assert training["val_loss"] == pytest.approx(model.evaluate(read_table(val, "y"))["mse"], rel=1e-9)
    text = ok(run("info", tmp_path / "run-c")).stdout
    assert "val scores weighted" in text and "no" in text


def test_the_held_out_weights_are_checked_as_the_training_rows_are(tmp_path):
    """A missing weight in a validation file: one Error line naming the file's line under
    missing: error, its row left out (with a note) under drop; weights all 0: an error."""
    train = write_csv(tmp_path / "t.csv", task_rows("regression", 40, 0))
    held = task_rows("regression", 10, 1)
    held[4][2] = ""
    val = write_csv(tmp_path / "v.csv", held)
    body = config(tmp_path, "regression", train, validation=val)
    assert_error(run("fit", _write(tmp_path, body)), "v.csv:6", "weight 'w' is missing")
    body["data"]["missing"] = "drop"
    res = ok(run("fit", _write(tmp_path, body)))
    assert "validation data: left out 1 of 10 rows with missing values" in res.stderr
    zero = write_csv(tmp_path / "z.csv", task_rows("regression", 10, 1, weights=[0] * 10))
    body = config(tmp_path, "regression", train, validation=zero)
    assert_error(run("fit", _write(tmp_path, body)), "z.csv", "every row's weight is 0")


@pytest.mark.parametrize("key", ["validation", "test"])
def test_a_held_out_fraction_of_zero_weights_is_named_as_the_fraction(tmp_path, key):
    """A fraction whose held-out rows all weigh 0, of a file whose other rows do not: the error
    names the rows held out (not the file, whose weights are not all 0) and says how to hold out
    others."""
    rows = task_rows("regression", 40, 0)
    body = config(tmp_path, "regression", write_csv(tmp_path / "t.csv", rows), **{key: 0.25})
    held = getattr(load_run_data(config_from_dict(body)), key).table
    lines = set(held.lines.tolist())
    for i, row in enumerate(rows):
        if i + 2 in lines:  # (line 1 is the header)
            row[2] = 0
    write_csv(tmp_path / "t.csv", rows)
    res = run("fit", _write(tmp_path, body))
    assert_error(res, f"the {key} rows held out of", f"(data.{key}: 0.25)", "every row's weight is 0")
    assert "data.split_seed" in res.stderr


def test_class_weights_stay_out_of_the_validation_scores(tmp_path):
    """training.class_weight weighs the training cost only (Keras, scikit-learn): a run with
    class weights scores its validation rows as the run without, given the same model."""
    train = write_csv(tmp_path / "t.csv", task_rows("classification", 60, 0, weights=[1] * 60))
    body = config(tmp_path, "classification", train, validation=0.25, weight=None, exclude=["w"])
    body["training"]["class_weight"] = {"0": 5.0}
    result = fit(config_from_dict(body), save=False)
    data = load_run_data(config_from_dict(body))
    report = result.model.evaluate(data.validation.table)
    assert result.history[-1]["val_loss"] == pytest.approx(report["log_loss"], rel=1e-9)


def test_cv_scores_each_fold_with_its_rows_weights(tmp_path):
    """nettrain cv with data.weight: each fold's scores are evaluate --weighted's of the fold's
    model on its rows; --json says weighted."""
    from nettrain.crossval import cross_validate
    from nettrain.data import cv_rows

    train = write_csv(tmp_path / "t.csv", task_rows("classification", 60, 0))
    cfg = config_from_dict(config(tmp_path, "classification", train))
    result = cross_validate(cfg, folds=3)
    table, _, _ = cv_rows(cfg)
    for fold in result.folds:
        report = fold.model.evaluate(table.take(fold.rows), unknown="ignore", weight="w")
        assert report["weighted"] is True
        assert fold.scores["accuracy"] == report["accuracy"] and fold.scores["log_loss"] == report["log_loss"]
        plain = fold.model.evaluate(table.take(fold.rows).columns(["x1", "x2"]), unknown="ignore")
        assert fold.scores["log_loss"] != plain["log_loss"]
    out = json.loads(
        ok(
            run("cv", _write(tmp_path, config(tmp_path, "classification", train)), "--folds", "3", "--json")
        ).stdout
    )
    assert out["weighted"] is True and out["weight_column"] == "w"


def test_a_cv_fold_whose_scored_rows_all_weigh_0_is_named_as_the_folds_rows(tmp_path):
    """A fold whose held-out rows all weigh 0, of a file whose other rows do not: the error names
    the fold's rows (not the file, as if its every weight were 0) and says how to draw others."""
    from nettrain.crossval import cross_validate

    rows = task_rows("regression", 30, 0)
    body = config(tmp_path, "regression", write_csv(tmp_path / "cz3.csv", rows))
    first = cross_validate(config_from_dict(body), folds=3).folds[1]  # (fold 2's rows)
    for i in first.rows.tolist():
        rows[i][2] = 0
    write_csv(tmp_path / "cz3.csv", rows)
    res = run("cv", _write(tmp_path, body), "--folds", "3")
    line = assert_error(res, "fold 2 of 3: its 10 held-out rows of ", "cz3.csv: every row's weight", "is 0")
    assert "data.split_seed" in line
    for row in rows[::2]:  # leave-one-out: a fold of one row that weighs 0
        row[2] = 0
    write_csv(tmp_path / "cz3.csv", rows)
    assert_error(run("cv", _write(tmp_path, body), "--folds", "30"), "of 30: its 1 held-out row of ")


def test_a_cv_fold_whose_training_rows_all_weigh_0_is_named_as_the_folds_rows(tmp_path):
    """A fold that holds out every row that weighs more than 0 trains on weights all 0: the error
    names the fold and its training rows (not the file, as if its every weight were 0), before
    anything trains; a file whose every weight is 0 is named as the file, with no fold."""
    from nettrain.crossval import cross_validate

    rows = task_rows("regression", 30, 0)
    body = config(tmp_path, "regression", write_csv(tmp_path / "ct3.csv", rows))
    kept = set(cross_validate(config_from_dict(body), folds=3).folds[0].rows.tolist())  # (fold 1's)
    for i, row in enumerate(rows):
        if i not in kept:
            row[2] = 0
    write_csv(tmp_path / "ct3.csv", rows)
    cfg = _write(tmp_path, body)
    before = sorted(p.name for p in tmp_path.iterdir())
    res = run("cv", cfg, "--folds", "3")
    line = assert_error(
        res,
        "fold 1 of 3: its 20 training rows of ",
        "ct3.csv: every row's weight",
        "is 0",
        "the 10 rows that",
    )
    assert "data.split_seed, or more folds" in line
    assert "fold 1/3" not in res.stderr  # (no fold trained)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # (nothing written)
    for row in rows:
        row[2] = 0
    write_csv(tmp_path / "ct3.csv", rows)
    line = assert_error(
        run("cv", _write(tmp_path, body), "--folds", "3"), "ct3.csv: data.weight ('w'): every"
    )
    assert "fold 1" not in line


def test_training_rows_left_by_a_hold_out_that_all_weigh_0_are_named_as_such(tmp_path):
    """fit with a validation fraction that holds out every row that weighs more than 0: the error
    names the training rows left after the hold-out (not the file) and says how to hold out
    others."""
    rows = task_rows("regression", 40, 0)
    body = config(tmp_path, "regression", write_csv(tmp_path / "t.csv", rows), validation=0.25)
    held = set(load_run_data(config_from_dict(body)).validation.table.lines.tolist())
    for i, row in enumerate(rows):
        if i + 2 not in held:  # (line 1 is the header)
            row[2] = 0
    write_csv(tmp_path / "t.csv", rows)
    line = assert_error(
        run("fit", _write(tmp_path, body)),
        "the training rows of ",
        "t.csv left after the hold-outs (data.validation: 0.25)",
        "every training row's weight is 0",
    )
    assert "a smaller data.validation" in line


def test_weights_given_to_fit_weigh_the_held_out_scores():
    """fit(config, data=RunData.from_arrays(..., sample_weight=w)) with a validation fraction
    (the estimators' early stopping): the held-out rows' weights weigh val_loss and val_r2."""
    from nettrain import metrics

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    y = X @ [1.0, -2.0] + 0.5 * rng.normal(size=80)
    w = rng.uniform(0.1, 5.0, 80)
    cfg = config_from_dict(
        {
            "network": {"layers": [2, 4, 1], "activation": "tanh"},
            "cost": "mse",
            "dtype": "float64",
            "data": {"validation": 0.25},
            "training": {"epochs": 2, "batch_size": 16},
        }
    )
    result = fit(cfg, data=RunData.from_arrays(X, y, "mse", "float64", sample_weight=w), save=False)
    held = _hold_out(cfg, RunData.from_arrays(X, y, "mse", "float64", sample_weight=w)).validation
    rows = [int(np.flatnonzero((X == x).all(axis=1))[0]) for x in held.X]
    pred = result.model.network.forward(held.X)
    assert result.history[-1]["val_loss"] == pytest.approx(metrics.mse(held.Y, pred, w[rows]), rel=1e-9)
    assert result.history[-1]["val_r2"] == pytest.approx(metrics.r2(held.Y, pred, w[rows]), rel=1e-9)
    assert result.summary["val_weighted"] is True


@pytest.mark.filterwarnings("ignore:.*early stopping had not stopped training")
@pytest.mark.filterwarnings("ignore:.*the training loss ends at")
def test_an_estimators_validation_scores_are_weighted():
    """NettrainClassifier(early_stopping=True).fit(X, y, sample_weight=w): validation_scores_ and
    best_validation_score_ are the held-out rows' weighted accuracy, as scikit-learn's MLP
    weighs them (sample_weight_val); equal weights give the unweighted scores exactly."""
    from nettrain import NettrainClassifier

    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    params = {
        "hidden_layers": (8,),
        "epochs": 4,
        "learning_rate": 0.05,
        "device": "cpu",
        "early_stopping": True,
        "validation": 0.25,
    }
    plain = NettrainClassifier(**params).fit(X, y)
    same = NettrainClassifier(**params).fit(X, y, sample_weight=np.full(len(X), 2.0))
    assert same.validation_scores_ == plain.validation_scores_
    w = np.where(y == 0, 10.0, 0.1)
    est = NettrainClassifier(**params).fit(X, y, sample_weight=w)
    history = est.history_
    assert est.validation_scores_ == [h["val_accuracy"] for h in history]
    assert est.best_validation_score_ == max(est.validation_scores_)
    # the kept model's weighted accuracy on the held-out rows is its validation score
    cfg = est._config("cross_entropy")
    held = _hold_out(cfg, RunData.from_arrays(X, y, "cross_entropy", cfg.dtype, sample_weight=w)).validation
    rows = [int(np.flatnonzero((X.astype(cfg.dtype) == x).all(axis=1))[0]) for x in held.X]
    right = est.predict(X[rows]) == y[rows]
    kept = history[est.model_.meta["training"].get("kept_epoch", len(history)) - 1]["val_accuracy"]
    assert kept == pytest.approx(np.average(right, weights=w[rows]), rel=1e-6)
    assert kept != pytest.approx(right.mean(), rel=1e-3)


def test_a_warm_starts_validation_file_is_weighted_by_its_column_where_it_has_one(tmp_path):
    """A --warm-start run reads its validation file with the model's encoding (read_for_model):
    the weight column, where the file has it, weighs the scores; a file without it is scored
    unweighted, as in a fresh run."""
    train = write_csv(tmp_path / "t.csv", task_rows("regression", 40, 0))
    held = task_rows("regression", 20, 1)
    val = write_csv(tmp_path / "v.csv", held)
    bare = write_csv(tmp_path / "b.csv", [[r[0], r[1], r[3]] for r in held], header=("x1", "x2", "y"))
    source = fit(
        config_from_dict(config(tmp_path, "regression", train, standardize="inputs")), save=False
    ).model
    runs = {}
    for name, path in (("weighted", val), ("bare", bare)):
        cfg = config_from_dict(config(tmp_path, "regression", train, validation=path, standardize="inputs"))
        runs[name] = fit(cfg, save=False, warm_start=source)
    assert runs["weighted"].summary["val_weighted"] is True and runs["bare"].summary["val_weighted"] is False
    table = read_table(val, "y")
    model = runs["weighted"].model
    assert runs["weighted"].summary["val_loss"] == pytest.approx(
        model.evaluate(with_weight(table, "w"), weight="w")["mse"], rel=1e-9
    )
    assert runs["bare"].summary["val_loss"] == pytest.approx(
        runs["bare"].model.evaluate(table.columns(["x1", "x2"]))["mse"], rel=1e-9
    )


def test_after_an_array_a_validation_array_of_the_models_columns_alone_is_unweighted(tmp_path):
    """Trained on an .npy (x0, w, x2, y) with data.weight: 1, a validation .npy laid out like it
    is weighted by its column 1; an .npz of the model's two inputs alone has no weight column (its
    column 1 is the input x2, not a weight) and is scored unweighted."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    w = rng.integers(1, 4, 60).astype(float)
    y = X @ [1.0, -1.0]
    np.save(tmp_path / "t.npy", np.column_stack([X[:, 0], w, X[:, 1], y])[:40])
    np.save(tmp_path / "like.npy", np.column_stack([X[:, 0], w, X[:, 1], y])[40:])
    np.savez(tmp_path / "alone.npz", X=X[40:], y=y[40:])
    results = {}
    for name in ("like.npy", "alone.npz"):
        body = config(
            tmp_path, "regression", tmp_path / "t.npy", target=3, weight=1, validation=str(tmp_path / name)
        )
        results[name] = fit(config_from_dict(body), save=False)
    assert results["like.npy"].summary["val_weighted"] is True
    assert results["alone.npz"].summary["val_weighted"] is False
    # the same model (the validation set does not touch the training), scored two ways
    weighted, plain = (results[k].history[-1]["val_loss"] for k in ("like.npy", "alone.npz"))
    model = results["like.npy"].model
    enc = model.encoding
    s = model.network.forward((X[40:] - enc.x_mean) / enc.x_scale)
    err = (s[:, 0] - (y[40:] - enc.y_mean[0]) / enc.y_scale[0]) ** 2
    assert weighted == pytest.approx(np.average(err, weights=w[40:]), rel=1e-9)
    assert plain == pytest.approx(err.mean(), rel=1e-9)


def test_resuming_a_weighted_run_from_a_checkpoint_of_unweighted_validation_scores_says_so(tmp_path):
    """A checkpoint written before validation scores were weighted (no val_weighted in its state)
    holds unweighted val_loss history and early-stopping state: a weighted run resumed from it
    goes on, with a note; one resumed from its own checkpoint (or an unweighted run from an old
    one) has none."""
    from tests.test_resume import _edit_meta

    train = write_csv(tmp_path / "t.csv", rows_of("regression", 60, 0))
    body = config(tmp_path, "regression", train, validation=0.25)
    body["training"].update(checkpoint_every=1, epochs=2, early_stopping={"patience": 5})
    cfg = tmp_path / "c.json"

    def resumed(weight: str | None, older: bool) -> str:
        body["data"]["weight"] = weight
        body["data"] = {k: v for k, v in body["data"].items() if v is not None}
        body["data"]["exclude"] = [] if weight else ["w"]
        body["training"]["epochs"] = 2
        cfg.write_text(json.dumps(body))
        ok(run("fit", str(cfg), "--quiet"))
        ckpt = tmp_path / "run-c" / "checkpoint-2.npz"
        assert load_model(ckpt).meta["checkpoint"]["val_weighted"] is (weight is not None)
        if older:  # (as a nettrain of before val_weighted wrote it)
            _edit_meta(ckpt, lambda meta: meta["checkpoint"].pop("val_weighted"))
        return ok(run("fit", str(cfg), "--resume", str(ckpt), "--set", "training.epochs=3")).stderr

    note = (
        "validation scores (epochs 1-2, the best that early stopping and plateau compare with) are unweighted"
    )
    said = resumed("w", older=True)
    assert note in said and "did not weight validation scores" in said and "weighted by data.weight" in said
    assert "validation scores (epochs" not in resumed("w", older=False)
    assert "validation scores (epochs" not in resumed(None, older=True)
    # a validation file that had no weight column when the checkpoint was written, and has now
    val = tmp_path / "v.csv"
    body["data"].update(weight="w", exclude=[], validation=str(val))
    body["training"]["epochs"] = 2
    cfg.write_text(json.dumps(body))
    write_csv(val, [r[:2] + r[3:] for r in rows_of("regression", 20, 1)], header=("x1", "x2", "y"))
    ok(run("fit", str(cfg), "--quiet"))
    write_csv(val, rows_of("regression", 20, 1))
    said = ok(run("fit", str(cfg), "--resume", str(tmp_path / "run-c"), "--set", "training.epochs=3")).stderr
    assert note in said and "its validation file had no weight column then" in said


def test_the_weighted_scores_note_names_only_the_weighted_sets(tmp_path):
    """The note of the sets whose scores are weighted: a held-out validation fraction (its rows
    have their weights), not a test file without the weight column; a run without data.weight
    says none."""
    train = write_csv(tmp_path / "t.csv", task_rows("regression", 40, 0))
    held = task_rows("regression", 20, 1)
    test = write_csv(tmp_path / "x.csv", [[r[0], r[1], r[3]] for r in held], header=("x1", "x2", "y"))

    def notes(body) -> list[str]:
        res = ok(run("fit", _write(tmp_path, body), "--json"))
        return [json.loads(line)["message"] for line in res.stdout.splitlines() if '"note"' in line]

    said = notes(config(tmp_path, "regression", train, validation=0.25, test=test))
    assert "sample weights weigh the validation scores too (data.weight: w)" in said
    assert not [n for n in said if "weigh the validation and test" in n]
    body = config(tmp_path, "regression", train, name="plain", validation=0.25, test=test)
    body["data"]["exclude"] = ["w"]
    del body["data"]["weight"]
    assert not [n for n in notes(body) if n.startswith("sample weights weigh")]


def test_cv_says_that_its_fold_scores_are_weighted(tmp_path):
    from nettrain.crossval import cross_validate

    train = write_csv(tmp_path / "t.csv", task_rows("classification", 60, 0))
    notes: list[str] = []
    cross_validate(
        config_from_dict(config(tmp_path, "classification", train)),
        folds=3,
        on_event=lambda kind, info: notes.append(info["message"]) if kind == "notice" else None,
    )
    assert "each fold's scores are weighted by data.weight ('w'), as evaluate --weighted weighs them" in notes


def test_a_warm_starts_parquet_validation_file_with_more_columns_is_weighted(tmp_path):
    """A Parquet file's columns are named (its schema), not positions: a warm start's validation
    file with columns the training file did not have still gives its weight column to the
    scores, as a CSV's header does."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    train = write_csv(tmp_path / "t.csv", task_rows("regression", 40, 0))
    held = task_rows("regression", 20, 1)
    columns = {name: [float(r[j]) for r in held] for j, name in enumerate(HEADER)}
    columns.update(note=[0.0] * 20, other=[1.0] * 20)
    pq.write_table(pa.table(columns), tmp_path / "v.parquet")
    source = fit(config_from_dict(config(tmp_path, "regression", train, exclude=["x2"])), save=False).model
    cfg = config_from_dict(
        config(tmp_path, "regression", train, exclude=["x2"], validation=str(tmp_path / "v.parquet"))
    )
    result = fit(cfg, save=False, warm_start=source)
    assert result.summary["val_weighted"] is True


def test_weights_given_to_fit_whose_held_out_rows_all_weigh_0_are_an_error():
    """The held-out rows' weights are checked as data.weight's: all 0 cannot weigh a score."""
    from nettrain.errors import DataError

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = X @ [1.0, -2.0]
    cfg = config_from_dict(
        {"network": {"layers": [2, 3, 1]}, "cost": "mse", "dtype": "float64", "data": {"validation": 0.25}}
    )
    w = np.ones(40)
    held = _hold_out(cfg, RunData.from_arrays(X, y, "mse", "float64", sample_weight=w)).validation
    assert (held.w == 1).all()
    rows = [int(np.flatnonzero((X == x).all(axis=1))[0]) for x in held.X]
    w[rows] = 0
    with pytest.raises(
        DataError, match="the validation rows of the data given to fit: every row's weight is 0"
    ):
        _hold_out(cfg, RunData.from_arrays(X, y, "mse", "float64", sample_weight=w))
