"""Reading data (CSV, NPY, NPZ, standard input), encoding targets, scaling, splitting.

Arrays here are host NumPy arrays; ``train.py`` moves them to the device once. X is (n, features)
with one example per row. Class labels are kept exactly as written in the data ("3", "cat") and
given back the same way; the network sees them as one-hot rows (cross_entropy) or 0/1 columns
(binary_cross_entropy). Line numbers in messages are the file's own, counting the header, as an
editor shows them.
"""

from __future__ import annotations

import csv
import io
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataError, did_you_mean

#: Cells that mean "no value". Missing values are an error until a data.missing policy exists.
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})

NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"


@dataclass
class Table:
    """Data as read from one source, before encoding.

    features : names of the feature columns, in order (CSV header names, or x0, x1, ... for arrays).
    X : (n, features) float64.
    y : (n,) labels as strings or floats, (n, k) floats, or None when the source has no target.
    lines : the file line of each row (CSV), for messages; None for arrays.
    """

    source: str
    features: list[str]
    X: np.ndarray
    y: np.ndarray | None = None
    target: str | None = None
    lines: np.ndarray | None = None

    def line(self, i: int) -> str:
        """'file:LINE' for CSV rows, 'file row I' for arrays."""
        if self.lines is not None:
            return f"{self.source}:{int(self.lines[i])}"
        return f"{self.source} row {i}"

    def take(self, index: np.ndarray) -> Table:
        return Table(
            self.source,
            self.features,
            self.X[index],
            None if self.y is None else self.y[index],
            self.target,
            None if self.lines is None else self.lines[index],
        )


# -- reading ---------------------------------------------------------------------------------------


def read_bytes(path: str, stdin=None) -> bytes:
    """The raw bytes of a data file, or of standard input when ``path`` is '-'."""
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin
        if stream is None or getattr(stream, "closed", False):
            raise DataError("standard input is closed; pipe data in or give a file path")
        buffer = getattr(stream, "buffer", stream)
        try:
            data = buffer.read()
        except (OSError, ValueError) as exc:
            raise DataError(f"standard input cannot be read: {exc}") from None
        if isinstance(data, str):
            data = data.encode("utf-8")
        if not data:
            raise DataError("standard input is empty; pipe data in or give a file path")
        return data
    p = Path(path)
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise DataError(f"data file '{path}' not found") from None
    except IsADirectoryError:
        raise DataError(f"data file '{path}' is a directory, not a file") from None
    except PermissionError:
        raise DataError(f"data file '{path}' cannot be read: permission denied") from None
    except OSError as exc:
        raise DataError(f"data file '{path}' cannot be read: {exc.strerror or exc}") from None


def source_name(path: str) -> str:
    """How messages name a data source: '<stdin>', or the path, relative when under the cwd."""
    if path == "-":
        return "<stdin>"
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if rel.startswith("..") else rel


def read_table(
    path: str,
    target: str | int | None = None,
    *,
    need_target: bool = True,
    classification: bool = False,
    stdin=None,
) -> Table:
    """Read a CSV, NPY or NPZ file (or standard input) into a Table.

    Parameters
    ----------
    target : the target column, a header name or a 0-based index; None means the last column.
        Ignored for NPZ files, whose target is the array ``y``.
    need_target : False reads features only (for predict): a CSV's columns are all returned and
        matched by name later, an NPY matrix is all features.
    classification : keep the target as label strings instead of converting it to numbers.
    """
    raw = read_bytes(path, stdin)
    name = source_name(path)
    if raw.startswith(ZIP_MAGIC):
        return _table_from_npz(raw, name, need_target)
    if raw.startswith(NPY_MAGIC):
        return _table_from_npy(raw, name, target, need_target)
    return _table_from_csv(raw, name, target, need_target, classification)


#: Deflate cannot compress better than about 1032:1, so a member claiming more is forged.
MAX_DEFLATE_RATIO = 1100


