"""Model files: exact save/load round-trips, atomic writes, and every kind of bad file refused."""

from __future__ import annotations

import io
import json
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nettrain import fit, load_config, load_model, save_model
from nettrain.data import Encoding, fit_encoding, read_table
from nettrain.errors import ModelFileError, OutputError
from nettrain.modelfile import FORMAT_VERSION, Model, forward_rows, write_atomic
from nettrain.network import Network
from tests.conftest import CONFIGS, DATA

# Hypothesis: small and fast; tmp_path is shared by the examples (each rewrites its file)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# -- models to save -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def xor_model() -> Model:
    cfg = load_config(CONFIGS / "xor.yaml", overrides=["training.epochs=20"])
    return fit(cfg, save=False).model


@pytest.fixture(scope="module")
def regression_model() -> Model:
    cfg = load_config(CONFIGS / "regression.yaml", overrides=["training.epochs=2"])
    return fit(cfg, save=False).model


@pytest.fixture(scope="module")
def labels_model(tmp_path_factory) -> Model:
    """Three string classes, float64, built directly from a Network and an Encoding."""
    folder = tmp_path_factory.mktemp("labels")
    rng = np.random.default_rng(5)
    X, labels = rng.normal(size=(30, 2)).tolist(), rng.choice(["cat", "dog", "eel"], 30)
    rows = [f"{a!r},{b!r},{label}" for (a, b), label in zip(X, labels, strict=True)]
    (folder / "t.csv").write_text("width,height,animal\n" + "\n".join(rows) + "\n")
    table = read_table(str(folder / "t.csv"), "animal")
    enc = fit_encoding(table, "classification", "cross_entropy", 3, True)
    net = Network.create([2, 5, 4, 3], ["tanh", "relu"], "softmax", "cross_entropy", seed=1, dtype="float64")
    net.b = [b + rng.normal(size=b.shape) for b in net.b]  # non-zero biases round-trip too
    return Model(net, enc, {"config": {"note": "built in a test"}, "training": {"epochs": 0}})


def inputs(model: Model, n: int = 25) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(n, model.network.sizes[0])) * 3


def assert_same_model(a: Model, b: Model) -> None:
    assert len(a.network.W) == len(b.network.W)
    for x, y in zip(a.network.params(), b.network.params(), strict=True):
        assert x.dtype == y.dtype and x.shape == y.shape
        assert np.array_equal(x, y)
    assert a.network.activation_names == b.network.activation_names
    assert (a.network.output, a.network.cost_name) == (b.network.output, b.network.cost_name)
    ea, eb = a.encoding, b.encoding
    for key in ("x_mean", "x_scale", "y_mean", "y_scale"):
        va, vb = getattr(ea, key), getattr(eb, key)
        if va is None:
            assert vb is None, key
        else:
            assert np.array_equal(np.asarray(va, dtype=np.float64), vb), key
            assert vb.dtype == np.float64
    assert (ea.task, ea.cost, ea.features, ea.target, ea.n_outputs, ea.classes) == (
        eb.task,
        eb.cost,
        eb.features,
        eb.target,
        eb.n_outputs,
        eb.classes,
    )


@pytest.mark.parametrize("which", ["xor_model", "regression_model", "labels_model"])
def test_save_load_round_trip_is_exact(tmp_path, request, which):
    model = request.getfixturevalue(which)
    path = tmp_path / "model.npz"
    save_model(path, model)
    loaded = load_model(path)
    assert_same_model(model, loaded)
    X = inputs(model)
    assert np.array_equal(model.outputs(X), loaded.outputs(X))
    pred, pred2 = model.predict(X), loaded.predict(X)
    assert pred.dtype == pred2.dtype and np.array_equal(pred, pred2)
    if model.encoding.task == "classification":
        assert np.array_equal(model.predict_proba(X), loaded.predict_proba(X))
        assert set(pred2) <= set(model.encoding.classes)
    assert loaded.meta["format_version"] == FORMAT_VERSION
    assert loaded.meta["training"] == model.meta["training"]
    assert loaded.meta["network"]["sizes"] == model.network.sizes
    # and saving the loaded model again gives the same arrays
    save_model(tmp_path / "again.npz", loaded)
    assert_same_model(loaded, load_model(tmp_path / "again.npz"))


