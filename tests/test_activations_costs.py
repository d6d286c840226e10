"""Activations' f' and costs' delta(L) against central differences in float64; dtypes kept;
numerical stability of softmax, log-softmax, sigmoid and the fused cross-entropies.

pytest runs with warnings as errors, so an overflow inside NumPy (a RuntimeWarning) fails these
tests too, not only a non-finite result.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nettrain.activations import ACTIVATIONS, get_activation, sigmoid
from nettrain.costs import COSTS, get_cost, log_softmax, output_function, softmax

H = 1e-6
ACTIVATION_NAMES = ["sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity"]
COST_OUTPUTS = [
    ("mse", "identity"),
    ("mse", "sigmoid"),
    ("cross_entropy", "softmax"),
    ("binary_cross_entropy", "sigmoid"),
]


def test_every_registered_activation_and_cost_is_covered():
    assert set(ACTIVATIONS) == set(ACTIVATION_NAMES)
    assert {c for c, _ in COST_OUTPUTS} == set(COSTS)


def away_from_kink(shape, seed=0, scale=3.0):
    """Random z with |z| > 1e-3, so relu and leaky_relu are differentiable at every entry and a
    step of H never crosses the kink."""
    z = np.random.default_rng(seed).uniform(-scale, scale, shape)
    z[np.abs(z) < 1e-3] = 0.5
    return z


# -- activations ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_df_matches_central_differences(name):
    act = get_activation(name)
    z = away_from_kink((5, 7))
    numeric = (act.f(z + H) - act.f(z - H)) / (2 * H)
    analytic = act.df(z, act.f(z))
    assert analytic.shape == z.shape
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_f_matches_its_formula(name):
    z = away_from_kink((4, 3), seed=1)
    expected = {
        "sigmoid": lambda t: 1 / (1 + math.exp(-t)),
        "tanh": math.tanh,
        "relu": lambda t: max(t, 0.0),
        "leaky_relu": lambda t: t if t > 0 else 0.01 * t,
        "softplus": lambda t: math.log(1 + math.exp(t)),
        "identity": lambda t: t,
    }[name]
    want = np.vectorize(expected)(z)
    np.testing.assert_allclose(get_activation(name).f(z), want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activation_keeps_float32(name):
    act = get_activation(name)
    z = away_from_kink((3, 4)).astype(np.float32)
    a = act.f(z)
    assert a.dtype == np.float32
    assert act.df(z, a).dtype == np.float32


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_df_from_the_activation_alone_equals_df_from_z(name):
    """df(z, a) documents that f' may be written from the cached a = f(z) alone (df(None, a)),
    as the fused kernels and the in-place forms do: it must give f'(z), also at exactly z = 0,
    where the relu family's f'(0) is the subgradient 0 (relu) or alpha (leaky relu)."""
    act = get_activation(name)
    z = away_from_kink((5, 7), seed=2)
    z[0, :3] = 0.0  # a dead unit with zero bias sits exactly on the kink
    a = act.f(z)
    np.testing.assert_allclose(act.df(None, a), act.df(z, a), rtol=1e-12, atol=1e-15)
    if name == "relu":
        assert not act.df(None, a)[0, :3].any() and not act.df(z, a)[0, :3].any()


def test_relu_family_derivative_values():
    z = np.array([[-2.0, -1e-3 * 2, 2e-3, 3.0]])
    np.testing.assert_array_equal(get_activation("relu").df(z, None), [[0, 0, 1, 1]])
    np.testing.assert_array_equal(get_activation("leaky_relu").df(z, None), [[0.01, 0.01, 1, 1]])


def test_sigmoid_stable_at_huge_inputs():
    z = np.array([[-1e4, -800.0, 0.0, 800.0, 1e4]])
    s = sigmoid(z)
    assert np.all(np.isfinite(s))
    assert s[0, 0] == 0.0 and s[0, -1] == 1.0 and s[0, 2] == 0.5
    for dtype in (np.float32, np.float64):
        s = get_activation("sigmoid").f(z.astype(dtype))
        assert s.dtype == dtype and np.all(np.isfinite(s))
        d = get_activation("sigmoid").df(z.astype(dtype), s)
        assert np.all(np.isfinite(d)) and d[0, 0] == 0 and d[0, -1] == 0
    sp = get_activation("softplus").f(z)
    np.testing.assert_allclose(sp[0, [0, -1]], [0.0, 1e4])


# -- costs ----------------------------------------------------------------------------------------


def targets(cost: str, n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    if cost == "cross_entropy":
        return np.eye(k)[rng.integers(0, k, n)]
    if cost == "binary_cross_entropy":
        return rng.integers(0, 2, (n, k)).astype(np.float64)
    return rng.standard_normal((n, k))


def loss_of_z(cost, output, z, y):
    """The cost as a function of the output layer's z: s = f_out(z), C(z, s, y)."""
    return float(cost.loss(z, output_function(output)(z), y))


