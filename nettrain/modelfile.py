"""Model files: one ``.npz`` holding plain arrays and a JSON document; never pickle.

Layout (format version 2):

    W0, b0, W1, b1, ...   the network's parameters, W[l] of shape (out, in), b[l] (out,)
    x_mean, x_scale       input standardization (inputs,)
    x_min, x_max          the training rows' least and greatest unscaled inputs (inputs,), where
                          recorded (for a warm start's drift note); older models lack them
    y_mean, y_scale       regression target standardization (outputs,), regression only
    meta                  uint8 bytes of a UTF-8 JSON document: format, format_version,
                          nettrain_version, network (sizes, activations, output, cost, dtype,
                          output_bias), encoding (Encoding.to_dict: task, features, target,
                          classes, columns, missing, header, positional, delimiter,
                          label_numbers), config, training summary; a checkpoint adds its state

Loading never runs code and never allocates what the file does not hold: every member's .npy
header is read first and its declared shape checked against the metadata and against the bytes
actually stored, before any array is read. Writing goes to a temporary file in the same folder,
is flushed and fsync'ed, and renamed over the target, so a crash never leaves half a model.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from . import __version__
from .backend import cpu_threads, to_host
from .data import MISSING_POLICIES, Column, Encoding, Table
from .errors import ConfigError, DataError, ModelFileError, OutputError, os_reason, shown, unreadable
from .metrics import json_text
from .network import Network

FORMAT = "nettrain-model"
FORMAT_VERSION = 2  # 2: feature columns may be categorical; a missing-value policy
MAX_META_BYTES = 16 * 1024 * 1024


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: str | Path, write: Callable[[IO[bytes]], Any]) -> None:
    """Write a file so that readers see either the old or the complete new one, never a part.

    ``write(f)`` fills a temporary file in the target's folder; it is flushed, fsync'ed and renamed
    over ``path``, and the folder is fsync'ed so the rename itself survives a crash. A file that
    replaces another keeps that file's permission bits (a 0640 stays 0640); a new one gets the
    usual 0666 less the umask (not the temporary file's 0600). The temporary file's name is
    short and fixed in length (``.nettrain-XXXXXXXX.tmp``), so any name the folder can hold can
    be written. Raises OutputError when the file cannot be written there.
    """
    write_all_atomic([(path, write)])


def write_all_atomic(files: list[tuple[str | Path, Callable[[IO[bytes]], Any]]]) -> None:
    """``write_atomic`` for several files that belong together (a run's config, history and
    model): all are written to temporary files first, then renamed into place one after the
    other with SIGINT and SIGTERM held back, so that an interrupt leaves the old set or the new
    one, never a mix (only a crash within those microseconds could)."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, write in files:
            staged.append((_stage(Path(path), write), Path(path)))
        with _signals_held():
            while staged:
                tmp, path = staged[0]
                try:
                    os.replace(tmp, path)
                except OSError as exc:
                    raise OutputError(f"cannot write '{shown(path)}': {os_reason(exc)}") from None
                staged.pop(0)
    finally:
        for tmp, _ in staged:  # an error or an interrupt: no temporary file is left behind
            try:
                os.unlink(tmp)
            except OSError:
                pass
    for folder in {Path(path).parent for path, _ in files}:
        _fsync_folder(folder)


#: Temporary files are named TEMP_PREFIX + 8 random characters + TEMP_SUFFIX: 22 characters,
#: whatever the target's name (a name of 250 characters leaves no room for one built from it).
TEMP_PREFIX = ".nettrain-"
TEMP_SUFFIX = ".tmp"


def _mode_for(path: Path) -> int:
    """The permission bits a new ``path`` gets: those of the file it replaces, else 0666 less
    the umask (what open() would give)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode) & 0o777
    except OSError:  # (not there yet)
        return 0o666 & ~_umask()


def _stage(path: Path, write: Callable[[IO[bytes]], Any]) -> str:
    """Write a temporary file beside ``path`` (flushed, fsync'ed, the permissions ``path`` is to
    have); its name."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise OutputError(f"cannot write '{path}': '{path.parent}' is a file, not a folder") from None
    except OSError as exc:
        raise OutputError(f"cannot write '{shown(path)}': {os_reason(exc)}") from None
    try:
        is_dir = path.is_dir()
    except OSError as exc:  # a name too long
        raise OutputError(f"cannot write '{shown(path)}': {os_reason(exc)}") from None
    if is_dir:
        raise OutputError(f"cannot write '{path}': it is a folder")
    try:
        # the folder by its real path: mkstemp tidies its dir with os.path.abspath, which takes
        # 'lnk/..' away as text (another folder than path's when lnk is a link)
        fd, tmp = tempfile.mkstemp(dir=os.path.realpath(path.parent), prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
    except OSError as exc:
        raise OutputError(f"cannot write '{shown(path)}': {os_reason(exc)}") from None
    try:
        os.fchmod(fd, _mode_for(path))
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError):
            raise OutputError(f"cannot write '{shown(path)}': {os_reason(exc)}") from None
        raise
    return tmp


@contextmanager
def _signals_held():
    """SIGINT and SIGTERM wait (pending) until the block ends, where the system allows it."""
    held = {signal.SIGINT, signal.SIGTERM}
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, OSError, ValueError):  # no pthread_sigmask (Windows)
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _fsync_folder(folder: Path) -> None:
    """Make renames in ``folder`` survive a crash (best effort)."""
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


