"""Reading Parquet files into a Table, as a CSV of the same table is read; writing a Parquet file
a chunk (a row group) at a time (predict --format parquet).

pyarrow is an optional dependency (``pip install 'nettrain[parquet]'``), imported here only when
a Parquet file is read or written, so that nettrain starts without it. The columns keep the schema's names
(a CSV's header); numbers (integers, floats, booleans as 0 and 1, decimals) and text (strings,
dictionary-encoded strings) are what nettrain reads; a null is a missing value, as an empty CSV
cell is, and ``data.missing`` says what becomes of it. Other types (timestamps, dates, binary,
lists, structs, ...) are refused, naming the column, unless the run does not use the column
(``unused``: fit's data.exclude, the columns data.features leaves out; predict's columns the model
does not take): such a column is left unread (``Table.unread``).

A table whose feature columns are all numbers (none of them a label that keeps its text:
``text_columns``) becomes a float64 matrix (NaN where a value is missing), as the CSV reader's
fast path gives; otherwise the table holds text, as the CSV reader's careful path gives: its text
columns as text, and each number column as a ``NumberColumn``: its float64 values, which
``Table.numbers`` gives as they are (where a CSV's text is parsed), and its text, the numbers
written out in full (float64's shortest exact form), made only when asked (``Table.column``: a
categorical column's labels). The values are those its text reads as, bit for bit, so nothing
depends on which way they came (a table of 1,000,000 rows, 10 number columns and one of text was
written as text and parsed back: a fit took 4 times as long). The target is text in either case
(a float32 label 0.1 stays '0.1'), with a number target's values kept as ``Table.numbers``'. So a
model trained on a CSV predicts on a Parquet file of the same columns, and the other way round,
with the same results.

Rows are numbered from 0 in messages ('data.parquet row 5'), as an array's are.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from ..errors import DataError, unreadable
from . import read
from .read import Table, check_column_names, column_index

INSTALL = "pip install 'nettrain[parquet]'"


def _pyarrow(name: str):
    """(pyarrow, pyarrow.parquet, pyarrow.compute), or a DataError saying how to install them."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError(f"{name}: is a Parquet file, which needs pyarrow to be read: {INSTALL}") from None
    return pa, pq, pc


def _open(source: Any, name: str, path: str):
    """A pyarrow ParquetFile of ``source`` (a path, or the file's bytes), or a DataError."""
    _check_start(source, name)
    pa, pq, _ = _pyarrow(name)
    try:
        if isinstance(source, bytes | bytearray | memoryview):
            source = pa.BufferReader(source)
        return pq.ParquetFile(source)
    except OSError as exc:
        if isinstance(source, str) and not isinstance(exc, pa.ArrowException):  # (not found, ...)
            raise DataError(unreadable("data file", path, exc)) from None
        raise DataError(f"{name}: not a readable Parquet file ({_reason(exc)})") from None
    except Exception as exc:  # pyarrow.ArrowInvalid on a file that is not Parquet, or truncated
        raise DataError(f"{name}: not a readable Parquet file ({_reason(exc)})") from None


