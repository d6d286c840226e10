"""Backpropagation against central differences (nettrain.gradcheck), and proof that the check can
fail: derivatives broken on purpose are caught and the failing layers are named."""

import math
import os

import numpy as np
import pytest

from nettrain import config_from_dict, load_config
from nettrain.activations import Sigmoid, Tanh
from nettrain.costs import MSE, CrossEntropy
from nettrain.gradcheck import gradcheck, gradcheck_config
from nettrain.network import Network
from tests.conftest import CONFIGS

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity"]
COST_OUTPUTS = [
    ("mse", "identity"),
    ("mse", "sigmoid"),
    ("cross_entropy", "softmax"),
    ("binary_cross_entropy", "sigmoid"),
]
SHIPPED = sorted(CONFIGS.glob("*.yaml"))


def small_config(activation: str, cost: str, output: str, layers=(3, 5, 4, 3)):
    return config_from_dict(
        {
            "network": {"layers": list(layers), "activation": activation, "output": output},
            "cost": cost,
            "training": {"seed": 7},
        }
    )


def random_batch(net: Network, cost: str, n: int = 8, seed: int = 0):
    rng = np.random.default_rng(seed)
    k = net.sizes[-1]
    x = rng.standard_normal((n, net.sizes[0]))
    if cost == "cross_entropy":
        y = np.eye(k)[rng.integers(0, k, n)]
    elif cost == "binary_cross_entropy":
        y = rng.integers(0, 2, (n, k)).astype(float)
    else:
        y = rng.standard_normal((n, k))
    return x, y


def failing(result) -> set[str]:
    return {p.name for p in result.params if not p.passed}


