"""Progress reporters for `nettrain fit`: they turn the fit loop's events into what a person or a
program reads.

- RichReporter: on a terminal, a live table (epoch, train loss, val loss, metric, samples/s,
  elapsed, ETA) with a progress bar inside long epochs.
- PlainReporter: off a terminal (a pipe, a file, CI) or on one whose TERM is 'dumb', one plain
  line per epoch on stderr with no control codes; runs of more than 100 epochs print 100 evenly
  spaced lines plus the first, and a line comes at least about once a minute (inside a long
  epoch: how many of its batches are done), so that a CI log shows the run is alive.
- JsonReporter: one JSON object per epoch and a final summary on stdout (``--json``).

Every reporter ends with a one-line summary and a sparkline of the loss curve on stderr (unless
quiet). Rich is imported only when a terminal asks for it.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from typing import IO, Any

SPARK = "▁▂▃▄▅▆▇█"
SPARK_ASCII = "_.-~=+*#"


def sparkline(values: list[float], width: int = 24, ascii_only: bool = False, log: bool = False) -> str:
    """A one-line chart of ``values`` (resampled to at most ``width`` points). ``log``: on a
    logarithmic scale when every value is positive and they span more than a factor of 10, so
    that a first epoch's large loss does not flatten the rest of the curve."""
    chars = SPARK_ASCII if ascii_only else SPARK
    vals = [v for v in values if math.isfinite(v)]
    if not vals:
        return ""
    if log and min(vals) > 0 and max(vals) > 10 * min(vals):
        return sparkline([math.log(v) for v in vals], width, ascii_only)
    if len(vals) > width:
        step = len(vals) / width
        vals = [vals[min(int(i * step), len(vals) - 1)] for i in range(width)]
        vals[-1] = values[-1] if math.isfinite(values[-1]) else vals[-1]
    lo, hi = min(vals), max(vals)
    span = hi - lo
    if span <= 0:
        return chars[0] * len(vals)
    return "".join(chars[min(int((v - lo) / span * (len(chars) - 1) + 0.5), len(chars) - 1)] for v in vals)


def fmt_duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    m, s = divmod(int(seconds + 0.5), 60)
    if m < 60:
        return f"{m}m{s:02d}s"
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m"


def fmt_rate(samples_per_s: float) -> str:
    if not math.isfinite(samples_per_s):
        return "-"
    if samples_per_s >= 1e6:
        return f"{samples_per_s / 1e6:.2f}M"
    if samples_per_s >= 1e4:
        return f"{samples_per_s / 1e3:.0f}k"
    return f"{samples_per_s:,.0f}"


def metric_of(record: dict) -> tuple[str, float] | None:
    for key, label in (("val_accuracy", "val acc"), ("val_r2", "val R²")):
        if key in record:
            return label, record[key]
    return None


def grad_ends(record: dict) -> tuple[str, str] | None:
    """training.gradient_norms, compactly: the first and the last layer's gradient norm,
    ('grad W(1)/W(6)', '1.1e-03/5.0e-01'); None for a record without them."""
    norms = record.get("grad_norm")
    if not norms:
        return None

    def fmt(x):
        return "-" if x is None else f"{x:.1e}"

    if len(norms) == 1:
        return "grad W(1)", fmt(norms[0])
    return f"grad W(1)/W({len(norms)})", f"{fmt(norms[0])}/{fmt(norms[-1])}"


def _encoding_is_utf(stream: IO) -> bool:
    return "utf" in (getattr(stream, "encoding", "") or "").lower()