def _check_start(source: Any, name: str) -> None:
    """A DataError for a file named as Parquet ('.parquet', '.pq') that does not start as one
    does ('PAR1'), saying what it looks like (a CSV, an .npy, ...): the name is what the user
    meant, so the file is not read as what it holds; pyarrow's own message ('Parquet magic bytes
    not found in footer') would not say what is wrong. A file that starts as Parquet and is
    damaged is left to pyarrow's reasons."""
    if isinstance(source, str):
        try:
            with open(source, "rb") as f:
                head = f.read(64)
        except OSError:  # (not found, ...: said when pyarrow opens it)
            return
    else:
        head = bytes(source[:64])
    if head.startswith(read.PARQUET_MAGIC):
        return
    if not head:
        raise DataError(f"{name}: is empty, not a Parquet file")
    if head.startswith(read.NPY_MAGIC):
        like = "an .npy array"
    elif head.startswith(read.ZIP_MAGIC):
        like = "a zip archive: an .npz?"
    elif b"\x00" not in head and all(b >= 32 or b in b"\t\r\n" for b in head):
        like = "text: a CSV?"
    else:
        like = None
    what = f"it starts like {like}" if like else f"it does not start with {read.PARQUET_MAGIC.decode()}"
    raise DataError(
        f"{name}: is named as a Parquet file but is not one ({what}); rename it (nettrain tells "
        "CSV, NPY and NPZ files apart by their first bytes)"
    )


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class _Layout:
    """How a Parquet file's columns become a Table: which columns are read, the target, and
    whether the features are numbers (a float64 matrix) or text (see the module doc)."""

    def __init__(
        self,
        schema,
        name: str,
        target,
        need_target: bool,
        header: bool,
        columns: list[str] | None,
        text_columns: tuple[str, ...],
        unused=None,
    ):
        pa = _pyarrow(name)[0]
        file_names = list(schema.names)
        self.name = name
        if header:  # the names as a CSV header's are taken: stripped, none empty or twice
            names = [h.strip() for h in file_names]
            check_column_names(names, name)
        else:  # numbered, as a CSV read without a header row
            names = [str(j) for j in range(len(file_names))]
        if not names:
            raise DataError(f"{name}: has no columns")
        t = column_index(names, target, name) if need_target else None
        if t is not None and len(names) < 2:
            raise DataError(f"{name}: has only the target column '{names[t]}' and no features")
        taken = list(range(len(names)))
        types = [schema.field(j).type for j in range(len(names))]
        if columns is not None:  # just the model's columns (if one is missing: every readable one)
            wanted = set(columns)
            if wanted <= set(names):
                taken = [j for j in taken if names[j] in wanted or j == t]
            else:  # (a column of another type is not one of the model's)
                taken = [j for j in taken if names[j] in wanted or j == t or _kind(pa, types[j])]
        # a column of a type nettrain does not read, which the run does not use: left unread
        left = [j for j in taken if j != t and unused is not None and unused(names[j])]
        left = [j for j in left if _kind(pa, types[j]) is None]
        self.unread = tuple(names[j] for j in left)
        taken = [j for j in taken if j not in left]
        for j in taken:
            if _kind(pa, types[j]) is None:
                raise DataError(
                    f"{name}: column '{file_names[j]}' has type {types[j]}, which nettrain does not "
                    "read (it reads numbers, booleans and text); convert the column (a time to a "
                    "number of seconds, for example, or to text) or leave it out"
                )
        self.file_names = [file_names[j] for j in taken]  # the file's columns read, in order
        self.read_names = [names[j] for j in taken]
        self.target = None if t is None else names[t]
        self.features = [names[j] for j in taken if j != t]
        self.text = any(_kind(pa, types[j]) == "text" or names[j] in text_columns for j in taken if j != t)
        self.text_columns = set(text_columns)
        self.named = bool(header)

    def table(self, batch, first_row: int | None = None) -> Table:
        """The Table of a pyarrow Table or RecordBatch holding the columns ``file_names`` (in order);
        ``first_row``: the file's row of its first row, for a chunk of the file (None: the whole
        file)."""
        pa, _, pc = _pyarrow(self.name)
        n = batch.num_rows
        rows = None if first_row is None else np.arange(first_row, first_row + n)
        # asked for a column 'a.b', pyarrow also gives a struct 'a' with a field 'b': left out
        wanted = set(self.file_names)
        columns = [column for f, column in zip(batch.schema.names, batch.columns) if f in wanted]
        by_name = dict(zip(self.read_names, columns))

        def converted(f: str, convert, **kwargs) -> Any:  # (an array, a NumberColumn or None)
            try:
                return convert(pa, pc, by_name[f], **kwargs)
            except Exception as exc:  # (pyarrow's errors: a value its cast refuses)
                raise DataError(f"{self.name}: column '{f}' cannot be read ({_reason(exc)})") from None

        y = None if self.target is None else converted(self.target, _as_text, own_dtype=True)
        names = self.features
        if self.text:  # text columns as text; number columns as numbers, their text made if asked
            cells: Any = tuple(converted(f, _as_cells, keep_text=f in self.text_columns) for f in names)
        else:
            cells = np.empty((n, len(names)), dtype=np.float64)
            for j, f in enumerate(names):
                cells[:, j] = converted(f, _as_numbers)
        table = Table(
            self.name, list(names), cells, y, self.target, rows=rows, named=self.named, unread=self.unread
        )
        if y is not None:  # a number target's numbers, kept for Table.numbers as its text's
            kept = converted(self.target, _target_numbers)
            if kept is not None:
                table.keep_numbers(None, *kept)
        if not self.text:  # (text: parse_numbers says it, as of a CSV)
            bad = np.isinf(cells)
            if bad.any():
                i, j = (int(v) for v in np.argwhere(bad)[0])
                raise DataError(
                    f"{table.where(i)}: column '{names[j]}' holds '{cells[i, j]:g}', which is not a "
                    "finite number"
                )
        return table


