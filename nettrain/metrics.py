"""Scores of predictions against targets: accuracy, confusion matrix, precision/recall/F1,
log loss for classes; MSE, MAE and R^2 for values; and requirements on those scores
(``accuracy>=0.95``), which `nettrain evaluate --require` checks.

Inputs are host NumPy arrays: class indices (n,) for labels, (n, k) for values or probabilities.
``w`` (n,), where a function takes it: each row's weight (finite, >= 0, not all 0), as
scikit-learn's ``sample_weight``: a mean becomes the weighted mean sum w_i x_i / sum w_i, and a
count the sum of the rows' weights (a row of weight 2 counts as the row written twice); None:
every row counts once.
"""

from __future__ import annotations

import json
import math
import operator
import re
from dataclasses import dataclass

import numpy as np


def json_ready(v):
    """``v`` with every float that is not finite replaced by None, in dicts, lists and tuples: JSON
    has no NaN or infinity (Python's json writes ``Infinity``, which strict readers refuse)."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: json_ready(e) for k, e in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(json_ready(e) for e in v)
    return v


def json_text(v) -> str:
    """``json.dumps(json_ready(v))``, without walking ``v`` in Python when every float in it is
    finite (the common case; a long run's history makes the walk the larger part of the cost)."""
    try:
        return json.dumps(v, allow_nan=False)
    except ValueError:  # a NaN or infinity somewhere
        return json.dumps(json_ready(v))


def _mean(x: np.ndarray, w: np.ndarray | None, axis=None):
    """The mean of ``x`` over its rows (axis 0) or all of it, weighted by the rows' ``w``."""
    return np.mean(x, axis=axis) if w is None else np.average(x, axis=axis, weights=w)


def accuracy(y_true: np.ndarray, y_pred: np.ndarray, w: np.ndarray | None = None) -> float:
    """Fraction of rows (of their weight, given ``w``) whose predicted class index equals the
    true one."""
    if not len(y_true):
        return float("nan")
    return float(_mean(np.asarray(y_true) == np.asarray(y_pred), w))


def confusion_matrix(
    y_true: np.ndarray, y_pred: np.ndarray, n_classes: int, w: np.ndarray | None = None
) -> np.ndarray:
    """(k, k) counts: row = true class, column = predicted class. Given ``w``: the sums of the
    rows' weights (float64), as scikit-learn's confusion_matrix(sample_weight=w)."""
    cm = np.zeros((n_classes, n_classes), dtype=np.int64 if w is None else np.float64)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1 if w is None else np.asarray(w, np.float64))
    return cm