def summary_line(end: dict, ascii_only: bool = False) -> str:
    """'done: 30 epochs in 1.2s  loss 0.0038  val acc 0.9704  test acc 0.9778  ▇▅▃▂▁  -> runs/x'

    The time is the summary's ``train_time_s``: a resumed run's counts the epochs before the
    resume too ('done: 30 epochs in 3.8s (resumed after epoch 20)'), but those of a checkpoint of
    an older nettrain, which did not say how long they took ('done: epochs 21-30 (resumed) in
    0.8s': the epochs that time covers)."""
    s = end["summary"]
    first = end.get("first_epoch", 1)
    timed = end.get("timed_epochs", s["epochs"] - first + 1)
    if first <= 1:
        epochs, after = f"{s['epochs']} epochs", ""
    elif timed >= s["epochs"]:
        epochs, after = f"{s['epochs']} epochs", f" (resumed after epoch {first - 1})"
    else:
        epochs, after = f"epochs {s['epochs'] - timed + 1}-{s['epochs']} (resumed)", ""
    done = f"done: {epochs} in {fmt_duration(s['train_time_s'])}{after}"
    if s.get("stopped_early"):
        done += f" (stopped early, kept epoch {s['kept_epoch']})"
    elif s.get("kept_epoch") not in (None, s["epochs"]):
        # restore_best at the last epoch: the figures below are the kept epoch's, not the last's
        done += f" (kept epoch {s['kept_epoch']}, the best {s['monitor']})"
    parts = [done, f"loss {s['loss']:.6g}" if s.get("loss") is not None else "loss -"]
    for key, label in (
        ("val_loss", "val loss"),
        ("val_accuracy", "val acc"),
        ("val_r2", "val R²"),
        ("test_accuracy", "test acc"),
        ("test_r2", "test R²"),
    ):
        if key in s:  # losses as the epoch lines print them; scores to 4 decimals
            parts.append(f"{label} {s[key]:.6g}" if key == "val_loss" else f"{label} {s[key]:.4f}")
    curve = sparkline([r["loss"] for r in end["history"]], ascii_only=ascii_only, log=True)
    if curve:
        parts.append(curve)
    if end.get("output"):
        parts.append(f"-> {_display_path(end['output'])}/model.npz")
    text = "  ".join(parts)
    return text.replace("R²", "R2") if ascii_only else text


def early_stop_line(info: dict) -> str:
    """'early stopping: val_loss did not improve for 10 epochs; stopped after epoch 37, kept the
    weights of epoch 27 (val_loss 0.0912)'"""
    kept = info["restored"]
    return (
        f"early stopping: {info['monitor']} did not improve for {info['patience']} epochs; stopped "
        f"after epoch {info['epoch']}, kept the weights of epoch {kept} "
        f"({info['monitor']} {info['best']:.6g})"
    )


