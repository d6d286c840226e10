"""The data users bring (issue "Real-world data in, nothing lost"), on real files in tmp_path:
missing values, categorical columns, CSV dialects, header-less files, a validation file, the
stratified split, and training streamed from a large .npy file.

CLI runs are in-process (CliRunner) and quick: a few hundred rows, a few epochs.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nettrain.data.stream as stream
from nettrain import config_from_dict, fit, load_config, load_model
from nettrain.backend import to_host
from nettrain.data import (
    StreamedDataset,
    fit_encoding,
    label_text,
    load_run_data,
    read_table,
    split_indices,
    stream_rng,
)
from nettrain.errors import ConfigError, DataError, OutputError
from tests.conftest import CONFIGS, DATA
from tests.helpers import (
    animals,
    assert_error,
    ok,
    read_csv,
    run,
    same_weights,
    subprocess_env,
    write_config,
    write_rows,
)

HEADER, ROWS = animals()


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    """Messages name data files relative to the current directory."""
    monkeypatch.chdir(tmp_path)


def fit_cli(config: Path, *sets: str, out: str = "run") -> Path:
    args = ["fit", config, "--quiet", "-o", config.parent / out]
    for s in sets:
        args += ["--set", s]
    ok(run(*args))
    return config.parent / out


def predict_rows(model, path, *flags) -> list[list[str]]:
    r = ok(run("predict", model, path, *flags))
    return read_csv(r.stdout)


def animals_run(tmp_path: Path, rows=ROWS, header=HEADER, name="train.csv", **data) -> Path:
    write_rows(tmp_path / name, header, rows)
    cfg = write_config(tmp_path / "c.yaml", name, [5, 8, 2], target="label", **data)
    return fit_cli(cfg)


# -- missing values -------------------------------------------------------------------------------


def with_missing(rows, cells: dict[tuple[int, int], str]):
    """A copy of rows with cells[(row index, column index)] replaced."""
    out = [list(r) for r in rows]
    for (i, j), v in cells.items():
        out[i][j] = v
    return out


@pytest.mark.parametrize("cell", ["", "NA", "NaN", "?"])
def test_missing_value_is_an_error_naming_first_line_column_and_rows(tmp_path, cell):
    # rows 3 (weight), 7 (size and weight) and 10 (size): lines 5, 9, 12; 3 rows, 4 cells
    rows = with_missing(ROWS, {(3, 2): cell, (7, 0): cell, (7, 2): cell, (10, 0): cell})
    write_rows(tmp_path / "train.csv", HEADER, rows)
    cfg = write_config(tmp_path / "c.yaml", "train.csv", [5, 8, 2], target="label")
    r = run("fit", cfg, "-o", tmp_path / "run")
    line = assert_error(r, "train.csv:5:", "'weight'", "3 row(s)", "data.missing")
    assert "4 row(s)" not in line
    assert not (tmp_path / "run").exists()


def test_missing_drop_trains_on_the_complete_rows(tmp_path):
    holes = {(3, 2): "NA", (7, 0): "", (7, 2): "?", (10, 1): "NaN", (50, 3): ""}
    rows = with_missing(ROWS, holes)
    complete = [r for i, r in enumerate(rows) if i not in {3, 7, 10, 50}]
    write_rows(tmp_path / "train.csv", HEADER, rows)
    write_rows(tmp_path / "clean.csv", HEADER, complete)
    cfg = write_config(tmp_path / "c.yaml", "train.csv", [5, 8, 2], target="label", missing="drop")
    r = ok(run("fit", cfg, "-o", tmp_path / "run"))
    assert "left out 4 of 240 rows with missing values" in r.stderr
    dropped = load_model(tmp_path / "run")
    assert dropped.meta["training"]["n_train"] == len(complete) == 236
    assert dropped.encoding.missing == "drop"
    # the same training as on a file holding only the complete rows: the same weights, bit for bit
    clean_cfg = write_config(tmp_path / "clean.yaml", "clean.csv", [5, 8, 2], target="label")
    clean = load_model(fit_cli(clean_cfg, out="clean_run"))
    assert same_weights(dropped, clean)
    np.testing.assert_array_equal(dropped.encoding.x_mean, clean.encoding.x_mean)


def test_missing_drop_predict_leaves_an_empty_answer_in_place(tmp_path):
    run_dir = animals_run(tmp_path, missing="drop")
    rows = [
        ROWS[0],
        with_missing([ROWS[1]], {(0, 0): "NA"})[0],
        ROWS[2],
        with_missing([ROWS[3]], {(0, 1): ""})[0],
    ]
    write_rows(tmp_path / "new.csv", HEADER, rows)
    write_rows(tmp_path / "complete.csv", HEADER, [ROWS[0], ROWS[2]])
    r = ok(run("predict", run_dir, tmp_path / "new.csv", "--proba"))
    assert "Note: 2 of 4 rows have missing values" in r.stderr
    got = read_csv(r.stdout)
    want = predict_rows(run_dir, tmp_path / "complete.csv", "--proba")
    assert got[0] == want[0] == ["prediction", "prob_no", "prob_yes"]
    assert len(got) == 5  # header + one line per input row, in order
    assert got[1] == want[1] and got[3] == want[2]
    assert got[2] == got[4] == ["", "", ""]
    # JSON lines: null where the row was left out
    r = ok(run("predict", run_dir, tmp_path / "new.csv", "-f", "jsonl"))
    objects = [json.loads(line) for line in r.stdout.splitlines()]
    assert [o["prediction"] for o in objects][1::2] == [None, None]
    assert [o["prediction"] for o in objects][0::2] == [want[1][0], want[2][0]]
    # evaluate leaves them out and says so
    r = ok(run("evaluate", run_dir, tmp_path / "new.csv", "--json"))
    report = json.loads(r.stdout)
    assert report["n"] == 2 and report["rows_left_out"] == 2
    assert "left out 2 of 4 rows" in r.stderr
    # --quiet: the same data on stdout, no note
    for command, flag in (("predict", "--quiet"), ("evaluate", "-q")):
        loud = ok(run(command, run_dir, tmp_path / "new.csv"))
        quiet = ok(run(command, run_dir, tmp_path / "new.csv", flag))
        assert "Note:" in loud.stderr and quiet.stderr == ""
        assert quiet.stdout == loud.stdout


def test_missing_mean_fills_with_the_training_means(tmp_path):
    holes = {(i, 0): "NA" for i in range(0, 240, 9)} | {(i, 1): "?" for i in range(4, 240, 11)}
    holes[(5, 3)] = ""  # a row without a target is not trained on: its size must not count
    rows = with_missing(ROWS, holes)
    rows[5][0] = "1000"
    write_rows(tmp_path / "train.csv", HEADER, rows)
    cfg = write_config(
        tmp_path / "c.yaml", "train.csv", [5, 8, 2], target="label", missing="mean", validation=0.25
    )
    run_dir = fit_cli(cfg)
    model = load_model(run_dir)
    enc = model.encoding
    assert enc.missing == "mean"
    # the fills are the training rows' statistics (the split's training part, rows with a target)
    rd = load_run_data(load_config(cfg))
    train = rd.train.table
    has_target = np.char.strip(train.y) != ""
    size = train.column(0)[has_target]
    size = np.array([float(v) for v in size if v != "NA"])
    col = {c.name: c for c in enc.columns}
    assert col["size"].fill == pytest.approx(size.mean(), rel=1e-12)
    assert 1000.0 not in size
    colors = Counter(v for v in train.column(1)[has_target] if v != "?")
    assert col["color"].fill == colors.most_common(1)[0][0]
    # and the same as fit_encoding computes on those rows (what training used)
    assert rd.encoding.columns[0].fill == col["size"].fill

    # predict fills a missing value exactly as training did
    probe = [["NA", "green", "0.250", ""], ["0.500", "?", "-1.000", ""]]
    filled = [[repr(col["size"].fill), "green", "0.250", ""], ["0.500", col["color"].fill, "-1.000", ""]]
    write_rows(tmp_path / "holes.csv", HEADER, probe)
    write_rows(tmp_path / "filled.csv", HEADER, filled)
    got = predict_rows(run_dir, tmp_path / "holes.csv", "--proba")
    assert got == predict_rows(run_dir, tmp_path / "filled.csv", "--proba")
    assert all(row[0] in ("yes", "no") for row in got[1:])


# -- categorical columns --------------------------------------------------------------------------


def test_text_column_is_one_hot_encoded(tmp_path):
    write_rows(tmp_path / "train.csv", HEADER, ROWS)
    cfg = write_config(tmp_path / "c.yaml", "train.csv", [3, 8, 2], target="label")
    # the input size is numeric columns + categories: 2 + 3, and the error says so
    r = run("fit", cfg, "-o", tmp_path / "run")
    assert_error(r, "train.csv", "5 inputs", "'color' (3 categories)", "set it to 5")
    run_dir = fit_cli(cfg, "network.layers=[5, 8, 2]")
    model = load_model(run_dir)
    enc = model.encoding
    assert model.network.sizes[0] == 5 == enc.n_inputs
    kinds = {c.name: (c.kind, c.categories) for c in enc.columns}
    assert kinds == {
        "size": ("numeric", None),
        "color": ("categorical", ["blue", "green", "red"]),
        "weight": ("numeric", None),
    }
    assert enc.inputs == ["size", "color=blue", "color=green", "color=red", "weight"]
    # one-hot inputs are not standardized
    np.testing.assert_array_equal(enc.x_mean[1:4], 0)
    np.testing.assert_array_equal(enc.x_scale[1:4], 1)
    info = json.loads(ok(run("info", run_dir, "--json")).stdout)
    assert info["features"] == ["size", "color", "weight"] and info["sizes"][0] == 5
    assert info["columns"][1]["categories"] == ["blue", "green", "red"]
    assert info["missing"] == "error"
    text = ok(run("info", run_dir)).stdout
    assert "categorical, 3 categories: blue, green, red" in text and "missing values" in text
    # the colour matters, and the model learnt it
    r = ok(run("evaluate", run_dir, tmp_path / "train.csv", "--json"))
    assert json.loads(r.stdout)["accuracy"] > 0.9


def test_unseen_category_is_an_error_or_all_zeros(tmp_path):
    run_dir = animals_run(tmp_path)
    write_rows(tmp_path / "new.csv", HEADER, [ROWS[0], ["0.500", "purple", "-1.250", "yes"]])
    for command in ("predict", "evaluate"):
        r = run(command, run_dir, tmp_path / "new.csv")
        assert_error(r, "new.csv:3", "'color'", "'purple'", "--unknown ignore")
    r = ok(run("predict", run_dir, tmp_path / "new.csv", "--proba", "--unknown", "ignore"))
    got = read_csv(r.stdout)
    assert len(got) == 3
    # the unseen colour's one-hot block is all zeros: the model's forward on that input by hand
    model = load_model(run_dir)
    enc = model.encoding
    raw = np.zeros((1, enc.n_inputs))
    raw[0, enc.inputs.index("size")] = 0.5
    raw[0, enc.inputs.index("weight")] = -1.25
    s = model.forward(enc.scale(raw, model.network.dtype))
    p = enc.probabilities(s)[0]
    assert [float(v) for v in got[2][1:]] == pytest.approx(p.tolist(), rel=1e-6, abs=1e-7)
    assert got[2][0] == enc.decode(s)[0]
    # a known colour's block is not zero: the answers differ from the zeroed one
    known = predict_rows(run_dir, tmp_path / "new.csv", "--proba", "--unknown", "ignore")[1]
    assert known == predict_rows(run_dir, write_rows(tmp_path / "one.csv", HEADER, [ROWS[0]]), "--proba")[1]
    r = ok(run("evaluate", run_dir, tmp_path / "new.csv", "--json", "--unknown", "ignore"))
    assert json.loads(r.stdout)["n"] == 2
    r = run("predict", run_dir, tmp_path / "new.csv", "--unknown", "skip")
    assert_error(r, "--unknown", "'skip'", "error, ignore")


def test_numeric_column_with_a_stray_word_is_an_error_not_a_category(tmp_path):
    rows = with_missing(ROWS, {(41, 0): "abc"})
    write_rows(tmp_path / "train.csv", HEADER, rows)
    cfg = write_config(tmp_path / "c.yaml", "train.csv", [5, 8, 2], target="label")
    r = run("fit", cfg, "-o", tmp_path / "run")
    assert_error(r, "train.csv:43:", "'size'", "'abc'", "not a number", "data.categorical")
    # with missing: drop or mean the word is still no missing value
    for policy in ("drop", "mean"):
        assert_error(run("fit", cfg, "--set", f"data.missing={policy}", "-o", tmp_path / "run"), "'abc'")
    assert not (tmp_path / "run").exists()


def test_categorical_list_makes_a_numeric_looking_column_categorical(tmp_path):
    header = ["zone", "size", "label"]
    rng = np.random.default_rng(3)
    rows = []
    for i in range(180):
        zone, size = i % 3 + 1, rng.normal()
        rows.append([str(zone), f"{size:.3f}", "a" if (zone == 2) != (size > 0) else "b"])
    write_rows(tmp_path / "train.csv", header, rows)
    cfg = write_config(tmp_path / "c.yaml", "train.csv", [4, 8, 2], target="label", categorical=["zone"])
    run_dir = fit_cli(cfg, "training.epochs=40")
    enc = load_model(run_dir).encoding
    assert enc.columns[0].kind == "categorical" and enc.columns[0].categories == ["1", "2", "3"]
    assert enc.columns[1].kind == "numeric"
    r = ok(run("evaluate", run_dir, tmp_path / "train.csv", "--json"))
    assert json.loads(r.stdout)["accuracy"] > 0.9  # zone 2 flips the rule: needs the one-hot
    # auto leaves it numeric: 2 inputs
    r = run("fit", cfg, "--set", "data.categorical=auto", "-o", tmp_path / "auto")
    assert_error(r, "2 inputs", "set it to 2")
    # a zone training never saw
    write_rows(tmp_path / "new.csv", header, [["4", "0.1", "a"]])
    assert_error(run("predict", run_dir, tmp_path / "new.csv"), "'zone'", "'4'")
    # a list naming no column
    r = run("fit", cfg, "--set", "data.categorical=[zonee]", "-o", tmp_path / "bad")
    assert_error(r, "'zonee'", "did you mean 'zone'")


# -- CSV dialects ---------------------------------------------------------------------------------


DIALECTS = {
    "semicolon": {"delimiter": ";"},
    "tab": {"delimiter": "\t"},
    "pipe": {"delimiter": "|"},
    "crlf": {"newline": "\r\n"},
    "bom": {"bom": True},
    "blank-tail": {"tail": "\n\n   \n\n"},
    "bom-semicolon-crlf-tail": {"delimiter": ";", "newline": "\r\n", "bom": True, "tail": "\r\n\r\n"},
}


@pytest.fixture(scope="module")
def comma_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("comma")
    write_rows(folder / "train.csv", HEADER, ROWS)
    cfg = write_config(folder / "c.yaml", "train.csv", [5, 8, 2], target="label")
    return load_model(fit_cli(cfg))


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_dialects_sniffed_give_the_same_model(tmp_path, comma_model, dialect):
    write_rows(tmp_path / "train.csv", HEADER, ROWS, **DIALECTS[dialect])
    cfg = write_config(tmp_path / "c.yaml", "train.csv", [5, 8, 2], target="label")
    model = load_model(fit_cli(cfg))
    assert model.encoding.features == ["size", "color", "weight"]  # no BOM or \r in a name
    assert model.encoding.classes == ["no", "yes"]  # no \r in a label
    assert same_weights(model, comma_model)
    # predict reads the same dialect
    got = predict_rows(tmp_path / "run", tmp_path / "train.csv")
    assert len(got) == 241


def test_delimiter_given_explicitly(tmp_path):
    # commas inside unquoted fields split every line into 3 as well: the sniffer prefers the
    # semicolon (commas beside semicolons are decimal commas or text); data.delimiter says what
    # is meant when that guess is wrong
    text = "code,kind,group;size;label\n" + "".join(
        f"{'a,b,c' if i % 2 else 'd,e,f'};{i / 10:.1f};{'x' if i % 2 else 'y'}\n" for i in range(40)
    )
    (tmp_path / "train.csv").write_text(text)
    assert read_table("train.csv").features == ["code,kind,group", "size"]  # sniffed: ';'
    assert read_table("train.csv", delimiter=",").features == ["code", "kind"]
    t = read_table("train.csv", "label", delimiter=";")
    assert t.features == ["code,kind,group", "size"] and set(t.y) == {"x", "y"}
    cfg = write_config(tmp_path / "c.yaml", "train.csv", [3, 4, 2], target="label", delimiter=";")
    model = load_model(fit_cli(cfg))
    assert model.encoding.columns[0].categories == ["a,b,c", "d,e,f"]
    # the wrong explicit delimiter: one column, so the target is not found
    r = run("fit", cfg, "--set", "data.delimiter=tab", "-o", tmp_path / "bad")
    assert_error(r, "train.csv", "'label'")


def test_quoted_fields_with_delimiters_and_newlines(tmp_path):
    header = ["size", "colour, name", "weight", "label"]
    names = {"red": "red, dark", "green": 'green "lime"', "blue": "blue;\nsky"}
    rows = [[r[0], names[r[1]], r[2], r[3]] for r in ROWS]
    write_rows(tmp_path / "train.csv", header, rows)
    text = (tmp_path / "train.csv").read_text()
    assert '"red, dark"' in text and '"green ""lime"""' in text
    cfg = write_config(tmp_path / "c.yaml", "train.csv", [5, 8, 2], target="label")
    run_dir = fit_cli(cfg)
    enc = load_model(run_dir).encoding
    assert enc.features == ["size", "colour, name", "weight"]
    assert enc.columns[1].categories == sorted(names.values())
    assert len(predict_rows(run_dir, tmp_path / "train.csv")) == 241


