"""Metrics against small examples worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nettrain.metrics import (
    accuracy,
    classification_report,
    confusion_matrix,
    log_loss,
    mae,
    mse,
    precision_recall_f1,
    r2,
    regression_report,
    roc_auc,
)

# 7 examples, 3 classes. Right: rows 0, 2, 3, 4, 6.
Y_TRUE = np.array([0, 0, 1, 1, 2, 2, 2])
Y_PRED = np.array([0, 1, 1, 1, 2, 0, 2])


def test_accuracy():
    assert accuracy(Y_TRUE, Y_PRED) == pytest.approx(5 / 7)
    assert accuracy(Y_TRUE, Y_TRUE) == 1.0
    assert accuracy(np.array([0, 1]), np.array([1, 0])) == 0.0
    assert math.isnan(accuracy(np.array([], dtype=int), np.array([], dtype=int)))


def test_confusion_matrix_rows_are_true_columns_predicted():
    cm = confusion_matrix(Y_TRUE, Y_PRED, 3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 2, 0], [1, 0, 2]])
    assert cm.sum() == len(Y_TRUE)
    # repeated pairs accumulate (np.add.at, not fancy-index assignment)
    np.testing.assert_array_equal(
        confusion_matrix(np.array([1, 1, 1]), np.array([0, 0, 0]), 2), [[0, 0], [3, 0]]
    )


def test_precision_recall_f1_by_hand():
    precision, recall, f1, support = precision_recall_f1(confusion_matrix(Y_TRUE, Y_PRED, 3))
    # precision = tp / predicted: 1/2, 2/3, 2/2; recall = tp / true: 1/2, 2/2, 2/3
    np.testing.assert_allclose(precision, [1 / 2, 2 / 3, 1])
    np.testing.assert_allclose(recall, [1 / 2, 1, 2 / 3])
    # F1 = 2 p r / (p + r): 0.5, 2 (2/3)(1) / (5/3) = 0.8, and 0.8 again
    np.testing.assert_allclose(f1, [0.5, 0.8, 0.8])
    np.testing.assert_array_equal(support, [2, 2, 3])


def test_undefined_scores_are_zero_without_warnings():
    # class 2 is never true, class 1 never predicted; warnings are errors in this suite
    precision, recall, f1, support = precision_recall_f1(
        confusion_matrix(np.array([0, 0, 1]), np.array([0, 2, 0]), 3)
    )
    np.testing.assert_allclose(precision, [1 / 2, 0, 0])
    np.testing.assert_allclose(recall, [1 / 2, 0, 0])
    np.testing.assert_allclose(f1, [0.5, 0, 0])
    np.testing.assert_array_equal(support, [2, 1, 0])


def test_log_loss_by_hand():
    proba = np.array([[0.8, 0.2], [0.3, 0.7], [0.5, 0.5]])
    y = np.array([0, 1, 0])
    assert log_loss(y, proba) == pytest.approx(-(math.log(0.8) + math.log(0.7) + math.log(0.5)) / 3)
    assert log_loss(np.array([1]), np.array([[0.0, 1.0]])) == 0.0


def test_log_loss_sure_miss_is_finite():
    value = log_loss(np.array([0, 1]), np.array([[0.0, 1.0], [0.0, 1.0]]))
    assert math.isfinite(value)
    assert value == pytest.approx(-math.log(np.finfo(np.float64).tiny) / 2)


def test_log_loss_keeps_small_probabilities_exact():
    """Only a probability that underflowed to 0 is raised: 1e-25 counts as 1e-25 (as in fit's
    loss computed from the logits), not as scikit-learn's old 1e-15."""
    proba = np.array([[1e-25, 1.0]], dtype=np.float32)
    assert log_loss(np.array([0]), proba) == pytest.approx(-math.log(np.float32(1e-25)))
    assert log_loss(np.array([0]), np.array([[0.0, 1.0]], dtype=np.float32)) == pytest.approx(
        -math.log(np.finfo(np.float32).tiny)
    )


def test_macro_f1_counts_only_classes_the_data_or_the_predictions_hold():
    """As scikit-learn's default: perfect predictions on rows of one class score 1, not 1/3 for
    a model that knows three classes."""
    rep = classification_report(np.array([0, 0]), np.array([0, 0]), ["a", "b", "c"])
    assert rep["accuracy"] == 1.0 and rep["macro_f1"] == 1.0
    rep = classification_report(np.array([0, 0]), np.array([0, 1]), ["a", "b", "c"])
    assert rep["macro_f1"] == pytest.approx((2 / 3 + 0.0) / 2)  # a: F1 2/3; b predicted, wrong


def test_mse_mae_by_hand():
    y, pred = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 5.0])  # errors 1, 0, 2
    assert mse(y, pred) == pytest.approx(5 / 3)
    assert mae(y, pred) == pytest.approx(1.0)
    assert mse(y, y) == 0.0 and mae(y, y) == 0.0
    # errors of both signs (+1, 0, -2) do not cancel: the mean of |error|
    under = np.array([2.0, 2.0, 1.0])
    assert mae(y, under) == pytest.approx((1 + 0 + 2) / 3)
    Y = np.array([[1.0, 0.0], [3.0, 4.0]])  # over every entry
    assert mse(Y, np.zeros((2, 2))) == pytest.approx((1 + 0 + 9 + 16) / 4)