def _npy_declared_bytes(stream) -> int:
    """Bytes of data an .npy stream's header declares (header read, data not)."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
    else:
        shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
    return int(np.prod(shape, dtype=np.float64)) * dtype.itemsize


def _check_declared_sizes(raw: bytes, name: str) -> None:
    """Refuse an NPY/NPZ whose arrays declare more bytes than the file can hold, before NumPy
    allocates them (a few hundred bytes can otherwise declare terabytes)."""
    import zipfile

    try:
        if raw.startswith(NPY_MAGIC):
            stream = io.BytesIO(raw)
            declared = _npy_declared_bytes(stream)
            if declared > len(raw) - stream.tell():
                raise DataError(
                    f"{name}: declares {declared:,} bytes of data but holds "
                    f"{len(raw) - stream.tell():,}; the file is truncated or forged"
                )
            return
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            for info in zf.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                with zf.open(info) as f:
                    declared = _npy_declared_bytes(f)
                limit = info.compress_size * (
                    1 if info.compress_type == zipfile.ZIP_STORED else MAX_DEFLATE_RATIO
                )
                if declared > min(info.file_size, limit):
                    raise DataError(
                        f"{name}: array '{info.filename[:-4]}' declares {declared:,} "
                        "bytes, more than the file holds; it is truncated or forged"
                    )
    except DataError:
        raise
    except Exception:  # anything unreadable is reported by np.load below, with its reason
        return


def _load_array(raw: bytes, name: str) -> Any:
    _check_declared_sizes(raw, name)
    try:
        return np.load(io.BytesIO(raw), allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DataError(f"{name}: holds pickled Python objects, which nettrain never loads") from None
        raise DataError(f"{name}: not a readable NumPy file ({exc})") from None
    except Exception as exc:  # zipfile.BadZipFile, EOFError, OSError on a truncated file
        raise DataError(f"{name}: not a readable NumPy file ({type(exc).__name__}: {exc})") from None


def _load_member(z, key: str, name: str) -> np.ndarray:
    try:
        return z[key]
    except ValueError as exc:
        if "pickle" in str(exc).lower() or "object arrays" in str(exc).lower():
            raise DataError(
                f"{name}: array '{key}' holds pickled Python objects, which nettrain never loads"
            ) from None
        raise DataError(f"{name}: array '{key}' is not readable ({exc})") from None
    except Exception as exc:  # zipfile.BadZipFile (bad CRC), EOFError, NotImplementedError, ...
        raise DataError(f"{name}: array '{key}' is not readable ({type(exc).__name__}: {exc})") from None


def _numeric(a: np.ndarray, name: str, what: str) -> np.ndarray:
    if a.dtype.kind not in "biuf":
        raise DataError(f"{name}: {what} has dtype {a.dtype}; expected numbers")
    out = a.astype(np.float64)
    bad = ~np.isfinite(out)
    if bad.any():
        row, col = np.argwhere(bad)[0] if out.ndim == 2 else (int(np.argmax(bad)), 0)
        raise DataError(
            f"{name}: {what} has a missing or non-finite value at row {row}, column {col} "
            f"({bad.any(axis=1).sum() if out.ndim == 2 else bad.sum()} rows affected)"
        )
    return out


def _table_from_npy(raw: bytes, name: str, target, need_target: bool) -> Table:
    a = _load_array(raw, name)
    if a.ndim != 2:
        raise DataError(
            f"{name}: an NPY data file must hold a 2-D matrix (rows x columns), found shape {a.shape}"
        )
    if a.shape[0] == 0:
        raise DataError(f"{name}: holds no rows")
    if not need_target:
        X = _numeric(a, name, "the matrix")
        return Table(name, [f"x{j}" for j in range(a.shape[1])], X)
    t = a.shape[1] - 1 if target is None else target
    if isinstance(t, str):
        if t.isdigit():
            t = int(t)
        else:
            raise DataError(
                f"{name}: an NPY matrix has no column names; give data.target as a 0-based index, not '{t}'"
            )
    if not 0 <= t < a.shape[1] or a.shape[1] < 2:
        raise DataError(
            f"{name}: target column {t} does not exist: the matrix has "
            f"{a.shape[1]} columns (0 to {a.shape[1] - 1})"
        )
    keep = [j for j in range(a.shape[1]) if j != t]
    X = _numeric(a[:, keep], name, "the matrix")
    y = _numeric(a[:, t], name, "the target column")
    return Table(name, [f"x{j}" for j in keep], X, y, str(t))


def _table_from_npz(raw: bytes, name: str, need_target: bool) -> Table:
    z = _load_array(raw, name)
    with z:
        if "X" not in z.files:
            raise DataError(
                f"{name}: an NPZ data file must hold an array 'X' (and 'y'); "
                f"found {', '.join(z.files) or 'nothing'}"
            )
        # the members are read only now: a pickled or damaged one fails here, not in np.load
        X = _load_member(z, "X", name)
        y = _load_member(z, "y", name) if "y" in z.files else None
    if X.ndim != 2 or X.shape[0] == 0:
        raise DataError(f"{name}: X must be a non-empty 2-D matrix, found shape {X.shape}")
    features = [f"x{j}" for j in range(X.shape[1])]
    X = _numeric(X, name, "X")
    if y is None:
        if need_target:
            raise DataError(f"{name}: has no target array 'y'")
        return Table(name, features, X)
    if y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
        raise DataError(f"{name}: y must have one entry per row of X ({X.shape[0]}), found shape {y.shape}")
    if y.dtype.kind in "US":
        y = y.astype(str)
    else:
        y = _numeric(y, name, "y")
    return Table(name, features, X, y, "y")


def _csv_rows(raw: bytes, name: str) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, rows and the file line of each row. Blank lines are skipped."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(f"{name}:{line}: not UTF-8 text (byte {raw[exc.start]:#04x})") from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise DataError(f"{name}:{line}: contains a NUL byte; this is not a CSV text file")
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    start = 1
    try:
        for record in reader:
            line = start
            start = reader.line_num + 1
            if not record or (len(record) == 1 and not record[0].strip()):
                continue
            if header is None:
                header = [h.strip() for h in record]
                header_line = line
                continue
            if len(record) != len(header):
                raise DataError(f"{name}:{line}: expected {len(header)} fields, found {len(record)}")
            rows.append(record)
            lines.append(line)
    except csv.Error as exc:
        raise DataError(f"{name}:{reader.line_num}: {exc}") from None
    if header is None:
        raise DataError(f"{name}: is empty; expected a CSV header row and data rows")
    if not rows:
        raise DataError(f"{name}: has a header (line {header_line}) but no data rows")
    empty = [j for j, h in enumerate(header) if not h]
    if empty:
        raise DataError(f"{name}:{header_line}: column {empty[0] + 1} has an empty name in the header")
    seen: set[str] = set()
    for h in header:
        if h in seen:
            raise DataError(f"{name}:{header_line}: column name '{h}' appears twice in the header")
        seen.add(h)
    return header, rows, lines


def _column_index(header: list[str], target, name: str) -> int:
    if target is None:
        return len(header) - 1
    if isinstance(target, int):
        if not 0 <= target < len(header):
            raise DataError(
                f"{name}: target column {target} does not exist: there are "
                f"{len(header)} columns (0 to {len(header) - 1})"
            )
        return target
    if target in header:
        return header.index(target)
    if target.isdigit() and int(target) < len(header):
        return int(target)
    raise DataError(
        f"{name}: target column '{target}' not found in the header"
        f"{did_you_mean(target, header)}; columns: {', '.join(header[:12])}"
        f"{', ...' if len(header) > 12 else ''}"
    )


def _to_float(cells: np.ndarray, column: str, name: str, lines: np.ndarray) -> np.ndarray:
    """Convert one column of strings to float64, naming the line and value of the first bad cell."""
    stripped = np.char.strip(cells)
    missing = np.isin(np.char.lower(stripped), list(MISSING))
    if missing.any():
        i = int(np.argmax(missing))
        raise DataError(
            f"{name}:{lines[i]}: column '{column}' is missing a value "
            f"('{cells[i]}'); {int(missing.sum())} row(s) of this column are missing "
            "values. Remove or fill them"
        )
    try:
        values = stripped.astype(np.float64)
    except ValueError:
        for i, cell in enumerate(stripped):
            try:
                float(cell)
            except ValueError:
                raise DataError(
                    f"{name}:{lines[i]}: column '{column}' holds '{cell}', which is not a number"
                ) from None
        raise
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(
            f"{name}:{lines[i]}: column '{column}' holds '{cells[i]}', which is not a finite number"
        )
    return values


def _table_from_csv(raw: bytes, name: str, target, need_target: bool, classification: bool) -> Table:
    header, rows, lines = _csv_rows(raw, name)
    cells = np.array(rows, dtype=str)
    line_numbers = np.array(lines)
    if need_target:
        t = _column_index(header, target, name)
        if len(header) < 2:
            raise DataError(f"{name}: has only the target column '{header[t]}' and no features")
    else:
        t = None
    features = [h for j, h in enumerate(header) if j != t]
    cols = [j for j in range(len(header)) if j != t]
    X = np.empty((len(rows), len(cols)), dtype=np.float64)
    if need_target:
        for k, j in enumerate(cols):
            X[:, k] = _to_float(cells[:, j], header[j], name, line_numbers)
    else:
        # predict: columns are matched by name later; convert lazily (non-feature columns such as
        # ids or the target may hold anything)
        X = cells
    y = None
    if t is not None:
        labels = np.char.strip(cells[:, t])
        if classification:
            missing = np.isin(np.char.lower(labels), list(MISSING))
            if missing.any():
                i = int(np.argmax(missing))
                raise DataError(
                    f"{name}:{lines[i]}: target column '{header[t]}' is missing a "
                    f"value; {int(missing.sum())} row(s) have no label"
                )
            y = labels
        else:
            y = _to_float(cells[:, t], header[t], name, line_numbers)
    return Table(name, features, X, y, header[t] if t is not None else None, line_numbers)


def select_features(table: Table, features: list[str]) -> np.ndarray:
    """The model's feature columns of a table read for prediction, in the model's order (float64).

    CSV columns are matched by header name (extra columns such as ids or the target are ignored);
    arrays must have exactly the model's number of columns.
    """
    if table.X.dtype.kind in "US":  # a CSV read without a target: match by name
        missing = [f for f in features if f not in table.features]
        if missing:
            hint = did_you_mean(missing[0], [c for c in table.features if c not in features])
            raise DataError(
                f"{table.source}: feature column '{missing[0]}' is missing"
                f"{hint} ({len(missing)} of the model's {len(features)} features "
                "missing)"
            )
        where = {h: j for j, h in enumerate(table.features)}
        X = np.empty((table.X.shape[0], len(features)), dtype=np.float64)
        for k, f in enumerate(features):
            X[:, k] = _to_float(table.X[:, where[f]], f, table.source, table.lines)
        return X
    if table.X.shape[1] != len(features):
        raise DataError(
            f"{table.source}: has {table.X.shape[1]} columns but the model expects {len(features)} features"
        )
    return table.X


# -- encoding --------------------------------------------------------------------------------------


def _sort_labels(labels) -> list[str]:
    unique = sorted(set(labels))
    try:
        return sorted(unique, key=float)
    except ValueError:
        return unique


def label_text(values: np.ndarray) -> np.ndarray:
    """Labels from an array as text: integral numbers without '.0' (3.0 -> '3')."""
    if values.dtype.kind in "US":
        return np.char.strip(values.astype(str))
    if values.dtype.kind == "f" and np.all(values == np.round(values)):
        return np.array([str(int(v)) for v in values])
    return values.astype(str)


@dataclass
class Encoding:
    """How raw data becomes network input and output and back; fitted on the training rows and
    stored in the model file.

    x_mean, x_scale : (features,) input standardization, x' = (x - x_mean) / x_scale.
    y_mean, y_scale : (outputs,) regression target standardization (zeros/ones when off).
    classes : the class labels as text, in the order of the network's outputs (classification).
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
    _index: dict = field(default_factory=dict, repr=False, compare=False)

    def transform(self, X: np.ndarray, dtype="float32") -> np.ndarray:
        """Standardized inputs (n, features) in ``dtype``."""
        return ((X - self.x_mean) / self.x_scale).astype(dtype)

    def class_index(self, labels: np.ndarray, table: Table | None = None) -> np.ndarray:
        """Label text -> class index (n,). A label training never saw is a DataError."""
        if not self._index:
            self._index = {c: i for i, c in enumerate(self.classes or [])}
        out = np.empty(len(labels), dtype=np.int64)
        for i, label in enumerate(labels):
            k = self._index.get(label)
            if k is None:
                where = table.line(i) if table is not None else f"row {i}"
                raise DataError(
                    f"{where}: label '{label}' was not seen in the training data "
                    f"(classes: {', '.join(self.classes or [])})"
                )
            out[i] = k
        return out

    def encode_y(self, table: Table, dtype="float32") -> np.ndarray:
        """Targets as the network's cost wants them, (n, outputs)."""
        y = table.y
        if self.task == "regression":
            y2 = y.reshape(len(y), -1)
            return ((y2 - self.y_mean) / self.y_scale).astype(dtype)
        idx = self.class_index(label_text(y), table)
        if self.n_outputs == 1:  # binary cross-entropy with one sigmoid unit: y = 1 for classes[1]
            return idx.reshape(-1, 1).astype(dtype)
        Y = np.zeros((len(idx), self.n_outputs), dtype=dtype)
        Y[np.arange(len(idx)), idx] = 1
        return Y

    def decode(self, s: np.ndarray) -> np.ndarray:
        """Network outputs (n, outputs) -> predictions: labels (n,) as text, or values in the
        target's original units ((n,) for one output, else (n, outputs))."""
        if self.task == "regression":
            values = s * self.y_scale + self.y_mean
            return values[:, 0] if values.shape[1] == 1 else values
        if self.n_outputs == 1:
            idx = (s[:, 0] >= 0.5).astype(np.int64)
        else:
            idx = s.argmax(axis=1)
        return np.asarray(self.classes, dtype=object)[idx]

    def probabilities(self, s: np.ndarray) -> np.ndarray:
        """Class probabilities (n, classes). With one sigmoid unit: [1 - s, s]."""
        if self.n_outputs == 1:
            return np.column_stack([1 - s[:, 0], s[:, 0]])
        if self.cost == "binary_cross_entropy":  # one-vs-rest sigmoids: normalise to sum to 1
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
        }


