"""Data: reading (read.py; Parquet: parquet.py), encoding (encode.py), streaming large NPY files
(stream.py), and the data of a run: the training, validation and test sets of a config, split and
encoded.

Arrays here are host NumPy arrays; ``train.py`` moves them to the device. X is (n, inputs) with
one example per row; Y is (n, outputs) as the cost wants it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import ConfigError, DataError, TargetColumnError, did_you_mean
from .encode import (
    MISSING_POLICIES,
    UNKNOWN_POLICIES,
    Column,
    Encoding,
    UnseenCategory,
    _as_number_label,
    category_text,
    fit_encoding,
    label_text,
    standardizes_target,
)
from .read import (
    MISSING,
    NPY_MAGIC,
    Table,
    _is_number,
    column_index,
    decode_text,
    excluded_by_features,
    is_missing,
    not_a_feature_column,
    npy_header,
    parse_numbers,
    read_bytes,
    read_table,
    read_table_chunks,
    sniff_delimiter,
    source_name,
    with_weight,
)
from .stream import StreamedDataset, should_stream, stream_npy

__all__ = [
    "MISSING",
    "MISSING_POLICIES",
    "NPY_MAGIC",
    "UNKNOWN_POLICIES",
    "Column",
    "Dataset",
    "Encoding",
    "RunData",
    "StreamedDataset",
    "Table",
    "category_text",
    "column_index",
    "decode_text",
    "fit_encoding",
    "is_missing",
    "label_text",
    "load_run_data",
    "cv_rows",
    "fold_run_data",
    "shared_validation_rows",
    "npy_header",
    "parse_numbers",
    "read_bytes",
    "read_table",
    "read_table_chunks",
    "read_for_model",
    "read_for_model_chunks",
    "align_features",
    "select_features",
    "sniff_delimiter",
    "source_name",
    "hold_out_rows",
    "normalized_weights",
    "scoring_weights",
    "encode_scored",
    "scored_weights",
    "split_indices",
    "stream_rng",
]


@dataclass
class Dataset:
    """Encoded arrays ready for the network: X (n, inputs) and Y (n, outputs), host, in dtype.

    ``table`` is the source; ``kept`` the source rows that made it (rows with missing values are
    left out under ``data.missing: drop``). ``w`` (n,): each row's sample weight in the training
    cost (data.weight), normalized to a mean of 1 over the rows (``normalized_weights``), in
    dtype; of a validation or test set, its rows' weights in its scores, normalized alike in
    float64 (``scoring_weights``); None: unweighted.
    """

    X: np.ndarray
    Y: np.ndarray
    table: Table | None = None
    kept: np.ndarray | None = None
    w: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.X)


@dataclass
class RunData:
    encoding: Encoding
    train: Dataset
    validation: Dataset | None = None
    test: Dataset | None = None
    notes: list[str] = field(default_factory=list)

    def without_tables(self) -> RunData:
        """The same, each data set's source table let go (its cells take about twice the
        encoded arrays' memory, and training needs only the arrays). Returns self."""
        for ds in (self.train, self.validation, self.test):
            if isinstance(ds, Dataset):
                ds.table = None
        return self

    @classmethod
    def from_arrays(cls, X, Y, cost: str, dtype: str = "float32", sample_weight=None) -> RunData:
        """Training data that is already encoded, for ``fit(config, data=...)``: X (n, inputs) and
        Y (n, outputs) as the cost wants them: one-hot rows for cross_entropy (or a 1-D array
        of integer class labels 0..k-1, one-hot encoded here), 0/1 for binary_cross_entropy,
        values for mse; a classification cost's targets are probabilities in [0, 1] (soft labels
        too), so another value is a DataError. No standardization. Classes are named '0', '1', ...
        ``sample_weight`` (n,): each row's weight in the training cost, finite, >= 0 and not all
        0, normalized to a mean of 1 as data.weight's column is; None: unweighted.
        Raises DataError for arrays that cannot be that, ConfigError for an unknown cost."""
        from ..costs import COSTS

        if cost not in COSTS:
            raise ConfigError(f"cost '{cost}' is not known; one of: {', '.join(COSTS)}")
        if np.dtype(dtype) not in (np.float32, np.float64):
            raise ConfigError(f"dtype '{dtype}' is not float32 or float64")
        try:
            X = np.asarray(X, dtype=np.float64)
            Y = np.asarray(Y)
        except (TypeError, ValueError) as exc:
            raise DataError(f"from_arrays: X must be a matrix of numbers ({exc})") from None
        if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
            raise DataError(f"from_arrays: X must be a non-empty matrix (rows, inputs), not shape {X.shape}")
        if Y.shape[:1] != X.shape[:1] or Y.ndim > 2:
            raise DataError(f"from_arrays: Y must have one row per row of X ({len(X)}), not shape {Y.shape}")
        if cost == "cross_entropy" and (Y.ndim == 1 or Y.shape[1] == 1):
            try:
                labels = Y.reshape(-1).astype(np.float64)
            except (TypeError, ValueError):  # (text labels: not the class numbers asked for)
                labels = np.array([np.nan])
            if not np.all(np.isfinite(labels)) or np.any(labels % 1) or labels.min() < 0:
                raise DataError("from_arrays: 1-D targets for cross_entropy must be class numbers 0, 1, ...")
            if labels.max() < 1:
                raise DataError(
                    "from_arrays: the targets hold one class only; classification needs two or more"
                )
            Y = np.eye(int(labels.max()) + 1)[labels.astype(np.int64)]
        try:
            Y = Y.reshape(len(X), -1).astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise DataError(f"from_arrays: Y must hold numbers ({exc})") from None
        if not (np.isfinite(X).all() and np.isfinite(Y).all()):
            raise DataError("from_arrays: X and Y must be finite (no NaN or inf)")
        if COSTS[cost].classification and len(Y) and (Y.min() < 0 or Y.max() > 1):
            # (a 2 or -1 would train: the cost's delta (s - y) / n pushes the sigmoid or softmax
            # toward a value it cannot reach, and the loss has no minimum)
            i, j = np.unravel_index(int(np.argmax((Y < 0) | (Y > 1))), Y.shape)
            what = "0/1 labels" if cost == "binary_cross_entropy" else "one-hot rows"
            raise DataError(
                f"from_arrays: Y holds {Y[i, j]:g} (row {i}, column {j}); targets for {cost} are "
                f"probabilities in [0, 1] ({what}, or soft labels such as 0.5)"
            )
        limit = np.finfo(dtype).max  # (1e300 is finite, and inf in float32)
        for name, values in (("X", X), ("Y", Y)):
            if len(values) and np.abs(values).max() > limit:
                i, j = np.unravel_index(int(np.argmax(np.abs(values) > limit)), values.shape)
                raise DataError(
                    f"from_arrays: {name} holds {values[i, j]:g} (row {i}, column {j}), too large for "
                    f"{np.dtype(dtype)}: scale it, or train in float64"
                )
        w = None
        if sample_weight is not None:
            try:
                w = np.asarray(sample_weight, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise DataError(f"from_arrays: sample_weight must hold numbers ({exc})") from None
            if w.shape != (len(X),):
                raise DataError(
                    f"from_arrays: sample_weight must be one number per row of X ({len(X)},), not "
                    f"shape {w.shape}"
                )
            bad = ~np.isfinite(w) | (w < 0)
            if bad.any():
                i = int(np.argmax(bad))
                raise DataError(
                    f"from_arrays: sample_weight holds {w[i]:g} (row {i}); weights must be finite and >= 0"
                )
            w = normalized_weights(w, dtype, "from_arrays: sample_weight")
        X = np.ascontiguousarray(X, dtype=dtype)
        Y = np.ascontiguousarray(Y, dtype=dtype)
        d, k = X.shape[1], Y.shape[1]
        features = [str(j) for j in range(d)]
        if COSTS[cost].classification:
            encoding = Encoding(
                "classification",
                cost,
                features,
                "y",
                k,
                np.zeros(d),
                np.ones(d),
                classes=[str(c) for c in range(2 if k == 1 else k)],
                positional=True,
                label_numbers=True,
            )
        else:
            encoding = Encoding(
                "regression",
                cost,
                features,
                "y",
                k,
                np.zeros(d),
                np.ones(d),
                y_mean=np.zeros(k),
                y_scale=np.ones(k),
                positional=True,
            )
        return cls(encoding, Dataset(X, Y, w=w))


def normalized_weights(w: np.ndarray, dtype, what: str, fix: str = "") -> np.ndarray:
    """Sample weights w (n,), finite and >= 0, over their mean, in ``dtype``: s_i = w_i / mean(w),
    so that only their ratios count (all 10s train as all 1s) and the training cost (1/n)
    sum s_i l_i is an unbiased estimate of the weighted mean sum w_i l_i / sum w_i. Equal weights
    give exactly 1 (the model of no weights, bit for bit). All 0 is a DataError naming ``what``
    and saying ``fix`` (the way out, if any)."""
    if len(w) and not (w > 0).any():
        raise DataError(f"{what}: every training row's weight is 0; at least one must be positive{fix}")
    if len(w) and w.min() == w.max():
        return np.ones(len(w), dtype=dtype)
    with np.errstate(over="ignore"):
        mean = w.mean()
    if not np.isfinite(mean) or mean < np.finfo(np.float64).tiny:
        # the sum overflows (weights near 1.8e308), or the mean is subnormal (weights near
        # 5e-324, which divide imprecisely or by 0): the weights over their maximum first
        w = w / w.max()
        mean = w.mean()
    return (w / mean).astype(dtype)


def scoring_weights(w: np.ndarray, what: str, fix: str = "") -> np.ndarray:
    """A validation or test set's weights w (n,) (data.weight, checked by ``weight_values``) for
    its scores, in float64, over their mean as ``normalized_weights``: a weighted mean of the
    rows' losses is then (1/n) sum s_i l_i, and equal weights are exactly 1, which scores as no
    weights. All 0 is a DataError naming ``what`` and saying ``fix`` (the way out): a weighted
    mean over no weight is undefined."""
    if len(w) and not (w > 0).any():
        raise DataError(
            f"{what}: every row's weight is 0; at least one must be positive to weigh its scores{fix}"
        )
    return normalized_weights(w, np.float64, what)


def _scored_values(name: str, table: Table, dc, notes: list[str]) -> tuple[Table, np.ndarray | None]:
    """fit's validation or test table ``name`` less its rows without a weight (data.missing: drop
    or mean; an error under error), and its rows' weights as read (``weight_values``), for its
    scores. Without data.weight, or a table without its column (``table.w`` None): the table and
    None, and for the latter a note in ``notes`` that its scores are unweighted."""
    if dc.weight is None:
        return table, None
    if table.w is None:  # a file without the column: scored unweighted, and said so
        notes.append(
            f"{name} data: {table.source} has no weight column '{dc.weight}' (data.weight): its "
            "scores are unweighted"
        )
        return table, None
    return weight_values(table, dc.weight, dc.missing)


def _training_set(dc, source: str) -> tuple[str, str]:
    """(what, fix) for ``normalized_weights`` of fit's training rows from ``source``: after a
    validation or test fraction is held out, the rows left, not the file, whose held-out rows
    may weigh more (another split holds out other rows)."""
    held = [name for name in ("test", "validation") if isinstance(f := getattr(dc, name), float) and f > 0]
    if not held:
        return f"{source}: data.weight ('{dc.weight}')", ""
    fractions = ", ".join(f"data.{name}: {getattr(dc, name):g}" for name in held)
    return (
        f"the training rows of {source} left after the hold-outs ({fractions}): data.weight ('{dc.weight}')",
        f" (if the held-out rows weigh more: another data.split_seed, or a smaller "
        f"{' or '.join('data.' + name for name in held)}, holds out other rows)",
    )


def _scored_set(name: str, dc, source: str) -> tuple[str, str]:
    """(what, fix) for ``scoring_weights`` of fit's validation or test set ``name`` from
    ``source``: a fraction held out of the training file is named as such (the file's other rows
    may well weigh more than 0), and another split holds out other rows."""
    fraction = getattr(dc, name)
    if isinstance(fraction, float):
        return (
            f"the {name} rows held out of {source} (data.{name}: {fraction:g}): data.weight ('{dc.weight}')",
            f" (another data.split_seed, or a larger data.{name}, holds out other rows)",
        )
    return f"{name} data ({source}): data.weight ('{dc.weight}')", ""


def weight_values(
    table: Table, name: str, missing: str, what: str = "data.weight", fix: str = "set data.missing: drop"
) -> tuple[Table, np.ndarray]:
    """(the table less the rows without a weight, their weights (n,) float64) from the column
    data.weight moved into ``table.w`` (read.with_weight). A cell that is not a number, not finite
    or negative is a DataError naming its line and column; a missing one is too under
    ``missing: error``, and drops its row otherwise (as a missing target does). ``what`` names
    the setting that chose the column, and ``fix`` the other way out of missing weights, in
    messages (evaluate's weights: '--weight', and a model's data.missing is fixed)."""
    cells = table.w
    if cells.dtype.kind in "US":
        values, absent = parse_numbers(cells, name, table)
    else:
        values = cells.astype(np.float64)
        absent = np.isnan(values)
        bad = ~np.isfinite(values) & ~absent
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(
                f"{table.where(i)}: column '{name}' holds {values[i]:g}, which is not a finite number"
            )
    negative = values < 0
    if negative.any():
        i = int(np.argmax(negative))
        shown = cells[i] if cells.dtype.kind in "US" else f"{values[i]:g}"
        raise DataError(
            f"{table.where(i)}: column '{name}' holds '{shown}', a negative weight; {what}'s values "
            "must be >= 0"
        )
    if absent.any():
        if missing == "error":
            i = int(np.argmax(absent))
            raise DataError(
                f"{table.where(i)}: the weight '{name}' is missing; {table.counted(int(absent.sum()))} "
                f"have no weight. Remove them, or {fix}"
            )
        table, values = table.take(np.flatnonzero(~absent)), values[~absent]
    return table, values


def stream_rng(seed: int, stream: int) -> np.random.Generator:
    """An independent generator per purpose, all from one seed: 0 init, 1 validation split,
    2 shuffle, 3 dropout, 4 test split, 5 cross-validation folds. Separate streams mean that,
    e.g., changing the validation fraction does not change the initial weights. (Child i of a
    SeedSequence does not depend on how many are spawned: adding streams 4 and 5 left the others
    as they were.) The splits (1, 4 and 5) take ``Config.split_seed`` (data.split_seed, else
    training.seed), the rest training.seed."""
    return np.random.default_rng(np.random.SeedSequence(seed).spawn(6)[stream])


def hold_out_rows(
    n: int, fraction: float, rng: np.random.Generator, labels: np.ndarray | None, source: str, what: str
) -> tuple[np.ndarray, np.ndarray]:
    """``split_indices`` for holding out the ``what`` ('test', 'validation') fraction of a data
    set: too few rows, or a class left with no training row, is a DataError naming ``source``."""
    if n < 2:
        raise DataError(f"{source}: {n} row(s) is too few to hold out a {what} fraction")
    kept, held = split_indices(n, fraction, rng, labels)
    if labels is not None:  # every class held out must still be trained on
        lost = sorted(set(labels[held].tolist()) - set(labels[kept].tolist()))
        if lost:
            classes = np.unique(labels)
            quantity = _looks_like_a_quantity(classes, n)
            raise DataError(
                f"{source}: holding out the {what} fraction leaves no training row of class "
                f"'{lost[0]}' ({int((labels == lost[0]).sum())} row(s) in all); "
                + (
                    f"the target has {len(classes)} distinct numbers in {n} rows: if it is a "
                    "quantity to predict, set cost: mse"
                    if quantity
                    else f"give more rows of it, or a smaller data.{what}"
                )
            )
    return kept, held


def held_out_note(fraction: float, labels, held: np.ndarray, what: str) -> list[str]:
    """A note when a stratified hold-out takes far more rows than the fraction asks (many small
    classes, each giving at least one row), else none."""
    n = len(labels) if labels is not None else 0
    asked = round(fraction * n)
    if labels is None or len(held) < 2 * asked or len(held) - asked < 5:
        return []
    return [
        f"the {what} fraction {fraction:g} holds out {len(held)} of {n} rows, not {asked}: the split "
        f"keeps every class's share, and each of the {len(set(labels[held].tolist()))} classes held "
        "out gives at least one row"
    ]


def split_indices(
    n: int, fraction: float, rng: np.random.Generator, labels: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, validation rows), each sorted; a seeded random split.

    With ``labels`` the split is stratified: each class gives round(fraction * its count) rows
    to validation (a class of one row stays in training), so both parts keep the class balance.
    """
    if labels is None:
        n_val = min(max(int(round(n * fraction)), 1), n - 1)
        perm = rng.permutation(n)
        return np.sort(perm[n_val:]), np.sort(perm[:n_val])
    val: list[np.ndarray] = []
    # classes in the order of their labels as text (numbers as label_text writes them), so that
    # a file's text labels and an array's numbers split alike
    uniques, group = np.unique(labels, return_inverse=True)
    names = uniques if uniques.dtype.kind in "US" else label_text(uniques)
    for g in sorted(range(len(uniques)), key=lambda i: str(names[i])):
        rows = np.flatnonzero(group == g)
        rows = rows[rng.permutation(len(rows))]
        k = int(round(len(rows) * fraction))
        if len(rows) > 1:
            k = min(max(k, 1), len(rows) - 1)
        else:
            k = 0
        val.append(rows[:k])
    v = np.sort(np.concatenate(val)) if val else np.zeros(0, dtype=np.int64)
    if len(v) == 0:  # every class has one row: fall back to a plain split
        return split_indices(n, fraction, rng)
    mask = np.ones(n, dtype=bool)
    mask[v] = False
    return np.flatnonzero(mask), v


def select_features(table: Table, features: list[str]) -> np.ndarray:
    """The named feature columns of a table, as float64 (n, features) (matched by CSV header
    name; arrays must have exactly that many columns). For all-numeric models."""
    return align_features(table, features).X


def without_columns(table: Table, exclude, strict: bool = True, given: str | None = None) -> Table:
    """The table without the feature columns ``exclude`` names (data.exclude). In the training
    file (``strict``) each must be a column and one feature must be left; a validation or test
    file may lack them. ``given`` says where data.exclude was given, for the error
    ('data.exclude in c.yaml:5', 'from --set ...'), as data.features' and data.weight's say."""
    if not exclude:
        return table
    absent = [c for c in exclude if c not in table.features and c not in table.unread]
    if absent and strict:
        raise not_a_feature_column(table, "exclude", absent[0], given)
    left = [f for f in table.features if f not in exclude]
    if not left:
        raise DataError(
            f"{table.source}: data.exclude leaves out every feature column; nothing is left to learn from"
        )
    return table.columns(left)


def align_features(table: Table, features: list[str]) -> Table:
    """The table's feature columns in the model's order: by name for CSV with a header (even
    when the names are numbers); by position for arrays and header-less CSV, which must then have
    exactly those columns."""
    if table.features == list(features):
        return table
    if table.named:
        return table.columns(list(features))
    if len(table.features) != len(features):
        raise DataError(
            f"{table.source}: has {len(table.features)} columns but the model expects "
            f"{len(features)} features"
        )
    return replace(table, features=list(features), named=False)


def _is_header_row(table: Table) -> bool:
    """Whether the first row of a CSV read without a header is one: not all numbers, or the
    column positions 0, 1, 2, ... as pandas writes them for unnamed columns, when there are 3 or
    more (a 2-column row '0,1' is as likely data: binary inputs)."""
    first = [str(table.column(j)[0]).strip() for j in range(len(table.features))]
    if table.y is not None and table.target is not None and str(table.target).isdigit():
        first.insert(min(int(table.target), len(first)), str(table.y[0]).strip())
    elif table.y is not None:
        first.append(str(table.y[0]).strip())
    if not all(_is_number(v) for v in first):
        return True
    return len(first) >= 3 and [float(v) for v in first] == list(range(len(first)))


def _model_reading(
    encoding: Encoding,
    need_target: bool,
    delimiter: str | None,
    keep: tuple[str, ...],
    weight: str | None = None,
) -> tuple[bool, dict]:
    """(whether inputs are matched by position, read_table's arguments) for reading a model's
    prediction or evaluation input the way its training data was read."""
    # trained on arrays (NPY, NPZ): features are column positions and the target a position or
    # 'y'; a CSV input is then matched by position too, with or without a header row (models
    # from before the encoding recorded it: inferred from the names)
    from_arrays = encoding.positional
    if from_arrays is None:
        from_arrays = (
            encoding.header
            and all(f.isdigit() for f in encoding.features)
            and (str(encoding.target).isdigit() or encoding.target in ("y", None))
        )
    target = encoding.target if need_target else None
    if need_target and from_arrays and target == "y":  # NPZ-trained: the target is the array y
        target = None
    header = encoding.header and not from_arrays
    named_numeric = header and all(c.kind == "numeric" for c in encoding.columns)
    categorical = [c.name for c in encoding.columns if c.kind == "categorical"]
    used = {*encoding.features, *keep, *([weight] if weight is not None else [])}
    return bool(from_arrays), dict(
        target=target,
        need_target=need_target,
        header=header,
        delimiter=delimiter or encoding.delimiter,
        columns=[*encoding.features, *keep, *([weight] if weight is not None else [])]
        if named_numeric
        else None,
        # (a Parquet column of a type nettrain does not read, and none of these: left unread)
        unused=(lambda name: name not in used) if header else None,
        # (columns kept for the output are text as written: an id '00123' stays '00123')
        text_columns=(*categorical, *keep),
        # decimal commas stay as written in labels (categories, ids, class labels training kept
        # as '1,5' beside words), alike in every chunk; a numeric feature is read as a number
        commas_kept=(
            *categorical,
            *(k for k in keep if k not in encoding.features),
            *([str(target)] if target is not None and _labels_with_commas(encoding) else []),
        ),
    )


def _labels_with_commas(encoding: Encoding) -> bool:
    """Whether training kept class labels with decimal commas as written ('1,5' beside words)."""
    return encoding.task == "classification" and any("," in c for c in encoding.classes or ())


def _check_width(table: Table, encoding: Encoding, delimiter: str | None) -> None:
    if encoding.delimiter and len(table.features) == 1 and len(encoding.features) > 1:
        raise DataError(
            f"{table.source}: holds one column when read with {delimiter!r}, the delimiter the "
            "model's training data had (data.delimiter); is this file separated by another one?"
        )


def read_for_model(
    path: str,
    encoding: Encoding,
    *,
    need_target: bool,
    stdin=None,
    delimiter: str | None = None,
    keep: tuple[str, ...] = (),
    weight: str | None = None,
) -> Table:
    """Read prediction or evaluation input the way the model's training data was read: the same
    header setting, the target by the name (or index) it had; a clean numeric CSV parsed for just
    the model's columns. A positional input (an array, or a CSV without a header) that still holds
    the target column where training had it gets that column left out.

    ``weight``: the column of the rows' weights (the model's data.weight), taken into
    ``table.w`` where the input has it; an input without it is read without (``table.w`` None),
    as a validation or test file without its weight column is scored unweighted."""
    from_arrays, reading = _model_reading(encoding, need_target, delimiter, keep, weight)
    table = read_table(path, stdin=stdin, **reading)
    _check_width(table, encoding, reading["delimiter"])
    if from_arrays and table.lines is not None and table.n > 1 and _is_header_row(table):
        # a CSV's header row (an array has none): the names do not matter
        table = table.take(np.arange(1, table.n))
    return _model_columns(table, encoding, reading["header"], need_target, weight, optional=True)


def read_for_model_chunks(
    path: str,
    encoding: Encoding,
    *,
    need_target: bool,
    stdin=None,
    delimiter: str | None = None,
    keep: tuple[str, ...] = (),
    weight: str | None = None,
    weight_given: str = "",
) -> Iterator[Table]:
    """``read_for_model`` a chunk of rows at a time (``read_table_chunks``): each chunk is read
    as the whole input would be. A CSV's first row may be a header row even in a positional
    input: only the file's first row is looked at (when it is the first chunk's only row, the
    next chunk is read first, to tell a header from a file of one row).

    ``weight``: a column of the input (a name, or a position as the model's features are named)
    that holds the rows' weights: each table has it taken out of its features into ``table.w``,
    as read (``weight_values`` checks it). An input without it is a DataError saying that
    ``weight_given`` named it ('the model's data.weight', '--weight')."""
    from_arrays, reading = _model_reading(encoding, need_target, delimiter, keep, weight)
    chunks = read_table_chunks(path, stdin=stdin, **reading)
    for i, table in enumerate(chunks):
        if i == 0:
            _check_width(table, encoding, reading["delimiter"])
            if from_arrays and table.lines is not None and _is_header_row(table):
                if table.n > 1:
                    table = table.take(np.arange(1, table.n))
                else:  # the header row, if more rows follow
                    following = next(chunks, None)
                    if following is not None:
                        table = following
        yield _model_columns(table, encoding, reading["header"], need_target, weight, weight_given)


def _model_columns(
    table: Table,
    encoding: Encoding,
    header: bool,
    need_target: bool,
    weight: str | None = None,
    weight_given: str = "",
    optional: bool = False,
) -> Table:
    """The model's columns of an input table read by ``_model_reading`` (see read_for_model);
    ``weight``: that column taken into ``table.w`` (see read_for_model_chunks); ``optional``:
    an input without that column is no error, and has no ``table.w``."""

    def weighed(table: Table) -> Table:
        if weight is None or table.w is not None:
            return table
        if optional and weight not in table.features:
            return table
        # (first: a header's target column named as the weight is read as both, a feature too)
        if table.target is not None and weight == str(table.target):
            raise DataError(f"the weight column '{weight}' ({weight_given}) is the target, not a weight")
        if weight not in table.features:
            if weight in encoding.features:
                raise DataError(
                    f"the weight column '{weight}' ({weight_given}) is an input of the model, not a weight"
                )
            columns = table.features
            listed = f"; its columns: {', '.join(columns)}" if len(columns) <= 12 else ""
            raise DataError(
                f"{table.source}: has no column '{weight}' to weigh its rows by ({weight_given})"
                f"{did_you_mean(weight, columns)}{listed}"
            )
        if weight in encoding.features:
            raise DataError(
                f"the weight column '{weight}' ({weight_given}) is an input of the model, not a weight"
            )
        return with_weight(table, weight)

    positional = table.by_position or not header
    d = len(encoding.features)
    t = int(encoding.target) if str(encoding.target).isdigit() else None
    # the training file's columns that are not inputs: data.exclude's and data.weight's
    excluded = [*encoding.excluded, *([encoding.weight] if encoding.weight is not None else [])]
    if positional and excluded:
        # the model takes some of the training file's columns, named by their positions there.
        # An input laid out like that file (with or without its target column) gets those
        # columns picked; without the target, the positions after it are one lower: renumbered.
        # Any other width goes on to align_features: the model's own columns, or an error
        k = len(excluded)
        # the target column is not among this input's columns: none asked for, or an NPZ's y
        lacks_target = t is not None and table.target != str(t)
        if lacks_target and k == 1 and len(table.features) == d + 1:
            raise DataError(
                f"{table.source}: has {d + 1} columns, the training file's without its target or "
                f"without its excluded column {excluded[0]}: which cannot be told apart; "
                f"give all {d + 2} columns, or the model's {d} alone"
            )
        if lacks_target and len(table.features) == d + k:
            names = [str(p + (p >= t)) for p in range(len(table.features))]
            table = replace(table, features=names, named=False)
        if len(table.features) in (d + k, d + k + 1) and set(encoding.features) <= set(table.features):
            table = weighed(table).columns(list(encoding.features))  # (the weight first: a column left out)
        # (an optional weight only where the input is laid out like the training file: in one of
        # the model's columns alone, the weight's position names an input)
        return table if optional else weighed(table)
    if not need_target and positional and len(table.features) == d + 1 and t is not None:
        keep = [j for j in range(d + 1) if j != t]
        names = [str(j) for j in keep]
        table = replace(table, features=names, cells=table.cells_of(keep), y=None, target=None, named=False)
    return weighed(table)


def encode_table(
    encoding: Encoding, table: Table, dtype: str, unknown: str = "error", empty_ok: bool = False
) -> Dataset:
    """A labelled table encoded with a fitted encoding (features matched by name). ``empty_ok``:
    a table left without rows by missing values is no error (a chunk of a larger input)."""
    table = align_features(table, encoding.features)
    X, Y, kept = encoding.encode(table, dtype, unknown, empty_ok)
    return Dataset(X, Y, table, kept)


def encode_scored(
    encoding: Encoding, table: Table, dtype: str, unknown: str = "error", weight: str | None = None
) -> tuple[Dataset, np.ndarray | None]:
    """(``encode_table(..., empty_ok=True)``, the kept rows' weights (n,) float64 or None) for
    scoring a chunk of labelled input. ``weight``: the name of the column in ``table.w``
    (read_for_model_chunks' ``weight``), checked as data.weight's column is at training
    (``weight_values``: numbers, finite, >= 0; a missing weight is an error, or, where the
    model's data.missing drops rows, its row is dropped as a row missing its target is). The
    caller checks that the weights of all chunks are not all 0."""
    if weight is None:
        return encode_table(encoding, table, dtype, unknown, empty_ok=True), None
    table, w = weight_values(
        table,
        weight,
        encoding.missing,
        "a weight column",
        "give each row a weight (the model's data.missing is error)",
    )
    data = encode_table(encoding, table, dtype, unknown, empty_ok=True)
    return data, w if data.kept is None else w[data.kept]


def scored_weights(weights: list[np.ndarray], name: str, source: str) -> np.ndarray:
    """The weights of every chunk (``encode_scored``'s) as one array (n,) float64. Weights that
    are all 0 weigh nothing: a DataError naming the column."""
    w = np.concatenate(weights)
    if not (w > 0).any():
        raise DataError(
            f"{source}: every row's weight (column '{name}') is 0; at least one must be positive "
            "to weigh the scores"
        )
    return w


def load_run_data(
    config,
    stdin=None,
    encoding: Encoding | None = None,
    encoding_rows: int | None = None,
    unknown: str = "error",
) -> RunData:
    """Read, split, check against the network and encode a config's data.

    ``encoding``: a trained model's (a warm start): the data is read and encoded with it, as
    evaluate reads labelled data, instead of an encoding fitted on the training rows; the
    config's data keys that decide an encoding are then not used. A class of the training data
    that is none of the encoding's is a DataError, and so is a category it does not have, unless
    ``unknown`` is 'ignore': such cells are then encoded as all zeros, with a note (as a
    validation or test file's always are). ``encoding_rows``: the number of rows that encoding
    was fitted on, where known (see _far_inputs_note)."""
    try:
        return _load_run_data(config, stdin, encoding=encoding, encoding_rows=encoding_rows, unknown=unknown)
    except TargetColumnError as exc:  # say where the target was named: the file's line, or --set
        given = config.given(("data", "target")) if config.data.target is not None else None
        if given is None:
            raise
        raise TargetColumnError(f"{exc} ({given})") from None


def _load_run_data(
    config,
    stdin=None,
    rows: Table | None = None,
    encoding: Encoding | None = None,
    encoding_rows: int | None = None,
    unknown: str = "error",
) -> RunData:
    """``rows``: the training table already read (``cv_rows``'s, or a fold of it), used in place
    of data.train; the config then names no test set, and data.exclude is applied already.
    ``encoding``, ``encoding_rows``, ``unknown``: see load_run_data."""
    dc = config.data
    sizes = config.network.layers
    if dc.train is None and rows is None:
        raise ConfigError(
            f"{config.path or 'config'}: data.train is required to fit: the training "
            "data file (CSV, NPY, NPZ or Parquet) or '-' for standard input"
        )

    # columns named categorical keep their text as written ('02134'), whichever reader runs
    text_columns = dc.categorical if isinstance(dc.categorical, tuple) else ()

    def read_all(path: str, unused=None) -> Table:
        return read_table(
            path,
            dc.target,
            stdin=stdin,
            delimiter=dc.delimiter,
            header=dc.header,
            text_columns=text_columns,
            unused=unused or unused_by(dc),
        )

    def read(path: str) -> Table:
        if encoding is not None and dc.weight is not None and path == dc.train:
            # a warm start's training file with its data.weight column: read as the config lays
            # it out (by name, or by the positions the model's features are named by), the weight
            # taken out, then the columns the model left out; the model's columns are matched by
            # name when it is encoded
            categorical = tuple(c.name for c in encoding.columns if c.kind == "categorical")
            used = {*encoding.features, str(dc.weight)}
            table = read_table(
                path,
                dc.target,
                stdin=stdin,
                delimiter=dc.delimiter,
                header=dc.header,
                text_columns=categorical,
                unused=(lambda name: name not in used) if dc.header else None,
            )
            table = with_weight(table, dc.weight, given_weight)
            return without_columns(table, [c for c in encoding.excluded if c in table.features])
        if encoding is not None:  # the model's columns, by name (or position), as evaluate reads
            return read_for_model(
                path, encoding, need_target=True, stdin=stdin, delimiter=dc.delimiter, weight=dc.weight
            )
        unused = None
        if path != dc.train and dc.header:
            # a validation or test file (read once the encoding is made): a column that is not
            # one of the model's, the target or the weight is not used, as an extra column of
            # numbers is not, so one of a type nettrain does not read is left unread
            used = {*enc.features, *([str(dc.weight)] if dc.weight is not None else [])}
            unused = lambda name: name not in used  # noqa: E731
        table = read_all(path, unused)
        if not table.named and train_width is not None and len(table.features) != train_width:
            # a validation or test file (header-less, or an array) of the model's columns alone,
            # by position: none of them is data.exclude's or data.weight's
            return table
        table = without_columns(
            table, dc.exclude, strict=path == dc.train, given=config.given(("data", "exclude"))
        )
        if dc.weight is not None and dc.weight in table.features:
            # laid out like the training file: its weight column is not an input; it weighs the
            # file's scores (a validation or test file: see the data sets' loop below)
            table = with_weight(table, dc.weight)
        return table

    #: the training file's feature columns (data.exclude's and data.weight's among them), once read
    train_width: int | None = None

    given_weight = config.given(("data", "weight")) if dc.weight is not None else None

    absent_note: list[str] = []  # (classes of a warm start's model that the training data lacks)
    if rows is not None:
        train = rows
    elif should_stream(dc.train):
        if encoding is not None:
            raise DataError(
                f"{source_name(dc.train)}: too large to hold in memory, where a warm start encodes "
                "the data with the model's encoding (fit streams such a .npy only for a new model)"
            )
        return _streamed_run_data(config, read, stdin)
    elif encoding is not None:
        train = read(dc.train)  # (its data.weight column taken out already)
        # (all its rows: a test fraction is held out next)
        absent_note = _check_known_classes(encoding, train)
    else:
        whole = read_all(dc.train)
        train_width = len(whole.features)
        train, dc = _training_table(config, with_weight(whole, dc.weight, given_weight))
    notes: list[str] = list(absent_note)

    def hold_out(table: Table, fraction: float, stream: int, what: str) -> tuple[Table, Table]:
        """(the rest, a seeded fraction of the rows, stratified by class for classification)."""
        labels = None
        if config.task == "classification" and table.y is not None and table.y.ndim == 1:
            labels = label_text(table.y)
        rng = stream_rng(config.split_seed, stream)
        kept, held = hold_out_rows(table.n, fraction, rng, labels, table.source, what)
        notes.extend(held_out_note(fraction, labels, held, what))
        return table.take(kept), table.take(held)

    held_test = None
    if isinstance(dc.test, float):  # a test fraction: held out first, then validation of the rest
        train, held_test = hold_out(train, dc.test, 4, "test")
    val = None
    if isinstance(dc.validation, str):
        pass  # read below, once the encoding says how (by position after an array)
    elif dc.validation > 0:
        train, val = hold_out(train, dc.validation, 1, "validation")
    # the training rows' sample weights (data.weight), read once the hold-outs are taken (the
    # held-out rows keep theirs in table.w: they weigh the validation and test scores)
    weights, weightless = None, 0
    if dc.weight is not None:
        n_before = train.n
        train, weights = weight_values(train, dc.weight, dc.missing)
        weightless = n_before - train.n
    if encoding is not None:  # (its columns and target were looked at when it was trained)
        enc = encoding
    else:
        enc = fit_encoding(
            train,
            config.task,
            config.cost,
            sizes[-1],
            dc.standardize,
            missing=dc.missing,
            categorical=dc.categorical,
            categorical_given=config.given(("data", "categorical")),
            header=dc.header,
            delimiter=dc.delimiter,
            scale_target=standardizes_target(dc.standardize, config.network.output),
        )
        enc.excluded = list(dc.exclude)
        enc.weight = dc.weight
        enc.check_inputs(sizes[0], train.source)
        notes += _target_notes(config, train, enc)
        for col in enc.columns:  # nearly one category per row: an id, which only memorizes
            if col.kind == "categorical" and col.width >= 20 and col.width >= train.n / 2:
                notes.append(
                    f"column '{col.name}' has {col.width} categories in {train.n} rows: an id? It "
                    f"makes {col.width} inputs; leave it out "
                    + ("of data.features" if config.data.features else f"with data.exclude: [{col.name}]")
                )
    if isinstance(dc.validation, str):
        val = _read_like_training(dc.validation, train, enc, read, stdin, dc.delimiter, dc.weight)
    if held_test is not None:
        test = held_test
    else:
        test = (
            _read_like_training(dc.test, train, enc, read, stdin, dc.delimiter, dc.weight)
            if dc.test
            else None
        )
    dtype = config.dtype
    sets = []
    for name, t in (("training", train), ("validation", val), ("test", test)):
        if t is None:
            sets.append(None)
            continue
        # a validation or test set's weights in its scores (data.weight), as the training rows'
        # in the cost; its rows without a weight are left out as the training rows' are
        scored, unweighed = None, 0
        if name != "training":
            n_before = t.n
            t, scored = _scored_values(name, t, dc, notes)
            unweighed = n_before - t.n
        try:
            ds = encode_table(enc, t, dtype)
        except UnseenCategory as exc:
            if name == "training" and encoding is not None and unknown == "ignore":
                ds = encode_table(enc, t, dtype, unknown="ignore")
                notes.append(_unseen_note(enc, t))
            elif name == "training" and encoding is not None:
                raise DataError(
                    f"{exc.where}: column '{exc.column}' holds '{exc.value}', a category the model "
                    f"never saw (known: {_shown(_categories(enc, exc.column))}); a warm start keeps "
                    "the model's inputs, one per category it was trained with: leave such rows out, "
                    "encode them as all zeros (--unknown ignore), or train a new model (without "
                    "--warm-start)"
                ) from None
            elif name == "training":
                raise
            else:  # a rare category that fell to validation or test only: not a reason to stop
                ds = encode_table(enc, t, dtype, unknown="ignore")
                notes.append(
                    f"{name} data: {exc.where}: column '{exc.column}' holds '{exc.value}' (and maybe "
                    "more categories) training never saw; such cells are encoded as all zeros, as "
                    "predict --unknown ignore does"
                )
        if name == "training" and weights is not None:
            ds.w = normalized_weights(weights[ds.kept], dtype, *_training_set(dc, t.source))
            notes += _weightless_classes_note(enc, ds, dc.weight)
        elif scored is not None:
            ds.w = scoring_weights(scored[ds.kept], *_scored_set(name, dc, t.source))
        unweighed = weightless if name == "training" else unweighed
        notes += _left_out_note(name, t.n + unweighed, t.n - len(ds) + unweighed, unweighed, dc.missing)
        sets.append(ds)
    if encoding is not None:
        notes += _far_inputs_note(enc, sets[0].X, encoding_rows)
    return RunData(enc, sets[0], sets[1], sets[2], notes)


def _left_out_note(name: str, n_read: int, dropped: int, unweighed: int, missing: str) -> list[str]:
    """The note (none if no row was left out) that ``dropped`` of the ``n_read`` rows of fit's
    ``name`` set ('training', 'validation', 'test') were left out for missing values, of which
    ``unweighed`` for a missing weight (data.weight); the same words in memory and streamed."""
    if not dropped:
        return []
    why = "data.missing: drop"
    if missing != "drop":  # (mean: a row without its target, or its weight, is left out)
        unfilled = "target or weight" if unweighed else "target"
        why = f"a missing {unfilled} cannot be filled"
    return [f"{name} data: left out {dropped} of {n_read} rows with missing values ({why})"]


def _weightless_classes_note(enc: Encoding, ds: Dataset, column: str) -> list[str]:
    """A note naming the classes whose every training row weighs 0 (data.weight): the training
    cost never sees them, so the model learns not to predict them."""
    if enc.task != "classification" or not enc.classes:
        return []
    Y = ds.Y.astype(np.float64)
    if Y.shape[1] == 1:  # (one sigmoid output: the class itself, 0 or 1)
        Y = np.column_stack([1 - Y[:, 0], Y[:, 0]])
    if Y.shape[1] != len(enc.classes):
        return []
    rows, weighed = Y.sum(axis=0), ds.w.astype(np.float64) @ Y
    unseen = [f"'{c}' ({int(n)} rows)" for c, n, w in zip(enc.classes, rows, weighed) if n > 0 and w == 0]
    if not unseen:
        return []
    return [
        f"training data: every row of class {', '.join(unseen)} weighs 0 in data.weight ('{column}'): "
        "the training cost leaves the class out, and the model learns not to predict it"
    ]


def _unseen_note(enc: Encoding, table: Table) -> str:
    """The note of a warm start's training data read with ``unknown='ignore'``: each category
    the model never saw, by column, with the number of rows (that have a target) holding it."""
    table = align_features(table, enc.features)
    _, present = enc.target_values(table)
    found = []
    for j, col in enumerate(enc.columns):
        if col.kind != "categorical":
            continue
        text = category_text(table.column(j))[present]
        values, counts = np.unique(text[~is_missing(text)], return_counts=True)
        index = {v: i for i, v in enumerate(col.categories)}
        for value, count in zip(values.tolist(), counts.tolist()):
            if value not in index and _as_number_label(value, index) < 0:
                found.append(f"column '{col.name}' holds '{value}' in {table.counted(count)}")
    shown = "; ".join(found[:5]) + ("; ..." if len(found) > 5 else "")
    what = "a category the model never saw" if len(found) == 1 else "categories the model never saw"
    return f"the training data's {shown}: {what}, encoded as all zeros (--unknown ignore)"


#: Standardized training inputs this far from 0 (standard deviations of the model's training
#: data from its mean) get a note under a warm start.
FAR_INPUTS = 10.0

#: The chance, when nothing drifted, that a warm start's note says a column's new rows lie
#: beyond the model's training range: each numeric input's count is held to DRIFT_P / (2 x the
#: numeric inputs), so over all of them (and both ends) a night without drift gets the note with
#: a probability under DRIFT_P.
DRIFT_P = 1e-3


def _far_inputs_note(enc: Encoding, X: np.ndarray, n_rows: int | None = None) -> list[str]:
    """A note when, under a model's standardization, new training inputs lie far out: a column
    whose mean in the new data has moved that far (drift, or other units), or a column that
    hardly varied in the model's training data (a scale of 0.04) and varies in the new data
    more than the model's data did; either way its rows make large steps at first. Only for
    models that standardized their inputs.

    ``n_rows``: the number of rows the model's statistics were taken over, where known. With it
    and the model's training range (``enc.x_min``, ``enc.x_max``), the second note needs a value
    FAR_INPUTS out and more rows beyond that range than rows drawn like the model's would put
    there but with a chance under DRIFT_P (``_log_p_beyond``): a column nearly constant in the
    model's rows has a few rows beyond its range in most new samples, without any drift. A
    model that lacks them (an older nettrain's) holds a value to sqrt(n - 1) instead, the
    furthest any of n values lies from their mean (population standard deviations), or to
    FAR_INPUTS where that is further."""
    numeric = np.concatenate([np.full(c.width, c.kind == "numeric") for c in enc.columns])
    standardized = bool(np.any(enc.x_mean != 0) or np.any(enc.x_scale != 1))
    if not standardized or not numeric.any() or not len(X):
        return []
    advice = "if training is unsteady, lower the learning rate or set training.clip_norm"
    # a shift: the mean far out and the rows close round it (twice their own spread or more); a
    # column that hardly varied and now varies has a mean far out too, by chance, but wide rows
    mean = np.abs(X.mean(axis=0, dtype=np.float64))
    moved = numeric & (mean >= FAR_INPUTS)
    if moved.any():  # (the spread of those columns alone: no float64 copy of all of X)
        moved[moved] = mean[moved] >= 2 * X[:, moved].std(axis=0, dtype=np.float64)
    shift = np.where(moved, mean, 0.0)
    j = int(np.argmax(shift))
    if moved[j]:  # the bulk of the column has moved, not a few rows
        return [
            f"the training data's '{enc.inputs[j]}' has shifted: its mean lies {shift[j]:.3g} standard "
            f"deviations from the model's mean ({int(moved.sum())} input(s) pass "
            f"{FAR_INPUTS:g}); drift, or other units? Training goes on as if it were the same "
            f"quantity; {advice}"
        ]
    lo, hi = X.min(axis=0), X.max(axis=0)
    far = np.where(numeric, np.maximum(np.abs(lo), np.abs(hi)), 0.0)
    if enc.x_min is not None and enc.x_max is not None and n_rows:
        return _beyond_range_note(enc, X, n_rows, numeric, far, advice)
    # (sqrt(n - 1) with room for the rounding of inputs standardized in float32). A column
    # constant in the model's data has scale 1 (encode.is_constant), not its spread: its
    # 'standard deviations' are its own units, and any value FAR_INPUTS out is one it never held
    bound = math.sqrt(n_rows - 1) * (1 + 1e-4) if n_rows else 0.0
    bounds = np.where(np.asarray(enc.x_scale) == 1.0, 0.0, bound)
    passing = (far >= FAR_INPUTS) & (far > bounds)
    if not passing.any():
        return []
    j = int(np.argmax(np.where(passing, far, 0.0)))
    if bounds[j] > FAR_INPUTS:
        limit = f"{math.sqrt(n_rows - 1):.3g}, the furthest a value of the model's {n_rows} rows can lie"
    else:
        limit = f"{FAR_INPUTS:g}"
    return [
        f"under the model's standardization the training data's '{enc.inputs[j]}' reaches {far[j]:.3g} "
        f"standard deviations from the model's mean ({int(passing.sum())} input(s) pass {limit}): "
        f"the model's data hardly varied there; {advice}"
    ]


def _beyond_range_note(
    enc: Encoding, X: np.ndarray, n_rows: int, numeric: np.ndarray, far: np.ndarray, advice: str
) -> list[str]:
    """The far-values note of a model that records its training range: for the numeric inputs
    whose values reach FAR_INPUTS (``far``: each input's furthest), the rows of X (standardized)
    above the model's greatest or below its least value, a note when there are more than chance
    allows (DRIFT_P over all numeric inputs)."""
    reach = numeric & (far >= FAR_INPUTS)
    if not reach.any():
        return []
    # the range in standardized units, with room for the rounding of inputs standardized in
    # float32 (a new row equal to the model's greatest value is not beyond it)
    ends = [(np.asarray(v) - enc.x_mean) / enc.x_scale for v in (enc.x_min, enc.x_max)]
    ends = [e + sign * 1e-5 * (1 + np.abs(e)) for e, sign in zip(ends, (-1, 1))]
    n = len(X)
    limit = math.log(DRIFT_P / (2 * int(numeric.sum())))
    found = []  # (far, input, rows beyond, the model's range side)
    for j in np.flatnonzero(reach):
        below, above = int((X[:, j] < ends[0][j]).sum()), int((X[:, j] > ends[1][j]).sum())
        k = max(below, above)
        if k and _log_p_beyond(k, n, n_rows) < limit:
            found.append((float(far[j]), int(j), k))
    if not found:
        return []
    far_j, j, k = max(found)
    return [
        f"under the model's standardization the training data's '{enc.inputs[j]}' reaches {far_j:.3g} "
        f"standard deviations from the model's mean, and {k} of its {n} rows lie beyond the range of "
        f"the model's {n_rows} rows, where rows drawn like the model's would put about "
        f"{n / (n_rows + 1):.2g} ({len(found)} input(s) so): drift, other units, or a column the "
        f"model's data hardly varied in? {advice}"
    ]


def _log_p_beyond(k: int, n_new: int, n_model: int) -> float:
    """log of the probability that k or more of n_new rows lie above the greatest of n_model
    rows (or below the least), when all n_model + n_new rows are drawn alike (exchangeable):
    that the k greatest of them all are new rows,

        P(K >= k) = n_new (n_new - 1) ... (n_new - k + 1) / (N (N - 1) ... (N - k + 1)),  N = n_model + n_new.

    Values tied with the model's greatest do not count as above it, so ties only make it
    smaller: a bound that holds for any distribution."""
    total = n_model + n_new
    new = math.lgamma(n_new + 1) - math.lgamma(n_new - k + 1)
    return new - math.lgamma(total + 1) + math.lgamma(total - k + 1)


def _check_known_classes(enc: Encoding, table: Table) -> list[str]:
    """A DataError naming the first row whose class is none of the encoding's (a warm start
    keeps the model's outputs, one per class it was trained with); absent classes are allowed,
    with a note (training on rows without a class teaches the network to predict it less)."""
    if enc.task != "classification":
        return []
    values, present = enc.target_values(table)
    labels, first = np.unique(values[present], return_index=True)
    rows = np.flatnonzero(present)
    unknown = []
    seen: set[int] = set()
    for label, i in zip(labels, first):
        try:
            seen.add(int(enc.class_index(np.array([label]))[0]))
        except DataError:
            unknown.append((int(rows[i]), str(label)))
    if unknown:
        row, label = min(unknown)
        raise DataError(
            f"{table.where(row)}: class '{label}' is not one of the model's classes "
            f"({_shown(enc.classes)}); a warm start keeps the model's outputs, one per class: leave "
            "such rows out, or train a new model (without --warm-start) for new classes"
        )
    absent = [str(c) for k, c in enumerate(enc.classes) if k not in seen]
    if not absent:
        return []
    return [
        f"the training data holds no rows of class(es) {_shown(absent)} (of the model's "
        f"{len(enc.classes)}): training without them makes the model predict them less; add rows "
        "of them (an earlier day's, say) if it should keep them"
    ]


def _categories(enc: Encoding, column: str) -> list[str]:
    return next((c.categories or [] for c in enc.columns if c.name == column), [])


def _shown(names: list[str], most: int = 10) -> str:
    return ", ".join(names[:most]) + (", ..." if len(names) > most else "")


def unused_by(dc):
    """``read_table``'s ``unused`` for fit's data config ``dc``: the columns data.exclude names,
    or those data.features leaves out (data.weight's is used); None when every column is used."""
    if dc.features is not None:
        used = {str(f) for f in dc.features} | ({str(dc.weight)} if dc.weight is not None else set())
        return lambda name: name not in used
    if dc.exclude:
        excluded = {str(c) for c in dc.exclude}
        return lambda name: name in excluded
    return None


def _training_table(config, train: Table) -> tuple[Table, object]:
    """data.train's table without the columns data.exclude or data.features leave out, and the
    data config with data.features turned into that exclude list."""
    dc = config.data
    if dc.features is not None:
        # data.features is the exclude list of the file's other columns: from here on (the
        # validation and test files, the model's encoding.excluded, predict's positional inputs)
        # it works as that exclude list would
        exclude = excluded_by_features(
            dc.features, train.features, train.target, train.source, config.given(("data", "features"))
        )
        dc = replace(dc, exclude=(*exclude, *train.unread))  # (the columns left unread: left out too)
    return without_columns(train, dc.exclude, given=config.given(("data", "exclude"))), dc


def cv_rows(config, stdin=None) -> tuple[Table, object, list[str]]:
    """The rows ``nettrain cv`` splits into folds: data.train read once as fit reads it
    (data.exclude / data.features applied), less a data.test fraction, held out exactly as fit
    holds it out (same seed stream, stratified), so that the test rows stay unseen. Returns the
    table, the data config to load each fold with (data.features as an exclude list, no test set)
    and notes. A data.test file is not read. A .npy large enough to be streamed is refused: the
    folds are taken in memory.

    Raises ConfigError (no data.train), DataError (unreadable data, a streamed .npy)."""
    dc = config.data
    if dc.train is None:
        raise ConfigError(
            f"{config.path or 'config'}: data.train is required to cross-validate: the data file "
            "(CSV, NPY, NPZ or Parquet) or '-' for standard input"
        )
    if should_stream(dc.train):
        raise DataError(
            f"{source_name(dc.train)}: too large to hold in memory, where cross-validation takes its "
            "folds (fit streams it in chunks); cross-validate on a sample of its rows"
        )
    text_columns = dc.categorical if isinstance(dc.categorical, tuple) else ()
    try:
        table = read_table(
            dc.train,
            dc.target,
            stdin=stdin,
            delimiter=dc.delimiter,
            header=dc.header,
            text_columns=text_columns,
            unused=unused_by(dc),
        )
    except TargetColumnError as exc:  # say where the target was named, as load_run_data does
        given = config.given(("data", "target")) if dc.target is not None else None
        if given is None:
            raise
        raise TargetColumnError(f"{exc} ({given})") from None
    given_weight = config.given(("data", "weight")) if dc.weight is not None else None
    table, dc = _training_table(config, with_weight(table, dc.weight, given_weight))
    notes: list[str] = []
    if isinstance(dc.test, float):
        labels = None
        if config.task == "classification" and table.y is not None and table.y.ndim == 1:
            labels = label_text(table.y)
        rng = stream_rng(config.split_seed, 4)
        kept, held = hold_out_rows(table.n, dc.test, rng, labels, table.source, "test")
        notes.append(
            f"the data.test fraction {dc.test:g} ({len(held)} rows) is held out as fit holds it out "
            f"and not used: the folds are taken from the other {len(kept)} rows"
        )
        table = table.take(kept)
    elif dc.test is not None:
        notes.append(
            f"data.test ({source_name(dc.test)}) is not read: each fold's held-out rows are its test"
        )
    return table, replace(dc, test=None), notes


def shared_validation_rows(dc, table: Table) -> int | None:
    """How many rows of the data.validation file ``dc`` names are also rows of ``table`` (cv_rows'
    table; ``dc`` its data config): the same features, column by column as named, and the same
    target. None when that cannot be told without harm: no validation file, or one that is not a
    regular file (a pipe is read once, by the folds), unreadable, or of other columns (the folds
    report those)."""
    import os

    path = dc.validation
    if not isinstance(path, str) or not os.path.isfile(path):
        return None
    text_columns = dc.categorical if isinstance(dc.categorical, tuple) else ()
    try:
        val = read_table(
            path,
            dc.target,
            delimiter=dc.delimiter,
            header=dc.header,
            text_columns=text_columns,
            unused=unused_by(dc),
        )
        val = without_columns(val, dc.exclude, strict=False)
    except (DataError, OSError):
        return None
    if val.is_text != table.is_text or sorted(val.features) != sorted(table.features):
        return None
    if val.y is None or table.y is None:
        return None
    order = [val.features.index(name) for name in table.features]

    def keys(t: Table, columns: list[int]) -> list[tuple]:
        cells = [t.column(j).tolist() for j in columns]
        target = t.y.reshape(t.n, -1).tolist()
        return [(*row, *y) for row, y in zip(zip(*cells) if cells else [()] * t.n, target)]

    seen = set(keys(table, list(range(len(table.features)))))
    return sum(key in seen for key in keys(val, order))


def fold_run_data(config, rows: Table) -> RunData:
    """The data of one fold: ``rows`` (a fold's training rows of ``cv_rows``'s table) split into
    training and validation as fit splits data.train, and encoded with an encoding (scaling,
    categories, classes) fitted on its training rows only. ``config.data`` is ``cv_rows``'s."""
    return _load_run_data(config, rows=rows)


def _target_notes(config, train: Table, enc: Encoding) -> list[str]:
    """What the training target suggests is meant otherwise: a 0/1 target under mse, a target
    the output activation cannot reach, a numeric target of many values taken as classes."""
    from ..activations import ACTIVATIONS

    values, present = enc.target_values(train)
    values = values[present]
    name = f"the target '{train.target}'"
    if len(values) == 0:
        return []
    if config.task == "classification":
        classes = np.unique(values)
        if _looks_like_a_quantity(classes, len(values)):
            return [
                f"{name} has {len(classes)} distinct numbers in {len(values)} rows, each one a class "
                f"under cost: {config.cost}; if it is a quantity to predict, set cost: mse"
            ]
        return []
    if values.ndim == 1 and train.n >= 10 and len(unique := np.unique(values)) == 2:
        shown = ", ".join(str(v) for v in label_text(unique))
        return [
            f"{name} has only 2 values ({shown}): if they are classes, set cost: "
            "binary_cross_entropy (one output) or cross_entropy (two); mse fits them as numbers"
        ]
    output = ACTIVATIONS.get(config.network.output)
    lo, hi = output.bounds if output is not None else (-np.inf, np.inf)
    if values.min() < lo or values.max() > hi:
        return [
            f"{name} runs from {values.min():g} to {values.max():g}, but a {config.network.output} "
            f"output reaches only [{lo:g}, {hi:g}]: set network.output: identity (or rescale the "
            "target into that range)"
        ]
    return []


def _looks_like_a_quantity(classes: np.ndarray, n: int) -> bool:
    """Class labels that are many distinct numbers (over 20, over a tenth of the n rows): a
    quantity to predict, taken as classes."""
    if len(classes) <= 20 or len(classes) <= n / 10:
        return False
    return classes.dtype.kind in "fiu" or all(_is_number(v) for v in classes[:1000].tolist())


def _read_like_training(
    path: str, train: Table | None, enc: Encoding, read, stdin, delimiter, weight: str | None = None
) -> Table:
    """A validation or test file: as the training file was read, except after an array (NPY,
    NPZ, a Parquet file read without its names), whose columns are positions: then by position,
    as predict reads inputs. ``weight``: data.weight's column, taken into ``table.w`` where the
    file has it."""
    if train is None or train.by_position:
        return read_for_model(path, enc, need_target=True, stdin=stdin, delimiter=delimiter, weight=weight)
    return read(path)


def _streamed_run_data(config, read, stdin=None) -> RunData:
    """The data of a run whose training file is a large .npy, streamed in chunks (stream.py)."""
    dc = config.data
    if isinstance(dc.test, float):
        raise DataError(
            f"{source_name(dc.train)}: a test fraction is not held out of a streamed .npy; give "
            "data.test a file"
        )
    train, val_table, enc = stream_npy(config, stream_rng(config.split_seed, 1))
    notes = [
        f"streaming {train.shape[0]:,} rows of {source_name(dc.train)} in chunks of "
        f"{train.chunk_rows:,} rows (shuffled within chunks)"
    ]
    # the rows left out for missing values, as in memory: the training rows' (the file's rows
    # that are not validation rows), then each other set's
    n_training = train.shape[0] - int(train.is_val.sum())
    notes += _left_out_note("training", n_training, n_training - len(train), train.unweighed, dc.missing)

    def encoded(name: str, table: Table) -> Dataset:
        """A validation or test table encoded, weighted by its data.weight column as in memory."""
        n_read = table.n
        table, w = _scored_values(name, table, dc, notes)
        ds = encode_table(enc, table, config.dtype)
        if w is not None:
            ds.w = scoring_weights(w[ds.kept], *_scored_set(name, dc, table.source))
        unweighed = n_read - table.n
        notes.extend(_left_out_note(name, n_read, n_read - len(ds), unweighed, dc.missing))
        return ds

    if isinstance(dc.validation, str):
        val_table = _read_like_training(dc.validation, None, enc, read, stdin, dc.delimiter, dc.weight)
    val = encoded("validation", val_table) if val_table is not None else None
    test = None
    if dc.test:
        test = encoded("test", _read_like_training(dc.test, None, enc, read, stdin, dc.delimiter, dc.weight))
    return RunData(enc, train, val, test, notes)
