"""data.weight with a training .npy too big for memory, streamed in chunks (nettrain/data/stream.py):
the same weights as in memory (w_i over the training rows' mean, after the validation hold-out,
rows without a weight left out), read and shuffled with their rows chunk by chunk, and the
held-out validation rows' weights in the validation scores, as in memory; the same
errors for bad weights, found before anything trains. The files here are small: the tests lower
the streaming threshold."""

from __future__ import annotations

import numpy as np
import pytest

import nettrain.data.stream as stream
from nettrain import config_from_dict
from nettrain.backend import Device
from nettrain.data import StreamedDataset, load_run_data
from nettrain.errors import DataError
from nettrain.gradcheck import gradcheck_config
from nettrain.train import fit
from tests.helpers import assert_error, run

N = 1200
WEIGHT = 2  # the weight column's position: between the inputs


def matrix(n: int = N, seed: int = 0) -> np.ndarray:
    """(n, 5) float64: inputs 0, 1, 3, weights in 2 (0 to 3, some 0), a 0/1 label in 4."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    w = np.round(rng.uniform(0, 3, size=n), 1)
    y = (X[:, 0] - 0.5 * X[:, 1] + 0.25 * X[:, 2] > 0).astype(float)
    return np.column_stack([X[:, 0], X[:, 1], w, X[:, 2], y])


def raw_config(path, cost="cross_entropy", training=None, **data) -> dict:
    return {
        "data": {"train": str(path), "weight": WEIGHT, **data},
        "network": {"layers": ["auto", 8, "auto"], "activation": "tanh"},
        "cost": cost,
        "training": {"learning_rate": 0.3, "epochs": 3, "batch_size": 32, "seed": 1, **(training or {})},
        "output": str(path.parent / "run"),
    }


def streamed_in(monkeypatch, chunk_bytes: int = 1 << 30, block_bytes: int = 1 << 30) -> None:
    """Stream every .npy from here on, in chunks and blocks of about these many bytes."""
    monkeypatch.setattr(stream, "STREAM_BYTES", 1000)
    monkeypatch.setattr(stream, "CHUNK_BYTES", chunk_bytes)
    monkeypatch.setattr(stream, "BLOCK_BYTES", block_bytes)


CASES = {
    "classification, validation": ({"validation": 0.2}, "cross_entropy", {}),
    "regression, missing: drop": ({"missing": "drop", "target": 0}, "mse", {}),
    "data.features": ({"features": [3, 1], "validation": 0.1}, "cross_entropy", {}),
    "equal weights": ({"validation": 0.2}, "cross_entropy", {"equal": True}),
}


@pytest.mark.parametrize("data, cost, how", CASES.values(), ids=CASES.keys())
def test_a_streamed_weighted_fit_is_the_in_memory_one_bit_for_bit(tmp_path, monkeypatch, data, cost, how):
    """In one chunk (and one block), a streamed epoch draws the in-memory permutation: the same
    weights (normalized over the training rows after the hold-out, a row without a weight or
    an input left out under missing: drop) give the same model, bit for bit."""
    M = matrix()
    if how.get("equal"):
        M[:, WEIGHT] = 0.3
    if data.get("missing") == "drop":
        M[[7, 500], WEIGHT] = np.nan  # rows without a weight
        M[9, 1] = np.nan  # and one without an input
    np.save(tmp_path / "m.npy", M)
    raw = raw_config(tmp_path / "m.npy", cost, **data)
    memory = fit(config_from_dict(raw), save=False)
    assert not isinstance(load_run_data(config_from_dict(raw)).train, StreamedDataset)
    streamed_in(monkeypatch)
    rd = load_run_data(config_from_dict(raw))
    assert isinstance(rd.train, StreamedDataset) and len(rd.train._chunks()) == 1
    streamed = fit(config_from_dict(raw), save=False)
    assert streamed.summary["n_train"] == memory.summary["n_train"]
    for key in ("loss", "val_loss", "val_accuracy", "val_r2"):  # (the validation rows' weights too)
        assert [h.get(key) for h in streamed.history] == [h.get(key) for h in memory.history]
    weighted = True if "validation" in data else None
    assert streamed.summary.get("val_weighted") is memory.summary.get("val_weighted") is weighted
    a, b = memory.model.network, streamed.model.network
    for x, y in zip(a.W + a.b, b.W + b.b):
        np.testing.assert_array_equal(y, x)
    for enc in (memory.model.encoding, streamed.model.encoding):  # predict leaves the column out
        assert enc.weight == str(WEIGHT) and str(WEIGHT) not in enc.features + enc.excluded
    # the weights count: without them, another model; equal weights are none, bit for bit
    plain = {**raw, "data": {**raw["data"], "weight": None}}
    if "features" not in data:
        plain["data"]["exclude"] = [WEIGHT]
    unweighted = fit(config_from_dict(plain), save=False).model.network
    same = all(np.array_equal(x, y) for x, y in zip(unweighted.W + unweighted.b, b.W + b.b))
    assert same is bool(how.get("equal"))
    if how.get("equal"):  # exactly 1, as in memory: not 0.3 / their mean (1 - 1e-16 in float64)
        ds = load_run_data(config_from_dict({**raw, "dtype": "float64"})).train
        assert all((sw == 1).all() for _, _, sw in ds.batches(np.random.default_rng(0), Device("cpu")))


def test_streamed_weights_travel_with_their_rows_chunk_by_chunk(tmp_path, monkeypatch):
    """In many chunks and blocks, every epoch yields each training row once with its own
    weight, the in-memory one (normalized over the training rows, the validation rows' and the
    rows without a weight left out), shuffled with it; a validation row's weight is checked too."""
    M = matrix(2000)
    M[:, 3] = np.arange(len(M))  # a row id among the inputs (standardize: false keeps it exact)
    M[[11, 1500], WEIGHT] = np.nan
    np.save(tmp_path / "ids.npy", M)
    raw = raw_config(tmp_path / "ids.npy", validation=0.25, missing="drop", standardize=False)
    raw["dtype"] = "float64"
    memory = load_run_data(config_from_dict(raw)).train
    want = dict(zip(memory.X[:, 2].astype(int).tolist(), memory.w.tolist()))
    assert len(want) == 1500 - 2 and len(set(want.values())) > 20
    streamed_in(monkeypatch, chunk_bytes=8_000, block_bytes=1_000)
    ds = load_run_data(config_from_dict(raw)).train
    assert isinstance(ds, StreamedDataset) and len(ds._chunks()) >= 10 and ds.block_rows < ds.chunk_rows
    assert len(ds) == len(want)
    rng = np.random.default_rng(0)
    orders = []
    for _ in range(2):
        got: dict[int, float] = {}
        order = []
        for xb, _, sw in ds.batches(rng, Device("cpu")):
            assert sw is not None and sw.dtype == np.float64 and len(sw) == len(xb)
            for i, s in zip(xb[:, 2].astype(int).tolist(), sw.tolist()):
                assert i not in got
                got[i] = s
                order.append(i)
        assert got.keys() == want.keys()
        np.testing.assert_allclose([got[i] for i in want], list(want.values()), rtol=1e-12)
        orders.append(order)
    assert orders[0] != orders[1]
    # a validation row's weight weighs the validation scores: a negative one is refused, naming
    # its row, as in memory; an infinity is, in any row, as the NPY reader refuses one
    val = np.flatnonzero(ds.is_val)
    M[val[:2], WEIGHT] = [-1.0, 0.0]
    np.save(tmp_path / "ids.npy", M)
    with pytest.raises(DataError, match=f"row {val[0]}: column '2' holds '-1', a negative weight"):
        load_run_data(config_from_dict(raw))
    M[val[0], WEIGHT] = 1.0
    np.save(tmp_path / "ids.npy", M)
    assert len(load_run_data(config_from_dict(raw)).train) == len(want)
    M[val[-1], WEIGHT] = -np.inf
    np.save(tmp_path / "ids.npy", M)
    with pytest.raises(DataError, match=f"row {val[-1]}: column '2' holds -inf, which is not a finite"):
        load_run_data(config_from_dict(raw))