@pytest.mark.parametrize("cost_name,output", COST_OUTPUTS)
def test_delta_matches_central_differences(cost_name, output):
    rng = np.random.default_rng(3)
    n, k = 5, 3
    z = rng.standard_normal((n, k)) * 2
    y = targets(cost_name, n, k, rng)
    cost = get_cost(cost_name, output)
    numeric = np.empty_like(z)
    for i in range(n):
        for j in range(k):
            zp, zm = z.copy(), z.copy()
            zp[i, j] += H
            zm[i, j] -= H
            c_plus, c_minus = loss_of_z(cost, output, zp, y), loss_of_z(cost, output, zm, y)
            numeric[i, j] = (c_plus - c_minus) / (2 * H)
    analytic = cost.delta(z, output_function(output)(z), y)
    assert analytic.shape == z.shape
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-10)


def test_losses_match_their_definitions():
    rng = np.random.default_rng(4)
    n, k = 4, 3
    z = rng.standard_normal((n, k))
    # mse, identity output: mean over examples and outputs of (s - y)^2
    y = rng.standard_normal((n, k))
    want = sum((z[i, j] - y[i, j]) ** 2 for i in range(n) for j in range(k)) / (n * k)
    assert float(get_cost("mse").loss(z, z, y)) == pytest.approx(want, rel=1e-12)
    # cross-entropy: mean over examples of -log softmax(z)[class]
    cls = rng.integers(0, k, n)
    want = sum(-math.log(math.exp(z[i, cls[i]]) / sum(math.exp(t) for t in z[i])) for i in range(n)) / n
    got = get_cost("cross_entropy").loss(z, softmax(z), np.eye(k)[cls])
    assert float(got) == pytest.approx(want, rel=1e-12)
    # binary cross-entropy: mean over examples and outputs of -(y log s + (1 - y) log(1 - s))
    y = rng.integers(0, 2, (n, k)).astype(float)
    s = 1 / (1 + np.exp(-z))
    want = sum(
        -(y[i, j] * math.log(s[i, j]) + (1 - y[i, j]) * math.log(1 - s[i, j]))
        for i in range(n)
        for j in range(k)
    ) / (n * k)
    got = get_cost("binary_cross_entropy").loss(z, s, y)
    assert float(got) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("cost_name,output", COST_OUTPUTS)
def test_cost_keeps_float32(cost_name, output):
    rng = np.random.default_rng(5)
    z = rng.standard_normal((4, 3)).astype(np.float32)
    y = targets(cost_name, 4, 3, rng).astype(np.float32)
    s = output_function(output)(z)
    assert s.dtype == np.float32
    cost = get_cost(cost_name, output)
    assert cost.loss(z, s, y).dtype == np.float32
    assert cost.delta(z, s, y).dtype == np.float32


def test_softmax_and_log_softmax_keep_float32():
    z = np.random.default_rng(6).standard_normal((3, 4)).astype(np.float32)
    assert softmax(z).dtype == np.float32
    assert log_softmax(z).dtype == np.float32


# -- properties -----------------------------------------------------------------------------------

rows = st.integers(1, 4)
cols = st.integers(2, 5)
moderate = st.floats(-50, 50, allow_nan=False)
huge = st.floats(-1e4, 1e4, allow_nan=False) | st.sampled_from([-1e4, 1e4])
FAST = settings(max_examples=40, deadline=None)