@pytest.mark.parametrize("cost,output", COST_OUTPUTS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_and_cost_passes(activation, cost, output):
    result = gradcheck_config(small_config(activation, cost, output), batch=8)
    assert result.passed, result.to_dict()
    assert not result.sampled and result.directional is None
    names = [p.name for p in result.params]
    assert names == ["W(1)", "b(1)", "W(2)", "b(2)", "W(3)", "b(3)"]
    # every entry was compared
    assert [p.checked for p in result.params] == [15, 5, 20, 4, 12, 3]
    assert result.n_params == 59


def test_mixed_activations_per_layer_pass():
    cfg = config_from_dict(
        {
            "network": {"layers": [4, 5, 5, 3, 2], "activation": ["tanh", "relu", "softplus"]},
            "cost": "cross_entropy",
        }
    )
    assert gradcheck_config(cfg).passed


@pytest.mark.parametrize("training", [{"input_dropout": 0.3}, {"dropout": 0.5}, {}])
def test_a_config_with_dropout_is_checked_without_it_and_a_note_says_so(training):
    """Dropout is off in the check (a fixed function of the weights is needed): every unit is
    kept, the check passes, and a note says what was checked; no note without dropout."""
    cfg = config_from_dict(
        {"network": {"layers": [4, 5, 3]}, "cost": "cross_entropy", "training": {"seed": 1, **training}}
    )
    result = gradcheck_config(cfg, batch=4)
    assert result.passed
    noted = [n for n in result.notes if n.startswith("dropout is off in the check")]
    assert len(noted) == (1 if training else 0), result.notes


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_configs_pass(path):
    result = gradcheck_config(load_config(path))
    assert result.passed, result.to_dict()
    assert "rows of" in result.source  # used the config's own data
    assert result.batch == 16 or path.stem == "xor"


def test_the_source_of_one_row_says_row():
    result = gradcheck_config(load_config(CONFIGS / "xor.yaml"), batch=1)
    assert result.batch == 1 and result.source.startswith("first row of ")
    assert gradcheck_config(load_config(CONFIGS / "xor.yaml"), batch=2).source.startswith("first 2 rows of ")


def test_gradcheck_leaves_the_network_alone_and_accepts_float32():
    net = Network.create([3, 4, 2], ["tanh"], "identity", "mse", seed=1, dtype="float32")
    before = [p.copy() for p in net.params()]
    x, y = random_batch(net, "mse")
    assert gradcheck(net, x.astype(np.float32), y.astype(np.float32)).passed
    for p, q in zip(net.params(), before, strict=True):
        assert p.dtype == np.float32 and np.array_equal(p, q)


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_large_network_uses_sampling_and_the_directional_check(activation):
    net = Network.create(
        [30, 200, 100, 5], [activation, activation], "softmax", "cross_entropy", seed=0, dtype="float64"
    )
    x, y = random_batch(net, "cross_entropy", n=16)
    result = gradcheck(net, x, y, samples=40)
    assert net.n_params() == 30 * 200 + 200 + 200 * 100 + 100 + 100 * 5 + 5 > 5000
    assert result.sampled
    assert result.directional is not None and result.directional["passed"]
    assert [p.checked for p in result.params] == [40, 40, 40, 40, 40, 5]
    assert result.passed, result.to_dict()


def test_copy_false_checks_a_float64_network_in_place_and_puts_it_back():
    net = Network.create([3, 40, 30, 2], ["relu", "tanh"], "identity", "mse", seed=1, dtype="float64")
    before = [p.copy() for p in net.params()]
    x, y = random_batch(net, "mse", n=8)
    result = gradcheck(net, x, y, copy=False, max_full=100, samples=10)
    assert result.passed and result.directional is not None
    for p, q in zip(net.params(), before, strict=True):
        assert np.array_equal(p, q)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_gradcheck_holds_at_most_its_stated_copies_of_the_parameters(activation):
    # the memory check (below) counts PARAM_COPIES float64 copies: hold no more (with ReLU, each
    # row count near a kink once kept its own gradient buffers)
    import tracemalloc

    from nettrain.gradcheck import PARAM_COPIES

    cfg = load_config(
        CONFIGS / "xor.yaml", ["network.layers=[2, 400, 400, 1]", f"network.activation={activation}"]
    )
    gradcheck_config(cfg, samples=20)  # imports done first: their allocations are not the check's
    tracemalloc.start()
    try:
        result = gradcheck_config(cfg, samples=20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.passed
    assert peak < (PARAM_COPIES + 0.5) * 8 * result.n_params


def test_a_network_too_big_for_the_memory_left_is_refused_before_it_is_built(monkeypatch):
    import nettrain.backend as backend
    import nettrain.gradcheck as gc
    from nettrain.errors import ConfigError

    cfg = load_config(CONFIGS / "xor.yaml", ["network.layers=[2, 300, 300, 1]"])
    n = 2 * 300 + 300 + 300 * 300 + 300 + 300 + 1
    monkeypatch.setattr(backend, "available_memory", lambda: gc.PARAM_COPIES * 8 * n - 1)

    def never(*args, **kwargs):
        raise AssertionError("built")

    monkeypatch.setattr(Network, "from_config", never)
    with pytest.raises(ConfigError, match=f"gradcheck of {n:,} parameters needs about .* is available"):
        gradcheck_config(cfg)
    with pytest.raises(ConfigError, match="needs about"):
        gradcheck_config(
            load_config(CONFIGS / "xor.yaml", ["network.layers=[2, 300, 300, 1]", "data.train=null"])
        )
    monkeypatch.setattr(backend, "available_memory", lambda: gc.PARAM_COPIES * 8 * n)
    with pytest.raises(AssertionError, match="built"):  # just enough: it goes on
        gradcheck_config(cfg)


def test_available_memory_reads_what_linux_says():
    import sys

    from nettrain.backend import available_memory

    free = available_memory()
    if sys.platform.startswith("linux"):
        assert free is not None and 0 < free < os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    else:
        assert free is None


def test_a_1d_target_of_a_one_output_network_is_its_column():
    """Network.gradients takes y of shape (n,) for one output; gradcheck's differences must too
    (broadcast against (n, 1), the cost was the mean of an (n, n) matrix: a spurious failure)."""
    net = Network.create([3, 4, 1], "tanh", "identity", "mse", seed=2, dtype="float64")
    x, y = random_batch(net, "mse")
    column, flat = gradcheck(net, x, y), gradcheck(net, x, y[:, 0])
    assert flat.passed and flat.to_dict() == column.to_dict()
    from nettrain.errors import DataError

    with pytest.raises(DataError, match="y has shape"):
        gradcheck(net, x, y[:4])


def unscaled_targets(scale: float):
    """A 2-8-1 tanh network on 16 rows whose targets are about ``scale`` (house prices of 3e5
    with data.standardize: false): the initial cost is about scale^2."""
    net = Network.create([2, 8, 1], "tanh", "identity", "mse", seed=0, dtype="float64")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 2))
    return net, x, scale * (1 + 0.2 * x[:, :1])


