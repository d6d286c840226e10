"""Reading CSV / NPY / NPZ / stdin, targets and labels, encoding and scaling, the split of a run."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from nettrain.config import config_from_dict
from nettrain.data import Table, fit_encoding, load_run_data, parse_numbers, read_table, select_features
from nettrain.errors import DataError, did_you_mean

# Hypothesis: small and fast; tmp_path is shared by the examples (each rewrites its file)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    """Messages name a data file relative to the current directory when it is below it."""
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, text: str | bytes, name: str = "data.csv") -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_bytes(text.encode("utf-8"))
    return str(path)


def data_error(path, **kwargs) -> str:
    with pytest.raises(DataError) as info:
        read_table(path, **kwargs)
    return str(info.value)


def encoding_error(path, task="regression", cost="mse", outputs=1, **kwargs) -> str:
    """The DataError of fitting an encoding on a file that reads fine: a CSV keeps its cells as
    text, so missing and non-numeric values are found by the encoding, not by read_table."""
    t = read_table(path)
    with pytest.raises(DataError) as info:
        fit_encoding(t, task, cost, outputs, True, **kwargs)
    return str(info.value)


def x_error(path) -> str:
    """The DataError of Table.X (every feature as a number) on a file that reads fine."""
    t = read_table(path)
    with pytest.raises(DataError) as info:
        t.X  # noqa: B018
    return str(info.value)


CSV = "a,b,label,c\n1,2,x,3\n4,5,y,6\n7,8.5,x,-9\n"


# -- CSV: targets, features, line numbers ---------------------------------------------------------


def test_target_by_name(tmp_path):
    t = read_table(write(tmp_path, CSV), "label")
    assert t.features == ["a", "b", "c"]
    assert t.target == "label"
    np.testing.assert_array_equal(t.X, [[1, 2, 3], [4, 5, 6], [7, 8.5, -9]])
    assert t.X.dtype == np.float64
    assert list(t.y) == ["x", "y", "x"]
    assert list(t.lines) == [2, 3, 4]


def test_target_by_index(tmp_path):
    t = read_table(write(tmp_path, "a,b,c\n1,2,3\n4,5,6\n"), 1)
    assert t.target == "b" and t.features == ["a", "c"]
    np.testing.assert_array_equal(t.X, [[1, 3], [4, 6]])
    assert list(t.y) == ["2", "5"]  # a CSV target is kept as text: labels exactly as written


def test_target_index_given_as_digit_string(tmp_path):
    t = read_table(write(tmp_path, "a,b,c\n1,2,3\n4,5,6\n"), "0")
    assert t.target == "a" and t.features == ["b", "c"]


def test_target_index_out_of_range(tmp_path):
    msg = data_error(write(tmp_path, "a,b,c\n1,2,3\n"), target=3)
    assert "3" in msg and "0 to 2" in msg


def test_default_target_is_last_column(tmp_path):
    t = read_table(write(tmp_path, "p,q,r\n1,2,3\n4,5,6\n"))
    assert t.target == "r" and t.features == ["p", "q"]
    assert list(t.y) == ["3", "6"]
    # a regression encoding reads the text target as numbers
    values, present = fit_encoding(t, "regression", "mse", 1, False).target_values(t)
    np.testing.assert_array_equal(values, [3, 6])
    assert values.dtype == np.float64 and present.all()


def test_feature_order_follows_header(tmp_path):
    t = read_table(write(tmp_path, "z,y,target,x,w\n1,2,0,3,4\n5,6,1,7,8\n"), "target")
    assert t.features == ["z", "y", "x", "w"]
    np.testing.assert_array_equal(t.X, [[1, 2, 3, 4], [5, 6, 7, 8]])


def test_need_target_false_keeps_all_columns(tmp_path):
    t = read_table(write(tmp_path, CSV), need_target=False)
    assert t.features == ["a", "b", "label", "c"] and t.y is None


def test_ragged_row_names_the_file_line(tmp_path):
    text = "a,b,c,d,e\n1,2,3,4,5\n1,2,3,4,5\n\n1,2,3,4,5\n1,2\n1,2,3,4,5\n"
    path = write(tmp_path, text)
    msg = data_error(path)
    assert msg == "data.csv:6: expected 5 fields, found 2"


def test_messages_name_files_outside_the_cwd_in_full(tmp_path, monkeypatch):
    path = write(tmp_path, "a,b\n1,2\n1\n")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert data_error(path) == f"{path}:3: expected 2 fields, found 1"


def test_too_many_fields(tmp_path):
    path = write(tmp_path, "a,b\n1,2\n1,2,3\n")
    assert data_error(path) == f"{Path(path).name}:3: expected 2 fields, found 3"


def test_non_numeric_value_names_value_line_and_column(tmp_path):
    path = write(tmp_path, "a,b,y\n1,2,0\n3,4,1\n5,abc,0\n")
    read_table(path)  # cells are text until the encoding decides what each column is
    for msg in (encoding_error(path), x_error(path)):
        assert msg.startswith(f"{Path(path).name}:4: ")
        assert "'b'" in msg and "'abc'" in msg and "not a number" in msg


def test_a_column_half_numbers_is_numeric_and_its_words_are_errors(tmp_path):
    """README: a text column is categorical when fewer than half of its values are numbers;
    half is not fewer: a word there is a stray value, named, not a category."""
    path = write(tmp_path, "a,b,y\n1,2,0\n3,x,1\n5,4,0\n6,z,1\n")
    msg = encoding_error(path)
    assert msg.startswith(f"{Path(path).name}:3: column 'b' is numeric but holds 'x'"), msg
    path = write(tmp_path, "a,b,y\n1,2,0\n3,x,1\n5,w,0\n6,z,1\n")  # fewer than half
    enc = fit_encoding(read_table(path), "regression", "mse", 1, True)
    assert [c.kind for c in enc.columns] == ["numeric", "categorical"]


def test_non_numeric_regression_target(tmp_path):
    path = write(tmp_path, "a,y\n1,2\n3,oops\n")
    msg = encoding_error(path)
    assert msg.startswith(f"{Path(path).name}:3: ") and "'y'" in msg and "'oops'" in msg


@pytest.mark.parametrize("cell", ["", "NA", "?", "nan", " n/a ", "NULL", "None"])
def test_missing_value_names_line_column_and_count(tmp_path, cell):
    path = write(tmp_path, f"a,b,y\n1,2,0\n3,{cell},1\n5,6,0\n7,{cell},1\n")
    msg = encoding_error(path)  # data.missing: error, the default
    assert msg.startswith(f"{Path(path).name}:3: ")
    assert "'b'" in msg and "missing" in msg
    assert "2 row(s)" in msg
    msg = x_error(path)
    assert msg.startswith(f"{Path(path).name}:3: ") and "'b'" in msg and "missing" in msg


def test_missing_label_in_classification(tmp_path):
    path = write(tmp_path, "a,y\n1,cat\n2,\n3,NA\n4,dog\n")
    msg = encoding_error(path, "classification", "cross_entropy", 2)
    assert msg.startswith(f"{Path(path).name}:3: ") and "'y'" in msg and "2 row(s)" in msg


def test_a_missing_label_in_data_read_like_training_is_an_error_under_missing_error(tmp_path):
    """Validation, test and evaluate data go through Encoding.encode: a row without a label is
    an error there too (not left out), unless data.missing says drop or mean."""
    enc = fit_encoding(
        read_table(write(tmp_path, "a,y\n1,cat\n2,dog\n")), "classification", "cross_entropy", 2, True
    )
    other = read_table(write(tmp_path, "a,y\n1,cat\n2,\n3,NA\n", "other.csv"))
    with pytest.raises(DataError, match="other.csv:3: the target 'y' is missing; 2 row.s. have no target"):
        enc.encode(other)
    enc.missing = "drop"
    assert enc.encode(other)[2].tolist() == [True, False, False]


def test_values_too_large_to_standardize_are_named(tmp_path):
    """Squares beyond float64 (|x| > about 1e154) make the standard deviation infinite."""
    path = write(tmp_path, "a,big,y\n1,1e200,0\n2,-1e200,1\n")
    assert encoding_error(path) == (
        "data.csv: column 'big' holds values too large to standardize (up to 1e+200); rescale it, "
        "or set data.standardize: false"
    )
    fit_encoding(read_table(path), "regression", "mse", 1, False)  # not standardized: fine


@pytest.mark.parametrize("missing", ["drop", "mean"])
def test_a_category_only_a_row_without_a_target_holds_is_no_error(tmp_path, missing):
    """Such a row is left out under drop and mean, never trained on: its category ('purple') is
    not among the encoding's, and it stopped the run as 'a category training never saw'."""
    path = write(tmp_path, "size,color,y\n1,red,a\n2,blue,b\n3,red,a\n5,purple,\n6,blue,b\n")
    t = read_table(path, "y")
    enc = fit_encoding(t, "classification", "cross_entropy", 2, True, missing=missing)
    assert enc.columns[1].categories == ["blue", "red"]
    X, Y, kept = enc.encode(t)
    assert kept.tolist() == [True, True, True, False, True] and X.shape == (4, 3) and len(Y) == 4
    cfg = config_from_dict(
        {
            "data": {"train": path, "target": "y", "missing": missing},
            "network": {"layers": ["auto", 3, "auto"]},
            "cost": "cross_entropy",
        }
    )
    rd = load_run_data(cfg)
    assert len(rd.train) == 4 and any("left out 1 of 5 rows" in note for note in rd.notes), rd.notes
    with pytest.raises(DataError, match="data.csv:5: the target 'y' is missing"):  # as before
        fit_encoding(t, "classification", "cross_entropy", 2, True)


