"""`nettrain trace`: the command-line contract (CliRunner; one real process for plain output).

The numbers themselves are checked in tests/test_trace.py; here: what is printed where, row
selection, --json, the layer names gradcheck uses, and errors as one line with exit 2."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from nettrain.trace import trace_config
from tests.conftest import CONFIGS, DATA
from tests.helpers import assert_error, nettrain, ok, run


@pytest.fixture(scope="module")
def xor_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("xor") / "run"
    ok(run("fit", CONFIGS / "xor.yaml", "--set", "training.epochs=20", "-o", out, "-q"))
    return out


def test_text_shows_the_derivation_in_its_names():
    r = ok(run("trace", CONFIGS / "xor.yaml", "--row", "1"))
    out = r.stdout
    assert r.stderr == ""
    assert out.startswith("trace: ")
    assert "initial weights (seed 0)" in out and "row 1 of " in out and "(line 3)" in out
    assert "example: x1 = 0, x2 = 1; label = 1" in out
    for line in (
        "forward pass (Network.forward_cache)",
        "a(1) = (x - mean) / scale",
        "z(2) = W(1) a(1) + b(1)",
        "a(2) = tanh(z(2))",
        "s = a(3) = sigmoid(z(3))",
        "C = binary_cross_entropy(s, y)",
        "backward pass (Network.backward)",
        "delta(3) = dC/dz(3) = s - y",
        "dC/dW(2) = delta(3) a(2)^T",
        "dC/db(2) = delta(3)",
        "delta(2) = (W(2)^T delta(3)) * tanh'(z(2))",
        "dC/dW(1) = delta(2) a(1)^T",
        "sigmoid with binary cross-entropy",
    ):
        assert line in out, line
    # W(1) 4x2 in full: four lines of two numbers
    lines = out.splitlines()
    i = next(i for i, line in enumerate(lines) if line.split()[:2] == ["W(1)", "4x2"])
    assert all(len(lines[i + k].split()) == (4 if k == 0 else 2) for k in range(4))
    # the cost printed is the trace's, to 6 digits
    t = trace_config(__import__("nettrain").load_config(CONFIGS / "xor.yaml"), row=1)
    assert f"{t.C:.6g}" in out


def test_layer_names_are_gradchecks():
    names = [
        p["name"] for p in json.loads(ok(run("gradcheck", CONFIGS / "seed.yaml", "--json")).stdout)["params"]
    ]
    traced = json.loads(ok(run("trace", CONFIGS / "seed.yaml", "--json")).stdout)
    assert [p["name"] for p in traced["params"]] == names
    assert [p["shape"] for p in traced["params"]] == [[2, 4], [2], [2, 2], [2], [1, 2], [1]]


def test_json_has_every_array_and_round_trips_shapes():
    r = ok(run("trace", CONFIGS / "digits.yaml", "--set", "data.train=null", "--json"))
    d = json.loads(r.stdout)  # one object
    assert r.stdout.count("\n") == 1
    for p in d["params"]:
        assert np.array(p["value"]).shape == tuple(p["shape"]) == np.array(p["grad"]).shape
    assert d["params"][0]["shape"] == [128, 64] and d["sizes"] == [64, 128, 64, 10]
    assert [len(layer["a"]) for layer in d["layers"]] == d["sizes"]
    assert sum(d["y"]) == 1 and len(d["s"]) == 10
    assert {"source", "row", "where", "features", "values", "label", "x", "C", "delta_rule", "notes"} <= set(
        d
    )
    assert "random" in d["notes"][0]
    assert "random" in r.stderr  # the note, on stderr


def test_overflow_is_valid_json_and_no_warning(tmp_path):
    """An example far outside the data: relu layers carry 1e200 to the output, where mse's square
    overflows: C and the gradients are inf. --json wrote them as Infinity, which is not JSON (a
    strict parser refuses it); the text's norm of a 1e200 vector printed numpy's RuntimeWarning."""
    header = (DATA / "regression_train.csv").read_text().splitlines()[0]
    (tmp_path / "far.csv").write_text(header + "\n" + ",".join(["1e200"] * 10) + ",1\n")
    sets = ["--set", "network.layers=[auto, 3, 3, auto]", "--set", "network.activation=relu"]
    sets += ["--set", "training.seed=1"]
    args = ("trace", CONFIGS / "regression.yaml", "--data", tmp_path / "far.csv", *sets)

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    d = json.loads(ok(run(*args, "--json")).stdout, parse_constant=refuse)
    assert d["C"] is None and None in d["params"][0]["grad"][0] + d["params"][0]["grad"][2]
    assert all(v is not None for v in d["s"])
    r = ok(run(*args))
    assert "C = mse(s, y)" in r.stdout and "Warning" not in r.stderr


def test_large_arrays_are_summarized_in_text():
    out = ok(run("trace", CONFIGS / "digits.yaml", "--set", "data.train=null", "-q")).stdout
    w1 = next(line for line in out.splitlines() if line.split()[:2] == ["W(1)", "128x64"])
    assert re.search(r"norm \S+, min \S+, max \S+; first: (\S+  ){5}\S+ \.\.\.", w1)
    b3 = next(line for line in out.splitlines() if line.split()[:2] == ["b(3)", "10"])
    assert len(b3.split()) == 12  # 10 entries in full
    assert "random example 0 (seed 0)" in out


@pytest.mark.parametrize("row", [0, 2])
def test_row_selects_that_row(row):
    d = json.loads(ok(run("trace", CONFIGS / "xor.yaml", "--row", row, "--json")).stdout)
    raw = np.loadtxt(DATA / "xor.csv", delimiter=",", skiprows=1)[row]
    assert d["values"] == list(raw[:2]) and d["label"] == str(int(raw[2])) and d["row"] == row


def test_model_source_needs_data_and_uses_the_trained_weights(xor_run):
    assert_error(run("trace", xor_run), "is a model", "--data FILE", "xor.csv")
    r = ok(run("trace", xor_run, "--data", DATA / "xor.csv", "--row", "3", "--json"))
    d = json.loads(r.stdout)
    import nettrain

    W1 = nettrain.load_model(xor_run).network.W[0]
    np.testing.assert_array_equal(np.array(d["params"][0]["value"]), W1.astype(np.float64))
    assert d["weights"] == "trained" and d["label"] == "0" and d["C"] > 0
    text = ok(run("trace", xor_run / "model.npz", "--data", DATA / "xor.csv")).stdout
    assert "trained weights (float32)" in text and "prediction: " in text


def test_file_without_the_target_gives_the_forward_pass_and_a_note(tmp_path, xor_run):
    (tmp_path / "x.csv").write_text("x1,x2\n1,0\n")
    r = ok(run("trace", xor_run, "--data", tmp_path / "x.csv"))
    assert "z(3) = W(2) a(2) + b(2)" in r.stdout and "backward pass: none" in r.stdout
    assert "dC/dW" not in r.stdout
    assert r.stderr.startswith("Note: ") and "no target column" in r.stderr
    assert ok(run("trace", xor_run, "--data", tmp_path / "x.csv", "-q")).stderr == ""
    d = json.loads(ok(run("trace", xor_run, "--data", tmp_path / "x.csv", "--json", "-q")).stdout)
    assert d["C"] is None and d["params"][0]["grad"] is None and "no target column" in d["notes"][0]


def test_data_from_stdin(xor_run):
    piped = ok(
        run("trace", xor_run, "--data", "-", "--row", "2", "--json", input=(DATA / "xor.csv").read_text())
    )
    direct = ok(run("trace", xor_run, "--data", DATA / "xor.csv", "--row", "2", "--json"))
    a, b = json.loads(piped.stdout), json.loads(direct.stdout)
    assert a["s"] == b["s"] and a["C"] == b["C"] and a["data"] == "<stdin>"


def test_errors_are_one_line_exit_2(tmp_path, xor_run):
    assert_error(
        run("trace", CONFIGS / "xor.yaml", "--row", "4"), "row 4 is past the end", "4 data rows, 0 to 3"
    )
    assert_error(run("trace", CONFIGS / "xor.yaml", "--row", "-1"), "--row -1", "count from 0")
    (tmp_path / "other.csv").write_text("a,b,label\n1,2,0\n")
    assert_error(run("trace", xor_run, "--data", tmp_path / "other.csv"), "feature column 'x1' is missing")
    assert_error(run("trace", tmp_path / "none.yaml"), "none.yaml", "not found")
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 not a zip")
    assert_error(run("trace", tmp_path / "bad.npz", "--data", DATA / "xor.csv"), "bad.npz")
    assert_error(run("trace", xor_run, "--data", tmp_path / "none.csv"), "none.csv")
    assert_error(run("trace", xor_run, "--set", "training.seed=1", "--data", DATA / "xor.csv"), "--set")
    assert_error(run("trace", CONFIGS / "xor.yaml", "--set", "network.layers=[2, 4, 3]"), "2 classes")


def test_a_config_from_a_pipe(tmp_path):
    """`trace <(...)`: telling a model from a config read the pipe's bytes (all of them, buffered),
    and the config's reader then found it empty; a named FIFO hung, its writer gone."""
    import shlex
    import subprocess

    from tests.helpers import MODULE, subprocess_env

    text = (CONFIGS / "xor.yaml").read_text().replace("../data/", f"{DATA}/")
    (tmp_path / "c.yaml").write_text(text)
    command = f"{shlex.join(map(str, MODULE))} trace <(cat {shlex.quote(str(tmp_path / 'c.yaml'))}) --json"
    p = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, env=subprocess_env(), timeout=120
    )
    assert p.returncode == 0, p.stderr
    direct = json.loads(ok(run("trace", tmp_path / "c.yaml", "--json")).stdout)
    assert json.loads(p.stdout)["s"] == direct["s"]


