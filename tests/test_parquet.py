"""Parquet input (README, "Data"): read wherever a data file is read, as a CSV of the same table
is read (the same model, the same predictions), a row group at a time for predict; pyarrow is an
optional dependency, imported only when a Parquet file is read.

The files are written here with pyarrow (tests that need it skip without it); the CSV twin of
each table holds the same values written out in full.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest

from nettrain.data import read, read_table, read_table_chunks
from nettrain.errors import DataError
from tests.conftest import ROOT
from tests.helpers import assert_error, ok, run, subprocess_env, write_config, write_rows


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    """Messages name data files relative to the current directory."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def pa():
    return pytest.importorskip("pyarrow")


def columns(n=120, seed=0, nulls=False, text=True):
    """A learnable table as {name: list}: an int id, float 'size', int 'legs', bool 'wild', a
    text 'color' (with ``text``), a float 'w' (sample weights) and the label yes/no. ``nulls``:
    a few values are missing (None)."""
    rng = np.random.default_rng(seed)
    colors = ["red", "green", "blue"]
    data = {"id": [], "size": [], "legs": [], "wild": [], "color": [], "w": [], "label": []}
    for i in range(n):
        size = float(rng.normal())
        color = colors[i % 3]
        data["id"].append(1000 + i)
        data["size"].append(size)
        data["legs"].append(int(rng.integers(0, 5)))
        data["wild"].append(bool(i % 2))
        data["color"].append(color)
        data["w"].append(float(rng.uniform(0.5, 2.0)))
        data["label"].append("yes" if size + (1.0 if color == "red" else -0.5) > 0 else "no")
    if nulls:
        data["size"][3] = None
        data["legs"][10] = None
        data["color"][7] = None
    if not text:
        del data["color"]
    return data


def cell(v) -> str:
    """A value as a CSV of the table writes it: floats in full, booleans as 0 and 1, None empty."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(int(v))
    return repr(v) if isinstance(v, float) else str(v)


def write_twins(tmp_path, data: dict, stem="t", **parquet):
    """The table as stem.csv and stem.parquet: (csv path, parquet path)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = list(data)
    lines = [",".join(names)] + [
        ",".join(cell(data[c][i]) for c in names) for i in range(len(data[names[0]]))
    ]
    csv_path = tmp_path / f"{stem}.csv"
    csv_path.write_text("\n".join(lines) + "\n")
    pq_path = tmp_path / f"{stem}.parquet"
    pq.write_table(pa.table(data), pq_path, **parquet)
    return csv_path, pq_path


def sha(model) -> str:
    r = ok(run("info", model, "--json"))
    return json.loads(r.stdout)["weights_sha256"]


@pytest.mark.parametrize("text", [True, False], ids=["with-text-column", "numbers-only"])
def test_csv_and_parquet_of_one_table_train_the_same_model_and_predict_the_same(pa, tmp_path, text):
    """Names from the schema (target, exclude, categorical, weight by name), nulls as empty cells
    under data.missing: mean, a held-out validation fraction and sample weights: the Parquet
    file trains the very model its CSV twin trains, and each predicts the other's rows alike."""
    csv_path, pq_path = write_twins(tmp_path, columns(nulls=True, text=text), row_group_size=50)
    extra = {"categorical": ["color"]} if text else {}
    width = 6 if text else 3  # size, legs, wild (+ color one-hot)
    models = {}
    for kind, path in (("csv", csv_path), ("parquet", pq_path)):
        cfg = write_config(
            tmp_path / f"{kind}.yaml",
            path,
            [width, 4, 2],
            target="label",
            exclude=["id"],
            weight="w",
            missing="mean",
            validation=0.2,
            **extra,
        )
        ok(run("fit", cfg, "--quiet", "--set", f"output={tmp_path / kind}"))
        models[kind] = tmp_path / kind / "model.npz"
    assert sha(models["csv"]) == sha(models["parquet"])
    outputs = {
        (m, data): ok(run("predict", models[m], data, "--proba")).stdout
        for m in models
        for data in (csv_path, pq_path)
    }
    assert len(set(outputs.values())) == 1, outputs.keys()
    first = outputs[("csv", csv_path)].splitlines()
    assert first[0].startswith("prediction,") and len(first) == 121
    scores = {
        data: ok(run("evaluate", models["parquet"], data, "--json", "--weighted")).stdout
        for data in (csv_path, pq_path)
    }
    assert scores[csv_path].replace("t.csv", "t.parquet") == scores[pq_path]


