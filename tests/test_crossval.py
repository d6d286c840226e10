"""nettrain cv: k-fold cross-validation (crossval.py, the cv command)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from nettrain.config import load_config
from nettrain.crossval import cross_validate, fold_indices, result_dict
from nettrain.data import load_run_data, read_table
from nettrain.train import fit
from tests.helpers import assert_error, ok, run

COUNTS = {"a": 13, "b": 9, "c": 8}  # 30 rows, three unbalanced classes


def classes_csv(path, seed=0) -> list[str]:
    """Two features (rounded, so the CSV round-trips them exactly) and a label of three classes
    that the features separate; returns the labels in file order."""
    rng = np.random.default_rng(seed)
    labels = [c for c, k in COUNTS.items() for _ in range(k)]
    rng.shuffle(labels)
    centre = {"a": (0, 0), "b": (3, 0), "c": (0, 3)}
    lines = ["x1,x2,label"]
    for c in labels:
        x1, x2 = (round(v + rng.normal(0, 0.5), 3) for v in centre[c])
        lines.append(f"{x1},{x2},{c}")
    path.write_text("\n".join(lines) + "\n")
    return labels


def write_config(
    tmp_path, data: dict, cost="cross_entropy", output="softmax", epochs=5, name="c.yaml", **training
):
    cfg = {
        "data": data,
        "network": {
            "layers": [2, 4, "auto"] if cost != "mse" else [2, 4, 1],
            "activation": "tanh",
            "output": output,
        },
        "cost": cost,
        "training": {"learning_rate": 0.1, "epochs": epochs, "batch_size": 8, "seed": 0, **training},
        "output": str(tmp_path / "runs"),
    }
    p = tmp_path / name
    p.write_text(yaml.safe_dump(cfg))
    return p


@pytest.fixture
def classes(tmp_path):
    labels = classes_csv(tmp_path / "d.csv")
    return write_config(tmp_path, {"train": "d.csv", "target": "label"}), np.array(labels)


# -- the folds ------------------------------------------------------------------------------------


@pytest.mark.parametrize("n,k", [(30, 5), (31, 4), (7, 7), (10, 3)])
def test_plain_folds_partition_the_rows(n, k):
    parts = fold_indices(n, k, np.random.default_rng(1))
    assert len(parts) == k
    assert sorted(np.concatenate(parts).tolist()) == list(range(n))  # every row once
    assert max(map(len, parts)) - min(map(len, parts)) <= 1
    assert all(list(p) == sorted(p) for p in parts)


@pytest.mark.parametrize("k", [2, 3, 5, 8])
def test_stratified_folds_keep_the_class_proportions(k):
    labels = np.array([c for c, m in COUNTS.items() for _ in range(m)])
    np.random.default_rng(0).shuffle(labels)
    parts = fold_indices(len(labels), k, np.random.default_rng(2), labels)
    assert sorted(np.concatenate(parts).tolist()) == list(range(len(labels)))
    for p in parts:
        for c, m in COUNTS.items():
            # within one row of the whole's share of this fold
            assert abs((labels[p] == c).sum() - len(p) * m / len(labels)) <= 1, (k, c, p)
            assert (labels[p] == c).sum() in (m // k, -(-m // k))


def test_every_row_is_scored_once_and_folds_are_stratified(classes):
    path, labels = classes
    r = cross_validate(load_config(path), folds=5)
    assert [f.fold for f in r.folds] == [1, 2, 3, 4, 5]
    assert sorted(np.concatenate([f.rows for f in r.folds]).tolist()) == list(range(30))
    assert sum(f.n_scored for f in r.folds) == 30
    for f in r.folds:
        assert f.n_train == 30 - len(f.rows) and f.n_val == 0 and f.epochs == 5
        for c, m in COUNTS.items():
            assert abs((labels[f.rows] == c).sum() - len(f.rows) * m / 30) <= 1
    assert r.metrics == ["accuracy", "macro_f1", "log_loss"]


# -- no leakage, and the scores are evaluate's --------------------------------------------------


def test_standardization_is_fitted_on_the_folds_training_rows_only(tmp_path):
    rng = np.random.default_rng(0)
    n = 20
    x1 = np.round(rng.normal(0, 1, n), 3)
    x1[:4] *= 1e6  # a feature whose scale differs hugely in a few rows
    x2 = np.round(rng.normal(0, 1, n), 3)
    y = np.round(x2 * 2 + 1, 3)
    lines = ["x1,x2,y"] + [f"{a},{b},{c}" for a, b, c in zip(x1, x2, y)]
    (tmp_path / "r.csv").write_text("\n".join(lines) + "\n")
    path = write_config(tmp_path, {"train": "r.csv", "target": "y"}, cost="mse", output="identity")
    r = cross_validate(load_config(path), folds=4)
    X = np.stack([x1, x2], axis=1)
    means = set()
    for f in r.folds:
        trained = np.setdiff1d(np.arange(n), f.rows)
        enc = f.model.encoding
        np.testing.assert_allclose(enc.x_mean, X[trained].mean(axis=0), rtol=1e-9)
        np.testing.assert_allclose(enc.x_scale, X[trained].std(axis=0), rtol=1e-6)
        np.testing.assert_allclose(enc.y_mean, [y[trained].mean()], rtol=1e-9)
        assert not np.allclose(enc.x_mean, X.mean(axis=0))  # not the whole file's
        means.add(round(float(enc.x_mean[0]), 3))
    assert len(means) == 4  # each fold its own statistics


def test_a_folds_scores_are_those_of_fit_and_evaluate_on_its_rows(tmp_path):
    """Recompute fold 2 independently: its training rows written to a file, fit on it, the model
    scored (Model.evaluate, as `nettrain evaluate`) on the fold's rows written to another."""
    labels = classes_csv(tmp_path / "d.csv")
    assert labels
    path = write_config(tmp_path, {"train": "d.csv", "target": "label"}, epochs=8)
    r = cross_validate(load_config(path), folds=3)
    lines = (tmp_path / "d.csv").read_text().splitlines()
    header, rows = lines[0], lines[1:]
    f = r.folds[1]
    trained = np.setdiff1d(np.arange(len(rows)), f.rows)
    (tmp_path / "tr.csv").write_text("\n".join([header, *(rows[i] for i in trained)]) + "\n")
    (tmp_path / "te.csv").write_text("\n".join([header, *(rows[i] for i in f.rows)]) + "\n")
    alone = write_config(tmp_path, {"train": "tr.csv", "target": "label"}, epochs=8, name="alone.yaml")
    model = fit(load_config(alone), save=False).model
    report = model.evaluate(read_table(str(tmp_path / "te.csv"), "label"))
    for name in r.metrics:
        assert f.scores[name] == pytest.approx(report[name], rel=1e-12, abs=1e-12), name
    for w_cv, w_alone in zip(f.model.network.W, model.network.W):
        np.testing.assert_array_equal(w_cv, w_alone)


