"""Training on an .npy file larger than memory: the rows are read in chunks, never all at once.

A training file ``.npy`` of more than ``STREAM_BYTES`` is not loaded. Instead:

1. one pass over the file, chunk by chunk, holds out the validation rows (a seeded random
   fraction, kept in memory: they are a small part) and gathers the training statistics: the
   column means and standard deviations (float64 sums), the classes, the missing values (NaN);
2. every epoch visits the chunks in a random order, reads each with one ``readinto`` into a
   buffer that is reused, encodes it, shuffles its rows, and cuts it into batches. Rows left over
   at the end of a chunk go in front of the next chunk, so every batch but the epoch's last is
   full.

A data.weight column (a position, as data.target is) is checked in pass 1 as the in-memory
reading checks it (an infinity in any row; in the training rows a negative weight, a missing one
under ``missing: error``, all 0), so nothing trains on bad weights; pass 1 also sums the
weights of the rows trained on. Every epoch reads each row's weight with its row and divides
it by that mean: s_i = w_i / mean(w), as in memory (``normalized_weights``).

Peak memory is a few chunks (``CHUNK_BYTES``): the read buffer, the encoded chunk and its
shuffled copy, plus the float64 temporaries of one block (``BLOCK_BYTES``) being encoded; not
the file: the chunks are read with plain file reads, so the page cache holds the file, not the
process. The shuffle is within chunks (and of the chunk order), not across the whole file: the
price of not holding the file. The header is read with ``np.load(mmap_mode='r')``, which maps
the file without reading it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError
from .encode import Column, Encoding, is_constant, label_text, outputs_for_classes, standardizes_target
from .read import NPY_MAGIC, Table, excluded_by_features, npy_target_index, source_name, with_weight

#: Training .npy files bigger than this are streamed in chunks instead of loaded.
STREAM_BYTES = 256 * 1024 * 1024
#: About this many bytes of the file are read per chunk.
CHUNK_BYTES = 32 * 1024 * 1024
#: Rows are encoded (through float64 temporaries) in blocks of about this many bytes of the
#: file, so that the temporaries stay small next to the chunk.
BLOCK_BYTES = 4 * 1024 * 1024


def should_stream(path: str | None) -> bool:
    """Whether a training file is an .npy big enough to stream."""
    if not path or path == "-":
        return False
    p = Path(path)
    try:
        if not p.is_file() or p.stat().st_size <= STREAM_BYTES:
            return False
        with open(p, "rb") as f:
            return f.read(len(NPY_MAGIC)) == NPY_MAGIC
    except OSError:
        return False


@dataclass
class StreamedDataset:
    """Training rows of a large .npy file, read chunk by chunk (see the module doc)."""

    path: str
    offset: int  # where the data starts in the file
    shape: tuple[int, int]
    file_dtype: np.dtype
    target: int
    encoding: Encoding
    dtype: str
    batch_size: int
    is_val: np.ndarray  # (n,) bool: rows held out for validation
    n_rows: int = 0  # training rows (after dropping rows with missing values)
    class_values: np.ndarray | None = None  # sorted numeric labels, for a fast lookup
    chunk_rows: int = field(default=0)
    block_rows: int = 0  # rows encoded at a time (0: a whole chunk)
    weight: int | None = None  # the file's column of the rows' sample weights (data.weight), or None
    w_mean: float = 1.0  # the mean weight of the training rows: s_i = w_i / w_mean
    w_equal: bool = False  # every training row has the same weight: s_i = 1 exactly, as in memory
    unweighed: int = 0  # training rows left out for a missing weight (counted in the note of rows left out)

    def __len__(self) -> int:
        return self.n_rows

    @property
    def features(self) -> list[int]:
        """The file's columns that are inputs: the encoding's (without the target and any
        column data.exclude, or data.features, left out)."""
        return [int(f) for f in self.encoding.features]

    def _chunks(self):
        n = self.shape[0]
        return [(a, min(a + self.chunk_rows, n)) for a in range(0, n, self.chunk_rows)]

    def _read(self, f, a: int, b: int, buffer: np.ndarray) -> np.ndarray:
        """Rows a..b of the file into ``buffer`` (reused), with one read."""
        out = buffer[: b - a]
        f.seek(self.offset + a * out.strides[0])
        view = memoryview(out).cast("B")
        got = f.readinto(view)
        if got != view.nbytes:
            raise DataError(f"{source_name(self.path)}: the file ended early (truncated while training?)")
        return out

    def encode_chunk(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(X, Y, sw) for raw file rows, missing values handled by the encoding's policy; sw (n,):
        the kept rows' sample weights over the training rows' mean weight, in dtype, or None
        without data.weight. A row without a weight is left out, as one without a target."""
        X = rows[:, self.features].astype(np.float64)
        y = rows[:, self.target].astype(np.float64)
        enc = self.encoding
        miss = np.isnan(X)
        keep = ~np.isnan(y)
        w = None
        if self.weight is not None:
            w = rows[:, self.weight].astype(np.float64)
            keep &= ~np.isnan(w)
        if miss.any():
            if enc.missing == "mean":
                fills = np.array([c.fill for c in enc.columns])
                X = np.where(miss, fills, X)
            else:
                keep &= ~miss.any(axis=1)
        X, y = X[keep], y[keep]
        sw = None
        if w is not None:  # w_i / mean(w), as normalized_weights (equal weights: exactly 1)
            sw = np.ones(len(y), self.dtype) if self.w_equal else (w[keep] / self.w_mean).astype(self.dtype)
        Xs = enc.scale(X, self.dtype)
        if enc.task == "regression":
            return Xs, enc.scale_y(y, self.dtype, lambda i: f"{source_name(self.path)}: the target"), sw
        idx = np.searchsorted(self.class_values, y)
        idx = np.clip(idx, 0, len(self.class_values) - 1)
        if not np.array_equal(self.class_values[idx], y):
            bad = y[self.class_values[idx] != y][0]
            raise DataError(f"{source_name(self.path)}: label {bad} was not seen in the statistics pass")
        if enc.n_outputs == 1:
            return Xs, idx.reshape(-1, 1).astype(self.dtype), sw
        Y = np.zeros((len(idx), enc.n_outputs), dtype=self.dtype)
        Y[np.arange(len(idx)), idx] = 1
        return Xs, Y, sw

    def batches(self, rng: np.random.Generator, device):
        """One epoch of (x, y, sw) batches on ``device``: chunks in random order, rows shuffled
        within each chunk, leftovers carried into the next chunk; sw the rows' sample weights
        (data.weight), shuffled with them, or None."""
        bs = self.batch_size
        buffer = np.empty((self.chunk_rows, self.shape[1]), dtype=self.file_dtype)
        order = rng.permutation(len(self._chunks()))
        chunks = self._chunks()
        carry: list[tuple] = []  # (X, Y, sw) of the rows left over from the chunk before
        step = self.block_rows or self.chunk_rows
        weighted = self.weight is not None
        with open(self.path, "rb") as f:
            for c in order:
                a, b = chunks[c]
                rows = self._read(f, a, b, buffer)
                parts, carry = carry, []  # (so that del parts frees the blocks)
                for s in range(0, b - a, step):  # block by block: small float64 temporaries
                    train = ~self.is_val[a + s : min(a + s + step, b)]
                    parts.append(self.encode_chunk(rows[s : s + step][train]))
                X, Y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
                SW = np.concatenate([p[2] for p in parts]) if weighted else None
                del parts
                perm = rng.permutation(len(X))
                X, Y = X[perm], Y[perm]
                full = len(X) // bs * bs
                Xd, Yd = device.asarray(X[:full]), device.asarray(Y[:full])
                if weighted:
                    SW = SW[perm]
                    SWd = device.asarray(SW[:full])
                for start in range(0, full, bs):
                    sw = SWd[start : start + bs] if weighted else None
                    yield Xd[start : start + bs], Yd[start : start + bs], sw
                carry = [(X[full:], Y[full:], SW[full:] if weighted else None)]
        if carry and len(carry[0][0]):
            X, Y, SW = carry[0]
            yield device.asarray(X), device.asarray(Y), device.asarray(SW) if weighted else None

    def n_batches(self) -> int:
        return math.ceil(self.n_rows / self.batch_size)