def test_a_regression_model_reads_parquet_numbers_as_its_csv_twin(pa, tmp_path):
    """Integer, float32 and boolean columns are numbers; the regression target is read in full."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=80)
    data = {"a": x.tolist(), "b": rng.integers(0, 9, 80).tolist(), "c": [bool(v > 0) for v in x]}
    data["y"] = (2 * x + np.array(data["b"]) / 3).tolist()
    csv_path, pq_path = write_twins(tmp_path, data)
    models = []
    for kind, path in (("csv", csv_path), ("parquet", pq_path)):
        cfg = write_config(tmp_path / f"{kind}.yaml", path, [3, 4, 1], cost="mse", target="y")
        ok(run("fit", cfg, "--quiet", "--set", f"output={tmp_path / kind}"))
        models.append(tmp_path / kind / "model.npz")
    assert sha(models[0]) == sha(models[1])
    assert ok(run("predict", models[0], pq_path)).stdout == ok(run("predict", models[1], csv_path)).stdout


def test_parquet_columns_become_numbers_or_text(pa, tmp_path):
    """All-number features are a float64 matrix (nulls NaN); a text column makes every column
    text as a CSV cell would be ('' for a null); the target is text either way; dictionary
    columns are their values."""
    import pyarrow.parquet as pq

    t = pa.table(
        {
            "i": pa.array([1, None, 3], pa.int32()),
            "f": pa.array([0.1, 2.5, None], pa.float32()),
            "b": [True, False, None],
            "y": pa.array([0.1, 0.2, 0.3], pa.float32()),
        }
    )
    pq.write_table(t, "n.parquet")
    table = read_table("n.parquet", "y")
    assert table.features == ["i", "f", "b"] and table.named and table.lines is None
    assert not table.is_text
    expected = np.array([[1, np.float32(0.1), 1], [np.nan, 2.5, 0], [3, np.nan, np.nan]])
    np.testing.assert_array_equal(table.cells, expected)
    assert table.y.tolist() == ["0.1", "0.2", "0.3"]  # a float32 label as it was written

    pq.write_table(t.append_column("s", pa.array(["x", None, "z"]).dictionary_encode()), "m.parquet")
    table = read_table("m.parquet", "y")
    assert table.is_text
    assert [table.column(j).tolist() for j in range(4)] == [
        ["1", "", "3"],
        [repr(float(np.float32(0.1))), "2.5", ""],
        ["1", "0", ""],
        ["x", "", "z"],
    ]
    # a column named categorical keeps its text too
    assert read_table("n.parquet", "y", text_columns=("i",)).is_text


def test_numbers_read_as_text_are_numpys_text_of_them_as_wide_as_the_longest(pa, tmp_path):
    """A float64 or int64 column in a table of text is each number's shortest exact text (what
    NumPy's astype(str) writes: '1e+16', '5e-324', '-0.0'), in an array as wide as its longest
    cell, not astype(str)'s 32 characters a float64 (21 an int64) whatever the numbers."""
    import pyarrow.parquet as pq

    floats = np.array([0.5, 1e16, 5e-324, -0.0, 123.25, 0.1 + 0.2, -1.7976931348623157e308, 1e-05])
    ints = np.array([1, -20, 2**62, 0, 7, 8, 9, 10])
    pq.write_table(
        pa.table({"f": floats, "i": ints, "s": list("abcdefgh"), "y": list("yyyynnnn")}), "t.parquet"
    )
    table = read_table("t.parquet", "y")
    f, i = table.column(0), table.column(1)
    assert f.tolist() == floats.astype(str).tolist() and i.tolist() == ints.astype(str).tolist()
    assert f.dtype == np.dtype(f"<U{max(map(len, f.tolist()))}") and i.dtype == np.dtype("<U19")


def test_a_null_is_a_missing_value_named_by_row_and_column(pa, tmp_path):
    csv_path, pq_path = write_twins(tmp_path, columns(nulls=True, text=False))
    cfg = write_config(tmp_path / "c.yaml", pq_path, [4, 3, 2], target="label", exclude=["id"])
    assert_error(run("fit", cfg, "--quiet"), "t.parquet row 3", "'size'", "missing")


def test_predict_reads_a_parquet_file_a_record_batch_at_a_time(pa, tmp_path, monkeypatch):
    """Chunks of at most CHUNK_LINES rows, each saying which rows it holds; together the rows
    read whole; predict's output the same bytes whatever the chunk size, from a file or stdin."""
    _, pq_path = write_twins(tmp_path, columns(), row_group_size=32)
    whole = read_table(str(pq_path), "label")
    monkeypatch.setattr(read, "CHUNK_LINES", 25)
    chunks = list(read_table_chunks(str(pq_path), "label"))
    assert len(chunks) >= 120 // 25 + 1 and all(c.n <= 25 for c in chunks)
    assert chunks[1].part == f"rows {chunks[0].n}-{chunks[0].n + chunks[1].n - 1}"
    for j in range(len(whole.features)):
        assert np.concatenate([c.column(j) for c in chunks]).tolist() == whole.column(j).tolist()
    assert np.concatenate([c.y for c in chunks]).tolist() == whole.y.tolist()
    assert np.concatenate([c.rows for c in chunks]).tolist() == list(range(120))

    cfg = write_config(
        tmp_path / "c.yaml", pq_path, [6, 3, 2], target="label", exclude=["id", "w"], categorical=["color"]
    )
    monkeypatch.setattr(read, "CHUNK_LINES", 1 << 20)
    ok(run("fit", cfg, "--quiet"))
    expected = ok(run("predict", "run/model.npz", pq_path)).stdout
    monkeypatch.setattr(read, "CHUNK_LINES", 7)
    assert ok(run("predict", "run/model.npz", pq_path)).stdout == expected
    assert ok(run("predict", "run/model.npz", "-", input=pq_path.read_bytes())).stdout == expected


