"""Regularisation and initialisation: the bias-free output layer, inverted dropout, L2 weight
decay, clipping by global norm, and the init schemes' variances."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from nettrain import ConfigError, RunData, config_from_dict, fit, load_config, load_model
from nettrain.gradcheck import gradcheck, gradcheck_config
from nettrain.network import BIAS_INITS, INITS, Network, draw_weights, init_scheme
from nettrain.train import clip_by_global_norm
from tests.conftest import CONFIGS, DATA


def digits(tmp_path, *overrides):
    return load_config(CONFIGS / "digits.yaml", [f"output={tmp_path / 'run'}", *overrides])


def batch(net: Network, n=7, seed=1):
    """Inputs and one-hot targets in float64 for a small classification net."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, net.sizes[0]))
    y = np.eye(net.sizes[-1])[rng.integers(0, net.sizes[-1], n)]
    return x, y


# -- output_bias: false ------------------------------------------------------------------------------


def bias_free(dtype="float64"):
    return Network.create(
        [4, 5, 3], ["tanh"], "softmax", "cross_entropy", seed=3, dtype=dtype, output_bias=False
    )


def test_bias_free_output_layer_has_no_b_L_parameter():
    net = bias_free()
    with_bias = Network.create([4, 5, 3], ["tanh"], "softmax", "cross_entropy", seed=3, dtype="float64")
    # 4*5 + 5 + 5*3 (+ 3 for b(2), absent)
    assert with_bias.n_params() == 20 + 5 + 15 + 3
    assert net.n_params() == 20 + 5 + 15
    assert net.param_names() == ["W(1)", "b(1)", "W(2)"]
    assert len(net.params()) == 3 and net.params()[-1] is net.W[-1]
    assert net.is_weight() == [True, False, True]
    x, y = batch(net)
    _, dW, db = net.gradients(x, y)
    assert not db[-1].any()


def test_gradcheck_passes_without_output_bias():
    net = bias_free()
    net.b[-1][:] = 0.0
    x, y = batch(net)
    result = gradcheck(net, x, y)
    assert result.passed
    assert [c.name for c in result.params] == ["W(1)", "b(1)", "W(2)"]


def test_the_reference_backward_of_a_bias_free_network_leaves_b_L_untrained():
    """Network.backward, the derivation with fresh arrays, agrees with the training step on a
    bias-free output layer too: no gradient for b(L)."""
    net = bias_free()
    x, y = batch(net)
    zs, acts = net.forward_cache(x)
    dW, db = net.backward(zs, acts, y)
    _, dW_step, db_step = net.gradients(x, y)
    for ref, step in zip(dW + db, dW_step + db_step, strict=True):
        np.testing.assert_allclose(ref, step, rtol=1e-12, atol=1e-15)
    assert not db[-1].any()
    assert db[0].any()  # (the hidden bias does get a gradient)


def test_gradcheck_of_a_config_checks_the_bias_free_network(tmp_path):
    cfg = load_config(CONFIGS / "xor.yaml", ["network.output_bias=false"])
    result = gradcheck_config(cfg)
    assert result.passed
    names = [c.name for c in result.params]
    last = f"W({len(cfg.network.layers) - 1})"
    assert names[-1] == last and f"b({len(cfg.network.layers) - 1})" not in names


def test_bias_free_training_keeps_b_L_zero_through_the_model_file(tmp_path):
    result = fit(digits(tmp_path, "training.epochs=3", "network.output_bias=false"))
    net = result.model.network
    assert not net.output_bias
    assert not net.b[-1].any()
    assert net.b[0].any()  # the hidden biases did train
    model = load_model(tmp_path / "run" / "model.npz")
    assert not model.network.output_bias
    assert not model.network.b[-1].any()
    assert model.network.n_params() == net.n_params() == 64 * 128 + 128 + 128 * 64 + 64 + 64 * 10
    X = np.loadtxt(DATA / "digits_test.csv", delimiter=",", skiprows=1)[:, :-1]
    assert np.array_equal(model.outputs(X), result.model.outputs(X))
    assert list(model.predict(X)) == list(result.model.predict(X))


# -- dropout -----------------------------------------------------------------------------------------