class Moments:
    """Count, mean and sum of squared deviations (m2) of each column's observed values,
    gathered block by block and merged with Chan, Golub and LeVeque's pairwise update. Stable
    where sum(x^2) - n mean^2 cancels: a column of 1e7 + noise keeps its small spread."""

    def __init__(self, k: int):
        self.n = np.zeros(k)
        self.mean = np.zeros(k)
        self.m2 = np.zeros(k)

    def add(self, X: np.ndarray, observed: np.ndarray) -> None:
        """Merge the block X (rows, k), counting only the entries where ``observed``."""
        nb = observed.sum(axis=0)
        with np.errstate(over="ignore", invalid="ignore"):  # too large: the caller refuses it
            mb = np.where(observed, X, 0.0).sum(axis=0) / np.maximum(nb, 1)
            m2b = np.where(observed, (X - mb) ** 2, 0.0).sum(axis=0)
            n = self.n + nb
            w = nb / np.maximum(n, 1)  # the block's share of the merged count
            delta = mb - self.mean
            self.mean += delta * w
            self.m2 += m2b + delta * delta * self.n * w
        self.n = n


class WeightScan:
    """data.weight's column, block by block: the first row of each kind of value the in-memory
    reading refuses (an infinity in any row, as the NPY reader refuses one anywhere; then, as
    ``weight_values`` checks the training rows, a negative or a missing weight), and the sum,
    least and greatest weight of the rows trained on (whose mean normalizes them)."""

    def __init__(self, source: str, name: str):
        self.source, self.name = source, name
        # (row in the file, value) of the first weight not finite and of the first negative one;
        # the row of the first missing one
        self.not_finite: tuple[int, float] | None = None
        self.negative: tuple[int, float] | None = None
        self.missing: int | None = None
        self.n_missing = 0
        self.sum, self.lo, self.hi = 0.0, math.inf, -math.inf

    def check(self, w: np.ndarray, first_row: int, train: np.ndarray) -> np.ndarray:
        """Look at the weights w (m,) float64 of the file's rows from ``first_row`` on, of which
        the ``train`` (m,) bool are training rows; the mask of those training rows that have a
        weight."""
        not_finite = np.isinf(w)
        if self.not_finite is None and not_finite.any():
            i = int(np.argmax(not_finite))
            self.not_finite = first_row + i, float(w[i])
        rows = first_row + np.flatnonzero(train)
        w = w[train]
        absent = np.isnan(w)
        negative = w < 0
        if self.negative is None and negative.any():
            i = int(np.argmax(negative))
            self.negative = int(rows[i]), float(w[i])
        if self.missing is None and absent.any():
            self.missing = int(rows[int(np.argmax(absent))])
        self.n_missing += int(absent.sum())
        return ~absent

    def add(self, w: np.ndarray) -> None:
        """The weights (m,) float64 of rows trained on."""
        if len(w):
            self.sum += float(w.sum())
            self.lo, self.hi = min(self.lo, float(w.min())), max(self.hi, float(w.max()))

    def refuse(self, missing: str) -> None:
        """Raise a DataError for the weights seen, if any, in the in-memory reading's order: an
        infinity (the row the NPY reader names, with the column, as ``weight_values`` words it),
        then weight_values' own: a negative weight, a missing one under ``missing: error``."""
        if self.not_finite is not None:
            row, v = self.not_finite
            raise DataError(
                f"{self.source} row {row}: column '{self.name}' holds {v:g}, which is not a finite number"
            )
        if self.negative is not None:
            row, v = self.negative
            raise DataError(
                f"{self.source} row {row}: column '{self.name}' holds '{v:g}', a negative weight; "
                "data.weight's values must be >= 0"
            )
        if self.missing is not None and missing == "error":
            raise DataError(
                f"{self.source} row {self.missing}: the weight '{self.name}' is missing; "
                f"{self.n_missing} row(s) have no weight. Remove them, or set data.missing: drop"
            )


