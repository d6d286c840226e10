"""What a CI job's log gets from `nettrain fit`: plain lines off a terminal and on a terminal whose
TERM is 'dumb', and a line at least about once a minute, so that a long epoch does not look like a
hung job (CI services stop a job whose log stays silent for 10 minutes or so)."""

from __future__ import annotations

import io

import pytest

from nettrain.report import PlainReporter, RichReporter, live_terminal, make_reporter

START = {
    "epochs": 3,
    "n_train": 10,
    "n_val": 0,
    "sizes": [2, 1],
    "params": 3,
    "batches": 100,
    "device": "cpu",
}
RECORD = {"loss": 0.5, "lr": 0.1, "samples_per_s": 1e3, "elapsed": 1.0, "eta": 2.0}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_dumb_terminal_gets_plain_lines_not_a_live_table(monkeypatch):
    """Rich cannot redraw a live table on TERM=dumb (an editor's shell, a CI runner with a
    pseudo-terminal): it drew the table once, when training ended, so the whole run showed no
    progress. Plain lines, as off a terminal, show each epoch as it ends."""
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("TTY_INTERACTIVE", raising=False)
    monkeypatch.setenv("TERM", "dumb")
    assert isinstance(make_reporter(err=FakeTerminal()), PlainReporter)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert isinstance(make_reporter(err=FakeTerminal()), RichReporter)
    monkeypatch.delenv("TERM")
    assert isinstance(make_reporter(err=FakeTerminal()), RichReporter)
    assert isinstance(make_reporter(err=io.StringIO()), PlainReporter)


@pytest.mark.parametrize(
    "env, live",
    [
        ({}, True),
        ({"CI": "true"}, False),  # GitHub Actions, GitLab, CircleCI
        ({"CI": "1"}, False),
        ({"CI": "false"}, True),
        ({"CI": ""}, True),
        ({"TTY_INTERACTIVE": "0"}, False),  # Rich's own switch
        ({"TTY_INTERACTIVE": "1"}, True),
        ({"TERM": "dumb"}, False),
    ],
)
def test_a_terminal_in_ci_or_asked_not_to_animate_gets_plain_lines(env, live):
    """A CI job given a pseudo-terminal (docker run -t) logged every redraw of the live table,
    about 200 kB for a 20 s run; CI set or TTY_INTERACTIVE=0 asks for plain lines instead."""
    environ = {"TERM": "xterm-256color", **env}
    assert live_terminal(FakeTerminal(), environ) is live
    assert live_terminal(io.StringIO(), environ) is False  # off a terminal: never live