class FixedDraws:
    """Stands in for the dropout generator: hands out prepared uniform draws, in order."""

    def __init__(self, draws):
        self.draws = list(draws)

    def random(self, shape, dtype=np.float64):
        d = self.draws.pop(0)
        assert d.shape == tuple(shape)
        return d.astype(dtype)


def dropout_net(dtype="float64"):
    return Network.create(
        [4, 6, 5, 3], ["tanh", "sigmoid"], "softmax", "cross_entropy", seed=5, dtype=dtype, dropout=[0.5, 0.3]
    )


def test_dropout_forward_by_hand():
    net = dropout_net()
    x, y = batch(net, n=6)
    rng = np.random.default_rng(7)
    draws = [rng.random((6, 6)), rng.random((6, 5))]
    loss, _, _ = net.gradients(x, y, FixedDraws(draws))
    # the forward written out: each hidden activation times its mask (0, or 1 / (1 - p))
    m1 = (draws[0] >= 0.5) / 0.5
    m2 = (draws[1] >= 0.3) / 0.7
    a2 = np.tanh(x @ net.W[0].T + net.b[0]) * m1
    a3 = 1 / (1 + np.exp(-(a2 @ net.W[1].T + net.b[1]))) * m2
    z = a3 @ net.W[2].T + net.b[2]
    log_s = z - z.max(axis=1, keepdims=True)
    log_s -= np.log(np.exp(log_s).sum(axis=1, keepdims=True))
    assert float(loss) == pytest.approx(-(y * log_s).sum() / len(x), rel=1e-12)
    # and the masks did drop something (else this test would prove nothing)
    assert 0 < (m1 == 0).sum() < m1.size and 0 < (m2 == 0).sum() < m2.size


def test_dropout_backward_matches_finite_differences_with_the_same_masks():
    net = dropout_net()
    x, y = batch(net, n=6)
    rng = np.random.default_rng(11)
    draws = [rng.random((6, 6)), rng.random((6, 5))]
    _, dW, db = net.gradients(x, y, FixedDraws(draws))
    grads = net.param_grads(dW, db)
    h = 1e-6
    worst = 0.0
    for p, g in zip(net.params(), grads):
        flat_p, flat_g = p.reshape(-1), g.reshape(-1)
        for i in range(p.size):
            orig = flat_p[i]
            flat_p[i] = orig + h
            plus = float(net.gradients(x, y, FixedDraws(draws))[0])
            flat_p[i] = orig - h
            minus = float(net.gradients(x, y, FixedDraws(draws))[0])
            flat_p[i] = orig
            numeric = (plus - minus) / (2 * h)
            assert abs(flat_g[i] - numeric) <= 1e-8 + 1e-5 * max(abs(numeric), abs(flat_g[i]))
            worst = max(worst, abs(flat_g[i]))
    assert worst > 1e-3  # the gradients are not all zero
    # a dropped unit of layer 2 gets no gradient into its incoming weights
    dropped = np.flatnonzero((draws[0] < 0.5).all(axis=0))
    assert np.all(dW[0][dropped] == 0) and np.all(db[0][dropped] == 0)


def test_the_reference_backward_with_dropout_masks_is_the_training_steps():
    """Network.backward's masks and pre: delta(l) = ((W(l)^T delta(l+1)) * mask) * f'(z(l)), with
    f' taken of the activation before dropout. Given the forward with the same masks written out,
    it must give the training step's gradients."""
    net = dropout_net()
    x, y = batch(net, n=6)
    rng = np.random.default_rng(13)
    draws = [rng.random((6, 6)), rng.random((6, 5))]
    masks = [(draws[0] >= 0.5) / 0.5, (draws[1] >= 0.3) / 0.7]
    z2 = x @ net.W[0].T + net.b[0]
    pre2 = np.tanh(z2)
    z3 = (pre2 * masks[0]) @ net.W[1].T + net.b[1]
    pre3 = 1 / (1 + np.exp(-z3))
    z4 = (pre3 * masks[1]) @ net.W[2].T + net.b[2]
    e = np.exp(z4 - z4.max(axis=1, keepdims=True))
    acts = [x, pre2 * masks[0], pre3 * masks[1], e / e.sum(axis=1, keepdims=True)]
    dW, db = net.backward([z2, z3, z4], acts, y, masks, [pre2, pre3])
    _, dW_step, db_step = net.gradients(x, y, FixedDraws(draws))
    for ref, step in zip(dW + db, dW_step + db_step, strict=True):
        np.testing.assert_allclose(ref, step, rtol=1e-12, atol=1e-15)
    assert 0 < (masks[0] == 0).sum() < masks[0].size  # the masks did drop something