def _display_path(path: str) -> str:
    """A path relative to the current folder when it lies inside it, on one line (a line break
    in a folder's name shown as \\n, as error messages show it)."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        rel = ".."
    return one_line(path if rel.startswith("..") else rel)


def one_line(text: str) -> str:
    """``text`` with line breaks written as \\n and \\r: a message stays one line."""
    return str(text).replace("\r", "\\r").replace("\n", "\\n")


class Reporter:
    """Base: receives (kind, info) events from ``nettrain.train.fit``."""

    def __init__(self, err: IO | None = None, quiet: bool = False):
        self.err = err or sys.stderr
        self.quiet = quiet
        self.ascii = not _encoding_is_utf(self.err)

    def __call__(self, kind: str, info: dict) -> None:
        handler = getattr(self, f"on_{kind}", None)
        if handler is not None:
            handler(info)

    def say(self, text: str) -> None:
        if not self.quiet:
            self.err.write(text + "\n")
            self.err.flush()

    def on_notice(self, info: dict) -> None:
        self.say(f"Note: {info['message']}")

    def on_warning(self, info: dict) -> None:
        """Something the user asked for did not happen (a checkpoint not written): one line,
        shown under --quiet too, as errors are."""
        self.err.write(f"Warning: {one_line(info['message'])}\n")
        self.err.flush()

    def on_end(self, info: dict) -> None:
        self.say(summary_line(info, self.ascii))

    def on_checkpoint(self, info: dict) -> None:
        self.say(checkpoint_line(info))

    def on_early_stop(self, info: dict) -> None:
        self.say(early_stop_line(info))

    def close(self) -> None:
        pass


def checkpoint_line(info: dict) -> str:
    return f"checkpoint: {_display_path(info['path'])}"


class PlainReporter(Reporter):
    """One line per epoch (100 lines at most, plus the first and the last), no control codes; and
    a line at least every ``HEARTBEAT_S`` seconds, so that a log is never silent for long (CI
    services stop a job whose output stays silent for 10 minutes or so)."""

    HEARTBEAT_S = 60.0

    def __init__(self, err: IO | None = None, quiet: bool = False, clock=time.monotonic):
        super().__init__(err, quiet)
        self.held: list[str] = []  # the latest epoch's lines, not said (yet)
        self.clock = clock
        self.last_said = clock()
        self.said_epoch = 0  # the latest epoch whose line was said

    def say(self, text: str) -> None:
        super().say(text)
        self.last_said = self.clock()

    def _overdue(self) -> bool:
        return self.clock() - self.last_said >= self.HEARTBEAT_S

    def on_start(self, info: dict) -> None:
        self.epochs = info["epochs"]
        self.first = info.get("first_epoch", 1)
        # (a resumed run's elapsed goes on from the time its checkpoint recorded, as the epochs')
        self.started = self.clock() - info.get("elapsed", 0.0)
        self.say(
            f"fit: {info['n_train']} training rows"
            + (f", {info['n_val']} validation" if info["n_val"] else "")
            + (f", {info['n_test']} test" if info.get("n_test") else "")
            + f", layers {'-'.join(map(str, info['sizes']))} ({info['params']:,} parameters), "
            f"{self.epochs} epochs of {info['batches']} batch{'es' if info['batches'] != 1 else ''} "
            f"on {info['device']}" + (f" x {info['ranks']} MPI ranks" if info.get("ranks") else "")
        )

    def on_batch(self, info: dict) -> None:
        """Inside a long epoch, a line once the log has been silent for ``HEARTBEAT_S``."""
        if self._overdue():
            width = len(str(self.epochs))
            self.say(
                f"epoch {info['epoch']:>{width}}/{self.epochs}  batch {info['batch']}/{info['batches']}"
                f"  elapsed {fmt_duration(self.clock() - self.started)}"
            )

    def on_epoch(self, r: dict) -> None:
        e = r["epoch"]
        line = self.epoch_line(r)
        if self.shows(e) or self._overdue():
            self.say(line)
            self.held = []
            self.said_epoch = e
        else:  # said if it turns out to be the last epoch (an early stop, an interrupt)
            self.held = [line]

    def _say_held(self) -> None:
        """The last epoch's line (and its checkpoint's) when the 100-line rule skipped them."""
        for line in self.held:
            self.say(line)
        self.held = []

    def on_early_stop(self, info: dict) -> None:
        self._say_held()
        super().on_early_stop(info)

    def on_end(self, info: dict) -> None:
        self._say_held()
        super().on_end(info)

    def close(self) -> None:
        self._say_held()

    def epoch_line(self, r: dict) -> str:
        e = r["epoch"]
        width = len(str(self.epochs))
        # numbers padded to one width, so the columns of successive lines line up
        parts = [f"epoch {e:>{width}}/{self.epochs}", f"loss {r['loss']:<11.6g}"]
        if "val_loss" in r:
            parts.append(f"val_loss {r['val_loss']:<11.6g}")
        m = metric_of(r)
        if m:
            parts.append(f"{m[0].replace(' ', '_').replace('R²', 'r2')} {m[1]:.4f}")
        g = grad_ends(r)
        if g:
            parts.append(f"{g[0]} {g[1]}")
        parts += [
            f"lr {r['lr']:.3g}",
            f"{fmt_rate(r['samples_per_s'])} samples/s",
            f"elapsed {fmt_duration(r['elapsed'])}",
            f"eta {fmt_duration(r['eta'])}",
        ]
        return "  ".join(parts)

    def shows(self, epoch: int) -> bool:
        """The epochs that reach the next percent of the run get a line (every epoch of a run of
        up to 100; 100 evenly spaced ones of a longer run), plus the first."""
        return epoch * 100 // self.epochs != (epoch - 1) * 100 // self.epochs or epoch == self.first

    def on_checkpoint(self, info: dict) -> None:
        if self.shows(info["epoch"]) or info["epoch"] < self.first or info["epoch"] == self.said_epoch:
            super().on_checkpoint(info)
        elif self.held:  # said with its epoch's line, if that one is said
            self.held.append(checkpoint_line(info))

    def on_test(self, info: dict) -> None:
        self._say_held()
        parts = [f"test{' (weighted)' if info.get('weighted') else ''}: loss {info['loss']:.6g}"]
        for key in ("accuracy", "r2"):
            if key in info:
                parts.append(f"{key} {info[key]:.4f}")
        self.say("  ".join(parts))


class JsonReporter(Reporter):
    """JSON lines on stdout (one per epoch, then a summary); human lines on stderr as usual."""

    def __init__(
        self, out: IO | None = None, err: IO | None = None, quiet: bool = False, human: Reporter | None = None
    ):
        super().__init__(err, quiet)
        self.out = out or sys.stdout
        self.human = human
        self.closed = False

    def emit(self, obj: dict[str, Any]) -> None:
        if self.out is None:
            return
        from .metrics import json_ready  # (numpy is loaded: fit is running)

        try:
            self.out.write(json.dumps(json_ready(obj)) + "\n")
            self.out.flush()
        except BrokenPipeError:
            # the reader went away (`fit --json | head -1`): the lines stop, and ``closed``
            # asks the command to stop as after Ctrl-C (a checkpoint, then exit 141)
            self.out, self.closed = None, True
            stdout_to_devnull()

    def __call__(self, kind: str, info: dict) -> None:
        if kind == "epoch":
            self.emit({"event": "epoch", **{k: v for k, v in info.items() if k not in ("epochs",)}})
        elif kind == "end":
            summary = {"event": "summary", **info["summary"], "output": info.get("output")}
            if info.get("warm_start"):  # (the model the run started from: path, weights_sha256)
                summary["warm_start"] = info["warm_start"]
            self.emit(summary)
        elif kind == "warning":
            self.emit({"event": "warning", **info})
        elif kind == "notice":  # (a pipeline running with --quiet still gets fit's notes)
            self.emit({"event": "note", **info})
        if self.human is not None:
            self.human(kind, info)

    def close(self) -> None:
        if self.human is not None:
            self.human.close()


def stdout_to_devnull() -> None:
    """Point stdout's descriptor at /dev/null, so that what is still buffered for the closed
    pipe, and the interpreter's last flush, go nowhere instead of failing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


