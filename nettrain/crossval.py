"""Cross-validation: data.train cut into k folds; for each fold, the config's network trained on
the other k - 1 folds and scored on it, as scikit-learn's cross_val_score with (Stratified)KFold.

The rows are those fit trains on (``data.cv_rows``: data.train less a data.test fraction). Each
fold is trained by ``train.fit`` itself (``save=False``), on data that ``data.fold_run_data``
splits and encodes as fit's own loader does: the validation fraction held out of the fold's
training rows, and the encoding (standardization, categories, classes) fitted on its training
rows only, so nothing of the scored fold leaks into the model. The fold is scored by
``Model.evaluate``, as ``nettrain evaluate`` scores a data file.

A data.validation file is every fold's validation set; where it shares rows with data.train and
early stopping (or the plateau schedule) watches it, a 'warning' says that the folds scoring those
rows are optimistic.

Events for a reporter (``on_event(kind, info)``): 'notice' (message), 'warning' (message),
'cv_start' (folds, rows, task, source), 'fold' (one finished fold: its sizes, epochs, scores,
time_s), and each fold's fit's own events ('notice', 'warning', 'start', 'epoch', 'end', ...; the
same notices in every fold).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from .data import (
    Table,
    cv_rows,
    fold_run_data,
    is_missing,
    label_text,
    shared_validation_rows,
    source_name,
    stream_rng,
    weight_values,
)
from .errors import DataError, NettrainError, TrainingDiverged
from .metrics import score_names
from .modelfile import Model

#: The smallest number of folds, and the default.
MIN_FOLDS = 2
DEFAULT_FOLDS = 5


@dataclass
class Fold:
    """One fold: its number (1-based), the rows of the table it scored (sorted), the rows trained
    on and held out for validation, the epochs trained, its scores, and the fold's model."""

    fold: int
    rows: np.ndarray
    n_train: int
    n_val: int
    n_scored: int
    epochs: int
    scores: dict
    model: Model
    kept_epoch: int | None = None


@dataclass
class CVResult:
    """The folds, and each score's mean and standard deviation over them (None where a fold's
    score is undefined: ROC AUC of a fold holding one class only)."""

    task: str
    metrics: list[str]
    folds: list[Fold]
    mean: dict
    std: dict
    n_rows: int
    source: str
    notes: list[str] = field(default_factory=list)
    #: data.weight's column, when the folds' scores are weighted by it (else None)
    weight_column: str | None = None


def fold_indices(
    n: int, k: int, rng: np.random.Generator, labels: np.ndarray | None = None
) -> list[np.ndarray]:
    """The rows of each of ``k`` folds of ``n`` rows (each sorted; together a partition).

    Without labels: a seeded permutation cut into k parts whose sizes differ by one at most (as
    KFold(shuffle=True)). With labels (stratified, as StratifiedKFold(shuffle=True)): each class's
    rows in a seeded order, the classes one after the other, dealt to the folds in turn; so each
    fold holds floor or ceil(count / k) rows of every class, and n // k or n // k + 1 rows."""
    if labels is None:
        order = rng.permutation(n)
    else:
        # classes in the order of their labels as text, as split_indices takes them
        uniques, group = np.unique(labels, return_inverse=True)
        names = uniques if uniques.dtype.kind in "US" else label_text(uniques)
        parts = []
        for g in sorted(range(len(uniques)), key=lambda i: str(names[i])):
            rows = np.flatnonzero(group == g)
            parts.append(rows[rng.permutation(len(rows))])
        order = np.concatenate(parts)
    fold_of = np.arange(n) % k
    return [np.sort(order[fold_of == i]) for i in range(k)]


def _in_fold(exc: NettrainError, i: int, k: int) -> NettrainError:
    """The error with the fold it happened in named first."""
    try:
        new = type(exc)(f"fold {i} of {k}: {exc}")
    except TypeError:
        return exc
    new.exit_code = exc.exit_code
    return new


def _weighs_something(scored: Table, dc) -> None:
    """A DataError when a fold's scored rows all weigh 0 (data.weight): named as the fold's rows,
    which were drawn, not as the file, whose other rows may well weigh more (evaluate's own
    message would name the file)."""
    _, w = weight_values(scored, dc.weight, dc.missing)
    if len(w) and not (w > 0).any():
        rows = "row" if len(w) == 1 else "rows"  # (leave-one-out: a fold of one row)
        raise DataError(
            f"its {len(w)} held-out {rows} of {scored.source}: every row's weight (data.weight "
            f"'{dc.weight}') is 0; at least one must be positive to weigh the fold's scores (another "
            "data.split_seed, or fewer folds, draws other rows)"
        )


def _positive_weights(table: Table, dc) -> int | None:
    """How many of ``table``'s rows weigh more than 0 (data.weight), or None where a weight cannot
    be read: that is left to the fold's loader, which names the cell."""
    try:
        _, w = weight_values(table, dc.weight, dc.missing)
    except DataError:
        return None
    return int((w > 0).sum())