def test_evaluate_weight_trace_and_cv_read_parquet(pa, tmp_path):
    csv_path, pq_path = write_twins(tmp_path, columns(text=False))
    cfg = write_config(tmp_path / "c.yaml", pq_path, [3, 3, 2], target="label", exclude=["id", "w"])
    ok(run("fit", cfg, "--quiet"))
    for args in (
        ("evaluate", "run/model.npz", "{}", "--weight", "w", "--json"),
        ("trace", "run", "--data", "{}", "--row", "4"),
    ):
        a = ok(run(*[x.format(csv_path) for x in args])).stdout
        b = ok(run(*[x.format(pq_path) for x in args])).stdout
        # (a CSV's row is also named by its line, as an array's is not)
        assert a.replace("t.csv (line 6)", "t.parquet").replace("t.csv", "t.parquet") == b, args
    folds = ok(run("cv", cfg, "--folds", "3", "--json")).stdout
    assert len(json.loads(folds)["folds"]) == 3
    csv_cfg = write_config(tmp_path / "csv.yaml", csv_path, [3, 3, 2], target="label", exclude=["id", "w"])
    assert ok(run("cv", csv_cfg, "--folds", "3", "--json")).stdout == folds.replace("t.parquet", "t.csv")
    dry = ok(run("fit", cfg, "--dry-run"))
    assert "t.parquet" in dry.stdout + dry.stderr


@pytest.mark.parametrize(
    "column, type_words",
    [("when", "timestamp"), ("tags", "list"), ("blob", "binary")],
)
def test_a_column_of_an_unsupported_type_is_one_error_naming_file_and_column(
    pa, tmp_path, column, type_words
):
    import datetime

    import pyarrow.parquet as pq

    values = {
        "when": [datetime.datetime(2024, 1, 1)] * 3,
        "tags": [[1, 2], [3], []],
        "blob": [b"a", b"b", b"c"],
    }
    pq.write_table(pa.table({"x": [1.0, 2.0, 3.0], column: values[column], "y": [0, 1, 0]}), "u.parquet")
    cfg = write_config(tmp_path / "c.yaml", "u.parquet", [2, 2, 2], target="y")
    line = assert_error(run("fit", cfg, "--quiet"), "u.parquet", f"'{column}'", type_words)
    assert "leave it out" in line


def test_fit_leaves_unread_a_column_of_an_unread_type_it_does_not_use(pa, tmp_path):
    """A timestamp or a list column that data.exclude names, or data.features leaves out, is not
    read (by fit, cv, and in a validation file): the model is the one the file without it trains;
    one the run uses is still refused, naming it."""
    import datetime

    import pyarrow.parquet as pq

    _, plain = write_twins(tmp_path, columns(text=False))
    t = pq.read_table(plain)
    n = t.num_rows
    t = t.append_column("when", pa.array([datetime.datetime(2024, 1, 1)] * n))
    t = t.append_column("tags", pa.array([[1, 2]] * n))
    pq.write_table(t, "odd.parquet")
    model = tmp_path / "run" / "model.npz"

    def trained(train, **data):
        cfg = write_config(tmp_path / "c.yaml", train, [3, 3, 2], target="label", **data)
        ok(run("fit", cfg, "--quiet"))
        return sha(str(model))

    want = trained(plain, exclude=["id", "w"])
    assert trained("odd.parquet", exclude=["id", "w", "when", "tags"], validation="odd.parquet") == want
    features = ["size", "legs", "wild"]
    assert trained("odd.parquet", features=features, validation="odd.parquet") == want
    assert trained("odd.parquet", features=features, weight="w") == trained(
        plain, features=features, weight="w"
    )
    assert (
        ok(run("predict", str(model), "odd.parquet")).stdout == ok(run("predict", str(model), plain)).stdout
    )
    cfg = write_config(tmp_path / "c.yaml", "odd.parquet", [3, 3, 2], target="label", features=features)
    assert ok(run("cv", cfg, "--folds", "3", "--quiet"))
    for weight in (None, "w"):  # (a warm start's training file is read with the model's columns)
        cfg = write_config(
            tmp_path / "w.yaml", "odd.parquet", [3, 3, 2], target="label", features=features, weight=weight
        )
        ok(run("fit", cfg, "--quiet", "--warm-start", str(model), "-o", str(tmp_path / "warm")))
    # used: not excluded, named among data.features, or the weight
    for data, column in (
        ({"exclude": ["id", "w", "when"]}, "'tags'"),
        ({"features": [*features, "when"]}, "'when'"),
    ):
        cfg = write_config(tmp_path / "c.yaml", "odd.parquet", [3, 3, 2], target="label", **data)
        assert_error(run("fit", cfg, "--quiet"), "odd.parquet", column, "which nettrain does not read")
    cfg = write_config(
        tmp_path / "c.yaml", "odd.parquet", [3, 3, 2], target="label", features=features, weight="when"
    )
    assert_error(run("fit", cfg, "--quiet"), "odd.parquet", "'when' has type timestamp")