def test_validation_and_early_stopping_work_inside_each_fold(tmp_path):
    classes_csv(tmp_path / "d.csv")
    path = write_config(
        tmp_path,
        {"train": "d.csv", "target": "label", "validation": 0.25},
        epochs=200,
        early_stopping={"monitor": "val_loss", "patience": 2, "min_delta": 0.5},
        learning_rate=0.5,
    )
    r = cross_validate(load_config(path), folds=3)
    for f in r.folds:
        assert f.n_val > 0 and f.n_train + f.n_val == 30 - len(f.rows)
        assert f.epochs < 200 and f.kept_epoch is not None


def _validation_file(tmp_path, shared: int) -> None:
    """val.csv: ``shared`` rows of d.csv (columns in another order, as a file may have them) and
    four rows that are in no fold (x1 of 100 or more: d.csv's centres are 0 and 3)."""
    rows = (tmp_path / "d.csv").read_text().splitlines()[1 : 1 + shared]
    lines = ["label,x2,x1"] + [",".join(reversed(r.split(","))) for r in rows]
    lines += [f"{c},0.5,{100 + i}" for i, c in enumerate("abca")]
    (tmp_path / "val.csv").write_text("\n".join(lines) + "\n")


def _cv_warnings(path, *sets: str) -> list[str]:
    warnings = []
    cross_validate(
        load_config(path, list(sets)),
        3,
        lambda k, i: warnings.append(i["message"]) if k == "warning" else None,
    )
    return warnings


def test_a_validation_file_sharing_rows_with_the_folds_is_warned_of(tmp_path):
    """A data.validation file is every fold's validation set: its rows that are also rows of
    data.train are scored by a fold whose early stopping watched them (no warning said so)."""
    classes_csv(tmp_path / "d.csv")
    _validation_file(tmp_path, shared=6)
    early = {"monitor": "val_loss", "patience": 2}
    path = write_config(
        tmp_path, {"train": "d.csv", "target": "label", "validation": "val.csv"}, early_stopping=early
    )
    (warning,) = _cv_warnings(path)
    assert warning.startswith("6 rows of data.validation (") and "early stopping" in warning
    assert _cv_warnings(path, "training.early_stopping=false", "training.schedule=plateau") != []
    # the validation loss only reported: nothing reaches a model, nothing to warn of
    assert _cv_warnings(path, "training.early_stopping=false") == []
    _validation_file(tmp_path, shared=0)
    assert _cv_warnings(path) == []
    _validation_file(tmp_path, shared=3)  # the command: one Warning line, shown under -q too
    res = ok(run("cv", path, "-k", "3", "-q"))
    assert res.stderr.startswith("Warning: 3 rows of data.validation (") and res.stderr.count("\n") == 1