def test_headerless_file_addressed_by_index(tmp_path):
    rows = [[r[3], r[0], r[1], r[2]] for r in ROWS]  # the label first
    write_rows(tmp_path / "train.csv", None, rows)
    cfg = write_config(tmp_path / "c.yaml", "train.csv", [5, 8, 2], target=0, header=False)
    run_dir = fit_cli(cfg)
    model = load_model(run_dir)
    assert model.encoding.features == ["1", "2", "3"] and model.encoding.target == "0"
    assert model.encoding.header is False
    assert model.encoding.columns[1].categories == ["blue", "green", "red"]
    # predict on a header-less file, with the target column (the training layout) or without it
    with_target = predict_rows(run_dir, tmp_path / "train.csv")
    write_rows(tmp_path / "inputs.csv", None, [r[1:] for r in rows])
    without = predict_rows(run_dir, tmp_path / "inputs.csv")
    assert with_target == without and len(without) == 241
    truth = [r[0] for r in rows]
    assert np.mean([p[0] == t for p, t in zip(without[1:], truth)]) > 0.9
    # the first data row is data, not a header
    r = ok(run("evaluate", run_dir, tmp_path / "train.csv", "--json"))
    assert json.loads(r.stdout)["n"] == 240
    # by header name there is nothing to find
    cfg2 = write_config(tmp_path / "c2.yaml", "train.csv", [5, 8, 2], target="label", header=False)
    assert_error(run("fit", cfg2, "-o", tmp_path / "bad"), "'label'")


# -- validation data ------------------------------------------------------------------------------


def test_separate_validation_file(tmp_path):
    write_rows(tmp_path / "train.csv", HEADER, ROWS[:180])
    # the same columns in another order, and an id column: matched by name
    write_rows(
        tmp_path / "val.csv",
        ["id", "label", "weight", "color", "size"],
        [[f"r{i}", r[3], r[2], r[1], r[0]] for i, r in enumerate(ROWS[180:])],
    )
    cfg = write_config(
        tmp_path / "c.yaml",
        "train.csv",
        [5, 8, 2],
        target="label",
        validation="val.csv",
        training={"epochs": 3},
    )
    rd = load_run_data(load_config(cfg))
    assert len(rd.train) == 180 and len(rd.validation) == 60
    run_dir = fit_cli(cfg)
    history = [json.loads(line) for line in (run_dir / "history.jsonl").read_text().splitlines()]
    assert len(history) == 3 and all("val_loss" in h and "val_accuracy" in h for h in history)
    assert load_model(run_dir).meta["training"]["n_train"] == 180
    # the validation file must exist; a label training never saw is named
    r = run("fit", cfg, "--set", "data.validation=nope.csv", "-o", tmp_path / "bad")
    assert_error(r, "nope.csv", "not found")
    write_rows(tmp_path / "val2.csv", HEADER, [["0.1", "red", "0.2", "maybe"]])
    r = run("fit", cfg, "--set", "data.validation=val2.csv", "-o", tmp_path / "bad")
    assert_error(r, "val2.csv:2", "'maybe'")


def test_classification_split_is_stratified(tmp_path):
    labels = np.array(["common"] * 180 + ["rare"] * 20)
    np.random.default_rng(0).shuffle(labels)
    rows = [[f"{i / 7:.3f}", lab] for i, lab in enumerate(labels)]
    write_rows(tmp_path / "train.csv", ["x", "label"], rows)
    for seed in range(5):
        cfg = config_from_dict(
            {
                "data": {"train": "train.csv", "target": "label", "validation": 0.2},
                "network": {"layers": [1, 2]},
                "cost": "cross_entropy",
                "training": {"seed": seed},
            }
        )
        rd = load_run_data(cfg)
        val = Counter(rd.validation.table.y.tolist())
        train = Counter(rd.train.table.y.tolist())
        assert val == {"common": 36, "rare": 4}  # 10% of the validation rows, as in the file
        assert train == {"common": 144, "rare": 16}
        assert set(rd.train.table.lines) | set(rd.validation.table.lines) == set(range(2, 202))
    # the split itself: each class gives its share; a class of one row stays in training
    y = np.array(["a"] * 90 + ["b"] * 10 + ["c"])
    t_idx, v_idx = split_indices(len(y), 0.3, stream_rng(0, 1), y)
    assert Counter(y[v_idx].tolist()) == {"a": 27, "b": 3}
    assert len(set(t_idx) | set(v_idx)) == len(y) and not set(t_idx) & set(v_idx)
    # without labels (regression) a plain random split
    t_idx, v_idx = split_indices(100, 0.3, stream_rng(0, 1))
    assert len(v_idx) == 30 and len(t_idx) == 70


def trained_model(tmp_path, data: dict, layers: list, training: dict):
    """A small tanh/softmax cross-entropy network fitted on the config's ``data`` section into
    tmp_path/run, loaded back from its model file."""
    config = config_from_dict(
        {
            "data": data,
            "network": {"layers": layers, "activation": "tanh"},
            "cost": "cross_entropy",
            "training": training,
            "output": str(tmp_path / "run"),
        }
    )
    fit(config)
    return load_model(tmp_path / "run")


# -- streamed .npy --------------------------------------------------------------------------------

N_STREAM = 3000


