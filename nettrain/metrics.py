"""Scores of predictions against targets: accuracy, confusion matrix, precision/recall/F1,
log loss for classes; MSE, MAE and R^2 for values; and requirements on those scores
(``accuracy>=0.95``), which `nettrain evaluate --require` checks.

Inputs are host NumPy arrays: class indices (n,) for labels, (n, k) for values or probabilities.
"""

from __future__ import annotations

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


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of rows whose predicted class index equals the true one."""
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred))) if len(y_true) else float("nan")


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """(k, k) counts: row = true class, column = predicted class."""
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return cm


def precision_recall_f1(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per class (precision, recall, F1, support) from a confusion matrix; 0 where undefined."""
    tp = np.diag(cm).astype(np.float64)
    predicted = cm.sum(axis=0)
    support = cm.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return precision, recall, f1, support


def log_loss(y_true: np.ndarray, proba: np.ndarray, eps: float | None = None) -> float:
    """Mean of -log p[true class]. A probability that underflowed to 0 is raised to ``eps``
    (default: the smallest normal number of its dtype), so one sure miss stays finite without
    changing any probability that is not 0 (scikit-learn's old 1e-15 did: p = 1e-25 counted
    as 1e-15, and the log loss disagreed with fit's test loss)."""
    p = proba[np.arange(len(y_true)), y_true]
    eps = np.finfo(p.dtype if p.dtype.kind == "f" else np.float64).tiny if eps is None else eps
    return float(-np.mean(np.log(np.clip(p, eps, 1.0))))


def mse(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.mean((np.asarray(pred) - np.asarray(y)) ** 2))


def mae(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(pred) - np.asarray(y))))


def r2(y: np.ndarray, pred: np.ndarray) -> float:
    """Coefficient of determination, 1 - SS_res / SS_tot, averaged over outputs (as scikit-learn's
    'uniform_average'). A constant target scores 1 when predicted exactly, else 0."""
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    pred = np.asarray(pred, dtype=np.float64).reshape(len(pred), -1)
    ss_res = ((y - pred) ** 2).sum(axis=0)
    ss_tot = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(ss_tot > 0, 1 - ss_res / ss_tot, np.where(ss_res == 0, 1.0, 0.0))
    return float(scores.mean())


def roc_auc(y_true: np.ndarray, score: np.ndarray) -> float | None:
    """Area under the ROC curve of two classes: the chance that a random positive (y = 1) scores
    above a random negative, ties counting half (the Mann-Whitney U statistic / (n_pos n_neg),
    from average ranks). None when one class is absent."""
    y_true = np.asarray(y_true).astype(bool)
    score = np.asarray(score, dtype=np.float64)
    n_pos = int(y_true.sum())
    n_neg = len(y_true) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    _, inverse, counts = np.unique(score, return_inverse=True, return_counts=True)
    average_rank = np.cumsum(counts) - (counts - 1) / 2  # 1-based ranks, ties share their mean
    ranks = average_rank[inverse]
    return float((ranks[y_true].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def classification_report(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    classes: list[str],
    proba: np.ndarray | None = None,
    score: np.ndarray | None = None,
) -> dict:
    """Everything `nettrain evaluate` shows for classes, as plain JSON-ready values. ``score``
    ranks the rows for ROC AUC (two classes): anything that rises with the second class's
    probability, by default that probability."""
    cm = confusion_matrix(y_true, y_pred, len(classes))
    precision, recall, f1, support = precision_recall_f1(cm)
    report = {
        "task": "classification",
        "n": int(len(y_true)),
        "accuracy": accuracy(y_true, y_pred),
        # over the classes present in the truth or the predictions, as scikit-learn's default:
        # a class the data never mentions is not a class the model got wrong
        "macro_f1": float(f1[(support > 0) | (cm.sum(axis=0) > 0)].mean()) if len(y_true) else 0.0,
        "per_class": [
            {"label": c, "precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for c, p, r, f, s in zip(classes, precision, recall, f1, support)
        ],
        "confusion_matrix": cm.tolist(),
        "classes": list(classes),
    }
    if proba is not None:
        report["log_loss"] = log_loss(y_true, proba)
        if len(classes) == 2:  # the second class's probability ranks the rows
            report["roc_auc"] = roc_auc(y_true == 1, proba[:, 1] if score is None else score)
    return report


def regression_report(y: np.ndarray, pred: np.ndarray) -> dict:
    """Everything `nettrain evaluate` shows for values."""
    return {
        "task": "regression",
        "n": int(len(y)),
        "mse": mse(y, pred),
        "rmse": mse(y, pred) ** 0.5,
        "mae": mae(y, pred),
        "r2": r2(y, pred),
    }


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
