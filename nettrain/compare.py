"""Several runs side by side (`nettrain info RUN RUN ...`): each run as one flat row of its
settings (from the model's config) and its results (from fit's training summary), and the table
of them that shows what differs.

A row holds raw values (numbers, text, None where a run has none), keyed as the summary and the
config key them (``learning_rate``, ``val_loss``, ``kept_epoch``, ...), so ``--sort KEY`` takes
the same names as ``info --json``. ``compare_table`` turns rows into text: the settings every run
shares go to one header line ("all runs: 64-128-64-10 relu, sgd, lr 0.1, batch 32, seed 0"), the
settings that differ and every result are columns. No printing here: cli.py renders the table.
"""

from __future__ import annotations

import os
from typing import Any

from .errors import NettrainError, did_you_mean

#: settings, in column order: (key, column title); each a column only where the runs differ
SETTINGS = (
    ("layers", "layers"),
    ("activation", "activation"),
    ("init", "init"),
    ("cost", "cost"),
    ("optimizer", "optimizer"),
    ("learning_rate", "lr"),
    ("schedule", "schedule"),
    ("batch_size", "batch"),
    ("weight_decay", "weight decay"),
    ("decay_biases", "decay biases"),
    ("dropout", "dropout"),
    ("input_dropout", "input dropout"),
    ("clip_norm", "clip norm"),
    ("early_stopping", "early stopping"),
    ("class_weight", "class weight"),
    ("weight_column", "weight column"),
    ("seed", "seed"),
    ("split_seed", "split seed"),
    # what a nightly retraining changes: the training file and the model it began from
    ("data", "data"),
    ("warm_start", "warm start"),
)
#: results, in column order: (key, column title); a column wherever any run has the value
RESULTS = (
    ("epochs", "epochs"),
    ("kept_epoch", "kept"),
    ("loss", "loss"),
    ("val_loss", "val loss"),
    ("val_accuracy", "val acc"),
    ("val_r2", "val R²"),
    ("val_weighted", "val weighted"),
    ("test_loss", "test loss"),
    ("test_accuracy", "test acc"),
    ("test_r2", "test R²"),
    ("test_weighted", "test weighted"),
    ("train_time_s", "time"),
)
#: whether a set's scores are weighted by its rows' sample weights (data.weight): the summary's
#: key, and the score that says the run has the set; a column only where the runs with the set
#: differ in it, so that weighted and unweighted scores are not compared unmarked
WEIGHTED = {"val_weighted": "val_loss", "test_weighted": "test_loss"}
#: sort keys whose best value is the largest: --sort puts the best run first
HIGHER_IS_BETTER = ("accuracy", "r2", "f1", "auc", "samples_per_s")


def _non_default(spec, registry: dict) -> str:
    """An optimizer's or a schedule's name and the hyper-parameters it was given that differ from
    their defaults ('adam beta1=0.8'); the config stores a mapping with every default filled in."""
    if not isinstance(spec, dict):
        return str(spec) if spec is not None else None
    name = spec.get("name")
    # (a model file's config is read as it is: a name that is not text names nothing registered)
    defaults = getattr(registry.get(name) if isinstance(name, str) else None, "defaults", {})
    given = [
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
        for k, v in spec.items()
        if k != "name" and (k not in defaults or defaults[k] != v)
    ]
    return " ".join([str(name), *given])


def _init(config: dict, meta: dict) -> str | None:
    """network.init ('pytorch', 'normal scale=0.05'), or None for a warm-started run, whose
    initial weights were the source model's (and for a model whose config names none)."""
    network = config.get("network") if isinstance(config.get("network"), dict) else {}
    init = network.get("init")
    if isinstance(meta.get("warm_start"), dict):
        return None
    return _non_default(init, {})  # (every parameter it names, as written)


def _early_stopping(spec) -> str | None:
    if not isinstance(spec, dict):
        return None
    text = f"{spec.get('monitor')}, patience {spec.get('patience')}"
    min_delta = spec.get("min_delta")
    if min_delta:
        text += f", min_delta {_text('min_delta', min_delta)}"
    return text if spec.get("restore_best", True) else text + ", not restored"


