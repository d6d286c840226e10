"""`nettrain evaluate --importance [--repeats R] [--seed S]`: permutation feature importance
(README, "evaluate").

Each feature column is shuffled across rows R times and the data re-scored; the importance is
the drop in accuracy (classification) or R² (regression), mean and std over the shuffles, sorted
most important first. A categorical column is one row of the ranking (its one-hot inputs move
together). The table comes after evaluate's own; with --json the object gains `importance`, and
only then. Checked against scikit-learn's permutation_importance on planted data.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.helpers import animals, assert_error, ok, run, write_config, write_rows


def planted(n: int, seed: int):
    """'signal' decides the class (a or b); 'noise1'..'noise3' are pure noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    labels = np.where(X[:, 0] > 0, "b", "a")
    header = ["noise1", "signal", "noise2", "noise3", "label"]
    rows = [[f"{r[1]:.4f}", f"{r[0]:.4f}", f"{r[2]:.4f}", f"{r[3]:.4f}", c] for r, c in zip(X, labels)]
    return header, rows


def _fit(folder, header, rows, layers, epochs=30):
    train = write_rows(folder / "train.csv", header, rows)
    cfg = write_config(folder / "c.yaml", train, layers, training={"epochs": epochs})
    ok(run("fit", cfg, "-o", folder / "run", "-q"))
    return folder / "run"


@pytest.fixture(scope="module")
def signal(tmp_path_factory):
    folder = tmp_path_factory.mktemp("planted")
    model = _fit(folder, *planted(600, 0), [4, 8, 2])
    return model, write_rows(folder / "test.csv", *planted(400, 1))


@pytest.fixture(scope="module")
def animal(tmp_path_factory):
    """size and color (categorical) decide the label; weight is noise."""
    folder = tmp_path_factory.mktemp("animals")
    header, rows = animals(900)
    model = _fit(folder, header, rows, [5, 8, 2])
    return model, write_rows(folder / "test.csv", *animals(450, seed=1))


def importance(model, data, *options) -> dict:
    r = ok(run("evaluate", model, data, "--json", "--importance", *options))
    return json.loads(r.stdout)["importance"]


def by_name(ranking: dict) -> dict:
    return {c["column"]: c for c in ranking["columns"]}


# -- what it finds ------------------------------------------------------------------------------------


def test_the_planted_column_ranks_first_and_noise_is_near_zero(signal):
    ranking = importance(*signal)
    assert ranking["metric"] == "accuracy" and ranking["repeats"] == 5 and ranking["seed"] == 0
    names = [c["column"] for c in ranking["columns"]]
    assert names[0] == "signal" and sorted(names) == ["noise1", "noise2", "noise3", "signal"]
    first = ranking["columns"][0]
    assert first["mean"] > 0.3  # a coin flip's accuracy instead of ~1
    for c in ranking["columns"][1:]:
        assert abs(c["mean"]) < 0.05, c
    means = [c["mean"] for c in ranking["columns"]]
    assert means == sorted(means, reverse=True)


def test_a_categorical_column_is_one_row(animal):
    ranking = importance(*animal)
    cols = by_name(ranking)
    assert sorted(cols) == ["color", "size", "weight"]  # not color=red, color=green, ...
    assert cols["size"]["mean"] > 0.1 and cols["color"]["mean"] > 0.05
    assert abs(cols["weight"]["mean"]) < 0.05
    assert ranking["columns"][-1]["column"] == "weight"