class RichReporter(Reporter):
    """A live table on the terminal, with a progress bar inside long epochs."""

    MAX_ROWS = 12  # the live view shows the first epochs and the most recent ones
    FIRST_ROWS = 3  # (the early epochs are where most of the learning is seen)

    def __init__(self, err: IO | None = None, quiet: bool = False):
        super().__init__(err, quiet)
        from rich.console import Console

        self.console = Console(file=self.err, stderr=True)
        self.live = None
        self.rows: list[dict] = []
        self.batch: tuple[int, int] | None = None
        self.last_draw = 0.0

    def on_start(self, info: dict) -> None:
        from rich.live import Live

        self.info = info
        self.console.print(
            f"[bold]fit[/]: {info['n_train']} training rows"
            + (f", {info['n_val']} validation" if info["n_val"] else "")
            + (f", {info['n_test']} test" if info.get("n_test") else "")
            + f", layers {'-'.join(map(str, info['sizes']))} ({info['params']:,} parameters), "
            f"{info['epochs']} epochs of {info['batches']} batch{'es' if info['batches'] != 1 else ''} "
            f"on {info['device']}" + (f" x {info['ranks']} MPI ranks" if info.get("ranks") else ""),
            highlight=False,
        )
        self.live = Live(self._render(), console=self.console, refresh_per_second=8, transient=False)
        self.live.start()

    def _render(self):
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        epochs = self.info["epochs"]
        table = Table(box=None, header_style="bold", pad_edge=False)
        table.add_column("epoch", justify="right")
        table.add_column("train loss", justify="right")
        table.add_column("val loss", justify="right")
        rows: list[dict | None] = self.rows
        if len(rows) > self.MAX_ROWS:  # the first epochs, a gap, the latest
            rows = [*rows[: self.FIRST_ROWS], None, *rows[-(self.MAX_ROWS - self.FIRST_ROWS) :]]
        # the columns' names from the rows shown (every epoch's record has the same keys; a
        # scan of every row at every epoch made a long run's table quadratic)
        shown = [r for r in rows if r is not None]
        metric = next((metric_of(r)[0] for r in shown if metric_of(r)), "metric")
        table.add_column(metric, justify="right")
        grads = next((grad_ends(r)[0] for r in shown if grad_ends(r)), None)
        if grads:  # (training.gradient_norms: the first and the last layer's)
            table.add_column(grads, justify="right")
        table.add_column("lr", justify="right")
        table.add_column("samples/s", justify="right")
        table.add_column("elapsed", justify="right")
        table.add_column("ETA", justify="right")
        for r in rows:
            if r is None:
                table.add_row("...", *[""] * (7 + bool(grads)))
                continue
            m = metric_of(r)
            g = grad_ends(r)
            table.add_row(
                f"{r['epoch']}/{epochs}",
                f"{r['loss']:.5g}",
                f"{r['val_loss']:.5g}" if "val_loss" in r else "-",
                f"{m[1]:.4f}" if m else "-",
                *([g[1] if g else "-"] if grads else []),
                f"{r['lr']:.3g}",
                fmt_rate(r["samples_per_s"]),
                fmt_duration(r["elapsed"]),
                fmt_duration(r["eta"]),
            )
        parts = [table]
        done = self.info.get("first_epoch", 1) - 1 + len(self.rows)
        if done < epochs:
            frac = done / epochs
            if self.batch:
                frac += self.batch[0] / self.batch[1] / epochs
            bar = Table.grid(padding=(0, 1))
            bar.add_row(
                ProgressBar(total=1.0, completed=frac, width=40),
                Text(
                    f"epoch {done + 1}/{epochs}"
                    + (f"  batch {self.batch[0]}/{self.batch[1]}" if self.batch else "")
                ),
            )
            parts.append(bar)
        return Group(*parts)

    def on_batch(self, info: dict) -> None:
        self.batch = (info["batch"], info["batches"])
        now = time.monotonic()
        if self.live is not None and now - self.last_draw > 0.1:
            self.last_draw = now
            self.live.update(self._render())

    def on_epoch(self, r: dict) -> None:
        self.rows.append(r)
        self.batch = None
        # drawn at most every 0.1 s, as the batches are (thousands of short epochs a second
        # would spend their time drawing tables no one sees); close() draws the last
        now = time.monotonic()
        if self.live is not None and now - self.last_draw > 0.1:
            self.last_draw = now
            self.live.update(self._render())

    def on_checkpoint(self, info: dict) -> None:
        self.console.print(f"checkpoint: {_display_path(info['path'])}", highlight=False, markup=False)

    def on_warning(self, info: dict) -> None:
        # through the console, above the live table
        line = f"Warning: {one_line(info['message'])}"
        self.console.print(line, highlight=False, markup=False, soft_wrap=True)

    def on_early_stop(self, info: dict) -> None:
        self.close()
        self.console.print(early_stop_line(info), highlight=False, markup=False, soft_wrap=True)

    def on_test(self, info: dict) -> None:
        self.close()
        parts = [f"[bold]test[/]{' (weighted)' if info.get('weighted') else ''}: loss {info['loss']:.5g}"]
        for key in ("accuracy", "r2"):
            if key in info:
                parts.append(f"{key} {info[key]:.4f}")
        self.console.print("  ".join(parts), highlight=False)

    def on_end(self, info: dict) -> None:
        self.close()
        self.console.print(summary_line(info), highlight=False, markup=False, soft_wrap=True)

    def close(self) -> None:
        if self.live is not None:
            self.live.update(self._render())
            self.live.stop()
            self.live = None