def _trains_on_something(training: Table, dc, positive: int) -> None:
    """A DataError when a fold's training rows all weigh 0 (data.weight): named as the fold's
    rows, which were drawn, not as the file, whose ``positive`` rows that weigh more than 0 the
    fold holds out."""
    if _positive_weights(training, dc) == 0:
        rows = f"the {positive} row{'s' * (positive != 1)} that weigh{'s' * (positive == 1)} more"
        raise DataError(
            f"its {training.n} training rows of {training.source}: every row's weight (data.weight "
            f"'{dc.weight}') is 0; at least one must be positive to train the fold's model (the fold "
            f"holds out {rows}; another data.split_seed, or more folds, draws other rows)"
        )


def cross_validate(
    config,
    folds: int = DEFAULT_FOLDS,
    on_event: Callable[[str, dict], None] | None = None,
    *,
    stdin=None,
) -> CVResult:
    """k-fold cross-validation of a config: one network per fold, trained by ``fit`` on the
    other folds, scored on it with ``nettrain evaluate``'s scores.

    The folds are drawn with data.split_seed (else training.seed), stratified by class for
    classification. A data.test fraction is held out first, as fit holds it out, and not used; a
    data.test file is not read. Rows that fit and evaluate would leave out (a missing target;
    under data.missing: drop, any missing value) are left out before the folds are cut, and a
    missing target under data.missing: error is refused at once. Nothing is written.

    Parameters
    ----------
    folds : k, at least 2 and at most the number of rows; for classification every class needs
        two rows or more (a class of one row would be missing from one fold's training rows).
        A class with fewer rows than folds leaves some folds without it (a notice says so).

    Returns
    -------
    CVResult : per fold (rows, epochs, scores, model), and each score's mean and standard
        deviation over the folds (the population standard deviation, ddof=0, as NumPy's std of
        cross_val_score's array).

    Raises
    ------
    ConfigError, DataError : bad config, data, or folds (before any training); DataError and
        TrainingDiverged from a fold name it ('fold 2 of 5: ...').
    """
    emit = on_event or (lambda kind, info: None)
    if folds < MIN_FOLDS:
        raise NettrainError(f"--folds {folds}: cross-validation needs at least {MIN_FOLDS} folds")
    if isinstance(config.data.validation, str) and config.data.validation == "-":
        raise DataError("data.validation '-': each fold reads the validation file again: give a file")
    table, dc, notes = cv_rows(config, stdin)
    gone = _missing_rows(table, features=dc.missing == "drop")
    if gone.any() and dc.missing == "error":  # (a missing target; a missing value is a fold's error)
        raise DataError(
            f"{table.where(int(np.argmax(gone)))}: the target '{table.target or 'target'}' is missing; "
            f"{table.counted(int(gone.sum()))} have no target. Remove them, or set data.missing: drop"
        )
    if gone.any():  # rows that neither train nor score are not dealt to a fold
        what = "values" if dc.missing == "drop" else "targets"
        notes.append(
            f"left out {int(gone.sum())} of {table.n} rows with missing {what} "
            f"(data.missing: {dc.missing}) before cutting the folds"
        )
        table = table.take(np.flatnonzero(~gone))
        if table.n == 0:
            raise DataError(f"{table.source}: no row is left once rows with missing values are dropped")
    n = table.n
    if folds > n:
        # (one row: --folds 1 is no cross-validation, and refused)
        advice = f"ask for --folds {n} or fewer" if n >= 2 else "cross-validation needs 2 rows or more"
        raise DataError(f"{table.source}: {n} row{'s' * (n != 1)} cannot be cut into {folds} folds; {advice}")
    labels = None
    if config.task == "classification" and table.y is not None and table.y.ndim == 1:
        labels = label_text(table.y)
        classes, counts = np.unique(labels, return_counts=True)
        if counts.min() < 2:
            lone = classes[counts.argmin()]
            raise DataError(
                f"{table.source}: class '{lone}' has 1 row: the fold that scores it would train "
                "without it; cross-validation needs two rows or more of every class"
            )
        if counts.min() < folds:
            few = classes[counts.argmin()]
            notes.append(
                f"class '{few}' has {counts.min()} rows, fewer than the {folds} folds: "
                f"{folds - counts.min()} fold(s) score no row of it"
            )
    positive = None
    if dc.weight is not None:
        positive = _positive_weights(table, dc)
        if positive == 0:  # (not a fold's drawing: the file's)
            raise DataError(
                f"{table.source}: data.weight ('{dc.weight}'): every row's weight is 0; at least one "
                "must be positive"
            )
        notes.append(
            f"each fold's scores are weighted by data.weight ('{dc.weight}'), as evaluate --weighted "
            "weighs them"
        )
    for note in notes:
        emit("notice", {"message": note})
    _warn_of_shared_validation(config, dc, table, emit)
    names = None
    load_config = replace(config, data=dc)
    # fit is given the fold's data: the columns data.exclude left out are gone already
    fit_config = replace(config, data=replace(dc, exclude=(), features=None))
    parts = fold_indices(n, folds, stream_rng(config.split_seed, 5), labels)
    emit("cv_start", {"folds": folds, "rows": n, "task": config.task, "source": table.source})
    from .train import fit  # (train imports the data module this one does: no cycle either way)

    results: list[Fold] = []
    everything = np.arange(n)
    for i, held in enumerate(parts, start=1):
        training = np.setdiff1d(everything, held, assume_unique=True)
        t0 = time.perf_counter()
        try:
            scored, trained = table.take(held), table.take(training)
            if dc.weight is not None:  # (before the fold trains: either side weighing nothing)
                if positive is not None:
                    _trains_on_something(trained, dc, positive)
                _weighs_something(scored, dc)
            data = fold_run_data(load_config, trained)
            # (every fold's fit says the same notices: a reporter shows each once)
            result = fit(fit_config, emit, data=data, save=False)
            # a rare category met only in the scored fold is encoded as zeros, as predict
            # --unknown ignore does: the fold's model never saw it. With data.weight, every score
            # is weighted by the scored rows' weights (evaluate --weighted's scores)
            report = result.model.evaluate(scored, unknown="ignore", weight=dc.weight)
        except (DataError, TrainingDiverged) as exc:
            raise _in_fold(exc, i, folds) from None
        if names is None:
            names = score_names(result.model.encoding.task, len(result.model.encoding.classes or []))
        summary = result.summary
        fold = Fold(
            fold=i,
            rows=held,
            n_train=len(data.train),
            n_val=len(data.validation) if data.validation is not None else 0,
            n_scored=report["n"],
            epochs=int(summary["epochs"]),
            scores={name: _number(report.get(name)) for name in names},
            model=result.model,
            kept_epoch=summary.get("kept_epoch"),
        )
        results.append(fold)
        emit("fold", {"fold": i, "folds": folds, **_fold_info(fold), "time_s": time.perf_counter() - t0})
    mean, std = {}, {}
    for name in names or []:
        values = [f.scores[name] for f in results]
        if any(v is None for v in values):
            mean[name] = std[name] = None
        else:
            mean[name], std[name] = float(np.mean(values)), float(np.std(values))
    return CVResult(config.task, list(names or []), results, mean, std, n, table.source, notes, dc.weight)