@pytest.mark.parametrize("case", ["training data", "data without the target"])
def test_a_pipe_read_twice_is_one_clear_error(tmp_path, case):
    """trace reads its training data twice (statistics, then the row), and an input without the
    target twice (with it, then without): a pipe has nothing left the second time, which said
    '/dev/fd/63: is empty'. It says why, and what to do; '-' and a pipe read once still work."""
    import shlex
    import subprocess

    from tests.helpers import MODULE, subprocess_env

    xor = shlex.quote(str(DATA / "xor.csv"))
    module = shlex.join(map(str, MODULE))
    config = shlex.quote(str(CONFIGS / "xor.yaml"))
    if case == "training data":
        command = f"{module} trace {config} --set data.train=<(cat {xor})"
        why = "reads the training data twice"
    else:
        command = f"{module} trace {config} --data <(cut -d, -f1,2 {xor})"
        why = "reads the input again for the forward pass alone"
    p = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, env=subprocess_env(), timeout=120
    )
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.count("\n") == 1 and why in p.stderr and "'-' (standard input)" in p.stderr, p.stderr
    # read once: a pipe of the whole file as --data works, and '-' works for both
    once = f"{module} trace {config} --data <(cat {xor}) --row 1 --json"
    p = subprocess.run(
        ["bash", "-c", once], capture_output=True, text=True, env=subprocess_env(), timeout=120
    )
    assert p.returncode == 0, p.stderr
    stdin = f"cut -d, -f1,2 {xor} | {module} trace {config} --data - --row 1 --json"
    p2 = subprocess.run(
        ["bash", "-c", stdin], capture_output=True, text=True, env=subprocess_env(), timeout=120
    )
    assert p2.returncode == 0, p2.stderr
    assert json.loads(p2.stdout)["s"] == json.loads(p.stdout)["s"]


