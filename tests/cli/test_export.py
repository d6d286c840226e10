"""nettrain export: the ONNX graph passes onnx's checker, and onnxruntime running it on a CSV's
rows (fed as README says a caller does: the numeric columns unscaled in 'input', each categorical
column's cells as they are written in its string input; or with --categorical one-hot, one-hot
by hand) gives what `nettrain predict` (--proba) gives, for each kind of model; the command's
errors. Tests that need
onnx and onnxruntime skip without them; the error for a missing onnx runs everywhere."""

from __future__ import annotations

import json
import math
import re
import sys

import numpy as np
import pytest
import yaml

from nettrain import load_model
from nettrain.modelfile import weights_sha256
from tests.conftest import DATA, ROOT
from tests.helpers import animals, assert_error, ok, read_csv, run, write_rows


@pytest.fixture(scope="module")
def ort():
    pytest.importorskip("onnx")
    return pytest.importorskip("onnxruntime")


# -- models ------------------------------------------------------------------------------------------


def _fit(folder, train, network: dict, cost: str, epochs: int = 2, dtype: str = "float32", **data):
    cfg = {
        "data": {"train": str(train), **data},
        "network": network,
        "cost": cost,
        "training": {"learning_rate": 0.05, "epochs": epochs, "batch_size": 32, "seed": 0},
        "dtype": dtype,
        "output": str(folder / "run"),
    }
    (folder / "c.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    r = run("fit", folder / "c.yaml", "-q")
    assert r.exit_code == 0, r.stderr
    return folder / "run"


@pytest.fixture(scope="module")
def animals_csv(tmp_path_factory):
    """animals() with some cells left empty: 'size' (numeric) in rows 1, 7, ...; 'color'
    (categorical) in rows 4, 11, ..."""
    header, rows = animals(n=240)
    for i, row in enumerate(rows):
        if i % 6 == 1:
            row[0] = ""
        if i % 7 == 4:
            row[1] = ""
    return write_rows(tmp_path_factory.mktemp("animals") / "animals.csv", header, rows)


@pytest.fixture(scope="module")
def complete_animals_csv(tmp_path_factory):
    return write_rows(tmp_path_factory.mktemp("animals") / "animals.csv", *animals(n=240))


@pytest.fixture(scope="module")
def unit_csv(tmp_path_factory):
    """A regression target inside (0, 1), for a sigmoid output."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 2)) * [3, 0.5] + [10, -2]
    y = 1 / (1 + np.exp(-(x[:, 0] - 10) / 3 - (x[:, 1] + 2)))
    rows = [[f"{a:.4f}", f"{b:.4f}", f"{t:.4f}"] for (a, b), t in zip(x, y)]
    return write_rows(tmp_path_factory.mktemp("unit") / "unit.csv", ["a", "b", "y"], rows)


REGRESSION = (DATA / "regression_train.csv", DATA / "regression_test.csv")
DIGITS = (DATA / "digits_train.csv", DATA / "digits_test.csv")


@pytest.fixture(scope="module")
def activation_runs(tmp_path_factory):
    """One small regression run per hidden activation."""
    from nettrain.activations import ACTIVATIONS

    return {
        name: _fit(
            tmp_path_factory.mktemp(name), REGRESSION[0], {"layers": [10, 6, 1], "activation": name}, "mse", 2
        )
        for name in ACTIVATIONS
    }


# -- running the graph -------------------------------------------------------------------------------


def onnx_input(inputs: list[str], path) -> np.ndarray:
    """A CSV's rows as the graph takes them, encoded by hand from the graph's 'inputs' metadata:
    a numeric column's value (NaN when empty), and for an input 'column=category' 1 where the
    column holds that category, 0 where it holds another, NaN where it is empty."""
    header, *rows = read_csv(path.read_text())
    X = np.empty((len(rows), len(inputs)))
    for j, name in enumerate(inputs):
        if name in header:
            cells = [row[header.index(name)] for row in rows]
            X[:, j] = [float(c) if c else math.nan for c in cells]
        else:
            column, category = name.split("=", 1)
            cells = [row[header.index(column)] for row in rows]
            X[:, j] = [math.nan if not c else float(c == category) for c in cells]
    return X


def onnx_feeds(meta: dict, path, dtype="float32") -> dict[str, np.ndarray]:
    """A CSV's rows as the graph's inputs, from its metadata: 'input' (``onnx_input`` of the
    names in 'inputs'), and each string input of 'categorical' its column's cells as written
    (N, 1)."""
    numeric = json.loads(meta["inputs"])
    feeds = {"input": onnx_input(numeric, path).astype(dtype)} if numeric else {}  # (no numeric column)
    header, *rows = read_csv(path.read_text())
    for name, c in json.loads(meta.get("categorical", "{}")).items():
        feeds[name] = np.array([[row[header.index(c["column"])]] for row in rows], dtype=object)
    return feeds


def export_and_run(ort, model, data, tmp_path, dtype=None, args=()):
    """Export ``model`` (with --dtype when given, and ``args``), check the file, and run it on
    ``data``'s rows: (outputs by name, metadata, the model file's Model). A model with
    categorical columns takes them as strings unless ``args`` say --categorical one-hot."""
    import onnx

    out = tmp_path / "model.onnx"
    r = ok(run("export", model, "-o", out, *(["--dtype", dtype] if dtype else []), *args))
    assert r.stdout == ""
    assert re.fullmatch(r"Wrote .*model\.onnx \(ONNX opset 17, float(32|64); .* bytes\)\n", r.stderr), (
        r.stderr
    )
    proto = onnx.load(str(out))
    onnx.checker.check_model(proto, full_check=True)
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    meta = sess.get_modelmeta().custom_metadata_map
    m = load_model(model)
    strings = "one-hot" not in args and any(c.kind == "categorical" for c in m.encoding.columns)
    ml = [("ai.onnx.ml", 3)] if strings else []
    assert [(o.domain, o.version) for o in proto.opset_import] == [("", 17), *ml]
    assert json.loads(meta["inputs"]) == (m.encoding.inputs_numeric() if strings else m.encoding.inputs)
    assert ("categorical" in meta) == strings
    assert meta["weights_sha256"] == weights_sha256(m.network)
    assert meta["task"] == m.encoding.task
    np_dtype = np.dtype(dtype or "float32")
    assert sess.get_inputs()[0].name == "input" or m.encoding.inputs_numeric() == []
    feeds = onnx_feeds(meta, data, np_dtype)
    outputs = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))
    return outputs, meta, m


def assert_same_as_predict(ort, model, data, tmp_path, dtype=None, rtol=1e-5, args=(), predict_args=()):
    """onnxruntime's outputs against `nettrain predict --proba`'s (classification: labels equal
    exactly, probabilities to float32 rounding) or `nettrain predict`'s values (to ``rtol`` of
    the largest value); ``args`` for export, ``predict_args`` for predict."""
    outputs, meta, m = export_and_run(ort, model, data, tmp_path, dtype, args)
    enc = m.encoding
    if enc.task == "classification":
        assert set(outputs) == {"probabilities", "label", "label_index"}
        assert json.loads(meta["classes"]) == enc.classes
        header, *rows = read_csv(ok(run("predict", model, data, "--proba", *predict_args)).stdout)
        proba = np.array([[float(v) for v in row[1:]] for row in rows])
        assert outputs["probabilities"].dtype == np.dtype(dtype or "float32")
        np.testing.assert_allclose(outputs["probabilities"], proba, rtol=0, atol=rtol)
        assert outputs["label"].tolist() == [row[0] for row in rows]
        assert [enc.classes[i] for i in outputs["label_index"]] == [row[0] for row in rows]
        assert len(set(outputs["label"].tolist())) > 1  # (not a model that answers one class)
    else:
        assert set(outputs) == {"prediction"}
        header, *rows = read_csv(ok(run("predict", model, data, *predict_args)).stdout)
        expected = np.array([[float(v) for v in row] for row in rows])
        got = outputs["prediction"]
        assert got.shape == expected.shape and got.dtype == np.dtype(dtype or "float32")
        np.testing.assert_allclose(got, expected, rtol=0, atol=rtol * np.abs(expected).max())
    return outputs


# -- each kind of model ------------------------------------------------------------------------------


def test_digits_softmax_relu_standardized(ort, digits_run, tmp_path):
    assert_same_as_predict(ort, digits_run, DIGITS[1], tmp_path)


def test_regression_with_a_standardized_target(ort, regression_run, tmp_path):
    outputs = assert_same_as_predict(ort, regression_run, REGRESSION[1], tmp_path)
    assert np.abs(outputs["prediction"]).max() > 5  # in y's units, not z-scores


def test_binary_cross_entropy_one_output_gives_both_probabilities(ort, complete_animals_csv, tmp_path):
    model = _fit(
        tmp_path,
        complete_animals_csv,
        {"layers": ["auto", 6, 1], "activation": "tanh"},
        "binary_cross_entropy",
        5,
    )
    assert load_model(model).network.sizes[-1] == 1
    outputs = assert_same_as_predict(ort, model, complete_animals_csv, tmp_path)
    np.testing.assert_allclose(outputs["probabilities"].sum(axis=1), 1, atol=1e-6)


def test_binary_cross_entropy_several_outputs(ort, tmp_path):
    """One-vs-rest sigmoids: probabilities normalised to sum to 1, as predict --proba gives them."""
    model = _fit(
        tmp_path, DIGITS[0], {"layers": [64, 16, 10], "activation": "relu"}, "binary_cross_entropy", 1
    )
    assert_same_as_predict(ort, model, DIGITS[1], tmp_path)


def test_mse_with_a_sigmoid_output(ort, unit_csv, tmp_path):
    network = {"layers": [2, 6, 1], "activation": "tanh", "output": "sigmoid"}
    model = _fit(tmp_path, unit_csv, network, "mse", 3)
    outputs = assert_same_as_predict(ort, model, unit_csv, tmp_path)
    assert ((outputs["prediction"] > 0) & (outputs["prediction"] < 1)).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "sigmoid", "softplus", "identity"])
def test_each_hidden_activation(ort, activation_runs, activation, dtype, tmp_path):
    assert_same_as_predict(ort, activation_runs[activation], REGRESSION[1], tmp_path, dtype)


def test_the_activations_cover_every_activation_nettrain_has(activation_runs):
    from nettrain.activations import ACTIVATIONS
    from nettrain.export import _ACTIVATIONS

    assert set(_ACTIVATIONS) == set(ACTIVATIONS) == set(activation_runs)


def test_a_list_of_per_layer_activations(ort, tmp_path):
    network = {"layers": [10, 6, 5, 4, 1], "activation": ["leaky_relu", "softplus", "sigmoid"]}
    model = _fit(tmp_path, REGRESSION[0], network, "mse", 3)
    assert_same_as_predict(ort, model, REGRESSION[1], tmp_path)


def test_output_bias_false_has_no_bias_in_the_last_gemm(ort, complete_animals_csv, tmp_path):
    import onnx

    network = {"layers": ["auto", 6, 2], "activation": "relu", "output_bias": False}
    model = _fit(tmp_path, complete_animals_csv, network, "cross_entropy", 5)
    assert_same_as_predict(ort, model, complete_animals_csv, tmp_path)
    gemms = [n for n in onnx.load(str(tmp_path / "model.onnx")).graph.node if n.op_type == "Gemm"]
    assert [len(n.input) for n in gemms] == [3, 2]


@pytest.mark.parametrize("args", [(), ("--categorical", "one-hot")])
def test_missing_mean_fills_nan_as_predict_fills_empty_cells(ort, animals_csv, tmp_path, args):
    """NaN in a numeric input takes the column's training mean; an empty cell in a categorical
    column's string input (or NaN in each of its one-hot inputs) takes its most frequent
    category, as predict fills empty cells."""
    model = _fit(
        tmp_path,
        animals_csv,
        {"layers": ["auto", 6, 2], "activation": "tanh"},
        "cross_entropy",
        5,
        missing="mean",
    )
    X = onnx_input(load_model(model).encoding.inputs, animals_csv)
    assert np.isnan(X).any(axis=1).sum() > 50
    assert_same_as_predict(ort, model, animals_csv, tmp_path, args=args)


# -- categorical columns -----------------------------------------------------------------------------


def test_numeric_only_models_keep_one_float_input_and_no_onnx_ml(ort, digits_run):
    """A model without categorical columns: the one input 'input', no ONNX-ML import, no
    'categorical' metadata, whatever --categorical says (the graph of before string inputs)."""
    from nettrain.export import to_onnx

    model = load_model(digits_run)
    proto = to_onnx(model)
    assert [i.name for i in proto.graph.input] == ["input"]
    assert [(o.domain, o.version) for o in proto.opset_import] == [("", 17)]
    assert "categorical" not in {p.key for p in proto.metadata_props}
    assert to_onnx(model, categorical="one-hot") == proto


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_categorical_columns_are_string_inputs_as_predict_reads_them(
    ort, complete_animals_csv, tmp_path, dtype
):
    """The graph takes the raw table: the numeric columns in 'input' (N, 2), 'color' as a string
    tensor (N, 1); the rows hold every level, and the graph's probabilities are predict's."""
    import onnx

    network = {"layers": ["auto", 6, 2], "activation": "tanh"}
    model = _fit(tmp_path, complete_animals_csv, network, "cross_entropy", 5)
    outputs = assert_same_as_predict(ort, model, complete_animals_csv, tmp_path, dtype)
    proto = onnx.load(str(tmp_path / "model.onnx"))
    elem = onnx.TensorProto.FLOAT if dtype == "float32" else onnx.TensorProto.DOUBLE
    shapes = [
        (
            i.name,
            i.type.tensor_type.elem_type,
            [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim],
        )
        for i in proto.graph.input
    ]
    assert shapes == [("input", elem, ["N", 2]), ("color", onnx.TensorProto.STRING, ["N", 1])]
    meta = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(meta["inputs"]) == ["size", "weight"]
    levels = ["blue", "green", "red"]
    assert json.loads(meta["categorical"]) == {"color": {"column": "color", "levels": levels}}
    assert meta["unknown"] == "error"
    header, *rows = read_csv(complete_animals_csv.read_text())
    assert sorted({row[1] for row in rows}) == levels
    assert outputs["probabilities"].shape == (len(rows), 2)
    r = ok(run("export", model, "-o", tmp_path / "again.onnx"))
    assert "input 'input' of 2 numeric columns, string input 'color', outputs" in r.stderr


def test_a_model_of_categorical_columns_only_has_no_float_input(ort, tmp_path):
    header, rows = animals(n=240)
    train = write_rows(tmp_path / "colours.csv", ["color", "label"], [[row[1], row[3]] for row in rows])
    model = _fit(tmp_path, train, {"layers": ["auto", 4, 2], "activation": "tanh"}, "cross_entropy", 10)
    _, meta, _ = export_and_run(ort, model, train, tmp_path)
    assert json.loads(meta["inputs"]) == []
    sess = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["color"]
    assert_same_as_predict(ort, model, train, tmp_path)


@pytest.fixture(scope="module")
def mixed_csv(tmp_path_factory):
    """A regression table whose categorical columns come first, between numeric ones and last,
    named 'label' (an output's name), 'z0' (a tensor inside the graph) and 'z0_k' (one of
    'z0''s one-hot tensors): 'label' (a, b), 'x1', 'z0' (p, q, r), 'x2', 'x3', 'z0_k' (u, v), 'y'."""
    rng = np.random.default_rng(3)
    rows = []
    for i in range(200):
        kind, shade, tone = "ab"[i % 2], "pqr"[i % 3], "uv"[(i // 5) % 2]
        x = rng.normal(size=3)
        y = x[0] - 2 * x[1] + 0.5 * x[2] + (1.5 if kind == "a" else -1) + {"p": 0, "q": 2, "r": -2}[shade]
        y += 1 if tone == "u" else 0
        rows.append([kind, f"{x[0]:.4f}", shade, f"{x[1]:.4f}", f"{x[2]:.4f}", tone, f"{10 + 3 * y:.4f}"])
    header = ["label", "x1", "z0", "x2", "x3", "z0_k", "y"]
    return write_rows(tmp_path_factory.mktemp("mixed") / "mixed.csv", header, rows)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_columns_keep_the_encodings_order(ort, mixed_csv, tmp_path, dtype):
    """Categorical columns before, between and after numeric ones go into the network in the
    encoding's order (label=a, label=b, x1, z0=p, ..., x2, x3, z0_k=u, z0_k=v); a column named as
    an output is an input with '_' added ('label_'), one named as a tensor inside the graph
    keeps its name (the tensor is renamed)."""
    network = {"layers": ["auto", 8, 1], "activation": "tanh"}
    model = _fit(tmp_path, mixed_csv, network, "mse", 20)
    assert load_model(model).encoding.inputs[:3] == ["label=a", "label=b", "x1"]
    outputs, meta, _ = export_and_run(ort, model, mixed_csv, tmp_path, dtype)
    assert json.loads(meta["inputs"]) == ["x1", "x2", "x3"]
    names = {k: v["column"] for k, v in json.loads(meta["categorical"]).items()}
    assert names == {"label_": "label", "z0": "z0", "z0_k": "z0_k"}
    assert_same_as_predict(ort, model, mixed_csv, tmp_path, dtype)
    # shuffled columns within 'input' change the answers: the test would see a wrong order
    feeds = onnx_feeds(meta, mixed_csv, dtype)
    feeds["input"] = feeds["input"][:, ::-1].copy()
    sess = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    assert not np.allclose(sess.run(None, feeds)[0], outputs["prediction"], atol=1e-3)


@pytest.fixture(scope="module")
def spelt_csv(tmp_path_factory):
    """animals() whose 'color' is missing in many spellings ('', NA, None, n/a, ?, NULL, nan,
    -NaN, any case) and 'size' in some rows."""
    header, rows = animals(n=240)
    spellings = ["", "NA", "None", "n/A", "?", "NULL", "nan", "-NaN", "na", "NONE", "Null"]
    for i, row in enumerate(rows):
        if i % 5 == 2:
            row[1] = spellings[i % len(spellings)]
        if i % 9 == 1:
            row[0] = ""
    return write_rows(tmp_path_factory.mktemp("spelt") / "spelt.csv", header, rows)


def test_a_missing_category_in_any_spelling_is_filled_as_predict_fills_it(ort, spelt_csv, tmp_path):
    network = {"layers": ["auto", 6, 2], "activation": "tanh"}
    model = _fit(tmp_path, spelt_csv, network, "cross_entropy", 5, missing="mean")
    outputs = assert_same_as_predict(ort, model, spelt_csv, tmp_path)
    assert (outputs["label_index"] >= 0).all()


def test_without_missing_mean_a_missing_category_gives_no_label(
    ort, spelt_csv, complete_animals_csv, tmp_path
):
    """Where predict refuses a missing category (missing: error) or leaves its row empty
    (drop), the graph gives the row NaN probabilities, label '' and label_index -1."""
    network = {"layers": ["auto", 6, 2], "activation": "tanh"}
    model = _fit(tmp_path, complete_animals_csv, network, "cross_entropy", 5)
    assert_error(run("predict", model, spelt_csv), "is missing a value")
    outputs, meta, _ = export_and_run(ort, model, spelt_csv, tmp_path)
    feeds = onnx_feeds(meta, spelt_csv)
    missing = np.isin(
        np.char.lower(feeds["color"][:, 0].astype(str)), ["", "na", "none", "n/a", "?", "null", "nan", "-nan"]
    )
    size_missing = np.isnan(feeds["input"][:, 0])
    assert missing.sum() > 20
    assert np.isnan(outputs["probabilities"][missing]).all()
    assert (outputs["label_index"][missing] == -1).all() and (outputs["label"][missing] == "").all()
    present = ~missing & ~size_missing
    assert (
        np.isfinite(outputs["probabilities"][present]).all() and (outputs["label_index"][present] >= 0).all()
    )


def test_every_spelling_of_a_missing_category_is_one_more_one_hot_column(ort, complete_animals_csv, tmp_path):
    """A string input's one-hot is its levels and one column for a missing cell, whatever the
    spelling (a LabelEncoder numbers the cell first), not a column per spelling of a missing
    cell (66 of them, which made a batch's one-hot that much wider); each spelling, and only a
    spelling, still gives a missing cell's NaN outputs."""
    import onnx
    from onnx import helper

    from nettrain.export import missing_spellings

    network = {"layers": ["auto", 6, 2], "activation": "tanh"}
    model = _fit(tmp_path, complete_animals_csv, network, "cross_entropy", 5)
    _, meta, _ = export_and_run(ort, model, complete_animals_csv, tmp_path)
    levels = json.loads(meta["categorical"])["color"]["levels"]
    graph = onnx.load(str(tmp_path / "model.onnx")).graph
    (encoder,) = [n for n in graph.node if n.op_type == "OneHotEncoder"]
    cats = {a.name: helper.get_attribute_value(a) for a in encoder.attribute}
    assert list(cats["cats_int64s"]) == list(range(len(levels) + 1)) and "cats_strings" not in cats
    spellings = missing_spellings(levels)
    assert len(spellings) == 66 and {"NA", "nA", "-nAn", "+NaN", "nULL", "?", ""} <= set(spellings)
    feeds = onnx_feeds(meta, complete_animals_csv)
    cells = spellings + levels
    feeds = {
        "input": np.repeat(feeds["input"][:1], len(cells), axis=0),
        "color": np.array(cells, object)[:, None],
    }
    sess = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    probabilities = sess.run(None, feeds)[0]
    assert np.isnan(probabilities[: len(spellings)]).all()
    assert np.isfinite(probabilities[len(spellings) :]).all()


@pytest.fixture(scope="module")
def unseen_csv(tmp_path_factory):
    """animals() with 'purple' (a colour training never saw) in some rows."""
    header, rows = animals(n=60, seed=1)
    for i, row in enumerate(rows):
        if i % 4 == 3:
            row[1] = "purple"
    return write_rows(tmp_path_factory.mktemp("unseen") / "unseen.csv", header, rows)


def test_an_unseen_category_fails_the_run_as_predict_refuses_it(
    ort, complete_animals_csv, unseen_csv, tmp_path
):
    """As predict's default (--unknown error): onnxruntime's run fails (OneHotEncoder, zeros=0),
    rather than answering for a row it knows nothing about; without such a row it runs."""
    network = {"layers": ["auto", 6, 2], "activation": "tanh"}
    model = _fit(tmp_path, complete_animals_csv, network, "cross_entropy", 5)
    assert_error(run("predict", model, unseen_csv), "'purple', a category training never saw")
    ok(run("export", model, "-o", tmp_path / "m.onnx", "-q"))
    sess = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    feeds = onnx_feeds(sess.get_modelmeta().custom_metadata_map, unseen_csv)
    with pytest.raises(Exception, match="Unknown Category"):
        sess.run(None, feeds)
    assert len(sess.run(None, {name: v[:3] for name, v in feeds.items()})[0]) == 3


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unknown_ignore_encodes_an_unseen_category_as_predict_does(
    ort, complete_animals_csv, unseen_csv, tmp_path, dtype
):
    network = {"layers": ["auto", 6, 2], "activation": "tanh"}
    model = _fit(tmp_path, complete_animals_csv, network, "cross_entropy", 5)
    _, meta, _ = export_and_run(ort, model, unseen_csv, tmp_path, dtype, ("--unknown", "ignore"))
    assert meta["unknown"] == "ignore"
    assert_same_as_predict(
        ort,
        model,
        unseen_csv,
        tmp_path,
        dtype,
        args=("--unknown", "ignore"),
        predict_args=("--unknown", "ignore"),
    )


def test_categorical_one_hot_keeps_the_callers_one_hot_input(ort, complete_animals_csv, tmp_path):
    """--categorical one-hot: the graph of before string inputs, one float input of the
    one-hot columns (metadata 'inputs': color=blue, ...), and no ONNX-ML."""
    network = {"layers": ["auto", 6, 2], "activation": "tanh"}
    model = _fit(tmp_path, complete_animals_csv, network, "cross_entropy", 5)
    outputs, meta, m = export_and_run(
        ort, model, complete_animals_csv, tmp_path, args=("--categorical", "one-hot")
    )
    assert json.loads(meta["inputs"]) == m.encoding.inputs and "color=red" in m.encoding.inputs
    assert_same_as_predict(ort, model, complete_animals_csv, tmp_path, args=("--categorical", "one-hot"))


def test_without_missing_mean_nan_gives_nan(ort, regression_run, tmp_path):
    outputs, _, _ = export_and_run(ort, regression_run, REGRESSION[1], tmp_path)
    sess = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    X = onnx_input(load_model(regression_run).encoding.inputs, REGRESSION[1])[:3].astype(np.float32)
    X[0, 0] = np.nan
    (prediction,) = sess.run(None, {"input": X})
    assert np.isnan(prediction[0]).all() and np.isfinite(prediction[1:]).all()


def test_a_row_whose_probabilities_are_nan_has_no_label(ort, digits_run, tmp_path):
    """A NaN (or an infinity that makes one) in a row, where predict would refuse the row: its
    probabilities are NaN, and its label '' and label_index -1, not the first class."""
    outputs, _, _ = export_and_run(ort, digits_run, DIGITS[1], tmp_path)
    sess = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    X = onnx_input(load_model(digits_run).encoding.inputs, DIGITS[1])[:4].astype(np.float32)
    X[1, 20], X[2, 30] = np.nan, np.inf
    probabilities, label, label_index = sess.run(None, {"input": X})
    assert np.isnan(probabilities[[1, 2]]).all() and np.isfinite(probabilities[[0, 3]]).all()
    assert label_index.tolist() == [outputs["label_index"][0], -1, -1, outputs["label_index"][3]]
    assert label.tolist() == [outputs["label"][0], "", "", outputs["label"][3]]


def test_a_nan_row_of_a_one_sigmoid_model_has_no_label(ort, complete_animals_csv, tmp_path):
    model = _fit(tmp_path, complete_animals_csv, {"layers": ["auto", 4, 1]}, "binary_cross_entropy", 2)
    outputs, meta, _ = export_and_run(ort, model, complete_animals_csv, tmp_path)
    sess = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    feeds = {name: v[:2] for name, v in onnx_feeds(meta, complete_animals_csv).items()}
    feeds["input"][0, 0] = np.nan
    probabilities, label, label_index = sess.run(None, feeds)
    assert label_index.tolist() == [-1, outputs["label_index"][1]]
    assert label.tolist() == ["", outputs["label"][1]]


def test_number_labels_are_the_text_predict_writes(ort, tmp_path):
    """A model trained on an array whose labels are numbers (-1.0, 2.5): predict writes them
    as numbers ('-1.0'), and so does the graph's label."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    np.savez(tmp_path / "train.npz", X=X, y=np.where(X[:, 0] > 0, 2.5, -1.0))
    model = _fit(tmp_path, tmp_path / "train.npz", {"layers": ["auto", 6, "auto"]}, "cross_entropy", 5)
    out = tmp_path / "model.onnx"
    ok(run("export", model, "-o", out, "-q"))
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    probabilities, label, label_index = sess.run(None, {"input": X.astype(np.float32)})
    header, *rows = read_csv(ok(run("predict", model, tmp_path / "train.npz")).stdout)
    assert sorted({row[0] for row in rows}) == ["-1.0", "2.5"]
    assert label.tolist() == [row[0] for row in rows]


def test_the_float32_note_starts_at_a_rounding_of_1e_4_of_the_scale():
    """float32_rounding: half a float32 spacing at the largest magnitude training saw, in units of
    the column's scale, over FLOAT32_TOLERANCE; unscaled columns (predict rounds them alike) never."""
    from types import SimpleNamespace

    from nettrain.export import FLOAT32_TOLERANCE, float32_rounding

    # a: 1e4 +- 1 rounds by 4.9e-4 (noted); b: 1e3 +- 1 by 3.1e-5 (not); c: 1e4 +- 10 by 4.9e-5
    # (not); d: centred, +- 2, but its range reaches 1e4 (2.4e-4: noted); e: unscaled, however
    # large (not)
    enc = SimpleNamespace(
        inputs=["a", "b", "c", "d", "e"],
        x_mean=[1e4, 1e3, 1e4, 0.0, 0.0],
        x_scale=[1.0, 1.0, 10.0, 2.0, 1.0],
        x_min=[1e4 - 3, 1e3 - 3, 1e4 - 30, -1e4, 0.0],
        x_max=[1e4 + 3, 1e3 + 3, 1e4 + 30, 2.0, 1e9],
    )
    noted = float32_rounding(SimpleNamespace(encoding=enc))
    assert [name for name, _, _ in noted] == ["a", "d"]
    for (_, largest, rounding), scale in zip(noted, [1.0, 2.0]):
        assert rounding == float(np.spacing(np.float32(largest))) / 2 / scale > FLOAT32_TOLERANCE
    assert float(np.spacing(np.float32(1e3 + 3))) / 2 < FLOAT32_TOLERANCE  # (b: just under)


def test_float32_inputs_far_from_their_mean_get_a_note(ort, tmp_path):
    """A column whose values lie far from 0 for their spread (timestamps: 1.7e9 +- 1) loses its
    information when float32 holds the input; export says so and --dtype float64 keeps it."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 2)) + [1.7e9, 0]
    np.savez(tmp_path / "t.npz", X=x, y=(x[:, 0] - 1.7e9) * 5 + x[:, 1])
    model = _fit(tmp_path, tmp_path / "t.npz", {"layers": ["auto", 6, 1], "activation": "tanh"}, "mse", 5)
    r = ok(run("export", model, "-o", tmp_path / "m.onnx"))
    assert r.stderr.startswith("Note: input '0'") and "--dtype float64" in r.stderr, r.stderr
    assert "input '1'" not in r.stderr
    assert ok(run("export", model, "-o", tmp_path / "m.onnx", "-q")).stderr == ""
    r = ok(run("export", model, "-o", tmp_path / "m64.onnx", "--dtype", "float64"))
    assert "Note" not in r.stderr
    expected = np.array([float(v) for v in ok(run("predict", model, tmp_path / "t.npz")).stdout.split()[1:]])
    for name, dtype, close in [("m.onnx", np.float32, False), ("m64.onnx", np.float64, True)]:
        sess = ort.InferenceSession(str(tmp_path / name), providers=["CPUExecutionProvider"])
        (got,) = sess.run(None, {"input": x.astype(dtype)})
        assert np.allclose(got[:, 0], expected, rtol=0, atol=1e-5 * np.abs(expected).max()) == close


@pytest.fixture(scope="module")
def float64_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("float64")
    return _fit(
        folder, REGRESSION[0], {"layers": [10, 8, 1], "activation": "tanh"}, "mse", 3, dtype="float64"
    )


def test_a_float64_model_exports_float32_by_default(ort, float64_run, tmp_path):
    outputs = assert_same_as_predict(ort, float64_run, REGRESSION[1], tmp_path)
    assert outputs["prediction"].dtype == np.float32


def test_a_float64_model_keeps_double_with_dtype_float64(ort, float64_run, tmp_path):
    """Exact to far below float32's rounding: the graph computes in double."""
    outputs = assert_same_as_predict(ort, float64_run, REGRESSION[1], tmp_path, "float64", rtol=1e-12)
    assert outputs["prediction"].dtype == np.float64


def test_the_graph_holds_the_documented_nodes(ort, regression_run, tmp_path):
    import onnx

    export_and_run(ort, regression_run, REGRESSION[1], tmp_path)
    proto = onnx.load(str(tmp_path / "model.onnx"))
    ops = [n.op_type for n in proto.graph.node]
    assert ops == ["Sub", "Div", "Gemm", "Tanh", "Gemm", "Tanh", "Gemm", "Mul", "Add", "Identity"], ops
    assert [g.attribute[0].i for g in proto.graph.node if g.op_type == "Gemm"] == [1, 1, 1]  # transB
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["nettrain_version"] == __import__("nettrain").__version__
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"


def test_a_float64_graph_has_matmul_and_add_not_gemm(ort, float64_run, tmp_path):
    """onnxruntime before 1.18 fuses a Gemm and the activation after it into FusedGemm, whose
    only kernel is float, and so cannot load a double graph of Gemm and Tanh (or Relu, ...):
    in double each layer is MatMul (W stored transposed, (in, out)) and Add, which it runs."""
    import onnx

    export_and_run(ort, float64_run, REGRESSION[1], tmp_path, "float64")
    proto = onnx.load(str(tmp_path / "model.onnx"))
    ops = [n.op_type for n in proto.graph.node]
    assert ops == ["Sub", "Div", "MatMul", "Add", "Tanh", "MatMul", "Add", "Mul", "Add", "Identity"], ops
    model = load_model(float64_run)
    weights = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
    assert np.array_equal(weights["W0"], model.network.W[0].T)


# -- the command's errors and files ------------------------------------------------------------------


def test_without_onnx_the_error_names_the_extra(digits_run, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` raises ImportError
    out = tmp_path / "m.onnx"
    assert_error(run("export", digits_run, "-o", out), 'pip install "nettrain[onnx]"')
    assert not out.exists()


def test_a_bad_model_file_is_one_error_line(ort, tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    assert_error(run("export", tmp_path / "bad.npz", "-o", tmp_path / "m.onnx"), "not a nettrain model file")
    assert_error(run("export", tmp_path / "none.npz", "-o", tmp_path / "m.onnx"), "not found")
    assert not (tmp_path / "m.onnx").exists()


def test_a_model_too_large_for_one_onnx_file_is_one_error_line(ort, digits_run, tmp_path, monkeypatch):
    """One .onnx file is one protobuf message, at most 2 GiB (onnx.checker.MAXIMUM_PROTOBUF);
    a larger model is the exit-2 error that says so, not an internal error from onnx. (The
    limit is lowered here to below the digits model's weights.)"""
    import onnx

    monkeypatch.setattr(onnx.checker, "MAXIMUM_PROTOBUF", 40_000)
    out = tmp_path / "m.onnx"
    assert_error(run("export", digits_run, "-o", out), "more than the 0.00 GiB one ONNX file can hold")
    assert_error(run("export", digits_run, "-o", out, "--dtype", "float64"), "--dtype float32 halves it")
    assert not out.exists()


def test_a_model_too_large_is_refused_before_any_tensor_is_built(ort, digits_run, monkeypatch):
    """The weights' size is checked first: a 3 GiB model is not copied into 3 GiB of tensors
    only for onnx's checker to refuse them."""
    import onnx

    from nettrain.errors import NettrainError
    from nettrain.export import to_onnx

    model = load_model(digits_run / "model.npz")
    monkeypatch.setattr(onnx.checker, "MAXIMUM_PROTOBUF", 40_000)
    built = []
    original = onnx.numpy_helper.from_array
    monkeypatch.setattr(onnx.numpy_helper, "from_array", lambda *a, **k: built.append(1) or original(*a, **k))
    with pytest.raises(NettrainError, match="one ONNX file can hold"):
        to_onnx(model)
    assert built == []
    monkeypatch.undo()
    assert to_onnx(model).graph.node  # (within the limit: the graph)


def test_output_onto_the_model_file_is_refused(ort, digits_run):
    before = (digits_run / "model.npz").read_bytes()
    assert_error(run("export", digits_run, "-o", digits_run / "model.npz"), "is the model file")
    assert (digits_run / "model.npz").read_bytes() == before


def test_an_existing_output_file_is_replaced(ort, digits_run, tmp_path):
    """As predict -o and plot -o do: replaced whole (written to a temporary file, renamed)."""
    out = tmp_path / "m.onnx"
    out.write_text("old")
    ok(run("export", digits_run, "-o", out, "-q"))
    assert out.read_bytes()[:2] != b"ol" and len(out.read_bytes()) > 1000
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]


def test_quiet_and_stdout(ort, digits_run, tmp_path):
    r = ok(run("export", digits_run, "-o", tmp_path / "m.onnx", "-q"))
    assert r.stderr == ""
    assert ok(run("export", digits_run, "-o", "-")).stdout_bytes == (tmp_path / "m.onnx").read_bytes()


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--dtype", "float16"], "--dtype 'float16' is not known"),
        (["--format", "onx"], "did you mean 'onnx'"),
        (["-o", " "], "--output is empty"),
        (["--categorical", "onehot"], "did you mean 'one-hot'"),
        (["--unknown", "ignored"], "--unknown 'ignored' is not known"),
        (["--unknown", "ignore", "--categorical", "one-hot"], "--unknown is for string inputs"),
    ],
)
def test_bad_options(digits_run, tmp_path, args, needle):
    assert_error(run("export", digits_run, "-o", tmp_path / "m.onnx", *args), needle)
    assert not (tmp_path / "m.onnx").exists()


# -- README ------------------------------------------------------------------------------------------


def readme_section() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("\n### export\n")
    return readme[start : readme.index("\n### ", start + 1)]


def test_the_readme_example_runs_and_agrees_with_predict(ort, digits_run, tmp_path, monkeypatch):
    """README's Python block, run in a folder laid out as the repository's root (data/ linked)
    after its `nettrain export` command; its labels are predict's."""
    (tmp_path / "data").symlink_to(DATA)
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "digits").symlink_to(digits_run)
    monkeypatch.chdir(tmp_path)
    section = readme_section()
    assert "nettrain export runs/digits -o digits.onnx" in section
    ok(run("export", "runs/digits", "-o", "digits.onnx"))
    code, _ = re.findall(r"^```python\n(.*?)^```", section, re.S | re.M)
    scope: dict = {}
    exec(code, scope)
    header, *rows = read_csv(ok(run("predict", "runs/digits", "data/digits_test.csv")).stdout)
    assert scope["label"].tolist() == [row[0] for row in rows]
    assert scope["probabilities"].shape == (len(rows), 10)


@pytest.mark.parametrize("columns", [[0, 1, 2, 3], [1, 3]], ids=["mixed", "categorical-only"])
def test_the_readme_categorical_example_runs_and_agrees_with_predict(ort, tmp_path, monkeypatch, columns):
    """README's second Python block, for a model trained on animals.csv (size, color, weight,
    label; blanks around some colours, which it strips as predict does), and on its color and
    label only (a graph without 'input'): its labels and probabilities are predict's."""
    monkeypatch.chdir(tmp_path)
    header, rows = animals(n=120)
    for i, row in enumerate(rows):
        if i % 5 == 0:
            row[1] = f" {row[1]} "
    header, rows = [header[j] for j in columns], [[row[j] for j in columns] for row in rows]
    train = write_rows(tmp_path / "animals.csv", header, rows)
    _fit(tmp_path, train, {"layers": ["auto", 6, 2], "activation": "tanh"}, "cross_entropy", 5)
    (tmp_path / "runs").mkdir()
    (tmp_path / "run").rename(tmp_path / "runs" / "animals")
    section = readme_section()
    assert "nettrain export runs/animals -o animals.onnx" in section
    ok(run("export", "runs/animals", "-o", "animals.onnx"))
    _, code = re.findall(r"^```python\n(.*?)^```", section, re.S | re.M)
    scope: dict = {}
    exec(code, scope)
    header, *rows = read_csv(ok(run("predict", "runs/animals", "animals.csv", "--proba")).stdout)
    assert scope["label"].tolist() == [row[0] for row in rows]
    proba = np.array([[float(v) for v in row[1:]] for row in rows])
    np.testing.assert_allclose(scope["probabilities"], proba, rtol=0, atol=1e-5)


def test_the_python_api_readme_names(ort, digits_run, tmp_path):
    import onnx

    from nettrain.errors import NettrainError
    from nettrain.export import onnx_bytes, to_onnx

    model = load_model(digits_run)
    proto = to_onnx(model)
    assert isinstance(proto, onnx.ModelProto)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert to_onnx(model, "float64").graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    ok(run("export", digits_run, "-o", tmp_path / "m.onnx", "-q"))
    assert onnx_bytes(model) == (tmp_path / "m.onnx").read_bytes()
    with pytest.raises(NettrainError, match="float16"):
        to_onnx(model, "float16")
    with pytest.raises(NettrainError, match="is for string inputs"):  # (as the CLI refuses it)
        to_onnx(model, categorical="one-hot", unknown="ignore")


def test_the_missing_spellings_are_every_case_of_each_word_less_the_levels():
    """(A pure function: no onnx needed.) 'na' in every mix of case, and so on: 66 in all,
    less a spelling that is one of the column's levels (OneHotEncoder's categories are unique)."""
    from nettrain.data.read import MISSING, is_missing
    from nettrain.export import missing_spellings

    every = missing_spellings([])
    assert len(every) == len(set(every)) == 66 and {"NA", "nA", "NuLl", "?", ""} <= set(every)
    assert is_missing(np.array(every)).all() and {w.lower() for w in every} == set(MISSING)
    assert missing_spellings(["NA", "red"]) == [w for w in every if w != "NA"]


def test_a_categorical_column_named_label_names_keeps_its_name_and_the_labels(ort, tmp_path):
    """A column named as the graph's table of class names ('label_names') is a string input of
    that name; the table is renamed, and 'label' still gathers the class names from it."""
    header, rows = animals(n=240)
    train = write_rows(tmp_path / "a.csv", ["size", "label_names", "weight", "label"], rows)
    model = _fit(tmp_path, train, {"layers": ["auto", 6, 2], "activation": "tanh"}, "cross_entropy", 10)
    _, meta, _ = export_and_run(ort, model, train, tmp_path)
    assert list(json.loads(meta["categorical"])) == ["label_names"]
    assert_same_as_predict(ort, model, train, tmp_path)


def test_string_inputs_named_alike_once_renamed_each_get_their_own_name(ort, tmp_path):
    """Columns 'label' and 'label_': 'label' is taken by an output, so it becomes 'label_',
    and the column 'label_' then 'label__'; the graph's doc says what its inputs are."""
    import onnx

    from nettrain.export import string_inputs

    header, rows = animals(n=240)
    train = write_rows(
        tmp_path / "a.csv",
        ["size", "label", "weight", "label_", "y"],
        [[r[0], r[1], r[2], "uv"[i % 2], r[3]] for i, r in enumerate(rows)],
    )
    model = _fit(tmp_path, train, {"layers": ["auto", 6, 2], "activation": "tanh"}, "cross_entropy", 10)
    names = {k: c.name for k, c in string_inputs(load_model(model)).items()}
    assert names == {"label_": "label", "label__": "label_"}
    assert_same_as_predict(ort, model, train, tmp_path)
    doc = onnx.load(str(tmp_path / "model.onnx")).doc_string
    assert "each categorical column a string input (N, 1)" in doc and "one-hot encoded" not in doc


def test_export_says_which_inputs_the_graph_takes(tmp_path):
    """The 'Wrote' line names the numeric input and the string inputs (the first three, then
    '...'); a model of categorical columns only has no numeric input to name."""
    pytest.importorskip("onnx")
    header, rows = animals(n=120)
    train = write_rows(tmp_path / "colours.csv", ["color", "label"], [[row[1], row[3]] for row in rows])
    model = _fit(tmp_path, train, {"layers": ["auto", 4, 2], "activation": "tanh"}, "cross_entropy")
    said = ok(run("export", model, "-o", tmp_path / "a.onnx")).stderr
    assert "; string input 'color', outputs" in said and "input 'input'" not in said
    said = ok(run("export", model, "-o", tmp_path / "h.onnx", "--categorical", "one-hot")).stderr
    assert "; input 'input' of 3 columns, outputs" in said and "string" not in said  # (color=...)
    cats = [[row[1], row[1] * 2, row[1][::-1], row[1].upper()] for row in rows]
    for k, shown in ((3, "'c1', 'c2', 'c3'"), (4, "'c1', 'c2', 'c3', ...")):
        names = ["size", *(f"c{j + 1}" for j in range(k)), "label"]
        wide = [[row[0], *c[:k], row[3]] for row, c in zip(rows, cats)]
        model = _fit(
            tmp_path, write_rows(tmp_path / "wide.csv", names, wide), {"layers": ["auto", 2]}, "cross_entropy"
        )
        said = ok(run("export", model, "-o", tmp_path / f"{k}.onnx")).stderr
        assert f"input 'input' of 1 numeric column, string inputs {shown}, outputs" in said
