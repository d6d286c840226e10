"""Golden numbers for the derivation's 4-2-2-1 network, computed by hand in plain Python.

The network: a(1) = x (4 inputs); z(2) = W(1) a(1) + b(1), a(2) = sigmoid(z(2)) (2 units);
z(3) = W(2) a(2) + b(2), a(3) = sigmoid(z(3)) (2 units); s = z(4) = W(3) a(3) + b(3) (identity
output, 1 unit); C = (s - y)^2 (mse; with one example and one output the mean is the term itself).

Backpropagation, written out unit by unit below:
    delta(4) = dC/dz(4) = 2 (s - y)
    delta(3)_j = (sum_i W(3)_ij delta(4)_i) * a(3)_j (1 - a(3)_j)
    delta(2)_j = (sum_i W(2)_ij delta(3)_i) * a(2)_j (1 - a(2)_j)
    dC/dW(l)_ij = delta(l+1)_i a(l)_j        dC/db(l)_i = delta(l+1)_i
Nothing here comes from nettrain; nettrain's answers are compared against it.
"""

import math

import numpy as np
import pytest

from nettrain.network import Network
from nettrain.optimizers import SGD

W1 = [[0.1, -0.2, 0.3, 0.0], [0.4, 0.1, -0.1, 0.2]]
B1 = [0.05, -0.1]
W2 = [[0.3, -0.5], [0.2, 0.6]]
B2 = [0.0, 0.1]
W3 = [[0.7, -0.4]]
B3 = [0.2]

X = [1.0, 2.0, -1.0, 0.5]
Y = -0.5

LR = 0.5


def sig(t: float) -> float:
    return 1.0 / (1.0 + math.exp(-t))


def hand(x: list[float], y: float) -> dict:
    """One example, forward and backward, every step spelled out."""
    # forward: z(2) = W(1) a(1) + b(1)
    z2 = [
        W1[0][0] * x[0] + W1[0][1] * x[1] + W1[0][2] * x[2] + W1[0][3] * x[3] + B1[0],
        W1[1][0] * x[0] + W1[1][1] * x[1] + W1[1][2] * x[2] + W1[1][3] * x[3] + B1[1],
    ]
    a2 = [sig(z2[0]), sig(z2[1])]
    z3 = [W2[0][0] * a2[0] + W2[0][1] * a2[1] + B2[0], W2[1][0] * a2[0] + W2[1][1] * a2[1] + B2[1]]
    a3 = [sig(z3[0]), sig(z3[1])]
    s = W3[0][0] * a3[0] + W3[0][1] * a3[1] + B3[0]  # z(4), identity output
    C = (s - y) ** 2

    # backward
    d4 = 2.0 * (s - y)
    d3 = [W3[0][0] * d4 * a3[0] * (1 - a3[0]), W3[0][1] * d4 * a3[1] * (1 - a3[1])]
    d2 = [
        (W2[0][0] * d3[0] + W2[1][0] * d3[1]) * a2[0] * (1 - a2[0]),
        (W2[0][1] * d3[0] + W2[1][1] * d3[1]) * a2[1] * (1 - a2[1]),
    ]
    dW3 = [[d4 * a3[0], d4 * a3[1]]]
    db3 = [d4]
    dW2 = [[d3[0] * a2[0], d3[0] * a2[1]], [d3[1] * a2[0], d3[1] * a2[1]]]
    db2 = [d3[0], d3[1]]
    dW1 = [[d2[i] * x[j] for j in range(4)] for i in range(2)]
    db1 = [d2[0], d2[1]]
    return {
        "z2": z2,
        "a2": a2,
        "z3": z3,
        "a3": a3,
        "s": s,
        "C": C,
        "d4": d4,
        "d3": d3,
        "d2": d2,
        "dW": [dW1, dW2, dW3],
        "db": [db1, db2, db3],
    }


def make_net() -> Network:
    return Network(
        [np.array(W1), np.array(W2), np.array(W3)],
        [np.array(B1), np.array(B2), np.array(B3)],
        ["sigmoid", "sigmoid"],
        "identity",
        "mse",
    )


def close(actual, expected):
    np.testing.assert_allclose(
        np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64), rtol=1e-12, atol=1e-15
    )