def run_row(label: str, network, meta: dict) -> dict[str, Any]:
    """One run as a flat dict: ``run`` (its path as given), the settings of ``SETTINGS`` and every
    entry of its training summary (``epochs``, ``loss``, ``val_loss``, ``kept_epoch``, ``test_*``,
    ``train_time_s``, ...). A setting left at its "off" value (weight decay 0, no dropout, no
    clipping, no early stopping, no class weight) is None. ``epochs_planned`` is the config's epochs."""
    from .optimizers import OPTIMIZERS
    from .schedules import SCHEDULES

    config = meta.get("config") if isinstance(meta.get("config"), dict) else {}
    tc = config.get("training") if isinstance(config.get("training"), dict) else {}
    summary = meta.get("training") if isinstance(meta.get("training"), dict) else {}
    acts = list(dict.fromkeys(network.activation_names))  # (one name when every hidden layer shares it)
    dropout = tc.get("dropout")
    if isinstance(dropout, list) and not any(dropout):
        dropout = None
    row: dict[str, Any] = {
        "run": label,
        "layers": "-".join(str(n) for n in network.sizes),
        "activation": ",".join(acts) if acts else None,
        "cost": network.cost_name,
        "init": _init(config, meta),
        "optimizer": _non_default(tc.get("optimizer"), OPTIMIZERS),
        "learning_rate": tc.get("learning_rate"),
        "schedule": _non_default(tc.get("schedule"), SCHEDULES),
        "batch_size": tc.get("batch_size"),
        "weight_decay": tc.get("weight_decay") or None,
        "decay_biases": True if tc.get("decay_biases") else None,
        "dropout": dropout or None,
        "input_dropout": tc.get("input_dropout") or None,
        "clip_norm": tc.get("clip_norm") or None,
        "early_stopping": _early_stopping(tc.get("early_stopping")),
        "class_weight": tc.get("class_weight") or None,
        "seed": tc.get("seed"),
        # the seed the hold-outs were drawn with: data.split_seed, else training.seed's
        "split_seed": _split_seed(config, tc),
        "split_seed_set": _split_seed(config, tc) is not None,
        "epochs_planned": tc.get("epochs"),
    }
    row.update({k: v for k, v in summary.items() if k not in row})
    dc = config.get("data") if isinstance(config.get("data"), dict) else {}
    if not isinstance(row.get("data"), str):  # (an older model's summary names no file: the config's)
        row["data"] = dc.get("train") if isinstance(dc.get("train"), str) else None
    # data.weight: the column of the rows' sample weights (None: unweighted)
    row["weight_column"] = dc.get("weight") if isinstance(dc.get("weight"), str) else None
    warm = meta.get("warm_start")  # the model a --warm-start run began from: path, weights_sha256
    row["warm_start"] = warm if isinstance(warm, dict) else None
    if row.get("kept_epoch") is None and isinstance(row.get("epochs"), int):
        row["kept_epoch"] = row["epochs"]  # (without early stopping the model keeps the last epoch)
    return row


def sort_keys(rows: list[dict]) -> list[str]:
    """The keys --sort takes: those holding a number or a text in at least one run."""
    keys = dict.fromkeys(
        k
        for row in rows
        for k, v in row.items()
        if isinstance(v, (int, float, str))
        and not isinstance(v, bool)
        and k not in ("data", "epochs_planned")
    )
    return list(keys)


def _sort_hint(key: str, available: list[str]) -> str:
    """' (did you mean 'val_r2'?)' for a score named without its set (r2, accuracy: val_ or
    test_), else the closest spelling."""
    scoped = [k for k in available if k.endswith(f"_{key}")]
    return (
        f" (did you mean {' or '.join(repr(k) for k in scoped)}?)" if scoped else did_you_mean(key, available)
    )