def test_a_validation_or_test_file_s_extra_column_of_an_unread_type_is_left_unread(pa, tmp_path):
    """A validation or test file may hold a column the training file lacks (an extra column of
    numbers is ignored): a timestamp there is not the model's either, so it is left unread, not
    refused; one of the model's columns of such a type still is."""
    import datetime

    import pyarrow.parquet as pq

    _, plain = write_twins(tmp_path, columns(text=False))
    t = pq.read_table(plain)
    pq.write_table(
        t.append_column("when", pa.array([datetime.datetime(2024, 1, 1)] * t.num_rows)), "v.parquet"
    )
    model = tmp_path / "run" / "model.npz"

    def trained(**data):
        cfg = write_config(tmp_path / "c.yaml", plain, [3, 3, 2], target="label", exclude=["id", "w"], **data)
        ok(run("fit", cfg, "--quiet"))
        return sha(str(model))

    assert trained(validation="v.parquet") == trained(validation=str(plain))
    assert trained(test="v.parquet") == trained(test=str(plain))
    size = pa.array([datetime.datetime(2024, 1, 1)] * t.num_rows)
    pq.write_table(t.set_column(t.schema.get_field_index("size"), "size", size), "bad.parquet")
    cfg = write_config(
        tmp_path / "c.yaml", plain, [3, 3, 2], target="label", exclude=["id", "w"], validation="bad.parquet"
    )
    assert_error(run("fit", cfg, "--quiet"), "bad.parquet", "'size' has type timestamp")


@pytest.mark.parametrize("text", [False, True])
def test_predict_reads_only_the_models_columns_of_a_parquet_file(pa, tmp_path, text):
    """A column the model does not use is not read, whatever its type (a timestamp id), by a
    model of numbers or one with a categorical input."""
    import datetime

    import pyarrow.parquet as pq

    _, pq_path = write_twins(tmp_path, columns(text=text))
    layers = [6 if text else 3, 3, 2]
    cfg = write_config(tmp_path / "c.yaml", pq_path, layers, target="label", exclude=["id", "w"])
    ok(run("fit", cfg, "--quiet"))
    t = pq.read_table(pq_path)
    t = t.append_column("seen", pa.array([datetime.datetime(2024, 1, 1)] * t.num_rows))
    pq.write_table(t, "more.parquet")
    assert (
        ok(run("predict", "run/model.npz", "more.parquet")).stdout
        == ok(run("predict", "run/model.npz", pq_path)).stdout
    )
    assert ok(run("evaluate", "run/model.npz", "more.parquet", "--json")).stdout == (
        ok(run("evaluate", "run/model.npz", pq_path, "--json")).stdout.replace("t.parquet", "more.parquet")
    )
    assert_error(run("predict", "run/model.npz", "more.parquet", "--keep", "seen"), "'seen' has type")
    # a file that lacks one of the model's columns: the error names it, not the timestamp
    pq.write_table(t.drop_columns(["legs"]), "fewer.parquet")
    assert_error(run("predict", "run/model.npz", "fewer.parquet"), "fewer.parquet", "'legs' is missing")