def stream_matrix(n=N_STREAM, seed=0, nan_rows=()):
    """(n, 5) float32: four features and a 0/1 label that a small net learns."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    y = (X[:, 0] - 0.5 * X[:, 1] + 0.25 * X[:, 2] > 0).astype(np.float32)
    M = np.column_stack([X, y]).astype(np.float32)
    for i, j in nan_rows:
        M[i, j] = np.nan
    return M


@pytest.fixture
def small_stream(monkeypatch):
    """Stream every .npy over 10 kB, in chunks of about 8 kB (several chunks per epoch)."""
    monkeypatch.setattr(stream, "STREAM_BYTES", 10_000)
    monkeypatch.setattr(stream, "CHUNK_BYTES", 8_000)


def test_a_streamed_chunk_left_empty_by_missing_drop_is_skipped(tmp_path, small_stream):
    """The last chunk (of 400 rows) holds one row, whose target is missing: under missing: drop nothing of it
    is left, which the regression target's scaling took for an error (internal ValueError)."""
    M = stream_matrix(801, nan_rows=[(800, 4)])
    np.save(tmp_path / "m.npy", M)
    cfg = config_from_dict(
        {
            "data": {"train": str(tmp_path / "m.npy"), "missing": "drop"},
            "network": {"layers": [4, 8, 1], "activation": "tanh"},
            "training": {"epochs": 2, "batch_size": 32},
            "output": str(tmp_path / "run"),
        }
    )
    assert isinstance(load_run_data(cfg).train, StreamedDataset)
    result = fit(cfg)
    assert result.summary["n_train"] == 800 and math.isfinite(result.history[-1]["loss"])


def stream_config(path, **data):
    training = data.pop("training", {})
    return config_from_dict(
        {
            "data": {"train": str(path), **data},
            "network": {"layers": [4, 8, 2], "activation": "tanh"},
            "cost": "cross_entropy",
            "training": {"learning_rate": 0.3, "epochs": 4, "batch_size": 32, "seed": 1, **training},
            "output": "run",
        }
    )


def test_streamed_npy_trains(tmp_path, small_stream):
    M = stream_matrix()
    np.save(tmp_path / "big.npy", M)
    cfg = stream_config(tmp_path / "big.npy", validation=0.1)
    rd = load_run_data(cfg)
    assert isinstance(rd.train, StreamedDataset)
    assert rd.train.chunk_rows == 8_000 // 20 and math.ceil(N_STREAM / rd.train.chunk_rows) >= 7
    assert any("streaming" in note for note in rd.notes)
    assert len(rd.train) + len(rd.validation) == N_STREAM
    result = fit(cfg, save=False)
    assert result.history[-1]["val_accuracy"] > 0.93
    model = result.model
    pred = model.predict(M[:, :4])
    assert np.mean(pred.astype(float) == M[:, 4]) > 0.93
    # same seed: the same model, bit for bit
    assert same_weights(model, fit(cfg, save=False).model)
    assert not same_weights(
        model,
        fit(stream_config(tmp_path / "big.npy", validation=0.1, training={"seed": 2}), save=False).model,
    )


def test_streamed_epoch_visits_every_training_row_once(tmp_path, small_stream, monkeypatch):
    M = stream_matrix(2500)
    M[:, 3] = np.arange(len(M))  # a row id in the inputs (standardize off keeps it exact)
    np.save(tmp_path / "ids.npy", M)
    cfg = stream_config(tmp_path / "ids.npy", validation=0.2, standardize=False, training={"epochs": 3})
    seen: list[list[int]] = []
    original = StreamedDataset.batches

    def counting(self, rng, device):
        ids: list[int] = []
        seen.append(ids)
        for xb, yb, sw in original(self, rng, device):
            assert len(xb) == len(yb) <= 32 and sw is None
            ids += to_host(xb)[:, 3].astype(np.int64).tolist()  # (on a GPU machine, a device batch)
            yield xb, yb, sw

    monkeypatch.setattr(StreamedDataset, "batches", counting)
    result = fit(cfg, save=False)
    is_val = load_run_data(cfg).train.is_val
    train_rows = sorted(np.flatnonzero(~is_val).tolist())
    assert len(train_rows) == 2000 and result.summary["n_train"] == 2000
    assert len(seen) == 3
    for ids in seen:
        assert sorted(ids) == train_rows  # every training row once, no validation row
    assert seen[0] != seen[1]  # shuffled differently each epoch


@pytest.mark.parametrize("policy", ["error", "drop", "mean"])
def test_streamed_missing_values(tmp_path, small_stream, policy):
    nan_rows = [(7, 0), (7, 2), (450, 1), (2999, 3)]
    M = stream_matrix(nan_rows=nan_rows)
    np.save(tmp_path / "holes.npy", M)
    cfg = stream_config(tmp_path / "holes.npy", missing=policy)
    if policy == "error":
        with pytest.raises(DataError, match=r"holes\.npy row 7: .*missing"):
            load_run_data(cfg)
        return
    rd = load_run_data(cfg)
    complete = ~np.isnan(M).any(axis=1)
    if policy == "drop":
        assert len(rd.train) == complete.sum() == N_STREAM - 3
    else:
        assert len(rd.train) == N_STREAM
        fills = [c.fill for c in rd.encoding.columns]
        np.testing.assert_allclose(fills, np.nanmean(M[:, :4].astype(np.float64), axis=0), rtol=1e-10)
    # the same statistics as the in-memory encoding of the same rows
    table = read_table(str(tmp_path / "holes.npy"))
    enc = fit_encoding(table, "classification", "cross_entropy", 2, True, missing=policy)
    np.testing.assert_allclose(rd.encoding.x_mean, enc.x_mean, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(rd.encoding.x_scale, enc.x_scale, rtol=1e-9)
    if policy == "mean":
        assert [c.fill for c in rd.encoding.columns] == pytest.approx(
            [c.fill for c in enc.columns], rel=1e-12
        )
    result = fit(cfg)
    assert np.isfinite(result.history[-1]["loss"])
    # predict and evaluate read the same file (the target column left out by position)
    r = ok(run("predict", "run", tmp_path / "holes.npy"))
    got = read_csv(r.stdout)
    assert len(got) == N_STREAM + 1
    empty = [i for i, row in enumerate(got[1:]) if row == [""]]
    assert empty == ([] if policy == "mean" else [7, 450, 2999])
    accuracy = np.mean([float(row[0]) == y for row, y in zip(got[1:], M[:, 4]) if row != [""]])
    assert accuracy > 0.9
    r = ok(run("evaluate", "run", tmp_path / "holes.npy", "--json"))
    report = json.loads(r.stdout)
    assert report["n"] == (N_STREAM if policy == "mean" else N_STREAM - 3)
    assert report["accuracy"] > 0.9


@pytest.mark.parametrize("policy", ["error", "mean"])
def test_streamed_statistics_survive_a_large_offset(tmp_path, small_stream, policy):
    """A column (and a regression target) of 1e7 + small noise: the streamed scale is the
    in-memory one (a one-pass sum of squares would cancel to nonsense)."""
    rng = np.random.default_rng(0)
    n = 2000
    M = np.column_stack(
        [1e7 + 0.05 * rng.standard_normal(n), rng.standard_normal(n), 1e8 + rng.standard_normal(n)]
    )
    if policy == "mean":
        M[[3, 700], 0] = np.nan
    np.save(tmp_path / "offset.npy", M)
    cfg = config_from_dict(
        {"data": {"train": str(tmp_path / "offset.npy"), "missing": policy}, "network": {"layers": [2, 1]}}
    )
    rd = load_run_data(cfg)
    assert isinstance(rd.train, StreamedDataset)
    enc = fit_encoding(read_table(str(tmp_path / "offset.npy")), "regression", "mse", 1, True, missing=policy)
    for key in ("x_mean", "x_scale", "y_mean", "y_scale"):
        np.testing.assert_allclose(getattr(rd.encoding, key), getattr(enc, key), rtol=1e-6, err_msg=key)
    assert 0.04 < rd.encoding.x_scale[0] < 0.06 and 0.9 < rd.encoding.y_scale[0] < 1.1


def test_streamed_validation_file_and_shapes(tmp_path, small_stream):
    M = stream_matrix()
    np.save(tmp_path / "big.npy", M)
    np.save(tmp_path / "val.npy", stream_matrix(200, seed=5))
    rd = load_run_data(stream_config(tmp_path / "big.npy", validation=str(tmp_path / "val.npy")))
    assert len(rd.train) == N_STREAM and len(rd.validation) == 200
    with pytest.raises(DataError, match="set it to 4"):
        load_run_data(
            config_from_dict(
                {
                    "data": {"train": str(tmp_path / "big.npy")},
                    "network": {"layers": [3, 2]},
                    "cost": "cross_entropy",
                }
            )
        )
    with pytest.raises(DataError, match="2 classes but the network has 3 outputs"):
        load_run_data(
            config_from_dict(
                {
                    "data": {"train": str(tmp_path / "big.npy")},
                    "network": {"layers": [4, 3]},
                    "cost": "cross_entropy",
                }
            )
        )


MEMORY_SCRIPT = textwrap.dedent(
    """
    import resource, subprocess, sys
    r = subprocess.run([sys.executable, "-m", "nettrain", "fit", sys.argv[1], "--quiet"])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    print(r.returncode, peak)
    """
)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux")
def test_streamed_fit_memory_stays_far_below_the_file(tmp_path):
    """A ~300 MB float32 .npy (over the default STREAM_BYTES) trains in well under its size."""
    rows, cols = 1_500_000, 51
    path = tmp_path / "big.npy"
    M = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, cols))
    rng = np.random.default_rng(0)
    for a in range(0, rows, 100_000):
        X = rng.normal(size=(min(100_000, rows - a), cols - 1)).astype(np.float32)
        M[a : a + len(X), :-1] = X
        M[a : a + len(X), -1] = X[:, 0] + X[:, 1] > 0
    M.flush()
    del M
    size = path.stat().st_size
    assert size > stream.STREAM_BYTES
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "data": {"train": "big.npy", "validation": 0.01},
                "network": {"layers": [cols - 1, 16, 2]},
                "cost": "cross_entropy",
                "training": {"epochs": 1, "batch_size": 256, "learning_rate": 0.1},
                "output": "run",
            }
        )
    )
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, str(cfg)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    status, peak_kib = map(int, out.stdout.split())
    assert status == 0, out.stderr
    peak = peak_kib * 1024
    print(f"\npeak RSS of fit on a {size / 2**20:.0f} MiB .npy: {peak / 2**20:.0f} MiB")
    assert peak < 0.5 * size + 150 * 2**20
    model = load_model(tmp_path / "run")
    assert model.meta["training"]["val_accuracy"] > 0.95


# -- properties -----------------------------------------------------------------------------------

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

yaml_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=True)
    | st.text(max_size=6)
    | st.sampled_from(
        ["auto", "none", "drop", "mean", "error", "tab", "\\t", ";", ",", "|", '"', "\n", "1", "yes"]
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=2),
    max_leaves=6,
)


@FUZZ
@given(
    values=st.fixed_dictionaries(
        {},
        optional={k: yaml_values for k in ("missing", "categorical", "delimiter", "header")},
    )
)
def test_arbitrary_data_keys_load_or_raise_config_error(tmp_path, values):
    """Any YAML value for data.missing / categorical / delimiter / header: a valid config or a
    ConfigError naming the key, never another exception."""
    raw = {"data": {"train": "t.csv", **values}, "network": {"layers": [2, 1]}}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        assert all(p for p in exc.problems)
        assert any(f"data.{k}" in str(exc) for k in values), str(exc)
        return
    d = cfg.data
    assert d.missing in ("error", "drop", "mean")
    assert d.categorical == "auto" or isinstance(d.categorical, tuple)
    assert d.delimiter is None or (len(d.delimiter) == 1 and d.delimiter not in '"\r\n')
    assert isinstance(d.header, bool)
    # the resolved config loads again to the same values
    again = tmp_path / "again.yaml"
    again.write_text(cfg.to_yaml())
    assert load_config(again).data == d