#: The network is run on blocks of a fixed number of rows (``forward_rows``), about this many
#: floating-point operations each.
FORWARD_BLOCK_FLOPS = 32e6


def forward_rows(sizes) -> int:
    """The rows of each block ``Model.forward`` runs the network on: a power of two from 64 to
    4096, about FORWARD_BLOCK_FLOPS of work. Fixed for a network, so that every product has the
    same shape: BLAS picks its kernel by the shape (small matrices take another path, one row a
    matrix-vector product), and kernels round differently, so a row's outputs would otherwise
    depend on how many rows are predicted with it."""
    flops = 2.0 * sum(i * o for i, o in zip(sizes[:-1], sizes[1:]))
    rows = 64
    while rows < 4096 and 2 * rows * flops <= FORWARD_BLOCK_FLOPS:
        rows *= 2
    return rows


def text_writer(text: str) -> Callable[[IO[bytes]], Any]:
    """``text`` as UTF-8, as a function of the open file (for write_atomic / write_all_atomic)."""
    return lambda f: f.write(text.encode("utf-8"))


@dataclass
class Model:
    """A trained network with what it needs to read raw data and give answers in the data's terms."""

    network: Network
    encoding: Encoding
    meta: dict = field(default_factory=dict)

    def forward(
        self,
        x: np.ndarray,
        *,
        standardize: bool = False,
        batch_size: int = 65536,
        where=None,
        logits: bool = False,
    ) -> np.ndarray:
        """The network's outputs s (n, outputs), on the host, for inputs x (n, inputs): encoded,
        or raw numbers with ``standardize`` (then scaled a chunk at a time, so a million rows
        never make a second full-size copy; ``where(row)`` names a row in messages).
        ``logits``: z(L) instead, from which s = network.f_out(z) (``probabilities`` takes it).

        The network runs on blocks of exactly ``forward_rows`` rows, the last one padded with
        zero rows, so that a row's outputs are the same bits whatever rows come with it: in a
        file of one row or of millions, in one chunk of a streamed input or another."""
        where = where or (lambda i: f"row {i}")
        net, enc = self.network, self.encoding
        block = forward_rows(net.sizes)
        xp = net.xp
        parts = []
        # BLAS threads as for a training step of that many rows: one for a small network (two
        # threads on blocks this size only wait for each other, and collapse on a busy machine)
        threads = cpu_threads(net.sizes, block) if xp is np else nullcontext()
        with threads, np.errstate(over="ignore", invalid="ignore"):  # checked below: never warns
            for start in range(0, len(x), batch_size):
                chunk = x[start : start + batch_size]
                if standardize:
                    chunk = enc.scale(chunk, net.dtype, lambda i, start=start: where(start + i))
                chunk = xp.asarray(chunk)
                outputs = []
                for a in range(0, len(chunk), block):
                    rows = chunk[a : a + block]
                    if len(rows) < block:
                        padded = xp.zeros((block, rows.shape[1]), dtype=rows.dtype)
                        padded[: len(rows)] = rows
                        outputs.append(net.forward(padded, logits)[: len(rows)])
                    else:
                        outputs.append(net.forward(rows, logits))
                parts.append(to_host(outputs[0] if len(outputs) == 1 else xp.concatenate(outputs)))
            s = np.concatenate(parts) if parts else np.empty((0, net.sizes[-1]), net.dtype)
            # (with logits, an infinite z whose output is finite, sigmoid(inf) = 1, is no error)
            bad = ~np.isfinite(net.f_out(s) if logits else s).all(axis=1)
        if bad.any():
            raise DataError(
                f"row {int(np.argmax(bad))}: the network's output is not a number (inputs far outside "
                "the training data's range?)"
            )
        return s

    def probabilities(self, z: np.ndarray) -> np.ndarray:
        """Class probabilities (n, classes) from the logits z = ``forward(..., logits=True)``."""
        return self.encoding.probabilities(self.network.f_out(z), z)

    def outputs(self, X, unknown: str = "error", logits: bool = False) -> np.ndarray:
        """The network's outputs s (n, outputs) for raw features: a numeric matrix (n, features)
        or a Table (read by ``nettrain.data.read_table``); every row must be complete (or filled
        under ``missing: mean``). See ``outputs_kept`` for tables with rows to leave out.
        ``logits``: z(L) instead of the outputs (see ``forward``)."""
        if isinstance(X, Table):
            s, kept = self.outputs_kept(X, unknown, logits)
            if not kept.all():
                i = int(np.argmax(~kept))
                raise DataError(f"{X.where(i)}: a row with missing values cannot be predicted")
            return s
        return self.forward(self.encoding.transform(X, self.network.dtype), logits=logits)

    def outputs_kept(
        self, table: Table, unknown: str = "error", logits: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """(outputs of the rows that can be predicted, which rows those are (n,) bool). Rows with
        missing values are left out under ``missing: drop``; features are matched by name.
        ``logits``: z(L) instead of the outputs (see ``forward``)."""
        from .data import align_features

        table = align_features(table, self.encoding.features)
        raw, kept = self.encoding.raw_inputs(table, unknown)
        if not kept.all():
            raw = raw[kept]
        rows = np.flatnonzero(kept)
        where = lambda i: table.where(int(rows[i]))  # noqa: E731
        return self.forward(raw, standardize=True, where=where, logits=logits), kept

    def evaluate(
        self, table: Table | Iterable[Table], unknown: str = "error", weight: str | None = None
    ) -> dict:
        """Scores on a labelled table (see metrics.py): accuracy, per-class precision/recall/F1,
        confusion matrix and log loss for classes; MSE, RMSE, MAE and R^2 in the target's units.
        ``rows_left_out`` counts rows dropped for missing values (missing: drop).

        ``table`` may also be the chunks of one input (``read_for_model_chunks``): each is
        encoded and run through the network in turn, and only its truth and outputs are kept
        (rows x outputs), not its cells; the scores are those of the whole input.

        ``weight``: every score weighted by the rows' weights, the column of that name that the
        tables hold in ``table.w`` (``read_for_model_chunks(weight=...)``); the report then has
        ``weighted: true``, ``weight_column`` and ``weight_sum``. Raises DataError for a weight
        that is not a number, not finite or negative, and for weights that are all 0."""
        from . import metrics
        from .data import encode_scored, scored_weights

        enc = self.encoding
        truths, outputs, weights = [], [], []
        source, n_read, n_kept = "", 0, 0
        for chunk in [table] if isinstance(table, Table) else table:
            data, w = encode_scored(enc, chunk, str(self.network.dtype), unknown, weight)
            source, n_read, n_kept = chunk.source, n_read + chunk.n, n_kept + len(data)
            if not len(data):
                continue
            weights.append(w)
            outputs.append(self.forward(data.X, logits=enc.task == "classification"))
            if enc.task == "classification":
                truths.append(data.Y.argmax(axis=1) if data.Y.shape[1] > 1 else data.Y[:, 0].astype(int))
            else:
                truths.append(data.Y * enc.y_scale + enc.y_mean)  # back to the target's units
        if not n_kept:
            raise DataError(f"{source}: no row is left once rows with missing values are dropped")
        s, truth = np.concatenate(outputs), np.concatenate(truths)
        w = None if weight is None else scored_weights(weights, weight, source)
        if enc.task == "classification":
            z, s = s, self.network.f_out(s)  # (the logits: probabilities are taken from them)
            proba = enc.probabilities(s, z)
            # ROC AUC ranks two classes by P(second class): by the logits where it rises with them,
            # as float32 rounds it to 1.0 for every z past 17 (ties, each counting half)
            score = None
            if enc.n_outputs == 1:  # P = sigmoid(z)
                score = z[:, 0]
            elif len(enc.classes) == 2 and enc.cost == "cross_entropy":  # softmax: sigmoid(z1 - z0)
                score = z[:, 1].astype(np.float64) - z[:, 0]
            report = metrics.classification_report(
                truth, enc.predicted_index(s), enc.classes, proba, score, w=w
            )
        else:
            report = metrics.regression_report(truth, enc.decode(s).reshape(len(truth), -1), w)
        if w is not None:
            report["weighted"], report["weight_column"] = True, weight
        report["source"] = source
        if n_read > n_kept:
            report["rows_left_out"] = n_read - n_kept
        return report

    def predict(self, X) -> np.ndarray:
        """Class labels as the training data had them (text from a CSV; numbers from an array:
        integers when whole), or regression values in the target's units."""
        return self.encoding.decode(self.outputs(X))

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (n, classes); classification only."""
        return self.probabilities(self.outputs(X, logits=True))


def _columns(enc_meta: dict) -> list[Column]:
    """The feature columns from a model's metadata (format 1: all numeric), type-checked."""
    features = enc_meta["features"]
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        raise ValueError("features")
    raw = enc_meta.get("columns")
    if raw is None:
        return [Column(f) for f in features]
    columns = [Column.from_dict(d) for d in raw]
    if [c.name for c in columns] != features:
        raise ValueError("columns")
    for c in columns:
        if c.kind == "categorical":
            cats = c.categories
            if not isinstance(cats, list) or not cats or not all(isinstance(v, str) for v in cats):
                raise ValueError(f"categories of '{c.name}'")
            if c.fill is not None and not isinstance(c.fill, str):
                raise ValueError(f"fill of '{c.name}'")
        elif c.kind == "numeric":
            if c.fill is not None and (isinstance(c.fill, bool) or not isinstance(c.fill, (int, float))):
                raise ValueError(f"fill of '{c.name}'")
        else:
            raise ValueError(f"kind of '{c.name}'")
    return columns


def model_meta(
    network: Network, encoding: Encoding, config: dict | None = None, training: dict | None = None
) -> dict:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "nettrain_version": __version__,
        "network": {
            "sizes": network.sizes,
            "activations": network.activation_names,
            "output": network.output,
            "cost": network.cost_name,
            "dtype": str(network.dtype),
            "output_bias": network.output_bias,
        },
        "encoding": encoding.to_dict(),
        "config": config or {},
        "training": training or {},
    }