def _kind(pa, dtype) -> str | None:
    """'number', 'text', or None (a type nettrain does not read)."""
    types = pa.types
    if types.is_dictionary(dtype):
        return _kind(pa, dtype.value_type)
    if (
        types.is_integer(dtype)
        or types.is_floating(dtype)
        or types.is_boolean(dtype)
        or types.is_decimal(dtype)
        or types.is_null(dtype)
    ):
        return "number"
    is_string_view = getattr(types, "is_string_view", lambda _: False)  # (pyarrow 16 and later)
    if types.is_string(dtype) or types.is_large_string(dtype) or is_string_view(dtype):
        return "text"
    return None


def _decoded(pa, pc, column):
    """A column with its dictionary (if any) decoded into plain values."""
    if pa.types.is_dictionary(column.type):
        return pc.cast(column, column.type.value_type)
    return column


def _as_numbers(pa, pc, column) -> np.ndarray:
    """A numeric column as float64 (n,), NaN where a value is null (booleans as 0 and 1). Integers
    beyond 2^53 and decimals are rounded to the nearest float64, as a CSV's are read (a decimal
    by way of its text: pyarrow's own cast may miss by one unit in the last place)."""
    column = _decoded(pa, pc, column)
    if pa.types.is_decimal(column.type):
        column = pc.cast(column, pa.string())
    values = pc.cast(column, pa.float64(), safe=False)
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)


def _as_text(pa, pc, column, own_dtype: bool = False) -> np.ndarray:
    """A column as text (n,), '' where a value is null (an empty CSV cell). Numbers are written
    as their float64 values in full (with ``own_dtype``, floats in their own precision: a float32
    label 0.1 is '0.1'), integers as integers, booleans as 0 and 1."""
    column = _decoded(pa, pc, column)
    dtype = column.type
    null = np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    if _kind(pa, dtype) == "text":
        values = pc.fill_null(pc.cast(column, pa.string()), "").to_numpy(zero_copy_only=False)
        return values.astype(str) if len(values) else np.array([], dtype="<U1")
    if pa.types.is_integer(dtype):
        values = _written(pc.fill_null(column, 0).to_numpy(zero_copy_only=False))
    elif pa.types.is_boolean(dtype):
        values = _written(pc.cast(pc.fill_null(column, False), pa.int8()).to_numpy(zero_copy_only=False))
    elif pa.types.is_floating(dtype) and own_dtype:
        values = np.asarray(column.to_numpy(zero_copy_only=False)).astype(str)
    else:  # floats, decimals, nulls: float64
        values = _written(_as_numbers(pa, pc, column))
    if null.any():
        values = np.where(null, "", values)
    return values


def _target_numbers(pa, pc, column) -> tuple[np.ndarray, np.ndarray] | None:
    """(float64 values, missing mask) of a number target, as ``parse_numbers`` reads its text
    (``_as_text`` with ``own_dtype``); None for a text target, a float32 or float16 one (its text
    is its own precision's: '0.1' reads as 0.1, not as float32 0.1) and one not all finite (whose
    error ``parse_numbers`` says)."""
    column = _decoded(pa, pc, column)
    dtype = column.type
    if _kind(pa, dtype) != "number" or (pa.types.is_floating(dtype) and not pa.types.is_float64(dtype)):
        return None
    values = _as_numbers(pa, pc, column)
    if np.isinf(values).any():
        return None
    return values, np.isnan(values)