def test_decimal_commas_in_a_semicolon_file(tmp_path):
    """Spreadsheets in many locales export '1,5' with ';' between fields: those are numbers."""
    from nettrain.data import read_table

    path = tmp_path / "eu.csv"
    path.write_text("a;b;label\n1,5;2;x\n-0,25;3,75;y\n4;NA;x\n")
    t = read_table(str(path), "label")
    assert t.column(0).tolist() == ["1.5", "-0.25", "4"]
    assert t.column(1).tolist() == ["2", "3.75", "NA"]
    # a comma-separated file keeps its (quoted) commas: there '1,500' may be a thousands separator
    path2 = tmp_path / "us.csv"
    path2.write_text('a,label\n"1,500",x\n2,y\n')
    assert read_table(str(path2), "label").column(0).tolist() == ["1,500", "2"]


def test_a_file_without_its_header_gets_a_hint(tmp_path):
    """A model trained with a header, given rows without one: say so, not 64 missing columns."""
    from nettrain.cli import app
    from tests.helpers import CliRunner

    run = tmp_path / "run"
    from tests.conftest import CONFIGS, DATA

    r = CliRunner().invoke(
        app, ["fit", str(CONFIGS / "digits.yaml"), "-o", str(run), "-q", "--set", "training.epochs=1"]
    )
    assert r.exit_code == 0, r.stderr
    rows = (DATA / "digits_test.csv").read_text().splitlines()[1:6]
    (tmp_path / "nohdr.csv").write_text("\n".join(rows) + "\n")
    r = CliRunner().invoke(app, ["predict", str(run), str(tmp_path / "nohdr.csv")])
    assert r.exit_code == 2
    assert "looks like data, not a header" in r.stderr and "add a header row" in r.stderr


def test_streamed_values_too_large_to_standardize(tmp_path, monkeypatch):
    import nettrain.data.stream as stream
    from nettrain import config_from_dict, fit
    from nettrain.errors import DataError

    monkeypatch.setattr(stream, "STREAM_BYTES", 100)
    X = np.ones((50, 3))
    X[:, 1] = np.linspace(-1e200, 1e200, 50)
    np.save(tmp_path / "huge.npy", np.column_stack([X, np.arange(50.0)]))
    cfg = config_from_dict({"data": {"train": str(tmp_path / "huge.npy")}, "network": {"layers": [3, 2, 1]}})
    with pytest.raises(DataError, match="column 1 holds values too large to standardize"):
        fit(cfg, save=False)


def test_numeric_looking_categories_keep_their_text_whichever_reader_runs(tmp_path):
    """A column named categorical keeps its labels as written: '02134' stays '02134' (not the
    number 2134), and '0.10' and '0.1' stay two categories, in training and in prediction, for
    a clean file (the fast numeric reader) and a quoted one (the careful reader) alike."""
    from nettrain.data import read_for_model

    rows = [("02134", "0.10", 1, "a"), ("10001", "0.1", 2, "b"), ("94105", "0.10", 3, "a")] * 4
    train = tmp_path / "train.csv"
    train.write_text("zip,code,x,y\n" + "".join(f"{z},{c},{x},{y}\n" for z, c, x, y in rows))
    model = trained_model(
        tmp_path,
        {"train": str(train), "target": "y", "categorical": ["zip", "code"]},
        [6, 4, 2],
        {"epochs": 3, "batch_size": 4},
    )
    categories = {c.name: c.categories for c in model.encoding.columns}
    assert categories["zip"] == ["02134", "10001", "94105"]
    assert categories["code"] == ["0.1", "0.10"]
    clean = tmp_path / "clean.csv"
    clean.write_text("zip,code,x\n02134,0.10,1\n10001,0.1,2\n")
    quoted = tmp_path / "quoted.csv"
    quoted.write_text('zip,code,x\n"02134",0.10,1\n10001,"0.1",2\n')
    outputs = [
        model.outputs(read_for_model(str(p), model.encoding, need_target=False)) for p in (clean, quoted)
    ]
    np.testing.assert_array_equal(outputs[0], outputs[1])


def test_a_model_trained_on_an_array_takes_csv_inputs_by_position(tmp_path):
    """README: a model trained on NPY data matches inputs by position: a CSV without a header,
    one with any header, and one that still holds the target column where training had it all
    give the same predictions; evaluate reads the target from that column."""
    from nettrain.data import read_for_model

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(float)
    np.save(tmp_path / "train.npy", np.column_stack([X, y]))
    model = trained_model(
        tmp_path, {"train": str(tmp_path / "train.npy")}, [2, 4, 2], {"epochs": 5, "batch_size": 16}
    )
    files = {
        "bare.csv": "0.5,0.5\n-1,-1\n",
        "named.csv": "x1,x2\n0.5,0.5\n-1,-1\n",
        "with_target.csv": "x1,x2,ok\n0.5,0.5,1\n-1,-1,0\n",
    }
    outputs = []
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        outputs.append(model.outputs(read_for_model(str(tmp_path / name), model.encoding, need_target=False)))
    for other in outputs[1:]:
        np.testing.assert_array_equal(other, outputs[0])
    labelled = read_for_model(str(tmp_path / "with_target.csv"), model.encoding, need_target=True)
    assert labelled.n == 2 and [float(v) for v in labelled.y] == [1.0, 0.0]


def test_streamed_validation_split_is_stratified_as_in_memory(tmp_path, small_stream):
    """A big .npy's validation fraction is stratified by class, like the in-memory split: the
    same rows go to validation (same seed), and a rare class keeps rows in training."""
    from nettrain.data import split_indices, stream_rng

    M = stream_matrix()
    M[:, 4] = 0.0
    M[:10, 4] = 2.0  # a rare class of 10 rows
    M[10:1500, 4] = 1.0
    np.save(tmp_path / "big.npy", M)
    cfg = config_from_dict(
        {
            "data": {"train": str(tmp_path / "big.npy"), "validation": 0.2},
            "network": {"layers": [4, 8, 3], "activation": "tanh"},
            "cost": "cross_entropy",
            "training": {"epochs": 1, "batch_size": 32, "seed": 4},
        }
    )
    rd = load_run_data(cfg)
    assert isinstance(rd.train, StreamedDataset)
    _, expected = split_indices(len(M), 0.2, stream_rng(4, 1), M[:, 4].astype(np.float64))
    assert np.array_equal(np.flatnonzero(rd.train.is_val), expected)
    val_labels = rd.validation.Y.argmax(axis=1)
    assert sorted(Counter(val_labels.tolist()).values()) == [2, 298, 300]  # 20% of 10, 1490, 1500


@pytest.mark.parametrize("dtype", ["float32", "float64", "int16"])
def test_streamed_class_names_are_the_in_memory_ones(tmp_path, monkeypatch, dtype):
    """A float32 label 0.1 is class '0.1' whether the file streams or is read whole (streaming
    named it '0.10000000149011612', its float64 value)."""
    M = stream_matrix().astype(dtype)
    M[:, 4] = np.array([0.1, 0.25, 3.0], dtype=dtype)[np.arange(len(M)) % 3]
    np.save(tmp_path / "big.npy", M)
    cfg = config_from_dict(
        {
            "data": {"train": str(tmp_path / "big.npy")},
            "network": {"layers": [4, 8, "auto"], "activation": "tanh"},
            "cost": "cross_entropy",
        }
    )
    whole = load_run_data(cfg).encoding.classes
    monkeypatch.setattr(stream, "STREAM_BYTES", 10_000)
    monkeypatch.setattr(stream, "CHUNK_BYTES", 8_000)
    streamed = load_run_data(cfg)
    assert isinstance(streamed.train, StreamedDataset)
    assert streamed.encoding.classes == whole == label_text(np.unique(M[:, 4])).tolist()
    if dtype == "float32":
        assert whole == ["0.1", "0.25", "3"]


def test_a_decimal_comma_target_beside_dot_decimal_features(tmp_path):
    """README: decimal-comma columns of a ';' file are numbers, the target too, whichever reader
    runs (the fast one read the target as text and refused '-0,825')."""
    from nettrain.data import read_table

    path = tmp_path / "dc.csv"
    path.write_text("a;b;y\n1.5;2;-0,825\n2.5;1;0,5\n")
    table = read_table(str(path), "y")
    assert table.y.tolist() == ["-0.825", "0.5"]


def test_dry_run_on_a_streamed_npy(tmp_path, small_stream):
    from nettrain.cli import app
    from tests.helpers import CliRunner

    np.save(tmp_path / "big.npy", stream_matrix())
    config = tmp_path / "c.yaml"
    config.write_text(
        f"data: {{train: {tmp_path / 'big.npy'}, validation: 0.1}}\n"
        "network: {layers: [4, 8, 2], activation: tanh}\ncost: cross_entropy\n"
    )
    r = CliRunner().invoke(app, ["fit", str(config), "--dry-run"])
    assert r.exit_code == 0, r.stderr
    assert f"train {N_STREAM - 300} rows (streamed), validation 300" in r.stderr


def test_a_category_only_in_the_validation_part_does_not_stop_the_fit(tmp_path):
    """A rare category that the split sends to validation only is encoded as all zeros there,
    with a note (the fit failed, and its advice named an option fit does not have)."""
    rows = [("red", 1.0, "a"), ("blue", 2.0, "b")] * 20 + [("purple", 3.0, "a")]
    path = tmp_path / "cat.csv"
    path.write_text("color,x,y\n" + "".join(f"{c},{x},{y}\n" for c, x, y in rows))
    test = tmp_path / "test.csv"
    test.write_text("color,x,y\nred,1,a\ngreen,2,b\n")
    config = config_from_dict(
        {
            "data": {"train": str(path), "target": "y", "validation": str(test), "test": str(test)},
            "network": {"layers": [4, 4, 2], "activation": "tanh"},
            "cost": "cross_entropy",
            "training": {"epochs": 2, "batch_size": 8},
        }
    )
    rd = load_run_data(config)
    notes = [n for n in rd.notes if "training never saw" in n]
    assert len(notes) == 2 and all("'green'" in n for n in notes)
    assert rd.validation.X[1, :3].tolist() == [0.0, 0.0, 0.0]  # green: no known color
    result = fit(config, save=False)
    assert np.isfinite(result.history[-1]["val_loss"])