@pytest.mark.parametrize("which", ["xor_model", "regression_model", "labels_model"])
def test_a_rows_outputs_do_not_depend_on_the_rows_with_it(request, which):
    """Model.forward runs the network on blocks of one size (the last padded with zero rows):
    a row's outputs are the same bits alone, among thousands, or in any chunk of a file (BLAS
    takes other kernels for other shapes, which round otherwise)."""
    model = request.getfixturevalue(which)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, model.network.sizes[0])) * 3
    whole = model.forward(X, standardize=True)
    cuts = np.sort(rng.choice(np.arange(1, len(X)), size=40, replace=False))
    pieces = [model.forward(part, standardize=True) for part in np.split(X, cuts)]
    assert np.array_equal(np.concatenate(pieces), whole)  # bit for bit
    for i in (0, 7, 2999):
        assert np.array_equal(model.forward(X[i : i + 1], standardize=True), whole[i : i + 1])
    assert forward_rows([4, 2, 2, 1]) == 4096 and forward_rows([784, 1024, 1024, 10]) == 64


def test_regression_round_trip_keeps_target_scaling(tmp_path, regression_model):
    enc = regression_model.encoding
    assert enc.y_scale is not None and not np.all(enc.y_scale == 1)
    save_model(tmp_path / "m.npz", regression_model)
    loaded = load_model(tmp_path / "m.npz")
    assert np.array_equal(loaded.encoding.y_mean, enc.y_mean)
    assert np.array_equal(loaded.encoding.y_scale, enc.y_scale)


def test_classes_and_features_kept(tmp_path, labels_model):
    save_model(tmp_path / "m.npz", labels_model)
    loaded = load_model(tmp_path / "m.npz")
    assert loaded.encoding.classes == ["cat", "dog", "eel"]
    assert loaded.encoding.features == ["width", "height"]
    assert loaded.encoding.target == "animal"
    assert loaded.network.dtype == np.float64
    assert loaded.meta["config"] == {"note": "built in a test"}


def test_file_holds_plain_arrays_only(tmp_path, xor_model):
    path = tmp_path / "m.npz"
    save_model(path, xor_model)
    with np.load(path, allow_pickle=False) as z:  # would raise on any pickled member
        names = set(z.files)
        meta = json.loads(z["meta"].tobytes().decode("utf-8"))
    assert names == {"W0", "b0", "W1", "b1", "x_mean", "x_scale", "x_min", "x_max", "meta"}
    assert meta["format"] == "nettrain-model"


# -- atomic writes --------------------------------------------------------------------------------


def test_save_leaves_no_temporary_files(tmp_path, xor_model):
    save_model(tmp_path / "m.npz", xor_model)
    save_model(tmp_path / "m.npz", xor_model)  # overwrite
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def test_save_creates_missing_folders(tmp_path, xor_model):
    save_model(tmp_path / "a" / "b" / "model.npz", xor_model)
    load_model(tmp_path / "a" / "b")


def test_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "file.bin"
    write_atomic(path, lambda f: f.write(b"old contents"))

    def half_then_crash(f):
        f.write(b"new, half wr")
        raise OSError("disk on fire")

    with pytest.raises(OutputError, match="disk on fire"):
        write_atomic(path, half_then_crash)
    assert path.read_bytes() == b"old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]