def test_targets_of_3e5_do_not_fail_a_correct_backprop_on_the_differences_rounding():
    """C is about 1e11, so each difference is good only to about eps C / h = 20: a correct
    backprop failed at rtol 1e-5 (and the hint blamed Cost.delta). The difference's rounding,
    8 eps |C| / h, is allowed for, and a note says so."""
    net, x, y = unscaled_targets(3e5)
    result = gradcheck(net, x, y)
    assert result.passed, [(p.name, p.max_abs_error) for p in result.params]
    assert 10 < result.rounding < 1e3 and "cost is large" in " ".join(result.notes)
    # standardized, the allowance is far below atol and no note is made
    ok = gradcheck(net, x, (y - y.mean()) / y.std())
    assert ok.passed and ok.rounding < 1e-8 and not ok.notes


def test_a_mistake_is_still_caught_with_targets_of_3e5(monkeypatch):
    original = MSE.fused  # the training form of delta(L): doubled
    monkeypatch.setattr(MSE, "fused", lambda self, z, y, scale, tmp: original(self, z, y, 2 * scale, tmp))
    result = gradcheck(*unscaled_targets(3e5))
    assert not result.passed and failing(result) == {"W(1)", "b(1)", "W(2)", "b(2)"}
    assert "delta(3), the output's" in result.hint


def test_targets_too_large_to_difference_are_not_passed_on_rounding_alone():
    """Targets of 1e20: the rounding (1e31) is larger than every gradient, so nothing is checked;
    the check fails and says why, instead of passing on the allowance."""
    result = gradcheck(*unscaled_targets(1e20))
    assert not result.passed and failing(result) == {"W(1)", "b(1)", "W(2)", "b(2)"}
    assert "too large to check by finite differences" in result.hint


def test_a_gradient_zero_within_atol_has_no_relative_error_of_1():
    """XOR's corners (+-1, +-1) through an odd tanh layer give outputs s and 1 - s in pairs, so
    dC/db(2) = mean(s - y) is 0 and backprop's value is a rounding: its ratio to the difference
    (another rounding) means nothing. It is measured against atol instead, as the criterion does."""
    net = Network.create([2, 3, 1], "tanh", "sigmoid", "binary_cross_entropy", seed=1, dtype="float64")
    x = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    _, _, db = net.gradients(x, y)
    atol = 1e-8
    assert abs(float(db[-1][0])) < 1e-12  # zero but for rounding
    result = gradcheck(net, x, y, atol=atol)
    assert result.passed
    for p in result.params:  # by definition: |a - n| / max(|a|, |n|, atol) <= |a - n| / atol
        assert p.max_rel_error <= p.max_abs_error / atol
    b2 = result.params[-1]  # within atol, so its relative error is below 1 (it was 1: rounding / rounding)
    assert b2.name == "b(2)" and b2.max_abs_error < atol and b2.max_rel_error < 1


# -- the check can fail --------------------------------------------------------------------------