def test_a_damaged_parquet_file_is_one_error(pa, tmp_path):
    csv_path, pq_path = write_twins(tmp_path, columns(text=False))
    cfg = write_config(tmp_path / "c.yaml", pq_path, [3, 3, 2], target="label", exclude=["id", "w"])
    ok(run("fit", cfg, "--quiet"))
    raw = pq_path.read_bytes()
    (tmp_path / "cut.parquet").write_bytes(raw[: len(raw) // 2])
    (tmp_path / "csv.parquet").write_bytes(csv_path.read_bytes())
    assert_error(run("predict", "run/model.npz", "cut.parquet"), "cut.parquet", "not a readable Parquet file")
    assert_error(
        run("evaluate", "run/model.npz", "cut.parquet"), "cut.parquet", "not a readable Parquet file"
    )
    assert_error(
        run("predict", "run/model.npz", "-", input=raw[:-10]), "<stdin>", "not a readable Parquet file"
    )
    assert_error(run("predict", "run/model.npz", "gone.parquet"), "'gone.parquet' not found")


def test_a_file_named_parquet_that_is_not_one_says_what_it_looks_like(tmp_path, monkeypatch):
    """A CSV (or an .npy, an .npz) named .parquet or .pq is one error saying so, wherever it is
    read, not pyarrow's 'magic bytes' message, nor that pyarrow is needed to read it."""
    import builtins

    real_import = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name.startswith("pyarrow"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)  # (the check needs no pyarrow)
    write_rows(tmp_path / "t.csv", ["a", "b", "y"], [[1, 2, 0], [3, 4, 1], [5, 6, 0], [7, 8, 1]])
    cfg = write_config(tmp_path / "c.yaml", "t.csv", [2, 2, 2], target="y")
    ok(run("fit", cfg, "--quiet"))
    csv = (tmp_path / "t.csv").read_bytes()
    buf = io.BytesIO()
    np.save(buf, np.zeros((2, 3)))
    for name, raw, like in [
        ("csv.parquet", csv, "it starts like text: a CSV?"),
        ("CSV.PQ", b"\xef\xbb\xbf" + csv, "it starts like text: a CSV?"),
        ("arr.parquet", buf.getvalue(), "it starts like an .npy array"),
        ("bin.pq", bytes(range(64)), "it does not start with PAR1"),
        ("empty.parquet", b"", "is empty, not a Parquet file"),
    ]:
        (tmp_path / name).write_bytes(raw)
        for command in (["predict", "run/model.npz", name], ["evaluate", "run/model.npz", name]):
            assert_error(run(*command), name, like)
        cfg = write_config(tmp_path / "bad.yaml", name, [2, 2, 2], target="y")
        assert_error(run("fit", cfg, "--quiet"), name, like)
    assert "rename it" in assert_error(run("predict", "run/model.npz", "csv.parquet"))


def test_no_damage_to_a_parquet_file_raises_anything_but_our_error(pa):
    """Bytes changed here and there, or cut short: a DataError or a table, never pyarrow's errors."""
    import pyarrow.parquet as pq

    from nettrain.errors import DataError

    buf = io.BytesIO()
    data = {"a": [1.0, 2.0, None] * 20, "s": ["x", "y", None] * 20, "y": [0, 1, 0] * 20}
    pq.write_table(pa.table(data), buf, row_group_size=16)
    raw = buf.getvalue()
    rng = np.random.default_rng(0)
    outcomes = set()
    for _ in range(300):
        damaged = bytearray(raw)
        for at in rng.integers(0, len(raw), rng.integers(1, 4)):
            damaged[at] = rng.integers(0, 256)
        if rng.random() < 0.3:
            damaged = damaged[: rng.integers(0, len(damaged))]
        for read_it in (read_table, lambda *a, **k: list(read_table_chunks(*a, **k))):
            try:
                read_it("-", "y", stdin=io.BytesIO(bytes(damaged)))
                outcomes.add("read")
            except DataError:
                outcomes.add("refused")
    assert outcomes == {"read", "refused"}


def test_without_pyarrow_a_parquet_file_says_how_to_install_it(tmp_path, monkeypatch):
    """(Runs with or without pyarrow installed: its import is made to fail.)"""
    (tmp_path / "t.parquet").write_bytes(b"PAR1" + bytes(64) + b"PAR1")
    (tmp_path / "t.csv").write_text("a,y\n1,0\n2,1\n3,0\n")
    cfg = write_config(tmp_path / "c.yaml", "t.parquet", [1, 2, 2], target="y")
    for module in ("pyarrow", "pyarrow.parquet", "pyarrow.compute"):
        monkeypatch.setitem(sys.modules, module, None)
    line = assert_error(run("fit", cfg, "--quiet"), "t.parquet", "pip install 'nettrain[parquet]'")
    assert "pyarrow" in line
    cfg = write_config(tmp_path / "c.yaml", "t.csv", [1, 2, 2], target="y")
    ok(run("fit", cfg, "--quiet"))
    assert_error(run("predict", "run/model.npz", "t.parquet"), "pip install 'nettrain[parquet]'")
    assert_error(
        run("predict", "run/model.npz", "-", input=b"PAR1" + bytes(8)), "pip install 'nettrain[parquet]'"
    )


def test_a_csv_whose_first_column_is_named_par1_is_a_csv(tmp_path):
    """(Parquet files start with the bytes 'PAR1', then binary data.)"""
    (tmp_path / "p.csv").write_text("PAR1,PAR10,y\n1,2,0\n3,4,1\n")
    table = read_table("p.csv", "y")
    assert table.features == ["PAR1", "PAR10"] and table.y.tolist() == ["0", "1"]
    (chunk,) = read_table_chunks("-", need_target=False, stdin=io.BytesIO(b"PAR1\n1\n2\n"))
    assert chunk.features == ["PAR1"] and chunk.X.tolist() == [[1], [2]]


def test_nettrain_starts_and_reads_csv_without_importing_pyarrow():
    code = (
        "import sys, runpy\n"
        "from nettrain.data import read_table\n"
        "read_table('data/xor.csv')\n"
        "sys.argv = ['nettrain', '--help']\n"
        "try:\n    runpy.run_module('nettrain', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "assert not [m for m in sys.modules if m.startswith('pyarrow')], 'pyarrow imported'\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=subprocess_env(), capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr


def test_a_decimal_column_is_read_as_its_csv_twin_reads_it(pa, tmp_path):
    """Each decimal becomes the float64 nearest it, as its text in a CSV does (pyarrow's cast
    from decimal to float64 misses some: -0.568 is not -0.5680000000000001)."""
    import decimal

    import pyarrow.parquet as pq

    text = [f"{v:.3f}" for v in np.random.default_rng(0).normal(size=200)] + ["-0.568"]
    for dtype in (pa.decimal128(10, 3), pa.decimal256(40, 3)):
        d = pa.array([decimal.Decimal(v) for v in text], dtype)
        pq.write_table(pa.table({"d": d, "e": d}), "d.parquet")
        table = read_table("d.parquet", "e")
        assert table.cells[:, 0].tolist() == [float(v) for v in text]
        table = read_table("d.parquet", "d")
        assert table.y.tolist() == [repr(float(v)) for v in text]


def test_a_parquet_file_is_read_a_row_group_at_a_time(pa, tmp_path):
    """Reading a file of many row groups in chunks holds about one row group in pyarrow's memory,
    not the file's bytes (which pyarrow pre-buffers when asked for all row groups at once)."""
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    data = {f"c{j}": rng.normal(size=20_000) for j in range(20)}
    pq.write_table(pa.table(data), "big.parquet", row_group_size=500, compression="none")
    whole = 20_000 * 20 * 8
    most = 0
    for chunk in read_table_chunks("big.parquet", need_target=False):
        most = max(most, pa.total_allocated_bytes())
        assert chunk.n <= 500
    assert most < whole / 4, (most, whole)


def test_a_wide_parquet_file_is_read_in_chunks_of_at_most_chunk_bytes(pa, tmp_path, monkeypatch):
    """A chunk's rows are as many as CHUNK_LINES allows and their float64 values fit in
    CHUNK_BYTES (a wide file's 65,536 rows of 2,000 columns were 1 GB a chunk), as an .npy
    file's are; together they are the file's rows, with the same predictions."""
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    data = {f"c{j}": rng.normal(size=300) for j in range(40)}
    pq.write_table(pa.table(data), "wide.parquet")
    monkeypatch.setattr(read, "CHUNK_BYTES", 8 * 40 * 50)  # 50 rows of 40 float64 values
    chunks = list(read_table_chunks("wide.parquet", need_target=False))
    assert [c.n for c in chunks] == [50] * 6
    whole = read_table("wide.parquet", need_target=False)
    np.testing.assert_array_equal(np.concatenate([c.cells for c in chunks]), whole.cells)
    monkeypatch.setattr(read, "CHUNK_BYTES", 1)  # (at least one row a chunk)
    assert len(list(read_table_chunks("wide.parquet", need_target=False))) == 300


def test_a_column_named_like_a_struct_field_is_read_as_itself(pa, tmp_path):
    """Asked for the column 'a.b', pyarrow gives a struct 'a' with a field 'b' too (before it, in
    file order): predict reads 'a.b' itself, not the struct."""
    import pyarrow.parquet as pq

    x = [0.5, -1.0, 2.0, -0.25] * 10
    labels = ["p" if v > 0 else "n" for v in x]
    pq.write_table(pa.table({"a.b": x, "c": x, "y": labels}), "train.parquet")
    cfg = write_config(tmp_path / "c.yaml", "train.parquet", [2, 3, 2], target="y")
    ok(run("fit", cfg, "--quiet"))
    data = {"a": [{"b": 100.0}] * len(x), "a.b": x, "c": x, "y": labels}
    pq.write_table(pa.table(data), "struct.parquet")
    expected = ok(run("predict", "run/model.npz", "train.parquet")).stdout
    assert ok(run("predict", "run/model.npz", "struct.parquet")).stdout == expected
    # read without its names (data.header: false), a file may name two columns alike
    twice = pa.Table.from_arrays([pa.array(x), pa.array([-v for v in x]), pa.array(labels)], ["a", "a", "y"])
    pq.write_table(twice, "twice.parquet")
    table = read_table("twice.parquet", "2", header=False)
    assert table.features == ["0", "1"] and table.cells[:, 1].tolist() == [-v for v in x]


def test_the_commands_that_read_data_say_in_their_help_that_they_read_parquet():
    """A user who has only Parquet files learns from --help that predict, evaluate and trace
    read them, and that predict matches a Parquet file's columns by name as a CSV's header."""
    for command in ("predict", "evaluate", "trace"):
        assert "Parquet" in ok(run(command, "--help")).stdout, command
    assert "CSV and Parquet inputs are matched" in " ".join(ok(run("predict", "--help")).stdout.split())


def test_parquet_column_names_are_taken_as_a_csv_headers_are(pa, tmp_path):
    """Stripped of blanks (a model trained on ' size' of a CSV matches 'size'); an empty name,
    or one that appears twice once stripped, is an error naming it by its 1-based position."""
    import pyarrow.parquet as pq

    pq.write_table(pa.table({" a ": [1.0, 2.0], "y": [0, 1]}), "blank.parquet")
    assert read_table("blank.parquet", "y").features == ["a"]
    pq.write_table(pa.table({"a": [1.0, 2.0], " ": [3.0, 4.0], "y": [0, 1]}), "empty.parquet")
    with pytest.raises(DataError, match=r"empty.parquet: column 2 has an empty name"):
        read_table("empty.parquet", "y")
    pq.write_table(pa.table({"a": [1.0, 2.0], "a ": [3.0, 4.0], "y": [0, 1]}), "twice.parquet")
    with pytest.raises(DataError, match=r"twice.parquet: column name 'a' appears twice"):
        read_table("twice.parquet", "y")


def test_a_parquet_file_of_the_target_alone_is_an_error(pa, tmp_path):
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"y": [0, 1, 0]}), "y.parquet")
    with pytest.raises(DataError, match=r"y.parquet: has only the target column 'y' and no features"):
        read_table("y.parquet", "y")