def test_write_atomic_says_when_a_folder_is_in_the_way(tmp_path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(OutputError, match="^cannot write '.*taken': it is a folder$"):
        write_atomic(tmp_path / "taken", lambda f: f.write(b"x"))
    (tmp_path / "plain").write_text("a file")
    with pytest.raises(
        OutputError, match=r"^cannot write '.*plain/x\.csv': '.*plain' is a file, not a folder$"
    ):
        write_atomic(tmp_path / "plain" / "x.csv", lambda f: f.write(b"x"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain", "taken"]  # nothing else written


def test_failed_save_keeps_the_old_model(tmp_path, xor_model, labels_model, monkeypatch):
    path = tmp_path / "m.npz"
    save_model(path, xor_model)
    before = path.read_bytes()

    def broken_savez(f, **arrays):
        f.write(b"PK\x03\x04 partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(KeyboardInterrupt):
        save_model(path, labels_model)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


# -- refusals -------------------------------------------------------------------------------------


def refused(path, *words) -> str:
    """The ModelFileError of loading ``path``; each word must be in its message after the path
    (the test's folder, named after the test, would hold 'compressed' or 'shape' by itself)."""
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    msg = str(info.value)
    for w in words:
        assert w in msg.replace(str(path), "MODEL"), msg
    return msg


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=True)
    return buf.getvalue()


def meta_of(parts: dict[str, bytes]) -> dict:
    return json.loads(np.load(io.BytesIO(parts["meta.npy"])).tobytes().decode("utf-8"))


def with_meta(parts: dict[str, bytes], meta: dict) -> dict[str, bytes]:
    return {**parts, "meta.npy": npy(np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))}


def zip_up(path: Path, parts: dict[str, bytes], compression=zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def npy_header(shape: tuple, dtype="<f4") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": shape}
    )
    return buf.getvalue()


@pytest.fixture
def saved(tmp_path, xor_model) -> Path:
    path = tmp_path / "good.npz"
    save_model(path, xor_model)
    return path


def test_rebuilt_zip_of_a_good_model_loads(tmp_path, saved):
    # the helpers below change one thing at a time; unchanged, the file must still load
    assert_same_model(load_model(saved), load_model(zip_up(tmp_path / "copy.npz", members(saved))))


def test_missing_file(tmp_path):
    assert refused(tmp_path / "nope.npz", "not found") == f"model file '{tmp_path / 'nope.npz'}' not found"


def test_directory_without_model(tmp_path):
    refused(tmp_path, "directory", "model.npz")


def test_directory_with_model_loads(tmp_path, xor_model):
    save_model(tmp_path / "run" / "model.npz", xor_model)
    assert_same_model(xor_model, load_model(tmp_path / "run"))


NOT_ZIPS = [b"", b"hello, I am a CSV\n1,2\n", np.random.default_rng(3).bytes(5000)]


@pytest.mark.parametrize("data", NOT_ZIPS, ids=["empty", "text", "random"])
def test_not_a_zip(tmp_path, data):
    path = tmp_path / "m.npz"
    path.write_bytes(data)
    refused(path, "not a nettrain model file")


def test_truncated_file(tmp_path, saved):
    data = saved.read_bytes()
    for cut in (len(data) // 2, len(data) - 10):
        path = tmp_path / f"cut{cut}.npz"
        path.write_bytes(data[:cut])
        refused(path)


def test_data_npz_is_not_a_model(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, X=np.ones((3, 2)), y=np.ones(3))
    refused(path, "no 'meta'")


def test_newer_format_version(tmp_path, saved):
    parts = members(saved)
    meta = meta_of(parts)
    meta["format_version"] = FORMAT_VERSION + 1
    meta["nettrain_version"] = "99.0"
    msg = refused(zip_up(tmp_path / "m.npz", with_meta(parts, meta)), "newer", "99.0", "Upgrade")
    assert str(FORMAT_VERSION + 1) in msg


@pytest.mark.parametrize(
    "change",
    [
        {"format": "something-else"},
        {"format_version": 0},
        {"format_version": "1"},
        {"network": None},
        {"network": {"sizes": [2, 4, 1]}},
    ],
)
def test_bad_meta(tmp_path, saved, change):
    parts = members(saved)
    refused(zip_up(tmp_path / "m.npz", with_meta(parts, {**meta_of(parts), **change})))


@pytest.mark.parametrize(
    "where, value",
    [
        (("encoding", "target"), ["y"]),
        (("encoding", "positional"), "yes"),
        (("encoding", "delimiter"), "::"),
        (("training",), 5),
    ],
)
def test_meta_entries_of_the_wrong_type(tmp_path, saved, where, value):
    parts = members(saved)
    meta = meta_of(parts)
    node = meta
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    refused(zip_up(tmp_path / "m.npz", with_meta(parts, meta)), "malformed")


@pytest.mark.parametrize(
    "text", [b'{"format_version": ' + b"9" * 5000 + b"}", b"[" * 100_000], ids=["long number", "deep"]
)
def test_meta_json_that_python_cannot_take(tmp_path, saved, text):
    parts = {**members(saved), "meta.npy": npy(np.frombuffer(text, dtype=np.uint8))}
    refused(zip_up(tmp_path / "m.npz", parts), "not valid JSON")


def test_a_zero_standardization_scale_is_refused(tmp_path, saved):
    parts = members(saved)
    scale = np.load(io.BytesIO(parts["x_scale.npy"]))
    parts["x_scale.npy"] = npy(np.zeros_like(scale))
    refused(zip_up(tmp_path / "m.npz", parts), "scale is zero")


def test_meta_not_json(tmp_path, saved):
    parts = {**members(saved), "meta.npy": npy(np.frombuffer(b"{not json", dtype=np.uint8))}
    refused(zip_up(tmp_path / "m.npz", parts), "JSON")


def _save(tmp_path: Path, model: Model) -> Path:
    path = tmp_path / "base.npz"
    save_model(path, model)
    return path


def test_pickled_object_array_is_refused(tmp_path, xor_model):
    with np.load(_save(tmp_path, xor_model)) as z:
        arrays = {k: z[k] for k in z.files}
    path = tmp_path / "evil.npz"
    np.savez(path, **arrays, extra=np.array([{"a": 1}, None], dtype=object))
    refused(path, "pickled")
    arrays["W0"] = arrays["W0"].astype(object)
    np.savez(path, **arrays)
    refused(path, "pickled")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_weights(tmp_path, saved, bad):
    parts = members(saved)
    W1 = np.load(io.BytesIO(parts["W1.npy"])).copy()
    W1[0, 1] = bad
    refused(zip_up(tmp_path / "m.npz", {**parts, "W1.npy": npy(W1)}), "W1", "NaN or infinite")


def test_missing_member(tmp_path, saved):
    parts = members(saved)
    del parts["b1.npy"]
    refused(zip_up(tmp_path / "m.npz", parts), "b1", "missing")


def test_shape_not_matching_meta(tmp_path, saved):
    parts = members(saved)
    W0 = np.load(io.BytesIO(parts["W0.npy"]))
    refused(zip_up(tmp_path / "m.npz", {**parts, "W0.npy": npy(W0.T.copy())}), "W0", "shape")
    x_mean = np.zeros(5)
    refused(zip_up(tmp_path / "m.npz", {**parts, "x_mean.npy": npy(x_mean)}), "x_mean", "shape")


def test_integer_weights_refused(tmp_path, saved):
    parts = members(saved)
    W0 = np.load(io.BytesIO(parts["W0.npy"]))
    refused(
        zip_up(tmp_path / "m.npz", {**parts, "W0.npy": npy(W0.astype(np.int32))}),
        "has dtype int32, expected floats",
    )


def test_compressed_member(tmp_path, saved):
    with np.load(saved) as z:
        arrays = {k: z[k] for k in z.files}
    path = tmp_path / "small.npz"
    np.savez_compressed(path, **arrays)
    refused(path, "compressed")


def test_parameters_of_two_dtypes_are_refused(tmp_path, saved):
    parts = members(saved)
    W0 = np.load(io.BytesIO(parts["W0.npy"]))
    refused(
        zip_up(tmp_path / "m.npz", {**parts, "W0.npy": npy(W0.astype(np.float64))}),
        "the parameters mix dtypes",
    )


def test_a_member_shorter_than_its_header_says_is_refused_by_its_size(tmp_path, saved):
    """The header's shape is right but the data is 8 bytes short: refused before reading."""
    parts = members(saved)
    parts["W0.npy"] = parts["W0.npy"][:-8]
    refused(zip_up(tmp_path / "m.npz", parts), "member 'W0.npy' declares shape", "damaged or forged")


def _set_size_in_zip_directory(path: Path, member: str, size: int) -> None:
    """Forge the uncompressed size the zip's central directory gives ``member``."""
    import struct

    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_length] == member.encode():
            struct.pack_into("<I", data, at + 24, size)
        at = data.find(b"PK\x01\x02", at + 46)
    path.write_bytes(bytes(data))


def test_a_zip_directory_claiming_more_bytes_than_stored_is_refused_before_allocating(tmp_path, saved):
    """The zip's directory and the .npy headers agree on 2 GB a member, the file holds bytes:
    the stored (compressed) size gives the lie away before anything is allocated."""
    parts = members(saved)
    meta = meta_of(parts)
    big = 5 * 10**8  # float32: W0 4 GB, b0 and W1 2 GB each
    meta["network"]["sizes"] = [2, big, 1]
    parts = with_meta(parts, meta)
    parts["W0.npy"] = npy_header((big, 2)) + b"\x00" * 64
    parts["b0.npy"] = npy_header((big,)) + b"\x00" * 64
    parts["W1.npy"] = npy_header((1, big)) + b"\x00" * 64
    path = zip_up(tmp_path / "m.npz", parts)
    for member, shape in (("W0.npy", (big, 2)), ("b0.npy", (big,)), ("W1.npy", (1, big))):
        _set_size_in_zip_directory(path, member, len(npy_header(shape)) + 4 * int(np.prod(shape)))
    assert_refused_cheaply(path, "member 'W0.npy' declares shape", "damaged or forged")


def test_a_meta_document_over_16_mib_or_not_bytes_is_refused(tmp_path, saved):
    parts = members(saved)
    meta = json.dumps(meta_of(parts)).encode()
    padded = meta[:-1] + b" " * (16 * 2**20) + b"}"  # valid JSON, 16 MiB of blanks
    parts["meta.npy"] = npy(np.frombuffer(padded, dtype=np.uint8))
    refused(zip_up(tmp_path / "big.npz", parts), "the 'meta' document is malformed")
    parts["meta.npy"] = npy(np.frombuffer(meta, dtype=np.uint8).astype(np.int32))
    refused(zip_up(tmp_path / "int.npz", parts), "the 'meta' document is malformed")


def _categorical(meta: dict, **column) -> None:
    meta["encoding"]["columns"][0].update({"kind": "categorical", "categories": ["a"], "fill": "a", **column})


@pytest.mark.parametrize(
    "forge, needle",
    [
        (lambda m: m["network"].update(sizes=[2, 4.0, 1]), "malformed (a layer size, name or task"),
        (lambda m: m["network"].update(sizes=[2, True, 1]), "malformed (a layer size, name or task"),
        (lambda m: m["encoding"].update(task="clustering"), "malformed (a layer size, name or task"),
        (lambda m: m["network"].update(sizes=[2, 0, 1]), "layer sizes [2, 0, 1] are invalid"),
        (
            lambda m: m["encoding"].update(features=["x1"], columns=m["encoding"]["columns"][:1]),
            "layer sizes [2, 4, 1] are invalid",
        ),
        (lambda m: m["encoding"].update(missing="ignore"), "unknown missing-value policy 'ignore'"),
        (lambda m: m["encoding"].update(excluded=[1]), "malformed (the target, positional, delimiter"),
        (lambda m: m["encoding"].update(weight=3), "malformed (the target, positional, delimiter"),
        (
            lambda m: m["encoding"].update(classes=["0", "1", "2"]),
            "class list does not match the output layer",
        ),
        (lambda m: m["encoding"].update(classes=[0, 1]), "class list does not match the output layer"),
        (lambda m: m["encoding"]["columns"][0].update(name="zz"), "lacks or garbles columns"),
        (lambda m: m["encoding"]["columns"][0].update(kind="ordinal"), "lacks or garbles kind of 'x1'"),
        (lambda m: m["encoding"]["columns"][0].update(fill="x"), "lacks or garbles fill of 'x1'"),
        (lambda m: m["encoding"]["columns"][0].update(fill=True), "lacks or garbles fill of 'x1'"),
        (lambda m: _categorical(m, categories=[1]), "lacks or garbles categories of 'x1'"),
        (lambda m: _categorical(m, categories=[]), "lacks or garbles categories of 'x1'"),
        (lambda m: _categorical(m, fill=5), "lacks or garbles fill of 'x1'"),
    ],
    ids=[
        "size-float",
        "size-bool",
        "task",
        "size-0",
        "inputs-vs-columns",
        "missing-policy",
        "excluded-number",
        "weight-number",
        "classes-count",
        "classes-numbers",
        "column-name",
        "column-kind",
        "numeric-fill-text",
        "numeric-fill-bool",
        "categories-numbers",
        "categories-none",
        "categorical-fill-number",
    ],
)
def test_forged_meta_is_refused_with_its_reason(tmp_path, saved, forge, needle):
    parts = members(saved)
    meta = meta_of(parts)
    assert meta["network"]["sizes"] == [2, 4, 1] and meta["encoding"]["features"] == ["x1", "x2"]
    forge(meta)
    refused(zip_up(tmp_path / "m.npz", with_meta(parts, meta)), needle)
    good = meta_of(parts)  # (a categorical column as the forgeries start from loads)
    _categorical(good)
    assert load_model(zip_up(tmp_path / "good.npz", with_meta(parts, good))).encoding.columns[
        0
    ].categories == ["a"]


def test_only_true_and_false_are_read_as_such_in_the_meta(tmp_path, saved):
    """label_numbers must be true itself (text labels decoded as numbers would crash), and only
    an explicit output_bias false drops the output bias (a model from before has none)."""
    parts = members(saved)
    meta = meta_of(parts)
    meta["encoding"]["label_numbers"] = "true"
    meta["network"]["output_bias"] = None
    model = load_model(zip_up(tmp_path / "m.npz", with_meta(parts, meta)))
    assert model.encoding.label_numbers is False and model.network.output_bias is True


def test_checkpoint_members_must_be_floats(tmp_path, xor_model):
    from nettrain.modelfile import read_members

    path = tmp_path / "c.npz"
    save_model(path, xor_model, extra={"opt0": np.zeros(3), "opt1": np.arange(3)})
    assert read_members(path, ["opt0"])["opt0"].tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ModelFileError, match="member 'opt1' has dtype int64, expected floats"):
        read_members(path, ["opt1"])


def assert_refused_cheaply(path: Path, *words) -> None:
    tracemalloc.start()
    start = time.perf_counter()
    try:
        refused(path, *words)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert time.perf_counter() - start < 5
    assert peak < 50 * 2**20, peak  # nowhere near the terabytes the header declares


def test_huge_declared_shape_refused_without_allocating(tmp_path, saved):
    parts = members(saved)
    forged = npy_header((10**12,)) + b"\x00" * 16
    assert_refused_cheaply(zip_up(tmp_path / "m.npz", {**parts, "W0.npy": forged}), "W0")


def test_declared_shape_bigger_than_stored_bytes(tmp_path, saved):
    # the meta agrees with the forged headers, so only the stored size gives the lie away
    parts = members(saved)
    meta = meta_of(parts)
    big = 10**11
    meta["network"]["sizes"] = [2, big, 1]
    parts = with_meta(parts, meta)
    parts["W0.npy"] = npy_header((big, 2)) + b"\x00" * 64
    parts["b0.npy"] = npy_header((big,)) + b"\x00" * 64
    parts["W1.npy"] = npy_header((1, big)) + b"\x00" * 64
    assert_refused_cheaply(zip_up(tmp_path / "m.npz", parts), "W0", "declares shape", "damaged or forged")


def test_huge_meta_refused(tmp_path, saved):
    parts = {**members(saved), "meta.npy": npy_header((10**12,), "|u1") + b"{}"}
    assert_refused_cheaply(zip_up(tmp_path / "m.npz", parts), "meta")


def test_fortran_order_member(tmp_path, saved):
    parts = members(saved)
    W0 = np.asfortranarray(np.load(io.BytesIO(parts["W0.npy"])))
    refused(zip_up(tmp_path / "m.npz", {**parts, "W0.npy": npy(W0)}), "W0")


# -- damaged files: a ModelFileError or a good load, nothing else --------------------------------


def _good_bytes() -> bytes:
    """A small valid model file, as bytes (Hypothesis cannot use function-scoped fixtures)."""
    net = Network.create([2, 3, 1], ["tanh"], "sigmoid", "binary_cross_entropy")
    enc = Encoding(
        "classification",
        "binary_cross_entropy",
        ["a", "b"],
        "y",
        1,
        np.zeros(2),
        np.ones(2),
        classes=["no", "yes"],
    )
    with tempfile.TemporaryDirectory() as folder:
        save_model(Path(folder) / "m.npz", Model(net, enc, {}))
        return (Path(folder) / "m.npz").read_bytes()


GOOD = _good_bytes()


@st.composite
def damaged_models(draw):
    data = bytearray(GOOD)
    for _ in range(draw(st.integers(1, 6))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@FUZZ
@given(data=damaged_models())
def test_damaged_file_loads_or_raises_model_file_error(tmp_path, data):
    path = tmp_path / "m.npz"
    path.write_bytes(data)
    try:
        model = load_model(path)
    except ModelFileError as exc:
        assert str(exc)
    else:
        assert model.network.sizes[0] == len(model.encoding.features)


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(max_size=8),
        st.sampled_from(["tanh", "sigmoid", "softmax", "mse", "regression", "classification"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)
META_FIELDS = [
    ("format_version",),
    ("network",),
    ("network", "sizes"),
    ("network", "activations"),
    ("network", "output"),
    ("network", "cost"),
    ("encoding",),
    ("encoding", "task"),
    ("encoding", "features"),
    ("encoding", "classes"),
    ("encoding", "target"),
    ("encoding", "positional"),
    ("encoding", "delimiter"),
    ("training",),
]


@FUZZ
@given(changes=st.lists(st.tuples(st.sampled_from(META_FIELDS), json_values), min_size=1, max_size=3))
def test_forged_meta_loads_or_raises_model_file_error(tmp_path, changes):
    with zipfile.ZipFile(io.BytesIO(GOOD)) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    meta = meta_of(parts)
    for path, value in changes:
        node = meta
        for key in path[:-1]:
            node = node[key] if isinstance(node.get(key), dict) else node.setdefault(key, {})
            if not isinstance(node, dict):
                break
        else:
            node[path[-1]] = value
    try:
        model = load_model(zip_up(tmp_path / "m.npz", with_meta(parts, meta)))
    except ModelFileError as exc:
        assert str(exc)
    else:
        X = np.zeros((2, model.network.sizes[0]))
        assert model.outputs(X).shape == (2, model.network.sizes[-1])


def test_model_evaluate_matches_the_command(tmp_path):
    """Model.evaluate is what `nettrain evaluate --json` prints."""
    import json

    from nettrain.cli import app
    from nettrain.data import read_table
    from tests.helpers import CliRunner

    run = tmp_path / "run"
    assert CliRunner().invoke(app, ["fit", str(CONFIGS / "xor.yaml"), "-o", str(run), "-q"]).exit_code == 0
    model = load_model(run)
    report = model.evaluate(read_table(str(DATA / "xor.csv"), "label"))
    printed = json.loads(
        CliRunner().invoke(app, ["evaluate", str(run), str(DATA / "xor.csv"), "--json"]).stdout
    )
    assert report["accuracy"] == printed["accuracy"] == 1.0
    assert report["confusion_matrix"] == printed["confusion_matrix"] == [[2, 0], [0, 2]]


def test_evaluate_and_predict_agree_on_a_tie_at_one_half(tmp_path):
    """One sigmoid unit exactly at 0.5 (all weights zero): predict says the second class
    (s >= 0.5), and evaluate must score that same prediction (argmax of [1 - s, s] took the
    first)."""
    from tests.helpers import animals, write_rows

    header, rows = animals(60)
    path = write_rows(tmp_path / "a.csv", header, rows)
    table = read_table(str(path), "label")
    enc = fit_encoding(table, "classification", "binary_cross_entropy", 1, True)
    net = Network.create([enc.n_inputs, 3, 1], ["tanh"], "sigmoid", "binary_cross_entropy", seed=0)
    for p in net.params():
        p[...] = 0
    model = Model(net, enc)
    s, _ = model.outputs_kept(table, "error")
    labels = enc.decode(s)
    assert set(labels) == {enc.classes[1]}
    report = model.evaluate(table)
    assert report["accuracy"] == pytest.approx(np.mean(labels == table.y.astype(str)))


def test_a_sure_miss_of_one_sigmoid_unit_keeps_its_probability_and_log_loss(tmp_path):
    """With one sigmoid unit, P(first class) was 1 - s: 0 once s rounds to 1 in float32 (z > 17),
    so a row of the first class at z = 20 showed prob_0 = 0 and cost evaluate's log loss 87.3
    (the clip of a 0) where its loss is 20, as fit's test loss says. It is sigmoid(-z) now."""
    (tmp_path / "t.csv").write_text("x,label\n-1,0\n1,1\n")
    table = read_table(str(tmp_path / "t.csv"), "label")
    enc = fit_encoding(table, "classification", "binary_cross_entropy", 1, False)
    net = Network(
        [np.array([[1.0]], np.float32)], [np.zeros(1, np.float32)], [], "sigmoid", "binary_cross_entropy"
    )
    model = Model(net, enc)
    z = np.array([-3.0, 12.0, 17.0, 20.0, 30.0])
    p = model.predict_proba(z[:, None])
    assert p.dtype == np.float32
    np.testing.assert_allclose(p[:, 0], 1 / (1 + np.exp(z)), rtol=1e-6)
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-6)
    (tmp_path / "e.csv").write_text("x,label\n20,0\n-20,0\n30,1\n")
    report = model.evaluate(read_table(str(tmp_path / "e.csv"), "label"))
    assert report["log_loss"] == pytest.approx((20 + 2e-9 + 1e-13) / 3, rel=1e-6)


@pytest.mark.parametrize("cost", ["binary_cross_entropy", "cross_entropy"])
def test_roc_auc_ranks_by_the_logits_not_by_probabilities_rounded_to_one(tmp_path, cost):
    """P(second class) is 1.0 in float32 for every logit past 17: a first-class row at z = 30
    tied with second-class rows at 18 and 20, each tie counting half (AUC 0.75), where the
    network ranks it above both (0.5)."""
    (tmp_path / "t.csv").write_text("x,label\n-1,0\n1,1\n")
    k = 1 if cost == "binary_cross_entropy" else 2
    enc = fit_encoding(read_table(str(tmp_path / "t.csv"), "label"), "classification", cost, k, False)
    W = np.array([[1.0]] if k == 1 else [[0.0], [1.0]], np.float32)  # z = x, or z = (0, x)
    output = "sigmoid" if k == 1 else "softmax"
    model = Model(Network([W], [np.zeros(k, np.float32)], [], output, cost), enc)
    (tmp_path / "e.csv").write_text("x,label\n30,0\n-5,0\n18,1\n20,1\n")
    report = model.evaluate(read_table(str(tmp_path / "e.csv"), "label"))
    assert report["roc_auc"] == 0.5


def test_info_json_of_a_model_saved_without_a_config(tmp_path):
    """A model saved from a network built by hand has no config: info --json says null (and
    the text still lists what the file holds)."""
    from tests.helpers import ok, run

    (tmp_path / "m.npz").write_bytes(GOOD)
    info = json.loads(ok(run("info", tmp_path / "m.npz", "--json")).stdout)
    assert info["config"] is None and info["sizes"] == [2, 3, 1]