def test_broken_sigmoid_derivative_is_caught_and_named(monkeypatch):
    cfg = small_config("sigmoid", "mse", "identity")
    assert gradcheck_config(cfg).passed
    # backprop multiplies by f' in place (mul_df): make it use a instead of a * (1 - a)
    monkeypatch.setattr(Sigmoid, "mul_df", lambda self, da, a, tmp: da.__imul__(a))
    result = gradcheck_config(cfg)
    assert not result.passed
    # the output layer's gradient does not go through a hidden f', every layer below does
    assert failing(result) == {"W(1)", "b(1)", "W(2)", "b(2)"}
    assert "delta(3) = (W(3)^T delta(4)) * f'(z(3))" in result.hint and "sigmoid" in result.hint


def test_broken_output_delta_is_caught_in_every_layer(monkeypatch):
    cfg = small_config("tanh", "mse", "identity")
    original = MSE.fused  # the training form of delta(L): doubled
    monkeypatch.setattr(MSE, "fused", lambda self, z, y, scale, tmp: original(self, z, y, 2 * scale, tmp))
    result = gradcheck_config(cfg)
    assert not result.passed
    assert failing(result) == {"W(1)", "b(1)", "W(2)", "b(2)", "W(3)", "b(3)"}
    assert "delta(4), the output's" in result.hint and "mse" in result.hint
    # a factor 2 is a relative error of 1/2 on every entry
    assert all(p.max_rel_error == pytest.approx(0.5, rel=1e-3) for p in result.params)


def test_the_hint_reads_where_the_mistake_enters_from_the_failing_layers():
    from nettrain.gradcheck import where_wrong

    net = Network.create([3, 5, 4, 2], ["tanh", "relu"], "softmax", "cross_entropy", seed=0)
    assert where_wrong(net, []) == "" and where_wrong(net, ["direction"]) == ""
    # delta(3) wrong (layer 3's relu f'): W(2) and everything below fail
    hint = where_wrong(net, ["W(1)", "b(1)", "W(2)", "b(2)"])
    assert "highest layer that fails is 2" in hint and "f' of layer 3's activation, relu" in hint
    assert "f' of layer 2's activation, tanh" in where_wrong(net, ["W(1)"])  # delta(2)
    output = where_wrong(net, ["W(3)", "W(1)"])
    assert "delta(4), the output's" in output and "cross_entropy" in output and "softmax" in output
    # layer 2 alone, the layers below right: not a delta, its own product
    assert where_wrong(net, ["W(2)"]).startswith("only layer 2's gradients fail")
    assert "dC/dW(2) = delta(3) a(2)^T" in where_wrong(net, ["W(2)", "b(2)"])
    # a check that passes has none
    small = Network.create([3, 4, 2], ["tanh"], "identity", "mse", seed=1, dtype="float64")
    assert gradcheck(small, *random_batch(small, "mse")).hint == ""


def test_missing_1_over_n_in_cross_entropy_is_caught(monkeypatch):
    cfg = small_config("relu", "cross_entropy", "softmax")
    original = CrossEntropy.fused  # delta(L) = s - y, without the 1/n
    monkeypatch.setattr(
        CrossEntropy, "fused", lambda self, z, y, scale, tmp: original(self, z, y, scale * len(z), tmp)
    )
    result = gradcheck_config(cfg, batch=4)
    assert not result.passed and len(failing(result)) == 6


def test_broken_large_network_is_caught_by_sampling_and_named(monkeypatch):
    net = Network.create([30, 200, 100, 5], ["tanh", "tanh"], "identity", "mse", seed=0, dtype="float64")
    x, y = random_batch(net, "mse", n=16)
    monkeypatch.setattr(Tanh, "mul_df", lambda self, da, a, tmp: None)  # f' = 1 instead of 1 - a^2
    result = gradcheck(net, x, y, samples=20)
    assert result.sampled and not result.passed
    assert {"W(1)", "b(1)", "W(2)", "b(2)"} <= failing(result)
    assert "W(3)" not in failing(result)
    assert not result.directional["passed"]