class CVReporter(Reporter):
    """``nettrain cv``'s progress: a line when it starts and one per fold, plain on a terminal
    too (a fold is one line, not a live table); each notice once (every fold's fit says the
    same ones); with ``quiet`` nothing but warnings."""

    def __init__(self, err: IO | None = None, quiet: bool = False):
        super().__init__(err, quiet)
        self.noted: set[str] = set()

    def on_notice(self, info: dict) -> None:
        if info["message"] not in self.noted:
            self.noted.add(info["message"])
            super().on_notice(info)

    def on_end(self, info: dict) -> None:  # (a fold's fit ending: its fold line says it)
        pass

    def on_early_stop(self, info: dict) -> None:
        pass

    def on_cv_start(self, info: dict) -> None:
        self.say(
            f"cv: {info['folds']} folds of {info['rows']} rows of {_display_path(info['source'])}"
            + (", stratified by class" if info["task"] == "classification" else "")
        )

    def on_fold(self, info: dict) -> None:
        width = len(str(info["folds"]))
        scores = "  ".join(f"{k} {v:.4g}" if v is not None else f"{k} -" for k, v in info["scores"].items())
        self.say(
            f"fold {info['fold']:>{width}}/{info['folds']}  trained on {info['n_train']}"
            + (f" (+{info['n_val']} validation)" if info["n_val"] else "")
            + f", scored {info['n_scored']}, {info['epochs']} epochs  {scores}"
            + (f"  {fmt_duration(info['time_s'])}" if "time_s" in info else "")
        )


