"""`nettrain gradcheck --worst K`: each array's K entries that disagree most, on stdout with the table.

The entries shown are held to an independent computation: the forward pass, the cost and a
deliberately broken backprop written out here in plain NumPy, and central differences taken here,
for a small tanh network on a CSV written here (standardize: false, so x and y are the file's)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from nettrain import load_config
from nettrain.network import Network
from tests.conftest import CONFIGS
from tests.helpers import ok, run

H = 1e-6  # gradcheck's step
RTOL, ATOL = 1e-5, 1e-8  # its default tolerances

# a row of the --worst table: W(2)  [1, 0]  analytic  numeric  abs  rel  verdict
ROW = re.compile(r"^\s*([Wb]\(\d+\))\s+\[([\d, ]+)\]\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(.+?)\s*$")


@pytest.fixture
def small(tmp_path):
    """A 3-4-3-1 tanh network's config on 6 rows of a CSV, its x, y and initial W, b (float64)."""
    rng = np.random.default_rng(11)
    x, y = rng.standard_normal((6, 3)), rng.standard_normal((6, 1))
    rows = ["x1,x2,x3,y"] + [",".join(repr(float(v)) for v in (*a, *t)) for a, t in zip(x, y)]
    (tmp_path / "data.csv").write_text("\n".join(rows) + "\n")
    cfg = tmp_path / "small.yaml"
    cfg.write_text(
        "data: {train: data.csv, target: y, standardize: false}\n"
        "network: {layers: [3, 4, 3, 1], activation: tanh, output: identity}\n"
        "cost: mse\ntraining: {seed: 3}\n"
    )
    net = Network.from_config(load_config(cfg), dtype="float64")
    return cfg, x, y, [np.array(W) for W in net.W], [np.array(b) for b in net.b]


def broken_tanh(monkeypatch):
    """Training's f' of tanh taken as a instead of 1 - a^2 (the mistake README shows students)."""
    from nettrain.activations import Tanh

    monkeypatch.setattr(Tanh, "mul_df", lambda self, da, a, tmp: da.__imul__(a))


def cost(x, y, W, b) -> float:
    """C = mean over examples and outputs of (s - y)^2, tanh hidden layers, identity output."""
    a = x
    for l in range(len(W)):
        z = a @ W[l].T + b[l]
        a = z if l == len(W) - 1 else np.tanh(z)
    return float(np.mean((a - y) ** 2))


def broken_backprop(x, y, W, b) -> list[np.ndarray]:
    """dC/dW(1), dC/db(1), ... by the derivation, but with f'(z) = a (the broken tanh')."""
    acts = [x]
    for l in range(len(W)):
        z = acts[-1] @ W[l].T + b[l]
        acts.append(z if l == len(W) - 1 else np.tanh(z))
    delta = 2 * (acts[-1] - y) / y.size  # delta(L) of the mean squared error
    grads = []
    for l in reversed(range(len(W))):
        grads[:0] = [delta.T @ acts[l], delta.sum(axis=0)]
        if l:
            delta = (delta @ W[l]) * acts[l]  # f'(z(l)) broken: a(l) instead of 1 - a(l)^2
    return grads


def numeric(x, y, W, b) -> list[np.ndarray]:
    """Central differences of ``cost`` for every entry, array by array as gradcheck orders them."""
    out = []
    for arrays, l in [(arrays, l) for l in range(len(W)) for arrays in (W, b)]:
        p, g = arrays[l], np.zeros(arrays[l].shape)
        for i in np.ndindex(p.shape):
            orig = p[i]
            p[i] = orig + H
            plus = cost(x, y, W, b)
            p[i] = orig - H
            minus = cost(x, y, W, b)
            p[i] = orig
            g[i] = (plus - minus) / (2 * H)
        out.append(g)
    return out


def expected_worst(x, y, W, b, k: int) -> list[dict]:
    """Every array's k entries that disagree most, computed here: failing first, then by rel error."""
    names = [f"{p}({l + 1})" for l in range(len(W)) for p in "Wb"]
    shown = []
    for name, a, n in zip(names, broken_backprop(x, y, W, b), numeric(x, y, W, b)):
        entries = []
        for i in np.ndindex(a.shape):
            err = abs(a[i] - n[i])
            passed = err <= ATOL + RTOL * max(abs(a[i]), abs(n[i]))
            rel = err / max(abs(a[i]), abs(n[i]), ATOL)
            entries.append(
                {"name": name, "index": i, "a": a[i], "n": n[i], "err": err, "rel": rel, "ok": passed}
            )
        entries.sort(key=lambda e: (e["ok"], -e["rel"]))
        shown += entries[:k]
    return shown