def test_hand_values_are_not_degenerate():
    # guards the golden numbers themselves: every gradient entry matters (nonzero), so a
    # transposed or dropped term in the library cannot agree by accident
    h = hand(X, Y)
    assert abs(h["s"] - Y) > 0.1
    for g in h["dW"] + h["db"]:
        assert np.all(np.abs(np.asarray(g)) > 1e-4)


def test_forward_matches_hand():
    h = hand(X, Y)
    net = make_net()
    x = np.array([X])
    zs, acts = net.forward_cache(x)
    close(zs[0], [h["z2"]])
    close(acts[1], [h["a2"]])
    close(zs[1], [h["z3"]])
    close(acts[2], [h["a3"]])
    close(zs[2], [[h["s"]]])
    close(acts[3], [[h["s"]]])
    close(net.forward(x), [[h["s"]]])
    close(net.loss(x, np.array([[Y]])), h["C"])


def test_backward_matches_hand():
    h = hand(X, Y)
    net = make_net()
    loss, dW, db = net.gradients(np.array([X]), np.array([[Y]]))
    close(loss, h["C"])
    for i in range(3):
        assert dW[i].shape == net.W[i].shape and db[i].shape == net.b[i].shape
        close(dW[i], h["dW"][i])
        close(db[i], h["db"][i])
    # the intermediate deltas, through the output delta and dC/db = delta
    close(db[2], [h["d4"]])
    close(db[1], h["d3"])
    close(db[0], h["d2"])


def test_readable_backward_hands_back_the_deltas():
    """Network.backward(deltas=[]): deltas[l] = delta(l+2), indexed like zs (what trace shows)."""
    h = hand(X, Y)
    net = make_net()
    zs, acts = net.forward_cache(np.array([X]))
    deltas: list = []
    dW, _ = net.backward(zs, acts, np.array([[Y]]), deltas=deltas)
    assert len(deltas) == len(zs) == 3
    close(deltas[0], [h["d2"]])
    close(deltas[1], [h["d3"]])
    close(deltas[2], [[h["d4"]]])
    close(dW[0], h["dW"][0])


def test_one_sgd_step_matches_hand():
    h = hand(X, Y)
    net = make_net()
    W_before = [w for w in net.W]
    _, dW, db = net.gradients(np.array([X]), np.array([[Y]]))
    SGD(LR).step(net.params(), [g for pair in zip(dW, db, strict=True) for g in pair])
    # w := w - lr * dC/dw, by hand
    W_new = [
        [[w - LR * g for w, g in zip(wr, gr, strict=True)] for wr, gr in zip(Wl, dWl, strict=True)]
        for Wl, dWl in zip([W1, W2, W3], h["dW"], strict=True)
    ]
    b_new = [
        [v - LR * g for v, g in zip(bl, dbl, strict=True)]
        for bl, dbl in zip([B1, B2, B3], h["db"], strict=True)
    ]
    for i in range(3):
        assert net.W[i] is W_before[i]  # updated in place
        close(net.W[i], W_new[i])
        close(net.b[i], b_new[i])
    # and the step lowered the cost on this example
    assert float(net.loss(np.array([X]), np.array([[Y]]))) < h["C"]


def test_batch_of_two_is_the_mean():
    x2 = [-0.5, 1.5, 2.0, -1.0]
    y2 = -0.4
    h1, h2 = hand(X, Y), hand(x2, y2)
    net = make_net()
    x = np.array([X, x2])
    y = np.array([[Y], [y2]])
    loss, dW, db = net.gradients(x, y)
    # C = (C_1 + C_2) / 2; delta(4) per row is 2 (s - y) / 2, so every gradient is the mean of
    # the two single-example gradients
    close(loss, (h1["C"] + h2["C"]) / 2)
    for i in range(3):
        close(dW[i], (np.array(h1["dW"][i]) + np.array(h2["dW"][i])) / 2)
        close(db[i], (np.array(h1["db"][i]) + np.array(h2["db"][i])) / 2)
    # the output delta of each row, scaled by 1/n: (s_i - y_i) * 2 / 2
    zs, acts = net.forward_cache(x)
    delta = net.cost.delta(zs[-1], acts[-1], y)
    close(delta, [[2 * (h1["s"] - Y) / 2], [2 * (h2["s"] - y2) / 2]])