def test_directional_check_alone_catches_a_broken_large_network(monkeypatch):
    net = Network.create(
        [30, 200, 100, 5], ["sigmoid", "sigmoid"], "softmax", "cross_entropy", seed=0, dtype="float64"
    )
    x, y = random_batch(net, "cross_entropy", n=16)
    # with no entries sampled, only the directional check can say anything
    assert gradcheck(net, x, y, samples=0).passed
    monkeypatch.setattr(Sigmoid, "mul_df", lambda self, da, a, tmp: da.__imul__(a))
    result = gradcheck(net, x, y, samples=0)
    assert all(p.checked == 0 and p.passed for p in result.params)
    assert not result.directional["passed"]
    assert not result.passed


# -- the readable reference (Network.backward) ----------------------------------------------------


def test_a_broken_readable_derivative_fails_the_reference_check(monkeypatch):
    """A student breaks the f' that sits next to f (Activation.df). Training runs the in-place
    mul_df, which is still right, so the finite-difference table passes; the reference check
    (Network.backward against the training step) fails and names the arrays below that f'."""
    cfg = small_config("sigmoid", "mse", "identity")
    healthy = gradcheck_config(cfg)
    assert healthy.passed and healthy.reference["passed"] and healthy.reference["differ"] == []
    monkeypatch.setattr(Sigmoid, "df", lambda self, z, a: a)  # a instead of a (1 - a)
    result = gradcheck_config(cfg)
    assert all(p.passed for p in result.params)  # the training step is untouched
    assert not result.reference["passed"] and not result.passed
    assert result.reference["differ"] == ["W(1)", "b(1)", "W(2)", "b(2)"]
    assert result.to_dict()["reference"]["passed"] is False


def test_a_readable_delta_without_1_over_n_fails_the_reference_check_in_every_layer(monkeypatch):
    cfg = small_config("tanh", "cross_entropy", "softmax")
    monkeypatch.setattr(CrossEntropy, "delta", lambda self, z, s, y: s - y)
    result = gradcheck_config(cfg, batch=4)
    assert all(p.passed for p in result.params)
    assert result.reference["differ"] == [p.name for p in result.params] and not result.passed


def test_a_readable_derivative_broken_into_nan_shows_nan_not_a_small_error(monkeypatch):
    """A NaN from Network.backward must not hide behind a finite maximum: the reference's
    errors say nan (null in JSON), not the largest finite error of the other arrays."""
    cfg = small_config("sigmoid", "mse", "identity")
    monkeypatch.setattr(Sigmoid, "df", lambda self, z, a: a * np.nan)
    result = gradcheck_config(cfg)
    ref = result.reference
    assert not ref["passed"] and math.isnan(ref["max_abs_error"]) and math.isnan(ref["max_rel_error"])
    assert result.to_dict()["reference"]["max_abs_error"] is None


# -- ReLU kinks -------------------------------------------------------------------------------------


def dead_layer_net() -> tuple[Network, np.ndarray, np.ndarray]:
    """A relu net and two rows; in row 0 every unit of the first hidden layer is off, so with
    zero biases every z of the second hidden layer is exactly 0: on the kink."""
    net = Network.create([2, 3, 2, 1], ["relu", "relu"], "identity", "mse", seed=0, dtype="float64")
    net.W[0][...] = [[1.0, 1.0], [1.0, 0.5], [0.5, 1.0]]
    x = np.array([[-1.0, -1.0], [1.0, 2.0]])
    y = np.array([[0.3], [-0.2]])
    return net, x, y


def test_entries_that_cross_a_relu_kink_are_compared_on_the_other_rows():
    """Nudging b(2) moves row 0's z(3) across 0: the difference there is half a slope, not a
    wrong derivative. Compared on row 1 alone, b(2) passes; nothing is left unchecked."""
    net, x, y = dead_layer_net()
    assert float(net.forward_cache(x)[0][1][0].max()) == 0.0  # row 0 sits on the kink
    result = gradcheck(net, x, y)
    assert result.passed, result.to_dict()
    kinks = {p.name: p.kinks for p in result.params}
    assert kinks["b(2)"] == 2 and kinks["W(2)"] == 0  # row 0's a(2) = 0: W(2) moves no z there
    assert [p.checked for p in result.params] == [6, 3, 6, 2, 2, 1]
    assert "compared on the other rows" in result.notes[0]