def _as_cells(pa, pc, column, keep_text: bool = False) -> np.ndarray | NumberColumn:
    """A feature column of a table that holds text: a text column (or one that ``keep_text``, a
    label: data.categorical) as text, ``_as_text``; a number column as a ``NumberColumn``."""
    column = _decoded(pa, pc, column)
    if keep_text or _kind(pa, column.type) == "text":
        return _as_text(pa, pc, column)
    values = _as_numbers(pa, pc, column)
    null = np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    whole = pa.types.is_integer(column.type) or pa.types.is_boolean(column.type)
    ints = None
    if whole and len(values) and np.nanmax(np.abs(values), initial=0.0) >= 2.0**53:  # (not all exact)
        ints = pc.fill_null(column, 0).to_numpy(zero_copy_only=False)
    return NumberColumn(values, null, whole, ints)


class NumberColumn:
    """A number column of a Parquet table that holds text (a feature of ``Table.cells``): its
    float64 values (NaN where null, booleans 0 and 1), given to ``Table.numbers`` as they are,
    where the CSV reader's careful path parses its text, and its text (``_as_text``'s) made only
    when asked (``Table.column``: a categorical column's labels, a message). The values are those
    parsing the text gives, bit for bit (the text of a float64 is the shortest that reads back
    as it; an integer's reads as the float64 nearest it, as pyarrow's cast rounds it; a decimal's
    values come by way of its text), so a model trained on it is its CSV twin's.

    values : (n,) float64, NaN where a value is null (or NaN).
    null : (n,) bool, the nulls (text '', where a NaN is 'nan'; both are missing).
    whole : integers or booleans, written as integers.
    ints : the integers themselves where some are 2^53 or more (not all exact as float64), for
        their text; None: ``values`` hold them exactly.
    """

    __slots__ = ("values", "null", "whole", "ints", "_text", "_numbers")

    def __init__(self, values: np.ndarray, null: np.ndarray, whole: bool, ints: np.ndarray | None = None):
        self.values, self.null, self.whole, self.ints = values, null, whole, ints
        self._text: np.ndarray | None = None
        self._numbers: tuple[np.ndarray, np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, index) -> NumberColumn:
        """The rows ``index`` (an index array, or a slice: views)."""
        ints = None if self.ints is None else self.ints[index]
        return NumberColumn(self.values[index], self.null[index], self.whole, ints)

    def numbers(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(float64 values, missing mask), read-only, as ``parse_numbers`` of ``text`` gives
        them; None where a value is not finite (inf), whose error ``parse_numbers`` says, naming
        the row of the table it is asked of."""
        if self._numbers is None:
            if np.isinf(self.values).any():
                return None
            values, missing = self.values.view(), np.isnan(self.values)
            values.flags.writeable = missing.flags.writeable = False
            self._numbers = values, missing
        return self._numbers

    def text(self) -> np.ndarray:
        """The column as text (n,), as ``_as_text`` writes it ('' where null), made once."""
        if self._text is None:
            if self.ints is not None:
                written = _written(self.ints)
            elif self.whole:
                written = _written(np.where(self.null, 0.0, self.values).astype(np.int64))
            else:
                written = _written(self.values)
            self._text = np.where(self.null, "", written) if self.null.any() else written
        return self._text


def _written(values: np.ndarray) -> np.ndarray:
    """Integers or float64 numbers (n,) as text (n,): Python's str of each, which for a float64
    is NumPy's astype(str) (the shortest text that reads back as the number: '0.1', '1e+16'),
    twice as fast, and as wide as the longest number, not 32 characters a cell (21 an integer)
    whatever it holds, as astype(str) makes every float64's."""
    return np.array(list(map(str, values.tolist())), dtype=str)


def _layout(pf, name: str, settings: dict) -> _Layout:
    try:
        schema = pf.schema_arrow
    except Exception as exc:  # a schema pyarrow cannot map (rare)
        raise DataError(f"{name}: not a readable Parquet file ({_reason(exc)})") from None
    return _Layout(schema, name, **settings)


def read_parquet(source: Any, name: str, path: str, **settings) -> Table:
    """A whole Parquet file (a path, or its bytes) as one Table; ``settings``: target,
    need_target, header, columns, text_columns, unused (as ``read_table``'s)."""
    pf = _open(source, name, path)
    layout = _layout(pf, name, settings)
    if pf.metadata.num_rows == 0:
        raise DataError(f"{name}: holds no rows")
    try:
        data = pf.read(columns=layout.file_names)
    except Exception as exc:  # damaged pages, an unsupported encoding, ...
        raise DataError(f"{name}: not a readable Parquet file ({_reason(exc)})") from None
    return layout.table(data)


def parquet_chunks(source: Any, name: str, path: str, **settings) -> Iterator[Table]:
    """A Parquet file's rows a chunk at a time (record batches of up to ``CHUNK_LINES`` rows,
    fewer where their columns' float64 values would pass ``CHUNK_BYTES``, as an .npy file's
    chunks; read a row group at a time), each a Table as ``read_parquet`` gives; a chunk that is
    not the whole file says which rows it holds (``Table.part``)."""
    pf = _open(source, name, path)
    layout = _layout(pf, name, settings)
    n = pf.metadata.num_rows
    if n == 0:
        raise DataError(f"{name}: holds no rows")
    # one row group at a time: over them all, pyarrow pre-buffers every row group's bytes first;
    # rows bounded by bytes too: a batch of 65,536 rows of 2,000 columns is 1 GB (pyarrow's
    # decoded columns, then the float64 matrix)
    rows = max(1, min(read.CHUNK_LINES, read.CHUNK_BYTES // (8 * max(1, len(layout.file_names)))))
    batches = (
        batch
        for group in range(pf.num_row_groups)
        for batch in pf.iter_batches(batch_size=rows, row_groups=[group], columns=layout.file_names)
    )
    first = 0
    while True:
        try:
            batch = next(batches, None)
        except Exception as exc:
            raise DataError(f"{name}: not a readable Parquet file ({_reason(exc)})") from None
        if batch is None:
            break
        if batch.num_rows == 0:
            continue
        table = layout.table(batch, first_row=first)
        if batch.num_rows < n:
            table.part = f"rows {first}-{first + batch.num_rows - 1}"
        first += batch.num_rows
        yield table


# -- writing ----------------------------------------------------------------------------------------

#: The column types ``parquet_pieces`` writes, by name.
WRITTEN_TYPES = ("string", "int64", "float64")


def check_writer(what: str = "writing Parquet") -> None:
    """Nothing, where pyarrow can write Parquet; else a DataError saying how to install it."""
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise DataError(f"{what} needs pyarrow: {INSTALL}") from None


class _Sink:
    """A write-only file that keeps what is written until ``take`` hands it out, counting the
    bytes for ``tell`` (the footer's offsets are the file's, from its first byte)."""

    def __init__(self):
        self.parts: list[bytes] = []
        self.written = 0
        self.closed = False

    def write(self, data) -> int:
        data = bytes(data)
        self.parts.append(data)
        self.written += len(data)
        return len(data)

    def tell(self) -> int:
        return self.written

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def parquet_pieces(
    names: list[str], types: list[str], chunks: Iterable[list[tuple[np.ndarray, np.ndarray | None]]]
) -> Iterator[bytes]:
    """A Parquet file's bytes a piece at a time: one row group per chunk, each piece made when
    its chunk is (so memory holds a chunk, not the file), the footer the last piece.

    Parameters
    ----------
    names, types : the columns' names and types (each one of ``WRITTEN_TYPES``).
    chunks : per chunk, one (values (n,), null (n,) bool or None) per column; values where
        ``null`` is True are not read.
    """
    check_writer()
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow = {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64()}
    schema = pa.schema([(name, arrow[t]) for name, t in zip(names, types)])
    sink = _Sink()
    writer = pq.ParquetWriter(sink, schema)
    try:
        for columns in chunks:
            arrays = [
                pa.array(values, type=field.type, mask=null) for field, (values, null) in zip(schema, columns)
            ]
            table = pa.Table.from_arrays(arrays, schema=schema)
            writer.write_table(table, row_group_size=max(table.num_rows, 1))
            yield sink.take()
    finally:  # (on an error, the footer goes into the sink, which is dropped)
        writer.close()
    yield sink.take()