def test_a_one_dimensional_target_is_the_single_output_column():
    """y of shape (n,) for the one-output net means (n, 1); NumPy alone would broadcast s - y
    into an (n, n) matrix and return a wrong loss."""
    net = make_net()
    x = np.array([X, [-0.5, 1.5, 2.0, -1.0]])
    column = np.array([[Y], [-0.4]])
    close(net.loss(x, column[:, 0]), net.loss(x, column))
    loss, dW, _ = net.gradients(x, column[:, 0])
    loss2, dW2, _ = net.gradients(x, column)
    close(loss, loss2)
    close(dW[0], dW2[0])


@pytest.mark.parametrize(
    "x, y, needle",
    [
        (np.zeros((2, 3)), np.zeros((2, 1)), r"x has shape \(2, 3\); the network takes \(n, 4\)"),
        (np.zeros((2, 4)), np.zeros((3, 1)), r"y has shape \(3, 1\); the network's targets are \(2, 1\)"),
        (np.zeros((2, 4)), np.zeros((2, 2)), r"targets are \(2, 1\)"),
        (np.zeros(4), np.zeros(1), r"x has shape \(4,\)"),
    ],
)
def test_wrong_shapes_are_a_data_error(x, y, needle):
    from nettrain.errors import DataError

    net = make_net()
    with pytest.raises(DataError, match=needle):
        net.loss(x, y)
    with pytest.raises(DataError, match=needle):
        net.gradients(x, y)


def test_a_one_dimensional_target_for_several_outputs_is_refused_with_its_own_shape():
    """Only a one-output net takes y of shape (n,) as its column; for k outputs the error names the
    shape the caller gave, not a reshaped (n, 1)."""
    from nettrain.errors import DataError

    net = Network.create([4, 3], [], "softmax", "cross_entropy", dtype="float64")
    with pytest.raises(DataError, match=r"y has shape \(2,\); the network's targets are \(2, 3\)"):
        net.gradients(np.zeros((2, 4)), np.zeros(2))


def test_parameters_swapped_for_another_dtype_get_buffers_of_that_dtype():
    """Network.workspace caches its buffers per batch size; parameters replaced by arrays of
    another dtype (W[:] = ...) must not be computed into the old dtype's buffers."""
    net = make_net().astype(np.float32)
    x, y = np.array([X, [-0.5, 1.5, 2.0, -1.0]]), np.array([[Y], [-0.4]])
    net.gradients(x, y)
    net.W[:] = [w.astype(np.float64) for w in net.W]
    net.b[:] = [v.astype(np.float64) for v in net.b]
    loss, dW, db = net.gradients(x, y)
    fresh = Network(net.W, net.b, ["sigmoid", "sigmoid"], "identity", "mse")
    loss_fresh, dW_fresh, db_fresh = fresh.gradients(x, y)
    assert dW[0].dtype == np.float64
    close(loss, loss_fresh)
    for got, want in zip(dW + db, dW_fresh + db_fresh, strict=True):
        close(got, want)


@pytest.mark.parametrize("n", [1, 2])
def test_gradients_do_not_touch_the_weights(n):
    net = make_net()
    before = [p.copy() for p in net.params()]
    rows = [X, [-0.5, 1.5, 2.0, -1.0]][:n]
    net.gradients(np.array(rows), np.zeros((n, 1)))
    for p, q in zip(net.params(), before, strict=True):
        assert np.array_equal(p, q)


def test_the_gradients_live_in_one_aligned_buffer_whose_padding_stays_zero():
    """Workspace keeps every dW and db as a view of one flat buffer (MPI sums it in one call),
    each starting at a multiple of ALIGN elements; the padding between them and the spare last
    element (the ranks' stop requests) are never written by a step."""
    from nettrain.network import ALIGN

    net = Network.create([5, 7, 3], ["tanh"], "softmax", "cross_entropy", seed=0)
    ws = net.workspace(4)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 5)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[[0, 1, 2, 0]]
    ws.step(x, y, 0.25)
    used = np.zeros(ws.flat.size, dtype=bool)
    for g in ws.dW + ws.db:
        assert np.shares_memory(g, ws.flat)
        start = (
            g.__array_interface__["data"][0] - ws.flat.__array_interface__["data"][0]
        ) // ws.flat.itemsize
        assert start % ALIGN == 0
        used[start : start + g.size] = True
    assert np.count_nonzero(ws.flat[used]) > 0
    assert not ws.flat[~used].any()  # padding and the spare element: zero