def test_a_parquet_file_read_without_its_names_is_matched_by_position(pa, tmp_path):
    """data.header: false: the columns are numbered, as a header-less CSV's, and are positions."""
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"a": [1.0, 2.0], "b": [3.0, 4.0], "y": [0, 1]}), "t.parquet")
    table = read_table("t.parquet", "2", header=False)
    assert table.features == ["0", "1"] and not table.named and table.by_position
    named = read_table("t.parquet", "y")
    assert named.named and not named.by_position


def test_an_infinite_parquet_number_is_an_error_naming_row_and_column(pa, tmp_path):
    """As a CSV's 'inf' is refused: the row (from 0) and the column."""
    import pyarrow.parquet as pq

    pq.write_table(
        pa.table({"a": [1.0, 2.0, 3.0], "b": [0.0, float("-inf"), 1.0], "y": [0, 1, 0]}), "i.parquet"
    )
    with pytest.raises(DataError, match=r"i.parquet row 1: column 'b' holds '-inf', which is not a finite"):
        read_table("i.parquet", "y")


def test_a_parquet_file_read_in_one_chunk_is_the_whole_input(pa, tmp_path):
    """A chunk that holds every row says no part (its counts are the file's)."""
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"a": [1.0, 2.0, 3.0], "y": [0, 1, 0]}), "t.parquet")
    (chunk,) = read_table_chunks("t.parquet", "y")
    assert chunk.n == 3 and chunk.part is None