def sort_rows(rows: list[dict], key: str) -> list[dict]:
    """``rows`` best first by ``key``: scores (accuracy, R², ...) from the highest, everything else
    (losses, time, learning rate, ...) from the lowest; runs without the key last, and runs of equal
    value in the order given; '-KEY' the other way round (worst first, runs without it still
    last). Raises NettrainError for a key no run has, naming the keys there are."""
    given, reverse = key, key.startswith("-")
    key = key[1:] if reverse else key
    available = sort_keys(rows)
    if key not in available:
        raise NettrainError(
            f"--sort {given}: no run has it{_sort_hint(key, available)}; keys: {', '.join(available)}"
        )
    descending = any(key.endswith(word) for word in HIGHER_IS_BETTER) != reverse

    def order(row):
        value = row.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float, str)) or value != value:
            return (2, 0, "")  # missing (or NaN): last
        if isinstance(value, str):
            return (1, 0, value)
        return (0, -value if descending else value, "")

    ranked = sorted(rows, key=order)
    if reverse:  # texts Z to A as well (numbers are reversed by `descending`)
        texts = [row for row in ranked if order(row)[0] == 1][::-1]
        ranked = (
            [row for row in ranked if order(row)[0] == 0] + texts + [r for r in ranked if order(r)[0] == 2]
        )
    return ranked