def worst_rows(stdout: str) -> list[tuple]:
    """The rows of the --worst table (after its title line), as text."""
    lines = stdout.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("worst entries"))
    return [ROW.match(line).groups() for line in lines[start + 1 :] if ROW.match(line)]


def test_the_entries_shown_are_the_worst_by_an_independent_computation(small, monkeypatch):
    cfg, x, y, W, b = small
    broken_tanh(monkeypatch)
    r = run("gradcheck", cfg, "--worst", "3")
    assert r.exit_code == 1, (r.stdout, r.stderr)
    rows = worst_rows(r.stdout)
    want = expected_worst(x, y, W, b, 3)
    # 3 of every array but b(3), which has 1 entry: K larger than what there is shows all of it
    assert [row[0] for row in rows] == ["W(1)"] * 3 + ["b(1)"] * 3 + ["W(2)"] * 3 + ["b(2)"] * 3 + [
        "W(3)"
    ] * 3 + ["b(3)"]
    for row, e in zip(rows, want):
        name, index, analytic, numeric_, abs_error, rel_error, verdict = row
        assert verdict == ("ok" if e["ok"] else "FAIL"), (row, e)
        if e["ok"]:
            # W(3) and b(3) do not go through the broken f': they agree, and their errors are
            # roundings (which differ between two ways of summing): their order means nothing
            assert float(abs_error) <= ATOL + RTOL * abs(e["n"])
            continue
        assert (name, index) == (e["name"], ", ".join(map(str, e["index"]))), (row, e)
        assert analytic == f"{e['a']:.6g}" and numeric_ == f"{e['n']:.6g}", (row, e)
        assert abs_error == f"{e['err']:.2e}" and rel_error == f"{e['rel']:.2e}", (row, e)
    # the agreeing arrays show every entry once, whatever their order, with the right values
    ok_rows = {(row[0], row[1]): row[2:4] for row in rows if row[-1] == "ok"}
    ok_want = {
        (e["name"], ", ".join(map(str, e["index"]))): (f"{e['a']:.6g}", f"{e['n']:.6g}")
        for e in want
        if e["ok"]
    }
    assert ok_rows == ok_want
    # worst first within an array: failing rows by falling relative error
    for name in ("W(1)", "b(1)", "W(2)", "b(2)"):
        rels = [float(row[5]) for row in rows if row[0] == name]
        assert rels == sorted(rels, reverse=True) and rels[0] > 0.01


def test_the_index_reads_as_the_derivation_and_failing_entries_come_first(small):
    """A W(l) entry's index is (unit of layer l+1, unit of layer l); a tolerance that some
    roundings meet and some do not gives arrays of both kinds: FAIL rows first, each kind worst first."""
    cfg, *_ = small
    result = json.loads(run("gradcheck", cfg, "--worst", "100", "--json").stdout)
    w1 = [e for e in result["worst"] if e["name"] == "W(1)"]
    assert {tuple(e["index"]) for e in w1} == {(i, j) for i in range(4) for j in range(3)}  # (4, 3)
    assert {tuple(e["index"]) for e in result["worst"] if e["name"] == "b(2)"} == {(0,), (1,), (2,)}
    tight = json.loads(
        run("gradcheck", cfg, "--worst", "100", "--json", "--rtol", "1e-9", "--atol", "0").stdout
    )
    mixed = 0
    for p in tight["params"]:
        entries = [e for e in tight["worst"] if e["name"] == p["name"]]
        verdicts = [e["passed"] for e in entries]
        assert verdicts == sorted(verdicts), verdicts  # False (FAIL) before True (ok)
        mixed += len(set(verdicts)) == 2
        for kind in (False, True):
            rels = [e["rel_error"] for e in entries if e["passed"] is kind]
            assert rels == sorted(rels, reverse=True)
    assert mixed  # the tolerance split some array