def test_make_reporter_follows_the_environment(monkeypatch):
    monkeypatch.delenv("TTY_INTERACTIVE", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("CI", "true")
    assert isinstance(make_reporter(err=FakeTerminal()), PlainReporter)
    monkeypatch.delenv("CI")
    assert isinstance(make_reporter(err=FakeTerminal()), RichReporter)


def test_plain_progress_says_where_a_long_epoch_is_once_a_minute():
    clock = Clock()
    err = io.StringIO()
    r = PlainReporter(err, clock=clock)
    r("start", START)
    for batch in range(5, 100, 5):  # (fit sends one every twentieth of an epoch)
        clock.now += 20.0
        r("batch", {"epoch": 1, "batch": batch, "batches": 100})
    lines = err.getvalue().splitlines()[1:]
    # 380 s into the epoch: a line at 60, 120, 180, 240, 300 and 360 s, none in between
    assert lines == [
        f"epoch 1/3  batch {b}/100  elapsed {fmt}"
        for b, fmt in (
            (15, "1m00s"),
            (30, "2m00s"),
            (45, "3m00s"),
            (60, "4m00s"),
            (75, "5m00s"),
            (90, "6m00s"),
        )
    ]
    clock.now += 20.0
    r("epoch", {**RECORD, "epoch": 1})
    assert err.getvalue().splitlines()[-1].startswith("epoch 1/3  loss 0.5")
    # quick epochs of a short run: no batch lines (each epoch has its own line anyway)
    err2 = io.StringIO()
    r2 = PlainReporter(err2, clock=clock)
    r2("start", START)
    for batch in range(5, 100, 5):
        clock.now += 0.1
        r2("batch", {"epoch": 1, "batch": batch, "batches": 100})
    assert len(err2.getvalue().splitlines()) == 1


def test_a_resumed_runs_batch_lines_count_elapsed_from_the_checkpoints_time():
    """fit's start event carries the training time before the resume (``elapsed``): the batch
    lines go on from it, as the epochs' elapsed does."""
    clock = Clock()
    err = io.StringIO()
    r = PlainReporter(err, clock=clock)
    r("start", {**START, "first_epoch": 3, "elapsed": 600.0})
    clock.now += 61.0
    r("batch", {"epoch": 3, "batch": 5, "batches": 100})
    assert err.getvalue().splitlines()[-1] == "epoch 3/3  batch 5/100  elapsed 11m01s"


def test_plain_progress_of_a_long_run_says_an_epoch_when_a_minute_has_passed():
    """Past 100 epochs only 100 evenly spaced epochs get a line; when the epochs between two of
    them take more than a minute, the first epoch after the minute gets one too, and so does its
    checkpoint."""
    clock = Clock()
    err = io.StringIO()
    r = PlainReporter(err, clock=clock)
    r("start", {**START, "epochs": 10_000, "batches": 1})
    for epoch in range(1, 251):
        clock.now += 10.0  # each percent of the run (100 epochs) takes 1000 s
        r("epoch", {**RECORD, "epoch": epoch})
        if epoch in (7, 8):
            r("checkpoint", {"epoch": epoch, "path": f"run/checkpoint-{epoch}.npz"})
    lines = err.getvalue().splitlines()
    said = [int(line.split()[1].split("/")[0]) for line in lines if line.startswith("epoch ")]
    assert said[:5] == [1, 7, 13, 19, 25]  # a line every 60 s
    assert said[15:20] == [91, 97, 100, 106, 112]  # and the percents' lines, as before
    assert lines[lines.index(next(x for x in lines if x.startswith("epoch     7/"))) + 1] == (
        "checkpoint: run/checkpoint-7.npz"
    )
    assert "checkpoint: run/checkpoint-8.npz" not in lines  # (its epoch has no line)


def test_the_live_table_of_many_short_epochs_is_drawn_at_most_every_tenth_of_a_second(monkeypatch):
    """Thousands of short epochs a second (XOR, 16,000 epochs) spent their time drawing tables
    no one saw: 27 s on a terminal against 1.2 s in plain lines. Epochs within 0.1 s of the last
    drawing are not drawn; the end draws the last table."""
    import nettrain.report as report

    now = [1000.0]
    monkeypatch.setattr(report.time, "monotonic", lambda: now[0])
    reporter = RichReporter(err=FakeTerminal())
    reporter.on_start({**START, "epochs": 1000})
    drawn = []
    monkeypatch.setattr(reporter, "_render", lambda original=reporter._render: drawn.append(1) or original())
    for epoch in range(1, 1001):
        now[0] += 0.001  # a millisecond an epoch: 1 s in all
        reporter.on_epoch({**RECORD, "epoch": epoch})
    assert 5 <= len(drawn) <= 11, len(drawn)
    reporter.close()
    assert "1000/1000" in reporter.err.getvalue()  # (the last epoch, drawn by close)


def test_the_live_table_names_its_columns_from_the_rows_it_shows(monkeypatch):
    """The metric and gradient columns are named from the (at most MAX_ROWS) rows shown, not from
    a scan of every epoch's record at every drawing (quadratic in the epochs)."""
    import nettrain.report as report

    reporter = RichReporter(err=FakeTerminal())
    reporter.info = {**START, "epochs": 5000}
    reporter.rows = [{**RECORD, "epoch": e} for e in range(1, 5001)]
    looked = []
    original = report.metric_of
    monkeypatch.setattr(report, "metric_of", lambda r: looked.append(r) or original(r))
    reporter._render()
    assert len(looked) <= 2 * RichReporter.MAX_ROWS  # (the column name, then each row shown)
