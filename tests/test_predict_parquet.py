"""predict --format parquet (README, "predict"): the CSV output's columns and values, typed (text
labels and --keep columns as strings, values and probabilities float64 holding the CSV's numbers,
null where a row was left out), written a row group per chunk of the input; -o FILE all or
nothing; stdout's binary stream, never a terminal; without pyarrow, one error line.

The files are read back here with pyarrow (tests that need it skip without it).
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from nettrain.data import read, read_table_chunks
from tests.conftest import DATA
from tests.helpers import (
    animals,
    assert_error,
    error_line,
    nettrain_on_a_terminal,
    ok,
    read_csv,
    run,
    write_config,
)
from tests.helpers import write_rows as write_csv


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    """Messages name data files relative to the current directory."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def pq():
    pytest.importorskip("pyarrow")
    import pyarrow.parquet

    return pyarrow.parquet


def fitted(folder: Path, header, rows, layers, *fit_args, **settings) -> Path:
    write_csv(folder / "train.csv", header, rows)
    cfg = write_config(folder / "c.yaml", "train.csv", layers, **settings)
    ok(run("fit", cfg, "--quiet", "-o", folder / "run", *fit_args))
    return folder / "run"


@pytest.fixture(scope="module")
def animals_model(tmp_path_factory) -> Path:
    """yes/no from size, color (categorical) and weight; float32."""
    header, rows = animals()
    return fitted(tmp_path_factory.mktemp("animals"), header, rows, [5, 8, 2], target="label")


@pytest.fixture(scope="module")
def animals_drop_model(tmp_path_factory) -> Path:
    header, rows = animals()
    folder = tmp_path_factory.mktemp("animals_drop")
    return fitted(folder, header, rows, [5, 8, 2], target="label", missing="drop")


@pytest.fixture(scope="module")
def seed_model(tmp_path_factory) -> Path:
    """Regression on data/seed.csv (x1..x4 -> y), float64: 17 significant digits."""
    header, *rows = (DATA / "seed.csv").read_text().splitlines()
    folder = tmp_path_factory.mktemp("seed")
    rows = [r.split(",") for r in rows]
    return fitted(
        folder, header.split(","), rows, [4, 6, 1], "--set", "dtype=float64", cost="mse", target="y"
    )


def animal_input(n=230):
    """The animals' rows with an id first ('00007': text that looks like a number)."""
    header, rows = animals(n, seed=1)
    return ["id", *header], [[f"{i:05d}", *r] for i, r in enumerate(rows)]


def same_as_csv(table, csv_text: str) -> None:
    """The Parquet table holds the CSV output's columns and values: a null where the CSV's field
    is empty, a float equal to the CSV's number, text (and integers) as the CSV writes them."""
    header, *rows = read_csv(csv_text)
    assert table.column_names == header
    assert table.num_rows == len(rows)
    for name, column in zip(header, table.columns):
        for value, field in zip(column.to_pylist(), (row[header.index(name)] for row in rows)):
            if value is None:
                assert field == "", (name, field)
            elif isinstance(value, float):
                assert value == float(field), (name, value, field)
            else:
                assert str(value) == field, (name, value, field)


def predicted(pq, *args):
    """predict's Parquet output of ``args`` to stdout, read back; and the CSV output's text."""
    r = ok(run("predict", *args, "-f", "parquet"))
    table = pq.read_table(io.BytesIO(r.stdout_bytes))
    return table, ok(run("predict", *args)).stdout


def types(table) -> list[str]:
    return [str(t) for t in table.schema.types]


def test_classification_with_proba_and_keep_is_the_csv_typed(pq, animals_model):
    write_csv(Path("in.csv"), *animal_input())
    table, csv_text = predicted(pq, animals_model, "in.csv", "--proba", "--keep", "id")
    same_as_csv(table, csv_text)
    assert table.column_names == ["id", "prediction", "prob_no", "prob_yes"]
    assert types(table) == ["string", "string", "double", "double"]
    assert table.column("id").to_pylist()[:2] == ["00000", "00001"]  # (as read)
    assert set(table.column("prediction").to_pylist()) <= {"yes", "no"}


