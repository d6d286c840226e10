"""`nettrain info`'s digest of the weights (`weights_sha256`; README, "init and info").

SHA-256 over W0, b0, W1, b1, ... as stored: for each, the line 'NAME DTYPE SHAPE' (dtype
little-endian) and the bytes, little-endian in C order. The same weights give the same digest
whatever else the file holds (times, folders) and whatever byte order it was stored in; other
weights, dtypes or shapes give another.
"""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pytest

from tests.conftest import CONFIGS, ROOT
from tests.helpers import nettrain, run


def fit(out, *sets):
    args = [a for s in sets for a in ("--set", s)]
    r = run("fit", CONFIGS / "xor.yaml", "-o", out, "-q", "--set", "training.epochs=50", *args)
    assert r.exit_code == 0, r.stderr
    return out


def digest(model) -> str:
    r = run("info", model, "--json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)["weights_sha256"]


def tiny(dtype="<f4", order="C"):
    """A 2-3-1 network with fixed weights."""
    from nettrain import Network

    W = [np.arange(6).reshape(3, 2) / 4, np.array([[1.0, -2.0, 0.5]])]
    b = [np.array([0.5, -1.0, 2.0]), np.array([0.25])]
    return Network(
        [np.asarray(w, dtype=dtype, order=order) for w in W],
        [v.astype(dtype) for v in b],
        ["tanh"],
        "identity",
        "mse",
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    return {
        "a": fit(folder / "a"),
        "b": fit(folder / "b"),  # the same config and seed, another folder and time
        "seed1": fit(folder / "seed1", "training.seed=1"),
    }


def test_the_same_seed_gives_the_same_digest_and_another_seed_another(runs):
    a, b, seed1 = digest(runs["a"]), digest(runs["b"]), digest(runs["seed1"])
    assert re.fullmatch(r"[0-9a-f]{64}", a)
    assert (runs["a"] / "model.npz").read_bytes() != (runs["b"] / "model.npz").read_bytes()
    assert a == b
    assert seed1 != a
    # the human output has it on one line
    lines = [line.split() for line in run("info", runs["a"]).stdout.splitlines()]
    assert ["weights", "sha256", a] in lines


def test_the_digest_is_a_fixed_function_of_the_bits():
    """Golden: the documented serialization, so the digest of the same weights is the same in
    another process, version or machine."""
    import struct

    from nettrain.modelfile import weights_sha256

    net = tiny()
    serialized = (
        b"W0 <f4 3,2\n" + struct.pack("<6f", 0, 0.25, 0.5, 0.75, 1, 1.25)
        + b"b0 <f4 3\n" + struct.pack("<3f", 0.5, -1, 2)
        + b"W1 <f4 1,3\n" + struct.pack("<3f", 1, -2, 0.5)
        + b"b1 <f4 1\n" + struct.pack("<f", 0.25)
    )  # fmt: skip
    assert weights_sha256(net) == hashlib.sha256(serialized).hexdigest()
    assert weights_sha256(net) == "79b806c08ee107de8cbb70dd92e27646cd53852e4537fbbce0bc85ea6b047114"
    # the same in a fresh process
    code = (
        "from tests.cli.test_weights_hash import tiny; from nettrain.modelfile import weights_sha256; "
        "print(weights_sha256(tiny()))"
    )
    import subprocess
    import sys

    from tests.helpers import subprocess_env

    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(), cwd=ROOT
    )
    assert out.stdout.strip() == weights_sha256(net), out.stderr


def test_byte_order_and_memory_layout_do_not_count_but_dtype_shape_and_bits_do():
    from nettrain.modelfile import weights_sha256

    base = weights_sha256(tiny())
    assert weights_sha256(tiny(">f4")) == base  # big-endian: the same values
    assert weights_sha256(tiny(order="F")) == base  # a Fortran-order copy: the same values
    assert weights_sha256(tiny("float64")) != base  # the same values in another dtype: other bits
    flipped = tiny()
    flipped.W[1].view(np.uint32)[0, 0] ^= 1  # one bit of one weight
    assert weights_sha256(flipped) != base
    # the same bytes in another shape are other weights
    reshaped = tiny()
    reshaped.W[0] = reshaped.W[0].reshape(2, 3)
    assert weights_sha256(reshaped) != base


def test_a_model_file_stored_big_endian_or_with_other_metadata_has_the_same_digest(runs, tmp_path):
    from nettrain import load_model, save_model

    model = runs["a"] / "model.npz"
    with np.load(model) as z:
        arrays = {k: z[k] for k in z.files}
    swapped = {
        k: a.astype(a.dtype.newbyteorder(">")) if a.dtype.kind == "f" else a for k, a in arrays.items()
    }
    assert swapped["W0"].dtype.str == ">f4"
    np.savez(tmp_path / "big_endian.npz", **swapped)
    assert digest(tmp_path / "big_endian.npz") == digest(model)
    # read in the machine's byte order: info names float32, not '>f4', and a re-save is native
    big = load_model(tmp_path / "big_endian.npz")
    assert all(a.dtype == np.float32 and a.dtype.isnative for a in big.network.W + big.network.b)
    assert big.encoding.x_mean.dtype.isnative
    assert json.loads(run("info", tmp_path / "big_endian.npz", "--json").stdout)["dtype"] == "float32"
    x = arrays["x_mean"][None, :]
    assert np.array_equal(big.predict_proba(x), load_model(model).predict_proba(x))
    # other metadata (training summary), the same arrays
    m = load_model(model)
    m.meta["training"] = {"epochs": 1}
    save_model(tmp_path / "other_meta.npz", m)
    assert digest(tmp_path / "other_meta.npz") == digest(model)
    # a float64 copy is other bits
    wide = {k: a.astype(np.float64) if k[0] in "Wb" else a for k, a in arrays.items()}
    np.savez(tmp_path / "float64.npz", **wide)
    assert json.loads(run("info", tmp_path / "float64.npz", "--json").stdout)["dtype"] == "float64"
    assert digest(tmp_path / "float64.npz") != digest(model)


def test_the_readme_recipe_gives_the_digest(runs, tmp_path, monkeypatch, capsys):
    """README, "init and info": the Python block recomputes the digest from model.npz."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### init and info") : readme.index("### plot")]
    block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    (tmp_path / "runs" / "digits").mkdir(parents=True)
    (tmp_path / "runs" / "digits" / "model.npz").write_bytes((runs["seed1"] / "model.npz").read_bytes())
    monkeypatch.chdir(tmp_path)
    exec(block, {})
    assert capsys.readouterr().out.strip() == digest(runs["seed1"])


def test_info_json_in_a_real_process(runs):
    r = nettrain("info", runs["a"], "--json")
    assert r.returncode == 0 and r.stderr == ""
    assert json.loads(r.stdout)["weights_sha256"] == digest(runs["b"])