def test_an_array_trained_run_reads_its_csv_validation_and_test_files_by_position(tmp_path):
    """data.validation and data.test given as CSV files next to an NPY training file are read
    by position, with or without a header (they were matched by name and refused)."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((120, 2))
    y = X[:, 0] - X[:, 1]
    np.save(tmp_path / "train.npy", np.column_stack([X, y]))
    rows = "".join(f"{a},{b},{a - b}\n" for a, b in rng.standard_normal((20, 2)))
    (tmp_path / "named.csv").write_text("x1,x2,y\n" + rows)
    (tmp_path / "bare.csv").write_text(rows)
    config = config_from_dict(
        {
            "data": {
                "train": str(tmp_path / "train.npy"),
                "validation": str(tmp_path / "named.csv"),
                "test": str(tmp_path / "bare.csv"),
            },
            "network": {"layers": [2, 4, 1], "activation": "tanh"},
            "cost": "mse",
            "training": {"epochs": 2, "batch_size": 16},
        }
    )
    rd = load_run_data(config)
    assert len(rd.validation) == len(rd.test) == 20
    np.testing.assert_allclose(rd.validation.X, rd.test.X)
    result = fit(config, save=False)
    assert math.isfinite(result.summary["test_r2"])


def test_the_note_on_left_out_rows_says_why(tmp_path):
    """Under missing: mean only a row without a target is left out, and the note says that,
    not 'data.missing: drop'."""
    path = tmp_path / "m.csv"
    path.write_text("a,b,y\n1,2,3\n2,,4\n3,4,\n4,5,6\n5,6,7\n")
    for policy, why in (("mean", "a missing target cannot be filled"), ("drop", "data.missing: drop")):
        config = config_from_dict(
            {
                "data": {"train": str(path), "target": "y", "missing": policy},
                "network": {"layers": [2, 1]},
                "cost": "mse",
            }
        )
        notes = [n for n in load_run_data(config).notes if "left out" in n]
        assert len(notes) == 1 and why in notes[0], notes


def test_messages_about_rows_of_an_array_name_the_file_row(tmp_path):
    """After a validation split, a row of an NPY file is named by its row in the file (it was
    its index within the split part)."""
    M = np.zeros((40, 3))
    M[:, 0] = np.arange(40)
    M[:, 2] = np.arange(40) % 2
    M[37, 1] = np.nan  # the one bad cell, in file row 37
    np.save(tmp_path / "m.npy", M)
    config = config_from_dict(
        {
            "data": {"train": str(tmp_path / "m.npy"), "validation": 0.25},
            "network": {"layers": [2, 2]},
            "cost": "cross_entropy",
        }
    )
    with pytest.raises(DataError, match=r"m\.npy row 37\b"):
        load_run_data(config)


def test_arrays_given_to_fit_must_match_the_config(tmp_path):
    """RunData.from_arrays takes 1-D class numbers for cross_entropy (one-hot encoded), and fit
    refuses arrays that do not fit the network (a (n, 1) target for a softmax of 2 trained on
    garbage before), with the size to set."""
    from nettrain.data import RunData

    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 4))
    labels = (X[:, 0] > 0).astype(int)
    config = config_from_dict(
        {
            "network": {"layers": [4, 8, 2], "activation": "tanh"},
            "cost": "cross_entropy",
            "training": {"epochs": 20, "learning_rate": 0.1},
        }
    )
    data = RunData.from_arrays(X, labels, "cross_entropy")
    assert data.train.Y.shape == (300, 2)
    model = fit(config, data=data, save=False).model
    assert np.mean(model.predict(X).astype(int) == labels) > 0.95
    with pytest.raises(DataError, match="set it to 3"):
        fit(config, data=RunData.from_arrays(X[:, :3], labels, "cross_entropy"), save=False)
    with pytest.raises(DataError, match="set the last of network.layers to 3"):
        fit(config, data=RunData.from_arrays(X, np.eye(3)[labels], "cross_entropy"), save=False)
    with pytest.raises(ConfigError, match="made for cost mse"):
        fit(config, data=RunData.from_arrays(X, labels[:, None], "mse"), save=False)
    for bad_x, bad_y, cost in (
        (X[0], labels[:1], "cross_entropy"),
        (X, labels[:5], "mse"),
        (X, labels, "msee"),
    ):
        with pytest.raises((DataError, ConfigError)):
            RunData.from_arrays(bad_x, bad_y, cost)


def test_model_predict_refuses_what_it_cannot_answer(tmp_path):
    """NaN, values too large for the network and matrices of the wrong shape are DataErrors
    (a NaN row got label '0', and NumPy printed warnings)."""
    import warnings

    from nettrain.data import RunData

    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 3))
    config = config_from_dict(
        {"network": {"layers": [3, 4, 2]}, "cost": "cross_entropy", "training": {"epochs": 2}}
    )
    model = fit(
        config, data=RunData.from_arrays(X, (X[:, 0] > 0).astype(int), "cross_entropy"), save=False
    ).model
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for bad, needle in (
            (np.full((1, 3), np.nan), "missing"),
            (np.full((1, 3), 1e300), "too large"),
            (X[0], "matrix of 3 columns"),
            (X[:, :2], "matrix of 3 columns"),
        ):
            with pytest.raises(DataError, match=needle):
                model.predict(bad)


def test_fit_on_arrays_holds_out_the_configs_validation_fraction():
    """With data given as arrays, the config's data.validation fraction is held out (it was
    silently ignored, and early stopping then said to set what was set)."""
    import pathlib

    from nettrain.data import RunData

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    labels = (X[:, 0] > 0).astype(int)
    config = config_from_dict(
        {
            "data": {"validation": np.float64(0.25), "train": pathlib.Path("unused.csv")},
            "network": {"layers": (np.int64(3), 4, 2)},
            "cost": "cross_entropy",
            "training": {"epochs": 3, "early_stopping": True, "learning_rate": np.float32(0.1)},
        }
    )
    result = fit(config, data=RunData.from_arrays(X, labels, "cross_entropy"), save=False)
    assert "val_loss" in result.history[-1] and result.summary["n_train"] == 150


def test_api_arguments_a_user_can_get_wrong_are_nettrain_errors(tmp_path):
    """Bad names, sizes and options through the Python API raise ConfigError with the allowed
    values (they were KeyError, ValueError or ZeroDivisionError, or silently accepted)."""
    from nettrain.data import read_table
    from nettrain.gradcheck import gradcheck_config
    from nettrain.network import Network
    from tests.conftest import CONFIGS, DATA

    for args, needle in (
        (([4, 3, 1], ["tanhh"], "identity", "mse"), "activation 'tanhh' is not known"),
        (([4, 3, 1], ["tanh"], "identity", "msee"), "cost 'msee' is not known"),
        (([4, 3, 1], ["tanh"], "softmax", "mse"), "takes the output"),
        (([4], [], "identity", "mse"), "two or more whole numbers"),
        (([4, 0, 1], ["tanh"], "identity", "mse"), "two or more whole numbers"),
    ):
        with pytest.raises(ConfigError, match=needle):
            Network.create(*args)
    net = Network.create([4, 3, 3, 1], "tanh", "identity", "mse")  # one name for every hidden layer
    assert net.activation_names == ["tanh", "tanh"]
    model = fit(load_config(CONFIGS / "seed.yaml", overrides="training.epochs=1"), save=False).model
    with pytest.raises(ConfigError, match="unknown='bogus'"):
        model.outputs(read_table(str(DATA / "seed.csv")), unknown="bogus")
    with pytest.raises(ConfigError, match="at least 1 row"):
        gradcheck_config(load_config(CONFIGS / "seed.yaml"), batch=0)


def test_the_public_api_names_what_fit_takes_returns_and_raises(tmp_path):
    import nettrain

    for name in ("RunData", "read_table", "FitResult", "OutputError", "BackendError", "fit", "load_model"):
        assert name in nettrain.__all__ and getattr(nettrain, name) is not None
    result = nettrain.fit(load_config(CONFIGS / "seed.yaml", ["training.epochs=1", f"output={tmp_path}"]))
    assert isinstance(result, nettrain.FitResult)
    model = nettrain.load_model(tmp_path, device="cpu")  # a word, as --device takes it
    assert model.predict(np.zeros((2, 4))).shape == (2,)
    with pytest.raises(nettrain.BackendError, match="not valid"):
        nettrain.load_model(tmp_path, device="tpu")


def test_numeric_column_names_from_a_csv_are_still_names(tmp_path):
    """A CSV-trained model whose header is numbers (pandas writes 0,1,... for unnamed columns)
    matches inputs by name, not position; an array-trained one skips a header of positions."""
    from nettrain.data import read_for_model

    path = tmp_path / "t.csv"
    path.write_text("0,1,label\n" + "".join(f"{i % 3},{(i * 7) % 5},{'ab'[i % 2]}\n" for i in range(40)))
    model = trained_model(tmp_path, {"train": str(path), "target": "label"}, [2, 3, 2], {"epochs": 2})
    (tmp_path / "a.csv").write_text("0,1\n1,2\n2,4\n")
    (tmp_path / "b.csv").write_text("1,0\n2,1\n4,2\n")  # the same rows, columns swapped
    a, b = (
        model.outputs(read_for_model(str(tmp_path / f), model.encoding, need_target=False))
        for f in ("a.csv", "b.csv")
    )
    assert a.shape[0] == 2
    np.testing.assert_array_equal(a, b)


def test_array_trained_model_with_the_target_in_the_middle_and_a_header_of_positions(tmp_path):
    from nettrain.data import read_for_model

    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 3))
    y = (X[:, 0] > 0).astype(float)
    np.save(tmp_path / "t.npy", np.column_stack([X[:, 0], y, X[:, 1:]]))  # target in column 1
    model = trained_model(tmp_path, {"train": str(tmp_path / "t.npy"), "target": 1}, [3, 4, 2], {"epochs": 2})
    files = {"bare.csv": "0.5,0.1,0.2\n-1,0,0\n", "positions.csv": "0,1,2,3\n0.5,1,0.1,0.2\n-1,0,0,0\n"}
    outs = []
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        outs.append(model.outputs(read_for_model(str(tmp_path / name), model.encoding, need_target=False)))
    assert outs[0].shape[0] == 2
    np.testing.assert_array_equal(outs[0], outs[1])
    labelled = read_for_model(str(tmp_path / "positions.csv"), model.encoding, need_target=True)
    assert labelled.n == 2 and [float(v) for v in labelled.y] == [1.0, 0.0]


def test_split_orders_classes_as_text_for_numbers_and_labels_alike():
    """Stratified splits of 12 classes as numbers (a streamed .npy) and as text (a CSV) hold
    out the same rows for the same seed ('10' sorts before '2' as text)."""
    from nettrain.data import label_text

    labels = np.arange(240) % 12
    a = split_indices(240, 0.25, np.random.default_rng(3), labels.astype(np.float64))
    b = split_indices(240, 0.25, np.random.default_rng(3), label_text(labels.astype(np.float64)))
    np.testing.assert_array_equal(a[1], b[1])


def test_number_like_categories_of_older_models_still_match():
    """Models made before categorical labels kept their text stored '02134' as '2134': a cell
    '02134' still finds that category."""
    from nettrain.data import Column, Encoding
    from nettrain.data.read import Table

    enc = Encoding(
        "regression",
        "mse",
        ["zip"],
        "y",
        1,
        np.zeros(2),
        np.ones(2),
        columns=[Column("zip", "categorical", ["10001", "2134"])],
    )
    table = Table("t.csv", ["zip"], np.array([["02134"], ["10001"]]))
    raw, kept = enc.raw_inputs(table)
    assert raw.tolist() == [[0.0, 1.0], [1.0, 0.0]] and kept.all()


def test_config_from_dict_takes_numpy_arrays():
    cfg = config_from_dict({"network": {"layers": np.array([4, 8, 2])}, "cost": "cross_entropy"})
    assert cfg.network.layers == (4, 8, 2)


def test_a_first_data_row_of_0_1_is_data_for_a_two_column_array_model(tmp_path):
    """Binary inputs: '0,1' as the first row of a header-less CSV is a row to predict, not a
    header of positions (only 3 or more positions read as a header)."""
    from nettrain.data import read_for_model

    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 10, dtype=float)
    np.save(tmp_path / "x.npy", np.column_stack([X, X[:, 0] != X[:, 1]]))
    model = trained_model(tmp_path, {"train": str(tmp_path / "x.npy")}, [2, 4, 2], {"epochs": 1})
    (tmp_path / "in.csv").write_text("0,1\n1,1\n")
    assert read_for_model(str(tmp_path / "in.csv"), model.encoding, need_target=False).n == 2


@pytest.mark.parametrize("kind", ["column y (n, 1)", "two outputs (n, 2)", "text labels", "numbers (n,)"])
def test_every_npz_row_is_predicted_and_evaluated(tmp_path, kind):
    """An NPZ has no header row: whatever its y holds (a column, several, text), predict and
    evaluate keep its first row (the CSV header check once took str(y[0]) for a header)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y, cost, k = {
        "column y (n, 1)": (2 * X[:, :1], "mse", 1),
        "two outputs (n, 2)": (X[:, :2], "mse", 2),
        "text labels": (np.where(X[:, 0] > 0, "cat", "dog"), "cross_entropy", 2),
        "numbers (n,)": (2 * X[:, 0], "mse", 1),
    }[kind]
    np.savez(tmp_path / "d.npz", X=X, y=y)
    cfg = {
        "data": {"train": str(tmp_path / "d.npz")},
        "network": {"layers": [3, 4, k], "activation": "tanh"},
        "cost": cost,
        "training": {"epochs": 2},
        "output": str(tmp_path / "run"),
    }
    fit(config_from_dict(cfg))
    predictions = read_csv(ok(run("predict", tmp_path / "run", tmp_path / "d.npz")).stdout)
    assert len(predictions) == 1 + 40
    report = json.loads(ok(run("evaluate", tmp_path / "run", tmp_path / "d.npz", "--json")).stdout)
    assert report["n"] == 40


