"""Optimizers against two-step trajectories worked out by hand.

The model has two parameters, W (2, 2) and b (2,), and the quadratic cost
C = 1/2 sum (p - target)^2, so dC/dp = p - target: the second step's gradient depends on where
the first step went, and every update must land in the caller's arrays. The expected values are
computed in the test, one scalar at a time, in float64 Python arithmetic (the code runs in
float32, hence the relative tolerance). Adam is also checked against numbers that need no
formula at all: its first step moves every parameter by lr * sign(g).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nettrain import ConfigError, config_from_dict, load_config
from nettrain.optimizers import DEFAULT_LR, OPTIMIZERS, SGD, get_optimizer
from tests.conftest import CONFIGS

W0 = [1.0, -2.0, 0.5, 3.0]  # W, flattened (2, 2)
B0 = [0.25, -0.75]
TW = [0.0, 1.0, -1.0, 0.5]  # targets of the quadratic cost
TB = [1.0, 0.0]
LR = 0.1


def arrays():
    return [np.array(W0, dtype=np.float32).reshape(2, 2), np.array(B0, dtype=np.float32)]


def grads_of(params):
    """dC/dp = p - target, as the network would hand them over (fresh float32 arrays)."""
    W, b = params
    return [W - np.array(TW, dtype=np.float32).reshape(2, 2), b - np.array(TB, dtype=np.float32)]


def run(opt, steps=2):
    params = arrays()
    for _ in range(steps):
        opt.step(params, grads_of(params))
    return params


def flat(params):
    return [float(v) for p in params for v in p.reshape(-1)]


P0 = W0 + B0
T = TW + TB
IS_W = [True] * 4 + [False] * 2  # which of the six scalars are weights


def close(got, want, rel=2e-6):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g == pytest.approx(w, rel=rel, abs=1e-7), (got, want)


# -- hand trajectories, one scalar at a time -------------------------------------------------------


def quadratic(p):
    """dC/dp = p - target, for the six scalars."""
    return [pi - ti for pi, ti in zip(p, T)]


def with_l2(wd):
    """The coupled L2 gradient: g + wd W for the weights, g for the biases."""
    return lambda p: [gi + (wd * pi if w else 0.0) for gi, pi, w in zip(quadratic(p), p, IS_W)]


def sgd_by_hand(g_of=quadratic):
    p = list(P0)
    for _ in (1, 2):
        p = [pi - LR * gi for pi, gi in zip(p, g_of(p))]
    return p


def momentum_by_hand(mu, nesterov=False, g_of=quadratic):
    p = list(P0)
    v = [0.0] * 6
    for _ in (1, 2):
        g = g_of(p)
        v = [mu * vi + gi for vi, gi in zip(v, g)]  # the first step: v = g
        step = [gi + mu * vi for gi, vi in zip(g, v)] if nesterov else v
        p = [pi - LR * si for pi, si in zip(p, step)]
    return p


def rmsprop_by_hand(rho, eps, g_of=quadratic):
    p = list(P0)
    v = [0.0] * 6
    for _ in (1, 2):
        g = g_of(p)
        v = [rho * vi + (1 - rho) * gi * gi for vi, gi in zip(v, g)]
        p = [pi - LR * gi / (math.sqrt(vi) + eps) for pi, gi, vi in zip(p, g, v)]
    return p


def test_sgd_two_steps():
    opt = get_optimizer("sgd", LR)
    want = sgd_by_hand()
    # e.g. the first W entry: 1 - 0.1 * 1 = 0.9, then 0.9 - 0.1 * 0.9 = 0.81
    assert want[0] == pytest.approx(0.81)
    close(flat(run(opt)), want)
    assert opt.t == 2


def test_momentum_two_steps():
    opt = get_optimizer("momentum", LR, momentum=0.8)
    want = momentum_by_hand(0.8)
    # first W entry: g1 = 1, p1 = 0.9, g2 = 0.9, v2 = 0.8 + 0.9 = 1.7, p2 = 0.9 - 0.17 = 0.73
    assert want[0] == pytest.approx(0.73)
    close(flat(run(opt)), want)


def test_nesterov_two_steps():
    opt = get_optimizer("nesterov", LR, momentum=0.8)
    want = momentum_by_hand(0.8, nesterov=True)
    # first W entry: p1 = 1 - 0.1 (1 + 0.8) = 0.82; g2 = 0.82; v2 = 0.8 + 0.82 = 1.62;
    # p2 = 0.82 - 0.1 (0.82 + 0.8 * 1.62) = 0.82 - 0.2116 = 0.6084
    assert want[0] == pytest.approx(0.6084)
    close(flat(run(opt)), want)
    # and it is not plain momentum
    assert flat(run(get_optimizer("momentum", LR, momentum=0.8)))[0] != pytest.approx(0.6084)


def test_default_momentum_is_0_9():
    close(flat(run(get_optimizer("momentum", LR))), momentum_by_hand(0.9))
    close(flat(run(get_optimizer("nesterov", LR))), momentum_by_hand(0.9, nesterov=True))


def adam_by_hand(b1, b2, eps, lr=LR, wd=0.0, decoupled=False):
    """Two Adam(W) steps on the six scalars, with the bias corrections of t = 1 and t = 2."""
    p = list(P0)
    m = [0.0] * 6
    v = [0.0] * 6
    for t in (1, 2):
        g = quadratic(p)
        if wd and not decoupled:
            g = [gi + wd * pi if w else gi for gi, pi, w in zip(g, p, IS_W)]
        if wd and decoupled:
            p = [pi - lr * wd * pi if w else pi for pi, w in zip(p, IS_W)]
        m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(m, g)]
        v = [b2 * vi + (1 - b2) * gi * gi for vi, gi in zip(v, g)]
        c1 = 1 - b1**t
        c2 = 1 - b2**t
        p = [pi - lr * (mi / c1) / (math.sqrt(vi / c2) + eps) for pi, mi, vi in zip(p, m, v)]
    return p


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_default_adam_eps_is_1e_8(name):
    """PyTorch's and the paper's eps. It only shows on gradients near it: the first step is
    lr g / (|g| + eps) (m and v bias-corrected to g and g^2), so for |g| = 1e-6 it is lr / 1.01."""
    p = [np.array([1.0, -2.0])]
    g = np.array([1e-6, -1e-6])
    get_optimizer(name, LR, weight_decay=0.0).step(p, [g])
    want = np.array([1.0, -2.0]) - LR * g / (np.abs(g) + 1e-8)
    np.testing.assert_allclose(p[0], want, rtol=1e-14)


def test_adam_first_step_is_lr_times_the_sign_of_the_gradient():
    # with bias correction, m_hat = g and v_hat = g^2 after one step: the step is lr g / |g|
    opt = get_optimizer("adam", LR)
    p1 = flat(run(opt, steps=1))
    close(p1, [p - LR * math.copysign(1.0, g) for p, g in zip(P0, quadratic(P0))], rel=1e-6)
    # e.g. W[0, 0]: g = 1 > 0, so 1 - 0.1 = 0.9; b[1]: g = -0.75 < 0, so -0.75 + 0.1 = -0.65
    assert p1[0] == pytest.approx(0.9) and p1[5] == pytest.approx(-0.65)


@pytest.mark.parametrize(("b1", "b2", "eps"), [(0.9, 0.999, 1e-8), (0.8, 0.9, 1e-3)])
def test_adam_two_steps(b1, b2, eps):
    opt = get_optimizer("adam", LR, beta1=b1, beta2=b2, eps=eps)
    want = adam_by_hand(b1, b2, eps)
    close(flat(run(opt)), want)
    assert opt.t == 2
    # the classic bug: the step counter not advancing (t = 1 twice) gives another second step
    stuck = list(P0)
    m = v = [0.0] * 6
    for _ in (1, 2):
        g = quadratic(stuck)
        m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(m, g)]
        v = [b2 * vi + (1 - b2) * gi * gi for vi, gi in zip(v, g)]
        stuck = [
            pi - LR * (mi / (1 - b1)) / (math.sqrt(vi / (1 - b2)) + eps) for pi, mi, vi in zip(stuck, m, v)
        ]
    assert max(abs(a - b) for a, b in zip(stuck, want)) > 1e-3


def test_rmsprop_two_steps():
    opt = get_optimizer("rmsprop", LR, rho=0.5, eps=1e-3)
    close(flat(run(opt)), rmsprop_by_hand(0.5, 1e-3))
    close(flat(run(get_optimizer("rmsprop", LR))), rmsprop_by_hand(0.9, 1e-8))


# -- weight decay: on W, not on b ------------------------------------------------------------------


def test_coupled_weight_decay_is_l2_on_the_weights_only():
    wd = 0.5
    decay = [True, False]  # params[0] (W) decays, params[1] (b) does not
    g_of = with_l2(wd)
    cases = {
        "sgd": (get_optimizer("sgd", LR, wd, decay), sgd_by_hand(g_of)),
        "momentum": (get_optimizer("momentum", LR, wd, decay), momentum_by_hand(0.9, g_of=g_of)),
        "nesterov": (get_optimizer("nesterov", LR, wd, decay), momentum_by_hand(0.9, True, g_of=g_of)),
        "rmsprop": (get_optimizer("rmsprop", LR, wd, decay, eps=1e-3), rmsprop_by_hand(0.9, 1e-3, g_of)),
    }
    for name, (opt, want) in cases.items():
        got = flat(run(opt))
        close(got, want)
        # the biases follow exactly the trajectory without decay
        without = flat(
            run(get_optimizer(name, LR, 0.0, decay, **({"eps": 1e-3} if name == "rmsprop" else {})))
        )
        assert got[4:] == without[4:], name
        assert got[:4] != without[:4], name
    # W[0, 0] with sgd: 1 - 0.1 (1 + 0.5) = 0.85; 0.85 - 0.1 (0.85 + 0.425) = 0.7225
    assert sgd_by_hand(g_of)[0] == pytest.approx(0.7225)


def test_adam_weight_decay_is_coupled_and_adamw_decoupled():
    wd = 0.5
    adam = flat(run(get_optimizer("adam", LR, wd, [True, False])))
    close(adam, adam_by_hand(0.9, 0.999, 1e-8, wd=wd))
    adamw = flat(run(get_optimizer("adamw", LR, wd, [True, False])))
    close(adamw, adam_by_hand(0.9, 0.999, 1e-8, wd=wd, decoupled=True))
    plain = adam_by_hand(0.9, 0.999, 1e-8)
    # neither decays the biases
    close(adam[4:], plain[4:])
    close(adamw[4:], plain[4:])
    # decoupled: W[0, 0] first shrinks by lr wd (1 - 0.05 = 0.95), then takes Adam's lr * sign(g) step
    first = flat(run(get_optimizer("adamw", LR, wd, [True, False]), steps=1))
    assert first[0] == pytest.approx(1.0 - LR * wd * 1.0 - LR, rel=1e-6)


def test_without_a_mask_weight_decay_applies_to_every_parameter():
    wd = 0.5
    got = flat(run(get_optimizer("sgd", LR, wd), steps=1))
    close(got, [p - LR * ((p - t) + wd * p) for p, t in zip(P0, T)])


def test_adamw_default_weight_decay_comes_from_the_config():
    cfg = config_from_dict(
        {"network": {"layers": [2, 3, 2]}, "cost": "cross_entropy", "training": {"optimizer": "adamw"}}
    )
    assert cfg.training.weight_decay == 0.01
    assert cfg.training.learning_rate == DEFAULT_LR["adamw"] == 0.001


@pytest.mark.parametrize(
    ("name", "lr"),
    [
        ("sgd", 0.01),
        ("momentum", 0.01),
        ("nesterov", 0.01),
        ("adam", 0.001),
        ("adamw", 0.001),
        ("rmsprop", 0.001),
    ],
)
def test_default_learning_rate_depends_on_the_optimizer(name, lr):
    raw = {
        "network": {"layers": [2, 3, 2]},
        "cost": "cross_entropy",
        "training": {"optimizer": {"name": name}, "learning_rate": None},
    }
    assert config_from_dict(raw).training.learning_rate == lr
    raw["training"]["learning_rate"] = 0.05
    assert config_from_dict(raw).training.learning_rate == 0.05


# -- state, dtype ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_round_trip_continues_identically(name):
    a = get_optimizer(name, LR, 0.1, [True, False])
    params_a = run(a, steps=2)
    # what a checkpoint keeps: JSON scalars and host copies of the arrays
    state = json.loads(json.dumps(a.state_dict()))
    saved = [np.array(x) for x in a.state_arrays()]
    params_b = [p.copy() for p in params_a]
    b = get_optimizer(name, 123.0, 0.1, [True, False])  # lr comes back from the state
    b.load_state(state, saved, params_b)
    assert b.t == a.t == 2 and b.lr == a.lr
    for _ in range(3):
        a.step(params_a, grads_of(params_a))
        b.step(params_b, grads_of(params_b))
    for pa, pb in zip(params_a, params_b):
        assert np.array_equal(pa, pb)
    for sa, sb in zip(a.state_arrays(), b.state_arrays()):
        assert np.array_equal(sa, sb)


def test_state_of_a_wrong_size_is_refused():
    a = get_optimizer("adam", LR)
    params = run(a)
    with pytest.raises(ValueError, match="expected 4"):
        get_optimizer("adam", LR).load_state(a.state_dict(), a.state_arrays()[:3], params)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_float32_stays_float32(name):
    opt = get_optimizer(name, 0.1, 0.01, [True, False])
    params = run(opt, steps=3)
    assert all(p.dtype == np.float32 for p in params)
    assert all(s.dtype == np.float32 for s in opt.state_arrays())


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_updates_land_in_the_callers_arrays(name):
    opt = get_optimizer(name, LR)
    params = arrays()
    ids = [id(p) for p in params]
    opt.step(params, grads_of(params))
    assert [id(p) for p in params] == ids
    assert flat(params) != P0


@pytest.mark.parametrize("bad", ["{name: adam, beta1: 1}", "{name: adamw, beta2: 1.5}"])
def test_betas_of_one_or_more_are_config_errors(bad):
    # beta1 = 1 makes the bias correction 1 - beta1^t zero: a division by zero, not a run
    with pytest.raises(ConfigError, match=r"training\.optimizer\.beta[12]: .* must be < 1"):
        load_config(CONFIGS / "digits.yaml", [f"training.optimizer={bad}"])


def test_sgd_step_scaled_is_the_same_update():
    """The training loop's form (gradients already times lr) equals SGD.step, weight decay on
    the weights only."""
    from nettrain.optimizers import SGD

    rng = np.random.default_rng(0)
    W, b = rng.standard_normal((3, 2)), rng.standard_normal(3)
    gW, gb = rng.standard_normal((3, 2)), rng.standard_normal(3)
    a = SGD(0.1, weight_decay=0.5, decay=[True, False])
    b_ = SGD(0.1, weight_decay=0.5, decay=[True, False])
    p1, p2 = [W.copy(), b.copy()], [W.copy(), b.copy()]
    a.step(p1, [gW, gb])
    b_.step_scaled(p2, [0.1 * gW, 0.1 * gb])
    np.testing.assert_allclose(p2[0], W - 0.1 * (gW + 0.5 * W), rtol=1e-12)
    np.testing.assert_allclose(p2[1], b - 0.1 * gb, rtol=1e-12)
    for x, y in zip(p1, p2):
        np.testing.assert_allclose(x, y, rtol=1e-12)
    assert a.t == b_.t == 1


def test_packed_sgd_step_is_the_per_parameter_step():
    """fit packs the parameters of plain SGD without weight decay into one buffer
    (Network.pack) and updates them with one subtraction: bit for bit the per-parameter step."""
    from nettrain.network import Network

    def make():
        return Network.create([5, 9, 4, 3], ["relu", "tanh"], "softmax", "cross_entropy", seed=2)

    per_param, packed = make(), make()
    theta = packed.pack()
    for a, b in zip(per_param.params(), packed.params()):
        assert np.shares_memory(b, theta) and np.array_equal(a, b)
    rng = np.random.default_rng(0)
    sgd_a, sgd_b = SGD(0.1), SGD(0.1)
    for _ in range(3):
        x = rng.standard_normal((8, 5)).astype(np.float32)
        y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 8)]
        ws_a, ws_b = per_param.workspace(8), packed.workspace(8)
        ws_a.step(x, y, 0.1 / 8)
        ws_b.step(x, y, 0.1 / 8)
        sgd_a.step_scaled(per_param.params(), ws_a.grads)
        sgd_b.step_packed(theta, ws_b.grad_flat)
    for a, b in zip(per_param.params(), packed.params()):
        assert np.array_equal(a, b)
    assert sgd_b.t == 3
    assert not np.array_equal(packed.W[0], make().W[0])