def _bad(M: np.ndarray, kind: str) -> dict:
    """Spoil the weights of M (late in the file, where a streamed pass meets them last);
    the data keys that go with it."""
    n = len(M)
    if kind == "infinite after a negative":  # the in-memory check looks for non-finite values first
        M[40, WEIGHT], M[n - 3, WEIGHT] = -1.0, np.inf
    elif kind == "negative":
        M[n - 2, WEIGHT] = -0.5
    elif kind == "missing":
        M[[n - 5, n - 1], WEIGHT] = np.nan
    elif kind == "all zero":
        M[:, WEIGHT] = 0.0
    elif kind == "the target":
        return {"weight": 4}
    elif kind == "no such column":
        return {"weight": 9}
    return {}


BAD = {
    "infinite after a negative": f"row {N - 3}: column '2' holds inf, which is not a finite number",
    "negative": f"row {N - 2}: column '2' holds '-0.5', a negative weight",
    "missing": f"row {N - 5}: the weight '2' is missing; 2 row(s) have no weight",
    "all zero": "data.weight ('2'): every training row's weight is 0",
    "the target": "data.weight names the target '4'",
    "no such column": "data.weight names '9', which is not a column of the file",
}


@pytest.mark.parametrize("kind, needle", BAD.items(), ids=BAD.keys())
def test_a_bad_streamed_weight_is_the_in_memory_error_before_any_training(
    tmp_path, monkeypatch, kind, needle
):
    M = matrix()
    data = _bad(M, kind)
    np.save(tmp_path / "m.npy", M)
    cfg = config_from_dict(raw_config(tmp_path / "m.npy", **data))
    with pytest.raises(DataError) as memory:
        load_run_data(cfg)
    streamed_in(monkeypatch, chunk_bytes=8_000, block_bytes=1_000)
    with pytest.raises(DataError) as streamed:
        stream.stream_npy(cfg, np.random.default_rng(0))
    if kind.startswith("infinite"):  # (the NPY reader refuses it without naming the column)
        assert str(memory.value).endswith(f"m.npy: the matrix holds an infinite value at row {N - 3}")
    else:
        assert str(streamed.value) == str(memory.value)
    assert needle in str(streamed.value) and "m.npy" in str(streamed.value)
    # the command: one line, exit 2, nothing written
    path = tmp_path / "c.yaml"
    path.write_text(
        f"data: {{train: {tmp_path / 'm.npy'}, weight: {data.get('weight', WEIGHT)}}}\n"
        f"network: {{layers: [auto, 8, auto]}}\ncost: cross_entropy\noutput: {tmp_path / 'run'}\n"
    )
    assert_error(run("fit", path), needle)
    assert not (tmp_path / "run").exists()