def precision_recall_f1(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per class (precision, recall, F1, support) from a confusion matrix; 0 where undefined. A
    matrix of weighted counts gives the weighted scores, and support as the classes' weight sums."""
    tp = np.diag(cm).astype(np.float64)
    predicted = cm.sum(axis=0)
    support = cm.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return precision, recall, f1, support


def log_loss(
    y_true: np.ndarray, proba: np.ndarray, eps: float | None = None, w: np.ndarray | None = None
) -> float:
    """Mean (weighted mean, given ``w``) of -log p[true class]. A probability that underflowed to
    0 is raised to ``eps`` (default: the smallest normal number of its dtype), so one sure miss
    stays finite without changing any probability that is not 0 (scikit-learn's old 1e-15 did:
    p = 1e-25 counted as 1e-15, and the log loss disagreed with fit's test loss)."""
    p = proba[np.arange(len(y_true)), y_true]
    eps = np.finfo(p.dtype if p.dtype.kind == "f" else np.float64).tiny if eps is None else eps
    return float(-_mean(np.log(np.clip(p, eps, 1.0)), w))


def _errors(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """pred - y as (n, outputs) float64."""
    y = np.asarray(y, dtype=np.float64)
    return (np.asarray(pred, dtype=np.float64) - y).reshape(len(y), -1)


def mse(y: np.ndarray, pred: np.ndarray, w: np.ndarray | None = None) -> float:
    """Mean of (pred - y)^2 over rows and outputs; given ``w``, the rows' weighted mean of each
    output's, averaged over outputs (scikit-learn's mean_squared_error, 'uniform_average')."""
    if w is None:
        return float(np.mean((np.asarray(pred) - np.asarray(y)) ** 2))
    return float(_mean(_errors(y, pred) ** 2, w, axis=0).mean())


def mae(y: np.ndarray, pred: np.ndarray, w: np.ndarray | None = None) -> float:
    """Mean of |pred - y|, weighted as ``mse``."""
    if w is None:
        return float(np.mean(np.abs(np.asarray(pred) - np.asarray(y))))
    return float(_mean(np.abs(_errors(y, pred)), w, axis=0).mean())


def r2(y: np.ndarray, pred: np.ndarray, w: np.ndarray | None = None) -> float:
    """Coefficient of determination, 1 - SS_res / SS_tot, averaged over outputs (as scikit-learn's
    'uniform_average'). A constant target scores 1 when predicted exactly, else 0. Given ``w``:
    SS_res = sum w_i (y_i - pred_i)^2 and SS_tot = sum w_i (y_i - ybar)^2 with ybar the weighted
    mean of y, as scikit-learn's r2_score(sample_weight=w)."""
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    pred = np.asarray(pred, dtype=np.float64).reshape(len(pred), -1)
    if w is None:
        ss_res = ((y - pred) ** 2).sum(axis=0)
        ss_tot = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    else:
        w = np.asarray(w, dtype=np.float64)[:, None]
        ss_res = (w * (y - pred) ** 2).sum(axis=0)
        ss_tot = (w * (y - np.average(y, axis=0, weights=w[:, 0])) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(ss_tot > 0, 1 - ss_res / ss_tot, np.where(ss_res == 0, 1.0, 0.0))
    return float(scores.mean())


def roc_auc(y_true: np.ndarray, score: np.ndarray, w: np.ndarray | None = None) -> float | None:
    """Area under the ROC curve of two classes: the chance that a random positive (y = 1) scores
    above a random negative, ties counting half (the Mann-Whitney U statistic / (n_pos n_neg),
    from average ranks). None when one class is absent.

    Given ``w``: each pair (positive i, negative j) counts w_i w_j, over (sum of the positives'
    weights)(sum of the negatives'), which is the area under the ROC curve of weighted counts,
    scikit-learn's roc_auc_score(sample_weight=w); None when either sum is 0."""
    y_true = np.asarray(y_true).astype(bool)
    score = np.asarray(score, dtype=np.float64)
    if w is not None:
        return _weighted_roc_auc(y_true, score, np.asarray(w, dtype=np.float64))
    n_pos = int(y_true.sum())
    n_neg = len(y_true) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    _, inverse, counts = np.unique(score, return_inverse=True, return_counts=True)
    average_rank = np.cumsum(counts) - (counts - 1) / 2  # 1-based ranks, ties share their mean
    ranks = average_rank[inverse]
    return float((ranks[y_true].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _weighted_roc_auc(y_true: np.ndarray, score: np.ndarray, w: np.ndarray) -> float | None:
    """roc_auc with weights: per distinct score (ties together), the positives' weight there
    times the negatives' weight below it plus half the negatives' weight at it."""
    _, inverse = np.unique(score, return_inverse=True)
    inverse = inverse.reshape(-1)
    pos = np.bincount(inverse, weights=np.where(y_true, w, 0.0))
    neg = np.bincount(inverse, weights=np.where(y_true, 0.0, w))
    w_pos, w_neg = pos.sum(), neg.sum()
    if not (w_pos > 0 and w_neg > 0):
        return None
    neg_below = np.cumsum(neg) - neg
    return float((pos * (neg_below + neg / 2)).sum() / (w_pos * w_neg))


def classification_report(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    classes: list[str],
    proba: np.ndarray | None = None,
    score: np.ndarray | None = None,
    w: np.ndarray | None = None,
) -> dict:
    """Everything `nettrain evaluate` shows for classes, as plain JSON-ready values. ``score``
    ranks the rows for ROC AUC (two classes): anything that rises with the second class's
    probability, by default that probability. ``w``: every score weighted by the rows' weights
    (the confusion matrix and the supports are then sums of weights, floats), and the report
    has ``weight_sum``."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    cm = confusion_matrix(y_true, y_pred, len(classes), w)
    precision, recall, f1, support = precision_recall_f1(cm)
    # over the classes present in the truth or the predictions, as scikit-learn's default:
    # a class the data never mentions is not a class the model got wrong (a row of weight 0
    # mentions its classes, as scikit-learn's labels come from the rows whatever their weight)
    present = np.zeros(len(classes), dtype=bool)
    present[y_true] = present[y_pred] = True
    count = int if w is None else float
    report = {
        "task": "classification",
        "n": int(len(y_true)),
        "accuracy": accuracy(y_true, y_pred, w),
        "macro_f1": float(f1[present].mean()) if len(y_true) else 0.0,
        "per_class": [
            {"label": c, "precision": float(p), "recall": float(r), "f1": float(f), "support": count(s)}
            for c, p, r, f, s in zip(classes, precision, recall, f1, support)
        ],
        "confusion_matrix": cm.tolist(),
        "classes": list(classes),
    }
    if w is not None:
        report["weight_sum"] = float(np.sum(w, dtype=np.float64))
    if proba is not None:
        report["log_loss"] = log_loss(y_true, proba, w=w)
        if len(classes) == 2:  # the second class's probability ranks the rows
            report["roc_auc"] = roc_auc(y_true == 1, proba[:, 1] if score is None else score, w)
    return report


def regression_report(y: np.ndarray, pred: np.ndarray, w: np.ndarray | None = None) -> dict:
    """Everything `nettrain evaluate` shows for values; ``w``: weighted, as classification_report
    (RMSE is the square root of the weighted MSE)."""
    report = {
        "task": "regression",
        "n": int(len(y)),
        "mse": mse(y, pred, w),
        "rmse": mse(y, pred, w) ** 0.5,
        "mae": mae(y, pred, w),
        "r2": r2(y, pred, w),
    }
    if w is not None:
        report["weight_sum"] = float(np.sum(w, dtype=np.float64))
    return report


# -- requirements on scores ------------------------------------------------------------------------


def score_names(task: str, n_classes: int = 0) -> list[str]:
    """The scores a model's evaluation reports (``classification_report`` with probabilities, or
    ``regression_report``), known from the model alone: the keys a Requirement may name. Each is
    a number, or None / NaN where the data leaves it undefined (ROC AUC with one class absent)."""
    if task == "regression":
        return ["mse", "rmse", "mae", "r2"]
    return ["accuracy", "macro_f1", "log_loss", *(["roc_auc"] if n_classes == 2 else [])]


#: The comparisons a requirement may make: both directions, since some scores are better high
#: (accuracy, r2) and some low (log_loss, mse).
COMPARISONS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}

_REQUIREMENT = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|=>|=<|==|!=|>|<|=)?\s*(.*?)\s*", re.S)
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True)
class Requirement:
    """A bound on one score: ``metric op threshold`` must hold, as in ``accuracy>=0.95``.

    ``number`` is the threshold as written (for messages)."""

    metric: str
    op: str
    threshold: float
    number: str

    @classmethod
    def parse(cls, text: str) -> Requirement:
        """``METRIC OP NUMBER``, OP one of >=, <=, >, <, spaces allowed around OP. Raises
        ValueError saying what is wrong (no comparison, another operator, a number that is not
        one or not finite)."""
        m = _REQUIREMENT.fullmatch(text)
        if not m:
            raise ValueError("expected METRIC OP NUMBER, such as accuracy>=0.95 or log_loss<=0.3")
        metric, op, number = m.groups()
        if op is None:
            raise ValueError(
                "no comparison: write METRIC OP NUMBER, such as accuracy>=0.95, in quotes "
                "(unquoted, the shell takes > and < for redirections)"
            )
        if op not in COMPARISONS:
            better = {"=>": " (did you mean '>='?)", "=<": " (did you mean '<='?)"}.get(op, "")
            raise ValueError(f"'{op}' is not a comparison{better}; one of: >=, <=, >, <")
        if not number:
            raise ValueError(f"no number after '{op}'")
        try:
            threshold = float(number)
        except ValueError:
            percent = _percent(number)
            if percent is not None:  # (accuracy is 0.95, not 95: a fraction, as --json writes it)
                raise ValueError(f"'{number}': scores are fractions, write {percent / 100:g}") from None
            raise ValueError(f"'{number}' is not a number") from None
        if not math.isfinite(threshold):
            raise ValueError(f"'{number}' is not a finite number")
        if not _NUMBER.fullmatch(number):  # (float() also takes '1_000')
            raise ValueError(f"'{number}' is not a number")
        return cls(metric, op, threshold, number)

    def holds(self, value: float | None) -> bool:
        """Whether a score meets the bound. A score that is not a number (None, NaN) never does:
        a score that could not be measured is not a good one."""
        if value is None or math.isnan(value):
            return False
        return bool(COMPARISONS[self.op](value, self.threshold))

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.number}"


def _percent(text: str) -> float | None:
    """The number of a percentage ('95%'), else None."""
    try:
        return float(text[:-1]) if text.endswith("%") else None
    except ValueError:
        return None