# -- inputs read as the training data was --------------------------------------------------------


def test_evaluate_finds_a_target_named_y_wherever_it_is(tmp_path):
    """A CSV-trained model whose target is named 'y' (seed, regression): evaluate reads that
    column by name, not the last one (the NPZ rule 'y is the array y' applied to CSVs too)."""
    cfg = load_config(CONFIGS / "regression.yaml", ["training.epochs=5", f"output={tmp_path / 'run'}"])
    fit(cfg)
    rows = read_csv((DATA / "regression_test.csv").read_text())
    moved = [[r[-1], *r[:-1], "id"] for r in rows]  # y first, an extra text column last
    moved[0][-1] = "note"
    write_rows(tmp_path / "moved.csv", moved[0], moved[1:])
    want = json.loads(ok(run("evaluate", tmp_path / "run", DATA / "regression_test.csv", "--json")).stdout)
    got = json.loads(ok(run("evaluate", tmp_path / "run", tmp_path / "moved.csv", "--json")).stdout)
    assert got["r2"] == pytest.approx(want["r2"], rel=1e-6) and got["n"] == want["n"]


def test_a_csv_model_with_number_names_reads_its_own_training_file(tmp_path):
    """pandas-style headers '0,1,2,3,y' are names, not positions: the model predicts its own
    training file and matches a reordered file by name."""
    rows = read_csv((DATA / "seed.csv").read_text())
    write_rows(tmp_path / "dig.csv", ["0", "1", "2", "3", "y"], rows[1:])
    write_rows(tmp_path / "rev.csv", ["3", "2", "1", "0", "y"], [[*r[3::-1], r[4]] for r in rows[1:]])
    cfg = load_config(
        CONFIGS / "seed.yaml",
        [f"data.train={tmp_path / 'dig.csv'}", "training.epochs=20", f"output={tmp_path / 'run'}"],
    )
    fit(cfg)
    a = ok(run("predict", tmp_path / "run", tmp_path / "dig.csv")).stdout
    assert a == ok(run("predict", tmp_path / "run", tmp_path / "rev.csv")).stdout
    assert len(read_csv(a)) == len(rows)
    e1 = json.loads(ok(run("evaluate", tmp_path / "run", tmp_path / "dig.csv", "--json")).stdout)
    e2 = json.loads(ok(run("evaluate", tmp_path / "run", tmp_path / "rev.csv", "--json")).stdout)
    assert e1["r2"] == pytest.approx(e2["r2"], rel=1e-9)


def test_a_models_delimiter_reads_its_own_training_file(tmp_path):
    """data.delimiter (one the sniffer does not guess) is kept in the model, so predict and
    evaluate read files like the training file."""
    body = "".join(f"{i % 5}:{(i * 3) % 7}:{i % 2}\n" for i in range(40))
    (tmp_path / "c.csv").write_text("a:b:y\n" + body)
    cfg = load_config(
        CONFIGS / "xor.yaml",
        [
            f"data.train={tmp_path / 'c.csv'}",
            "data.target=y",
            "data.delimiter=:",
            f"output={tmp_path / 'run'}",
        ],
    )
    fit(cfg)
    assert len(read_csv(ok(run("predict", tmp_path / "run", tmp_path / "c.csv")).stdout)) == 41
    (tmp_path / "comma.csv").write_text((tmp_path / "c.csv").read_text().replace(":", ","))
    assert_error(
        run("predict", tmp_path / "run", tmp_path / "comma.csv"), "the delimiter the model's training"
    )
    assert json.loads(ok(run("evaluate", tmp_path / "run", tmp_path / "c.csv", "--json")).stdout)["n"] == 40


def test_number_labels_come_back_as_numbers_from_a_saved_model(tmp_path):
    """An NPZ's y of 0.5 / 1.5: Model.predict after load_model gives those floats, and
    predict --format npy a float array of them (int('1.5') once made it text, int(1.5) 1)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    y = np.where(X[:, 0] > 0, 1.5, 0.5)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    cfg = {
        "data": {"train": str(tmp_path / "d.npz")},
        "network": {"layers": [2, 4, 2]},
        "cost": "cross_entropy",
        "training": {"epochs": 30, "learning_rate": 0.3},
        "output": str(tmp_path / "run"),
    }
    fit(config_from_dict(cfg))
    model = load_model(tmp_path / "run")
    pred = model.predict(X)
    assert pred.dtype == np.float64 and set(pred.tolist()) <= {0.5, 1.5}
    assert np.mean(pred == y) > 0.9
    ok(run("predict", tmp_path / "run", tmp_path / "d.npz", "-f", "npy", "-o", tmp_path / "p.npy"))
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), pred)
    lines = ok(run("predict", tmp_path / "run", tmp_path / "d.npz", "-f", "jsonl")).stdout.splitlines()
    assert [json.loads(line)["prediction"] for line in lines] == pred.tolist()  # numbers in JSON too


def test_streamed_npy_with_auto_layer_sizes(tmp_path, small_stream):
    np.save(tmp_path / "big.npy", stream_matrix())
    cfg = config_from_dict(
        {
            "data": {"train": str(tmp_path / "big.npy")},
            "network": {"layers": ["auto", 8, "auto"], "activation": "tanh"},
            "cost": "cross_entropy",
            "training": {"epochs": 1},
        }
    )
    rd = load_run_data(cfg)
    assert isinstance(rd.train, StreamedDataset) and (rd.encoding.n_inputs, rd.encoding.n_outputs) == (4, 2)
    assert fit(cfg, save=False).model.network.sizes == [4, 8, 2]


# -- data.exclude -----------------------------------------------------------------------------------


def test_exclude_leaves_an_id_column_out_of_training_and_predict(tmp_path):
    header, rows = animals(200)
    rows = [[f"A{i:04d}", *r] for i, r in enumerate(rows)]
    path = write_rows(tmp_path / "a.csv", ["animal_id", *header], rows)
    cfg = config_from_dict(
        {
            "data": {"train": str(path), "target": "label", "exclude": ["animal_id"]},
            "network": {"layers": ["auto", 8, "auto"], "activation": "tanh"},
            "cost": "cross_entropy",
            "training": {"epochs": 30, "learning_rate": 0.3},
            "output": str(tmp_path / "run"),
        }
    )
    result = fit(cfg)
    assert "animal_id" not in result.model.encoding.features and result.model.network.sizes[0] == 5
    assert len(read_csv(ok(run("predict", tmp_path / "run", path)).stdout)) == 201  # the id is ignored
    assert json.loads(ok(run("evaluate", tmp_path / "run", path, "--json")).stdout)["accuracy"] > 0.85


def test_without_exclude_an_id_column_gets_a_note(tmp_path):
    header, rows = animals(200)
    rows = [[f"A{i:04d}", *r] for i, r in enumerate(rows)]
    path = write_rows(tmp_path / "a.csv", ["animal_id", *header], rows)
    cfg = config_from_dict(
        {
            "data": {"train": str(path), "target": "label"},
            "network": {"layers": ["auto", 4, "auto"]},
            "cost": "cross_entropy",
        }
    )
    notes = load_run_data(cfg).notes
    assert any(
        "'animal_id' has 200 categories in 200 rows: an id?" in n and "data.exclude" in n for n in notes
    )


@pytest.mark.parametrize("streamed", [False, True])
def test_exclude_by_index_on_an_array_and_predict_by_position(tmp_path, streamed, monkeypatch):
    """Columns of an NPY are positions: exclude: [1] leaves column 1 out, and predict on the
    whole matrix takes the model's columns by position."""
    if streamed:
        monkeypatch.setattr(stream, "STREAM_BYTES", 10_000)
        monkeypatch.setattr(stream, "CHUNK_BYTES", 8_000)
    M = stream_matrix()
    M[:, 1] = np.random.default_rng(5).normal(size=len(M)) * 1000  # noise the model must not see
    np.save(tmp_path / "m.npy", M)
    cfg = {
        "data": {"train": str(tmp_path / "m.npy"), "exclude": [1]},
        "network": {"layers": ["auto", 8, "auto"], "activation": "tanh"},
        "cost": "cross_entropy",
        "training": {"epochs": 3, "learning_rate": 0.3},
        "output": str(tmp_path / "run"),
    }
    result = fit(config_from_dict(cfg))
    assert result.model.encoding.features == ["0", "2", "3"]
    assert isinstance(load_run_data(config_from_dict(cfg)).train, StreamedDataset) is streamed
    predicted = read_csv(ok(run("predict", tmp_path / "run", tmp_path / "m.npy")).stdout)
    assert len(predicted) == len(M) + 1
    cfg["data"]["exclude"] = [7]
    with pytest.raises(DataError, match="data.exclude names '7', which is not a feature column"):
        load_run_data(config_from_dict(cfg))


def test_exclude_is_checked_in_the_config(tmp_path):
    base = {"network": {"layers": [2, 1]}, "data": {"target": "y"}}
    with pytest.raises(ConfigError, match="the target cannot be left out"):
        config_from_dict({**base, "data": {"target": "y", "exclude": ["id", "y"]}})
    with pytest.raises(ConfigError, match="not a list of column names"):
        config_from_dict({**base, "data": {"exclude": {"id": 1}}})
    assert config_from_dict({**base, "data": {"exclude": "id"}}).data.exclude == ("id",)


def test_a_two_valued_target_under_mse_gets_a_note(tmp_path):
    rows = [[f"{i * 0.1:.1f}", str(i % 2)] for i in range(40)]
    path = write_rows(tmp_path / "b.csv", ["x", "y"], rows)
    cfg = config_from_dict({"data": {"train": str(path), "target": "y"}, "network": {"layers": [1, 1]}})
    notes = load_run_data(cfg).notes
    assert any("has only 2 values (0, 1): if they are classes, set cost" in n for n in notes)


def test_a_categorical_model_given_a_matrix_says_to_give_a_table(tmp_path):
    model = trained_model(
        tmp_path,
        {"train": str(write_rows(tmp_path / "a.csv", HEADER, ROWS)), "target": "label"},
        [5, 3, 2],
        {"epochs": 1},
    )
    with pytest.raises(DataError, match=r"categorical columns \(color\): give the rows as a Table"):
        model.predict(np.array([[0.1, "red", 0.2]], dtype=object))
    from nettrain import read_table

    assert len(model.predict(read_table(str(tmp_path / "a.csv"), need_target=False))) == len(ROWS)