def fit_encoding(table: Table, task: str, cost: str, n_outputs: int, standardize: bool) -> Encoding:
    """Fit the encoding on the training rows: classes, and the standardization statistics."""
    d = table.X.shape[1]
    if standardize:
        x_mean = table.X.mean(axis=0)
        x_scale = table.X.std(axis=0)
        x_scale[x_scale == 0] = 1.0  # a constant column stays constant instead of dividing by 0
    else:
        x_mean, x_scale = np.zeros(d), np.ones(d)
    enc = Encoding(task, cost, list(table.features), table.target, n_outputs, x_mean, x_scale)
    if task == "regression":
        y2 = table.y.reshape(len(table.y), -1)
        if y2.shape[1] != n_outputs:
            raise DataError(
                f"{table.source}: the target has {y2.shape[1]} column(s) but the "
                f"network has {n_outputs} output(s); set the last of network.layers "
                f"to {y2.shape[1]}"
            )
        if standardize:
            enc.y_mean = y2.mean(axis=0)
            enc.y_scale = y2.std(axis=0)
            enc.y_scale[enc.y_scale == 0] = 1.0
        else:
            enc.y_mean, enc.y_scale = np.zeros(y2.shape[1]), np.ones(y2.shape[1])
        return enc
    if table.y.ndim != 1:
        raise DataError(
            f"{table.source}: for classification the target must be one column of "
            f"labels, found shape {table.y.shape}"
        )
    classes = _sort_labels(label_text(table.y).tolist())
    if len(classes) < 2:
        raise DataError(
            f"{table.source}: the target '{table.target}' has only one class "
            f"('{classes[0]}'); classification needs at least two"
        )
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
    return enc