def test_k_larger_than_the_checked_entries_shows_each_once(small):
    cfg, *_ = small
    result = json.loads(ok(run("gradcheck", cfg, "--worst", "1000", "--json")).stdout)
    assert result["passed"] is True
    for p in result["params"]:
        indices = [tuple(e["index"]) for e in result["worst"] if e["name"] == p["name"]]
        assert len(indices) == len(set(indices)) == p["checked"] == int(np.prod(p["shape"]))
    # array by array in the order of params, nothing else
    names = [e["name"] for e in result["worst"]]
    assert names == sorted(names, key=[p["name"] for p in result["params"]].index)


def test_json_has_the_entries_only_when_asked():
    plain = json.loads(ok(run("gradcheck", CONFIGS / "seed.yaml", "--json")).stdout)
    assert "worst" not in plain
    assert set(plain) == {
        "params", "passed", "h", "rtol", "atol", "n_params", "sampled", "directional", "batch",
        "source", "notes", "device", "reference", "hint",
    }  # fmt: skip
    asked = json.loads(ok(run("gradcheck", CONFIGS / "seed.yaml", "--json", "--worst", "2")).stdout)
    assert {k: v for k, v in asked.items() if k != "worst"} == plain
    keys = {"name", "index", "analytic", "numeric", "abs_error", "rel_error", "passed", "rows"}
    assert asked["worst"] and all(set(e) == keys for e in asked["worst"])
    by_name = {p["name"]: p for p in plain["params"]}
    for e in asked["worst"]:
        p = by_name[e["name"]]
        assert len(e["index"]) == len(p["shape"]) and all(0 <= i < n for i, n in zip(e["index"], p["shape"]))
        assert e["passed"] is True and e["rows"] is None
        assert e["abs_error"] == pytest.approx(abs(e["analytic"] - e["numeric"]), abs=1e-15)
    counts = {name: sum(e["name"] == name for e in asked["worst"]) for name in by_name}
    assert counts == {name: min(2, p["checked"]) for name, p in by_name.items()}


def test_json_entries_that_are_not_a_number_are_null(monkeypatch):
    from nettrain import activations

    monkeypatch.setattr(activations.Sigmoid, "mul_df", lambda self, da, a, tmp: da.__imul__(float("nan")))
    r = run("gradcheck", CONFIGS / "seed.yaml", "--json", "--worst", "1")
    assert r.exit_code == 1

    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")

    first = json.loads(r.stdout, parse_constant=refuse)["worst"][0]
    assert first["name"] == "W(1)" and first["analytic"] is None and first["passed"] is False


def test_the_default_output_is_unchanged_and_worst_only_adds_its_table():
    default = ok(run("gradcheck", CONFIGS / "seed.yaml"))
    assert "worst" not in default.stdout and "analytic  " not in default.stdout
    asked = ok(run("gradcheck", CONFIGS / "seed.yaml", "--worst", "2"))
    assert asked.stderr == default.stderr
    plain, more = default.stdout.splitlines(), asked.stdout.splitlines()
    # the same lines, with the entries' table before the last (the verdict)
    assert more[: len(plain) - 1] == plain[:-1] and more[-1] == plain[-1]
    block = more[len(plain) - 1 : -1]
    assert block[0].startswith("worst entries, at most 2 per array, failing first")
    assert len(worst_rows(asked.stdout)) == 2 * 5 + 1  # b(3) has one entry
    # -q silences messages, not data
    assert ok(run("gradcheck", CONFIGS / "seed.yaml", "--worst", "2", "-q")).stdout == asked.stdout


def test_a_sampled_check_lists_only_sampled_entries():
    """digits.yaml has 17,226 parameters: 100 sampled entries per array, and only those listed."""
    r = ok(run("gradcheck", CONFIGS / "digits.yaml", "--batch", "2", "--worst", "1000", "--json"))
    result = json.loads(r.stdout)
    assert result["sampled"] is True
    for p in result["params"]:
        listed = [e for e in result["worst"] if e["name"] == p["name"]]
        assert len(listed) == p["checked"] == min(100, int(np.prod(p["shape"])))
    text = ok(run("gradcheck", CONFIGS / "digits.yaml", "--batch", "2", "--worst", "1")).stdout
    assert "of the sampled entries (no others were compared)" in text


@pytest.mark.parametrize("value", ["0", "-1", "x", "2.5", ""])
def test_a_bad_k_is_refused(value):
    r = run("gradcheck", CONFIGS / "seed.yaml", "--worst", value)
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert r.stdout == "" and "Traceback" not in r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "Invalid value for '--worst'" in errors[0], r.stderr