def test_regression_ranks_by_the_drop_in_r2(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(500, 3))
    y = 3 * X[:, 1] + 0.05 * rng.normal(size=500)
    rows = [[f"{a:.4f}", f"{b:.4f}", f"{c:.4f}", f"{t:.4f}"] for (a, b, c), t in zip(X, y)]
    header = ["n1", "x", "n2", "y"]
    train = write_rows(tmp_path / "train.csv", header, rows)
    cfg = write_config(tmp_path / "c.yaml", train, [3, 8, 1], cost="mse", training={"learning_rate": 0.05})
    ok(run("fit", cfg, "-o", tmp_path / "run", "-q"))
    ranking = importance(tmp_path / "run", train)
    assert ranking["metric"] == "r2"
    assert ranking["columns"][0]["column"] == "x" and ranking["columns"][0]["mean"] > 1  # ~2: R² 1 -> -1
    assert all(abs(c["mean"]) < 0.05 for c in ranking["columns"][1:])
    plain = json.loads(ok(run("evaluate", tmp_path / "run", train, "--json")).stdout)
    assert ranking["baseline"] == pytest.approx(plain["r2"], abs=1e-9)


# -- repeats, seed, determinism -------------------------------------------------------------------------


def test_repeats_give_the_scores_their_mean_and_std(signal):
    ranking = importance(*signal, "--repeats", "3")
    assert ranking["repeats"] == 3
    for c in ranking["columns"]:
        assert len(c["scores"]) == 3
        assert c["mean"] == pytest.approx(np.mean(c["scores"]), abs=1e-12)
        assert c["std"] == pytest.approx(np.std(c["scores"]), abs=1e-12)
    assert by_name(ranking)["signal"]["std"] > 0  # three different shuffles
    one = importance(*signal, "--repeats", "1")
    assert all(c["std"] == 0 and len(c["scores"]) == 1 for c in one["columns"])


def test_the_same_seed_gives_the_same_numbers_another_seed_others(signal):
    a = importance(*signal, "--seed", "7")
    assert importance(*signal, "--seed", "7") == a
    assert a["seed"] == 7
    b = importance(*signal, "--seed", "8")
    assert by_name(a)["signal"]["scores"] != by_name(b)["signal"]["scores"]
    assert importance(*signal) == importance(*signal, "--seed", "0")  # the default seed is 0


# -- output --------------------------------------------------------------------------------------------


def test_the_table_follows_evaluate_s_own_which_is_unchanged(animal):
    plain = ok(run("evaluate", *animal))
    assert "importance" not in plain.stdout
    r = ok(run("evaluate", *animal, "--importance"))
    assert r.stdout.startswith(plain.stdout) and r.stderr == plain.stderr
    rest = [line for line in r.stdout[len(plain.stdout) :].splitlines() if line.strip()]
    assert rest[0].startswith("permutation importance: drop in accuracy (baseline ")
    assert "mean and std of 5 shuffles (seed 0)" in rest[0]
    assert rest[1].split() == ["column", "importance", "std"]
    rows = [line.split() for line in rest if line.split()[:1] in (["size"], ["color"], ["weight"])]
    assert [row[0] for row in rows][-1] == "weight" and len(rows) == 3
    assert all(len(row) == 3 for row in rows)


def test_json_has_the_key_only_when_asked(animal):
    plain = json.loads(ok(run("evaluate", *animal, "--json")).stdout)
    assert "importance" not in plain
    with_key = json.loads(ok(run("evaluate", *animal, "--json", "--importance")).stdout)
    ranking = with_key.pop("importance")
    assert with_key == plain
    assert set(ranking) == {"metric", "baseline", "repeats", "seed", "n", "columns"}
    assert ranking["baseline"] == plain["accuracy"] and ranking["n"] == plain["n"]
    assert all(set(c) == {"column", "mean", "std", "scores"} for c in ranking["columns"])


def test_require_is_independent(animal):
    r = run("evaluate", *animal, "--importance", "--require", "accuracy>1")
    assert r.exit_code == 1 and "evaluate FAILED: accuracy" in r.stderr
    assert "permutation importance" in r.stdout
    r = ok(run("evaluate", *animal, "--importance", "--require", "accuracy>0", "--json"))
    report = json.loads(r.stdout)
    assert report["requirements"][0]["passed"] and "importance" in report