def test_a_header_less_input_is_told_to_add_the_header(tmp_path):
    model_dir = tmp_path / "run"
    cfg = write_config(
        tmp_path / "c.yaml", write_rows(tmp_path / "a.csv", HEADER, ROWS).name, [5, 3, 2], target="label"
    )
    ok(run("fit", cfg, "-o", model_dir, "-q"))
    write_rows(tmp_path / "nohead.csv", None, [r[:3] for r in ROWS[:5]])
    assert_error(
        run("predict", model_dir, tmp_path / "nohead.csv"),
        "looks like data, not a header",
        "add that header row",
    )


def test_a_test_fraction_is_held_out_of_the_training_file(tmp_path):
    """data.test: 0.2 holds out a fifth of the rows (seeded, stratified) before the validation
    fraction is taken from the rest; the run is scored on it at the end."""
    cfg = load_config(
        CONFIGS / "digits.yaml",
        ["data.test=0.2", "data.validation=0.1", "training.epochs=3", f"output={tmp_path / 'run'}"],
    )
    rd = load_run_data(cfg)
    n = len(read_csv((DATA / "digits_train.csv").read_text())) - 1
    assert abs(len(rd.test.X) - n * 0.2) <= 10  # a fifth, rounded class by class
    assert len(rd.train.X) + len(rd.validation.X) + len(rd.test.X) == n
    classes = rd.test.Y.argmax(axis=1)
    assert len(np.unique(classes)) == 10  # every class in the test set
    again = load_run_data(cfg)
    np.testing.assert_array_equal(rd.test.X, again.test.X)  # seeded
    result = fit(cfg)
    assert 0.5 < result.summary["test_accuracy"] <= 1.0
    with pytest.raises(ConfigError, match="out of range"):
        load_config(CONFIGS / "digits.yaml", ["data.test=1.0"])


def test_a_test_fraction_of_a_streamed_npy_is_refused(tmp_path, small_stream):
    np.save(tmp_path / "big.npy", stream_matrix())
    cfg = stream_config(tmp_path / "big.npy", test=0.2)
    with pytest.raises(DataError, match="a test fraction is not held out of a streamed .npy"):
        load_run_data(cfg)


def test_exclude_on_an_array_whose_target_comes_first(tmp_path):
    """Inputs laid out like the training file with its target column, without it, or with the
    model's columns only, all predict alike (without the target the positions after it shift)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 4))
    A = np.column_stack([X[:, 0] * 3 + X[:, 1], X])  # target in column 0
    np.save(tmp_path / "train.npy", A)
    cfg = {
        "data": {"train": str(tmp_path / "train.npy"), "target": 0, "exclude": [3, 4]},
        "network": {"layers": ["auto", 8, "auto"]},
        "training": {"epochs": 5, "learning_rate": 0.05},
        "output": str(tmp_path / "run"),
    }
    model = fit(config_from_dict(cfg)).model
    assert model.encoding.features == ["1", "2"] and model.encoding.excluded == ["3", "4"]
    outputs = []  # (with one excluded column, 4 columns could lack either: refused, tested below)
    for name, rows in (("with", A[:5]), ("without", A[:5, 1:]), ("own", A[:5, 1:3])):
        np.save(tmp_path / f"{name}.npy", rows)
        outputs.append(ok(run("predict", tmp_path / "run", tmp_path / f"{name}.npy")).stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    # labelled: an NPZ's X is the matrix without its target column (y holds it); evaluate and a
    # test file read its columns as predict does, not shifted by one after the target
    np.savez(tmp_path / "with_y.npz", X=A[:, 1:], y=A[:, 0])
    scores = [
        json.loads(ok(run("evaluate", tmp_path / "run", tmp_path / name, "--json")).stdout)
        for name in ("train.npy", "with_y.npz")
    ]
    assert scores[0]["r2"] == scores[1]["r2"] and scores[0]["mse"] == scores[1]["mse"]
    cfg["data"]["test"] = str(tmp_path / "with_y.npz")
    result = fit(config_from_dict(cfg))
    assert result.summary["test_r2"] == pytest.approx(scores[0]["r2"], rel=1e-5)


def test_an_array_model_refuses_a_wider_input(tmp_path):
    """Only a model that left columns out (data.exclude) picks its columns from a wider input;
    any other array model refuses one (it took the first columns of a random 7-column matrix)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    np.savez(tmp_path / "cls.npz", X=X, y=(X[:, 0] > 0).astype(int))
    cfg = {
        "data": {"train": str(tmp_path / "cls.npz")},
        "network": {"layers": ["auto", 4, "auto"]},
        "cost": "cross_entropy",
        "training": {"epochs": 1},
        "output": str(tmp_path / "run"),
    }
    fit(config_from_dict(cfg))
    np.save(tmp_path / "wide.npy", rng.normal(size=(4, 7)))
    assert_error(
        run("predict", tmp_path / "run", tmp_path / "wide.npy"), "has 7 columns but the model expects 3"
    )


def test_exclude_and_fraction_edge_cases(tmp_path):
    header, rows = animals(40)
    path = write_rows(tmp_path / "a.csv", ["id", *header], [[f"a{i}", *r] for i, r in enumerate(rows)])
    base = {"train": str(path), "target": "label"}

    def cfg(**data):
        return config_from_dict(
            {"data": {**base, **data}, "network": {"layers": ["auto", 4, "auto"]}, "cost": "cross_entropy"}
        )

    assert cfg(exclude=["id", "id"]).data.exclude == ("id",)  # given twice, counted once
    with pytest.raises(ConfigError, match="which data.categorical names too"):
        cfg(exclude=["color"], categorical=["color"])
    with pytest.raises(DataError, match="leaves out every feature column"):
        load_run_data(cfg(exclude=["id", "size", "color", "weight"]))
    with pytest.raises(ConfigError, match="is not a layer size"):
        config_from_dict({"network": {"layers": [0, 4, 0]}})  # 0 is not how to write auto
    assert cfg(test=0).data.test is None  # 0 is none, as for validation
    # a validation file without the excluded id column is read (predict reads it too)
    write_rows(tmp_path / "v.csv", header, rows[:10])
    rd = load_run_data(cfg(exclude=["id"], validation=str(tmp_path / "v.csv")))
    assert len(rd.validation.X) == 10


def test_a_hold_out_that_takes_a_whole_class_says_so(tmp_path):
    rows = [[f"{i}", "x" if i < 2 else "y" if i < 4 else "z"] for i in range(6)]
    path = write_rows(tmp_path / "six.csv", ["v", "label"], rows)
    cfg = config_from_dict(
        {
            "data": {"train": str(path), "target": "label", "test": 0.2, "validation": 0.2},
            "network": {"layers": ["auto", 2, "auto"]},
            "cost": "cross_entropy",
        }
    )
    with pytest.raises(DataError, match="leaves no training row of class"):
        load_run_data(cfg)


def test_from_arrays_refuses_one_class():
    from nettrain.data import RunData

    with pytest.raises(DataError, match="one class only"):
        RunData.from_arrays(np.ones((5, 2)), np.zeros(5, int), "cross_entropy")


def test_from_arrays_refuses_what_fit_cannot_train_as_data_errors():
    """Text labels for cross_entropy (which takes class numbers) and values beyond the dtype
    (finite in float64, inf in float32) are DataErrors, not a bare ValueError or a cast
    warning and a diverged run."""
    from nettrain.data import RunData

    with pytest.raises(DataError, match="must be class numbers 0, 1"):
        RunData.from_arrays(np.ones((4, 2)), np.array(["a", "b", "a", "b"]), "cross_entropy")
    with pytest.raises(DataError, match="X holds 1e\\+300 \\(row 1, column 0\\), too large for float32"):
        RunData.from_arrays(np.array([[0.0, 1.0], [1e300, 1.0]]), np.array([0, 1]), "cross_entropy")
    with pytest.raises(DataError, match="Y holds -1e\\+39"):
        RunData.from_arrays(np.ones((2, 1)), np.array([0.0, -1e39]), "mse")
    assert (
        RunData.from_arrays(np.ones((2, 1)), np.array([0.0, 1e39]), "mse", dtype="float64").train.Y[1, 0]
        == 1e39
    )


def test_from_arrays_refuses_classification_targets_outside_0_1():
    """binary_cross_entropy's targets (and cross_entropy's one-hot rows) are probabilities: a 2
    or a -1 is a DataError naming it; soft labels in [0, 1] are kept as given."""
    from nettrain.data import RunData

    X = np.ones((3, 2))
    for y, shown in (([0, 1, 2], "2 \\(row 2, column 0\\)"), ([-1, 1, 0], "-1 \\(row 0, column 0\\)")):
        with pytest.raises(
            DataError, match=f"Y holds {shown}; targets for binary_cross_entropy are probabilities"
        ):
            RunData.from_arrays(X, np.array(y), "binary_cross_entropy")
    with pytest.raises(DataError, match="Y holds -0.5 \\(row 1, column 0\\); targets for cross_entropy"):
        RunData.from_arrays(X, np.array([[1, 0], [-0.5, 1.5], [0, 1]]), "cross_entropy")
    soft = RunData.from_arrays(X, np.array([0.0, 0.5, 1.0]), "binary_cross_entropy").train.Y
    np.testing.assert_array_equal(soft[:, 0], [0.0, 0.5, 1.0])
    assert RunData.from_arrays(X, np.array([-1.0, 2.0, 0.5]), "mse").train.Y.min() == -1  # values