def weights_sha256(network: Network) -> str:
    """SHA-256 (hex) of the network's parameters, bit for bit: for W(1), b(1), W(2), b(2), ...
    (members W0, b0, W1, b1, ...) in turn, one line naming the array, its dtype little-endian
    and its shape (``W0 <f4 128,64``, then a newline), followed by its values' bytes,
    little-endian, in C order.

    Equal digests mean the same weights: the same dtypes, shapes and bits (not merely close
    values; a float64 copy of float32 weights has another digest). It depends on nothing else
    a model file holds (the training time, the folders, the config), nor on the byte order the
    arrays were stored in, nor on the machine: two runs of one config and seed that train the
    same weights have the same digest although their model.npz files differ."""
    h = hashlib.sha256()
    for l, (W, b) in enumerate(zip(network.W, network.b)):
        for name, a in ((f"W{l}", W), (f"b{l}", b)):
            a = to_host(a)
            # the stored dtype, byte-swapped to little-endian where it was not (values unchanged)
            a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
            h.update(f"{name} {a.dtype.str} {','.join(str(k) for k in a.shape)}\n".encode("ascii"))
            h.update(a.tobytes(order="C"))
    return h.hexdigest()


def save_model(path: str | Path, model: Model, extra: dict[str, np.ndarray] | None = None) -> None:
    """Write ``model`` to ``path`` atomically (a .npz of plain arrays; see the module doc)."""
    write_atomic(path, model_writer(model, extra))