def test_float32_values_are_the_csvs_7_digits_and_float64_ones_its_17(pq, seed_model, tmp_path):
    table, csv_text = predicted(pq, seed_model, DATA / "seed.csv")
    same_as_csv(table, csv_text)
    assert types(table) == ["double"]
    _, rows = animals()
    rows = [[a, b, f"{2 * float(a) - float(b):.3f}"] for a, _, b, _ in rows]
    float32 = fitted(tmp_path, ["a", "b", "y"], rows, [2, 4, 1], cost="mse", target="y")
    Path("in.csv").write_text("a,b\n0.5,1\n-0.25,2\n1.75,-3\n")
    table, csv_text = predicted(pq, float32, "in.csv")
    same_as_csv(table, csv_text)
    assert len(read_csv(csv_text)[1][0].replace("-", "").replace(".", "").lstrip("0")) <= 7


def test_rows_left_out_under_drop_are_null_with_the_notes_of_the_csv(pq, animals_drop_model):
    header, rows = animal_input(60)
    for i, j in ((3, 1), (17, 2), (40, 3)):
        rows[i][j] = "NA" if j != 2 else ""
    write_csv(Path("in.csv"), header, rows)
    args = (animals_drop_model, "in.csv", "--proba", "--keep", "id")
    r = ok(run("predict", *args, "-f", "parquet"))
    table = pq.read_table(io.BytesIO(r.stdout_bytes))
    csv_run = ok(run("predict", *args))
    same_as_csv(table, csv_run.stdout)
    assert r.stderr == csv_run.stderr and "3 of 60 rows" in r.stderr
    left_out = [i for i, p in enumerate(table.column("prediction").to_pylist()) if p is None]
    assert left_out == [3, 17, 40]
    assert table.column("prob_yes").null_count == 3 and table.column("id").null_count == 0