def test_infinite_value_is_refused(tmp_path):
    path = write(tmp_path, "a,y\n1,2\ninf,3\n")
    for msg in (encoding_error(path), x_error(path)):
        assert msg.startswith(f"{Path(path).name}:3: ") and "finite" in msg


@pytest.mark.parametrize("text", ["", "\n\n", "  \n"])
def test_empty_file(tmp_path, text):
    assert "empty" in data_error(write(tmp_path, text))


def test_header_only(tmp_path):
    msg = data_error(write(tmp_path, "a,b,y\n\n"))
    assert "header" in msg and "no data rows" in msg


def test_only_the_target_column(tmp_path):
    assert "no features" in data_error(write(tmp_path, "y\n1\n2\n"))


def test_column_names_in_another_case_are_suggested_first(tmp_path):
    """A column name typed in another case ('Label', 'COLOR') gets the column of that name as its
    'did you mean' under every data key that names columns, before a closer-looking other name
    ('Labels'); case-sensitive difflib found nothing like 'COLOR' in 'Color'."""
    path = write(tmp_path, "Width,Color,Labels,label,w\n1,red,p,a,1\n2,blue,q,b,2\n3,red,p,a,1\n")
    cases = {
        "target": ("Label", "'label'"),
        "features": (["WIDTH", "Color"], "'Width'"),
        "exclude": (["COLOR"], "'Color'"),
        "categorical": (["color"], "'Color'"),
        "weight": ("W", "'w'"),
    }
    for key, (value, suggested) in cases.items():
        data = {"train": path, "target": "label", key: value}
        cfg = config_from_dict(
            {"data": data, "network": {"layers": ["auto", 3, "auto"]}, "cost": "cross_entropy"}
        )
        with pytest.raises(DataError) as info:
            load_run_data(cfg)
        assert f"(did you mean {suggested}?)" in str(info.value), (key, str(info.value))
    assert did_you_mean("LABLE", ["Labels", "label"]) == " (did you mean 'label'?)"  # (case, then spelling)
    assert did_you_mean("Label", ["LABEL", "label"]) == " (did you mean 'label'?)"  # (the closest case)
    assert did_you_mean("zzz", ["label"]) == ""


def test_missing_target_column_suggests(tmp_path):
    msg = data_error(write(tmp_path, CSV), target="lable")
    assert "'lable'" in msg and "did you mean 'label'?" in msg
    for column in ("a", "b", "label", "c"):
        assert column in msg


def test_duplicate_and_empty_header_names(tmp_path):
    path = write(tmp_path, "a,b,a\n1,2,3\n")
    assert data_error(path).startswith(f"{Path(path).name}:1: ")
    path = write(tmp_path, "a,,c\n1,2,3\n")
    assert "empty name" in data_error(path)


def test_blank_lines_ignored_and_lines_still_counted(tmp_path):
    path = write(tmp_path, "a,y\n1,2\n\n3,4\n\n\n")
    t = read_table(path)
    np.testing.assert_array_equal(t.X[:, 0], [1, 3])
    assert list(t.lines) == [2, 4]
    path = write(tmp_path, "a,y\n1,2\n\n3,x\n\n")
    assert encoding_error(path).startswith(f"{Path(path).name}:4: ")


def test_utf8_bom(tmp_path):
    t = read_table(write(tmp_path, "\ufeffa,b,y\n1,2,3\n".encode()), "a")
    assert t.target == "a" and t.features == ["b", "y"]


def test_crlf_line_ends(tmp_path):
    path = write(tmp_path, b"a,b,y\r\n1,2,3\r\n4,5,6\r\n\r\n7,8\r\n")
    msg = data_error(path)
    assert msg == f"{Path(path).name}:5: expected 3 fields, found 2"
    t = read_table(write(tmp_path, b"a,b,y\r\n1,2,3\r\n4,5,6\r\n"))
    np.testing.assert_array_equal(t.X, [[1, 2], [4, 5]])
    assert list(t.y) == ["3", "6"]  # no stray carriage return on the last field


def test_quoted_fields(tmp_path):
    text = 'a,"b, the second",label\n1,"2","big, red"\n3,4,"multi\nline"\n5,6,x\n5,6,bad\n'
    t = read_table(write(tmp_path, text), "label")
    assert t.features == ["a", "b, the second"]
    assert list(t.y) == ["big, red", "multi\nline", "x", "bad"]
    assert list(t.lines) == [2, 3, 5, 6]  # the quoted newline makes row 2 span lines 3-4


def test_unterminated_quote_is_a_data_error(tmp_path):
    # the open quote would swallow the rest of the file into one cell: refused, naming its line
    path = write(tmp_path, 'a,y\n1,2\n3,"oops\n4,5\n')
    msg = data_error(path)
    assert msg.startswith(f"{Path(path).name}:3: ") and "quote" in msg


def test_non_utf8_names_line(tmp_path):
    path = write(tmp_path, b"a,y\n1,2\n3,\xff\n")
    assert data_error(path).startswith(f"{Path(path).name}:3: ")


def test_a_nul_byte_is_named_with_its_line(tmp_path):
    path = write(tmp_path, b"a,y\n1,2\n3,4\x00\n")
    assert data_error(path) == f"{Path(path).name}:3: contains a NUL byte; this is not a CSV text file"


@pytest.mark.parametrize("quoted", [False, True], ids=["fast", "careful"])
def test_header_names_are_stripped_by_both_readers(tmp_path, quoted):
    """' b ' is column b, whether the numbers go by the fast reader or a quote sends the file
    to the csv module."""
    cell = '"2"' if quoted else "2"
    t = read_table(write(tmp_path, f" a , b ,y \n1,{cell},3\n"), "y")
    assert t.features == ["a", "b"] and t.target == "y"


# -- labels ---------------------------------------------------------------------------------------


def test_string_labels_map_to_classes_and_decode_back(tmp_path):
    text = "f1,f2,animal\n0,1,dog\n1,0,cat\n2,2,eel\n3,1,dog\n4,0, cat \n"
    t = read_table(write(tmp_path, text), "animal")
    enc = fit_encoding(t, "classification", "cross_entropy", 3, True)
    assert enc.classes == ["cat", "dog", "eel"]
    Y = enc.encode_y(t)
    assert Y.shape == (5, 3)
    np.testing.assert_array_equal(Y.sum(axis=1), 1)
    expected = ["dog", "cat", "eel", "dog", "cat"]
    np.testing.assert_array_equal(Y.argmax(axis=1), [enc.classes.index(c) for c in expected])
    assert list(enc.decode(Y)) == expected
    probs = np.array([[0.1, 0.2, 0.7], [0.6, 0.3, 0.1]])
    assert list(enc.decode(probs)) == ["eel", "cat"]


def test_numeric_labels_sorted_numerically(tmp_path):
    text = "x,y\n0,10\n1,2\n2,1\n3,2\n4,10\n5,-3\n"
    t = read_table(write(tmp_path, text))
    enc = fit_encoding(t, "classification", "cross_entropy", 4, False)
    assert enc.classes == ["-3", "1", "2", "10"]
    assert list(enc.decode(enc.encode_y(t))) == ["10", "2", "1", "2", "10", "-3"]


def test_unseen_label_is_an_error(tmp_path):
    train = read_table(write(tmp_path, "x,y\n0,a\n1,b\n"))
    enc = fit_encoding(train, "classification", "cross_entropy", 2, False)
    other = read_table(write(tmp_path, "x,y\n0,a\n1,c\n", "other.csv"))
    with pytest.raises(DataError, match=r"other\.csv:3: label 'c'"):
        enc.encode_y(other)


def test_binary_labels_one_output(tmp_path):
    t = read_table(write(tmp_path, "x,y\n0,no\n1,yes\n2,no\n"))
    enc = fit_encoding(t, "classification", "binary_cross_entropy", 1, False)
    assert enc.classes == ["no", "yes"]
    np.testing.assert_array_equal(enc.encode_y(t)[:, 0], [0, 1, 0])
    assert list(enc.decode(np.array([[0.2], [0.9]]))) == ["no", "yes"]
    np.testing.assert_allclose(enc.probabilities(np.array([[0.25]])), [[0.75, 0.25]])


def test_one_vs_rest_probabilities_of_a_row_every_sigmoid_rejects_sum_to_one(tmp_path):
    """binary_cross_entropy with one sigmoid per class, normalised: a row whose logits are all
    below -28 has sigmoids summing under 1e-12, which the old floor of the sum (1e-12) divided
    into probabilities summing to 8e-28. From the logits, softmax(log sigmoid(z))."""
    from nettrain.activations import sigmoid

    t = read_table(write(tmp_path, "x,y\n0,a\n1,b\n2,c\n"))
    enc = fit_encoding(t, "classification", "binary_cross_entropy", 3, False)
    z = np.array([[-100, -95, -90], [2, -1, -3]], np.float32)
    p = enc.probabilities(sigmoid(z), z)
    log_sigmoid = -np.logaddexp(0, -z.astype(np.float64))
    expected = np.exp(log_sigmoid) / np.exp(log_sigmoid).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(p, expected, rtol=1e-5)
    assert p.dtype == np.float32
    np.testing.assert_allclose(p[1], enc.probabilities(sigmoid(z))[1], rtol=1e-6)  # (as before, away from 0)