def test_a_parquet_files_name_is_known_in_any_case(pa, tmp_path):
    """'T.PARQUET' or 'T.PQ' is taken as Parquet whatever its bytes: one without Parquet's first
    bytes is said to be named as Parquet but not one, not text that is not UTF-8."""
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.table({"a": [1.0, 2.0], "y": [0, 1]}), buf)
    for name in ("D.PARQUET", "D.Pq"):
        (tmp_path / name).write_bytes(buf.getvalue()[4:])
        with pytest.raises(DataError, match=f"{name}: is named as a Parquet file but is not one"):
            read_table(name, "y")


def test_parquet_is_known_by_its_magic_and_a_binary_byte():
    assert read.is_parquet("x.bin", b"PAR1")  # (the magic alone: a Parquet file cut short)
    assert read.is_parquet("x.bin", b"PAR1\x15")
    assert not read.is_parquet("x.csv", b"PAR1,")
    assert not read.is_parquet("x.csv", b"PAR1\n")
    assert read.is_parquet("x.Parquet", b"a,b,c")


def test_a_pyarrow_error_is_said_by_its_first_line():
    from nettrain.data import parquet

    assert parquet._reason(ValueError("bad footer\nat page 3\n")) == "bad footer"
    assert parquet._reason(ValueError("")) == "ValueError"


def test_a_parquet_file_read_in_chunks_is_not_read_into_memory_whole(pa, tmp_path):
    """A file (not standard input) is opened by pyarrow from its path: its bytes are not read
    first (Python's allocations stay far below the file's size: a chunk, and the first 1 MB
    read to tell the file's format)."""
    import tracemalloc

    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    pq.write_table(
        pa.table({f"c{j}": rng.normal(size=30_000) for j in range(40)}),
        "big.parquet",
        row_group_size=500,
        compression="none",
    )
    size = (tmp_path / "big.parquet").stat().st_size  # (about 10 MB)
    next(read_table_chunks("big.parquet", need_target=False))  # (pyarrow's imports, not counted)
    tracemalloc.start()
    try:
        for _ in read_table_chunks("big.parquet", need_target=False):
            pass
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < size / 3, (peak, size)


def typed_columns(pa, n=200, seed=0) -> dict:
    """Number columns of every type nettrain reads, beside a text column 'c': -0.0, the smallest
    subnormal, NaN and nulls among the floats, integers of every width to 2^64 - 1 (past 2^53),
    booleans, decimals, a dictionary of integers and a column of nulls."""
    import decimal

    rng = np.random.default_rng(seed)
    every = np.arange(n)
    f64 = rng.normal(size=n) * 10.0 ** rng.integers(-300, 300, n)
    f64[:6] = [-0.0, 5e-324, 1.7976931348623157e308, 0.1 + 0.2, np.nan, -1e-05]
    return {
        "i8": pa.array(rng.integers(-128, 128, n), pa.int8()),
        "i16": pa.array(rng.integers(-(2**15), 2**15, n), pa.int16(), mask=every % 41 == 3),
        "i32": pa.array(rng.integers(-(2**31), 2**31, n), pa.int32()),
        "i64": pa.array(rng.integers(-(2**63), 2**63 - 1, n, dtype=np.int64)),
        "u8": pa.array(rng.integers(0, 256, n), pa.uint8()),
        "u16": pa.array(rng.integers(0, 2**16, n), pa.uint16()),
        "u32": pa.array(rng.integers(0, 2**32, n, dtype=np.uint64), pa.uint32()),
        "u64": pa.array(rng.integers(2**63, 2**64 - 1, n, dtype=np.uint64), pa.uint64()),
        "f16": pa.array(rng.normal(size=n).astype(np.float16), pa.float16()),
        "f32": pa.array(rng.normal(size=n).astype(np.float32), mask=every % 29 == 1),
        "f64": pa.array(f64, mask=every % 37 == 7),
        "b": pa.array([bool(v) for v in rng.integers(0, 2, n)], mask=every % 31 == 2),
        "d": pa.array([decimal.Decimal(f"{v:.3f}") for v in rng.normal(size=n)], pa.decimal128(10, 3)),
        "di": pa.array(rng.integers(0, 4, n)).dictionary_encode(),
        "nul": pa.nulls(n, pa.float64()),
        "c": pa.array(rng.choice(["red", "green", "blue"], n)),
    }


def bits(values: np.ndarray) -> list:
    """Each float64 as its bits (-0.0 is not 0.0), NaN as None."""
    return [None if np.isnan(v) else int(b) for v, b in zip(values, values.view(np.int64))]