def stream_npy(config, rng: np.random.Generator):
    """(StreamedDataset, validation Table or None, Encoding) for a large training .npy file."""
    dc = config.data
    path = dc.train
    name = source_name(path)
    try:
        mm = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise DataError(f"{name}: not a readable NumPy file ({exc})") from None
    if mm.ndim != 2 or mm.shape[0] == 0:
        raise DataError(f"{name}: an NPY data file must hold a non-empty 2-D matrix, found shape {mm.shape}")
    if mm.dtype.kind not in "biuf" or not mm.flags.c_contiguous:
        raise DataError(f"{name}: a streamed .npy must hold numbers in C order, found {mm.dtype}")
    n, c = mm.shape
    offset = int(mm.offset)
    file_dtype = mm.dtype
    del mm  # the map is not used for reading: plain reads keep the file out of our memory
    if dc.categorical not in ("auto", ()):
        raise DataError(f"{name}: data.categorical is not supported for a streamed .npy file")
    t = npy_target_index(dc.target, c, name)
    wcol = None
    if dc.weight is not None:  # a position, refused as the in-memory reader refuses it (with_weight)
        positions = [str(j) for j in range(c) if j != t]
        empty = Table(name, positions, np.empty((0, len(positions))), target=str(t))
        with_weight(empty, dc.weight, config.given(("data", "weight")))
        wcol = int(dc.weight)
    exclude = dc.exclude
    if dc.features is not None:  # (its columns by position; the rest are left out, as exclude does)
        columns = [str(j) for j in range(c) if j not in (t, wcol)]
        exclude = excluded_by_features(dc.features, columns, str(t), name, config.given(("data", "features")))
    features = [j for j in range(c) if j not in (t, wcol) and str(j) not in exclude]
    absent = [x for x in exclude if not (x.isdigit() and int(x) < c and int(x) != t)]
    if not features:
        raise DataError(f"{name}: data.exclude leaves out every feature column; nothing is left to learn")
    if absent:
        given = config.given(("data", "exclude"))
        raise DataError(
            f"{name}: data.exclude names '{absent[0]}', which is not a feature column (the matrix's "
            f"columns are 0 to {c - 1}, the target {t})" + (f" ({given})" if given else "")
        )
    classification = config.task == "classification"

    is_val = np.zeros(n, dtype=bool)
    row_bytes = c * file_dtype.itemsize
    chunk_rows = max(config.training.batch_size, CHUNK_BYTES // row_bytes)
    block_rows = max(1, min(chunk_rows, BLOCK_BYTES // row_bytes))
    x_stats, y_stats = Moments(len(features)), Moments(1)
    weights = WeightScan(name, dc.weight) if wcol is not None else None
    labels: set[float] = set()
    n_complete = 0
    # the least and greatest present value of each input column (the encoding's x_min, x_max)
    x_lo, x_hi = np.full(len(features), np.inf), np.full(len(features), -np.inf)
    first_missing: int | None = None
    val_rows = []
    buffer = np.empty((block_rows, c), dtype=file_dtype)
    probe = StreamedDataset(
        path,
        offset,
        (n, c),
        file_dtype,
        t,
        None,
        config.dtype,  # type: ignore[arg-type]
        config.training.batch_size,
        is_val,
        chunk_rows=chunk_rows,
    )
    if isinstance(dc.validation, float) and dc.validation > 0:  # (a validation file: the caller)
        from . import split_indices

        targets = None
        if classification:  # stratified, as in memory: pass 0 reads the target column
            targets = np.empty(n, dtype=np.float64)
            with open(path, "rb") as f:
                for a in range(0, n, block_rows):
                    b = min(a + block_rows, n)
                    targets[a:b] = probe._read(f, a, b, buffer)[:, t]
            # rows without a target stay NaN: one group, named 'nan' as in memory (label_text),
            # so that the classes take their rows in the same order and the split is the same
        _, v_idx = split_indices(n, dc.validation, rng, targets)
        is_val[v_idx] = True

    # pass 1: statistics of the training rows, and the validation rows
    with open(path, "rb") as f:
        for a in range(0, n, block_rows):  # statistics need no chunks: small blocks will do
            b = min(a + block_rows, n)
            rows = probe._read(f, a, b, buffer)
            if is_val[a:b].any():
                val_rows.append(rows[is_val[a:b]].astype(np.float64))
            rows_all, rows = rows, rows[~is_val[a:b]].astype(np.float64)
            X, y = rows[:, features], rows[:, t]
            miss = np.isnan(X)
            y_ok = ~np.isnan(y)
            has_w = True  # (a row without a weight is left out, as one without a target)
            if weights is not None:
                has_w = weights.check(rows_all[:, wcol].astype(np.float64), a, ~is_val[a:b])
            complete = ~miss.any(axis=1) & y_ok
            if first_missing is None and not complete.all():
                local = np.flatnonzero(~is_val[a:b])[int(np.argmax(~complete))]
                first_missing = a + int(local)
            use = (complete if dc.missing == "drop" else y_ok) & has_w
            if weights is not None:
                weights.add(rows[use, wcol])
            x_stats.add(X[use], ~miss[use])
            x_lo = np.minimum(x_lo, np.where(miss[use], np.inf, X[use]).min(axis=0, initial=np.inf))
            x_hi = np.maximum(x_hi, np.where(miss[use], -np.inf, X[use]).max(axis=0, initial=-np.inf))
            n_complete += int(use.sum())
            yu = y[use]
            if classification:
                labels.update(np.unique(yu).tolist())
            else:
                y_stats.add(yu[:, None], np.ones((len(yu), 1), dtype=bool))
    if weights is not None:  # (first, as in memory: the weights are read before the encoding)
        weights.refuse(dc.missing)
    if first_missing is not None and dc.missing == "error":
        raise DataError(
            f"{name} row {first_missing}: a value is missing (NaN); set data.missing: drop or mean"
        )
    if n_complete == 0:
        raise DataError(f"{name}: no training row is left")
    if weights is not None and not weights.hi > 0:  # (named as in memory: after a hold-out, its rows)
        from . import _training_set

        what, fix = _training_set(dc, name)
        raise DataError(f"{what}: every training row's weight is 0; at least one must be positive{fix}")
    mean = x_stats.mean.copy()
    # over every row used, a filled value counting as the mean (as the in-memory encoding sees
    # them under missing: mean; under drop every row used is complete, so counts == n_complete)
    with np.errstate(over="ignore", invalid="ignore"):  # too large: refused just below
        std = np.sqrt(x_stats.m2 / n_complete)
    bad = ~(np.isfinite(mean) & np.isfinite(std))
    if dc.standardize and bad.any():
        raise DataError(
            f"{name}: column {features[int(np.argmax(bad))]} holds values too large to "
            "standardize; rescale it, or set data.standardize: false"
        )
    std[is_constant(mean, std, n_complete)] = 1.0
    if not dc.standardize:
        mean, std = np.zeros_like(mean), np.ones_like(std)
    columns = [Column(str(j), "numeric", fill=float(m)) for j, m in zip(features, x_stats.mean)]
    sizes = config.network.layers
    enc = Encoding(
        config.task,
        config.cost,
        [str(j) for j in features],
        str(t),
        sizes[-1],
        mean,
        std,
        columns=columns,
        missing=dc.missing,
        positional=True,
    )
    if np.isfinite(x_lo).all() and np.isfinite(x_hi).all():  # (a column with no value: none)
        enc.x_min, enc.x_max = x_lo, x_hi
    enc.excluded = list(exclude)
    enc.check_inputs(sizes[0], name)
    class_values = None
    if classification:
        class_values = np.array(sorted(labels))
        # named in the file's own type, as in memory: a float32 0.1 is '0.1', not 0.10000000149011612
        as_stored = class_values.astype(file_dtype) if file_dtype.kind == "f" else class_values
        enc.classes = label_text(as_stored).tolist()
        enc.label_numbers = True
        k = len(enc.classes)
        if k < 2:
            raise DataError(f"{name}: the target has only one class; classification needs at least two")
        if sizes[-1] == 0:  # network.layers ends with auto: the classes decide
            enc.n_outputs = outputs_for_classes(config.cost, k)
        elif not (sizes[-1] == k or (sizes[-1] == 1 and k == 2 and config.cost == "binary_cross_entropy")):
            raise DataError(
                f"{name}: the target has {k} classes but the network has {sizes[-1]} "
                f"outputs; set the last of network.layers to {k}"
            )
    else:
        y_mean = float(y_stats.mean[0])
        with np.errstate(over="ignore", invalid="ignore"):
            y_std = float(np.sqrt(y_stats.m2[0] / n_complete))
        scale = standardizes_target(dc.standardize, config.network.output)
        if scale and not (math.isfinite(y_mean) and math.isfinite(y_std)):
            raise DataError(
                f"{name}: the target holds values too large to standardize; rescale "
                "it, or set data.standardize: false"
            )
        if is_constant(np.array(y_mean), np.array(y_std), n_complete):
            y_std = 1.0
        enc.y_mean = np.array([y_mean if scale else 0.0])
        enc.y_scale = np.array([y_std if scale else 1.0])
        enc.n_outputs = 1
        if sizes[-1] not in (0, 1):
            raise DataError(f"{name}: the target has 1 column but the network has {sizes[-1]} outputs")
    ds = StreamedDataset(
        path,
        offset,
        (n, c),
        file_dtype,
        t,
        enc,
        config.dtype,
        config.training.batch_size,
        is_val,
        n_complete,
        class_values,
        chunk_rows,
        block_rows,
    )
    if weights is not None:
        ds.weight, ds.w_mean, ds.w_equal = wcol, weights.sum / n_complete, weights.lo == weights.hi
        ds.unweighed = weights.n_missing
        enc.weight = dc.weight
    val = None
    if val_rows:
        v = np.concatenate(val_rows)
        val = Table(name, enc.features, v[:, features], v[:, t], str(t), rows=np.flatnonzero(is_val))
        if wcol is not None:  # (its rows' weights weigh the validation scores)
            val.w = v[:, wcol]
    return ds, val, enc