def test_number_labels_stay_numbers(pq, tmp_path):
    """A model trained on an array with integer labels writes them as int64 (as JSON lines and
    NPY do), the CSV's numbers."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] > 0).astype(np.int64) * 2 + 1  # labels 1 and 3
    np.savez("train.npz", X=X, y=y)
    cfg = write_config(tmp_path / "c.yaml", "train.npz", [3, 4, 2])
    ok(run("fit", cfg, "--quiet"))
    np.save("in.npy", X[:10])
    table, csv_text = predicted(pq, "run", "in.npy")
    same_as_csv(table, csv_text)
    assert types(table) == ["int64"] and set(table.column(0).to_pylist()) <= {1, 3}


def test_one_row_group_per_chunk_the_same_values_whatever_the_chunks(pq, animals_model, monkeypatch):
    write_csv(Path("in.csv"), *animal_input())
    args = ("predict", animals_model, "in.csv", "--proba", "--keep", "id", "-f", "parquet", "-o", "p.parquet")
    monkeypatch.setattr(read, "CHUNK_LINES", 1 << 20)
    ok(run(*args))
    whole = pq.ParquetFile("p.parquet")
    assert whole.metadata.num_row_groups == 1
    whole = whole.read()
    monkeypatch.setattr(read, "CHUNK_LINES", 48)
    ok(run(*args))
    chunked = pq.ParquetFile("p.parquet")
    sizes = [chunked.metadata.row_group(i).num_rows for i in range(chunked.metadata.num_row_groups)]
    assert sizes == [c.n for c in read_table_chunks("in.csv", "label")] and len(sizes) > 4
    assert chunked.read().equals(whole)


def test_an_error_in_a_later_chunk_writes_nothing_under_o(pq, animals_model, monkeypatch):
    """An old file stays as it was; no file, and no temporary file, is left where there was none."""
    header, rows = animal_input()
    rows[200][2] = "purple"  # a colour the model never saw, in the fifth chunk
    write_csv(Path("in.csv"), header, rows)
    Path("old.parquet").write_bytes(b"old")
    monkeypatch.setattr(read, "CHUNK_LINES", 48)
    for out in ("old.parquet", "new.parquet"):
        r = run("predict", animals_model, "in.csv", "-f", "parquet", "-o", out)
        assert r.exit_code == 2 and "purple" in error_line(r.stderr)
        assert sorted(os.listdir(".")) == ["in.csv", "old.parquet"]
        assert Path("old.parquet").read_bytes() == b"old"
    r = run("predict", animals_model, "in.csv", "-f", "parquet")  # stdout: the chunks before it
    assert r.exit_code == 2 and r.stdout_bytes.startswith(b"PAR1")


def test_o_and_stdout_hold_the_same_file(pq, animals_model):
    write_csv(Path("in.csv"), *animal_input(30))
    r = ok(run("predict", animals_model, "in.csv", "-f", "parquet"))
    assert ok(run("predict", animals_model, "in.csv", "-f", "PARQUET", "-o", "out/p.parquet")).stdout == ""
    assert Path("out/p.parquet").read_bytes() == r.stdout_bytes
    assert pq.read_table("out/p.parquet").num_rows == 30


def test_without_format_o_s_extension_picks_it_and_format_wins(pq, animals_model):
    """-o p.parquet writes Parquet (not CSV text in a file named .parquet), .npy and .jsonl
    theirs; another name CSV; -f wins over the name."""
    write_csv(Path("in.csv"), *animal_input(30))
    by_flag = ok(run("predict", animals_model, "in.csv", "-f", "parquet")).stdout_bytes
    for name in ("p.parquet", "p.PQ", ".parquet"):  # ('.parquet': a Parquet file to the readers too)
        ok(run("predict", animals_model, "in.csv", "-o", name))
        assert Path(name).read_bytes() == by_flag
    for name in ("p.npy", ".npy", "P.NPY"):
        ok(run("predict", animals_model, "in.csv", "-o", name))
        assert np.load(name).shape == (30,)
    ok(run("predict", animals_model, "in.csv", "-o", "p.jsonl"))
    assert Path("p.jsonl").read_text().startswith('{"prediction": ')
    csv_text = ok(run("predict", animals_model, "in.csv")).stdout
    for name, args in (("p.txt", ()), ("q.parquet", ("-f", "csv"))):
        ok(run("predict", animals_model, "in.csv", "-o", name, *args))
        assert Path(name).read_text() == csv_text


def test_round_trip_parquet_predictions_are_evaluate_and_predict_input(pq, animals_model):
    """The output, with the input's columns kept, is data for evaluate (the same scores as the
    CSV it came from) and for predict (the same predictions)."""
    header, rows = animal_input()
    write_csv(Path("in.csv"), header, rows)
    keep = [x for name in header for x in ("--keep", name)]
    ok(run("predict", animals_model, "in.csv", "-f", "parquet", "-o", "p.parquet", *keep))
    scores = ok(run("evaluate", animals_model, "in.csv", "--json")).stdout
    assert ok(run("evaluate", animals_model, "p.parquet", "--json")).stdout == scores.replace(
        "in.csv", "p.parquet"
    )
    again = ok(run("predict", animals_model, "p.parquet", "--proba")).stdout
    assert again == ok(run("predict", animals_model, "in.csv", "--proba")).stdout
    table = pq.read_table("p.parquet")
    assert table.column("prediction").to_pylist() == [r[0] for r in read_csv(again)[1:]]


def test_without_pyarrow_one_error_and_nothing_written(animals_model, monkeypatch):
    """(Runs with or without pyarrow installed: its import is made to fail.)"""
    write_csv(Path("in.csv"), *animal_input(10))
    for module in ("pyarrow", "pyarrow.parquet", "pyarrow.compute"):
        monkeypatch.setitem(sys.modules, module, None)
    for out in ("-", "p.parquet"):
        r = run("predict", animals_model, "in.csv", "-f", "parquet", "-o", out)
        line = assert_error(r, "--format parquet needs pyarrow", "pip install 'nettrain[parquet]'")
        assert r.stdout_bytes == b"" and r.stderr == line + "\n"
    assert os.listdir(".") == ["in.csv"]


def test_parquet_is_not_written_to_a_terminal(pq, animals_model, tmp_path):
    write_csv(tmp_path / "in.csv", *animal_input(10))
    r = nettrain_on_a_terminal("predict", animals_model, tmp_path / "in.csv", "-f", "parquet")
    assert r.returncode == 2
    assert r.stderr.startswith("Error: refusing to write Parquet (binary) to a terminal")
    assert "Traceback" not in r.stderr


def test_an_output_name_ending_with_a_slash_is_a_folder_not_a_file_without_it(animals_model, tmp_path):
    """-o new/ names a folder: an error, where it wrote a file named 'new' (the '/' dropped);
    for each format, and for export's -o too (the same writer)."""
    write_csv(Path("in.csv"), *animal_input(5))
    for args in ((), ("-f", "parquet"), ("-f", "npy"), ("-f", "jsonl")):
        assert_error(run("predict", animals_model, "in.csv", "-o", "new/", *args), "'new/'", "folder")
        assert not os.path.exists("new")
    pytest.importorskip("onnx", reason="export needs onnx")
    assert_error(run("export", animals_model, "-o", "model/"), "'model/'", "folder")
    assert not os.path.exists("model")
