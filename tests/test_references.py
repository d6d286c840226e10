"""nettrain's metrics and optimizers against the libraries whose definitions they follow:
scikit-learn's scores on random cases (ties, one class, constant targets) and torch.optim's
updates on the same gradients. Skipped where those are not installed (the bench extra has them)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nettrain import metrics
from nettrain.optimizers import get_optimizer

FAST = settings(max_examples=200, deadline=None)


@FAST
@given(st.integers(1, 30), st.integers(2, 4), st.integers(0, 2**32 - 1), st.booleans())
def test_classification_scores_are_scikit_learns(n, k, seed, one_class):
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    y_true, y_pred = rng.integers(0, k, n), rng.integers(0, k, n)
    if one_class:
        y_true[:] = y_true[0]
    report = metrics.classification_report(y_true, y_pred, [str(c) for c in range(k)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (scikit-learn's notes on labels absent from the data)
        assert report["accuracy"] == pytest.approx(sk.accuracy_score(y_true, y_pred), abs=1e-12)
        assert report["macro_f1"] == pytest.approx(
            sk.f1_score(y_true, y_pred, average="macro", zero_division=0)
        )
    # ROC AUC with ties: scores on a grid of 4 values (float32, as a model's probabilities)
    y = rng.integers(0, 2, n)
    score = (rng.integers(0, 4, n) / 4).astype(np.float32)
    auc = metrics.roc_auc(y, score)
    if y.min() == y.max():
        assert auc is None
    else:
        assert auc == pytest.approx(sk.roc_auc_score(y, score), abs=1e-12)


@FAST
@given(st.integers(2, 30), st.integers(1, 3), st.integers(0, 2**32 - 1), st.booleans(), st.booleans())
def test_r2_is_scikit_learns(n, k, seed, constant, exact):
    """(From two rows: of one, scikit-learn says NaN; nettrain scores it as any constant target,
    1 when predicted exactly, else 0, as the README says.)"""
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(n, k))
    pred = y + rng.normal(size=(n, k)) * rng.random()
    if constant:
        y[:, 0] = 1.5
    if exact:
        pred[:, 0] = y[:, 0]
    assert metrics.r2(y, pred) == pytest.approx(sk.r2_score(y, pred), abs=1e-9)


@pytest.mark.parametrize(
    "name,torch_name,options",
    [
        ("sgd", "SGD", {}),
        ("momentum", "SGD", {"momentum": 0.9}),
        ("nesterov", "SGD", {"momentum": 0.9, "nesterov": True}),
        ("adam", "Adam", {}),
        ("adamw", "AdamW", {}),
        ("rmsprop", "RMSprop", {"alpha": 0.9, "eps": 1e-8}),
    ],
)
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_optimizer_steps_are_torch_optims(name, torch_name, options, weight_decay):
    """50 steps on the same gradients (magnitudes 1e-6 to 10, so that eps and the bias
    corrections matter), in float64: the same parameters to rounding. Weight decay on the
    weights only, as a param group without it for the biases."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    W0, b0 = rng.normal(size=(5, 4)), rng.normal(size=4)
    params = [W0.copy(), b0.copy()]
    optimizer = get_optimizer(name, 0.01, weight_decay, [True, False])
    tW = torch.tensor(W0, requires_grad=True)
    tb = torch.tensor(b0, requires_grad=True)
    groups = [{"params": [tW], "weight_decay": weight_decay}, {"params": [tb], "weight_decay": 0.0}]
    reference = getattr(torch.optim, torch_name)(groups, lr=0.01, **options)
    for _ in range(50):
        gW, gb = rng.normal(size=(5, 4)) * 10 ** rng.uniform(-6, 1), rng.normal(size=4)
        optimizer.step(params, [gW, gb])
        tW.grad, tb.grad = torch.tensor(gW), torch.tensor(gb)
        reference.step()
    np.testing.assert_allclose(params[0], tW.detach().numpy(), rtol=0, atol=1e-13)
    np.testing.assert_allclose(params[1], tb.detach().numpy(), rtol=0, atol=1e-13)


@pytest.mark.parametrize("regression", [True, False])
def test_scikit_learns_alpha_is_weight_decay_alpha_over_batch_size(regression):
    """README (Coming from scikit-learn): MLPClassifier's step lr (g + alpha W / n) on a batch of
    n rows is nettrain's with weight_decay = alpha / n; MLPRegressor's squared loss is half the
    mean square, so its step is nettrain's mse step with learning_rate = lr / 2 and weight_decay
    = 2 alpha / n. Checked on scikit-learn's own gradient (its _backprop) at the same weights."""
    nn = pytest.importorskip("sklearn.neural_network")
    from nettrain import Network

    rng = np.random.default_rng(0)
    n, alpha = 16, 0.3
    x = rng.normal(size=(n, 3))
    y = rng.normal(size=n) if regression else rng.integers(0, 3, n)
    Est = nn.MLPRegressor if regression else nn.MLPClassifier
    est = Est(hidden_layer_sizes=(4,), activation="tanh", alpha=alpha, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (not converged after one iteration)
        est.fit(x, y)
    sizes = [3, 4, 1 if regression else 3]
    acts = [x, *[np.empty((n, k)) for k in sizes[1:]]]
    deltas = [np.empty_like(a) for a in acts[1:]]
    cg = [np.empty_like(c) for c in est.coefs_]
    ig = [np.empty_like(c) for c in est.intercepts_]
    target = y.reshape(-1, 1) if regression else np.eye(3)[y]
    _, sk_dW, sk_db = est._backprop(x, target, None, acts, deltas, cg, ig)

    W = [c.T.copy() for c in est.coefs_]
    b = [i.copy() for i in est.intercepts_]
    output, cost = ("identity", "mse") if regression else ("softmax", "cross_entropy")
    net = Network(W, b, ["tanh"], output, cost)
    _, dW, db = net.gradients(x, target[:, 0] if regression else target)
    scale, wd = (0.5, 2 * alpha / n) if regression else (1.0, alpha / n)
    for g, w, sk in zip(dW, W, sk_dW):  # nettrain's step with its lr: scale lr (g + wd W)
        np.testing.assert_allclose(scale * (g + wd * w), sk.T, rtol=1e-10, atol=1e-12)
    for g, sk in zip(db, sk_db):
        np.testing.assert_allclose(scale * g, sk, rtol=1e-10, atol=1e-12)