def test_the_readme_python_api_snippet_runs_as_written(tmp_path):
    """README's Python API block, run in a copy of the repository's configs and data after the
    quick start's fit (it reads runs/digits/model.npz)."""
    import re
    import shutil

    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Python API") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    ok(run("fit", tmp_path / "configs" / "digits.yaml", "-q", "--set", "training.epochs=3"))
    (tmp_path / "snippet.py").write_text(code)
    done = subprocess.run(
        [sys.executable, "snippet.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env=subprocess_env(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 3  # its three prints


def test_a_header_less_input_that_could_lack_either_column_is_refused(tmp_path):
    """Training file y,f1,f2,f3,id (target 0, exclude the id): an input of 4 columns is either
    that file without y or without id; predict took it for the first and read the wrong columns."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 3))
    rows = [[f"{int(x[0] > 0)}", *(f"{v:.3f}" for v in x), f"id{i}"] for i, x in enumerate(X)]
    write_rows(tmp_path / "h.csv", None, rows)
    cfg = {
        "data": {"train": str(tmp_path / "h.csv"), "header": False, "target": 0, "exclude": [4]},
        "network": {"layers": ["auto", 4, "auto"]},
        "cost": "cross_entropy",
        "training": {"epochs": 2},
        "output": str(tmp_path / "run"),
    }
    fit(config_from_dict(cfg))
    write_rows(tmp_path / "four.csv", None, [r[:4] for r in rows])
    assert_error(run("predict", tmp_path / "run", tmp_path / "four.csv"), "cannot be told apart")
    assert len(read_csv(ok(run("predict", tmp_path / "run", tmp_path / "h.csv")).stdout)) == 81
    write_rows(tmp_path / "own.csv", None, [r[1:4] for r in rows])
    assert len(read_csv(ok(run("predict", tmp_path / "run", tmp_path / "own.csv")).stdout)) == 81


def test_an_existing_run_folder_that_cannot_be_written_is_refused_before_training(tmp_path, monkeypatch):
    """A read-only mount: the run trained every epoch, then failed to save."""
    import nettrain.train

    (tmp_path / "run").mkdir()
    real = os.access
    monkeypatch.setattr(
        nettrain.train.os, "access", lambda p, mode: False if str(p).endswith("run") else real(p, mode)
    )
    with pytest.raises(OutputError, match="is not writable"):
        fit(load_config(CONFIGS / "digits.yaml", [f"output={tmp_path / 'run'}"]))


# -- data.features ----------------------------------------------------------------------------------


def features_and_exclude(tmp_path: Path, features, exclude, training=None, **data) -> list:
    """The models of two runs alike but for naming the columns to use (run folder 'features')
    or the columns to leave out (run folder 'exclude')."""
    models = []
    for name, chosen in (("features", {"features": features}), ("exclude", {"exclude": exclude})):
        cfg = {
            "data": {**data, **chosen},
            "network": {"layers": ["auto", 6, "auto"], "activation": "tanh"},
            "cost": "cross_entropy",
            "training": {"epochs": 3, "learning_rate": 0.3, **(training or {})},
            "output": str(tmp_path / name),
        }
        models.append(fit(config_from_dict(cfg)).model)
    return models


def assert_same_model(a, b) -> None:
    """The strongest oracle for data.features: the model data.exclude makes, bit for bit."""
    assert same_weights(a, b)
    assert a.encoding.to_dict() == b.encoding.to_dict()


def predict_both(tmp_path: Path, *inputs: Path) -> list[str]:
    """The predictions of the 'features' and the 'exclude' run of each input, which must agree."""
    outputs = []
    for path in inputs:
        pair = [ok(run("predict", tmp_path / name, path)).stdout for name in ("features", "exclude")]
        assert pair[0] == pair[1], path
        outputs.append(pair[0])
    return outputs


def test_features_trains_the_model_exclude_trains_and_predicts_alike(tmp_path):
    """id,size,color,weight,label with features [color, size] is exclude [id, weight]: the same
    model (columns in the file's order, not the list's; a name given twice counts once), the
    same validation file read without the columns left out, and predict and evaluate read the
    full file or the model's columns only."""
    header, rows = animals(120)
    rows = [[f"A{i:03d}", *r] for i, r in enumerate(rows)]
    path = write_rows(tmp_path / "a.csv", ["id", *header], rows)
    val = write_rows(tmp_path / "v.csv", ["size", "color", "label"], [[r[1], r[2], r[4]] for r in rows[:30]])
    a, b = features_and_exclude(
        tmp_path,
        ["color", "size", "color"],
        ["id", "weight"],
        train=str(path),
        target="label",
        validation=str(val),
    )
    assert_same_model(a, b)
    assert a.encoding.features == ["size", "color"] and a.encoding.excluded == ["id", "weight"]
    own = write_rows(tmp_path / "own.csv", ["size", "color"], [r[1:3] for r in rows])
    full, mine = predict_both(tmp_path, path, own)
    assert full == mine and len(read_csv(full)) == len(rows) + 1
    head = write_rows(tmp_path / "head.csv", ["id", *header], rows[:30])  # the validation rows, all columns
    for p in (path, val, head):
        pair = [
            json.loads(ok(run("evaluate", tmp_path / name, p, "--json")).stdout)
            for name in ("features", "exclude")
        ]
        assert pair[0] == pair[1]
        if p == head:
            own_scores = json.loads(ok(run("evaluate", tmp_path / "features", val, "--json")).stdout)
            assert {**pair[0], "source": "v.csv"} == own_scores
    saved = yaml.safe_load((tmp_path / "features" / "config.yaml").read_text())["data"]
    assert saved["features"] == ["color", "size"] and saved["exclude"] == []
    assert yaml.safe_load((tmp_path / "exclude" / "config.yaml").read_text())["data"]["features"] is None
    assert load_config(tmp_path / "features" / "config.yaml").data.features == ("color", "size")


def test_an_id_among_the_features_gets_a_note_to_leave_it_out_of_them(tmp_path):
    header, rows = animals(60)
    path = write_rows(tmp_path / "a.csv", ["animal_id", *header], [[f"A{i}", *r] for i, r in enumerate(rows)])
    cfg = config_from_dict(
        {
            "data": {"train": str(path), "target": "label", "features": ["animal_id", "size"]},
            "network": {"layers": ["auto", 4, "auto"]},
            "cost": "cross_entropy",
        }
    )
    assert any(
        "an id? It makes 60 inputs; leave it out of data.features" in n for n in load_run_data(cfg).notes
    )


def test_features_from_set_and_standard_input_and_info_shows_the_columns_left_out(tmp_path):
    header, rows = animals(60)
    text = write_rows(tmp_path / "a.csv", header, rows).read_text()
    cfg = write_config(tmp_path / "c.yaml", "-", ["auto", 4, "auto"], target="label", training={"epochs": 2})
    ok(run("fit", cfg, "-q", "-o", tmp_path / "features", "--set", "data.features=[size]", input=text))
    ok(run("fit", cfg, "-q", "-o", tmp_path / "exclude", "--set", "data.exclude=[color, weight]", input=text))
    assert_same_model(load_model(tmp_path / "features"), load_model(tmp_path / "exclude"))
    assert "left out         2: color, weight" in ok(run("info", tmp_path / "features")).stdout
    info = json.loads(ok(run("info", tmp_path / "features", "--json")).stdout)
    assert info["features"] == ["size"] and info["excluded"] == ["color", "weight"]


@pytest.mark.parametrize(
    "sets, needles",
    [
        (
            ["data.features=[size, colour]"],
            [
                "a.csv: data.features names 'colour', which is not a column of the file (did you "
                "mean 'color'?); its feature columns: size, color, weight (from --set "
                "data.features=[size, colour])"
            ],
        ),
        (
            ["data.features=[size, label]"],
            ["--set data.features=[size, label]: data.features: names the target"],
        ),
        (["data.target=null", "data.features=[label]"], ["a.csv: data.features names the target 'label'"]),
        (["data.features=[]"], ["data.features: is an empty list"]),
        (["data.features={size: 1}"], ["data.features: a mapping is not a list of column names"]),
        (
            ["data.features=[size]", "data.exclude=[color]"],
            ["data.features: and data.exclude are both given"],
        ),
        (
            ["data.features=[size]", "data.categorical=[color]"],
            ["leaves out 'color', which data.categorical"],
        ),
    ],
)
def test_a_wrong_features_list_is_one_error_line(tmp_path, sets, needles):
    write_rows(tmp_path / "a.csv", HEADER, ROWS)
    cfg = write_config(tmp_path / "c.yaml", "a.csv", ["auto", 4, "auto"], target="label")
    args = ["fit", cfg, "-q"]
    for s in sets:
        args += ["--set", s]
    assert_error(run(*args), *needles)
    assert not (tmp_path / "run").exists()


def test_a_features_name_in_the_file_says_its_line(tmp_path):
    write_rows(tmp_path / "a.csv", HEADER, ROWS)
    cfg = write_config(tmp_path / "c.yaml", "a.csv", ["auto", 4, "auto"], target="label", features=["sise"])
    line = assert_error(run("fit", cfg, "-q"), "data.features names 'sise'", "(did you mean 'size'?)")
    assert line.endswith("c.yaml:4)") and "(data.features in " in line


@pytest.mark.parametrize("key", ["exclude", "categorical"])
def test_an_exclude_or_categorical_name_not_in_the_file_says_where_it_was_given(tmp_path, key):
    """data.exclude's and data.categorical's error, as data.features' and data.weight's: the
    did-you-mean, the file's feature columns, and the config line or the --set that named it."""
    write_rows(tmp_path / "a.csv", HEADER, ROWS)
    cfg = write_config(tmp_path / "c.yaml", "a.csv", ["auto", 4, "auto"], target="label", **{key: ["sise"]})
    line = assert_error(run("fit", cfg, "-q"), f"data.{key} names 'sise'", "(did you mean 'size'?)")
    assert f"; its feature columns: {', '.join(h for h in HEADER if h != 'label')}" in line
    assert line.endswith("c.yaml:4)") and f"(data.{key} in " in line
    line = assert_error(run("fit", cfg, "-q", "--set", f"data.{key}=[SIZE]"), "(did you mean 'size'?)")
    assert line.endswith(f"(from --set data.{key}=[SIZE])")


def test_a_categorical_name_of_the_target_says_it_is_the_target(tmp_path):
    """data.categorical: [label] names the target, not a missing column: said as such (a text
    target is classes already), not 'not a feature column' with the features listed."""
    write_rows(tmp_path / "a.csv", HEADER, ROWS)
    cfg = write_config(
        tmp_path / "c.yaml", "a.csv", ["auto", 4, "auto"], target="label", categorical=["label"]
    )
    line = assert_error(
        run("fit", cfg, "-q"), "a.csv: data.categorical names 'label', which is the target column"
    )
    assert (
        "its feature columns" not in line and line.endswith("c.yaml:4)") and "(data.categorical in " in line
    )


@pytest.mark.parametrize("kind", ["npy", "streamed", "npz", "header-less"])
def test_features_by_index_is_the_exclude_of_the_other_positions(tmp_path, kind, monkeypatch):
    """Positions of an NPY (the target's counted), an NPZ's X and a header-less CSV: features
    [2, 0] is exclude [1, 3]; predict reads the training file's layout (with or without the
    target) or the model's columns only, as for exclude; a position the file lacks, or the
    target's, is refused."""
    if kind == "streamed":
        monkeypatch.setattr(stream, "STREAM_BYTES", 10_000)
        monkeypatch.setattr(stream, "CHUNK_BYTES", 8_000)
    M = stream_matrix(600 if kind != "streamed" else N_STREAM)
    data: dict = {"train": str(tmp_path / "train.npy")}
    if kind == "npz":
        data["train"] = str(tmp_path / "train.npz")
        np.savez(data["train"], X=M[:, :4], y=M[:, 4].astype(int))
    elif kind == "header-less":
        data.update(train=str(tmp_path / "train.csv"), header=False)
        write_rows(tmp_path / "train.csv", None, [[f"{v:.4f}" for v in r[:4]] + [str(int(r[4]))] for r in M])
    else:
        np.save(data["train"], M)
    a, b = features_and_exclude(tmp_path, [2, "0"], ["1", 3], training={"epochs": 2}, **data)
    assert_same_model(a, b)
    assert a.encoding.features == ["0", "2"] and a.encoding.excluded == ["1", "3"]
    cfg = {
        "data": {**data, "features": [0, 2]},
        "network": {"layers": ["auto", 4, "auto"]},
        "cost": "cross_entropy",
    }
    assert isinstance(load_run_data(config_from_dict(cfg)).train, StreamedDataset) is (kind == "streamed")
    np.save(tmp_path / "without_target.npy", M[:50, :4])
    np.save(tmp_path / "own.npy", M[:50, [0, 2]])
    inputs = [tmp_path / "without_target.npy", tmp_path / "own.npy"]
    if kind in ("npy", "streamed"):
        np.save(tmp_path / "with_target.npy", M[:50])
        inputs.append(tmp_path / "with_target.npy")
    outputs = predict_both(tmp_path, *inputs)
    assert all(out == outputs[0] for out in outputs)
    for features, needle in (([7], "data.features names '7', which is not a column of the file"), ([4], "")):
        if kind == "npz" and features == [4]:
            needle = "data.features names '4', which is not a column"  # (an NPZ's X has 4 columns)
        with pytest.raises(DataError, match=needle or "data.features names the target '4'"):
            load_run_data(config_from_dict({**cfg, "data": {**data, "features": features}}))