def test_an_entry_crossing_a_kink_in_every_row_is_left_out_and_said():
    net, x, y = dead_layer_net()
    result = gradcheck(net, x[:1], y[:1])
    b2 = next(p for p in result.params if p.name == "b(2)")
    assert (b2.checked, b2.kinks) == (0, 2)
    assert "2 crossed in every row and were left out" in result.notes[0]


def test_a_broken_relu_derivative_is_still_caught_beside_a_kink(monkeypatch):
    from nettrain.activations import ReLU

    net, x, y = dead_layer_net()
    monkeypatch.setattr(ReLU, "mul_df", lambda self, da, a, tmp: None)  # f' = 1 everywhere
    result = gradcheck(net, x, y)
    assert not result.passed
    assert {"W(1)", "b(1)"} <= failing(result)


def test_gradcheck_cli_passes_a_relu_config_with_dead_rows(tmp_path):
    """The README audit's case: seed.csv through 4-3-3-1 relu failed on b(2) at a kink."""
    from tests.helpers import ok, run

    cfg = tmp_path / "relu.yaml"
    cfg.write_text(
        f"data: {{train: {CONFIGS.parent / 'data' / 'seed.csv'}, target: y}}\n"
        "network: {layers: [4, 3, 3, 1], activation: relu}\ncost: mse\n"
    )
    r = ok(run("gradcheck", cfg))
    assert "PASS" in r.stdout
    assert "Note:" in r.stderr and "kink" in r.stderr
    # --quiet leaves the notes out, and the table (stdout) as it was; --json alike
    quiet = ok(run("gradcheck", cfg, "--quiet"))
    assert quiet.stderr == "" and quiet.stdout == r.stdout
    loud_json, quiet_json = ok(run("gradcheck", cfg, "--json")), ok(run("gradcheck", cfg, "--json", "-q"))
    assert "kink" in loud_json.stderr and quiet_json.stderr == ""
    assert quiet_json.stdout == loud_json.stdout


def test_auto_layer_sizes_in_gradcheck():
    from nettrain.errors import ConfigError

    cfg = load_config(CONFIGS / "digits.yaml", ["network.layers=[auto, 8, auto]"])
    result = gradcheck_config(cfg, batch=4)
    assert result.passed and result.params[0].shape == (8, 64) and result.params[-1].shape == (10,)
    with pytest.raises(ConfigError, match="auto sizes, which come from the data"):
        gradcheck_config(
            load_config(CONFIGS / "digits.yaml", ["network.layers=[auto, 8, auto]", "data.train=null"])
        )


def test_the_report_says_what_kinks_left_uncompared(capsys):
    from nettrain.cli import _print_gradcheck

    net, x, y = dead_layer_net()
    result = gradcheck(net, x[:1], y[:1])
    _print_gradcheck(result)
    out = capsys.readouterr().out
    b2 = next(line for line in out.splitlines() if line.strip().startswith("b(2)"))
    assert "not compared (kinks)" in b2 and " ok" not in b2
    assert "PASS: checked every parameter of 20 but 2 at ReLU kinks (not comparable)" in out


# -- the entries that disagree most (worst=K) ------------------------------------------------------


