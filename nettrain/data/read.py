"""Reading data: CSV (any common dialect), NPY, NPZ, Parquet (``parquet.py``), files or standard
input, into a Table.

Nothing here interprets the values: a CSV Table keeps its cells as text, so that the encoding
(``encode.py``) can decide, with the missing-value and categorical policies, what each column
is. Line numbers in messages are the file's own, counting the header, as an editor shows them.

``read_table_chunks`` reads an input a chunk of lines (or rows) at a time, for predict and
evaluate; ``read_table`` runs the same CSV reader (``_CsvChunks``) on the whole file as one chunk.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import stat
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, TargetColumnError, did_you_mean, unreadable
from .source import BOM, ByteSource, WholeBytes

#: Cells that mean "no value" (compared after stripping blanks, ignoring case).
MISSING = frozenset({"", "na", "n/a", "nan", "-nan", "+nan", "null", "none", "?"})
#: Delimiters tried when a config does not name one, in order of preference on a tie.
DELIMITERS = (",", ";", "\t", "|")

NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"
PARQUET_MAGIC = b"PAR1"
#: File names read as Parquet whatever their first bytes (a damaged one is then said to be so,
#: one that is not Parquet at all what it starts like).
PARQUET_SUFFIXES = (".parquet", ".pq")
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
        constructor is split into columns. (A Parquet table's number column beside text columns
        is a ``parquet.NumberColumn``: its numbers, and its text when ``column(j)`` asks.)
    y : the target: (n,) text for a CSV, (n,) or (n, k) numbers or text for arrays; None when the
        source has no target.
    lines : the file line of each row (CSV), for messages; None for arrays and Parquet.
    rows : for arrays, each row's index in the file when the table holds only some of its rows
        (a split), for messages; None: row i is the file's row i.
    named : the feature names came from a CSV header row (or a Parquet file's schema), so a model
        matches columns by name (even names that are numbers, as pandas writes integer column
        names).
    part : for one chunk of an input read a chunk at a time (``read_table_chunks``), which of
        its rows it holds ('lines 65538-131073', 'rows 65536-131071'), so that a count in a
        message says what it counted; None: the whole input.
    w : the sample-weight column (data.weight) taken out of the features (``with_weight``):
        (n,) text or float64 cells, as read; None: no such column.
    unread : the file's columns left unread: a Parquet column of a type nettrain does not read
        (a timestamp, a list, ...) that the run does not use (``read_table``'s ``unused``), in
        the file's order. They are columns of the file all the same (data.exclude may name them).

    A text column's numbers are parsed once (``numbers``) and kept with the table, and with the
    tables ``take`` makes of it: fitting reads each column in several steps.
    """

    source: str
    features: list[str]
    cells: np.ndarray | tuple[np.ndarray, ...]
    y: np.ndarray | None = None
    target: str | None = None
    lines: np.ndarray | None = None
    rows: np.ndarray | None = None
    named: bool = False
    part: str | None = None
    w: np.ndarray | None = None
    unread: tuple[str, ...] = ()
    #: ``numbers``' results: column -> (the cells parsed, values, missing), read-only
    _parsed: dict = field(default_factory=dict, init=False, repr=False, compare=False)

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
    def by_position(self) -> bool:
        """The columns are positions, not names: an array's (NPY, NPZ; a Parquet file read
        without its names, data.header: false). A CSV is known by its ``lines``."""
        return self.lines is None and not self.named

    @property
    def is_text(self) -> bool:
        return isinstance(self.cells, tuple)

    def column(self, j: int) -> np.ndarray:
        """Feature column ``j``: (n,) text or float64."""
        if not self.is_text:
            return self.cells[:, j]
        cells = self.cells[j]  # (a Parquet number column's text: made when asked, parquet.NumberColumn)
        return cells if isinstance(cells, np.ndarray) else cells.text()

    def numbers(self, j: int | None, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``parse_numbers`` of text feature column ``j`` (None: the target), named ``name`` in
        its errors, parsed once: (float64 values, missing mask), read-only."""
        cells = self.y if j is None else self.cells[j]
        if not isinstance(cells, np.ndarray):  # a Parquet number column's numbers, as its text's
            numbers = cells.numbers()
            if numbers is not None:
                return numbers
            cells = cells.text()  # (not all finite: parse_numbers says which)
        kept = self._parsed.get(j)
        if kept is not None and kept[0] is cells:  # (the same cells: not replaced since)
            return kept[1], kept[2]
        values, missing = parse_numbers(cells, name, self)
        values.flags.writeable = missing.flags.writeable = False
        self._parsed[j] = (cells, values, missing)
        return values, missing

    def keep_numbers(self, j: int | None, values: np.ndarray, missing: np.ndarray) -> None:
        """Keep (values, missing) as ``numbers(j)``' for the cells column ``j`` (None: the target)
        holds now: what ``parse_numbers`` of them gives, known otherwise (a Parquet column's)."""
        values.flags.writeable = missing.flags.writeable = False
        self._parsed[j] = (self.y if j is None else self.cells[j], values, missing)

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
            values, missing = self.numbers(j, name)
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
        taken = Table(
            self.source,
            self.features,
            tuple(c[index] for c in self.cells) if self.is_text else self.cells[index],
            None if self.y is None else self.y[index],
            self.target,
            None if self.lines is None else self.lines[index],
            rows,
            self.named,
            self.part,
            None if self.w is None else self.w[index],
        )
        for j, (cells, values, missing) in self._parsed.items():  # (parsed cells: no error)
            if cells is (self.y if j is None else self.cells[j]):
                values, missing = values[index], missing[index]
                values.flags.writeable = missing.flags.writeable = False
                taken._parsed[j] = (taken.y if j is None else taken.cells[j], values, missing)
        return taken

    def slice(self, start: int, stop: int) -> Table:
        """Rows start..stop-1, as views (an array's rows keep their numbers in the file)."""
        rows = None
        if self.lines is None:
            rows = self.rows[start:stop] if self.rows is not None else np.arange(start, min(stop, self.n))
        return Table(
            self.source,
            self.features,
            tuple(c[start:stop] for c in self.cells) if self.is_text else self.cells[start:stop],
            None if self.y is None else self.y[start:stop],
            self.target,
            None if self.lines is None else self.lines[start:stop],
            rows,
            self.named,
            self.part,
            None if self.w is None else self.w[start:stop],
        )

    def counted(self, k: int) -> str:
        """'K row(s)', and of which part of the input when the table is one chunk of it."""
        return f"{k} row(s)" + (f" of {self.part}" if self.part else "")

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
        table = Table(
            self.source,
            list(names),
            self.cells_of(order),
            self.y,
            self.target,
            self.lines,
            self.rows,
            self.named,
            self.part,
            self.w,
        )
        return self.numbers_kept_in(table, order)

    def numbers_kept_in(self, table: Table, order: list[int]) -> Table:
        """``table``, which holds this table's target and its feature columns ``order``, in that
        order, as they are (a column chosen, one taken out), with their numbers kept too."""
        for k, j in [(None, None), *enumerate(order)]:
            if j in self._parsed:
                table._parsed[k] = self._parsed[j]
        return table


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


#: The longest spelling of a missing value (lower() never shortens text: a longer cell is none).
_MISSING_LONGEST = max(map(len, MISSING))


def is_missing(cells: np.ndarray) -> np.ndarray:
    """Which text cells mean 'no value' (empty, NA, NaN, ?, null, none; any case, any blanks)."""
    return _missing_stripped(np.char.strip(cells))


def _missing_stripped(text: np.ndarray) -> np.ndarray:
    """``is_missing`` of cells already stripped."""
    # lower() calls Python once per cell: only cells no longer than MISSING's longest word can be
    # one, which leaves out most numbers ('0.12345'); and no spelling holds a digit, which leaves
    # out the short ones ('-1.5', '42') of a 1-D text array
    short = np.char.str_len(text) <= _MISSING_LONGEST
    if text.dtype.kind == "U" and text.ndim == 1 and text.dtype.itemsize:
        head = text.view(np.uint32).reshape(len(text), text.dtype.itemsize // 4)[:, :_MISSING_LONGEST]
        short &= ~((head >= ord("0")) & (head <= ord("9"))).any(axis=1)
    missing = np.zeros(text.shape, dtype=bool)
    if short.any():
        missing[short] = np.isin(np.char.lower(text[short]), list(MISSING))
    return missing


def parse_numbers(cells: np.ndarray, column: str, table: Table) -> tuple[np.ndarray, np.ndarray]:
    """Text cells -> (float64 values, missing mask). Missing cells become NaN. A cell that is
    neither a number nor missing is a DataError naming its line, column and value."""
    text = np.char.strip(cells)
    missing = _missing_stripped(text)
    if missing.any():
        text = np.where(missing, "nan", text)
    try:
        # float() also reads '1_000' and digits of other scripts ('١٢'), which no CSV writer
        # means as numbers (and the fast reader refuses): such a cell is not a number
        codes = text.view(np.uint32).reshape(len(text), text.dtype.itemsize // 4)  # (also with no rows)
        if ((codes > 127) | (codes == ord("_"))).any():
            raise ValueError
        values = _floats(text)
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


def _floats(text: np.ndarray) -> np.ndarray:
    """``text.astype(np.float64)`` of 1-D text cells: float() of each cell, as astype reads them,
    in about two thirds of its time."""
    return np.fromiter(map(float, text.tolist()), np.float64, len(text))


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


def is_parquet(path: str, head: bytes) -> bool:
    """Whether an input is a Parquet file: by its name, or by its first bytes (at least 5):
    'PAR1' and then a byte of binary data (a Thrift page header), not text: a CSV whose first
    column is named 'PAR1' or 'PAR10' stays a CSV."""
    if path != "-" and str(path).lower().endswith(PARQUET_SUFFIXES):
        return True
    if not head.startswith(PARQUET_MAGIC):
        return False
    after = head[len(PARQUET_MAGIC) : len(PARQUET_MAGIC) + 1]
    return not after or not (32 <= after[0] < 127 or after in b"\t\r\n")


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
    commas_kept: tuple[str, ...] | None = None,
    unused=None,
) -> Table:
    """Read a CSV, NPY, NPZ or Parquet file (or standard input) into a Table.

    Parameters
    ----------
    target : the target column, a header name or a 0-based index; None means the last column.
        Ignored for NPZ files, whose target is the array ``y``.
    need_target : False reads every column as a feature (for predict: CSV columns are matched
        to the model's features by name later, so ids and the target may stay).
    delimiter : the CSV delimiter; None sniffs it from the file (comma, semicolon, tab or |).
    header : False for a CSV without a header row; its columns are then named '0', '1', ...
        (a Parquet file's columns too: they are then matched by position).
    columns : the feature columns wanted, when known (predict): a clean numeric CSV then parses
        only those. Other columns may still be returned.
    text_columns : columns whose cells are labels (categorical): they keep their text as
        written, even where it looks like a number ('02134' stays '02134').
    commas_kept : the columns (and the target, by name) whose decimal commas in a ';' file stay
        as written (labels: '1,5' beside words); default: ``text_columns``. Other columns of
        numbers written with decimal commas are read with points.
    unused : a test of a column's name, true where the run does not use the column (fit: the
        columns data.exclude names, or data.features leaves out); a Parquet column of a type
        nettrain does not read is then left unread (``Table.unread``), not refused. None: every
        column is used. The target is always used.
    """
    raw = read_bytes(path, stdin)
    name = source_name(path)
    if is_parquet(path, raw[: len(PARQUET_MAGIC) + 1]):
        from .parquet import read_parquet  # (pyarrow is imported only for a Parquet file)

        return read_parquet(
            raw,
            name,
            path,
            target=target,
            need_target=need_target,
            header=header,
            columns=columns,
            text_columns=text_columns,
            unused=unused,
        )
    if raw.startswith(ZIP_MAGIC):
        return _table_from_npz(raw, name, need_target)
    if raw.startswith(NPY_MAGIC):
        return _table_from_npy(raw, name, target, need_target)
    return _table_from_csv(
        raw, name, target, need_target, delimiter, header, columns, text_columns, commas_kept
    )


# -- NPY and NPZ -----------------------------------------------------------------------------------


def npy_header(stream) -> tuple[tuple, np.dtype, bool]:
    """(shape, dtype, fortran_order) from an .npy stream positioned at its start; data not read."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    else:
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    if any(d < 0 for d in shape):  # (NumPy's header reader lets a forged (-4, 3) through)
        raise ValueError(f"the header declares a negative dimension, shape {shape}")
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
        member = z[key]
        if not isinstance(member, np.ndarray):  # (np.load gives a member without the .npy magic as bytes)
            raise DataError(f"{name}: array '{key}' is not readable (not in NumPy's .npy format)")
        return member
    except DataError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc).lower() or "object arrays" in str(exc).lower():
            raise DataError(
                f"{name}: array '{key}' holds pickled Python objects, which nettrain never loads"
            ) from None
        raise DataError(f"{name}: array '{key}' is not readable ({exc})") from None
    except Exception as exc:  # zipfile.BadZipFile (bad CRC), EOFError, NotImplementedError, ...
        raise DataError(f"{name}: array '{key}' is not readable ({type(exc).__name__}: {exc})") from None


def _numbers(
    a: np.ndarray, name: str, what: str, keep_floats: bool = False, first_row: int = 0
) -> np.ndarray:
    """An array as float64 (floats as they are with ``keep_floats``: a float32 label 0.1 stays
    the 0.1 it was written as); NaN stays (a missing value), infinities are an error (naming the
    row: ``a`` holds the file's rows from ``first_row``)."""
    if a.dtype.kind not in "biuf":
        raise DataError(f"{name}: {what} has dtype {a.dtype}; expected numbers")
    out = a if keep_floats and a.dtype.kind == "f" else a.astype(np.float64)
    inf = np.isinf(out)
    if inf.any():
        idx = np.argwhere(inf)[0]
        raise DataError(f"{name}: {what} holds an infinite value at row {first_row + int(idx[0])}")
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
    if n_columns == 1 and t == 0:  # (as a CSV of one column says it)
        raise DataError(f"{name}: has only the target column 0 and no features")
    if not 0 <= t < n_columns or n_columns < 2:
        raise TargetColumnError(
            f"{name}: target column {t} does not exist: the matrix has "
            f"{n_columns} columns (0 to {n_columns - 1})"
        )
    return t


def with_weight(table: Table, name: str | None, given: str | None = None) -> Table:
    """The table with the feature column ``name`` (data.weight: a header name, or a position as
    text) taken out of its features into ``table.w``; the table itself when ``name`` is None.

    Raises DataError when the file has no such column, saying where data.weight was given
    (``given``: 'data.weight in c.yaml:5', 'from --set ...')."""
    if name is None:
        return table
    if name not in table.features:
        where = f" ({given})" if given else ""
        if table.target is not None and name == str(table.target):
            raise DataError(f"{table.source}: data.weight names the target '{name}'{where}")
        columns = table.features
        listed = f"; its feature columns: {', '.join(columns)}" if len(columns) <= 12 else ""
        raise DataError(
            f"{table.source}: data.weight names '{name}', which is not a column of the file"
            f"{did_you_mean(name, columns)}{listed}{where}"
        )
    j = table.features.index(name)
    keep = [i for i in range(len(table.features)) if i != j]
    weighted = replace(
        table,
        features=[table.features[i] for i in keep],
        cells=table.cells_of(keep),
        w=table.column(j),
    )
    return table.numbers_kept_in(weighted, keep)


def excluded_by_features(
    features: tuple[str, ...], columns: list[str], target: str | None, name: str, given: str | None = None
) -> tuple[str, ...]:
    """data.features as the data.exclude list it stands for: the training file's feature
    ``columns`` (its columns but the target, in the file's order: names, or positions as text)
    that ``features`` does not name. The model's columns keep the file's order, whatever the
    order of ``features``.

    Raises DataError when a name is not a column of the file (the target included), saying
    where data.features was given (``given``: 'data.features in c.yaml:5', 'from --set ...')."""
    absent = [f for f in features if f not in columns]
    if absent:
        x, where = absent[0], f" ({given})" if given else ""
        if target is not None and x == str(target):
            raise DataError(
                f"{name}: data.features names the target '{x}': the target cannot be an input{where}"
            )
        listed = f"; its feature columns: {', '.join(columns)}" if len(columns) <= 12 else ""
        raise DataError(
            f"{name}: data.features names '{x}', which is not a column of the file"
            f"{did_you_mean(x, columns)}{listed}{where}"
        )
    return tuple(c for c in columns if c not in features)


def _npy_view(raw: bytes, name: str) -> np.ndarray:
    """The array of an .npy file's bytes, read-only, without a copy of them (np.load of the
    bytes would hold the data twice). Anything unusual goes through ``_load_array``."""
    _check_declared_sizes(raw, name)
    stream = io.BytesIO(raw)
    try:
        shape, dtype, fortran = npy_header(stream)
    except Exception:
        return _load_array(raw, name)  # (which says what is wrong)
    if dtype.hasobject or dtype.itemsize == 0:  # (np.frombuffer refuses elements of 0 bytes)
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
    t = npy_target_index(target, a.shape[1], name) if need_target else None
    return _npy_table(a, name, t)


def _npy_table(
    a: np.ndarray, name: str, t: int | None, first_row: int = 0, rows: np.ndarray | None = None
) -> Table:
    """The Table of an .npy matrix (or of its rows from ``first_row``, numbered ``rows``), its
    column ``t`` the target (None: every column a feature)."""
    if t is None:
        X = _numbers(a, name, "the matrix", first_row=first_row)
        return Table(name, [str(j) for j in range(a.shape[1])], X, rows=rows)
    keep = [j for j in range(a.shape[1]) if j != t]
    X = a
    if a.dtype.kind in "biuf":  # (other dtypes: _numbers says what is wrong)
        # the columns either side of the target are views: no copy before the float64 one
        X = np.empty((a.shape[0], len(keep)), dtype=np.float64)
        X[:, :t], X[:, t:] = a[:, :t], a[:, t + 1 :]
    # (X is float64 already, or refused)
    X = _numbers(X, name, "the matrix", keep_floats=True, first_row=first_row)
    # (a copy: a view of the column would keep the whole matrix in memory)
    y = _numbers(a[:, t].copy(), name, "the target column", keep_floats=True, first_row=first_row)
    return Table(name, [str(j) for j in keep], X, y, str(t), rows=rows)


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
            raise TargetColumnError(f"{name}: has no target array 'y'")
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


def decode_text(raw: bytes, name: str, line: int = 1, bom: bool = True) -> str:
    """UTF-8 text (a BOM dropped, with ``bom``), or a DataError naming the line of the first bad
    byte; ``raw`` starts at the file's line ``line`` (a chunk of it)."""
    try:
        text = raw.decode("utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError as exc:
        line += raw[: exc.start].count(b"\n")
        raise DataError(f"{name}:{line}: not UTF-8 text (byte {raw[exc.start]:#04x})") from None
    if "\x00" in text:
        line += text[: text.index("\x00")].count("\n")
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


#: An input read a chunk at a time (``read_table_chunks``: predict, evaluate) comes in chunks of
#: this many lines (CSV; the first chunk a sixteenth of it) or rows (NPY, NPZ) ...
CHUNK_LINES = 65_536
#: ... or fewer, so that a chunk holds about this many bytes of the file (wide rows).
CHUNK_BYTES = 16 * 1024 * 1024


class _LineFeed:
    """The decoded lines of a chunk's bytes (``pieces``), for csv.reader. When the reader asks
    for a line past them (a quoted field that runs on past the chunk's end), the next piece of
    the input is read with ``more()`` and appended to ``pieces``, so that a second reading of the
    chunk (with loose quoting) sees the same lines; what the chunk does not take of that piece
    (``rest()``) goes back to the input."""

    def __init__(self, pieces: list[bytes], more):
        self.pieces, self._more = pieces, more
        self._index = 0
        self._used = 0  # bytes of a piece read on past the chunk handed out
        self._lines = self._open(pieces[0])
        self._next = next(self._lines, None)

    @staticmethod
    def _open(piece: bytes):
        # lines as the csv module wants them: ended by \n, \r\n or \r, the ends kept
        return iter(io.TextIOWrapper(io.BytesIO(piece), encoding="utf-8", newline=""))

    @property
    def at_end(self) -> bool:
        """Every line read so far has been handed out."""
        return self._next is None and self._index == len(self.pieces) - 1

    @property
    def past_chunk(self) -> bool:
        """A line past the chunk's own bytes has been handed out."""
        return self._index > 0

    def rest(self) -> bytes:
        """The bytes read on past the chunk that have not been handed out."""
        return self.pieces[self._index][self._used :] if self._index > 0 else b""

    def __iter__(self):
        return self

    def __next__(self) -> str:
        while self._next is None:
            if self._index == len(self.pieces) - 1:
                piece = self._more()
                if piece is None:
                    raise StopIteration
                self.pieces.append(piece)
            self._index += 1
            self._used = 0
            self._lines = self._open(self.pieces[self._index])
            self._next = next(self._lines, None)
        line, self._next = self._next, next(self._lines, None)
        if self._index > 0:  # (lines come back untranslated: their bytes are the file's)
            self._used += len(line.encode("utf-8"))
        return line


class _CsvChunks:
    """A CSV's rows, a chunk of lines at a time: one Table per chunk (none for a chunk of blank
    lines). Each chunk is read by the fast path (``_fast_numeric_block``: no quotes, numbers
    only) where it can be, else by the careful reader (``_careful``: the csv module, which names
    the line, column and value of any problem; a chunk without quotes that it would split at
    each delimiter and line end alone is split by NumPy instead, ``_plain``, to the same cells).

    A chunk ends at a line end. Where a quoted field runs on past it, the careful reader reads
    the next lines into the chunk until the record ends. What reading carries from one chunk to
    the next is kept here, so that the chunks read as the whole file would be: the header's
    names, the file line the next chunk starts at (blank lines and lines inside quoted fields
    counted), and loose quoting once a quote was out of place (the whole file would have been
    read loose). Cells are text as written, decimal commas kept (``_with_decimal_commas`` reads
    them), or float64 where the fast path read them; ``lines`` are the file's own.
    """

    def __init__(
        self,
        source: ByteSource,
        name: str,
        delimiter: str,
        header: bool,
        target,
        need_target: bool,
        columns: list[str] | None = None,
        text_columns: tuple[str, ...] = (),
        fast: bool = True,
    ):
        self.source, self.name, self.delimiter, self.header = source, name, delimiter, header
        self.target, self.need_target = target, need_target
        self.columns, self.text_columns, self.fast = columns, text_columns, fast
        self.names: list[str] | None = None
        self.header_line = 0
        self.line = 1  # the file line the next chunk starts at
        self.strict = True
        self.rows = 0  # data rows handed out
        self._checked = False  # the header's checks made
        self._plan: tuple | None = None  # (names, the fast path's plan for them)

    def __iter__(self) -> Iterator[Table]:
        chunks = 0
        while True:
            raw = self._next_raw()
            if raw is None:
                break
            chunks += 1
            first = self.line
            table = self._fast(raw, first) if self.fast and b'"' not in raw else None
            if table is None:
                table = self._careful(raw, first)
            if table is None:
                continue
            self.rows += table.n
            if chunks > 1 or not self.source.exhausted:
                table.part = f"lines {int(table.lines[0])}-{int(table.lines[-1])}"
            yield table
        if self.names is None:
            raise DataError(f"{self.name}: is empty; expected a CSV header row and data rows")
        if not self.rows:
            raise DataError(f"{self.name}: has a header (line {self.header_line}) but no data rows")

    def _next_raw(self) -> bytes | None:
        """The next chunk's bytes, checked to be UTF-8 text without NUL bytes. The first chunk is
        a sixteenth of the others, so that the first answers come soon (``| head``)."""
        first = self.source.newlines_out == 0
        raw = self.source.chunk(max(1, CHUNK_LINES // 16) if first else CHUNK_LINES, CHUNK_BYTES)
        if raw is not None and not (raw.isascii() and b"\x00" not in raw):  # (ASCII: UTF-8 already)
            decode_text(raw, self.name, line=self.source.newlines_out - raw.count(b"\n") + 1, bom=False)
        return raw

    def _fast_plan(self, names: list[str]) -> tuple[int | None, list[int]] | None:
        """(target column, columns to parse) for the fast path, or None when it cannot read a
        file with these columns (names repeated or empty, one column, a target not found, a
        needed column that keeps its text)."""
        if self._plan is not None and self._plan[0] == names:
            return self._plan[1]
        plan = None
        if len(set(names)) == len(names) and all(names) and len(names) >= 2:
            try:
                t = column_index(names, self.target, self.name) if self.need_target else None
            except DataError:
                t = -1  # the careful reader says what is wrong
            wanted = [j for j in range(len(names)) if j != t]
            if self.columns is not None:
                wanted = [names.index(c) for c in self.columns] if set(self.columns) <= set(names) else []
            # labels keep their text: loadtxt would make '02134' the number 2134
            if t != -1 and wanted and not any(names[j] in self.text_columns for j in wanted):
                plan = (t, wanted)
        self._plan = (names, plan)
        return plan

    def _fast(self, raw: bytes, first: int) -> Table | None:
        names, start = self.names, 0
        if names is None and first != 1:
            return None  # blank lines came first: the careful reader counts them
        if names is None:  # the first line: the header, or (without one) the number of columns
            end = raw.find(b"\n")
            if end < 0:
                return None
            line = raw[:end].decode("utf-8").rstrip("\r")
            if not line.strip():
                return None  # blank lines before the header: the careful reader counts them
            names = [h.strip() for h in line.split(self.delimiter)]
            if not self.header:
                names = [str(j) for j in range(len(names))]
            else:
                start = end + 1
        plan = self._fast_plan(names)
        if plan is None:
            return None
        t, wanted = plan
        block = _fast_numeric_block(raw, start, self.delimiter, len(names), t, wanted)
        if block is None:
            return None
        X, y = block
        if self.names is None:
            self.names, self.header_line, self._checked = names, 1 if self.header else 0, True
        self.line = first + raw.count(b"\n") + (not raw.endswith(b"\n"))
        data_first = first + 1 if start else first
        return Table(
            self.name,
            [names[j] for j in wanted],
            X,
            y,
            None if t is None else names[t],
            np.arange(data_first, data_first + len(X)),
            named=bool(self.header),
        )

    def _careful(self, raw: bytes, first: int) -> Table | None:
        pieces = [raw]
        records = self._plain(raw, first)
        while records is None:
            try:
                records = self._records(pieces, first)
            except _LooseQuoting:
                self.strict = False  # the whole file would be read loose from here on: so is the rest
        names, header_line, parts, lines, used, rest = records
        if rest:  # the lines after the record that ran past the chunk: the next chunk's
            self.source.unread(rest)
        self.names, self.header_line, self.line = names, header_line, first + used
        if not len(lines):
            return None
        self._check_header()
        name = self.name
        columns = []
        for blocks in parts:  # one column at a time, its blocks let go as it is joined
            columns.append(blocks[0] if len(blocks) == 1 else np.concatenate(blocks))
            blocks.clear()
        t = column_index(names, self.target, name) if self.need_target else None
        if t is not None and len(names) < 2:
            raise DataError(f"{name}: has only the target column '{names[t]}' and no features")
        keep = [j for j in range(len(names)) if j != t]
        y = None if t is None else np.char.strip(columns[t])
        return Table(
            name,
            [names[j] for j in keep],
            tuple(columns[j] for j in keep),
            y,
            None if t is None else names[t],
            np.array(lines),
            named=bool(self.header),
        )

    def _plain(self, raw: bytes, first: int):
        """``_records`` of a chunk that the csv module would split at each delimiter and line end
        only, split with NumPy instead (``_plain_columns``): no quotes, no line ended by a bare
        \\r, every line a record of the header's number of fields (two or more; so no blank
        lines), no field as long as the csv module's field limit. None: read it with the csv
        module, which also says what is wrong."""
        d = self.delimiter
        if len(d) != 1 or not d.isascii() or d in '\r\n"' or b'"' in raw:
            return None
        if b"\r" in raw and raw.count(b"\r") != raw.count(b"\r\n"):
            return None
        limit = csv.field_size_limit()
        names, header_line, start, line = self.names, self.header_line, 0, first
        if names is None:  # the first line: the header, or (without one) the number of columns
            end = raw.find(b"\n")
            head = raw[: len(raw) if end < 0 else end].decode("utf-8").removesuffix("\r")
            if (d not in head and not head.strip()) or len(head) >= limit:
                return None  # a blank line: the csv module skips it
            if self.header:
                names = [h.strip() for h in head.split(d)]
                header_line, start, line = first, len(raw) if end < 0 else end + 1, first + 1
            else:
                names = [str(j) for j in range(head.count(d) + 1)]
        if len(names) < 2 or start >= len(raw):
            return None
        parts: list[list[np.ndarray]] = [[] for _ in names]
        lines = []
        while start < len(raw):  # (blocks of whole lines, so that the index arrays stay small)
            cut = raw.find(b"\n", start + _PLAIN_BLOCK_BYTES)
            end = len(raw) if cut < 0 else cut + 1
            n = _plain_columns(raw, start, end, d, len(names), limit, parts)
            if n is None:
                return None
            lines.append(np.arange(line, line + n))
            start, line = end, line + n
        used = raw.count(b"\n") + (not raw.endswith(b"\n"))
        return names, header_line, parts, np.concatenate(lines), used, b""

    def _records(self, pieces: list[bytes], first: int):
        """(names, header line, cells as per-column lists of text arrays, file line of each
        row, lines read, bytes read on but not used) of the records of a chunk (``pieces`` grows
        where a record runs on past its end; the chunk then ends with that record).
        Blank lines skipped. Read with strict quoting first, so that a quote never closed is an
        error naming its row instead of a last cell that swallows the rest of the file."""
        name, names, header_line = self.name, self.names, self.header_line
        feed = _LineFeed(pieces, self._next_raw)
        reader = csv.reader(feed, delimiter=self.delimiter, strict=self.strict)
        rows: list[list[str]] = []  # the records not yet moved into ``parts``
        parts: list[list[np.ndarray]] = []  # per column, its text arrays, a block of rows each
        lines: list[int] = []
        start = first
        try:
            for record in reader:
                line, start = start, first + reader.line_num
                if record and not (len(record) == 1 and not record[0].strip()):  # (blank: skipped)
                    if names is None and self.header:
                        names, header_line = [h.strip() for h in record], line
                    else:
                        if names is None:
                            names = [str(j) for j in range(len(record))]
                        if len(record) != len(names):
                            raise DataError(
                                f"{name}:{line}: expected {len(names)} fields, found {len(record)}"
                            )
                        rows.append(record)
                        lines.append(line)
                        if len(rows) == _BLOCK_ROWS:
                            _move_block(rows, parts)
                if feed.at_end or feed.past_chunk:  # (another record would be the next chunk's)
                    break
        except csv.Error as exc:
            if self.strict and "unexpected end of data" in str(exc):
                raise DataError(
                    f"{name}:{start}: a quoted field in this row is never closed (an unmatched '\"')"
                ) from None
            if self.strict:
                raise _LooseQuoting() from None
            raise DataError(f"{name}:{first - 1 + reader.line_num}: {exc}") from None
        _move_block(rows, parts)
        return names, header_line, parts, lines, reader.line_num, feed.rest()

    def _check_header(self) -> None:
        """The header row's checks, once, before the first rows are handed out."""
        if self._checked:
            return
        self._checked = True
        names, name, line = self.names, self.name, self.header_line
        if not self.header:
            return
        if names and all(_is_number(h) for h in names) and len(set(names)) < len(names):
            # numbers, some repeated: data, not a header (distinct numbers such as years may be one)
            shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
            raise DataError(
                f"{name}:{line}: the first row ({shown}) "
                "looks like data, not a header row: add a header row naming the columns (or set "
                "data.header: false for a file without one)"
            )
        check_column_names(names, f"{name}:{line}", " in the header")


#: Bytes of a chunk that ``_plain_columns`` splits at a time (its index arrays take 8 bytes a
#: cell, its narrow columns' windows up to _PLAIN_NARROW bytes a cell, twice) ...
_PLAIN_BLOCK_BYTES = 16 * 1024 * 1024
#: ... and the widest cells of a column that it gathers with other narrow columns' at once.
_PLAIN_NARROW = 24
#: Bytes of a wide column's cells that it zeroes past their ends at a time.
_PLAIN_SLAB_BYTES = 1024 * 1024


def _plain_columns(
    raw: bytes, start: int, end: int, delimiter: str, width: int, limit: int, parts: list[list[np.ndarray]]
) -> int | None:
    """Split the lines of raw[start:end] (whole lines, no quotes, no bare \\r) at each
    ``delimiter`` and line end, as the csv module would, and append each column's cells to
    ``parts`` as one text array, as wide as its longest cell (as ``_move_block`` makes them):
    the number of lines, or None (nothing appended) when a line is not ``width`` fields or a
    field is ``limit`` bytes or longer (the csv module says what is wrong)."""
    block = np.frombuffer(raw, dtype=np.uint8, count=end - start, offset=start)
    seps = np.flatnonzero((block == ord(delimiter)) | (block == ord("\n")))
    ended = raw[end - 1 : end] == b"\n"
    if not ended:  # the file's last line, without a line end
        seps = np.append(seps, len(block))
    if len(seps) % width:
        return None
    n = len(seps) // width
    grid = seps.reshape(n, width)
    line_ends = grid[:, -1]
    if (block[line_ends[: n if ended else n - 1]] != ord("\n")).any() or np.count_nonzero(
        block[grid[:, :-1]] != ord(delimiter)
    ):
        return None  # a line with more or fewer fields
    starts = np.empty(grid.shape, dtype=grid.dtype)
    flat = starts.reshape(-1)  # (a view)
    flat[0] = 0
    np.add(seps[:-1], 1, out=flat[1:])
    lengths = grid - starts
    del grid, seps
    if b"\r" in raw:  # (each \r ends a line, before its \n)
        lengths[:, -1] -= block[line_ends - 1] == ord("\r")
    wide = lengths.max(axis=0)
    if int(wide.max()) >= limit:
        return None
    wide = np.maximum(wide, 1)  # (np.array of empty strings is '<U1')
    # a column's cells are its rows' windows of its width, the bytes past each cell's end zeroed
    padded = np.concatenate([block, np.zeros(int(wide.max()) + 1, dtype=np.uint8)])
    view = np.lib.stride_tricks.sliding_window_view(padded, int(wide.max()))

    def windows(at: np.ndarray, length: np.ndarray, w: int) -> np.ndarray:
        # the w bytes from each of ``at``, those past ``length`` zeroed by a row of 1s, then 0s,
        # of a (w + 1) x w table (narrow columns only: the table takes w * w bytes)
        cells = view[at, :w]
        keep = (np.arange(w) < np.arange(w + 1)[:, None]).astype(np.uint8)
        return np.multiply(cells, np.take(keep, length, axis=0), out=cells)

    def slabs(at: np.ndarray, length: np.ndarray, w: int):
        # a wide column's windows as ``windows``, a slab of rows (about 1 MB) at a time: (first
        # row, its cells), zeroed past their ends by a comparison of that slab's alone
        step = max(1, _PLAIN_SLAB_BYTES // w)
        for s in range(0, len(at), step):
            cells = view[at[s : s + step], :w]
            cells[np.arange(w) >= length[s : s + step, None]] = 0
            yield s, cells

    # the narrow columns' windows at once, a column's rows after each other: those of widths 1,
    # 2, 3-4, 5-8, ... together, so that none takes more than twice its own width's room
    cells = {}
    group = np.where(wide <= _PLAIN_NARROW, np.ceil(np.log2(wide)), -1)
    for g in np.unique(group[group >= 0]).tolist():
        narrow = np.flatnonzero(group == g)
        w = int(wide[narrow].max())
        at = windows(starts[:, narrow].T.ravel(), lengths[:, narrow].T.ravel(), w).reshape(len(narrow), n, w)
        cells.update((j, at[i, :, : wide[j]]) for i, j in enumerate(narrow.tolist()))
    text = raw.isascii() if end - start == len(raw) else raw[start:end].isascii()
    for j in range(width):
        w = int(wide[j])
        column = cells.get(j)
        if column is not None and text:  # ASCII: the codes are the code points, as a text array holds them
            parts[j].append(column.astype(np.uint32).view(f"U{w}").reshape(n))
        elif column is not None:
            parts[j].append(np.char.decode(np.ascontiguousarray(column).view(f"S{w}").reshape(n), "utf-8"))
        elif text:  # a wide column: its slabs' codes straight into the text array
            codes = np.empty((n, w), dtype=np.uint32)
            for s, part in slabs(starts[:, j], lengths[:, j], w):
                codes[s : s + len(part)] = part
            parts[j].append(codes.view(f"U{w}").reshape(n))
        else:  # as wide as its longest cell in characters (UTF-8 bytes not 10xxxxxx), decoded into it
            chars = 1
            for s, part in slabs(starts[:, j], lengths[:, j], w):
                follow = np.count_nonzero((part & 0xC0) == 0x80, axis=1)
                chars = max(chars, int((lengths[s : s + len(part), j] - follow).max()))
            out = np.empty(n, dtype=f"<U{chars}")
            for s, part in slabs(starts[:, j], lengths[:, j], w):
                out[s : s + len(part)] = np.char.decode(part.view(f"S{w}")[:, 0], "utf-8")  # (a copy)
            parts[j].append(out)
    return n


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


def check_column_names(names: list[str], where: str, in_header: str = "") -> None:
    """A DataError for an empty column name or one that appears twice (a CSV header's, a
    Parquet schema's); ``where`` begins the message, ``in_header`` ends it."""
    empty = [j for j, h in enumerate(names) if not h]
    if empty:
        raise DataError(f"{where}: column {empty[0] + 1} has an empty name{in_header}")
    seen: set[str] = set()
    for h in names:
        if h in seen:
            raise DataError(f"{where}: column name '{h}' appears twice{in_header}")
        seen.add(h)


def not_a_feature_column(table: Table, key: str, name: str, given: str | None = None) -> DataError:
    """The error for a column that a data key (exclude, categorical) names and the file has not
    among its features: the target's own column said as such, else a did-you-mean, the file's
    feature columns (up to 12) and where the key was given ('data.exclude in c.yaml:5')."""
    columns = table.features
    if table.target is not None and name == table.target:
        what = "the target column (data.target), not a feature"
    else:
        listed = f"; its feature columns: {', '.join(columns)}" if len(columns) <= 12 else ""
        what = f"not a feature column{did_you_mean(name, columns)}{listed}"
    where = f" ({given})" if given else ""
    return DataError(f"{table.source}: data.{key} names '{name}', which is {what}{where}")


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


def _fast_numeric_block(
    raw: bytes, start: int, delimiter: str, width: int, t: int | None, wanted: list[int]
) -> tuple[np.ndarray, np.ndarray | None] | None:
    """The common case at C speed: the lines of ``raw[start:]``, data rows of a clean numeric
    CSV of ``width`` columns, parsed by ``np.loadtxt``: (X (n, wanted) float64, the target
    column ``t`` as stripped text (n,) or None).

    None when anything needs the careful reader: quotes, blank lines, a line with more or fewer
    fields, a needed cell that is not a plain finite number (or NaN). Columns that are not
    needed (ids, labels) are skipped with ``usecols``; a text target is read as text in a second
    pass over that one column. The bytes are parsed as they are (no decoded copy): loadtxt reads
    a BytesIO faster than a str.
    """
    tail = len(raw)
    while tail > start and raw[tail - 1 : tail] in (b"\n", b"\r"):
        tail -= 1  # trailing line ends
    if tail <= start or b"\n\n" in raw or b"\n\r\n" in raw or raw.startswith((b"\n", b"\r\n")):
        return None  # no rows, or blank lines (the careful reader keeps line numbers right)
    skip = 1 if start else 0
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
    except (ValueError, IndexError, UnicodeDecodeError):
        return None
    n = X.shape[0]
    if n == 0 or np.isinf(X).any() or raw.count(b"\n", start, tail) + 1 != n:
        return None
    per_line = width - 1
    if raw.count(delimiter.encode("utf-8"), start, tail) != n * per_line:
        return None  # some row has too many or too few fields: the careful reader says which
    # A row too short fails in loadtxt when the last column is read, and then the count above
    # leaves no row too long; otherwise a row a field short beside one a field long passes both
    # (their values shifted into other columns): each line is counted
    if max([*wanted, -1 if t is None else t]) < per_line and not _same_fields_per_line(
        raw, start, tail, delimiter, per_line
    ):
        return None
    return X, y


def _with_decimal_commas(table: Table, delimiter: str, kept: tuple[str, ...] = ()) -> Table:
    """The table with its text columns (and a text target) that are numbers written with decimal
    commas read with points (``_decimal_commas``); as it is in a comma-separated file. Columns
    named in ``kept`` (labels: categorical ones, --keep's, a target named there) keep
    their text as written: decided per chunk, a chunk holding only '1,5' of a column that also
    holds words would give the category '1.5', which training never saw."""
    if delimiter == ",":
        return table
    if table.is_text:
        table.cells = tuple(
            c if name in kept else _decimal_commas(c) for name, c in zip(table.features, table.cells)
        )
    if table.y is not None and table.y.dtype.kind == "U" and table.target not in kept:
        table.y = _decimal_commas(table.y)  # (a decimal-comma target: '-0,825')
    return table


def _table_from_csv(
    raw: bytes,
    name: str,
    target,
    need_target: bool,
    delimiter,
    header,
    columns: list[str] | None = None,
    text_columns: tuple[str, ...] = (),
    commas_kept: tuple[str, ...] | None = None,
) -> Table:
    """A whole CSV as one Table: read by ``_CsvChunks`` as one chunk (the parser that reads
    files a chunk at a time, so the two cannot differ; one chunk, so that the whole file is read
    by the fast path or by the careful reader, with no copy of the bytes or of the numbers)."""
    if raw.startswith(BOM):
        raw = raw[len(BOM) :]
    # the lines the delimiter is sniffed from: within the first 65,536 characters
    delimiter = delimiter or sniff_delimiter(raw[: 4 * 65536].decode("utf-8", "replace"))
    settings = (name, delimiter, header, target, need_target, columns, text_columns)
    (table,) = _CsvChunks(WholeBytes(raw), *settings)  # (no rows: an error)
    return _with_decimal_commas(table, delimiter, text_columns if commas_kept is None else commas_kept)


# -- a chunk at a time -----------------------------------------------------------------------------


def open_source(path: str, stdin=None) -> ByteSource:
    """The bytes of a data file, or of standard input when ``path`` is '-', to be read a piece
    at a time (errors as ``read_bytes`` says them). Standard input and other pipes are watched
    for a stalled producer (see ``source.py``)."""
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin
        if stream is None or getattr(stream, "closed", False):
            raise DataError("standard input is closed; pipe data in or give a file path")
        source = ByteSource(
            getattr(stream, "buffer", stream),
            stalls=True,
            unreadable=lambda exc: f"standard input cannot be read: {exc}",
        )
        if not source.head(1):
            raise DataError("standard input is empty; pipe data in or give a file path")
        return source
    try:
        f = open(path, "rb")  # noqa: SIM115 (closed by the source)
        regular = stat.S_ISREG(os.fstat(f.fileno()).st_mode)
    except (OSError, ValueError) as exc:
        raise DataError(unreadable("data file", path, exc)) from None
    return ByteSource(
        f, stalls=not regular, unreadable=lambda exc: unreadable("data file", path, exc), owned=True
    )


def read_table_chunks(
    path: str,
    target: str | int | None = None,
    *,
    need_target: bool = True,
    stdin=None,
    delimiter: str | None = None,
    header: bool = True,
    columns: list[str] | None = None,
    text_columns: tuple[str, ...] = (),
    commas_kept: tuple[str, ...] | None = None,
    unused=None,
) -> Iterator[Table]:
    """``read_table`` a chunk of rows at a time: Tables of up to ``CHUNK_LINES`` lines (or
    ``CHUNK_BYTES`` bytes) of the input each, in order, each read as the whole file would be
    (the same cells, file lines and messages). The next chunk is read only when asked for, so
    memory holds one chunk, not the input, and the first rows are ready before the last are read.

    A CSV (a file or standard input) is read in chunks of lines; an .npy file in chunks of rows
    with plain file reads; a Parquet file in record batches of rows, a row group at a time (on
    standard input: its bytes read whole first); an NPZ, and an .npy on standard input, are read
    whole and handed out in chunks. A chunk that is not the whole input says which part it is
    (``Table.part``). Where decided over the whole file, a CSV's decimal commas are decided here per chunk.
    Parameters as ``read_table``'s.
    """
    name = source_name(path)
    source = open_source(path, stdin)
    try:
        magic = source.head(len(NPY_MAGIC))
        if is_parquet(path, magic):
            from .parquet import parquet_chunks  # (pyarrow is imported only for a Parquet file)

            settings = dict(
                target=target,
                need_target=need_target,
                header=header,
                columns=columns,
                text_columns=text_columns,
                unused=unused,
            )
            if path != "-" and os.path.isfile(path):
                source.close()
                yield from parquet_chunks(path, name, path, **settings)
            else:
                yield from parquet_chunks(source.read_all(), name, path, **settings)
        elif magic.startswith(ZIP_MAGIC):
            yield from _slices(_table_from_npz(source.read_all(), name, need_target))
        elif magic.startswith(NPY_MAGIC) and path != "-" and os.path.isfile(path):
            source.close()
            yield from _npy_chunks(path, name, target, need_target)
        elif magic.startswith(NPY_MAGIC):
            yield from _slices(_table_from_npy(source.read_all(), name, target, need_target))
        else:
            if delimiter is None:  # from the lines the whole-file reader sniffs (fewer if stdin stalls)
                delimiter = sniff_delimiter(source.peek_lines(200, 4 * 65536).decode("utf-8", "replace"))
            settings = (name, delimiter, header, target, need_target, columns, text_columns)
            for table in _CsvChunks(source, *settings):
                kept = text_columns if commas_kept is None else commas_kept
                yield _with_decimal_commas(table, delimiter, kept)
    finally:
        source.close()


def _slices(table: Table) -> Iterator[Table]:
    """A table read whole (NPZ, NPY from standard input), handed out a chunk of rows at a time."""
    step = CHUNK_LINES
    if table.n <= step:
        yield table
        return
    for a in range(0, table.n, step):
        part = table.slice(a, a + step)
        part.part = f"rows {a}-{a + part.n - 1}"
        yield part


def _npy_chunks(path: str, name: str, target, need_target: bool) -> Iterator[Table]:
    """An .npy file's rows a chunk at a time, read with plain file reads: the page cache holds
    the file, not this process (a memory map's pages would count as the process's once read).
    The header comes from np.load(mmap_mode='r'), which reads no data. Anything unusual (not a
    2-D matrix of numbers in C order, a damaged file) is read whole, as ``read_table`` does, which
    says what is wrong."""
    try:
        mm = np.load(path, mmap_mode="r", allow_pickle=False)
        usual = (
            isinstance(mm, np.ndarray)
            and mm.ndim == 2
            and mm.shape[0] > 0
            and mm.shape[1] > 0  # (rows of 0 bytes cannot be read into)
            and mm.dtype.kind in "biuf"
            and mm.flags.c_contiguous
        )
        shape, dtype, offset = mm.shape, mm.dtype, int(getattr(mm, "offset", 0))
        del mm
    except Exception:
        usual = False
    if not usual:
        yield from _slices(_table_from_npy(read_bytes(path), name, target, need_target))
        return
    n, c = shape
    t = npy_target_index(target, c, name) if need_target else None
    step = max(1, min(CHUNK_LINES, CHUNK_BYTES // max(1, c * dtype.itemsize)))
    try:
        f = open(path, "rb")  # noqa: SIM115
    except (OSError, ValueError) as exc:
        raise DataError(unreadable("data file", path, exc)) from None
    with f:
        f.seek(offset)
        for a in range(0, n, step):
            rows = np.empty((min(step, n - a), c), dtype=dtype)
            view = memoryview(rows).cast("B")
            if f.readinto(view) != view.nbytes:
                raise DataError(f"{name}: the file ended early (truncated while it was read?)")
            table = _npy_table(rows, name, t, first_row=a, rows=np.arange(a, a + len(rows)))
            if n > step:
                table.part = f"rows {a}-{a + len(rows) - 1}"
            yield table