# -- NPY and NPZ ----------------------------------------------------------------------------------


def test_npy_target_last_column_and_by_index(tmp_path):
    M = np.arange(12, dtype=np.float32).reshape(4, 3)
    path = str(tmp_path / "m.npy")
    np.save(path, M)
    t = read_table(path)
    np.testing.assert_array_equal(t.X, M[:, :2])
    np.testing.assert_array_equal(t.y, M[:, 2])
    assert t.features == ["0", "1"] and t.target == "2" and t.lines is None
    t = read_table(path, 0)
    np.testing.assert_array_equal(t.X, M[:, 1:])
    np.testing.assert_array_equal(t.y, M[:, 0])
    assert t.features == ["1", "2"] and t.target == "0"
    assert "row 1" in t.where(1)


def test_npy_target_name_is_an_error(tmp_path):
    path = str(tmp_path / "m.npy")
    np.save(path, np.ones((3, 3)))
    msg = data_error(path, target="label")
    assert "'label'" in msg and "index" in msg
    assert "does not exist" in data_error(path, target=3)


def test_npy_must_be_2d_and_finite(tmp_path):
    path = str(tmp_path / "v.npy")
    np.save(path, np.ones(5))
    assert "2-D" in data_error(path)
    M = np.ones((3, 3))
    M[1, 2] = np.inf
    np.save(path, M)
    assert "row 1" in data_error(path) and "infinite" in data_error(path)
    # NaN is a missing value: read, then refused by the encoding (data.missing: error)
    M[1, 2] = np.nan
    np.save(path, M)
    assert "row 1" in encoding_error(path) and "missing" in encoding_error(path)
    M[1, 2], M[2, 0] = 1.0, np.nan
    np.save(path, M)
    assert "row 2" in encoding_error(path) and "row 2" in x_error(path)


@pytest.mark.parametrize("descr", ["|S0", "|V0", "0<b"])  # ('0<b': int8 sub-arrays of shape (0,))
def test_npy_of_zero_sized_elements_is_a_data_error(tmp_path, descr):
    """A header declaring elements of 0 bytes (found by the fuzz test below): np.frombuffer
    raised ValueError ('itemsize cannot be zero'), an internal error at the command line."""
    path = tmp_path / "z.npy"
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": descr, "fortran_order": False, "shape": (2, 3)})
    path.write_bytes(header.getvalue())
    for need_target in (True, False):
        assert data_error(str(path), need_target=need_target).startswith(f"{path.name}: ")


def test_npz_labels_and_regression_targets(tmp_path):
    X = np.random.default_rng(0).normal(size=(6, 3))
    path = str(tmp_path / "d.npz")
    np.savez(path, X=X, y=np.array([0, 2, 1, 2, 0, 1]))
    t = read_table(path)
    np.testing.assert_array_equal(t.X, X)
    enc = fit_encoding(t, "classification", "cross_entropy", 3, True)
    assert enc.classes == ["0", "1", "2"]
    # numbers in, numbers out (the classes' text is for files and messages)
    labels = enc.decode(enc.encode_y(t))
    assert labels.dtype == np.int64 and labels.tolist() == [0, 2, 1, 2, 0, 1]
    np.savez(path, X=X, y=np.array([0.5, 1.5, 0.5, 1.5, 0.5, 1.5]))
    t = read_table(path)
    enc = fit_encoding(t, "classification", "binary_cross_entropy", 1, True)
    assert enc.decode(enc.encode_y(t)).tolist() == [0.5, 1.5, 0.5, 1.5, 0.5, 1.5]
    Y = X @ np.array([[1.0, 2.0], [0.0, 1.0], [3.0, -1.0]])
    np.savez(path, X=X, y=Y)
    t = read_table(path)
    np.testing.assert_array_equal(t.y, Y)
    enc = fit_encoding(t, "regression", "mse", 2, True)
    np.testing.assert_allclose(enc.decode(enc.encode_y(t, "float64")), Y, rtol=1e-12, atol=1e-12)


def test_npz_float32_labels_keep_their_text_and_huge_integers_are_refused(tmp_path):
    path = str(tmp_path / "d.npz")
    np.savez(path, X=np.ones((4, 2)), y=np.array([0.1, 0.2, 0.1, 0.2], dtype=np.float32))
    enc = fit_encoding(read_table(path), "classification", "cross_entropy", 2, True)
    assert enc.classes == ["0.1", "0.2"]  # not float64's 0.10000000149011612
    np.savez(path, X=np.ones((3, 2)), y=np.array([1, 2, 3]) + 2**53)
    with pytest.raises(DataError, match="integers beyond 2\\^53"):
        read_table(path)


def test_number_labels_written_another_way_are_the_same_class(tmp_path):
    """A model of an NPZ's 0.5 / 1.5 labels evaluates a CSV written by np.savetxt ('1.5e+00')."""
    path = str(tmp_path / "d.npz")
    np.savez(path, X=np.ones((4, 2)), y=np.array([0.5, 1.5, 0.5, 1.5]))
    enc = fit_encoding(read_table(path), "classification", "cross_entropy", 2, True)
    assert enc.class_index(np.array(["1.500000000000000000e+00", "5e-1", "0.5"])).tolist() == [1, 0, 0]
    with pytest.raises(DataError, match="label '2.5' was not seen"):
        enc.class_index(np.array(["2.5"]))


def test_class_index_is_each_labels_class_and_names_the_first_unseen_row(tmp_path):
    """Labels in any order map to their classes (sorted or not among the classes); the first row
    with a label training never saw is the error, by its line."""
    path = write(tmp_path, "a,y\n1,dog\n2,cat\n3,bird\n4,cat\n")
    t = read_table(path)
    enc = fit_encoding(t, "classification", "cross_entropy", 3, True)
    assert enc.classes == ["bird", "cat", "dog"]
    enc.classes = ["dog", "bird", "cat"]  # (an order other than sorted: each keeps its own index)
    labels = np.array(["cat", "dog", "bird", "dog", "cat", "bird"])
    assert enc.class_index(labels).tolist() == [2, 0, 1, 0, 2, 1]
    assert enc.class_index(np.array([], dtype=str)).tolist() == []
    bad = write(tmp_path, "a,y\n1,dog\n2,cow\n3,cat\n4,ant\n", "bad.csv")
    with pytest.raises(DataError, match="^bad.csv:3: label 'cow' was not seen in the training data"):
        enc.encode_y(read_table(bad))
    for label in ("zebra", "aardvark", "ca", "cats", "Cat"):  # (after, before, between the sorted classes)
        with pytest.raises(DataError, match=f"^row 1: label '{label}' was not seen"):
            enc.class_index(np.array(["dog", label, "bird"]))


#: cells whose kind is easy to get wrong: what Python's float() reads and what it does not
ODD_CELLS = [
    *["1_000", "١٢", "inf", "-Infinity", "nan(1)", "1e", "e5", "0x10", "1,5", "+.5", "5.", "1e500", "1d0"],
    *["", "NA", "?", "none", "  7 ", "x", "red", "-", "."],
]


def _column_kind_one_cell_at_a_time(cells, name, table):
    """_column_kind's answer as it was first written: float() tried on each present cell."""
    from nettrain.data.read import is_missing

    text = np.char.strip(cells)
    rows = np.flatnonzero(~is_missing(text))
    numeric = []
    for v in text[rows]:
        try:
            float(v)
            numeric.append(True)
        except ValueError:
            numeric.append(False)
    if not rows.size or all(numeric):
        return "numeric"
    if np.mean(numeric) >= 0.5:
        bad = numeric.index(False)
        return f"{table.where(int(rows[bad]))}: column '{name}' is numeric but holds '{text[rows[bad]]}'"
    return "categorical"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cells=st.lists(st.one_of(st.sampled_from(ODD_CELLS), st.floats(allow_nan=False).map(str)), max_size=12)
)
@example(cells=["1", "", "NA", "2", "x", "3"])  # (a stray word after missing cells: its own line)
@example(cells=["red", "1_000", "red", "١٢"])
def test_a_columns_kind_is_decided_as_float_reads_each_cell(tmp_path, cells):
    """categorical: auto decides a text column's kind as float() reads its cells one by one (all
    at once where NumPy reads them all, else each distinct cell once): the same kind, and for a
    mostly numeric column the same first stray word and line; also where its numbers are parsed
    first (``Table.numbers``, which refuses some that float() reads: '1_000', 'inf')."""
    from nettrain.data.encode import _column_kind

    column = np.array(cells, dtype=str).reshape(len(cells), 1)
    table = Table("d.csv", ["b"], column, lines=np.arange(2, len(cells) + 2))
    want = _column_kind_one_cell_at_a_time(table.column(0), "b", table)
    for j in (None, 0):  # (0: its numbers parsed first, and kept where they all are numbers)
        try:
            got = _column_kind(table.column(0), "b", table, "auto", j)
        except DataError as exc:
            got = str(exc).split(", which is not a number")[0]
        assert got == want