def test_worst_entries_fail_first_then_by_relative_error():
    """An entry within atol (|a|, |n| below it) can have a larger relative error than one the
    criterion fails: the failing one still comes first. NaN is the worst; ties go by index."""
    from nettrain.gradcheck import _worst_entries

    analytic = np.array([1e-9, 1.0, 0.5, np.nan, 2.0, 0.5])
    numeric = np.array([6e-9, 1.00002, 0.5, 0.3, 2.0, 0.5])
    ok = np.abs(analytic - numeric) <= 1e-8 + 1e-5 * np.maximum(np.abs(analytic), np.abs(numeric))
    assert ok.tolist() == [True, False, True, False, True, True]
    compared = [5, 0, 1, 2, 3, 4]  # flat indices into a (2, 3) array, not in order
    rows = [None, None, None, None, 3, None]
    got = _worst_entries("W(2)", (2, 3), compared, rows, analytic, numeric, ok, 1e-8, 10)
    # NaN, then the failing 1.0 (rel 2e-5) before the passing 1e-9 (rel 0.5); exact ties by flat index
    assert [e.index for e in got] == [(0, 2), (0, 0), (1, 2), (0, 1), (1, 0), (1, 1)]
    assert [e.passed for e in got] == [False, False, True, True, True, True]
    assert got[2].rel_error == pytest.approx(0.5) and got[1].rel_error == pytest.approx(2e-5, rel=1e-4)
    assert got[4].rows == 3 and got[0].rows is None
    top2 = _worst_entries("W(2)", (2, 3), compared, rows, analytic, numeric, ok, 1e-8, 2)
    assert [e.index for e in top2] == [(0, 2), (0, 0)]


def test_worst_entries_are_backprops_and_the_differences_values(monkeypatch):
    """Every listed entry's analytic value is backprop's gradient at that index, and its numeric
    value the central difference there, taken here with the cost written out; the first entry of
    an array has the table's max rel error."""
    net = Network.create([3, 4, 2], "tanh", "identity", "mse", seed=5, dtype="float64")
    x, y = random_batch(net, "mse", n=5)
    monkeypatch.setattr(Tanh, "mul_df", lambda self, da, a, tmp: da.__imul__(a))  # f' broken
    _, dW, db = net.gradients(x, y)
    grads = dict(zip(net.param_names(), [dW[0], db[0], dW[1], db[1]]))

    def cost(params: dict) -> float:  # mean over rows and outputs of (s - y)^2, tanh hidden layer
        s = np.tanh(x @ params["W(1)"].T + params["b(1)"]) @ params["W(2)"].T + params["b(2)"]
        return float(np.mean((s - y) ** 2))

    result = gradcheck(net, x, y, worst=3)
    assert not result.passed
    assert [e.name for e in result.worst] == ["W(1)"] * 3 + ["b(1)"] * 3 + ["W(2)"] * 3 + ["b(2)"] * 2
    h = 1e-6
    for e in result.worst:
        params = {name: p.copy() for name, p in zip(net.param_names(), net.params())}
        params[e.name][e.index] += h
        plus = cost(params)
        params[e.name][e.index] -= 2 * h
        minus = cost(params)
        assert e.analytic == pytest.approx(float(grads[e.name][e.index]), rel=1e-12)
        assert e.numeric == pytest.approx((plus - minus) / (2 * h), rel=1e-6, abs=1e-9)
    for p in result.params:  # (every entry of an array fails, or every one passes, here)
        first = next(e for e in result.worst if e.name == p.name)
        assert first.rel_error == p.max_rel_error and first.passed == p.passed
    plain = gradcheck(net, x, y)
    assert plain.worst is None and "worst" not in plain.to_dict()


def test_worst_lists_only_sampled_entries_of_a_large_network():
    net = Network.create([6, 8, 3], "tanh", "identity", "mse", seed=1, dtype="float64")
    x, y = random_batch(net, "mse", n=4)
    result = gradcheck(net, x, y, max_full=10, samples=5, worst=50)
    assert result.sampled
    assert [sum(e.name == p.name for e in result.worst) for p in result.params] == [5, 5, 5, 3]
    _, dW, db = net.gradients(x, y)
    grads = {"W(1)": dW[0], "b(1)": db[0], "W(2)": dW[1], "b(2)": db[1]}
    for e in result.worst:  # each is a compared entry: its numeric value agrees with backprop's there
        assert e.numeric == pytest.approx(float(grads[e.name][e.index]), rel=1e-5, abs=1e-8)