class QuietReporter(Reporter):
    """--quiet: nothing but warnings."""

    def __call__(self, kind: str, info: dict) -> None:
        if kind == "warning":
            self.on_warning(info)


def live_terminal(err: IO, environ=os.environ) -> bool:
    """Whether ``err`` takes a live table that redraws itself: a terminal, and none of
    TERM=dumb (it cannot redraw in place), TTY_INTERACTIVE=0 (Rich's own switch for animations)
    or CI set (GitHub Actions, GitLab and CircleCI set CI=true; a CI job given a pseudo-terminal,
    as `docker run -t` gives, logs every redraw: plain lines, one an epoch, read better)."""
    if not getattr(err, "isatty", lambda: False)():
        return False
    ci = environ.get("CI", "").strip().lower()
    return (
        environ.get("TERM") != "dumb"
        and environ.get("TTY_INTERACTIVE") != "0"
        and ci in ("", "0", "false", "no")
    )


def make_reporter(
    *,
    json_lines: bool = False,
    quiet: bool = False,
    out: IO | None = None,
    err: IO | None = None,
    terminal: bool | None = None,
) -> Reporter:
    """The reporter for this run: Rich on a terminal, plain lines off one (or where a live table
    would not serve: see ``live_terminal``), JSON lines on request."""
    err = err or sys.stderr
    if terminal is None:
        terminal = live_terminal(err)
    if quiet:
        human: Reporter = QuietReporter(err, True)
    elif terminal:
        human = RichReporter(err)
    else:
        human = PlainReporter(err)
    if json_lines:
        return JsonReporter(out, err, quiet, human)
    return human