def test_plain_output_in_a_real_process():
    p = nettrain("trace", CONFIGS / "seed.yaml", "--row", "5")
    assert p.returncode == 0, p.stderr
    assert "\x1b" not in p.stdout and p.stderr == ""
    assert "identity output with mse" in p.stdout and "y (standardized)" in p.stdout
    assert all(line == line.rstrip() for line in p.stdout.splitlines())


def test_readmes_example_is_real_output(monkeypatch):
    """README, "### trace": every line of the example (trimmed at '...') is a line of the output."""
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    block = readme.split("$ nettrain trace configs/seed.yaml\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(ROOT)
    out = ok(run("trace", "configs/seed.yaml")).stdout.splitlines()
    shown = [line for line in block.splitlines() if line.strip() != "..."]
    assert len(shown) > 20
    for line in shown:
        assert line in out, line


def test_digits_let_a_student_redo_z2_by_hand(monkeypatch):
    """With 6 digits, z(2) = W(1) a(1) summed by hand from the printed numbers misses the printed
    z(2) in its 5th digit (0.171737 against 0.171733: four products of rounded numbers that
    cancel); --digits 12 prints enough to agree to the last digits, and says how W(l) is laid
    out (row i: unit i of layer l+1)."""
    from tests.conftest import ROOT

    monkeypatch.chdir(ROOT)

    def row(out, name):
        lines = out.splitlines()
        i = next(i for i, line in enumerate(lines) if line.lstrip().startswith(name))
        return lines, i

    out = ok(run("trace", "configs/seed.yaml", "--digits", "12")).stdout
    lines, i = row(out, "a(1) = (x - mean) / scale")
    a1 = [float(v) for v in lines[i].split()[-4:]]
    W1 = [[float(v) for v in lines[i + 1].split()[-4:]], [float(v) for v in lines[i + 2].split()[-4:]]]
    lines, i = row(out, "z(2) = W(1) a(1) + b(1)")
    z2 = [float(v) for v in lines[i].split()[-2:]]
    assert all(len(v.replace("-", "").replace(".", "").lstrip("0")) >= 11 for v in lines[i].split()[-2:])
    for r, z in zip(W1, z2):
        assert sum(w * a for w, a in zip(r, a1)) == pytest.approx(z, rel=1e-10, abs=1e-11)
    assert "is the weight from unit j of layer l into unit i of layer l+1" in out
    default = ok(run("trace", "configs/seed.yaml")).stdout
    assert "1.14034  0.171733" in default  # 6 digits unless asked
    assert_error(run("trace", "configs/seed.yaml", "--digits", "0"), "Invalid value for '--digits'")


def test_the_standardization_is_shown_so_a1_can_be_redone_by_hand():
    """x as read, the training data's mean and scale, then a(1) = (x - mean) / scale: a student
    could not check a(1) without the statistics fit took. Without standardization: a(1) = x."""
    out = ok(run("trace", CONFIGS / "seed.yaml", "--digits", "12")).stdout
    rows = {}
    for line in out.splitlines():
        for name in (
            "x (as read)",
            "mean (training data)",
            "scale (training data)",
            "a(1) = (x - mean) / scale",
        ):
            if line.strip().startswith(name):
                rows[name] = np.array([float(v) for v in line.strip()[len(name) :].split()[1:]])
    x, mean, scale, a1 = rows.values()
    assert len(x) == 4 and np.allclose((x - mean) / scale, a1, rtol=1e-9, atol=1e-12)
    t = json.loads(ok(run("trace", CONFIGS / "seed.yaml", "--json")).stdout)
    assert np.allclose((np.array(t["x_raw"]) - t["x_mean"]) / np.array(t["x_scale"]), t["x"])
    assert t["x_raw"] == [float(v) for v in t["values"]]  # numeric columns: x is the row as read
    plain = ok(run("trace", CONFIGS / "seed.yaml", "--set", "data.standardize=false")).stdout
    assert "  a(1) = x  " in plain and "mean (training data)" not in plain


def test_a_value_filled_under_missing_mean_is_named_not_shown_as_read(tmp_path):
    """Under data.missing: mean, x holds the training mean where the row had no value: the row's
    label and a note say so, and --json lists the filled features."""
    (tmp_path / "d.csv").write_text("a,b,y\n1,2,3\n,4,5\n2,NA,6\n3,1,2\n4,2,1\n5,5,5\n")
    (tmp_path / "c.yaml").write_text(
        "data: {train: d.csv, target: y, missing: mean}\nnetwork: {layers: [2, 3, 1]}\ncost: mse\n"
    )
    r = ok(run("trace", tmp_path / "c.yaml", "--row", "1"))
    assert "x (as read, missing filled)" in r.stdout
    assert "a: missing in this row, filled with the training data's mean" in r.stderr
    t = json.loads(ok(run("trace", tmp_path / "c.yaml", "--row", "1", "--json")).stdout)
    assert t["filled"] == ["a"] and t["x_raw"][0] == pytest.approx(
        np.mean([1, 2, 3, 4, 5]) * 0 + t["x_mean"][0]
    )
    full = json.loads(ok(run("trace", tmp_path / "c.yaml", "--row", "0", "--json")).stdout)
    assert full["filled"] == [] and full["x_raw"] == [1.0, 2.0]
    assert "missing filled" not in ok(run("trace", tmp_path / "c.yaml", "--row", "0")).stdout


def test_json_of_a_wide_network_summarizes_its_large_matrices_and_full_writes_them(tmp_path):
    """A W(l) of more than 250,000 entries (here 4000x64) is a summary in --json, with a note
    on stderr; --full writes it; --full without --json is bad usage."""
    wide = ("--set", "network.layers=[64, 4000, 10]", "--set", "data.train=null")
    r = ok(run("trace", CONFIGS / "digits.yaml", *wide, "--json"))
    d = json.loads(r.stdout)
    assert d["left_out"] == ["W(1)"] and d["max_entries"] == 250_000
    w1, w2 = d["params"][0], d["params"][2]
    assert w1["shape"] == [4000, 64] and w1["value"] is None and w1["grad"] is None
    assert set(w1["summary"]) == {"value", "grad"} and w1["summary"]["value"]["norm"] > 0
    assert np.array(w2["value"]).shape == (10, 4000)  # 40,000 entries: in full
    assert len(d["layers"][1]["a"]) == len(d["layers"][1]["delta"]) == 4000
    assert "W(1): more than 250,000 entries" in r.stderr and "--full" in r.stderr
    assert any("W(1): more than 250,000 entries" in note for note in d["notes"])
    f = json.loads(ok(run("trace", CONFIGS / "digits.yaml", *wide, "--json", "--full")).stdout)
    assert "left_out" not in f and np.array(f["params"][0]["value"]).shape == (4000, 64)
    assert np.array_equal(np.outer(f["layers"][1]["delta"], f["layers"][0]["a"]), f["params"][0]["grad"])
    assert_error(run("trace", CONFIGS / "xor.yaml", "--full"), "--full is for --json")