def test_worst_leaves_out_entries_not_compared_and_says_fewer_rows():
    net, x, y = dead_layer_net()
    both = gradcheck(net, x, y, worst=10)
    assert {e.rows for e in both.worst if e.name == "b(2)"} == {1}  # row 0 crosses the kink
    assert all(e.rows is None for e in both.worst if e.name != "b(2)")
    one = gradcheck(net, x[:1], y[:1], worst=10)  # b(2) crosses in its only row: not compared
    assert not [e for e in one.worst if e.name == "b(2)"]
    assert len(one.worst) == sum(p.checked for p in one.params)


def test_worst_must_not_be_negative():
    from nettrain.errors import ConfigError

    net = Network.create([2, 2, 1], "tanh", "identity", "mse", seed=0, dtype="float64")
    with pytest.raises(ConfigError, match="worst must be 0"):
        gradcheck(net, np.zeros((2, 2)), np.zeros((2, 1)), worst=-1)


def test_the_report_says_which_entries_were_compared_on_fewer_rows(capsys):
    from nettrain.cli import _print_gradcheck

    net, x, y = dead_layer_net()
    _print_gradcheck(gradcheck(net, x, y, worst=10), worst=10)
    lines = capsys.readouterr().out.splitlines()
    entries = lines[next(n for n, line in enumerate(lines) if line.startswith("worst entries")) :]
    b2 = [line for line in entries if line.strip().startswith("b(2)")]
    assert len(b2) == 2 and all(line.endswith("ok (on 1 of 2 rows: kink)") for line in b2)
    assert not any("kink" in line for line in entries if line.strip().startswith(("W(", "b(1)", "b(3)")))


def test_the_entries_of_an_array_too_large_to_difference_fail_with_it():
    """--worst lists an unchecked array's entries as failing, as its row in the table is: they
    passed on the rounding allowance alone ('ok' under a FAIL)."""
    result = gradcheck(*unscaled_targets(1e20), worst=2)
    assert result.worst and not any(e.passed for e in result.worst)
    assert {e.name for e in result.worst} == failing(result)


def test_the_hint_names_the_method_to_fix_in_the_form_that_failed(monkeypatch):
    """A student reads the Hint to know which line to edit: the training step's mul_df (or a
    cost's fused) when backprop disagrees with finite differences, df (or delta) when only
    Network.backward, the readable form, disagrees with the training step."""
    cfg = small_config("sigmoid", "mse", "identity")
    with monkeypatch.context() as m:
        m.setattr(Sigmoid, "mul_df", lambda self, da, a, tmp: da.__imul__(a))
        hint = gradcheck_config(cfg).hint
    assert "Sigmoid.mul_df in nettrain/activations.py, the training step's form" in hint
    with monkeypatch.context() as m:
        m.setattr(Sigmoid, "df", lambda self, z, a: a)
        result = gradcheck_config(cfg)
    assert all(p.passed for p in result.params) and not result.reference["passed"]
    assert "Sigmoid.df in nettrain/activations.py, Network.backward's form" in result.hint
    assert "mul_df" not in result.hint
    with monkeypatch.context() as m:
        original = MSE.delta
        m.setattr(MSE, "delta", lambda self, z, s, y, w=None: 2 * original(self, z, s, y, w))
        assert "MSE.delta in nettrain/costs.py" in gradcheck_config(cfg).hint


def test_the_hint_names_df_for_an_activation_without_mul_df():
    """An activation of one's own (README's recipe) trains with its df: the hint says so, and
    where the class lives."""
    from nettrain.activations import ACTIVATIONS, Activation

    class Square(Activation):  # f' deliberately wrong: 2 z would be right
        name = "square_test"

        def f(self, z):
            return z * z

        def df(self, z, a):
            return a

    ACTIVATIONS["square_test"] = Square
    try:
        result = gradcheck_config(small_config("square_test", "mse", "identity"))
    finally:
        del ACTIVATIONS["square_test"]
    assert not result.passed
    assert "square_test (test_the_hint_names_df_for_an_activation_without_mul_df.<locals>.Square.df in " in (
        result.hint
    )
    assert "module tests.test_gradcheck, the training step's form" in result.hint