@pytest.mark.parametrize(
    "acts, output, cost",
    [
        (["tanh", "relu"], "softmax", "cross_entropy"),
        (["sigmoid", "softplus"], "sigmoid", "mse"),
        (["leaky_relu", "identity"], "sigmoid", "binary_cross_entropy"),
    ],
)
def test_the_reference_backward_is_what_the_training_step_computes(acts, output, cost):
    """Network.backward, the derivation written out with fresh arrays, gives the gradients of
    the in-place training step (Workspace, via Network.gradients) in float64."""
    sizes = [5, 7, 6, 3]
    net = Network.create(sizes, acts, output, cost, seed=4, dtype="float64")
    rng = np.random.default_rng(2)
    x = rng.standard_normal((9, 5))
    y = np.eye(3)[rng.integers(0, 3, 9)] if cost != "mse" else rng.random((9, 3))
    zs, a = net.forward_cache(x)
    dW, db = net.backward(zs, a, y)
    _, dW_step, db_step = net.gradients(x, y)
    for ref, step in zip(dW + db, dW_step + db_step):
        np.testing.assert_allclose(ref, step, rtol=1e-12, atol=1e-15)
    assert any(np.abs(g).max() > 1e-6 for g in dW)


def test_the_readme_derivation_snippet_runs_and_its_index_comments_hold():
    """README, "From the derivation to a config": the block that shows z(l), a(l) and the
    gradients of one example; its comments say which list index is which layer."""
    import re

    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## From the derivation") : readme.index("## Commands")]
    ns: dict = {}
    exec(re.search(r"```python\n(.*?)```", section, re.S).group(1), ns)
    net, x, zs, acts = ns["net"], ns["x"], ns["zs"], ns["acts"]
    W, b = net.W, net.b
    assert np.array_equal(acts[0], x)  # a(1) = x
    assert np.allclose(zs[0], x @ W[0].T + b[0])  # z(2) = W(1) a(1) + b(1)
    assert np.allclose(acts[1], 1 / (1 + np.exp(-zs[0])))  # a(2) = f(z(2))
    assert np.allclose(zs[1], acts[1] @ W[1].T + b[1]) and np.allclose(acts[2], net.forward(x))
    for readable, trained in zip(ns["dW"] + ns["db"], ns["dW2"] + ns["db2"], strict=True):
        assert np.allclose(readable, trained)


def test_the_readme_activation_example_trains_and_its_derivative_checks(monkeypatch, tmp_path):
    """README, "Adding an activation": the ELU block runs as written (from the repository root,
    where its data path points), gradcheck passes, training lowers the loss; the same class
    with df broken fails gradcheck; a model trained with it names 'elu', which a process
    without the class refuses in one line."""
    import re

    from nettrain import load_model, save_model
    from nettrain.activations import ACTIVATIONS
    from nettrain.errors import ModelFileError
    from nettrain.gradcheck import gradcheck_config
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Adding an activation") : readme.index("## Commands")]
    block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr("builtins.print", lambda *a, **k: None)
    ns: dict = {}
    with monkeypatch.context() as m:
        m.setitem(ACTIVATIONS, "elu", None)  # restored (removed) when the block is done
        exec(block, ns)
        elu = ACTIVATIONS["elu"]
        assert elu is ns["ELU"] and ns["check"].passed and ns["check"].reference["passed"]
        history = ns["result"].history
        assert history[-1]["val_loss"] < history[0]["val_loss"] / 5
        # f and f' are ELU's: an independent central difference of f at both signs of z
        z = np.array([-2.0, -0.3, 0.4, 1.5])
        act = elu()
        assert np.allclose(act.f(z), np.where(z > 0, z, np.exp(z) - 1))
        numeric = (act.f(z + 1e-6) - act.f(z - 1e-6)) / 2e-6
        assert np.allclose(act.df(None, act.f(z)), numeric, atol=1e-6)
        save_model(tmp_path / "elu.npz", ns["result"].model)
        assert load_model(tmp_path / "elu.npz").network.activation_names == ["elu", "elu"]
        m.setattr(elu, "df", lambda self, z, a: a)  # the exercise: break f' on purpose
        broken = gradcheck_config(ns["config"])
        assert not broken.passed and [p.name for p in broken.params if not p.passed][:1] == ["W(1)"]
    assert "elu" not in ACTIVATIONS
    with pytest.raises(ModelFileError, match="activation 'elu' is not known"):
        load_model(tmp_path / "elu.npz")