def test_dropout_masks_are_inverted():
    net = Network.create(
        [20, 400, 2], ["relu"], "softmax", "cross_entropy", seed=0, dtype="float32", dropout=[0.25]
    )
    x = np.ones((500, 20), dtype=np.float32)
    ws = net.workspace(len(x))
    y = np.eye(2, dtype=np.float32)[np.zeros(500, dtype=int)]
    ws.step(x, y, 1 / len(x), np.random.default_rng(0))
    mask = ws.masks[0]
    assert mask.dtype == np.float32 and mask.shape == (500, 400)
    # each entry is 0 (dropped) or 1 / (1 - p) (kept and scaled up)
    assert set(np.unique(mask).tolist()) == {0.0, np.float32(1 / 0.75)}
    assert (mask == 0).mean() == pytest.approx(0.25, abs=0.01)
    # so the expected activation is unchanged: the mask's mean is about 1
    assert mask.mean() == pytest.approx(1.0, abs=0.015)


def test_input_dropout_drops_a_1_by_hand_and_leaves_x_alone():
    """input_dropout p: the step's loss and gradients are those of the network without it fed
    x times the mask (0 where a uniform draw u < p, else 1 / (1 - p)); the inputs' mask is the
    step's first draw, the hidden layers' come after it; the caller's x is not changed."""
    net = dropout_net()
    net.input_dropout = 0.4
    x, y = batch(net, n=6)
    x_before = x.copy()
    rng = np.random.default_rng(5)
    draws = [rng.random((6, 4)), rng.random((6, 6)), rng.random((6, 5))]
    loss, dW, db = net.gradients(x, y, FixedDraws(draws))
    assert np.array_equal(x, x_before)
    mask = (draws[0] >= 0.4) / 0.6
    assert 0 < (mask == 0).sum() < mask.size  # it dropped some inputs, not all
    hidden_only = Network(net.W, net.b, net.activation_names, net.output, net.cost_name, dropout=net.dropout)
    want_loss, want_dW, want_db = hidden_only.gradients(x * mask, y, FixedDraws(draws[1:]))
    assert float(loss) == pytest.approx(float(want_loss), rel=1e-12)
    for got, want in zip(dW + db, want_dW + want_db, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    # without a generator (gradcheck, trace): no dropout at all
    plain = Network(net.W, net.b, net.activation_names, net.output, net.cost_name)
    assert float(net.gradients(x, y)[0]) == float(plain.gradients(x, y)[0])


def test_input_dropout_on_the_cpu_needs_no_copy_of_the_inputs():
    """The step's input dropout keeps x_drop and the mask; x_pre (the GPU kernel's copy of x
    before dropping, tests/test_fake_gpu.py) is not allocated on the CPU, which never writes it."""
    net = Network.create([4, 6, 3], ["tanh"], "softmax", "cross_entropy", seed=0, input_dropout=0.2)
    ws = net.workspace(5)
    assert ws.x_pre is None and ws.x_drop.shape == ws.x_keep.shape == (5, 4)
    x, y = batch(net, n=5)
    assert np.isfinite(
        float(ws.step(x.astype(np.float32), y.astype(np.float32), 0.2, np.random.default_rng(1)))
    )


def test_input_dropout_config_and_trace_note(tmp_path):
    from nettrain.trace import trace_example

    cfg = digits(tmp_path, "training.input_dropout=0.2")
    assert cfg.training.input_dropout == 0.2 and cfg.to_dict()["training"]["input_dropout"] == 0.2
    assert digits(tmp_path).training.input_dropout == 0.0
    net = Network.create([4, 6, 3], ["tanh"], "softmax", "cross_entropy", seed=0, input_dropout=0.2)
    x, y = batch(net, n=1)
    assert any("dropout is off in the trace" in n for n in trace_example(net, x[0], y[0]).notes)
    for bad in ("1", "-0.1", "[0.2]", "true"):
        with pytest.raises(ConfigError, match=r"training.input_dropout: .* is not a dropout rate"):
            digits(tmp_path, f"training.input_dropout={bad}")


def test_no_dropout_without_a_generator():
    net = dropout_net()
    plain = Network(net.W, net.b, net.activation_names, net.output, net.cost_name)
    x, y = batch(net)
    loss_a, dW_a, db_a = net.gradients(x, y)
    loss_b, dW_b, db_b = plain.gradients(x, y)
    assert float(loss_a) == float(loss_b)
    assert all(np.array_equal(a, b) for a, b in zip(dW_a + db_a, dW_b + db_b))
    assert np.array_equal(net.forward(x), plain.forward(x))


@pytest.mark.parametrize("setting", ["training.dropout=0.3", "training.input_dropout=0.3"])
def test_training_with_dropout_differs_and_inference_is_deterministic(tmp_path, setting):
    with_dropout = fit(digits(tmp_path, "training.epochs=3", setting), save=False)
    without = fit(digits(tmp_path, "training.epochs=3"), save=False)
    assert not np.array_equal(with_dropout.model.network.W[0], without.model.network.W[0])
    # same config again: the same masks from the same seed
    again = fit(digits(tmp_path, "training.epochs=3", setting), save=False)
    assert all(np.array_equal(a, b) for a, b in zip(with_dropout.model.network.W, again.model.network.W))
    model = with_dropout.model
    X = np.loadtxt(DATA / "digits_test.csv", delimiter=",", skiprows=1)[:, :-1]
    s1, s2 = model.outputs(X), model.outputs(X)
    assert np.array_equal(s1, s2)
    # equal to the forward pass written out without any mask
    net = model.network
    a = model.encoding.transform(X, net.dtype)
    for W, b in zip(net.W[:-1], net.b[:-1]):
        a = np.maximum(a @ W.T + b, 0)
    z = a @ net.W[-1].T + net.b[-1]
    s = np.exp(z - z.max(axis=1, keepdims=True))
    assert np.allclose(s1, s / s.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("setting", ["training.dropout=0.5", "training.input_dropout=0.5"])
def test_evaluate_and_gradcheck_are_deterministic_with_dropout(tmp_path, setting):
    from nettrain.cli import app
    from tests.helpers import CliRunner

    cfg = CONFIGS / "digits.yaml"
    sets = ["--set", setting, "--set", "training.epochs=2"]
    runner = CliRunner()
    assert runner.invoke(app, ["fit", str(cfg), "-o", str(tmp_path / "run"), *sets]).exit_code == 0
    model = str(tmp_path / "run" / "model.npz")
    test = str(DATA / "digits_test.csv")
    first = runner.invoke(app, ["evaluate", model, test, "--json"])
    second = runner.invoke(app, ["evaluate", model, test, "--json"])
    assert first.exit_code == 0 and first.stdout == second.stdout
    g1 = runner.invoke(app, ["gradcheck", str(cfg), *sets, "--json"])
    g2 = runner.invoke(app, ["gradcheck", str(cfg), *sets, "--json"])
    assert g1.exit_code == 0, g1.stderr  # dropout is off: the check passes
    assert g1.stdout == g2.stdout


# -- weight decay ------------------------------------------------------------------------------------


def test_weight_decay_shrinks_the_weights(tmp_path):
    plain = fit(digits(tmp_path, "training.epochs=5"), save=False).model.network
    decayed = fit(digits(tmp_path, "training.epochs=5", "training.weight_decay=0.01"), save=False)
    decayed = decayed.model.network

    def norm(ws):
        return float(np.sqrt(sum((w.astype(np.float64) ** 2).sum() for w in ws)))

    assert norm(decayed.W) < 0.9 * norm(plain.W)


def test_adamw_decays_and_adam_without_decay_does_not(tmp_path):
    base = ["training.epochs=5", "training.optimizer=adam"]
    plain = fit(digits(tmp_path, *base, "training.learning_rate=0.001"), save=False).model.network
    adamw = fit(
        digits(tmp_path, "training.epochs=5", "training.optimizer=adamw", "training.weight_decay=1.0"),
        save=False,
    ).model.network
    assert sum(float((w**2).sum()) for w in adamw.W) < sum(float((w**2).sum()) for w in plain.W)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adamw"])
@pytest.mark.parametrize("decay_biases", [False, True])
def test_decay_biases_decays_every_parameter_by_the_rule(optimizer, decay_biases):
    """Three full-batch steps worked out with the optimizers' update rules from the network's own
    gradients: weight decay reaches the biases exactly when decay_biases is true (PyTorch's
    optimizers decay every parameter), as g + wd b (sgd, momentum) or b - lr wd b (adamw)."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((20, 3))
    y = (X[:, 0] > 0).astype(int)
    lr, wd, steps = 0.1, 0.2, 3
    cfg = config_from_dict(
        {
            "network": {"layers": [3, 4, 2], "activation": "tanh"},
            "cost": "cross_entropy",
            "dtype": "float64",
            "training": {
                "optimizer": optimizer,
                "learning_rate": lr,
                "weight_decay": wd,
                "decay_biases": decay_biases,
                "epochs": steps,
                "batch_size": 20,  # one step an epoch, over every row
            },
        }
    )
    result = fit(cfg, save=False, data=RunData.from_arrays(X, y, "cross_entropy", dtype="float64"))
    net = Network.from_config(cfg)
    Y = np.eye(2)[y]
    v = [np.zeros_like(p) for p in net.params()]  # momentum's velocity; adam's first moment
    s = [np.zeros_like(p) for p in net.params()]  # adam's second moment
    for t in range(1, steps + 1):
        _, dW, db = net.gradients(X, Y)
        for i, (p, g) in enumerate(zip(net.params(), net.param_grads(dW, db))):
            decayed = wd if (i % 2 == 0 or decay_biases) else 0.0  # params: W(1), b(1), W(2), b(2)
            if optimizer == "adamw":
                p -= lr * decayed * p
                v[i] = 0.9 * v[i] + 0.1 * g
                s[i] = 0.999 * s[i] + 0.001 * g * g
                p -= lr * (v[i] / (1 - 0.9**t)) / (np.sqrt(s[i] / (1 - 0.999**t)) + 1e-8)
                continue
            g = g + decayed * p
            if optimizer == "momentum":
                v[i] = 0.9 * v[i] + g
                g = v[i]
            p -= lr * g
    for mine, want in zip(result.model.network.params(), net.params(), strict=True):
        np.testing.assert_allclose(mine, want, rtol=1e-12, atol=1e-14)
    # (the biases start at 0, so their decay shows from the second step on)
    other = fit(
        replace(cfg, training=replace(cfg.training, decay_biases=not decay_biases)),
        save=False,
        data=RunData.from_arrays(X, y, "cross_entropy", dtype="float64"),
    )
    assert not np.allclose(other.model.network.b[0], result.model.network.b[0], rtol=1e-9, atol=0)


def test_decay_biases_is_a_training_key_and_in_the_resolved_config(tmp_path):
    cfg = digits(tmp_path, "training.decay_biases=true")
    assert cfg.training.decay_biases is True
    assert cfg.to_dict()["training"]["decay_biases"] is True
    assert digits(tmp_path).training.decay_biases is False
    with pytest.raises(ConfigError, match=r"training.decay_biases: 'yes' is not true or false"):
        digits(tmp_path, "training.decay_biases=yes")
    with pytest.raises(
        ConfigError, match=r"training.bias_decay: unknown key \(did you mean 'training.decay_b"
    ):
        digits(tmp_path, "training.bias_decay=true")


def test_decay_biases_without_weight_decay_is_a_notice_and_trains_as_without_it(tmp_path):
    """decay_biases: true with weight_decay 0 decays nothing: fit says so (a notice, not an
    error: a sweep over weight_decay may pass 0) and trains as decay_biases: false; with a weight
    decay, or adamw's default 0.01, there is no notice."""
    X = np.random.default_rng(0).standard_normal((40, 4))
    y = (X[:, 0] > 0).astype(int)

    def run(*overrides):
        cfg = config_from_dict(
            {
                "cost": "cross_entropy",
                "network": {"layers": [4, 6, 2]},
                "training": {"epochs": 2, "batch_size": 8},
            },
            overrides=list(overrides),
        )
        events: list = []
        result = fit(
            cfg,
            data=RunData.from_arrays(X, y, "cross_entropy"),
            save=False,
            on_event=lambda kind, info: events.append((kind, info)),
        )
        return result, [info["message"] for kind, info in events if kind == "notice"]

    inert, notes = run("training.decay_biases=true")
    assert notes == [
        "training.decay_biases is true, but training.weight_decay is 0: nothing is decayed (set a "
        "weight_decay, or leave decay_biases out)"
    ]
    plain, plain_notes = run()
    assert plain_notes == []
    for a, b in zip(inert.model.network.params(), plain.model.network.params()):
        np.testing.assert_array_equal(a, b)
    assert run("training.decay_biases=true", "training.weight_decay=0.01")[1] == []
    assert run("training.decay_biases=true", "training.optimizer=adamw")[1] == []


# -- clipping by global norm -------------------------------------------------------------------------


def test_clip_by_global_norm_scales_down_to_the_clip():
    # global norm sqrt(3^2 + 4^2 + 12^2) = sqrt(169) = 13
    grads = [np.array([3.0, 4.0], dtype=np.float32), np.array([[12.0]], dtype=np.float32)]
    clip_by_global_norm(grads, 6.5)  # scale 6.5 / 13 = 0.5
    assert grads[0].tolist() == pytest.approx([1.5, 2.0])
    assert grads[1][0, 0] == pytest.approx(6.0)
    assert np.sqrt(sum(float((g**2).sum()) for g in grads)) == pytest.approx(6.5)
    assert all(g.dtype == np.float32 for g in grads)


def test_clip_by_global_norm_is_pytorchs_rule_also_on_lr_scaled_gradients():
    """factor = min(1, clip / (||g|| + 1e-6)) as torch.nn.utils.clip_grad_norm_; plain SGD's
    gradients hold lr * g, and the factor must be the one for g."""
    g = [np.array([3e-4, 4e-4]), np.array([[12e-4]])]  # ||g|| = 1.3e-3
    want = 1e-4 / (1.3e-3 + 1e-6)
    plain = [a.copy() for a in g]
    clip_by_global_norm(plain, 1e-4)
    np.testing.assert_allclose(plain[0], g[0] * want, rtol=1e-12)
    lr = 0.01
    scaled = [lr * a for a in g]
    clip_by_global_norm(scaled, 1e-4, scale=lr)
    np.testing.assert_allclose(scaled[1], lr * g[1] * want, rtol=1e-12)
    zeros = [np.zeros(2)]
    clip_by_global_norm(zeros, 1.0, scale=0.0)  # lr 0: nothing to scale, and no 0/0
    assert zeros[0].tolist() == [0.0, 0.0]


def test_clip_by_global_norm_leaves_smaller_gradients_alone():
    grads = [np.array([3.0, 4.0], dtype=np.float32), np.array([[12.0]], dtype=np.float32)]
    clip_by_global_norm(grads, 13.5)
    assert grads[0].tolist() == [3.0, 4.0] and grads[1].tolist() == [[12.0]]


def test_clip_norm_in_fit(tmp_path):
    plain = fit(digits(tmp_path, "training.epochs=2"), save=False).model.network
    huge = fit(digits(tmp_path, "training.epochs=2", "training.clip_norm=1e9"), save=False).model.network
    tiny = fit(digits(tmp_path, "training.epochs=2", "training.clip_norm=0.01"), save=False).model.network
    # a clip never reached changes nothing, bit for bit; a small one changes the trajectory
    assert all(np.array_equal(a, b) for a, b in zip(plain.W, huge.W))
    assert not np.array_equal(plain.W[0], tiny.W[0])


# -- initialisation ----------------------------------------------------------------------------------

FAN_IN, FAN_OUT = 300, 500
VARIANCE = {
    "xavier": 2 / (FAN_IN + FAN_OUT),
    "glorot": 2 / (FAN_IN + FAN_OUT),
    "he": 2 / FAN_IN,
    "lecun": 1 / FAN_IN,
}


@pytest.mark.parametrize("scheme", [s for s in INITS if s not in ("auto", "normal", *BIAS_INITS)])
def test_init_variance_matches_its_formula(scheme):
    family, kind = scheme.split("_")
    W = draw_weights(init_scheme(scheme, "tanh"), FAN_IN, FAN_OUT, np.random.default_rng(0))
    assert W.shape == (FAN_OUT, FAN_IN)
    var = VARIANCE[family]
    assert W.var() == pytest.approx(var, rel=0.03)
    assert abs(W.mean()) < 4 * np.sqrt(var / W.size)
    if kind == "uniform":
        r = np.sqrt(3 * var)  # U(-r, r) has variance r^2 / 3
        assert np.abs(W).max() <= r and np.abs(W).max() > 0.99 * r
    else:
        assert np.abs(W).max() > np.sqrt(3 * var)  # a normal's tails go past the uniform's bound


def test_init_normal_with_a_scale():
    W = draw_weights("normal", FAN_IN, FAN_OUT, np.random.default_rng(0), scale=0.05)
    assert W.std() == pytest.approx(0.05, rel=0.03)


def test_auto_init_follows_the_activation():
    assert init_scheme("auto", "relu") == init_scheme("auto", "leaky_relu") == "he_uniform"
    for act in ("tanh", "sigmoid", "identity", "softmax"):
        assert init_scheme("auto", act) == "xavier_uniform"
    net = Network.create([300, 500, 400], ["relu"], "softmax", "cross_entropy", seed=0)
    assert net.W[0].var() == pytest.approx(2 / 300, rel=0.03)  # He for the relu layer
    assert net.W[1].var() == pytest.approx(2 / (500 + 400), rel=0.03)  # Glorot for the softmax one
    assert all(not b.any() for b in net.b)


@pytest.mark.parametrize("scheme", [s for s in INITS if s not in BIAS_INITS])
def test_every_scheme_starts_biases_at_zero(scheme):
    net = Network.create([8, 6, 3], ["tanh"], "softmax", "cross_entropy", seed=0, init=scheme)
    assert all(b.dtype == np.float32 and not b.any() for b in net.b)
    assert all(w.dtype == np.float32 and w.any() for w in net.W)


def test_config_init_normal_with_scale_reaches_the_network(tmp_path):
    cfg = digits(tmp_path, "network.init={name: normal, scale: 0.05}", "training.epochs=1")
    assert (cfg.network.init, cfg.network.init_scale) == ("normal", 0.05)
    assert cfg.to_dict()["network"]["init"] == {"name": "normal", "scale": 0.05}
    # one epoch at a negligible learning rate leaves the initial weights
    cfg = replace(cfg, training=replace(cfg.training, learning_rate=1e-12))
    W = fit(cfg, save=False).model.network.W
    for w in W:
        assert w.std() == pytest.approx(0.05, rel=0.1 if w.size < 1000 else 0.03)
    he = fit(replace(cfg, network=replace(cfg.network, init="he_normal")), save=False).model.network.W
    assert he[0].std() == pytest.approx(np.sqrt(2 / 64), rel=0.03)


# -- the libraries' own defaults: pytorch and sklearn draw the biases too -----------------------------


def uniform_stats(a, r):
    """|a| within r and reaching to it, the variance and mean of U(-r, r) (r^2 / 3 and 0)."""
    a = np.asarray(a, dtype=np.float64)
    assert np.abs(a).max() <= r and np.abs(a).max() > 0.98 * r
    assert a.var() == pytest.approx(r * r / 3, rel=0.1)
    assert abs(a.mean()) < 4 * r / np.sqrt(3 * a.size)


def test_pytorch_init_is_nn_linears_u_of_one_over_sqrt_fan_in_for_w_and_b():
    """nn.Linear's reset_parameters: W and b both from U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    whatever the activation (relu here, where auto would take He)."""
    net = Network.create([300, 2000, 40], ["relu"], "softmax", "cross_entropy", seed=0, init="pytorch")
    for W, b in zip(net.W, net.b):
        r = 1 / np.sqrt(W.shape[1])
        uniform_stats(W, r)
        assert np.abs(b).max() <= r and np.count_nonzero(b) == b.size
    uniform_stats(net.b[0], 1 / np.sqrt(300))  # 2000 biases: enough for the statistics
    assert net.W[0].dtype == net.b[0].dtype == np.float32


@pytest.mark.parametrize(
    "activation, factor",
    [("relu", 6), ("tanh", 6), (["sigmoid", "sigmoid"], 2), (["sigmoid", "tanh"], 6)],
)
def test_sklearn_init_is_mlps_glorot_uniform_with_biases(activation, factor):
    """MLPClassifier's and MLPRegressor's _init_coef: W and b from U(-r, r), r = sqrt(factor /
    (fan_in + fan_out)), factor 2 for activation='logistic' and 6 otherwise, in every layer (the
    output layer's too: scikit-learn has one activation); a list of activations is 'logistic'
    only when all of them are sigmoid."""
    acts = activation if isinstance(activation, list) else [activation] * 2
    sizes = [300, 1500, 800, 20]
    net = Network.create(sizes, acts, "identity", "mse", seed=1, dtype="float64", init="sklearn")
    for (fan_in, fan_out), W, b in zip(zip(sizes, sizes[1:]), net.W, net.b):
        r = np.sqrt(factor / (fan_in + fan_out))
        uniform_stats(W, r)
        assert np.abs(b).max() <= r and np.count_nonzero(b) == b.size
    uniform_stats(net.b[0], np.sqrt(factor / 1800))


def test_sklearn_init_without_hidden_layers_is_the_glorot_factor():
    net = Network.create([500, 400], [], "sigmoid", "binary_cross_entropy", seed=0, init="sklearn")
    uniform_stats(net.W[0], np.sqrt(6 / 900))
    uniform_stats(net.b[0], np.sqrt(6 / 900))


@pytest.mark.parametrize("scheme", BIAS_INITS)
def test_library_inits_are_seeded_and_keep_a_bias_free_output_at_zero(scheme):
    """The same seed gives the same W and b (drawn from the seeded host generator, W then b,
    layer by layer); another seed others; without output_bias the output b stays 0."""
    make = lambda seed, **kw: Network.create(  # noqa: E731
        [6, 5, 4, 3], ["tanh", "relu"], "softmax", "cross_entropy", seed=seed, init=scheme, **kw
    )
    a, b, c = make(7), make(7), make(8)
    assert all(np.array_equal(x, y) for x, y in zip(a.params(), b.params(), strict=True))
    assert not any(np.array_equal(x, y) for x, y in zip(a.params(), c.params(), strict=True))
    assert all(v.any() for v in a.b)
    free = make(7, output_bias=False)
    assert not free.b[-1].any()
    # the other layers drew as before: the output b is the last draw
    assert all(np.array_equal(x, y) for x, y in zip(free.params(), a.params()[:-1], strict=True))


def test_network_init_pytorch_reaches_fit_and_the_resolved_config(tmp_path):
    cfg = digits(tmp_path, "network.init=pytorch", "training.epochs=1", "training.learning_rate=1e-12")
    assert cfg.to_dict()["network"]["init"] == "pytorch"
    net = fit(cfg, save=False).model.network
    assert all(v.any() for v in net.b)
    for W, b in zip(net.W, net.b):
        r = 1 / np.sqrt(W.shape[1])
        assert np.abs(W).max() <= r * (1 + 1e-6) and np.abs(b).max() <= r * (1 + 1e-6)


def test_pytorch_init_bound_is_nn_linears():
    """torch's own nn.Linear, drawn large: its weights and biases reach to the bound the
    pytorch scheme uses and no further."""
    torch = pytest.importorskip("torch")
    layer = torch.nn.Linear(50, 4000)
    r = 1 / np.sqrt(50)
    for p in (layer.weight, layer.bias):
        a = p.detach().numpy()
        # (torch draws in float32 within the bound rounded to float32, which may exceed r)
        assert np.abs(a).max() <= np.float32(r) and np.abs(a).max() > 0.99 * r
    assert layer.weight.detach().numpy().var() == pytest.approx(r * r / 3, rel=0.05)


@pytest.mark.parametrize("activation, factor", [("logistic", 2), ("relu", 6)])
def test_sklearn_init_bound_is_mlps(activation, factor):
    """scikit-learn's MLPRegressor after one step at a negligible learning rate holds its
    initial weights: they reach to sqrt(factor / (fan_in + fan_out)) and no further."""
    nn = pytest.importorskip("sklearn.neural_network")
    import warnings

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((8, 60)), rng.standard_normal(8)
    mlp = nn.MLPRegressor(
        hidden_layer_sizes=(3000,), activation=activation, solver="sgd", learning_rate_init=1e-300
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (one iteration: not converged)
        mlp.set_params(max_iter=1, momentum=0, random_state=0).fit(X, y)
    for coef, intercept in zip(mlp.coefs_, mlp.intercepts_):
        r = np.sqrt(factor / sum(coef.shape))
        assert np.abs(coef).max() <= r and np.abs(coef).max() > 0.99 * r
        assert np.abs(intercept).max() <= r and np.count_nonzero(intercept) == intercept.size