def test_gradcheck_of_a_streamed_weighted_config_weighs_its_rows(tmp_path, monkeypatch):
    M = matrix()
    M[: N // 2, WEIGHT] = 0.0  # (the batch checked holds rows of weight 0 and others)
    np.save(tmp_path / "m.npy", M)
    streamed_in(monkeypatch, chunk_bytes=8_000)
    cfg = config_from_dict(raw_config(tmp_path / "m.npy"))
    assert isinstance(load_run_data(cfg).train, StreamedDataset)
    result = gradcheck_config(cfg)
    assert result.passed
    assert any("weighted by data.weight ('2')" in note for note in result.notes)


def test_a_streamed_weighted_run_resumes_bit_for_bit(tmp_path, monkeypatch):
    """The weights come from the file each epoch: a run resumed from a checkpoint (in many
    chunks) ends as the run without the stop."""
    np.save(tmp_path / "m.npy", matrix())
    streamed_in(monkeypatch, chunk_bytes=8_000)
    raw = raw_config(tmp_path / "m.npy", validation=0.2, training={"epochs": 4, "checkpoint_every": 1})
    whole = fit(config_from_dict({**raw, "output": str(tmp_path / "whole")}))
    half = {**raw, "output": str(tmp_path / "half"), "training": {**raw["training"], "epochs": 2}}
    fit(config_from_dict(half))
    resumed = fit(config_from_dict({**raw, "output": str(tmp_path / "half")}), resume=str(tmp_path / "half"))
    a, b = whole.model.network, resumed.model.network
    for x, y in zip(a.W + a.b, b.W + b.b):
        np.testing.assert_array_equal(y, x)
    assert [h["loss"] for h in resumed.history] == [h["loss"] for h in whole.history]


@pytest.mark.parametrize("streamed", [False, True], ids=["in-memory", "streamed"])
def test_a_validation_row_dropped_for_a_missing_input_takes_its_weight_with_it(
    tmp_path, monkeypatch, streamed
):
    """missing: drop leaves out a validation row without an input: the other rows keep their
    own weights in the scores, which are then those of the file without that row."""
    M = matrix()
    V = matrix(200, seed=1)
    V[3, 0] = np.nan  # (early: a weight taken by position would be off for every row after it)
    np.save(tmp_path / "m.npy", M)
    np.save(tmp_path / "v.npy", V)
    np.save(tmp_path / "v2.npy", np.delete(V, 3, axis=0))
    if streamed:
        streamed_in(monkeypatch)
    history = []
    for name in ("v.npy", "v2.npy"):
        raw = raw_config(tmp_path / "m.npy", validation=str(tmp_path / name), missing="drop")
        result = fit(config_from_dict(raw), save=False)
        assert result.summary["val_weighted"] is True
        history.append([(h["val_loss"], h["val_accuracy"]) for h in result.history])
    assert history[0] == history[1]


def test_a_streamed_runs_validation_and_test_files_are_weighted_as_in_memory(tmp_path, monkeypatch):
    """Validation and test files with data.weight's column weigh their scores in a streamed run
    as in memory: the same scores, both said to be weighted."""
    np.save(tmp_path / "m.npy", matrix())
    np.save(tmp_path / "v.npy", matrix(200, seed=1))
    np.save(tmp_path / "x.npy", matrix(150, seed=2))
    raw = raw_config(tmp_path / "m.npy", validation=str(tmp_path / "v.npy"), test=str(tmp_path / "x.npy"))
    memory = fit(config_from_dict(raw), save=False)
    streamed_in(monkeypatch)
    assert isinstance(load_run_data(config_from_dict(raw)).train, StreamedDataset)
    streamed = fit(config_from_dict(raw), save=False)
    for result in (memory, streamed):
        assert result.summary["val_weighted"] is True and result.test["weighted"] is True
    assert [h["val_loss"] for h in streamed.history] == [h["val_loss"] for h in memory.history]
    assert streamed.test == memory.test


def test_streamed_training_rows_that_all_weigh_0_after_the_hold_out_are_named_as_in_memory(
    tmp_path, monkeypatch
):
    """A validation fraction that holds out every row weighing more than 0: the same error
    streamed as in memory, naming the training rows left after the hold-out, not the file."""
    M = matrix()
    np.save(tmp_path / "m.npy", M)
    cfg = config_from_dict(raw_config(tmp_path / "m.npy", validation=0.2))
    held = load_run_data(cfg).validation.table.rows
    M[:, WEIGHT] = np.where(np.isin(np.arange(N), held), M[:, WEIGHT] + 1, 0.0)
    np.save(tmp_path / "m.npy", M)
    with pytest.raises(DataError) as memory:
        load_run_data(cfg)
    streamed_in(monkeypatch, chunk_bytes=8_000)
    with pytest.raises(DataError) as streamed:
        load_run_data(cfg)
    assert str(streamed.value) == str(memory.value)
    assert "m.npy left after the hold-outs (data.validation: 0.2)" in str(streamed.value)


@pytest.mark.parametrize("weighted", [True, False], ids=["data.weight", "unweighted"])
@pytest.mark.parametrize("missing", ["drop", "mean"])
def test_a_streamed_npy_says_how_many_rows_it_left_out_as_in_memory(tmp_path, monkeypatch, weighted, missing):
    """Rows left out for missing values (an input under drop, a target, a weight), training and
    validation rows alike: the same notes streamed as in memory, so fit's stderr says the same."""
    m = matrix()
    rng = np.random.default_rng(5)
    for col, share in ((0, 0.08), (4, 0.03), (WEIGHT, 0.04)):
        m[rng.random(N) < share, col] = np.nan
    np.save(tmp_path / "m.npy", m)
    cfg = raw_config(tmp_path / "m.npy", validation=0.2, missing=missing)
    if not weighted:
        del cfg["data"]["weight"]
        cfg["network"]["layers"][0] = 4
    memory = load_run_data(config_from_dict(cfg))
    streamed_in(monkeypatch, chunk_bytes=8_000)
    streamed = load_run_data(config_from_dict(cfg))
    assert isinstance(streamed.train, StreamedDataset)
    assert len(streamed.train) == len(memory.train) and len(streamed.validation) == len(memory.validation)
    notes = [n for n in streamed.notes if not n.startswith("streaming ")]
    assert notes == memory.notes
    left_out = [n for n in notes if "rows with missing values" in n]
    assert [n.split(":")[0] for n in left_out] == ["training data", "validation data"]