def model_writer(model: Model, extra: dict[str, np.ndarray] | None = None) -> Callable[[IO[bytes]], Any]:
    """What ``save_model`` writes, as a function of the open file (for write_all_atomic)."""
    net, enc = model.network, model.encoding
    meta = dict(model.meta)
    meta.update(model_meta(net, enc, meta.get("config"), meta.get("training")))
    arrays: dict[str, np.ndarray] = {}
    for l, (W, b) in enumerate(zip(net.W, net.b)):
        arrays[f"W{l}"] = to_host(W)
        arrays[f"b{l}"] = to_host(b)
    arrays["x_mean"] = np.asarray(enc.x_mean, dtype=np.float64)
    arrays["x_scale"] = np.asarray(enc.x_scale, dtype=np.float64)
    if enc.x_min is not None and enc.x_max is not None:
        arrays["x_min"] = np.asarray(enc.x_min, dtype=np.float64)
        arrays["x_max"] = np.asarray(enc.x_max, dtype=np.float64)
    if enc.task == "regression":
        arrays["y_mean"] = np.asarray(enc.y_mean, dtype=np.float64)
        arrays["y_scale"] = np.asarray(enc.y_scale, dtype=np.float64)
    for key, value in (extra or {}).items():  # checkpoints add their state arrays
        arrays[key] = to_host(value)
    # (a test loss that overflowed float32 is null: strict JSON readers refuse Infinity)
    arrays["meta"] = np.frombuffer(json_text(meta).encode("utf-8"), dtype=np.uint8)
    return lambda f: np.savez(f, **arrays)


