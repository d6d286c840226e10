"""The encoding: how a Table becomes network inputs and targets, and outputs become answers.

It is fitted on the training rows and stored in the model file, so predict treats new data
exactly as training did:

- each feature column is numeric or categorical. ``categorical: auto`` makes a text column
  categorical when fewer than half of its present values are numbers; a mostly numeric column
  with a stray word is an error naming the line, column and value, never a silent category.
  A categorical column becomes one 0/1 input per category seen in training ("one-hot");
- missing values (empty, NA, NaN, ?, null) follow ``missing``: ``error`` (the default) names the
  first line and column and counts the rows affected; ``drop`` leaves those rows out (predict
  gives them an empty answer); ``mean`` fills a numeric column with its training mean and a
  categorical one with its most frequent category. A missing target always drops the row
  (``drop``, ``mean``) or is an error (``error``);
- numeric inputs are standardized with training statistics (one-hot inputs stay 0/1);
- class labels are kept as text exactly as written ("3", "cat"); the network sees one-hot rows
  (cross_entropy) or a 0/1 column (binary_cross_entropy); regression targets are standardized
  too and predictions scaled back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..activations import sigmoid
from ..costs import softmax
from ..errors import ConfigError, DataError
from .read import Table, is_missing, not_a_feature_column

MISSING_POLICIES = ("error", "drop", "mean")
UNKNOWN_POLICIES = ("error", "ignore")


@dataclass
class Column:
    """One feature column: ``numeric`` or ``categorical`` (with its categories), and the value
    that fills a missing cell under ``missing: mean``."""

    name: str
    kind: str = "numeric"
    categories: list[str] | None = None
    fill: float | str | None = None

    @property
    def width(self) -> int:
        return len(self.categories) if self.kind == "categorical" else 1

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "categories": self.categories, "fill": self.fill}

    @classmethod
    def from_dict(cls, d: dict) -> Column:
        return cls(d["name"], d.get("kind", "numeric"), d.get("categories"), d.get("fill"))


def _sort_labels(labels) -> list[str]:
    unique = sorted(set(labels))
    try:
        return sorted(unique, key=float)
    except ValueError:
        return unique


def label_text(values: np.ndarray) -> np.ndarray:
    """Labels from an array as text: integral numbers without '.0' (3.0 -> '3'), NaN as 'nan'."""
    if values.dtype.kind in "US":
        return np.char.strip(values.astype(str))
    if values.dtype.kind in "iub":
        return values.astype(np.int64).astype(str)
    # each value's own shortest text: a float32 0.1 is '0.1', not float64's 0.10000000149011612
    return np.array([str(int(v)) if np.isfinite(v) and v == int(v) else str(v) for v in values], dtype=str)


def _as_float(text) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def category_text(cells: np.ndarray) -> np.ndarray:
    """A categorical column's cells as text: stripped text, or numbers written as labels."""
    return np.char.strip(cells) if cells.dtype.kind in "US" else label_text(cells)


