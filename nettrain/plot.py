"""Learning curves: the per-epoch history of one or more runs, drawn with matplotlib.

    read_history(source)        -> (label, records): one dict per epoch, as history.jsonl holds
    kept_epoch(source)          -> the epoch whose weights the run's model kept (early stopping), or None
    learning_curves(runs, ...)  -> a matplotlib Figure: loss (solid) and validation loss (dashed)
                                   per epoch, a panel per validation metric (val_accuracy, val_r2;
                                   R² shown from R2_FLOOR up when a run blew up below it),
                                   the learning rate when a schedule changed it, and each layer's
                                   gradient norm (grad_norm, training.gradient_norms) on a log axis

A source is a run folder, its history.jsonl, or a checkpoint (which carries the history so far,
so a run still training can be drawn from its newest checkpoint). matplotlib is the optional
``plot`` extra (``pip install "nettrain[plot]"``); it is imported only here, only when a plot is
drawn, and only through its object-oriented API (no pyplot, no GUI backend, no global state).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from .errors import DataError, ModelFileError, NettrainError, unreadable

# panels after the loss, in this order, when some run's history has them
METRICS = {"val_accuracy": "validation accuracy", "val_r2": "validation R²"}

#: the R² panel's lowest value shown: R² below 0 is worse than predicting the mean, and one run
#: that blew up (R² -2000) would otherwise squash 0.999 and 0.03 together at the top
R2_FLOOR = -1.0


def read_history(source: str | Path) -> tuple[str, list[dict]]:
    """The epochs recorded for one run, and a label for it (the run folder's name).

    ``source``: a run folder (its history.jsonl, or its newest checkpoint when that is another,
    newer run's: one still in progress), a history.jsonl file, or a checkpoint-<epoch>.npz.

    Raises DataError when there is no history or a line of it is not an epoch's record.
    """
    from .checkpoint import checkpoints_in

    p = Path(source)
    try:
        is_dir = p.is_dir()
    except OSError as exc:  # a name too long, a loop of links
        raise DataError(unreadable("run", source, exc)) from None
    if is_dir:
        label = p.resolve().name or str(p)
        history, found = p / "history.jsonl", checkpoints_in(p)
        newest = found[-1][1] if found else None
        if not history.is_file():
            if newest is None:
                raise DataError(
                    f"'{source}' holds no history.jsonl and no checkpoint: is it a run folder "
                    "(the config's output)?"
                )
            return label, _from_checkpoint(newest)
        records = _from_jsonl(history)
        if newest is not None and _mtime(newest) > _mtime(history):
            # a newer checkpoint: a run in progress in this folder, unless its epochs are the
            # start of history.jsonl's (the same run, finished; a copied folder's file times
            # say nothing: cp, tar and checkouts reset them)
            running = _from_checkpoint(newest)
            if [r.get("loss") for r in running] != [r.get("loss") for r in records[: len(running)]]:
                return label, running
        return label, records
    label = p.resolve().parent.name or str(p)
    if p.suffix == ".npz":
        return label, _from_checkpoint(p)
    return label, _from_jsonl(p)


def kept_epoch(source: str | Path, last_epoch: int | None = None) -> int | None:
    """The epoch whose weights the run folder's model.npz kept when early stopping restored the
    best one (so the plot can mark it); None for another source, a model that kept the last, or
    a model whose run did not end at ``last_epoch`` (the curves drawn are another run's: one
    still training in the same folder)."""
    model_file = Path(source) / "model.npz"
    if not model_file.is_file():
        return None
    from .modelfile import load_model

    try:
        training = load_model(model_file).meta.get("training", {})
    except ModelFileError:
        return None
    kept, last = training.get("kept_epoch"), training.get("epochs")
    if last_epoch is not None and last != last_epoch:
        return None
    return kept if type(kept) is int and kept != last else None


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _from_jsonl(path: Path) -> list[dict]:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a history.jsonl (not UTF-8 text)") from None
    except OSError as exc:
        raise DataError(unreadable("history", path, exc)) from None
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):  # (a 5000-digit number is a ValueError too)
            raise DataError(f"{path}:{number}: not a JSON object, as history.jsonl lines are") from None
        records.append(_checked(record, f"{path}:{number}"))
    if not records:
        raise DataError(f"{path}: no epochs recorded")
    return records


def _from_checkpoint(path: Path) -> list[dict]:
    from .modelfile import load_model

    meta = load_model(path).meta
    state = meta.get("checkpoint")
    if not isinstance(state, dict):
        raise DataError(
            f"{path}: a model file holds no history; give its run folder (history.jsonl) or a checkpoint"
        )
    history = state.get("history")
    if not isinstance(history, list) or not history:
        raise DataError(f"{path}: no epochs recorded")
    return [_checked(r, f"{path}: epoch {k}") for k, r in enumerate(history, start=1)]


def _checked(record, where: str) -> dict:
    """An epoch's record must hold an integer epoch and a number for every value drawn."""
    if not isinstance(record, dict) or type(record.get("epoch")) is not int:
        raise DataError(f"{where}: not an epoch's record (an object with an integer 'epoch')")
    for key in ("loss", "val_loss", "lr", *METRICS):
        value = record.get(key)
        if key in record and (type(value) not in (int, float) and value is not None):
            raise DataError(f"{where}: '{key}' is {json.dumps(value)[:40]}, not a number")
    if "loss" not in record:
        raise DataError(f"{where}: the record has no 'loss'")
    norms = record.get("grad_norm")
    if norms is not None and (
        not isinstance(norms, list) or any(type(x) not in (int, float) and x is not None for x in norms)
    ):
        raise DataError(f"{where}: 'grad_norm' is {json.dumps(norms)[:40]}, not a list of numbers")
    return record


def learning_curves(
    runs: list[tuple[str, list[dict]]],
    log_loss_axis: bool = False,
    title: str | None = None,
    kept: list[int | None] | None = None,
):
    """Draw the runs' histories; returns a matplotlib ``Figure`` (save it with ``savefig``).

    Parameters
    ----------
    runs : (label, records) pairs, as ``read_history`` returns them
    log_loss_axis : a logarithmic loss axis (losses that fall over decades)
    title : above the panels; default: the run's label when there is one run ('' for none)
    kept : per run, an epoch to mark with a dotted line (the one early stopping kept), or None

    Panels share the epoch axis, top to bottom: loss; each metric of METRICS that a run has;
    the learning rate, when it changed in some run; then, for each run that recorded grad_norm
    (training.gradient_norms), its gradient norms, one line per W(l) on a logarithmic axis. A
    run has one colour; its validation curves are dashed. In a gradient panel the colour is the
    layer's, from dark (W(1), nearest the input) to light (the output layer's).
    """
    import warnings

    with warnings.catch_warnings():  # (a log axis without positive values warns: not ours to print)
        warnings.simplefilter("ignore")
        return _draw(runs, log_loss_axis, title, kept or [None] * len(runs))


def _draw(runs, log_loss_axis: bool, title: str | None, kept: list[int | None]):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise NettrainError('drawing needs matplotlib: pip install "nettrain[plot]"') from None

    def has(key, of=None):
        return any(r.get(key) is not None for _, records in (of or runs) for r in records)

    panels = ["loss", *(k for k in METRICS if has(k))]
    if any(len({r.get("lr") for r in records if r.get("lr") is not None}) > 1 for _, records in runs):
        panels.append("lr")
    # a panel of gradient norms per run that has them: layers need the colours there
    panels += [("grad", k) for k, run in enumerate(runs) if has("grad_norm", [run])]
    fig = Figure(figsize=(7.0, 1.2 + 2.4 * len(panels)), layout="constrained")
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    one = len(runs) == 1
    for k, (label, records) in enumerate(runs):
        colour = f"C{k % 10}"
        label = _text(label)
        records = sorted(records, key=lambda r: r["epoch"])  # (a history is in order; a file may not be)
        epochs = [r["epoch"] for r in records]
        marker = "o" if len(epochs) == 1 else None  # one epoch: a point, not an invisible line

        def series(key, records=records):
            return [_number(r.get(key)) for r in records]

        for ax, panel in zip(axes, panels):
            if panel == "loss":
                name = "training" if one else label
                ax.plot(epochs, series("loss"), color=colour, marker=marker, label=name)
                if has("val_loss", [(label, records)]):
                    ax.plot(
                        epochs,
                        series("val_loss"),
                        color=colour,
                        marker=marker,
                        linestyle="--",
                        label="validation" if one else f"{label} (validation)",
                    )
            elif panel == "lr":
                ax.plot(epochs, series("lr"), color=colour, marker=marker, label=label)
            elif isinstance(panel, tuple):
                if panel[1] != k:
                    continue  # another run's gradients
                _draw_gradient_norms(ax, epochs, records, marker, None if one else label)
            else:
                ax.plot(epochs, series(panel), color=colour, marker=marker, linestyle="--", label=label)
            if kept[k] is not None:
                name = f"kept epoch {kept[k]}" if one else f"{label}: kept epoch {kept[k]}"
                ax.axvline(kept[k], color=colour, linestyle=":", label=name if panel == "loss" else None)
    names = {"loss": "loss", "lr": "learning rate", **METRICS}
    for ax, panel in zip(axes, panels):
        ax.set_ylabel("gradient norm" if isinstance(panel, tuple) else names[panel])
        ax.grid(True, alpha=0.3)
    if "val_r2" in panels:
        _clip_r2(axes[panels.index("val_r2")], [_number(r.get("val_r2")) for _, rs in runs for r in rs])
    gradient_axes = [ax for ax, panel in zip(axes, panels) if isinstance(panel, tuple)]
    for ax in gradient_axes[1:]:  # one scale for every run's gradients, to compare them
        ax.sharey(gradient_axes[0])
    if len(gradient_axes) > 1:
        gradient_axes[0].autoscale(axis="y")  # (over the data of all of them)
    if log_loss_axis:
        axes[0].set_yscale("log")
    if "lr" in panels:  # learning rates a decade or more apart (0.1 beside 0.001) on a log axis
        rates = [r["lr"] for _, records in runs for r in records if isinstance(r.get("lr"), (int, float))]
        if rates and min(rates) > 0 and max(rates) >= 10 * min(rates):
            axes[panels.index("lr")].set_yscale("log")
    entries = len(axes[0].get_legend_handles_labels()[1])
    if entries > 6:  # (several runs: three entries each) beside the panels, not over the curves
        axes[0].legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    else:
        axes[0].legend(fontsize="small")
    axes[-1].set_xlabel("epoch")
    axes[-1].xaxis.get_major_locator().set_params(integer=True)
    if title is None and one:
        title = runs[0][0]
    if title:
        fig.suptitle(_text(title))
    return fig


def _clip_r2(ax, values: list[float]) -> None:
    """Show the R² panel from R2_FLOOR up when some value lies below it (and some above: a
    panel with nothing above the floor is drawn whole), and say so in its label. Only the view
    changes: the curves keep their values."""
    shown = [v for v in values if math.isfinite(v)]
    if not shown or min(shown) >= R2_FLOOR or max(shown) <= R2_FLOOR:
        return
    top = max(shown)
    ax.set_ylim(R2_FLOOR, top + 0.05 * (top - R2_FLOOR))  # (matplotlib's own margin above)
    ax.set_ylabel(f"{METRICS['val_r2']}\n(below {R2_FLOOR:g} not shown)")


def _draw_gradient_norms(ax, epochs: list, records: list[dict], marker, label: str | None) -> None:
    """One run's grad_norm: a line per layer W(l), on a logarithmic axis (norms that shrink
    layer by layer towards the input, vanishing gradients, are decades apart). An epoch without
    the norms (a run resumed with gradient_norms turned on) or a null is a gap."""
    from matplotlib import colormaps

    norms = [r.get("grad_norm") or [] for r in records]
    n_layers = max(len(g) for g in norms)
    colours = colormaps["viridis"]
    for l in range(n_layers):
        values = [_number(g[l] if l < len(g) else None) for g in norms]
        colour = colours(0.85 * l / max(1, n_layers - 1))
        ax.plot(epochs, values, color=colour, marker=marker, label=f"W({l + 1})")
    ax.set_yscale("log")
    if label:
        ax.set_title(_text(label), fontsize="small")
    ax.legend(fontsize="x-small", ncol=1 + (n_layers - 1) // 4, title="dC/dW(l)", title_fontsize="x-small")


def image_formats() -> list[str]:
    """The file formats (suffixes) matplotlib writes; NettrainError when it is not installed."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise NettrainError('drawing needs matplotlib: pip install "nettrain[plot]"') from None
    return sorted(Figure().canvas.get_supported_filetypes())


def render(fig, fmt: str = "png", dpi: int = 120) -> bytes:
    """The figure as the bytes of an image file in format ``fmt`` (png, svg, pdf, ...).
    matplotlib's warnings (a log axis with no positive value, NaN limits) stay here: the
    library does not print; a figure it cannot lay out is a DataError."""
    import io
    import warnings

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fig.savefig(buffer, format=fmt, dpi=dpi)
        except (ValueError, OverflowError) as exc:
            raise DataError(f"cannot draw these values ({str(exc)[:80]})") from None
    return buffer.getvalue()


def _text(text: str) -> str:
    """A label or title as written: matplotlib reads $...$ as mathematical markup."""
    return str(text).replace("$", r"\$")


def _number(value) -> float:
    """A record's value for the plot: a missing value, null or a value beyond what an axis can
    span (|x| > 1e300, where matplotlib's tick arithmetic overflows) is a gap (NaN)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    value = float(value)
    return value if abs(value) <= 1e300 or not math.isfinite(value) else math.nan