# -- loading ---------------------------------------------------------------------------------------


def _header(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str):
    """(shape, dtype, data offset) of a stored .npy member, read without reading its data."""
    try:
        with zf.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version in ((2, 0), (3, 0)):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"unknown .npy version {version}")
            offset = f.tell()
    except ValueError as exc:
        raise ModelFileError(f"{name}: member '{info.filename}' is not a valid array ({exc})") from None
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
        # NotImplementedError: an unknown zip version or compression; RuntimeError: encrypted
        raise ModelFileError(f"{name}: member '{info.filename}' is damaged ({exc})") from None
    if dtype.hasobject:
        raise ModelFileError(
            f"{name}: member '{info.filename}' holds pickled Python objects; "
            "nettrain never loads those (a model file holds plain arrays only)"
        )
    if fortran:
        raise ModelFileError(f"{name}: member '{info.filename}' is not in C order")
    return shape, dtype, offset


def _check_size(info: zipfile.ZipInfo, shape, dtype, offset: int, name: str) -> None:
    """Refuse a member whose declared array is bigger than the bytes stored for it."""
    declared = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    if info.compress_type != zipfile.ZIP_STORED:
        raise ModelFileError(
            f"{name}: member '{info.filename}' is compressed; nettrain model files store arrays uncompressed"
        )
    if declared + offset > info.file_size or info.file_size > info.compress_size:
        raise ModelFileError(
            f"{name}: member '{info.filename}' declares shape {tuple(shape)} "
            f"({declared} bytes) but stores {info.compress_size} bytes; the file is "
            "damaged or forged"
        )


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> np.ndarray:
    try:
        with zf.open(info) as f:
            return np.lib.format.read_array(f, allow_pickle=False)
    except (ValueError, zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
        raise ModelFileError(f"{name}: member '{info.filename}' cannot be read ({exc})") from None


def read_members(path: str | Path, names: list[str]) -> dict[str, np.ndarray]:
    """More members of a model file (a checkpoint's optimizer state, best weights), read with
    the care load_model takes: every header checked against the bytes stored before anything
    is allocated, no pickles, no compression, only finite floats. Keys without '.npy'."""
    name = str(path)
    try:
        with zipfile.ZipFile(path) as zf:
            members = {info.filename: info for info in zf.infolist()}
            arrays = {}
            for member in (f"{n}.npy" for n in names):
                if member not in members:
                    raise ModelFileError(f"{name}: member '{member[:-4]}' is missing")
                shape, dtype, offset = _header(zf, members[member], name)
                if dtype.kind != "f":
                    raise ModelFileError(f"{name}: member '{member[:-4]}' has dtype {dtype}, expected floats")
                _check_size(members[member], shape, dtype, offset, name)
                arrays[member[:-4]] = _read(zf, members[member], name)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
        raise ModelFileError(f"{name}: the file is damaged ({exc})") from None
    for key, a in arrays.items():
        if not np.all(np.isfinite(a)):
            raise ModelFileError(f"{name}: member '{key}' holds NaN or infinite values")
    return arrays


def _meta(zf: zipfile.ZipFile, members: dict, header, name: str) -> dict:
    """The model file's JSON document (``header``: the meta member's, read already), checked:
    its size, JSON, format and format version."""
    if "meta.npy" not in members:
        raise ModelFileError(f"{name}: not a nettrain model file (no 'meta' document)")
    shape, dtype, offset = header
    if dtype != np.uint8 or len(shape) != 1 or shape[0] > MAX_META_BYTES:
        raise ModelFileError(f"{name}: the 'meta' document is malformed")
    _check_size(members["meta.npy"], shape, dtype, offset, name)
    try:
        meta = json.loads(_read(zf, members["meta.npy"], name).tobytes().decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # bad UTF-8 or JSON, a 5000-digit number, deep nesting
        raise ModelFileError(f"{name}: the 'meta' document is not valid JSON ({str(exc)[:100]})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(
            f"{name}: not a nettrain model file (format "
            f"{meta.get('format') if isinstance(meta, dict) else None!r})"
        )
    version = meta.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{name}: unknown model format version {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{name}: written by a newer nettrain (model format {version}, "
            f"nettrain {meta.get('nettrain_version', '?')}); this nettrain {__version__} reads "
            f"format {FORMAT_VERSION}. Upgrade nettrain to load it"
        )
    return meta


def read_meta(path: str | Path) -> dict:
    """A model file's (or checkpoint's) JSON document alone, read and checked as load_model
    reads it, without reading its arrays. Raises ModelFileError."""
    name = str(path)
    try:
        with zipfile.ZipFile(path) as zf:
            members = {info.filename: info for info in zf.infolist()}
            header = _header(zf, members["meta.npy"], name) if "meta.npy" in members else None
            return _meta(zf, members, header, name)
    except (zipfile.BadZipFile, NotImplementedError, EOFError, ValueError, OSError) as exc:
        raise ModelFileError(f"{name}: not a readable nettrain model file ({exc})") from None


def load_model(path: str | Path, device=None) -> Model:
    """Read a model file safely (see the module doc). Raises ModelFileError with the reason.

    ``device``: where its arrays live: a ``backend.Device`` or a word as --device takes it
    ('cpu', 'gpu', 'gpu:1', 'auto'); None is the CPU.
    """
    if isinstance(device, str):
        from .backend import resolve_device

        device = resolve_device(device)
    name = str(path)
    p = Path(path)
    try:
        exists = p.exists()
    except OSError as exc:  # a name too long, a loop of links
        raise ModelFileError(unreadable("model file", name, exc)) from None
    if not exists:
        raise ModelFileError(f"model file '{name}' not found")
    if p.is_dir():
        if (p / "model.npz").is_file():
            return load_model(p / "model.npz", device)
        raise ModelFileError(f"model file '{name}' is a directory without a model.npz")
    try:
        zf = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, NotImplementedError, EOFError, ValueError):
        # NotImplementedError: a damaged header claiming an unknown zip version
        raise ModelFileError(
            f"{name}: not a nettrain model file (not an .npz archive, or truncated)"
        ) from None
    except PermissionError:
        raise ModelFileError(f"model file '{name}' cannot be read: permission denied") from None
    except OSError as exc:
        raise ModelFileError(f"model file '{name}' cannot be read: {exc.strerror or exc}") from None
    with zf:
        members = {info.filename: info for info in zf.infolist()}
        headers = {}
        for member, info in members.items():
            headers[member] = _header(zf, info, name)
        meta = _meta(zf, members, headers.get("meta.npy"), name)
        try:
            net_meta = meta["network"]
            sizes = [int(s) for s in net_meta["sizes"]]
            activations = list(net_meta["activations"])
            output, cost = net_meta["output"], net_meta["cost"]
            enc_meta = meta["encoding"]
            task = enc_meta["task"]
            columns = _columns(enc_meta)
            n_inputs = sum(c.width for c in columns)
        except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as exc:
            raise ModelFileError(f"{name}: the 'meta' document lacks or garbles {exc}") from None
        words = (*activations, output, cost, *enc_meta["features"])
        if (
            not all(type(s) is int for s in net_meta["sizes"])
            or not isinstance(enc_meta["features"], list)
            or not all(isinstance(w, str) for w in words)
            or task not in ("classification", "regression")
        ):
            # a forged meta must not reach the registries (an unhashable name is a TypeError there)
            raise ModelFileError(
                f"{name}: the 'meta' document is malformed (a layer size, name or task of the wrong type)"
            )
        if len(sizes) < 2 or min(sizes) < 1 or n_inputs != sizes[0]:
            raise ModelFileError(f"{name}: the 'meta' document's layer sizes {sizes} are invalid")
        expected = {}
        for l, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            expected[f"W{l}.npy"] = (fan_out, fan_in)
            expected[f"b{l}.npy"] = (fan_out,)
        expected["x_mean.npy"] = expected["x_scale.npy"] = (sizes[0],)
        if task == "regression":
            expected["y_mean.npy"] = expected["y_scale.npy"] = (sizes[-1],)
        if "x_min.npy" in members and "x_max.npy" in members:  # (models of an older nettrain lack them)
            expected["x_min.npy"] = expected["x_max.npy"] = (sizes[0],)
        # check every declared shape before reading (allocating) any array
        for member, want in expected.items():
            if member not in members:
                raise ModelFileError(f"{name}: member '{member[:-4]}' is missing")
            shape, dtype, offset = headers[member]
            if tuple(shape) != want:
                raise ModelFileError(
                    f"{name}: member '{member[:-4]}' has shape {tuple(shape)}, "
                    f"expected {want} from the layer sizes {sizes}"
                )
            if dtype.kind != "f":
                raise ModelFileError(f"{name}: member '{member[:-4]}' has dtype {dtype}, expected floats")
            _check_size(members[member], shape, dtype, offset, name)
        arrays = {m[:-4]: _read(zf, members[m], name) for m in expected}
    # in the machine's byte order: a file written big-endian is read as '>f4', which the rest
    # would carry on (info's dtype, a re-saved model's metadata; CuPy refuses it)
    arrays = {k: a.astype(a.dtype.newbyteorder("="), copy=False) for k, a in arrays.items()}
    for key, a in arrays.items():
        if not np.all(np.isfinite(a)):
            raise ModelFileError(
                f"{name}: member '{key}' holds NaN or infinite values; the model is unusable"
            )
    n = len(sizes) - 1
    W = [arrays[f"W{l}"] for l in range(n)]
    b = [arrays[f"b{l}"] for l in range(n)]
    if len({w.dtype for w in W + b}) != 1:
        raise ModelFileError(f"{name}: the parameters mix dtypes")
    if device is not None:
        W = [device.asarray(w) for w in W]
        b = [device.asarray(v) for v in b]
    try:
        network = Network(
            W, b, activations, output, cost, output_bias=net_meta.get("output_bias", True) is not False
        )
    except (KeyError, ValueError, ConfigError) as exc:
        raise ModelFileError(f"{name}: the network description is invalid ({exc})") from None
    encoding = Encoding(
        task=task,
        cost=cost,
        features=list(enc_meta["features"]),
        target=enc_meta.get("target"),
        n_outputs=sizes[-1],
        x_mean=arrays["x_mean"],
        x_scale=arrays["x_scale"],
        x_min=arrays.get("x_min"),
        x_max=arrays.get("x_max"),
        y_mean=arrays.get("y_mean"),
        y_scale=arrays.get("y_scale"),
        classes=enc_meta.get("classes"),
        columns=columns,
        missing=enc_meta.get("missing", "error"),
        header=bool(enc_meta.get("header", True)),
        positional=enc_meta.get("positional"),
        delimiter=enc_meta.get("delimiter"),
        label_numbers=enc_meta.get("label_numbers", False) is True,
        excluded=enc_meta.get("excluded", []),
        weight=enc_meta.get("weight"),
    )
    if encoding.missing not in MISSING_POLICIES:
        raise ModelFileError(f"{name}: unknown missing-value policy {encoding.missing!r}")
    if not (
        isinstance(encoding.target, (str, type(None)))
        and isinstance(encoding.positional, (bool, type(None)))
        and (
            encoding.delimiter is None
            or (isinstance(encoding.delimiter, str) and len(encoding.delimiter) == 1)
        )
        and isinstance(meta.get("training", {}), dict)
        and isinstance(encoding.excluded, list)
        and all(isinstance(x, str) for x in encoding.excluded)
        and isinstance(encoding.weight, (str, type(None)))
    ):
        raise ModelFileError(
            f"{name}: the 'meta' document is malformed (the target, positional, delimiter or "
            "training entry has the wrong type)"
        )
    scales = [arrays["x_scale"], *([arrays["y_scale"]] if "y_scale" in arrays else [])]
    if any((s <= 0).any() for s in scales):
        raise ModelFileError(f"{name}: a standardization scale is zero or negative; the model is unusable")
    if task == "classification":
        classes = encoding.classes
        ok = (
            isinstance(classes, list)
            and all(isinstance(c, str) for c in classes)
            and len(classes) == (2 if sizes[-1] == 1 else sizes[-1])
        )
        if not ok:
            raise ModelFileError(f"{name}: the class list does not match the output layer")
    elif not isinstance(encoding.classes, (list, type(None))):  # (a regression model's is null)
        raise ModelFileError(f"{name}: the 'meta' document is malformed (the class list is not a list)")
    return Model(network, encoding, meta)