# -- refusals --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options, needles",
    [
        (["--importance", "--repeats", "0"], ["--repeats", "at least 1", "0"]),
        (["--importance", "--repeats", "-3"], ["--repeats", "at least 1"]),
        (["--importance", "--seed", "-1"], ["--seed", "0 or more"]),
        (["--repeats", "3"], ["--repeats", "--importance"]),
        (["--seed", "1"], ["--seed", "--importance"]),
    ],
)
def test_bad_options_are_one_line_exit_2(animal, options, needles):
    assert_error(run("evaluate", *animal, *options), *needles)


def test_library_refuses_bad_repeats_and_seed(animal):
    from nettrain.data import read_for_model_chunks
    from nettrain.importance import permutation_importance
    from nettrain.modelfile import load_model

    m = load_model(animal[0])
    tables = list(read_for_model_chunks(str(animal[1]), m.encoding, need_target=True))
    with pytest.raises(ValueError, match="repeats"):
        permutation_importance(m, tables, repeats=0)
    with pytest.raises(ValueError, match="seed"):
        permutation_importance(m, tables, seed=-1)


# -- against scikit-learn ----------------------------------------------------------------------------------


def test_agrees_with_sklearn_permutation_importance(signal):
    """The same shuffles cannot be drawn in both libraries: the rankings must agree, and each
    column's mean within a few of its std (plus a small slack for 400 rows)."""
    inspection = pytest.importorskip("sklearn.inspection")
    from nettrain.data import read_for_model_chunks
    from nettrain.importance import permutation_importance
    from nettrain.metrics import accuracy
    from nettrain.modelfile import load_model

    m = load_model(signal[0])

    class Wrapped:
        """A fitted scikit-learn estimator around the model: score = accuracy, as a classifier's."""

        def fit(self, X, y):
            return self

        def predict(self, X):
            return m.predict(X)

        def score(self, X, y):
            return accuracy(y, self.predict(X))

    tables = list(read_for_model_chunks(str(signal[1]), m.encoding, need_target=True))
    ours = by_name(permutation_importance(m, tables, repeats=20, seed=0))
    header, rows = planted(400, 1)
    X = np.array([[float(v) for v in row[:4]] for row in rows])
    y = np.array([row[4] for row in rows])
    assert header[:4] == m.encoding.features
    theirs = inspection.permutation_importance(Wrapped(), X, y, n_repeats=20, random_state=0)
    for j, name in enumerate(header[:4]):
        slack = 3 * (ours[name]["std"] + theirs.importances_std[j]) + 0.02
        assert abs(ours[name]["mean"] - theirs.importances_mean[j]) < slack, (name, ours, theirs)
    assert header[int(np.argmax(theirs.importances_mean))] == "signal"
    assert max(ours, key=lambda k: ours[k]["mean"]) == "signal"
    assert theirs.importances_mean[1] > 0.1 and ours["signal"]["mean"] > 0.1


def test_the_readme_example_holds(tmp_path):
    """README, "Which columns matter": on Friedman #1 the five informative columns x1..x5 rank
    above the five of noise, whose importance is about 0; the README's table is this run's."""
    import re

    from tests.conftest import CONFIGS, DATA, ROOT

    ok(run("fit", CONFIGS / "regression.yaml", "-o", tmp_path / "run", "-q"))
    ranking = importance(tmp_path / "run", DATA / "regression_test.csv")
    names = [c["column"] for c in ranking["columns"]]
    assert sorted(names[:5]) == ["x1", "x2", "x3", "x4", "x5"]
    assert all(c["mean"] > 0.1 for c in ranking["columns"][:5])
    assert all(abs(c["mean"]) < 0.01 for c in ranking["columns"][5:])
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("#### Which columns matter") : readme.index("### gradcheck")]
    shown = re.findall(r"^  (x\d+) +(-?\d\.\d{4}) +(\d\.\d{4})$", section, re.M)
    assert [name for name, _, _ in shown][:5] == names[:5] and len(shown) == 10
    cols = by_name(ranking)
    for name, mean, std in shown:  # (to BLAS rounding: x6 and x8 tie to 4 digits)
        assert float(mean) == pytest.approx(cols[name]["mean"], abs=2e-4)
        assert float(std) == pytest.approx(cols[name]["std"], abs=2e-4)
