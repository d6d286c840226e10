"""Weighted scores (metrics.py's ``w``): each against scikit-learn's ``sample_weight`` form, and,
without scikit-learn, against the rows written out as many times as their (whole) weights say."""

from __future__ import annotations

import numpy as np
import pytest

from nettrain import metrics


def _classes(n=120, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, k, n)
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, k, n))
    proba = rng.dirichlet(np.ones(k), n)
    w = rng.uniform(0, 3, n)
    w[:4] = 0  # rows of weight 0 count for nothing
    return y_true, y_pred, proba, w


def _values(n=80, seed=1):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(n, 2))
    return y, y + rng.normal(size=(n, 2)), rng.uniform(0, 3, n)


def test_classification_scores_match_scikit_learn():
    M = pytest.importorskip("sklearn.metrics")
    y_true, y_pred, proba, w = _classes()
    report = metrics.classification_report(y_true, y_pred, ["a", "b", "c"], proba, w=w)
    assert report["accuracy"] == pytest.approx(M.accuracy_score(y_true, y_pred, sample_weight=w), rel=1e-12)
    assert report["macro_f1"] == pytest.approx(
        M.f1_score(y_true, y_pred, average="macro", sample_weight=w), rel=1e-12
    )
    assert report["log_loss"] == pytest.approx(M.log_loss(y_true, proba, sample_weight=w), rel=1e-12)
    np.testing.assert_allclose(
        report["confusion_matrix"], M.confusion_matrix(y_true, y_pred, sample_weight=w), rtol=1e-12
    )
    precision, recall, f1, support = M.precision_recall_fscore_support(y_true, y_pred, sample_weight=w)
    for got, want in zip(("precision", "recall", "f1", "support"), (precision, recall, f1, support)):
        np.testing.assert_allclose([c[got] for c in report["per_class"]], want, rtol=1e-12)
    assert report["weight_sum"] == pytest.approx(w.sum(), rel=1e-12)


def test_macro_f1_counts_a_class_whose_rows_weigh_0_as_scikit_learn_does():
    M = pytest.importorskip("sklearn.metrics")
    y_true, y_pred = np.array([0, 1, 1, 2, 2]), np.array([0, 1, 2, 2, 2])
    w = np.array([0.0, 1, 1, 2, 1])  # class 0's only row weighs nothing
    report = metrics.classification_report(y_true, y_pred, ["a", "b", "c", "d"], w=w)
    assert report["macro_f1"] == pytest.approx(
        M.f1_score(y_true, y_pred, average="macro", sample_weight=w, zero_division=0)
    )


def test_roc_auc_matches_scikit_learn_with_ties():
    M = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 200)
    score = np.round(rng.random(200) + 0.3 * y, 1)  # few distinct scores: many ties
    w = rng.uniform(0, 2, 200)
    assert metrics.roc_auc(y, score, w) == pytest.approx(
        M.roc_auc_score(y, score, sample_weight=w), rel=1e-12
    )


def test_regression_scores_match_scikit_learn():
    M = pytest.importorskip("sklearn.metrics")
    y, pred, w = _values()
    report = metrics.regression_report(y, pred, w)
    assert report["mse"] == pytest.approx(M.mean_squared_error(y, pred, sample_weight=w), rel=1e-12)
    assert report["rmse"] == pytest.approx(report["mse"] ** 0.5, rel=1e-15)
    assert report["mae"] == pytest.approx(M.mean_absolute_error(y, pred, sample_weight=w), rel=1e-12)
    assert report["r2"] == pytest.approx(M.r2_score(y, pred, sample_weight=w), rel=1e-12)


def _repeated(w: np.ndarray) -> np.ndarray:
    """The row indices, each as many times as its whole weight."""
    return np.repeat(np.arange(len(w)), w)


def test_whole_weights_score_as_the_rows_written_that_many_times():
    rng = np.random.default_rng(3)
    y_true, y_pred, proba, _ = _classes(k=2)
    w = rng.integers(0, 4, len(y_true))
    w[0] = 0
    r = _repeated(w)
    weighted = metrics.classification_report(y_true, y_pred, ["a", "b"], proba, w=w.astype(float))
    plain = metrics.classification_report(y_true[r], y_pred[r], ["a", "b"], proba[r])
    for key in ("accuracy", "macro_f1", "log_loss", "roc_auc"):
        assert weighted[key] == pytest.approx(plain[key], rel=1e-12), key
    assert weighted["confusion_matrix"] == plain["confusion_matrix"]
    assert [c["support"] for c in weighted["per_class"]] == [c["support"] for c in plain["per_class"]]
    assert weighted["weight_sum"] == len(r)
    y, pred, _ = _values()
    w = rng.integers(0, 4, len(y))
    r = _repeated(w)
    weighted, plain = (
        metrics.regression_report(y, pred, w.astype(float)),
        metrics.regression_report(y[r], pred[r]),
    )
    for key in ("mse", "rmse", "mae", "r2"):
        assert weighted[key] == pytest.approx(plain[key], rel=1e-12), key


def test_roc_auc_is_none_when_one_class_weighs_nothing():
    assert (
        metrics.roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.3, 0.4]), np.array([1, 1, 0, 0.0]))
        is None
    )
    assert metrics.roc_auc(np.array([0, 1]), np.array([0.1, 0.2]), np.array([1.0, 1.0])) == 1.0