def _text(key: str, value) -> str:
    """A value as the table shows it ('-' for none)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key == "train_time_s" and isinstance(value, (int, float)):
        return f"{value:.3g} s" if value < 100 else f"{value:,.0f} s"
    if key.endswith(("accuracy", "r2")) and isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ",".join(_text(key, v) for v in value)
    if isinstance(value, dict):  # class_weight's {label: weight}
        return ", ".join(f"{k}: {_text(key, v)}" for k, v in value.items())
    return str(value)


def _split_seed(config: dict, tc: dict):
    """data.split_seed where a run set it, else None (its hold-outs came from training.seed)."""
    data = config.get("data") if isinstance(config.get("data"), dict) else {}
    return data.get("split_seed")


def _header_text(key: str, value) -> str:
    """A setting every run shares, as the header line names it."""
    if key == "decay_biases":
        return "weight decay on the biases too"
    text = _text(key, value)
    prefix = {
        "learning_rate": "lr ",
        "batch_size": "batch ",
        "weight_decay": "weight decay ",
        "dropout": "dropout ",
        "input_dropout": "input dropout ",
        "clip_norm": "clip norm ",
        "early_stopping": "early stopping on ",
        "class_weight": "class weight ",
        "weight_column": "weight column ",
        "seed": "seed ",
        "split_seed": "split seed ",
        "schedule": "schedule ",
        "init": "init ",
        "data": "trained on ",
        "warm_start": "warm start from ",
    }.get(key, "")
    return prefix + text


def compare_table(rows: list[dict], r2: str = "R²") -> tuple[str, list[str], list[list[str]]]:
    """The comparison of ``rows``: the header line of the settings all runs share ('' when none),
    the column titles, and one list of cells per row (in the order given).

    The training file and the warm start's source are shown short (relative to the current
    folder when inside it; a source model.npz by its run folder, with its weights' digest's first
    8 digits), unless that would show two that differ alike.

    A setting is a column when the runs differ in it; when they agree it is named on the header line,
    unless it is off for all of them (no weight decay, a constant schedule, ...). Every result some
    run has is a column, with '-' for the runs without it; 'epochs' reads '5/20' for a run that
    stopped before its config's epochs. 'val weighted' and 'test weighted' (yes, no, '-' for a run
    without the set) are columns only where the runs with those scores differ in whether sample
    weights weigh them. ``r2``: the title's spelling of R² (R2 where stdout
    cannot write ²)."""
    if any(row.get("split_seed_set") for row in rows):  # the split's seed, set or from training.seed
        rows = [
            {**row, "split_seed": row["seed"] if row.get("split_seed") is None else row["split_seed"]}
            for row in rows
        ]
    rows = _paths_shown(rows)
    # yes/no for a run with the set's scores (a run without sample weights, which has no such key,
    # and an older model's, are unweighted), '-' for one without them
    for key, score in WEIGHTED.items():
        for row in rows:
            row[key] = bool(row.get(key)) if row.get(score) is not None else None
    shared: dict[str, str] = {}
    columns: list[tuple[str, str]] = [("run", "run")]
    for key, title in SETTINGS:
        values = [_text(key, row.get(key)) for row in rows]
        if len(set(values)) > 1:
            columns.append((key, title))
        elif rows[0].get(key) is not None and (key, values[0]) not in (
            ("schedule", "constant"),
            ("init", "auto"),
        ):
            shared[key] = _header_text(key, rows[0].get(key))
    if "layers" in shared and "activation" in shared:  # '64-128-64-10 relu', as one says it
        shared["layers"] += " " + shared.pop("activation")
    for key, title in RESULTS:
        if key == "kept_epoch" and not any(row.get("best_epoch") is not None for row in rows):
            continue  # (no run used early stopping: every model kept its last epoch)
        if key in WEIGHTED:  # (only where weighted and unweighted scores meet)
            if len({row[key] for row in rows} - {None}) > 1:
                columns.append((key, title))
        elif any(row.get(key) is not None for row in rows):
            columns.append((key, title.replace("R²", r2)))
    cells = []
    for row in rows:
        line = []
        for key, _ in columns:
            text = _text(key, row.get(key))
            planned = row.get("epochs_planned")
            if key == "epochs" and isinstance(planned, int) and row.get(key) != planned:
                text += f"/{planned}"
            if key == "kept_epoch" and row.get("best_epoch") not in (None, row.get(key)):
                text += f" (best {row['best_epoch']})"
            line.append(text)
        cells.append(line)
    header = f"all runs: {', '.join(shared.values())}" if shared else ""
    return header, [title for _, title in columns], cells


def _paths_shown(rows: list[dict]) -> list[dict]:
    """``rows`` with their training file and warm start source as the table shows them: short
    where the short forms tell apart the runs that differ, else in full."""
    rows = [dict(row) for row in rows]
    for key, short, full in (("data", _short_path, str), ("warm_start", _short_source, _full_source)):
        raw = [row.get(key) for row in rows]
        # (told apart by what the full form shows: a warm start's ``encoding_n_train`` or
        # ``unknown`` is no other source)
        distinct = {full(v) if v is not None else None for v in raw}
        texts = [short(v) if v is not None else None for v in raw]
        if len(set(texts)) < len(distinct):  # (two that differ would look alike)
            texts = [full(v) if v is not None else None for v in raw]
        for row, text in zip(rows, texts):
            row[key] = text
    return rows


def _short_path(path: str) -> str:
    """A file's path relative to the current folder when it lies inside it, else as it is (also
    'standard input' and the like, which are no paths)."""
    if not os.path.isabs(path):
        return path
    try:
        rel = os.path.relpath(path)
    except ValueError:  # (another drive)
        return path
    return path if rel.startswith("..") else rel


def _short_source(warm: dict) -> str:
    """A warm start's source: its path as _short_path shows it, a model.npz by its run folder
    ('runs/2026-11-25/', or the folder's name where it lies outside the current folder or is
    it), and the
    first 8 digits of its weights' digest."""
    path, digest = warm.get("path"), str(warm.get("weights_sha256") or "")[:8]
    if not isinstance(path, str):
        text = "a model given to fit"
    elif os.path.basename(path) == "model.npz" and os.path.dirname(path) not in ("", os.sep):
        folder = os.path.dirname(path)
        shown = _short_path(folder)
        text = (os.path.basename(folder) if os.path.isabs(shown) or shown == "." else shown) + "/"
    else:
        text = _short_path(path)
    return f"{text} ({digest})" if digest else text


def _full_source(warm: dict) -> str:
    path = warm.get("path") if isinstance(warm.get("path"), str) else "a model given to fit"
    digest = warm.get("weights_sha256")
    return f"{path} ({digest})" if digest else path