@FAST
@given(st.data(), rows, cols)
def test_softmax_rows_sum_to_one_and_ignore_a_row_constant(data, n, k):
    z = data.draw(arrays(np.float64, (n, k), elements=moderate))
    c = data.draw(arrays(np.float64, (n, 1), elements=st.floats(-100, 100)))
    s = softmax(z)
    assert s.shape == (n, k)
    assert np.all(s >= 0)
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(softmax(z + c), s, rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(log_softmax(z + c), log_softmax(z), rtol=1e-9, atol=1e-9)


@FAST
@given(st.data(), rows, cols)
def test_log_softmax_and_fused_losses_stay_finite_for_huge_z(data, n, k):
    z = data.draw(arrays(np.float64, (n, k), elements=huge))
    ls = log_softmax(z)
    assert np.all(np.isfinite(ls)) and np.all(ls <= 0)
    # the largest entry of each row has log-probability in [-log k, 0]
    assert np.all(ls.max(axis=1) >= -math.log(k) - 1e-9)
    cls = data.draw(arrays(np.int64, (n,), elements=st.integers(0, k - 1)))
    y = np.eye(k)[cls]
    ce = get_cost("cross_entropy")
    s = softmax(z)
    assert np.isfinite(ce.loss(z, s, y)) and np.all(np.isfinite(ce.delta(z, s, y)))
    yb = data.draw(arrays(np.float64, (n, k), elements=st.sampled_from([0.0, 1.0])))
    bce = get_cost("binary_cross_entropy")
    s = sigmoid(z)
    loss = bce.loss(z, s, yb)
    assert np.isfinite(loss) and loss >= 0
    assert np.all(np.isfinite(bce.delta(z, s, yb)))


def test_fused_losses_at_huge_z_have_the_exact_value():
    # z = [1e4, -1e4]: softmax puts all mass on class 0; the wrong class costs 2e4
    z = np.array([[1e4, -1e4]])
    ce = get_cost("cross_entropy")
    assert float(ce.loss(z, softmax(z), np.array([[1.0, 0.0]]))) == 0.0
    assert float(ce.loss(z, softmax(z), np.array([[0.0, 1.0]]))) == pytest.approx(2e4)
    # BCE of a confident wrong answer is |z| (softplus), not inf from log(0)
    bce = get_cost("binary_cross_entropy")
    zb = np.array([[1e4], [-1e4]])
    assert float(bce.loss(zb, sigmoid(zb), np.array([[0.0], [1.0]]))) == pytest.approx(1e4)
    assert float(bce.loss(zb, sigmoid(zb), np.array([[1.0], [0.0]]))) == 0.0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_binary_cross_entropy_of_sure_right_answers_is_not_rounding_noise(dtype):
    """The training loss of a well-fitted batch (logits 40 to 1000, every answer right) is about
    0, as the reference form says: the fused form summed max(z, 0) and y z apart and subtracted,
    which left their rounding (up to 6e-5 in float32) as the loss, negative too."""
    bce = get_cost("binary_cross_entropy")
    rng = np.random.default_rng(0)
    for magnitude in (40, 100, 1000):
        y = rng.integers(0, 2, (32, 2)).astype(dtype)
        z = ((2 * y - 1) * magnitude * (1 + rng.random((32, 2)))).astype(dtype)
        exact = np.mean(np.logaddexp(0, z.astype(np.float64)) - y * z)  # < 1e-17
        with np.errstate(over="ignore"):  # (sigmoid_into's exp(-z) for z < -88: its exact 0)
            fused = float(bce.fused(z.copy(), y, 1 / 32, np.empty_like(z))) / 32
        assert 0 <= fused <= 1e-16 and abs(fused - exact) <= 1e-16
        assert float(bce.loss(z, sigmoid(z), y)) == pytest.approx(fused, abs=1e-16)


# -- the in-place forms the training loop uses agree with the reference forms -----------------


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_in_place_activation_forms_match(name, dtype):
    act = get_activation(name)
    rng = np.random.default_rng(1)
    z = rng.uniform(-4, 4, (7, 5)).astype(dtype)
    z[np.abs(z) < 1e-3] = 0.5  # off the kink
    out = np.empty_like(z)
    act.f_into(z, out)
    np.testing.assert_allclose(out, act.f(z), rtol=1e-6 if dtype == "float32" else 1e-12)
    da = rng.standard_normal((7, 5)).astype(dtype)
    expected = da * act.df(z, act.f(z))
    got = da.copy()
    act.mul_df(got, act.f(z), np.empty_like(z))
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_allclose(got, expected, rtol=1e-5 if dtype == "float32" else 1e-10, atol=1e-7)


@pytest.mark.parametrize(
    "cost,output",
    [
        ("mse", "identity"),
        ("mse", "sigmoid"),
        ("cross_entropy", "softmax"),
        ("binary_cross_entropy", "sigmoid"),
    ],
)
def test_fused_cost_matches_loss_and_delta(cost, output):
    from nettrain.costs import get_cost, output_function

    c = get_cost(cost, output)
    rng = np.random.default_rng(2)
    z = rng.standard_normal((6, 3))
    if cost == "cross_entropy":
        y = np.eye(3)[rng.integers(0, 3, 6)]
    elif cost == "binary_cross_entropy":
        y = rng.integers(0, 2, (6, 3)).astype(float)
    else:
        y = rng.standard_normal((6, 3))
    s = output_function(output)(z)
    work = z.copy()
    loss_sum = c.fused(work, y, 0.25 / len(z), np.empty_like(z))
    # the fused form returns the batch's cost summed over rows, and delta scaled by 0.25
    assert float(loss_sum) / len(z) == pytest.approx(float(c.loss(z, s, y)), rel=1e-12)
    np.testing.assert_allclose(work, 0.25 * c.delta(z, s, y), rtol=1e-10, atol=1e-15)