def test_r2_perfect_mean_and_by_hand():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    assert r2(y, y) == 1.0
    assert r2(y, np.full(4, y.mean())) == pytest.approx(0.0)
    # SS_res = 1, SS_tot = 2.25 + 0.25 + 0.25 + 2.25 = 5
    assert r2(y, np.array([1.0, 2.0, 3.0, 5.0])) == pytest.approx(0.8)
    assert r2(y, -y) < 0  # worse than the mean


def test_r2_averages_outputs():
    Y = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 1.0], [4.0, 1.0]])
    P = np.array([[1.0, 0.0], [2.0, 1.0], [3.0, 1.0], [5.0, 1.0]])
    # column 0 scores 0.8 (above); column 1: SS_res = 1, SS_tot = 4 * 0.25 = 1, so 0
    assert r2(Y, P) == pytest.approx(0.4)


def test_r2_constant_target():
    y = np.full(3, 2.0)
    assert r2(y, y) == 1.0
    assert r2(y, np.array([2.0, 2.0, 3.0])) == 0.0


def test_classification_report():
    proba = np.full((7, 3), 0.05)
    proba[np.arange(7), Y_PRED] = 0.9
    rep = classification_report(Y_TRUE, Y_PRED, ["a", "b", "c"], proba)
    assert rep["n"] == 7 and rep["accuracy"] == pytest.approx(5 / 7)
    assert rep["macro_f1"] == pytest.approx((0.5 + 0.8 + 0.8) / 3)
    assert [c["label"] for c in rep["per_class"]] == ["a", "b", "c"]
    assert rep["per_class"][2] == {
        "label": "c",
        "precision": pytest.approx(1.0),
        "recall": pytest.approx(2 / 3),
        "f1": pytest.approx(0.8),
        "support": 3,
    }
    assert rep["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 2]]
    assert rep["log_loss"] == pytest.approx(log_loss(Y_TRUE, proba))
    assert "log_loss" not in classification_report(Y_TRUE, Y_PRED, ["a", "b", "c"])


def test_regression_report():
    y, pred = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 2.0, 3.0, 5.0])
    rep = regression_report(y, pred)
    assert rep["n"] == 4
    assert rep["mse"] == pytest.approx(0.25) and rep["rmse"] == pytest.approx(0.5)
    assert rep["mae"] == pytest.approx(0.25) and rep["r2"] == pytest.approx(0.8)


def test_roc_auc_by_hand():
    # positives score 0.9, 0.4; negatives 0.5, 0.1, 0.4. Pairs won: 0.9 beats all three (3),
    # 0.4 beats 0.1 (1) and ties 0.4 (1/2): 4.5 of 2 * 3 = 6 pairs
    y = np.array([1, 0, 1, 0, 0])
    s = np.array([0.9, 0.5, 0.4, 0.1, 0.4])
    assert roc_auc(y, s) == pytest.approx(4.5 / 6)
    assert roc_auc(y, -s) == pytest.approx(1 - 4.5 / 6)
    assert roc_auc(np.ones(3), s[:3]) is None  # one class only: undefined


def test_a_binary_report_has_roc_auc_and_a_multiclass_one_not():
    proba = np.array([[0.2, 0.8], [0.6, 0.4], [0.3, 0.7], [0.9, 0.1]])
    y = np.array([1, 0, 0, 0])
    report = classification_report(y, proba.argmax(axis=1), ["no", "yes"], proba)
    assert report["roc_auc"] == pytest.approx(1.0)
    three = np.array([[0.5, 0.3, 0.2], [0.1, 0.8, 0.1]])
    assert "roc_auc" not in classification_report(np.array([0, 1]), np.array([0, 1]), ["a", "b", "c"], three)


def test_json_text_is_json_ready_json_and_walks_only_a_document_with_a_non_finite_float(monkeypatch):
    """json_text writes what json.dumps(json_ready(v)) writes; it walks the document in Python
    (json_ready) only where a float is NaN or infinite, not for the finite ones (a long run's
    checkpoint document, with its history, is written at every checkpoint)."""
    import json

    from nettrain import metrics

    walked = []
    real = metrics.json_ready
    monkeypatch.setattr(metrics, "json_ready", lambda v: walked.append(v) or real(v))
    finite = {"a": [1.5, 2, (3.25, "x")], "b": {"c": None, "d": True}}
    assert metrics.json_text(finite) == json.dumps(finite) and walked == []
    odd = {"a": [1.5, float("nan")], "b": (float("inf"), -float("inf")), "c": 2.0}
    assert metrics.json_text(odd) == '{"a": [1.5, null], "b": [null, null], "c": 2.0}'
    assert walked[0] is odd