def test_a_number_column_beside_text_is_read_as_numbers_equal_to_its_texts(pa, tmp_path, monkeypatch):
    """In a table with a text column, a Parquet number column reaches nettrain as numbers, not
    parsed from text: the very float64 values (bit for bit: -0.0, subnormals, integers past 2^53
    rounded as their text is read, decimals) and missing values (nulls, NaN) that parsing its
    text gives, through take() too; its text, made when asked, is the text the column was read
    as before; and a number target's numbers are its text's as well."""
    import pyarrow.parquet as pq

    from nettrain.data import parquet
    from nettrain.data.read import parse_numbers

    data = typed_columns(pa)
    parsed = []
    for name, target in (("y", pa.array(np.random.default_rng(1).normal(size=200))), ("d", None)):
        cols = {**data, "y": target} if target is not None else data
        pq.write_table(pa.table(cols), "t.parquet")
        table = read_table("t.parquet", name)
        with monkeypatch.context() as m:  # (the fixture's own chdir stays)
            m.setattr(read, "parse_numbers", lambda c, *a: parsed.append(c) or parse_numbers(c, *a))
            numbers = {f: table.numbers(j, f) for j, f in enumerate(table.features) if f != "c"}
            y_numbers = table.numbers(None, name)
        assert parsed == []  # (no column went through text)
        half = table.take(np.arange(0, 200, 2))
        for j, f in enumerate(table.features):
            if f == "c":
                continue
            text = parquet._as_text(pa, pa.compute, cols[f])
            assert table.column(j).tolist() == text.tolist() and table.column(j).dtype == text.dtype, f
            want, want_missing = parse_numbers(text, f, table)
            values, missing = numbers[f]
            assert bits(values) == bits(want) and missing.tolist() == want_missing.tolist(), f
            assert not values.flags.writeable and not missing.flags.writeable
            assert bits(half.numbers(j, f)[0]) == bits(want[::2]), f
            assert half.column(j).tolist() == text[::2].tolist(), f
        want, want_missing = parse_numbers(table.y, name, table)
        assert bits(y_numbers[0]) == bits(want) and y_numbers[1].tolist() == want_missing.tolist()


def test_a_parquet_table_trains_and_predicts_as_its_numbers_written_as_text_do(pa, tmp_path):
    """A Parquet file of every number type beside a text column, and the same file with each
    number column as the text nettrain reads it as: the same model (weights_sha256, under
    data.missing mean and drop), the same predictions, byte for byte, from either file."""
    import pyarrow.parquet as pq

    from nettrain.data import parquet

    data = typed_columns(pa, n=240)
    f64 = np.random.default_rng(3).normal(size=240)
    f64[:4] = [-0.0, 5e-324, 0.1 + 0.2, np.nan]
    data["f64"] = pa.array(f64, mask=np.arange(240) % 37 == 7)  # (1e300 is too large to standardize)
    y = np.random.default_rng(2).normal(size=240)
    y[5] = np.nan
    data["y"] = pa.array(y)
    text = {
        f: pa.array(
            parquet._as_text(pa, pa.compute, c).tolist(), mask=c.is_null().to_numpy(zero_copy_only=False)
        )
        if f != "c"
        else c
        for f, c in data.items()
    }
    pq.write_table(pa.table(data), "typed.parquet", row_group_size=100)
    pq.write_table(pa.table(text), "text.parquet", row_group_size=100)
    for missing in ("mean", "drop"):
        models = {}
        for kind in ("typed", "text"):
            cfg = write_config(
                tmp_path / f"{kind}.yaml",
                f"{kind}.parquet",
                ["auto", 4, 1],
                cost="mse",
                target="y",
                missing=missing,
                validation=0.2,
                exclude=["nul"],
            )
            ok(run("fit", cfg, "--quiet", "--set", f"output={tmp_path / kind}"))
            models[kind] = tmp_path / kind / "model.npz"
        assert sha(models["typed"]) == sha(models["text"])
        outputs = {
            (m, f): ok(run("predict", models[m], f"{f}.parquet")).stdout
            for m in models
            for f in ("typed", "text")
        }
        assert len(set(outputs.values())) == 1


def test_an_infinite_number_beside_text_is_an_error_naming_its_row_and_column(pa, tmp_path):
    """As its text 'inf' is refused: the file's row (from 0), also when the row is one of the
    training rows, and the column."""
    import pyarrow.parquet as pq

    b = np.arange(40, dtype=float)
    b[23] = -np.inf
    y = np.arange(40.0)
    y[3] = np.nan
    pq.write_table(pa.table({"b": b, "c": ["x", "z"] * 20, "y": y}), "i.parquet")
    cfg = write_config(
        tmp_path / "c.yaml", "i.parquet", ["auto", 2, 1], cost="mse", target="y", missing="drop"
    )
    assert_error(run("fit", cfg), "i.parquet row 23: column 'b' holds '-inf', which is not a finite number")


def test_a_parquet_targets_numbers_are_kept_when_columns_are_chosen_or_the_weight_taken_out(
    pa, tmp_path, monkeypatch
):
    """data.exclude (Table.columns) and data.weight (with_weight) keep the target, and so the
    numbers read with it: none is parsed from its text again, and they are the same."""
    import pyarrow.parquet as pq

    from nettrain.data.read import with_weight

    y = np.random.default_rng(0).normal(size=50)
    pq.write_table(
        pa.table({"a": np.arange(50), "w": np.ones(50), "c": ["x", "z"] * 25, "y": y}), "t.parquet"
    )
    table = read_table("t.parquet", "y")
    parsed = []
    monkeypatch.setattr(read, "parse_numbers", lambda c, *a: parsed.append(c))
    for chosen in (
        table.columns(["c", "w"]),
        with_weight(table, "w"),
        with_weight(table.columns(["w", "c"]), "w"),
    ):
        assert chosen.numbers(None, "y")[0].tolist() == y.tolist()
    assert parsed == []
