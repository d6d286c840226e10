"""Permutation feature importance: how much a model's score drops when one column is shuffled.

For each feature column j of the data as the model knows it, and each repeat r = 1..R, the rows
of column j are put in a random order (the other columns and the target stay), the network is
run again and scored; importance(j) = baseline score - permuted score, reported as its mean and
standard deviation (ddof 0) over the R repeats, as scikit-learn's
``sklearn.inspection.permutation_importance``. The score is the estimator's default score there:
accuracy for classification, R^2 for regression (both better high, so a positive drop means the
column matters; about 0 means the model does not use it; below 0, shuffling it helped by chance).

A categorical column is one column: its one-hot inputs are one block, and a row's block moves as
a whole (the same as shuffling the column's values before encoding). Inputs are standardized per
input, an affine map of each value, so shuffling the encoded rows equals shuffling the raw values.

With weights (evaluate --weighted), both scores are weighted by the rows' weights, as
scikit-learn's ``permutation_importance(..., sample_weight=w)`` scores: a row keeps its weight
and its target while column j is shuffled.

Column j's shuffles come from ``np.random.default_rng([seed, j])``: the same seed gives the same
numbers, and a column's numbers do not depend on which other columns the model has.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .data import Table, encode_scored, scored_weights
from .errors import DataError
from .metrics import accuracy, r2

#: The score whose drop is the importance, per task (scikit-learn's estimator.score).
IMPORTANCE_METRIC = {"classification": "accuracy", "regression": "r2"}


def permutation_importance(
    model,
    tables: Table | Iterable[Table],
    repeats: int = 5,
    seed: int = 0,
    unknown: str = "error",
    weight: str | None = None,
) -> dict:
    """Permutation importance of every feature column of a labelled input (see the module doc).

    Parameters
    ----------
    model : a loaded modelfile.Model.
    tables : a Table, or the chunks of one input (read_for_model_chunks); held in memory as the
        encoded inputs X (n, inputs) in the network's dtype.
    repeats : shuffles per column (R >= 1); the network runs 1 + R * columns times on n rows.
    seed : seeds the shuffles (>= 0).
    weight : the rows' weights weigh the scores: the column of that name the tables hold in
        ``table.w`` (as Model.evaluate's ``weight``); None: unweighted.

    Returns
    -------
    {"metric": "accuracy" | "r2", "baseline": score on the data as it is, "repeats": R,
    "seed": seed, "columns": [{"column", "mean", "std", "scores" (the R drops)}, ...]}, the
    columns sorted by mean drop, largest first (ties in the model's column order).

    Raises
    ------
    ValueError for repeats < 1 or seed < 0; DataError for data without a row to score.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, not {repeats}")
    if seed < 0:
        raise ValueError(f"seed must be 0 or more, not {seed}")
    enc, net = model.encoding, model.network
    Xs, Ys, ws, source = [], [], [], ""
    for chunk in [tables] if isinstance(tables, Table) else tables:
        data, w = encode_scored(enc, chunk, str(net.dtype), unknown, weight)
        source = chunk.source
        if len(data):
            Xs.append(data.X)
            Ys.append(data.Y)
            ws.append(w)
    if not Xs:
        raise DataError(f"{source}: no row is left once rows with missing values are dropped")
    X, Y = np.concatenate(Xs), np.concatenate(Ys)
    w = None if weight is None else scored_weights(ws, weight, source)
    del Xs, Ys, ws
    if enc.task == "classification":
        truth = Y.argmax(axis=1) if Y.shape[1] > 1 else Y[:, 0].astype(int)

        def score(X: np.ndarray) -> float:
            return accuracy(truth, enc.predicted_index(model.forward(X)), w)

    else:
        truth = Y * enc.y_scale + enc.y_mean  # the target's units, as evaluate's R^2

        def score(X: np.ndarray) -> float:
            return r2(truth, enc.decode(model.forward(X)).reshape(len(truth), -1), w)

    baseline = score(X)
    columns = []
    start = 0
    for j, col in enumerate(enc.columns):
        block = slice(start, start + col.width)
        start += col.width
        original = X[:, block].copy()
        rng = np.random.default_rng([seed, j])
        drops = []
        for _ in range(repeats):
            X[:, block] = original[rng.permutation(len(X))]
            drops.append(baseline - score(X))
        X[:, block] = original
        drops_a = np.asarray(drops)
        columns.append(
            {"column": col.name, "mean": float(drops_a.mean()), "std": float(drops_a.std()), "scores": drops}
        )
    columns.sort(key=lambda c: -c["mean"])  # (a stable sort: ties keep the model's order)
    return {
        "metric": IMPORTANCE_METRIC[enc.task],
        "baseline": baseline,
        "repeats": repeats,
        "seed": seed,
        "n": len(X),
        **({"weighted": True, "weight_column": weight} if w is not None else {}),
        "columns": columns,
    }