def test_mean_and_std_over_the_folds(classes):
    r = cross_validate(load_config(classes[0]), folds=4)
    for name in r.metrics:
        values = [f.scores[name] for f in r.folds]
        assert r.mean[name] == pytest.approx(np.mean(values))
        assert r.std[name] == pytest.approx(np.std(values))  # ddof=0, as cross_val_score's .std()


def test_a_test_fraction_is_held_out_first_and_a_test_file_not_read(tmp_path):
    classes_csv(tmp_path / "d.csv")
    path = write_config(tmp_path, {"train": "d.csv", "target": "label", "test": 0.2})
    notes = []
    r = cross_validate(
        load_config(path), 3, lambda k, i: notes.append(i["message"]) if k == "notice" else None
    )
    fit_rows = load_run_data(load_config(path))  # what fit trains on: the same rows
    assert r.n_rows == len(fit_rows.train) == 23 and sum(f.n_scored for f in r.folds) == 23
    assert len(fit_rows.test) == 7
    assert any("test fraction 0.2 (7 rows)" in n for n in notes)
    path = write_config(tmp_path, {"train": "d.csv", "target": "label", "test": "nowhere.csv"})
    notes.clear()
    r = cross_validate(
        load_config(path), 3, lambda k, i: notes.append(i["message"]) if k == "notice" else None
    )
    assert r.n_rows == 30 and any("is not read" in n for n in notes)


# -- the command ----------------------------------------------------------------------------------


def test_cv_prints_a_table_and_the_mean_and_std(classes):
    res = ok(run("cv", classes[0], "--folds", "3"))
    out = res.stdout.splitlines()
    assert "fold" in out[1] and "accuracy" in out[1] and "log_loss" in out[1]
    assert "mean ± std over 3 folds: accuracy" in res.stdout or "mean +/- std" in res.stdout
    assert "cv: 3 folds of 30 rows" in res.stderr
    assert sum(line.startswith("fold ") for line in res.stderr.splitlines()) == 3


def test_cv_json_shape(classes):
    res = ok(run("cv", classes[0], "-k", "3", "--json", "-q"))
    assert res.stderr == ""
    obj = json.loads(res.stdout)
    assert set(obj) == {"task", "source", "rows", "k", "metrics", "folds", "mean", "std"}
    assert obj["k"] == 3 and len(obj["folds"]) == 3 and obj["rows"] == 30
    assert obj["metrics"] == ["accuracy", "macro_f1", "log_loss"]
    for f in obj["folds"]:
        assert set(f) >= {"fold", "n_train", "n_val", "n_scored", "epochs", "scores"}
        assert set(f["scores"]) == set(obj["metrics"])
    assert set(obj["mean"]) == set(obj["std"]) == set(obj["metrics"])


def test_cv_quiet_says_nothing_on_stderr(classes):
    res = ok(run("cv", classes[0], "-k", "2", "-q"))
    assert res.stderr == "" and "fold" in res.stdout


def test_cv_is_deterministic_and_split_seed_picks_the_folds(classes):
    path = classes[0]
    a = result_dict(cross_validate(load_config(path), 3))
    b = result_dict(cross_validate(load_config(path), 3))
    assert a == b
    r1 = cross_validate(load_config(path, ["data.split_seed=1"]), 3)
    r2 = cross_validate(load_config(path, ["data.split_seed=2"]), 3)
    assert any(not np.array_equal(f.rows, g.rows) for f, g in zip(r1.folds, r2.folds))


def test_cv_reads_standard_input_once(tmp_path):
    classes_csv(tmp_path / "d.csv")
    path = write_config(tmp_path, {"train": "-", "target": "label"})
    res = ok(run("cv", path, "-k", "3", "--json", "-q", input=(tmp_path / "d.csv").read_text()))
    assert json.loads(res.stdout)["rows"] == 30


def test_cv_regression_scores(tmp_path):
    rng = np.random.default_rng(0)
    lines = ["x1,x2,y"] + [f"{a:.3f},{b:.3f},{2 * a - b:.3f}" for a, b in rng.normal(0, 1, (24, 2))]
    (tmp_path / "r.csv").write_text("\n".join(lines) + "\n")
    path = write_config(tmp_path, {"train": "r.csv", "target": "y"}, cost="mse", output="identity")
    obj = json.loads(ok(run("cv", path, "-k", "4", "--json", "-q")).stdout)
    assert obj["metrics"] == ["mse", "rmse", "mae", "r2"] and obj["task"] == "regression"


@pytest.mark.parametrize(
    "folds,needle",
    [("1", "at least 2 folds"), ("0", "at least 2 folds"), ("31", "30 rows cannot be cut into 31")],
)
def test_cv_bad_folds_is_one_line_exit_2(classes, folds, needle):
    assert_error(run("cv", classes[0], "--folds", folds), needle)