@settings(max_examples=200, deadline=None)
@given(
    cells=st.lists(
        st.one_of(
            st.sampled_from(["NA", " n/A ", "NaN", "-NAN", "+nan", "Null", "NONE", "?", "", "  ", "nones"]),
            st.sampled_from(["\u0130", "\u212a", "na\u0130", "0.12345", "red", "\tNA\n"]),
            st.text(max_size=6),
        ),
        max_size=10,
    )
)
def test_missing_cells_are_those_whose_stripped_lower_case_text_is_a_missing_word(cells):
    """is_missing looks at short cells only: the same answer as lower-casing every cell."""
    from nettrain.data.read import MISSING, is_missing

    text = np.array(cells, dtype=str)
    want = np.isin(np.char.lower(np.char.strip(text)), list(MISSING)).tolist()
    assert is_missing(text).tolist() == want
    assert is_missing(text.reshape(-1, 1)).tolist() == [[w] for w in want]


def test_npz_string_labels(tmp_path):
    path = str(tmp_path / "d.npz")
    np.savez(path, X=np.ones((3, 2)), y=np.array(["b", "a", "b"]))
    t = read_table(path)
    enc = fit_encoding(t, "classification", "cross_entropy", 2, True)
    assert enc.classes == ["a", "b"]
    assert enc.decode(enc.encode_y(t)).tolist() == ["b", "a", "b"]


def test_csv_labels_stay_text_even_when_they_are_digits(tmp_path):
    """A CSV's labels are text as written ('007' is not 7): predictions give them back so."""
    path = write(tmp_path, "x,label\n1,007\n2,1\n3,007\n")
    t = read_table(path, "label")
    enc = fit_encoding(t, "classification", "cross_entropy", 2, True)
    assert enc.decode(enc.encode_y(t)).tolist() == ["007", "1", "007"]


def test_npz_without_x_or_y(tmp_path):
    path = str(tmp_path / "d.npz")
    np.savez(path, data=np.ones((3, 2)))
    assert data_error(path) == "d.npz: an NPZ data file must hold an array 'X' (and 'y'); found data"
    np.savez(path, X=np.ones((3, 2)))
    assert "'y'" in data_error(path)
    np.savez(path, X=np.ones((3, 2)), y=np.ones(4))
    assert "one entry per row" in data_error(path)


def test_npy_that_is_not_a_matrix_of_numbers_with_rows(tmp_path):
    path = str(tmp_path / "m.npy")
    np.save(path, np.array([["1", "2"], ["3", "x"]]))
    for need_target in (True, False):
        assert (
            data_error(path, need_target=need_target) == "m.npy: the matrix has dtype <U1; expected numbers"
        )
    np.save(path, np.ones((0, 3)))
    assert data_error(path) == "m.npy: holds no rows"
    np.save(path, np.ones((4, 1)))  # the target and nothing to learn from
    assert data_error(path) == "m.npy: has only the target column 0 and no features"
    assert read_table(path, need_target=False).features == ["0"]  # (predict: one feature)