def _warn_of_shared_validation(config, dc, table: Table, emit) -> None:
    """A data.validation file is every fold's validation set. Where rows of it are rows of
    data.train too, each fold scores some of them, and early stopping (or the plateau schedule)
    that watches the validation set has seen them: a warning says so, once, before the folds."""
    tc = config.training
    watchers = [what for what, on in (("early stopping", tc.early_stopping), ("the plateau schedule",
                tc.schedule == "plateau")) if on]  # fmt: skip
    if not watchers:  # the validation loss only reported: nothing of it reaches a model
        return
    shared = shared_validation_rows(dc, table)
    if shared:
        emit(
            "warning",
            {
                "message": f"{shared} rows of data.validation ({source_name(dc.validation)}) are rows "
                f"of data.train too: the folds that score them train with {' and '.join(watchers)} "
                "watching them, so their scores are optimistic; leave those rows out of the file, or "
                "give data.validation as a fraction (held out of each fold's training rows)"
            },
        )


def _missing_rows(table: Table, features: bool) -> np.ndarray:
    """Which rows miss their target (fit and evaluate leave those out whatever data.missing
    says), and with ``features`` a feature value too (data.missing: drop leaves those out)."""

    def missing(cells: np.ndarray) -> np.ndarray:
        if cells.dtype.kind in "US":
            gone = is_missing(cells)
        else:
            gone = np.isnan(np.asarray(cells, dtype=np.float64))
        return gone.reshape(len(cells), -1).any(axis=1)

    gone = np.zeros(table.n, dtype=bool)
    if table.y is not None:
        gone |= missing(table.y)
    if features:
        for j in range(len(table.features)):
            gone |= missing(table.column(j))
    return gone


def _number(value) -> float | None:
    """A score as a float, or None where it is undefined (None or NaN)."""
    if value is None or value != value:
        return None
    return float(value)


def _fold_info(f: Fold) -> dict:
    info = {
        "n_train": f.n_train,
        "n_val": f.n_val,
        "n_scored": f.n_scored,
        "epochs": f.epochs,
        "scores": dict(f.scores),
    }
    if f.kept_epoch is not None:
        info["kept_epoch"] = f.kept_epoch
    return info


def result_dict(r: CVResult) -> dict:
    """The result as plain JSON-ready values (no models, no row lists)."""
    return {
        "task": r.task,
        "source": r.source,
        "rows": r.n_rows,
        "k": len(r.folds),
        "metrics": list(r.metrics),
        "folds": [{"fold": f.fold, **_fold_info(f)} for f in r.folds],
        "mean": dict(r.mean),
        "std": dict(r.std),
        # (only a weighted cross-validation says so: the scores of one without are as they were)
        **({"weighted": True, "weight_column": r.weight_column} if r.weight_column is not None else {}),
    }