def test_cv_a_class_of_one_row_is_one_line_exit_2(tmp_path):
    classes_csv(tmp_path / "d.csv")
    with open(tmp_path / "d.csv", "a") as f:
        f.write("9,9,lone\n")
    path = write_config(tmp_path, {"train": "d.csv", "target": "label"})
    assert_error(run("cv", path, "-k", "3"), "class 'lone' has 1 row")


def test_cv_a_class_smaller_than_k_is_a_note(classes):
    res = ok(run("cv", classes[0], "-k", "9"))
    assert "Note: class 'c' has 8 rows, fewer than the 9 folds: 1 fold(s) score no row of it" in res.stderr


def test_cv_refuses_a_streamed_npy(tmp_path, monkeypatch):
    from nettrain.data import stream

    monkeypatch.setattr(stream, "STREAM_BYTES", 1000)
    np.save(tmp_path / "big.npy", np.random.default_rng(0).normal(size=(200, 3)))
    path = write_config(tmp_path, {"train": "big.npy"}, cost="mse", output="identity")
    assert_error(run("cv", path), "too large to hold in memory")


def test_cv_a_diverged_fold_exits_1_naming_it(tmp_path):
    rng = np.random.default_rng(0)
    lines = ["x1,x2,y"] + [f"{a:.3f},{b:.3f},{2 * a - b:.3f}" for a, b in rng.normal(0, 1, (24, 2))]
    (tmp_path / "r.csv").write_text("\n".join(lines) + "\n")
    path = write_config(tmp_path, {"train": "r.csv", "target": "y"}, cost="mse", output="identity")
    res = run("cv", path, "-k", "3", "--set", "training.learning_rate=1e6")
    assert_error(res, "fold 1 of 3: training diverged", code=1)


def _with_missing(tmp_path, missing: str):
    """The classes data with row 5's label and row 9's x1 emptied (rows count from 0)."""
    classes_csv(tmp_path / "d.csv")
    lines = (tmp_path / "d.csv").read_text().splitlines()
    lines[6] = lines[6].rsplit(",", 1)[0] + ","
    lines[10] = "," + lines[10].split(",", 1)[1]
    (tmp_path / "m.csv").write_text("\n".join(lines) + "\n")
    return write_config(tmp_path, {"train": "m.csv", "target": "label", "missing": missing})


@pytest.mark.parametrize("missing,left", [("drop", 2), ("mean", 1)])
def test_cv_leaves_out_rows_fit_leaves_out_before_the_folds(tmp_path, missing, left):
    # fit trains on a file with a missing label (data.missing: drop or mean leave that row out);
    # cv took the empty label for a class of one row and refused the file
    path = _with_missing(tmp_path, missing)
    res = ok(run("cv", path, "-k", "3", "--json"))
    obj = json.loads(res.stdout)
    assert obj["rows"] == 30 - left
    assert sum(f["n_scored"] for f in obj["folds"]) == 30 - left
    assert f"left out {left} of 30 rows" in res.stderr


def test_cv_of_one_row_does_not_suggest_one_fold(tmp_path):
    """It said 'ask for --folds 1 or fewer', which --folds refuses (at least 2 folds)."""
    (tmp_path / "one.csv").write_text("x,z,y\n1,0,2\n")
    path = write_config(tmp_path, {"train": "one.csv", "target": "y"}, cost="mse", output="identity")
    line = assert_error(
        run("cv", path, "-k", "2"), "1 row cannot be cut into 2 folds", "needs 2 rows or more"
    )
    assert "--folds 1" not in line


def test_cv_a_missing_target_under_missing_error_says_so(tmp_path):
    path = _with_missing(tmp_path, "error")
    assert_error(run("cv", path, "-k", "3"), "m.csv:7: the target 'label' is missing")


def test_cv_under_drop_cuts_the_folds_from_the_rows_with_every_value(tmp_path):
    # 5 rows, one with a missing x: under drop, 5 folds were cut over all 5 rows, and the fold
    # holding that row alone failed ('no row is left') after training the others; now 4 rows
    # make the folds, and 5 folds are refused before any training
    (tmp_path / "n.csv").write_text("x,z,y\n1,0,2\nnan,1,3\n3,0,4\n4,1,5\n5,0,6\n")
    data = {"train": "n.csv", "target": "y", "missing": "drop"}
    path = write_config(tmp_path, data, cost="mse", output="identity")
    assert_error(run("cv", path, "-k", "5"), "4 rows cannot be cut into 5 folds")
    obj = json.loads(ok(run("cv", path, "-k", "4", "--json", "-q")).stdout)
    assert [f["n_scored"] for f in obj["folds"]] == [1, 1, 1, 1]