@pytest.mark.parametrize("suffix", ["npy", "npz"])
def test_an_array_declaring_more_than_the_file_holds_is_refused_before_allocating(tmp_path, suffix):
    """A truncated or forged header: refused by its declared size, not by NumPy allocating it
    and then failing (a few bytes can declare gigabytes)."""
    import tracemalloc

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 100)}
    )
    member = header.getvalue() + b"\0" * 800  # 800 MB declared, 800 bytes held
    path = tmp_path / f"big.{suffix}"
    if suffix == "npy":
        path.write_bytes(member)
    else:
        import zipfile

        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("X.npy", member)
            zf.writestr("y.npy", member)
    tracemalloc.start()
    try:
        msg = data_error(str(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert msg.startswith(f"big.{suffix}: ") and "declares 800,000,000 bytes" in msg and "forged" in msg, msg
    assert peak < 50 * 2**20, peak


@pytest.mark.parametrize("member", ["X", "y"])
def test_npz_with_pickled_object_array_is_refused(tmp_path, member):
    path = str(tmp_path / "d.npz")
    arrays = {"X": np.ones((2, 2)), "y": np.array([1.0, 2.0])}
    arrays[member] = np.array([[1, None], [2, 3]] if member == "X" else [1, None], dtype=object)
    np.savez(path, **arrays)
    assert "pickled" in data_error(path)


def test_npy_with_pickled_object_array_is_refused(tmp_path):
    path = str(tmp_path / "d.npy")
    np.save(path, np.array([[1, "a"], [2, "b"]], dtype=object))
    assert "pickled" in data_error(path)


# -- standard input -------------------------------------------------------------------------------


class TextStdin:
    """Like sys.stdin: text on the surface, bytes in .buffer."""

    def __init__(self, data: bytes):
        self.buffer = io.BytesIO(data)

    def read(self):
        raise AssertionError("the reader must use .buffer")


def test_stdin_bytes_and_buffer():
    data = b"a,b,y\n1,2,3\n4,5,6\n"
    for stdin in (io.BytesIO(data), TextStdin(data)):
        t = read_table("-", stdin=stdin)
        np.testing.assert_array_equal(t.X, [[1, 2], [4, 5]])
        assert t.source == "<stdin>"


def test_stdin_npy():
    buf = io.BytesIO()
    np.save(buf, np.eye(3))
    t = read_table("-", stdin=io.BytesIO(buf.getvalue()))
    np.testing.assert_array_equal(t.y, [0, 0, 1])


def test_stdin_errors_name_stdin():
    with pytest.raises(DataError, match="standard input is empty"):
        read_table("-", stdin=io.BytesIO(b""))
    with pytest.raises(DataError, match=r"<stdin>:3: expected 2 fields"):
        read_table("-", stdin=io.BytesIO(b"a,b\n1,2\n3\n"))


def test_missing_file_and_directory(tmp_path):
    assert "not found" in data_error(str(tmp_path / "nope.csv"))
    assert "directory" in data_error(str(tmp_path))


# -- encoding ------------------------------------------------------------------------------------


def table_from(tmp_path, X: np.ndarray, y: np.ndarray, name="t.csv"):
    header = ",".join([f"f{j}" for j in range(X.shape[1])] + ["y"])
    rows = [",".join(repr(float(v)) for v in [*x, t]) for x, t in zip(X, y, strict=True)]
    return read_table(write(tmp_path, header + "\n" + "\n".join(rows) + "\n", name))


def test_standardization_uses_train_statistics(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(loc=[5.0, -3.0, 100.0], scale=[2.0, 0.1, 30.0], size=(50, 3))
    train = table_from(tmp_path, X, rng.normal(size=50))
    enc = fit_encoding(train, "regression", "mse", 1, True)
    Z = enc.transform(train.X, "float64")
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1, rtol=1e-12)
    assert enc.transform(train.X).dtype == np.float32
    # other data is scaled with the training statistics, not its own
    X2 = rng.normal(size=(7, 3))
    np.testing.assert_allclose(
        enc.transform(X2, "float64"), (X2 - X.mean(axis=0)) / X.std(axis=0), rtol=1e-12
    )


def test_constant_column_scale_one(tmp_path):
    X = np.column_stack([np.full(5, 7.0), np.arange(5.0)])
    enc = fit_encoding(table_from(tmp_path, X, np.arange(5.0)), "regression", "mse", 1, True)
    assert enc.x_scale[0] == 1.0 and enc.x_mean[0] == 7.0
    Z = enc.transform(X, "float64")
    assert np.all(np.isfinite(Z))
    np.testing.assert_array_equal(Z[:, 0], 0)


def test_a_constant_column_off_by_its_rounding_gets_scale_one(tmp_path):
    """Ten rows of 0.3: the float64 mean is not exactly 0.3, so the std came out as 5.6e-17, not 0,
    and 0.31 at predict time was standardized to 1.8e14 (a prediction of garbage). The same for
    a regression target of one value."""
    X = np.column_stack([np.full(10, 0.3), np.arange(10.0)])
    assert np.full(10, 0.3).std() > 0  # (the rounding this is about)
    enc = fit_encoding(table_from(tmp_path, X, np.full(10, 0.3)), "regression", "mse", 1, True)
    assert enc.x_scale[0] == 1.0 and enc.y_scale[0] == 1.0
    Z = enc.transform(np.array([[0.31, 4.5]]), "float64")
    assert abs(Z[0, 0] - 0.01) < 1e-12
    # a column that does vary, however little next to its mean, keeps its spread
    X[:, 0] = 1e6 + 1e-4 * np.arange(10)
    enc = fit_encoding(table_from(tmp_path, X, np.arange(10.0)), "regression", "mse", 1, True)
    np.testing.assert_allclose(enc.x_scale[0], X[:, 0].std(), rtol=1e-6)


def test_a_streamed_constant_column_gets_scale_one(tmp_path, monkeypatch):
    """The streamed .npy's statistics (merged block by block) decide constant columns alike."""
    import nettrain.data.stream as stream

    monkeypatch.setattr(stream, "STREAM_BYTES", 1000)
    monkeypatch.setattr(stream, "BLOCK_BYTES", 1000)
    rng = np.random.default_rng(0)
    M = np.column_stack([np.full(300, 0.3), rng.normal(size=300), np.full(300, 0.7)])
    np.save(tmp_path / "m.npy", M)
    cfg = config_from_dict(
        {"data": {"train": str(tmp_path / "m.npy")}, "network": {"layers": [2, 1]}, "output": "run"}
    )
    enc = load_run_data(cfg).encoding
    assert enc.x_scale[0] == 1.0 and enc.y_scale[0] == 1.0
    assert abs(enc.x_scale[1] - M[:, 1].std()) < 1e-9


def test_the_encoding_records_the_training_rows_range_in_memory_and_streamed(tmp_path, monkeypatch):
    """x_min and x_max (a warm start's drift note): the unscaled extremes of the training rows,
    a missing cell left out (a fill lies between them), the same whether the .npy is read whole
    or streamed block by block; saved in the model file and read back."""
    import nettrain.data.stream as stream
    from nettrain.modelfile import Model, load_model, save_model
    from nettrain.network import Network

    rng = np.random.default_rng(0)
    M = np.column_stack([rng.normal(size=300), rng.uniform(-3, 9, size=300), rng.normal(size=300)])
    M[5, 1] = np.nan
    np.save(tmp_path / "m.npy", M)
    raw = {"data": {"train": str(tmp_path / "m.npy"), "missing": "mean"}, "network": {"layers": [2, 1]}}
    whole = load_run_data(config_from_dict({**raw, "output": "run"})).encoding
    monkeypatch.setattr(stream, "STREAM_BYTES", 1000)
    monkeypatch.setattr(stream, "BLOCK_BYTES", 1000)
    streamed = load_run_data(config_from_dict({**raw, "output": "run"})).encoding
    for enc in (whole, streamed):
        np.testing.assert_array_equal(enc.x_min, np.nanmin(M[:, :2], axis=0))
        np.testing.assert_array_equal(enc.x_max, np.nanmax(M[:, :2], axis=0))
    net = Network.from_config(config_from_dict({**raw, "output": "run"}))
    save_model(tmp_path / "model.npz", Model(net, whole, {}))
    back = load_model(tmp_path / "model.npz").encoding
    np.testing.assert_array_equal(back.x_min, whole.x_min)
    np.testing.assert_array_equal(back.x_max, whole.x_max)
    # a model without them (an older nettrain's) loads, with None
    whole.x_min = whole.x_max = None
    save_model(tmp_path / "older.npz", Model(net, whole, {}))
    assert load_model(tmp_path / "older.npz").encoding.x_min is None


def test_standardize_off(tmp_path):
    X = np.arange(10.0).reshape(5, 2)
    table = table_from(tmp_path, X, np.arange(5.0) * 3 + 1)
    enc = fit_encoding(table, "regression", "mse", 1, False)
    np.testing.assert_array_equal(enc.transform(X, "float64"), X)
    np.testing.assert_array_equal(enc.decode(np.array([[2.5]])), [2.5])


def test_regression_target_standardized_and_decoded(tmp_path):
    rng = np.random.default_rng(2)
    y = rng.normal(loc=250.0, scale=40.0, size=30)
    t = table_from(tmp_path, rng.normal(size=(30, 2)), y)
    enc = fit_encoding(t, "regression", "mse", 1, True)
    Y = enc.encode_y(t, "float64")
    assert Y.shape == (30, 1)
    np.testing.assert_allclose(Y.mean(), 0, atol=1e-12)
    np.testing.assert_allclose(Y.std(), 1, rtol=1e-12)
    back = enc.decode(Y)
    assert back.shape == (30,)
    np.testing.assert_allclose(back, y, rtol=1e-12)
    # a network output of 0 means the training mean, of 1 one standard deviation above
    np.testing.assert_allclose(enc.decode(np.array([[0.0], [1.0]])), [y.mean(), y.mean() + y.std()])


def test_regression_outputs_mismatch(tmp_path):
    t = table_from(tmp_path, np.ones((3, 2)), np.arange(3.0))
    with pytest.raises(DataError, match="set the last of network.layers to 1"):
        fit_encoding(t, "regression", "mse", 2, True)


def test_one_class_target(tmp_path):
    t = read_table(write(tmp_path, "x,y\n1,cat\n2,cat\n"))
    with pytest.raises(DataError, match=r"only one class \('cat'\)"):
        fit_encoding(t, "classification", "cross_entropy", 2, True)


def test_outputs_vs_classes_mismatch_names_the_number(tmp_path):
    t = read_table(write(tmp_path, "x,y\n1,a\n2,b\n3,c\n"))
    with pytest.raises(DataError, match="3 classes but the network has 5 outputs") as info:
        fit_encoding(t, "classification", "cross_entropy", 5, True)
    assert "set the last of network.layers to 3" in str(info.value)


def test_binary_cross_entropy_one_output_needs_two_classes(tmp_path):
    t = read_table(write(tmp_path, "x,y\n1,a\n2,b\n3,c\n"))
    with pytest.raises(DataError, match="exactly 2 classes, found 3"):
        fit_encoding(t, "classification", "binary_cross_entropy", 1, True)
    # one-vs-rest sigmoids, one output per class, are fine
    enc = fit_encoding(t, "classification", "binary_cross_entropy", 3, True)
    assert enc.classes == ["a", "b", "c"]


# -- the data of a run ----------------------------------------------------------------------------


def run_config(train: str, layers=(2, 3, 1), seed=0, **data):
    return config_from_dict(
        {
            "data": {"train": train, **data},
            "network": {"layers": list(layers)},
            "cost": "mse",
            "training": {"seed": seed},
        }
    )


def split_lines(cfg):
    rd = load_run_data(cfg)
    return set(rd.train.table.lines.tolist()), set(rd.validation.table.lines.tolist()), rd


def test_validation_split_is_seeded_disjoint_and_covering(tmp_path):
    n = 40
    rows = "\n".join(f"{i},{i * 2},{i * 3}" for i in range(n))
    path = write(tmp_path, "a,b,y\n" + rows + "\n")
    train, val, rd = split_lines(run_config(path, validation=0.25, seed=3))
    assert len(val) == 10 and len(train) == 30
    assert train.isdisjoint(val) and train | val == set(range(2, n + 2))
    # rows stay in file order and features match their lines
    assert list(rd.train.table.lines) == sorted(train)
    np.testing.assert_array_equal(rd.train.table.X[:, 0], rd.train.table.lines - 2)
    again_train, again_val, _ = split_lines(run_config(path, validation=0.25, seed=3))
    assert (again_train, again_val) == (train, val)
    other_train, other_val, _ = split_lines(run_config(path, validation=0.25, seed=4))
    assert other_val != val and len(other_val) == 10 and other_train | other_val == train | val


@pytest.mark.parametrize("n, fraction, held", [(10, 0.01, 1), (3, 0.9, 2), (2, 0.5, 1)])
def test_a_hold_out_keeps_at_least_one_row_on_each_side(n, fraction, held):
    """A tiny fraction still holds out a row, a large one still leaves one to train on."""
    from nettrain.data import hold_out_rows, split_indices, stream_rng

    kept, out = split_indices(n, fraction, stream_rng(0, 1))
    assert len(out) == held and len(kept) == n - held
    assert sorted([*kept.tolist(), *out.tolist()]) == list(range(n))
    kept, out = hold_out_rows(n, fraction, stream_rng(0, 1), None, "t.csv", "validation")
    assert len(out) == held


def test_a_hold_out_of_one_row_is_refused():
    from nettrain.data import hold_out_rows, stream_rng

    with pytest.raises(DataError, match="t.csv: 1 row.s. is too few to hold out a test fraction"):
        hold_out_rows(1, 0.5, stream_rng(0, 4), None, "t.csv", "test")


def test_many_number_classes_are_taken_for_a_quantity_only_beyond_a_tenth_of_the_rows(tmp_path):
    """25 classes of 10 rows each are classes (25 is not over a tenth of 250 rows); the same 25
    numbers in 60 rows look like a quantity taken as classes: a note says so."""
    rows = "".join(f"{i % 25 + 0.5 * (i % 7)},{i % 25}\n" for i in range(250))
    cfg = {"network": {"layers": ["auto", 4, "auto"]}, "cost": "cross_entropy"}
    rd = load_run_data(config_from_dict({**cfg, "data": {"train": write(tmp_path, "a,y\n" + rows)}}))
    assert len(rd.encoding.classes) == 25 and not [n for n in rd.notes if "quantity" in n], rd.notes
    few = "".join(rows.splitlines(keepends=True)[:60])
    rd = load_run_data(
        config_from_dict({**cfg, "data": {"train": write(tmp_path, "a,y\n" + few, "few.csv")}})
    )
    assert any("25 distinct numbers in 60 rows" in n for n in rd.notes), rd.notes


def test_the_test_fraction_is_held_out_first_with_its_own_stream(tmp_path):
    """stream_rng: 1 the validation split, 4 the test split; the test rows are held out of the
    whole file first, the validation rows then out of the rest."""
    from nettrain.data import hold_out_rows, stream_rng

    path = write(tmp_path, "a,y\n" + "".join(f"{i},{i % 3}\n" for i in range(40)))
    rd = load_run_data(run_config(path, (1, 3, 1), seed=5, test=0.25, validation=0.2))
    rest, test = hold_out_rows(40, 0.25, stream_rng(5, 4), None, "t", "test")
    assert rd.test.table.lines.tolist() == (test + 2).tolist()
    _, val = hold_out_rows(30, 0.2, stream_rng(5, 1), None, "t", "validation")
    assert rd.validation.table.lines.tolist() == (rest[val] + 2).tolist()


def test_run_data_needs_a_training_file():
    from nettrain.errors import ConfigError

    with pytest.raises(ConfigError, match="data.train is required to fit"):
        load_run_data(config_from_dict({"network": {"layers": [2, 3, 1]}}))


def test_run_data_encodes_with_training_statistics(tmp_path):
    rows = "\n".join(f"{i},{(i * 7) % 5},{i + 0.5}" for i in range(20))
    path = write(tmp_path, "a,b,y\n" + rows + "\n")
    rd = load_run_data(run_config(path, validation=0.3))
    Xtr = rd.train.table.X
    np.testing.assert_allclose(rd.encoding.x_mean, Xtr.mean(axis=0))
    np.testing.assert_allclose(rd.train.X.mean(axis=0), 0, atol=1e-6)
    assert rd.train.X.dtype == np.float32 and rd.train.Y.shape == (len(Xtr), 1)
    np.testing.assert_allclose(
        rd.validation.X, (rd.validation.table.X - Xtr.mean(axis=0)) / Xtr.std(axis=0), rtol=1e-5
    )


def test_input_width_mismatch(tmp_path):
    path = write(tmp_path, "a,b,c,y\n1,2,3,4\n5,6,7,8\n")
    with pytest.raises(
        DataError,
        match="has 3 inputs but network.layers starts with 2; set it to 3 \\(or auto: the data.s\\)",
    ):
        load_run_data(run_config(path, layers=(2, 3, 1)))


def test_test_file_columns_matched_by_name(tmp_path):
    train = write(tmp_path, "a,b,y\n1,10,0\n2,20,1\n3,30,2\n", "train.csv")
    test = write(tmp_path, "b,y,a\n40,3,4\n", "test.csv")
    rd = load_run_data(run_config(train, test=test, target="y"))
    np.testing.assert_array_equal(rd.test.table.X, [[4, 40]])
    test = write(tmp_path, "b,y,z\n40,3,4\n", "test2.csv")
    with pytest.raises(DataError, match="'a'"):
        load_run_data(run_config(train, test=test, target="y"))


# -- select_features ------------------------------------------------------------------------------


def test_select_features_by_name_ignoring_extras(tmp_path):
    path = write(tmp_path, "id,b,label,a\nr1,2,cat,1\nr2,4,dog,3\n")
    t = read_table(path, need_target=False)
    X = select_features(t, ["a", "b"])
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    assert X.dtype == np.float64


def test_select_features_missing_column(tmp_path):
    t = read_table(write(tmp_path, "id,b\nr1,2\n"), need_target=False)
    with pytest.raises(DataError, match="feature column 'a' is missing"):
        select_features(t, ["a", "b"])


def test_select_features_bad_value_names_line(tmp_path):
    path = write(tmp_path, "a,b\n1,2\n3,x\n")
    t = read_table(path, need_target=False)
    with pytest.raises(DataError, match=f"{Path(path).name}:3: column 'b'"):
        select_features(t, ["a", "b"])


@pytest.mark.parametrize("quote", ["", '"'], ids=["fast reader", "careful reader"])
@pytest.mark.parametrize("extra", ["", ",label"], ids=["two columns", "with the target"])
def test_header_names_that_are_numbers_are_matched_by_name(tmp_path, quote, extra):
    """pandas writes integer column names as '0', '1': they are still a header, whichever
    reader parsed the file (a quoted cell sends it to the careful one)."""
    tail = ["", ",a", ",b"] if extra else ["", "", ""]
    path = write(tmp_path, f"1,0{extra}{tail[0]}\n{quote}4{quote},3{tail[1]}\n2,1{tail[2]}\n")
    t = read_table(path, need_target=False)
    np.testing.assert_array_equal(select_features(t, ["0", "1"]), [[3, 4], [1, 2]])


def test_select_features_array_width(tmp_path):
    path = str(tmp_path / "m.npy")
    np.save(path, np.ones((2, 3)))
    t = read_table(path, need_target=False)
    assert select_features(t, ["x0", "x1", "x2"]).shape == (2, 3)
    with pytest.raises(DataError, match="expects 2 features"):
        select_features(t, ["x0", "x1"])


# -- properties -----------------------------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(FUZZ, max_examples=100)
@given(
    X=st.integers(1, 8).flatmap(
        lambda n: st.lists(st.lists(finite, min_size=3, max_size=3), min_size=n, max_size=n)
    )
)
def test_csv_values_read_back_exactly(tmp_path, X):
    X = np.array(X)
    text = "p,q,r\n" + "".join(f"{a!r},{b!r},{c!r}\n" for a, b, c in X.tolist())
    t = read_table(write(tmp_path, text))
    np.testing.assert_array_equal(t.X, X[:, :2])
    np.testing.assert_array_equal(t.y.astype(np.float64), X[:, 2])


def npy_bytes(a) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def npz_bytes(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


VALID = [
    npy_bytes(np.arange(6.0).reshape(3, 2)),
    npz_bytes(X=np.ones((2, 2)), y=np.array([1.0, 2.0])),
    b"a,b,y\n1,2,cat\n3,4,dog\n",
]


@st.composite
def damaged(draw):
    """A valid file with a few bytes changed, cut short, or with junk appended."""
    data = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(0, 4))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    cut = draw(st.integers(1, len(data)))
    return bytes(data[:cut]) + draw(st.binary(max_size=8))


arbitrary = st.one_of(
    st.binary(max_size=200),
    st.builds(
        lambda p, b: p + b,
        st.sampled_from([b"PK\x03\x04", b"\x93NUMPY", b"\xef\xbb\xbf"]),
        st.binary(max_size=200),
    ),
    st.text(st.sampled_from(list('ab,"\n\r 1.5e-?NA')), max_size=80).map(str.encode),
    damaged(),
)


@FUZZ
@given(
    data=arbitrary,
    classification=st.booleans(),
    need_target=st.booleans(),
    missing=st.sampled_from(["error", "drop", "mean"]),
    categorical=st.sampled_from(["auto", ()]),
    outputs=st.integers(2, 4),
)
# every row's target missing left no rows to parse: 'cannot reshape array of size 0' (a ValueError)
@example(
    data=b"\x01,\x02\r,",
    classification=False,
    need_target=True,
    missing="error",
    categorical="auto",
    outputs=2,
)
def test_arbitrary_bytes_read_and_encode_or_raise_data_error(
    tmp_path, data, classification, need_target, missing, categorical, outputs
):
    """Any bytes: the reader, Table.X and the encoding (every missing policy, categorical auto)
    either work or raise DataError with a message; never another exception."""
    path = tmp_path / "fuzz.dat"
    path.write_bytes(data)
    try:
        t = read_table(str(path), need_target=need_target)
    except DataError as exc:
        assert str(exc)
        return
    assert t.n >= 1 and all(len(t.column(j)) == t.n for j in range(len(t.features)))
    try:
        X = t.X
    except DataError as exc:
        assert str(exc)
    else:
        assert X.shape == (t.n, len(t.features)) and X.dtype == np.float64
    if not need_target:
        return
    task, cost, n_out = (
        ("classification", "cross_entropy", outputs) if classification else ("regression", "mse", 1)
    )
    try:
        enc = fit_encoding(t, task, cost, n_out, True, missing=missing, categorical=categorical)
        Xe, Y, kept = enc.encode(t, "float64")
    except DataError as exc:
        assert str(exc)
        return
    assert Xe.shape == (int(kept.sum()), enc.n_inputs) and len(Y) == len(Xe) >= 1
    assert np.isfinite(Xe).all() and np.isfinite(Y).all()
    if missing == "mean":  # only rows without a target are left out
        assert kept.sum() == enc.target_values(t)[1].sum()


@pytest.mark.parametrize(
    "text", ['a,y\n"1",\n', "id,color,y\n1,red,\n2,blue,\n"], ids=["quoted", "text-column"]
)
def test_rows_that_all_lack_the_target_are_a_data_error(tmp_path, text):
    """Every row without a target, in a file the careful reader reads (a quote, a text
    column): the fills were taken from no rows, where a numeric column raised ValueError
    (np.reshape(0, -1); an internal error at the command line, found by the bytes fuzz test)
    and a text column blamed itself ('categorical column 'color' has no values')."""
    t = read_table(write(tmp_path, text))
    with pytest.raises(DataError, match="data.csv:2: the target 'y' is missing"):
        fit_encoding(t, "regression", "mse", 1, True)
    with pytest.raises(DataError, match="no row is left once rows with missing values are dropped"):
        fit_encoding(t, "regression", "mse", 1, True, missing="drop")
    values, missing = parse_numbers(t.cells[0][:0], "a", t)  # the cells of no rows: no numbers
    assert values.shape == missing.shape == (0,)


def test_scale_names_a_missing_value_as_missing_and_a_huge_one_as_too_large(tmp_path):
    enc = fit_encoding(read_table(write(tmp_path, "a,b,y\n1,2,3\n2,3,4\n")), "regression", "mse", 1, True)
    x = np.array([[1.0, 2.0], [1.0, np.nan], [1e300, 1.0]])
    with pytest.raises(DataError, match="row 1: column 'b' is missing"):
        enc.scale(x[:2])
    with pytest.raises(DataError, match=r"row 0: column 'a' holds 1e\+300, too large for the model"):
        enc.scale(x[2:])


# -- memory: what a table and an encoding hold --------------------------------------------------


def test_csv_text_columns_are_each_as_wide_as_their_own_longest_cell(tmp_path):
    """One long label must not make every number take its room (a 2-D text array would)."""
    path = tmp_path / "mixed.csv"
    long_name = "edinburgh-and-lothians-region-and-the-borders"
    path.write_text(f"x,city,y\n1.5,{long_name},0\n-2,berlin,1\n0.25,dublin,0\n")
    t = read_table(str(path), "y")
    assert t.is_text and t.features == ["x", "city"]
    assert t.column(0).dtype == np.dtype("<U4")  # '0.25
    assert t.column(1).dtype == np.dtype(f"<U{len(long_name)}")
    assert t.column(1).tolist() == [long_name, "berlin", "dublin"]


def test_csv_read_in_blocks_is_the_same_as_in_one(tmp_path, monkeypatch):
    """The careful reader moves records into column arrays a block at a time: the cells, their
    widths' effect and the file lines must not depend on where the blocks fall."""
    from nettrain.data import read

    rows = [f'{i * 1.5},"name {"x" * (i % 5)}, quoted",{i % 3}' for i in range(23)]
    text = "a,b,y\n" + "\n".join(rows[:10]) + "\n\n" + "\n".join(rows[10:]) + "\n"
    path = tmp_path / "q.csv"
    path.write_text(text)
    whole = read_table(str(path), "y")
    monkeypatch.setattr(read, "_BLOCK_ROWS", 4)
    blocks = read_table(str(path), "y")
    assert whole.n == blocks.n == 23
    for j in range(2):
        np.testing.assert_array_equal(whole.column(j), blocks.column(j))
    np.testing.assert_array_equal(whole.lines, blocks.lines)
    np.testing.assert_array_equal(whole.y, blocks.y)
    assert blocks.lines[10] == 13  # the blank line is counted
    assert blocks.column(1)[4] == "name xxxx, quoted"


def test_npy_target_column_does_not_keep_the_whole_matrix(tmp_path):
    """A float32 target kept as it was written must be its own array, not a view of the file's
    matrix (which would stay in memory as long as the labels do)."""
    path = tmp_path / "d.npy"
    np.save(path, np.arange(30, dtype=np.float32).reshape(10, 3))
    t = read_table(str(path), 1)
    assert t.y.dtype == np.float32 and t.y.base is None
    np.testing.assert_array_equal(t.y, np.arange(1, 30, 3))
    np.testing.assert_array_equal(t.cells, np.arange(30).reshape(10, 3)[:, [0, 2]])


def test_standardizing_in_blocks_gives_the_same_bits(monkeypatch):
    """Means and deviations computed a few columns at a time and scaled inputs a few rows at a
    time (to bound the float64 temporaries) are the whole-array formulas, bit for bit."""
    from nettrain.data import encode

    rng = np.random.default_rng(3)
    X = rng.standard_normal((1000, 7)) * rng.uniform(0.1, 1e4, 7) + rng.uniform(-1e5, 1e5, 7)
    table = Table("x", [str(j) for j in range(7)], X)
    monkeypatch.setattr(encode, "_BLOCK_BYTES", 8 * 1000 * 2 + 8 * 3)  # 2 columns, 2 rows
    mean, std = encode._mean_std(X, table, table.features)
    # as earlier versions computed them, from a column-ordered copy (X[:, mask] is one): a
    # checkpoint written by them compares its means exactly on resume
    F = X[:, np.ones(7, dtype=bool)]
    assert F.flags.f_contiguous
    np.testing.assert_array_equal(mean, F.mean(axis=0))
    np.testing.assert_array_equal(std, F.std(axis=0))
    e = encode.Encoding("regression", "mse", table.features, None, 1, mean, std)
    for dtype in ("float32", "float64"):
        np.testing.assert_array_equal(e.scale(X, dtype), ((X - mean) / std).astype(dtype))


def test_training_lets_go_of_the_source_tables(tmp_path):
    """fit's data is the encoded arrays alone: the source tables (float64 or text cells, about
    twice the arrays' memory) are let go once encoded."""
    path = tmp_path / "d.csv"
    path.write_text("a,b,y\n" + "".join(f"{i},{i % 7},{i % 2}\n" for i in range(40)))
    cfg = config_from_dict(
        {
            "data": {"train": str(path), "target": "y", "validation": 0.25, "test": 0.25},
            "network": {"layers": [2, 3, 1]},
        }
    )
    full = load_run_data(cfg)
    assert full.train.table is not None
    lean = load_run_data(cfg).without_tables()
    for a, b in ((full.train, lean.train), (full.validation, lean.validation), (full.test, lean.test)):
        assert b.table is None
        np.testing.assert_array_equal(a.X, b.X)
        np.testing.assert_array_equal(a.Y, b.Y)


# -- found by differential fuzzing against the csv module + float() ----------------------------


def test_rows_whose_wrong_widths_balance_out_are_refused(tmp_path):
    """One row a field too many and the next a field too few: the file's delimiter count is
    right, but values would shift into other columns (the fast path read them, exit 0)."""
    path = tmp_path / "r.csv"
    path.write_text("c0,c1,c2\n7,0,0,0\n0,0\n")
    for columns in (None, ["c0"]):
        with pytest.raises(DataError, match=r"r.csv:2: expected 3 fields, found 4"):
            read_table(str(path), need_target=False, columns=columns)


def test_a_unicode_line_separator_inside_a_cell_does_not_change_the_delimiter(tmp_path):
    """The sniffer splits lines as the csv module does (str.splitlines also splits at U+2028,
    and the semicolon file was then read with commas)."""
    path = tmp_path / "u.csv"
    path.write_text("x1;x2;note;y\n0,1;0,2;ok;1\n0,3;0,4;line\u2028sep;0\n", encoding="utf-8")
    t = read_table(str(path), "y")
    assert t.features == ["x1", "x2", "note"] and t.column(1).tolist() == ["0.2", "0.4"]
    assert t.column(2)[1] == "line\u2028sep"


def test_the_delimiter_must_split_every_sniffed_line_alike_not_just_the_first(tmp_path):
    """Sniffing reads up to 20 lines: a ';' that splits the first three lines in two but not the
    fourth does not qualify (read with ';', line 5 had 'expected 2 fields, found 1')."""
    from nettrain.data import sniff_delimiter

    text = "a,b;c,y\n1,2;3,0\n4,5;6,1\n7,8,1\n9,10,0\n"
    assert sniff_delimiter(text) == ","
    assert sniff_delimiter(text.replace(",8,", ",8;8,").replace(",10,", ",10;1,")) == ";"  # every line


def test_header_less_semicolon_file_with_decimal_commas(tmp_path):
    """Without a header the commas split every line equally too; the semicolon wins."""
    path = tmp_path / "h.csv"
    path.write_text("0,1;0,2;0,3;1\n0,5;0,25;,75;0\n")
    t = read_table(str(path), 3, header=False)
    np.testing.assert_array_equal(t.X, [[0.1, 0.2, 0.3], [0.5, 0.25, 0.75]])  # ',75' is 0.75
    path.write_text("-0,7313|0,6949|-2,1541\n0,5|1,5|2,5\n")  # and a | file
    np.testing.assert_array_equal(read_table(str(path), 2, header=False).X, [[-0.7313, 0.6949], [0.5, 1.5]])


@pytest.mark.parametrize("cell", ["-nan", "+NaN"])
def test_a_signed_nan_is_missing_on_both_readers(tmp_path, cell):
    """'-nan' (as C's printf writes a negative NaN; pandas reads it as missing) was missing on the
    fast path and 'not a finite number' on the careful one (taken when any cell is quoted)."""
    tables = []
    for quoted in ("1", '"1"'):
        path = tmp_path / f"n{len(quoted)}.csv"
        path.write_text(f"a,b,y\n{quoted},2,0\n3,{cell},1\n5,6,0\n")
        tables.append(read_table(str(path), "y"))
        enc = fit_encoding(tables[-1], "classification", "cross_entropy", 2, True, missing="mean")
        X, _, kept = enc.encode(tables[-1], "float64")
        assert kept.all() and enc.columns[1].fill == 4.0
    assert tables[0].is_text is False and tables[1].is_text is True  # (one reader each)


@pytest.mark.parametrize(
    "script, files",
    [
        ("make_small.py", ["seed.csv", "xor.csv"]),
        ("make_regression.py", ["regression_train.csv", "regression_test.csv"]),
    ],
)
def test_the_generated_data_sets_are_what_their_scripts_write(tmp_path, script, files):
    """data/README: running a script gives byte-identical files (run from a copy, which writes
    next to itself, so the shipped files are left alone). make_digits.py needs scikit-learn."""
    import shutil
    import subprocess
    import sys

    from tests.conftest import DATA

    shutil.copy(DATA / script, tmp_path / script)
    subprocess.run([sys.executable, str(tmp_path / script)], check=True, capture_output=True, timeout=60)
    for name in files:
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name


@pytest.mark.parametrize("cell", ["1_2", "\u0661\u0662", "１２"])
def test_numbers_float_reads_but_no_csv_means_are_not_numbers(tmp_path, cell):
    """float() reads '1_2' as 12 and other scripts' digits too: a code column '1_1,1_3' trained
    as numbers without a word, and the fast reader (which refuses them) disagreed."""
    path = tmp_path / "c.csv"
    path.write_text(f'a,b,y\n"{cell}",2,0\n3,4,1\n', encoding="utf-8")
    with pytest.raises(DataError, match=f"c.csv:2: column 'a' holds '{cell}', which is not a number"):
        _ = read_table(str(path), "y").X


def test_a_stratified_split_that_holds_out_far_more_than_asked_says_so(tmp_path):
    """Each class of 2 or more rows gives at least one validation row: with many small classes,
    validation 0.1 held out 28% of the rows without a word."""
    path = tmp_path / "c.csv"
    path.write_text("a,y\n" + "".join(f"{i},{i // 3}\n" for i in range(90)))  # 30 classes of 3 rows
    cfg = config_from_dict(
        {"data": {"train": str(path), "target": "y", "validation": 0.1}, "network": {"layers": [1, 30]},
         "cost": "cross_entropy"}
    )  # fmt: skip
    rd = load_run_data(cfg)
    assert len(rd.validation) == 30
    assert any("validation fraction 0.1 holds out 30 of 90 rows, not 9" in n for n in rd.notes), rd.notes
    cfg = config_from_dict(
        {"data": {"train": str(path), "target": "y", "validation": 0.4}, "network": {"layers": [1, 30]},
         "cost": "cross_entropy"}
    )  # fmt: skip
    assert not [n for n in load_run_data(cfg).notes if "holds out" in n]


def test_arrays_given_to_fit_get_the_same_note_on_a_split_far_larger_than_asked():
    """fit(data=RunData.from_arrays(...)) holds the config's fractions out itself: 30 classes of 3
    rows at 0.1 give round(0.3) = 0, raised to 1, of each class: 30 rows, where 9 were asked."""
    from nettrain import RunData, fit

    X = np.arange(90.0).reshape(90, 1)
    data = RunData.from_arrays(X, np.arange(90) // 3, "cross_entropy")
    cfg = config_from_dict(
        {"data": {"validation": 0.1}, "network": {"layers": [1, 30]}, "cost": "cross_entropy",
         "training": {"epochs": 1}}
    )  # fmt: skip
    events = []
    result = fit(cfg, save=False, data=data, on_event=lambda kind, info: events.append((kind, info)))
    assert result.summary["n_train"] == 60
    notes = [info["message"] for kind, info in events if kind == "notice"]
    assert any("validation fraction 0.1 holds out 30 of 90 rows, not 9" in n for n in notes), notes


def test_each_cell_is_one_hot_in_its_categorys_own_input(tmp_path):
    """A categorical column's cells find their categories wherever they sort (the categories
    kept in an order of their own); a missing cell, an unseen one under unknown='ignore' are all
    zeros; a number written otherwise ('1,5' for an older model's '1.5') is its category; an
    unseen cell under 'error' is the first such row's error."""
    path = write(tmp_path, "c,y\nred,0\nblue,1\ngreen,0\n1.5,1\n")
    enc = fit_encoding(read_table(path), "regression", "mse", 1, True, missing="drop")
    col = enc.columns[0]
    col.categories = ["red", "1.5", "green", "blue"]  # (not sorted)
    cells = ["blue", "", "zebra", "red", "1,5", "aaa", "green", "1.5", "NA", "bluer"]
    other = write(tmp_path, "c,y\n" + "".join(f'"{c}",0\n' for c in cells), "other.csv")
    X, keep = enc.raw_inputs(read_table(other), unknown="ignore")
    want = {"blue": 3, "red": 0, "1,5": 1, "green": 2, "1.5": 1}
    expected = np.zeros((len(cells), 4))
    for i, c in enumerate(cells):
        if c in want:
            expected[i, want[c]] = 1
    np.testing.assert_array_equal(X, expected)
    assert keep.tolist() == [c not in ("", "NA") for c in cells]
    with pytest.raises(
        DataError, match="^other.csv:4: column 'c' holds 'zebra', a category training never saw"
    ):
        enc.raw_inputs(read_table(other))


def test_an_older_models_decimal_comma_category_is_still_found():
    """Models made before categorical columns kept their decimal commas stored '1,5' as '1.5'."""
    from nettrain.data.encode import _as_number_label

    assert _as_number_label("1,5", {"1.5": 0, "big": 1}) == 0
    assert _as_number_label("2,5", {"1.5": 0, "big": 1}) == -1


def test_features_become_the_exclude_list_of_the_files_other_columns():
    """data.features is read as data.exclude of the columns it does not name, in the file's order."""
    from nettrain.data.read import excluded_by_features

    assert excluded_by_features(("d", "a"), ["a", "b", "c", "d"], "y", "f.csv") == ("b", "c")
    assert excluded_by_features(("0", "2"), ["0", "2", "3"], "1", "m.npy") == ("3",)
    with pytest.raises(DataError, match=r"^f.csv: data.features names the target 'y'.* \(from --set x\)$"):
        excluded_by_features(("y",), ["a"], "y", "f.csv", "from --set x")
    with pytest.raises(
        DataError,
        match=r"'B', which is not a column of the file \(did you mean 'b'\?\); its feature columns: a, b$",
    ):
        excluded_by_features(("B",), ["a", "b"], "y", "f.csv")


def test_did_you_mean_without_case_suggests_the_first_of_the_choices_spelt_alike():
    """A near miss of a spelling that several choices share once case is folded ('Label',
    'LABEL'): the first of them, in the order given."""
    assert did_you_mean("lable", ["Label", "LABEL"]) == " (did you mean 'Label'?)"
    assert did_you_mean("lable", ["LABEL", "Label"]) == " (did you mean 'LABEL'?)"


def test_a_text_columns_numbers_are_parsed_once_and_kept_with_the_rows_taken(tmp_path):
    """Table.numbers parses a text column once: what parse_numbers gives, read-only (a step of
    the encoding cannot change another's numbers); a table ``take`` makes keeps its rows' numbers,
    the same as parsing its own cells; cells replaced since (decimal commas) are parsed anew, and
    a column that is not numbers is still the error naming its own first bad row."""
    t = read_table(write(tmp_path, '"a",b,y\n1,NA,0\n 2 ,x,1\n3,4,\n-1e3,5,2\n'))
    values, missing = t.numbers(0, "a")
    want, want_missing = parse_numbers(t.cells[0], "a", t)
    np.testing.assert_array_equal(values, want)
    np.testing.assert_array_equal(missing, want_missing)
    assert t.numbers(0, "a")[0] is values  # (kept: not parsed again)
    with pytest.raises(ValueError):
        values[0] = 7.0
    rows = np.array([3, 0])
    taken = t.take(rows)
    np.testing.assert_array_equal(taken.numbers(0, "a")[0], parse_numbers(taken.cells[0], "a", taken)[0])
    np.testing.assert_array_equal(taken.numbers(0, "a")[0], values[rows])
    t.cells = (np.array(["5", "6", "7", "8"]), t.cells[1])
    np.testing.assert_array_equal(t.numbers(0, "a")[0], [5.0, 6.0, 7.0, 8.0])
    for table in (t, t.take(np.array([2, 1]))):  # the first word of each table's own rows
        with pytest.raises(DataError, match=rf"data.csv:{int(table.lines[1])}: column 'b' holds 'x'"):
            table.numbers(1, "b")


@pytest.mark.parametrize("missing", ["drop", "mean"])
def test_a_text_table_encodes_as_the_same_numbers_read_as_numbers(tmp_path, missing):
    """A CSV the careful reader reads as text (a quoted header) fits and encodes its training,
    validation and test rows to the same arrays as the same numbers given as float64 cells:
    numbers parsed once and kept give what parsing each step's cells gives."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 3)).round(4)
    X[[4, 17], [1, 2]] = np.nan
    y = X[:, 0] * 2 - 1
    y[9] = np.nan  # (a row without a target: the fills and the encoding read the others)
    lines = ['"a","b","c","y"'] + [
        ",".join("NA" if np.isnan(v) else repr(float(v)) for v in row) for row in np.c_[X, y]
    ]
    path = write(tmp_path, "\n".join(lines) + "\n")
    config = config_from_dict(
        {
            "data": {"train": path, "target": "y", "validation": 0.2, "test": 0.2, "missing": missing},
            "network": {"layers": [3, 4, 1]},
            "cost": "mse",
        }
    )
    text = load_run_data(config)
    assert text.train.table.is_text
    table = read_table(path, "y")
    numbers = Table(table.source, table.features, X, table.y, table.target, table.lines, named=True)
    enc = fit_encoding(
        numbers.take(text.train.table.lines - 2), "regression", "mse", 1, True, missing=missing
    )
    for a, b in zip(
        (enc.x_mean, enc.x_scale, enc.y_mean),
        (text.encoding.x_mean, text.encoding.x_scale, text.encoding.y_mean),
    ):
        np.testing.assert_array_equal(a, b)
    for ds in (text.train, text.validation, text.test):
        rows = ds.table.lines - 2
        same = numbers.take(rows)
        X2, Y2, kept = enc.encode(same)
        np.testing.assert_array_equal(ds.X, X2)
        np.testing.assert_array_equal(ds.Y, Y2)