# -- the data of a run -----------------------------------------------------------------------------


@dataclass
class Dataset:
    """Encoded arrays ready for the network: X (n, features) and Y (n, outputs), host, in dtype."""

    X: np.ndarray
    Y: np.ndarray
    table: Table


@dataclass
class RunData:
    encoding: Encoding
    train: Dataset
    validation: Dataset | None = None
    test: Dataset | None = None


def split_indices(n: int, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, validation rows), each sorted; a seeded random split."""
    n_val = int(round(n * fraction))
    n_val = min(max(n_val, 1), n - 1)
    perm = rng.permutation(n)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def load_run_data(config, stdin=None) -> RunData:
    """Read, split, check against the network and encode a config's data."""
    from .config import Config

    assert isinstance(config, Config)
    dc = config.data
    classification = config.task == "classification"
    sizes = config.network.layers

    def read(path: str) -> Table:
        table = read_table(path, dc.target, classification=classification, stdin=stdin)
        if table.X.shape[1] != sizes[0]:
            raise DataError(
                f"{table.source}: has {table.X.shape[1]} feature columns but "
                f"network.layers starts with {sizes[0]}; set it to {table.X.shape[1]}"
            )
        return table

    if dc.train is None:
        from .errors import ConfigError

        raise ConfigError(
            f"{config.path or 'config'}: data.train is required to fit: the training "
            "data file (CSV, NPY or NPZ) or '-' for standard input"
        )
    train = read(dc.train)
    val = None
    if isinstance(dc.validation, str):
        val = read(dc.validation)
    elif dc.validation > 0:
        if len(train.X) < 2:
            raise DataError(
                f"{train.source}: {len(train.X)} row(s) is too few to hold out a validation fraction"
            )
        t_idx, v_idx = split_indices(len(train.X), dc.validation, stream_rng(config.training.seed, 1))
        train, val = train.take(t_idx), train.take(v_idx)
    test = read(dc.test) if dc.test else None
    enc = fit_encoding(train, config.task, config.cost, sizes[-1], dc.standardize)
    dtype = config.dtype

    def encode(t: Table | None) -> Dataset | None:
        if t is None:
            return None
        if t.features != enc.features:  # a CSV with its columns in another order: match by name
            missing = [f for f in enc.features if f not in t.features]
            if missing:
                raise DataError(f"{t.source}: feature column '{missing[0]}' of the training data is missing")
            order = [t.features.index(f) for f in enc.features]
            t = Table(t.source, enc.features, t.X[:, order], t.y, t.target, t.lines)
        return Dataset(enc.transform(t.X, dtype), enc.encode_y(t, dtype), t)

    return RunData(enc, encode(train), encode(val), encode(test))


def stream_rng(seed: int, stream: int) -> np.random.Generator:
    """An independent generator per purpose, all from one seed: 0 init, 1 split, 2 shuffle.

    Separate streams mean that, e.g., changing the validation fraction does not change the
    initial weights.
    """
    return np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[stream])
