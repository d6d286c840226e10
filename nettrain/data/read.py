"""Reading data: CSV (any common dialect), NPY, NPZ, files or standard input, into a Table.

Nothing here interprets the values: a CSV Table keeps its cells as text, so that the encoding
(``encode.py``) can decide, with the missing-value and categorical policies, what each column
is. Line numbers in messages are the file's own, counting the header, as an editor shows them.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, TargetColumnError, did_you_mean, unreadable

#: Cells that mean "no value" (compared after stripping blanks, ignoring case).
MISSING = frozenset({"", "na", "n/a", "nan", "-nan", "+nan", "null", "none", "?"})
#: Delimiters tried when a config does not name one, in order of preference on a tie.
DELIMITERS = (",", ";", "\t", "|")

NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"
#: Deflate cannot compress better than about 1032:1, so a member claiming more is forged.
MAX_DEFLATE_RATIO = 1100


@dataclass
class Table:
    """Data as read from one source, before encoding.

    features : names of the feature columns, in order (CSV header names; for a CSV without a
        header and for arrays, the 0-based column index as text: '0', '1', ...).
    cells : for a CSV, one (n,) text array per feature column, each as wide as its own longest
        cell (one 2-D text array would be as wide as the file's longest cell everywhere: a long
        label would make every number take its room); for NPY/NPZ, (n, features) float64 (NaN
        where a value is missing). ``column(j)`` reads either. A 2-D text array given to the
        constructor is split into columns.
    y : the target: (n,) text for a CSV, (n,) or (n, k) numbers or text for arrays; None when the
        source has no target.
    lines : the file line of each row (CSV), for messages; None for arrays.
    rows : for arrays, each row's index in the file when the table holds only some of its rows
        (a split), for messages; None: row i is the file's row i.
    named : the feature names came from a CSV header row, so a model matches columns by name
        (even names that are numbers, as pandas writes integer column names).
    """

    source: str
    features: list[str]
    cells: np.ndarray | tuple[np.ndarray, ...]
    y: np.ndarray | None = None
    target: str | None = None
    lines: np.ndarray | None = None
    rows: np.ndarray | None = None
    named: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.cells, np.ndarray) and self.cells.dtype.kind in "US":
            self.cells = tuple(self.cells[:, j] for j in range(self.cells.shape[1]))

    @property
    def n(self) -> int:
        if not self.is_text:
            return int(self.cells.shape[0])
        if self.lines is not None:
            return len(self.lines)
        return len(self.cells[0]) if self.cells else 0

    @property
    def is_text(self) -> bool:
        return isinstance(self.cells, tuple)

    def column(self, j: int) -> np.ndarray:
        """Feature column ``j``: (n,) text or float64."""
        return self.cells[j] if self.is_text else self.cells[:, j]

    def cells_of(self, index: list[int]) -> np.ndarray | tuple[np.ndarray, ...]:
        """The cells of feature columns ``index``, in that order (text columns are not copied)."""
        if self.is_text:
            return tuple(self.cells[j] for j in index)
        return self.cells[:, index]

    @property
    def X(self) -> np.ndarray:
        """The features as float64 (n, features); a DataError names the first cell that is
        missing or not a number. (The encoding reads categorical and missing values instead.)"""
        if not self.is_text:
            bad = np.isnan(self.cells)
            if bad.any():
                i, j = (int(v) for v in np.argwhere(bad)[0])
                raise DataError(f"{self.where(i)}: column '{self.features[j]}' is missing a value")
            return self.cells
        X = np.empty((self.n, len(self.features)), dtype=np.float64)
        for j, name in enumerate(self.features):
            values, missing = parse_numbers(self.cells[j], name, self)
            if missing.any():
                i = int(np.argmax(missing))
                raise DataError(f"{self.where(i)}: column '{name}' is missing a value")
            X[:, j] = values
        return X

    def where(self, i: int) -> str:
        """'file:LINE' for CSV rows, 'file row I' for arrays."""
        if self.lines is not None:
            return f"{self.source}:{int(self.lines[i])}"
        return f"{self.source} row {int(self.rows[i]) if self.rows is not None else i}"

    def take(self, index: np.ndarray) -> Table:
        rows = None
        if self.lines is None:  # an array: remember which of the file's rows these are
            rows = (self.rows if self.rows is not None else np.arange(self.n))[index]
        return Table(
            self.source,
            self.features,
            tuple(c[index] for c in self.cells) if self.is_text else self.cells[index],
            None if self.y is None else self.y[index],
            self.target,
            None if self.lines is None else self.lines[index],
            rows,
            self.named,
        )

    def columns(self, names: list[str]) -> Table:
        """The same rows with the feature columns ``names``, in that order (matched by name)."""
        if names == self.features:
            return self
        absent = [f for f in names if f not in self.features]
        looks_like_data = sum(_is_number(h) for h in self.features) >= len(self.features) / 2
        if absent and len(absent) == len(names) and looks_like_data:
            raise DataError(
                f"{self.source}: its first row ({', '.join(self.features[:4])}, ...) looks like data, "
                "not a header; the model matches columns by the names it was trained with "
                f"({', '.join(names[:4])}, ...): add that header row"
            )
        if absent:
            hint = did_you_mean(absent[0], [c for c in self.features if c not in names])
            raise DataError(
                f"{self.source}: feature column '{absent[0]}' is missing{hint} "
                f"({len(absent)} of the {len(names)} features the model needs are missing)"
            )
        index = {h: j for j, h in enumerate(self.features)}
        order = [index[f] for f in names]
        return Table(
            self.source,
            list(names),
            self.cells_of(order),
            self.y,
            self.target,
            self.lines,
            self.rows,
            self.named,
        )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def is_missing(cells: np.ndarray) -> np.ndarray:
    """Which text cells mean 'no value' (empty, NA, NaN, ?, null, none; any case, any blanks)."""
    return np.isin(np.char.lower(np.char.strip(cells)), list(MISSING))


def parse_numbers(cells: np.ndarray, column: str, table: Table) -> tuple[np.ndarray, np.ndarray]:
    """Text cells -> (float64 values, missing mask). Missing cells become NaN. A cell that is
    neither a number nor missing is a DataError naming its line, column and value."""
    missing = is_missing(cells)
    text = np.where(missing, "nan", np.char.strip(cells))
    try:
        values = text.astype(np.float64)
        # float() also reads '1_000' and digits of other scripts ('١٢'), which no CSV writer
        # means as numbers (and the fast reader refuses): such a cell is not a number
        codes = text.view(np.uint32).reshape(len(text), -1) if text.dtype.itemsize else np.zeros((0, 0))
        if ((codes > 127) | (codes == ord("_"))).any():
            raise ValueError
    except ValueError:
        for i, cell in enumerate(text):
            try:
                if not cell.isascii() or "_" in cell:
                    raise ValueError
                float(cell)
            except ValueError:
                raise DataError(
                    f"{table.where(i)}: column '{column}' holds '{cell}', which is not a number"
                ) from None
        raise
    bad = ~np.isfinite(values) & ~missing
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(
            f"{table.where(i)}: column '{column}' holds '{cells[i]}', which is not a finite number"
        )
    return values, missing


# -- bytes -----------------------------------------------------------------------------------------


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
    try:
        return Path(path).read_bytes()
    except (OSError, ValueError) as exc:
        raise DataError(unreadable("data file", path, exc)) from None


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
    stdin=None,
    delimiter: str | None = None,
    header: bool = True,
    columns: list[str] | None = None,
    text_columns: tuple[str, ...] = (),
) -> Table:
    """Read a CSV, NPY or NPZ file (or standard input) into a Table.

    Parameters
    ----------
    target : the target column, a header name or a 0-based index; None means the last column.
        Ignored for NPZ files, whose target is the array ``y``.
    need_target : False reads every column as a feature (for predict: CSV columns are matched
        to the model's features by name later, so ids and the target may stay).
    delimiter : the CSV delimiter; None sniffs it from the file (comma, semicolon, tab or |).
    header : False for a CSV without a header row; its columns are then named '0', '1', ...
    columns : the feature columns wanted, when known (predict): a clean numeric CSV then parses
        only those. Other columns may still be returned.
    text_columns : columns whose cells are labels (categorical): they keep their text as
        written, even where it looks like a number ('02134' stays '02134').
    """
    raw = read_bytes(path, stdin)
    name = source_name(path)
    if raw.startswith(ZIP_MAGIC):
        return _table_from_npz(raw, name, need_target)
    if raw.startswith(NPY_MAGIC):
        return _table_from_npy(raw, name, target, need_target)
    return _table_from_csv(raw, name, target, need_target, delimiter, header, columns, text_columns)


# -- NPY and NPZ -----------------------------------------------------------------------------------


def npy_header(stream) -> tuple[tuple, np.dtype, bool]:
    """(shape, dtype, fortran_order) from an .npy stream positioned at its start; data not read."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    else:
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    return shape, dtype, fortran


def _declared_bytes(stream) -> int:
    shape, dtype, _ = npy_header(stream)
    return int(np.prod(shape, dtype=np.float64)) * dtype.itemsize


def _check_declared_sizes(raw: bytes, name: str) -> None:
    """Refuse an NPY/NPZ whose arrays declare more bytes than the file can hold, before NumPy
    allocates them (a few hundred bytes can otherwise declare terabytes)."""
    try:
        if raw.startswith(NPY_MAGIC):
            stream = io.BytesIO(raw)
            declared = _declared_bytes(stream)
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
                    declared = _declared_bytes(f)
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


def _numbers(a: np.ndarray, name: str, what: str, keep_floats: bool = False) -> np.ndarray:
    """An array as float64 (floats as they are with ``keep_floats``: a float32 label 0.1 stays
    the 0.1 it was written as); NaN stays (a missing value), infinities are an error."""
    if a.dtype.kind not in "biuf":
        raise DataError(f"{name}: {what} has dtype {a.dtype}; expected numbers")
    out = a if keep_floats and a.dtype.kind == "f" else a.astype(np.float64)
    inf = np.isinf(out)
    if inf.any():
        idx = np.argwhere(inf)[0]
        raise DataError(f"{name}: {what} holds an infinite value at row {int(idx[0])}")
    return out


def npy_target_index(target, n_columns: int, name: str) -> int:
    t = n_columns - 1 if target is None else target
    if isinstance(t, str):
        if t.isdigit():
            t = int(t)
        else:
            raise TargetColumnError(
                f"{name}: an NPY matrix has no column names; give data.target as a 0-based index, not '{t}'"
            )
    if not 0 <= t < n_columns or n_columns < 2:
        raise TargetColumnError(
            f"{name}: target column {t} does not exist: the matrix has "
            f"{n_columns} columns (0 to {n_columns - 1})"
        )
    return t


def _npy_view(raw: bytes, name: str) -> np.ndarray:
    """The array of an .npy file's bytes, read-only, without a copy of them (np.load of the
    bytes would hold the data twice). Anything unusual goes through ``_load_array``."""
    _check_declared_sizes(raw, name)
    stream = io.BytesIO(raw)
    try:
        shape, dtype, fortran = npy_header(stream)
    except Exception:
        return _load_array(raw, name)  # (which says what is wrong)
    if dtype.hasobject:
        return _load_array(raw, name)
    count = math.prod(shape)
    a = np.frombuffer(raw, dtype=dtype, count=count, offset=stream.tell())
    return a.reshape(shape, order="F" if fortran else "C")


def _table_from_npy(raw: bytes, name: str, target, need_target: bool) -> Table:
    a = _npy_view(raw, name)
    if a.ndim != 2:
        raise DataError(
            f"{name}: an NPY data file must hold a 2-D matrix (rows x columns), found shape {a.shape}"
        )
    if a.shape[0] == 0:
        raise DataError(f"{name}: holds no rows")
    if not need_target:
        return Table(name, [str(j) for j in range(a.shape[1])], _numbers(a, name, "the matrix"))
    t = npy_target_index(target, a.shape[1], name)
    keep = [j for j in range(a.shape[1]) if j != t]
    X = a
    if a.dtype.kind in "biuf":  # (other dtypes: _numbers says what is wrong)
        # the columns either side of the target are views: no copy before the float64 one
        X = np.empty((a.shape[0], len(keep)), dtype=np.float64)
        X[:, :t], X[:, t:] = a[:, :t], a[:, t + 1 :]
    X = _numbers(X, name, "the matrix", keep_floats=True)  # (X is float64 already, or refused)
    # (a copy: a view of the column would keep the whole matrix in memory)
    y = _numbers(a[:, t].copy(), name, "the target column", keep_floats=True)
    return Table(name, [str(j) for j in keep], X, y, str(t))


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
    features = [str(j) for j in range(X.shape[1])]
    X = _numbers(X, name, "X")
    if y is None:
        if need_target:
            raise DataError(f"{name}: has no target array 'y'")
        return Table(name, features, X)
    if y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
        raise DataError(f"{name}: y must have one entry per row of X ({X.shape[0]}), found shape {y.shape}")
    if y.dtype.kind in "iu" and y.size and np.abs(y.astype(np.float64)).max() > 2**53:
        raise DataError(
            f"{name}: y holds integers beyond 2^53, which become equal as floats (labels would "
            "merge); store them as text (y.astype(str)) to use them as labels"
        )
    y = y.astype(str) if y.dtype.kind in "US" else _numbers(y, name, "y", keep_floats=True)
    return Table(name, features, X, y, "y")


# -- CSV -------------------------------------------------------------------------------------------


def decode_text(raw: bytes, name: str) -> str:
    """UTF-8 text (a BOM dropped), or a DataError naming the line of the first bad byte."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(f"{name}:{line}: not UTF-8 text (byte {raw[exc.start]:#04x})") from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise DataError(f"{name}:{line}: contains a NUL byte; this is not a CSV text file")
    return text


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most, equally many, fields.

    Each candidate (comma, semicolon, tab, |) parses up to 20 non-blank lines with the csv module
    (so quoted fields count right); a candidate qualifies when every line gets the same number of
    fields, more than one. The widest wins; ties go to the earlier candidate. No qualifier: comma.
    A semicolon, tab or | that qualifies wins over the comma even with fewer fields: in such a
    file the commas are decimal commas ('0,5;1,25'), as spreadsheets in many locales write them.
    """
    # lines as the csv module ends them (str.splitlines also splits at \x0c, \u2028, ...)
    lines = re.split(r"\r\n|\r|\n", text[:65536])[:200]
    head = [line for line in lines if line.strip()][:20]
    best, best_fields = ",", 1
    for d in DELIMITERS:
        try:
            counts = {len(r) for r in csv.reader(head, delimiter=d)}
        except csv.Error:
            continue
        if len(counts) == 1:
            fields = counts.pop()
            if fields > best_fields or (fields > 1 and best == "," and d in ";\t|"):
                best, best_fields = d, fields
    return best


class _LooseQuoting(Exception):
    """A quote out of place ('"a"b'): read again without strict quoting, as most readers do."""


def _csv_cells(raw: bytes, name: str, delimiter: str, header: bool):
    """(header names, cells as one (n,) text array per column, file line of each row). Blank
    lines skipped.

    Read with strict quoting first, so that a quote never closed is an error naming its row
    instead of a last cell that swallows the rest of the file."""
    try:
        return _csv_records(raw, name, delimiter, header, strict=True)
    except _LooseQuoting:
        return _csv_records(raw, name, delimiter, header, strict=False)


def _csv_records(raw: bytes, name: str, delimiter: str, header: bool, strict: bool):
    # decoded a line at a time (raw has passed decode_text): a StringIO of the whole text
    # would hold 4 bytes a character
    lines_of_text = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8-sig", newline="")
    reader = csv.reader(lines_of_text, delimiter=delimiter, strict=strict)
    names: list[str] | None = None
    header_line = 0
    rows: list[list[str]] = []  # the records not yet moved into ``parts``
    parts: list[list[np.ndarray]] = []  # per column, its text arrays, a block of rows each
    lines: list[int] = []
    start = 1
    try:
        for record in reader:
            line = start
            start = reader.line_num + 1
            if not record or (len(record) == 1 and not record[0].strip()):
                continue
            if names is None:
                if header:
                    names = [h.strip() for h in record]
                    header_line = line
                    continue
                names = [str(j) for j in range(len(record))]
            if len(record) != len(names):
                raise DataError(f"{name}:{line}: expected {len(names)} fields, found {len(record)}")
            rows.append(record)
            lines.append(line)
            if len(rows) == _BLOCK_ROWS:
                _move_block(rows, parts)
    except csv.Error as exc:
        if strict and "unexpected end of data" in str(exc):
            raise DataError(
                f"{name}:{start}: a quoted field in this row is never closed (an unmatched '\"')"
            ) from None
        if strict:
            raise _LooseQuoting() from None
        raise DataError(f"{name}:{reader.line_num}: {exc}") from None
    if names is None:
        raise DataError(f"{name}: is empty; expected a CSV header row and data rows")
    if not lines:
        raise DataError(f"{name}: has a header (line {header_line}) but no data rows")
    if header and names and all(_is_number(h) for h in names) and len(set(names)) < len(names):
        # numbers, some repeated: data, not a header (distinct numbers such as years may be one)
        shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
        raise DataError(
            f"{name}:{header_line}: the first row ({shown}) "
            "looks like data, not a header row: add a header row naming the columns (or set "
            "data.header: false for a file without one)"
        )
    if header:
        empty = [j for j, h in enumerate(names) if not h]
        if empty:
            raise DataError(f"{name}:{header_line}: column {empty[0] + 1} has an empty name in the header")
        seen: set[str] = set()
        for h in names:
            if h in seen:
                raise DataError(f"{name}:{header_line}: column name '{h}' appears twice in the header")
            seen.add(h)
    _move_block(rows, parts)
    columns = []
    for blocks in parts:  # one column at a time, its blocks let go as it is joined
        columns.append(blocks[0] if len(blocks) == 1 else np.concatenate(blocks))
        blocks.clear()
    return names, tuple(columns), np.array(lines)


#: Records held as Python strings at a time while a CSV is read (about 60 bytes a cell); each
#: full block becomes one text array per column, as wide as that column's longest cell.
_BLOCK_ROWS = 8192


def _move_block(rows: list[list[str]], parts: list[list[np.ndarray]]) -> None:
    """Move the records in ``rows`` into per-column text arrays appended to ``parts``."""
    if not rows:
        return
    if not parts:
        parts.extend([] for _ in rows[0])
    for j, column in enumerate(zip(*rows)):
        parts[j].append(np.array(column, dtype=str))
    rows.clear()


DECIMAL_COMMA = r"^\s*[-+]?([0-9]+(,[0-9]*)?|,[0-9]+)([eE][-+]?[0-9]+)?\s*$"


def _decimal_commas(column: np.ndarray) -> np.ndarray:
    """A text column written with decimal commas (``1,5`` in a semicolon or tab separated file,
    as spreadsheets in many locales export them) with points instead, to be read as numbers:
    such a column has every present value a number with at most one comma, and at least one
    comma. Any other column comes back as it is. Only for delimiters other than the comma, where
    '1,5' cannot be a thousands separator inside a comma-separated file."""
    if not np.char.count(column, ",").any():
        return column
    pattern = re.compile(DECIMAL_COMMA)
    present = column[~is_missing(column)]
    if len(present) and all(pattern.match(v) for v in present.tolist()):
        return np.char.replace(column, ",", ".")
    return column


def column_index(names: list[str], target, name: str) -> int:
    """The index of the target column given by name or 0-based index (None: the last)."""
    if target is None:
        return len(names) - 1
    if isinstance(target, int):
        if not 0 <= target < len(names):
            raise TargetColumnError(
                f"{name}: target column {target} does not exist: there are "
                f"{len(names)} columns (0 to {len(names) - 1})"
            )
        return target
    if target in names:
        return names.index(target)
    if target.isdigit() and int(target) < len(names):
        return int(target)
    if names == [str(j) for j in range(len(names))]:  # read without a header: numbered columns
        raise TargetColumnError(
            f"{name}: target column '{target}' not found: the columns are numbered 0 to "
            f"{len(names) - 1} (as in a file without a header row, or an array); give data.target "
            "as a number, or a file whose header names it"
        )
    raise TargetColumnError(
        f"{name}: target column '{target}' not found in the header"
        f"{did_you_mean(target, names)}; columns: {', '.join(names[:12])}"
        f"{', ...' if len(names) > 12 else ''}"
    )


def _fast_numeric_csv(
    raw: bytes,
    name: str,
    delimiter: str,
    header: bool,
    target,
    need_target: bool,
    columns: list[str] | None,
    text_columns: tuple[str, ...] = (),
) -> Table | None:
    """The common case at C speed: a clean numeric CSV parsed by ``np.loadtxt``.

    Taken only when nothing needs the careful reader: no quotes, no blank lines, the same number
    of fields on every line, every needed column a plain finite number (or NaN). Anything else
    returns None, and the careful reader (``_csv_cells``) reads the file and names the line,
    column and value of any problem. Text columns that are not needed (ids, labels) are skipped
    with ``usecols``; a text target is read as text in a second pass over that one column. The
    bytes are parsed as they are (no decoded copy): loadtxt reads a BytesIO faster than a str.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]  # the UTF-8 BOM (decode_text has already checked the encoding)
    if b'"' in raw:
        return None
    end = raw.find(b"\n")
    if end < 0:
        return None
    first = raw[:end].decode("utf-8").rstrip("\r")
    if not first.strip():
        return None  # blank lines before the header: the careful reader counts them
    names = [h.strip() for h in first.split(delimiter)]
    if not header:
        names = [str(j) for j in range(len(names))]
    if len(set(names)) != len(names) or not all(names) or len(names) < 2:
        return None
    body_start = end + 1 if header else 0
    tail = len(raw)
    while tail > body_start and raw[tail - 1 : tail] in (b"\n", b"\r"):
        tail -= 1  # trailing line ends
    if tail <= body_start or b"\n\n" in raw or b"\n\r\n" in raw:
        return None  # no rows, or blank lines (the careful reader keeps line numbers right)
    try:
        t = column_index(names, target, name) if need_target else None
    except DataError:
        return None
    wanted = [j for j in range(len(names)) if j != t]
    if columns is not None:
        if not all(c in names for c in columns):
            return None
        wanted = [names.index(c) for c in columns]
    if any(names[j] in text_columns for j in wanted):
        return None  # labels keep their text: loadtxt would make '02134' the number 2134
    skip = 1 if header else 0
    try:
        X = np.loadtxt(
            io.BytesIO(raw),
            delimiter=delimiter,
            dtype=np.float64,
            ndmin=2,
            usecols=wanted,
            comments=None,
            skiprows=skip,
            encoding="utf-8",
        )
        y = None
        if t is not None:
            y = np.loadtxt(
                io.BytesIO(raw),
                delimiter=delimiter,
                dtype=str,
                ndmin=1,
                usecols=[t],
                comments=None,
                skiprows=skip,
                encoding="utf-8",
            )
            y = np.char.strip(y)
            if delimiter != ",":  # a decimal-comma target ('-0,825') beside dot-decimal features
                y = _decimal_commas(y)
    except (ValueError, IndexError, UnicodeDecodeError):
        return None
    n = X.shape[0]
    lines_in_body = raw.count(b"\n", body_start, tail) + 1
    if n == 0 or np.isinf(X).any() or lines_in_body != n:
        return None
    per_line = len(names) - 1
    if raw.count(delimiter.encode("utf-8"), body_start, tail) != n * per_line:
        return None  # some row has too many or too few fields: the careful reader says which
    # A row too short fails in loadtxt when the last column is read, and then the count above
    # leaves no row too long; otherwise a row a field short beside one a field long passes both
    # (their values shifted into other columns): each line is counted
    if max([*wanted, -1 if t is None else t]) < per_line and not _same_fields_per_line(
        raw, body_start, tail, delimiter, per_line
    ):
        return None
    first_data_line = 2 if header else 1
    lines = np.arange(first_data_line, first_data_line + n)
    return Table(
        name, [names[j] for j in wanted], X, y, None if t is None else names[t], lines, named=bool(header)
    )


def _same_fields_per_line(raw: bytes, start: int, end: int, delimiter: str, per_line: int) -> bool:
    """Whether every line of raw[start:end] holds ``per_line`` delimiters (loadtxt with usecols
    reads the columns it is asked for from rows of any width: a row with a field too many beside
    one with a field too few would shift values into other columns). Counted 65,536 lines at a
    time."""
    code = delimiter.encode("utf-8")
    if len(code) != 1:
        return True  # (the delimiters are one byte each; a caller's total count stands)
    body = np.frombuffer(raw, dtype=np.uint8, count=end - start, offset=start)
    starts = np.concatenate([[0], np.flatnonzero(body == ord("\n")) + 1])
    for i in range(0, len(starts), 65536):
        first = starts[i]
        last = starts[i + 65536] if i + 65536 < len(starts) else len(body)
        at = starts[i : i + 65536] - first
        if (np.add.reduceat(body[first:last] == code[0], at, dtype=np.int64) != per_line).any():
            return False
    return True


def _table_from_csv(
    raw: bytes,
    name: str,
    target,
    need_target: bool,
    delimiter,
    header,
    columns: list[str] | None = None,
    text_columns: tuple[str, ...] = (),
) -> Table:
    text = decode_text(raw, name)
    delimiter = delimiter or sniff_delimiter(text)
    del text  # the careful reader decodes as it goes
    fast = _fast_numeric_csv(raw, name, delimiter, header, target, need_target, columns, text_columns)
    if fast is not None:
        return fast
    names, cells, lines = _csv_cells(raw, name, delimiter, header)
    if delimiter != ",":
        cells = tuple(_decimal_commas(c) for c in cells)
    t = column_index(names, target, name) if need_target else None
    if t is not None and len(names) < 2:
        raise DataError(f"{name}: has only the target column '{names[t]}' and no features")
    keep = [j for j in range(len(names)) if j != t]
    features = [names[j] for j in keep]
    y = None if t is None else np.char.strip(cells[t])
    X = tuple(cells[j] for j in keep)
    return Table(name, features, X, y, None if t is None else names[t], lines, named=bool(header))