def _positions(values: np.ndarray, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(each text value's index in ``words`` (n,) int64, whether it is there (n,) bool; 0 where
    not): one searchsorted among the sorted words, not a dict look-up per value."""
    words = np.asarray(words, dtype=str)
    if not len(words) or values.dtype.kind != "U":
        return np.zeros(len(values), dtype=np.int64), np.zeros(len(values), dtype=bool)
    order = np.argsort(words)
    at = np.minimum(np.searchsorted(words[order], values), len(words) - 1)  # (the word there, if any)
    return order[at].astype(np.int64), words[order][at] == values


def _as_number_label(text: str, index: dict) -> int:
    """The category of a cell not found as written: models made before categories kept their
    text stored number-like ones as numbers ('02134' as '2134'), and before categorical columns
    kept their decimal commas, '1,5' as '1.5'; -1 when that fails too."""
    if "," in text and text.replace(",", ".") in index:
        return index[text.replace(",", ".")]
    try:
        value = float(text)
    except ValueError:
        return -1
    return index.get(str(label_text(np.array([value]))[0]), -1)


class UnseenCategory(DataError):
    """A categorical cell holds a category the training data did not have."""

    def __init__(self, message: str, *, where: str, column: str, value: str):
        super().__init__(message)
        self.where, self.column, self.value = where, column, value


@dataclass
class Encoding:
    """How raw data becomes network input and output and back (see the module doc).

    x_mean, x_scale : (inputs,) standardization of the network's inputs, x' = (x - mean) / scale
        (0 and 1 for one-hot inputs).
    y_mean, y_scale : (outputs,) regression target standardization (0 and 1 when off).
    x_min, x_max : (inputs,) the least and greatest unscaled input of the training rows the
        statistics were taken over (after fills), for a warm start's drift note; None in models
        from before they were recorded, and for arrays given to fit.
    classes : the class labels as text, in the order of the network's outputs.
    columns : one Column per feature (None: all numeric, as in models from before categoricals).
    header : whether the training CSV had a header row (data.header).
    positional : the training data was an array (NPY, NPZ, arrays), so inputs are matched by
        column position, not by name; None in models from before it was recorded (inferred).
    delimiter : data.delimiter as the config gave it (None: sniffed), for reading inputs alike.
    label_numbers : the class labels were numbers (an array's y): ``decode`` gives numbers back
        (integers when every label is whole), not their text.
    excluded : the columns data.exclude left out, so that inputs laid out like the training file
        are read by its positions.
    weight : the column data.weight named (the rows' sample weights), which is not an input
        either: inputs laid out like the training file leave it out as they do ``excluded``.
    """

    task: str
    cost: str
    features: list[str]
    target: str | None
    n_outputs: int
    x_mean: np.ndarray
    x_scale: np.ndarray
    y_mean: np.ndarray | None = None
    y_scale: np.ndarray | None = None
    classes: list[str] | None = None
    columns: list[Column] | None = None
    missing: str = "error"
    header: bool = True
    positional: bool | None = None
    delimiter: str | None = None
    label_numbers: bool = False
    excluded: list[str] = field(default_factory=list)
    weight: str | None = None
    x_min: np.ndarray | None = None
    x_max: np.ndarray | None = None

    def __post_init__(self):
        if self.columns is None:
            self.columns = [Column(f) for f in self.features]

    # -- inputs -----------------------------------------------------------------------------------

    @property
    def inputs(self) -> list[str]:
        """The network's input names: a numeric column's name, or 'column=category' per one-hot."""
        out: list[str] = []
        for c in self.columns:
            out += [f"{c.name}={v}" for v in c.categories] if c.kind == "categorical" else [c.name]
        return out

    def check_inputs(self, n_inputs: int, source: str = "") -> None:
        """A DataError saying what to set when the network takes ``n_inputs`` (network.layers[0])
        and this encoding makes another number (one-hot columns named). 0 (network.layers'
        'auto') takes whatever the data has."""
        if n_inputs in (0, self.n_inputs):
            return
        onehot = [c for c in self.columns if c.kind == "categorical"]
        detail = ""
        if onehot:
            detail = (
                " after one-hot encoding "
                + ", ".join(f"'{c.name}' ({c.width} categories)" for c in onehot[:3])
                + (", ..." if len(onehot) > 3 else "")
            )
            wide = max(onehot, key=lambda c: c.width)
            if wide.width >= 50:
                detail += f" (if '{wide.name}' is an id, leave it out: data.exclude: [{wide.name}])"
        raise DataError(
            f"{source + ': ' if source else ''}the data has {self.n_inputs} inputs{detail} but "
            f"network.layers starts with {n_inputs}; set it to {self.n_inputs} (or auto: the data's)"
        )

    def inputs_numeric(self) -> list[str]:
        """The names of the numeric inputs, in order."""
        return [c.name for c in self.columns if c.kind == "numeric"]

    @property
    def n_inputs(self) -> int:
        return sum(c.width for c in self.columns)

    def raw_inputs(self, table: Table, unknown: str = "error") -> tuple[np.ndarray, np.ndarray]:
        """(unscaled inputs (n, inputs) float64, rows kept (n,) bool) for a Table whose features
        are this encoding's, in order. Rows are dropped only under ``missing: drop``."""
        if unknown not in UNKNOWN_POLICIES:
            raise ConfigError(f"unknown='{unknown}' is not one of: {', '.join(UNKNOWN_POLICIES)}")
        n = table.n
        if not table.is_text and all(c.kind == "numeric" for c in self.columns):
            # numbers already (NPY, NPZ, a clean CSV): no copy unless something is missing
            cells = np.asarray(table.cells, dtype=np.float64)
            missing = np.isnan(cells)
            if not missing.any():
                return cells, np.ones(n, dtype=bool)
        X = np.zeros((n, self.n_inputs), dtype=np.float64)
        keep = np.ones(n, dtype=bool)
        first_missing: tuple[int, str] | None = None
        k = 0
        for j, col in enumerate(self.columns):
            if col.kind == "numeric":
                if table.is_text:
                    values, missing = table.numbers(j, col.name)
                else:
                    cells = table.column(j)
                    values, missing = cells.astype(np.float64), np.isnan(cells)
                if missing.any():
                    if self.missing == "mean":
                        values = np.where(missing, col.fill, values)
                    else:
                        keep &= ~missing
                        values = np.where(missing, 0.0, values)
                        if first_missing is None or np.argmax(missing) < first_missing[0]:
                            first_missing = (int(np.argmax(missing)), col.name)
                X[:, k] = values
            else:
                text = category_text(table.column(j))
                missing = is_missing(text)
                if missing.any():
                    if self.missing == "mean":
                        text = np.where(missing, col.fill, text)
                        missing = np.zeros(n, dtype=bool)
                    else:
                        keep &= ~missing
                        if first_missing is None or np.argmax(missing) < first_missing[0]:
                            first_missing = (int(np.argmax(missing)), col.name)
                codes, found = _positions(text, col.categories)
                if not found.all():  # (missing cells, unseen ones, numbers written otherwise)
                    index = {v: i for i, v in enumerate(col.categories)}
                    for i in np.flatnonzero(~found):
                        codes[i] = _as_number_label(str(text[i]), index)
                unseen = (codes < 0) & ~missing
                if unseen.any() and unknown == "error":
                    i = int(np.argmax(unseen))
                    shown = ", ".join(col.categories[:10]) + (", ..." if len(col.categories) > 10 else "")
                    raise UnseenCategory(
                        f"{table.where(i)}: column '{col.name}' holds '{text[i]}', a category "
                        f"training never saw (known: {shown}); predict --unknown ignore encodes "
                        "unseen categories as all zeros",
                        where=table.where(i),
                        column=col.name,
                        value=str(text[i]),
                    )
                rows = np.flatnonzero(codes >= 0)
                X[rows, k + codes[rows]] = 1.0
            k += col.width
        if first_missing is not None and self.missing == "error":
            i, name = first_missing
            rows_affected = int((~keep).sum())
            raise DataError(
                f"{table.where(i)}: column '{name}' is missing a value; {table.counted(rows_affected)} "
                "have missing values. Remove or fill them, or set data.missing: drop or mean"
            )
        return X, keep

    def raw_inputs_with_target(
        self, table: Table, present: np.ndarray, unknown: str = "error"
    ) -> tuple[np.ndarray, np.ndarray]:
        """``raw_inputs`` of the rows that have a target (``present``): the others are not read
        (left out under drop and mean, the error under error), so a category only such a row
        holds is no error (it is never trained on, nor scored). (n, inputs) and (n,) bool over
        all the table's rows."""
        if present.all():
            return self.raw_inputs(table, unknown)
        read = np.flatnonzero(present)
        part, kept = self.raw_inputs(table.take(read), unknown)
        raw = np.zeros((table.n, self.n_inputs), dtype=np.float64)
        raw[read] = part
        keep = np.zeros(table.n, dtype=bool)
        keep[read] = kept
        return raw, keep

    def scale(self, X: np.ndarray, dtype="float32", where=None) -> np.ndarray:
        """Standardized inputs (X - x_mean) / x_scale in ``dtype``. A value whose standardized
        form is beyond ``dtype`` (1e300 for float32) is a DataError naming ``where(row)``
        (default 'row i'), not a warning and an inf. The check reads each column's extremes:
        no full-size temporary."""
        limit = np.finfo(dtype).max
        with np.errstate(over="ignore", invalid="ignore"):
            ends = (np.stack([X.min(axis=0), X.max(axis=0)]) - self.x_mean) / self.x_scale if len(X) else X
            ok = np.abs(ends) <= limit
        if not ok.all():
            j = int(np.argmax(~ok.all(axis=0)))
            with np.errstate(over="ignore", invalid="ignore"):
                i = int(np.argmax(~(np.abs((X[:, j] - self.x_mean[j]) / self.x_scale[j]) <= limit)))
            what = (
                "is missing (NaN); every value is needed"
                if np.isnan(X[i, j])
                else f"holds {X[i, j]:g}, too large for the model ({np.dtype(dtype)})"
            )
            raise DataError(f"{where(i) if where else f'row {i}'}: column '{self.inputs[j]}' {what}")
        out = np.empty(X.shape, dtype=dtype)
        rows = max(1, _BLOCK_BYTES // max(1, 8 * X.shape[1]))
        for i in range(0, len(X), rows):  # float64 temporaries of one block of rows at a time
            out[i : i + rows] = (X[i : i + rows] - self.x_mean) / self.x_scale
        return out

    def transform(self, X, dtype="float32", unknown: str = "error") -> np.ndarray:
        """Network inputs (n, inputs) in ``dtype`` from raw features: a Table with this encoding's
        features, or a numeric matrix (n, features) when every column is numeric. Rows with
        missing values must not occur here (see ``encode``)."""
        if isinstance(X, Table):
            raw, keep = self.raw_inputs(X, unknown)
            if not keep.all():
                i = int(np.argmax(~keep))
                raise DataError(f"{X.where(i)}: a row with missing values cannot be encoded")
            return self.scale(raw, dtype, X.where)
        text = [c.name for c in self.columns if c.kind != "numeric"]
        if text:  # (before converting: 'basic' would only say it is not a number)
            raise DataError(
                f"this model has categorical columns ({', '.join(text[:3])}): give the rows as a "
                "Table, e.g. nettrain.read_table('rows.csv', need_target=False), not a matrix"
            )
        try:
            X = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise DataError(f"the inputs must be a matrix of numbers ({exc})") from None
        d = len(self.columns)
        if X.ndim != 2 or X.shape[1] != d:
            raise DataError(f"the inputs must be a matrix of {d} columns (rows, {d}), not shape {X.shape}")
        if self.missing == "mean" and np.isnan(X).any():
            fills = np.array([c.fill for c in self.columns], dtype=np.float64)
            X = np.where(np.isnan(X), fills, X)
        bad = ~np.isfinite(X)
        if bad.any():
            i, j = (int(v) for v in np.argwhere(bad)[0])
            what = "is missing (NaN)" if np.isnan(X[i, j]) else "is infinite"
            raise DataError(
                f"row {i}: column '{self.columns[j].name}' {what}; a prediction needs every value"
            )
        return self.scale(X, dtype)

    # -- targets ----------------------------------------------------------------------------------

    def class_index(self, labels: np.ndarray, table: Table | None = None) -> np.ndarray:
        """Label text (n,) -> class index (n,). A label training never saw is a DataError (the
        first such row's)."""
        labels = np.asarray(labels)
        out, found = _positions(labels, self.classes or [])
        for i in np.flatnonzero(~found):  # (in row order: the first unknown label is the error)
            label = labels[i]
            k = None
            if self.label_numbers:  # number labels written otherwise: '1.5e+00'
                k = self._number_index().get(_as_float(label))
            if k is None:
                where = table.where(i) if table is not None else f"row {i}"
                raise DataError(
                    f"{where}: label '{label}' was not seen in the training data "
                    f"(classes: {', '.join(self.classes or [])})"
                )
            out[i] = k
        return out

    def _number_index(self) -> dict[float, int]:
        return {float(c): i for i, c in enumerate(self.classes or [])}

    def target_values(self, table: Table) -> tuple[np.ndarray, np.ndarray]:
        """(target as read: labels as text, or values as float64; rows with a target (n,) bool)."""
        y = table.y
        if y is None:
            raise DataError(f"{table.source}: has no target column")
        if self.task == "classification":
            if y.ndim != 1:
                raise DataError(
                    f"{table.source}: for classification the target must be one column of "
                    f"labels, found shape {y.shape}"
                )
            text = label_text(y)
            present = ~is_missing(text) if text.dtype.kind in "US" else np.ones(len(text), bool)
            return text, present
        if y.dtype.kind in "US":
            try:
                values, missing = table.numbers(None, table.target or "target")
            except DataError as exc:
                if not str(exc).endswith("which is not a number"):
                    raise
                # a text label under the default cost (mse): the task is the cost's, not the data's
                raise DataError(
                    f"{exc}; the cost ({self.cost}) makes this a regression, whose target is "
                    "numbers: for classes, train with cost: cross_entropy (or binary_cross_entropy)"
                ) from None
        else:
            values = y.astype(np.float64)
            missing = np.isnan(values).reshape(len(values), -1).any(axis=1)
        return values, ~missing

    def encode_y(self, table: Table, dtype="float32", keep: np.ndarray | None = None) -> np.ndarray:
        """Targets as the cost wants them, (rows kept, outputs)."""
        values, present = self.target_values(table)
        if keep is None:
            keep = present
        if (keep & ~present).any():
            i = int(np.argmax(keep & ~present))
            raise DataError(f"{table.where(i)}: the target '{table.target}' is missing")
        values = values[keep]
        rows = np.flatnonzero(keep)
        if self.task == "regression":
            where = lambda i: f"{table.where(int(rows[i]))}: the target '{table.target}'"  # noqa: E731
            return self.scale_y(values, dtype, where)
        idx = self.class_index(values, _Rows(table, rows))
        if self.n_outputs == 1:  # binary cross-entropy with one sigmoid unit: y = 1 for classes[1]
            return idx.reshape(-1, 1).astype(dtype)
        Y = np.zeros((len(idx), self.n_outputs), dtype=dtype)
        Y[np.arange(len(idx)), idx] = 1
        return Y

    def scale_y(self, values: np.ndarray, dtype="float32", where=None) -> np.ndarray:
        """Regression targets (n,) or (n, outputs) standardized, (n, outputs) in ``dtype``. A
        value beyond the dtype (1e300 in float32) is a DataError naming ``where(row)``."""
        y2 = values.reshape(len(values), len(self.y_mean))  # (also with no rows)
        with np.errstate(over="ignore", invalid="ignore"):
            Y = (y2 - self.y_mean) / self.y_scale
            bad = ~(np.abs(Y) <= np.finfo(dtype).max)
        if bad.any():
            i = int(np.argwhere(bad)[0][0])
            name = where(i) if where else f"row {i}: the target"
            raise DataError(f"{name} holds {y2[i][bad[i]][0]:g}, too large for the model ({np.dtype(dtype)})")
        return Y.astype(dtype)

    def encode(self, table: Table, dtype="float32", unknown: str = "error", empty_ok: bool = False):
        """(inputs, targets, rows kept) of a labelled table: the rows kept have every feature
        (or a fill) and a target. No row left is an error, unless ``empty_ok``."""
        _, present = self.target_values(table)
        raw, keep = self.raw_inputs_with_target(table, present, unknown)
        if not present.all():
            if self.missing == "error":
                i = int(np.argmax(~present))
                raise DataError(
                    f"{table.where(i)}: the target '{table.target}' is missing; "
                    f"{table.counted(int((~present).sum()))} have no target. Remove them, or set "
                    "data.missing: drop"
                )
            keep &= present
        if not keep.any() and not empty_ok:
            raise DataError(f"{table.source}: no row is left once rows with missing values are dropped")
        rows = np.flatnonzero(keep)
        X = self.scale(_rows(raw, keep), dtype, lambda i: table.where(int(rows[i])))
        return X, self.encode_y(table, dtype, keep), keep

    # -- outputs ----------------------------------------------------------------------------------

    def decode(self, s: np.ndarray) -> np.ndarray:
        """Network outputs (n, outputs) -> predictions: labels (n,) as text, or values in the
        target's original units ((n,) for one output, else (n, outputs))."""
        if self.task == "regression":
            values = s * self.y_scale + self.y_mean
            return values[:, 0] if values.shape[1] == 1 else values
        return self.labels()[self.predicted_index(s)]

    def labels(self) -> np.ndarray:
        """The class labels (classes,) as ``decode`` gives them: text, or numbers where the
        training labels were numbers (``label_numbers``: integers when every label is whole)."""
        labels = np.asarray(self.classes, dtype=object)
        if self.label_numbers:  # as the array held them: 0, 1, 2 (or 0.5, 1.5), not '0', '1'
            numbers = np.array([float(c) for c in self.classes])
            whole = np.all(numbers == np.round(numbers)) and np.abs(numbers).max() < 2**53
            labels = numbers.astype(np.int64) if whole else numbers
        return labels

    def predicted_index(self, s: np.ndarray) -> np.ndarray:
        """The predicted class of each row (n,): the largest output, or with one sigmoid unit
        s >= 0.5 (a tie at exactly 0.5 is the second class, in predict and evaluate alike)."""
        if self.n_outputs == 1:
            return (s[:, 0] >= 0.5).astype(np.int64)
        return s.argmax(axis=1)

    def probabilities(self, s: np.ndarray, z: np.ndarray | None = None) -> np.ndarray:
        """Class probabilities (n, classes) from the outputs s, and the logits z (s = f_out(z))
        where given. With one sigmoid unit: [1 - s, s], the first taken as sigmoid(-z) from z:
        1 - s is 0 once s rounds to 1 (z > 17 in float32), where sigmoid(-z) is 4e-8 or less
        (and log loss counted 87, the clip of a 0, for a sure miss of z = 20). One-vs-rest
        sigmoids (binary_cross_entropy, several outputs) are normalised to sum to 1."""
        if self.n_outputs == 1:
            first = 1 - s[:, 0] if z is None else sigmoid(-z[:, 0])
            return np.column_stack([first, s[:, 0]])
        if self.cost == "binary_cross_entropy":  # one-vs-rest sigmoids: normalise to sum to 1
            if z is not None:  # as softmax(log sigmoid(z)), log sigmoid(z) = -log(1 + exp(-z)): a
                # row of sigmoids that all underflow (z < -28: a sum below 1e-12) still sums to 1
                return softmax(-np.logaddexp(0, -z))
            return s / np.maximum(s.sum(axis=1, keepdims=True), 1e-12)
        return s

    def to_dict(self) -> dict:
        return {
            "task": self.task,
            "cost": self.cost,
            "features": self.features,
            "target": self.target,
            "n_outputs": self.n_outputs,
            "classes": self.classes,
            "columns": [c.to_dict() for c in self.columns],
            "missing": self.missing,
            "header": self.header,
            "positional": self.positional,
            "delimiter": self.delimiter,
            "label_numbers": self.label_numbers,
            "excluded": list(self.excluded),
            "weight": self.weight,
        }


class _Rows:
    """Names the file line of row i of a subset of a table's rows, for messages."""

    def __init__(self, table: Table, rows: np.ndarray):
        self.table, self.rows = table, rows

    def where(self, i: int) -> str:
        return self.table.where(int(self.rows[i]))


def standardizes_target(standardize: bool | str, output: str) -> bool:
    """Whether a regression target is standardized: with data.standardize true (not false, nor
    inputs, which scales the inputs only), for a linear output only. A bounded output (mse's
    other choice, sigmoid, reaches (0, 1)) was chosen for a target in its range, and the
    z-scores of such a target leave it (the sigmoid then predicted only between the mean and
    the mean + 1 sd)."""
    return standardize is True and output == "identity"


#: Standardizing goes through float64 temporaries of about this many bytes at a time, not of
#: the whole data set.
_BLOCK_BYTES = 16 * 1024 * 1024


def _rows(a: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``a[keep]``, without a copy when every row is kept."""
    return a if keep.all() else a[keep]


def is_constant(mean: np.ndarray, std: np.ndarray, n: int) -> np.ndarray:
    """Which columns are constant up to the rounding of their statistics: std^2 <= n eps std^2 +
    (n eps mean)^2, Chan, Golub and LeVeque's bound on the rounding error of the computed variance
    (eps: float64's), as scikit-learn's StandardScaler decides it. A column of n copies of 0.3
    has a float64 mean a bit off 0.3 and so a std of 5.6e-17, not 0: dividing by that, 0.31 at
    predict time became 1.8e14."""
    eps = np.finfo(np.float64).eps
    with np.errstate(over="ignore", invalid="ignore"):  # (a mean past 1e150: not constant)
        var = std * std
        return var <= n * eps * var + (n * eps * mean) ** 2


def _mean_std(values: np.ndarray, table: Table, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations for standardization; a constant column (``is_constant``)
    gets scale 1 (it stays constant instead of dividing by 0, or by the rounding error of its
    mean). Values so large that their squares overflow (|x| > about 1e154) cannot be
    standardized: a DataError names the column."""
    # A few columns at a time, each block copied column by column (Fortran order), so that
    # every column is summed as one contiguous run (NumPy's pairwise summation): the figures of
    # earlier versions, which took them from such a copy of the whole matrix, bit for bit (a
    # checkpoint compares them on resume), with temporaries of one block.
    cols = max(1, _BLOCK_BYTES // max(1, 8 * len(values)))
    means, stds = [], []
    with np.errstate(over="ignore", invalid="ignore"):
        for j in range(0, values.shape[1], cols):
            block = np.asfortranarray(values[:, j : j + cols])
            means.append(block.mean(axis=0))
            stds.append(block.std(axis=0))
    mean = np.concatenate(means) if means else np.zeros(0)
    std = np.concatenate(stds) if stds else np.zeros(0)
    bad = ~(np.isfinite(mean) & np.isfinite(std))
    if bad.any():
        j = int(np.argmax(bad))
        raise DataError(
            f"{table.source}: column '{names[j]}' holds values too large to standardize "
            f"(up to {np.abs(values[:, j]).max():.3g}); rescale it, or set data.standardize: false"
        )
    std[is_constant(mean, std, len(values))] = 1.0
    return mean, std


def _column_kind(cells: np.ndarray | None, name: str, table: Table, categorical, j: int | None = None) -> str:
    """'numeric' or 'categorical' for a text column under the ``categorical`` setting. ``j``: the
    column's index in ``table``, whose numbers, where every cell is one or missing, are kept for
    the encoding's later steps (``Table.numbers``); ``cells`` None: ``table.column(j)``, read
    only where they are (a Parquet number column's text is made only when asked)."""
    if categorical != "auto":
        return "categorical" if name in categorical else "numeric"
    if j is not None:
        try:
            table.numbers(j, name)
            return "numeric"
        except (DataError, ValueError):
            pass  # (a word, or a number parse_numbers refuses: decided as float() reads them)
    text = np.char.strip(table.column(j) if cells is None else cells)
    rows = np.flatnonzero(~is_missing(text))
    present = text[rows]
    if len(present) == 0:
        return "numeric"
    numeric = _reads_as_float(present)
    if numeric.all():
        return "numeric"
    if numeric.mean() >= 0.5:
        bad = int(np.flatnonzero(~numeric)[0])
        raise DataError(
            f"{table.where(int(rows[bad]))}: column '{name}' is numeric but holds '{present[bad]}', "
            "which is not a number; fix the value, or list the column in data.categorical"
        )
    return "categorical"


def _reads_as_float(text: np.ndarray) -> np.ndarray:
    """Which text cells (n,) Python's float() reads, as (n,) bool: all of them when NumPy's
    conversion, which reads what float() reads, takes the whole column at once; else each
    distinct cell is tried once (a categorical column has few)."""
    try:
        text.astype(np.float64)
        return np.ones(len(text), dtype=bool)
    except ValueError:
        pass
    distinct, inverse = np.unique(text, return_inverse=True)
    return np.array([_as_float(v) is not None for v in distinct], dtype=bool)[inverse.reshape(-1)]


def _check_targets(table: Table, present: np.ndarray, missing: str) -> None:
    """A DataError for training rows without a target: under ``missing: error`` any, else all."""
    if missing == "error" and not present.all():
        i = int(np.argmax(~present))
        raise DataError(
            f"{table.where(i)}: the target '{table.target}' is missing; {int((~present).sum())} "
            "row(s) have no target. Remove them, or set data.missing: drop"
        )
    if not present.any():
        raise DataError(f"{table.source}: no row is left once rows with missing values are dropped")


def outputs_for_classes(cost: str, k: int) -> int:
    """The output size network.layers' 'auto' means for k classes: one unit for two classes
    under binary_cross_entropy (s = P(second class)), else one per class."""
    return 1 if cost == "binary_cross_entropy" and k == 2 else k


def fit_encoding(
    table: Table,
    task: str,
    cost: str,
    n_outputs: int,
    standardize: bool | str,
    *,
    missing: str = "error",
    categorical="auto",
    categorical_given: str | None = None,
    header: bool = True,
    delimiter: str | None = None,
    scale_target: bool = True,
) -> Encoding:
    """Fit the encoding on the training rows (see the module doc).

    Parameters
    ----------
    n_outputs : the network's output size, checked against the data; 0 (network.layers' 'auto')
        takes it from the data: the classes (1 for two classes under binary_cross_entropy), or
        the target's columns.
    categorical : 'auto', or a list of the column names (or indices as text) to one-hot encode;
        an empty list means every feature is numeric.
    categorical_given : where data.categorical was given ('data.categorical in c.yaml:5', 'from
        --set ...'), for the error about a name that is not a feature column.
    standardize : True (the numeric inputs and, with ``scale_target``, a regression target),
        "inputs" (the inputs only) or False (neither): data.standardize.
    scale_target : standardize a regression target too (with ``standardize`` True); see
        ``standardizes_target``.
    """
    if isinstance(categorical, (list, tuple)):
        names = [str(c) for c in categorical]
        unknown = [c for c in names if c not in table.features]
        if unknown:
            raise not_a_feature_column(table, "categorical", unknown[0], categorical_given)
        categorical = set(names)
    columns: list[Column] = []
    for j, name in enumerate(table.features):
        if table.is_text:
            kind = _column_kind(None, name, table, categorical, j)
        else:
            kind = "categorical" if categorical != "auto" and name in categorical else "numeric"
        columns.append(Column(name, kind))
    enc = Encoding(
        task,
        cost,
        list(table.features),
        table.target,
        n_outputs,
        np.zeros(0),
        np.ones(0),
        columns=columns,
        missing=missing,
        header=header,
        positional=table.by_position,  # an array: its columns are positions
        delimiter=delimiter,
    )

    # categories and fills (the most frequent category; the mean) from the values present in
    # the rows that have a target: a row without one is never trained on
    _, present = enc.target_values(table)
    if not present.any():  # no row to take categories and fills from: say why (the target)
        _check_targets(table, present, missing)
    trained = table if present.all() else table.take(np.flatnonzero(present))
    for j, col in enumerate(columns):
        if col.kind == "categorical":
            text = category_text(trained.column(j))
            text = text[~is_missing(text)]
            if len(text) == 0:
                raise DataError(f"{table.source}: categorical column '{col.name}' has no values")
            col.categories = _sort_labels(text.tolist())
            values, counts = np.unique(text, return_counts=True)
            col.fill = str(values[np.argmax(counts)])
        else:
            if table.is_text:
                values, miss = trained.numbers(j, col.name)
            else:
                values = trained.column(j)
                miss = np.isnan(values)
            col.fill = float(values[~miss].mean()) if (~miss).any() else 0.0
    # (a row without a target is not read: left out, or the error, a category only it holds is
    # none of the encoding's)
    raw, keep = enc.raw_inputs_with_target(table, present)
    _check_targets(table, present, missing)
    keep &= present
    if not keep.any():
        raise DataError(f"{table.source}: no row is left once rows with missing values are dropped")
    raw = _rows(raw, keep)

    numeric = (
        np.concatenate([np.full(c.width, c.kind == "numeric") for c in columns])
        if columns
        else np.zeros(0, bool)
    )
    enc.x_mean = np.zeros(raw.shape[1])
    enc.x_scale = np.ones(raw.shape[1])
    enc.x_min, enc.x_max = raw.min(axis=0), raw.max(axis=0)
    if standardize and numeric.any():
        mean, std = _mean_std(raw if numeric.all() else raw[:, numeric], table, enc.inputs_numeric())
        enc.x_mean[numeric], enc.x_scale[numeric] = mean, std

    values, _ = enc.target_values(table)
    values = values[keep]
    if task == "regression":
        y2 = values.reshape(len(values), -1)
        if n_outputs == 0:
            n_outputs = enc.n_outputs = y2.shape[1]
        if y2.shape[1] != n_outputs:
            raise DataError(
                f"{table.source}: the target has {y2.shape[1]} column(s) but the "
                f"network has {n_outputs} output(s); set the last of network.layers "
                f"to {y2.shape[1]}"
            )
        if standardize is True and scale_target:  # ("inputs" scales the inputs only)
            enc.y_mean, enc.y_scale = _mean_std(y2, table, [str(table.target)] * y2.shape[1])
        else:
            enc.y_mean, enc.y_scale = np.zeros(y2.shape[1]), np.ones(y2.shape[1])
        return enc
    classes = _sort_labels(values.tolist())
    if len(classes) < 2:
        raise DataError(
            f"{table.source}: the target '{table.target}' has only one class "
            f"('{classes[0]}'); classification needs at least two"
        )
    if n_outputs == 0:
        n_outputs = enc.n_outputs = outputs_for_classes(cost, len(classes))
    if n_outputs == 1 and cost == "binary_cross_entropy":
        if len(classes) != 2:
            raise DataError(
                f"{table.source}: binary_cross_entropy with one output needs exactly 2 "
                f"classes, found {len(classes)}; use cross_entropy with "
                f"{len(classes)} outputs"
            )
    elif n_outputs != len(classes):
        raise DataError(
            f"{table.source}: the target '{table.target}' has {len(classes)} classes "
            f"but the network has {n_outputs} outputs; set the last of "
            f"network.layers to {len(classes)}"
        )
    enc.classes = classes
    enc.label_numbers = table.y is not None and table.y.dtype.kind in "iuf"
    return enc
