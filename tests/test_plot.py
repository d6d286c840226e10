"""`nettrain plot` and nettrain.plot: learning curves drawn from what a run recorded."""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

from nettrain.errors import DataError
from nettrain.plot import learning_curves, read_history, render
from tests.conftest import CONFIGS
from tests.helpers import assert_error, ok, run

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two digits runs of 4 epochs (with validation): sgd on a cosine schedule, and adam."""
    folder = tmp_path_factory.mktemp("plot")
    for name, sets in {
        "sgd": ["training.schedule=cosine"],
        "adam": ["training.optimizer=adam", "training.learning_rate=0.001"],
    }.items():
        args = ["fit", CONFIGS / "digits.yaml", "-q", "-o", folder / name, "--set", "training.epochs=4"]
        for s in sets:
            args += ["--set", s]
        ok(run(*args))
    return folder


def history(folder):
    return [json.loads(line) for line in (folder / "history.jsonl").read_text().splitlines()]


def title(fig):
    """The figure's suptitle ("" without one): its only figure-level text. (Figure.get_suptitle
    is matplotlib 3.8+; the plot extra allows 3.6.)"""
    return "".join(text.get_text() for text in fig.texts)


def panels(fig):
    return {ax.get_ylabel(): ax for ax in fig.axes}


def test_the_curves_are_the_recorded_values(runs):
    records = history(runs / "sgd")
    fig = learning_curves([read_history(runs / "sgd")])
    axes = panels(fig)
    assert list(axes) == ["loss", "validation accuracy", "learning rate"]
    train, val = axes["loss"].get_lines()
    assert list(train.get_xdata()) == [1, 2, 3, 4]
    assert list(train.get_ydata()) == [r["loss"] for r in records]
    assert list(val.get_ydata()) == [r["val_loss"] for r in records]
    assert val.get_linestyle() == "--"
    (acc,) = axes["validation accuracy"].get_lines()
    assert list(acc.get_ydata()) == [r["val_accuracy"] for r in records]
    (lr,) = axes["learning rate"].get_lines()
    assert list(lr.get_ydata()) == [r["lr"] for r in records]
    assert title(fig) == "sgd"


def test_several_runs_share_the_axes_one_colour_each(runs):
    fig = learning_curves([read_history(runs / "sgd"), read_history(runs / "adam")], log_loss_axis=True)
    axes = panels(fig)
    lines = axes["loss"].get_lines()
    assert [line.get_label() for line in lines] == ["sgd", "sgd (validation)", "adam", "adam (validation)"]
    assert lines[0].get_color() == lines[1].get_color() != lines[2].get_color() == lines[3].get_color()
    assert axes["loss"].get_yscale() == "log"
    assert len(axes["learning rate"].get_lines()) == 2  # cosine changed sgd's; adam's is drawn flat


def test_no_learning_rate_panel_when_it_never_changed(runs):
    assert "learning rate" not in panels(learning_curves([read_history(runs / "adam")]))


def test_a_regression_run_draws_validation_r2(tmp_path):
    records = [{"epoch": 1, "loss": 2.0, "val_loss": 1.5, "val_r2": 0.1, "lr": 0.1}]
    (tmp_path / "history.jsonl").write_text(json.dumps(records[0]) + "\n")
    axes = panels(learning_curves([read_history(tmp_path)]))
    assert list(axes) == ["loss", "validation R²"]
    (line,) = axes["validation R²"].get_lines()
    assert list(line.get_ydata()) == [0.1]
    assert line.get_marker() == "o"  # one epoch is a point, not an invisible line


def test_a_training_run_is_read_from_its_newest_checkpoint(runs, tmp_path):
    """While training, history.jsonl is not written yet (or is an earlier run's): the newest
    checkpoint holds the epochs so far."""
    r = run(
        "fit", CONFIGS / "digits.yaml", "-q", "-o", tmp_path / "live",
        "--set", "training.epochs=3", "--set", "training.checkpoint_every=1",
    )  # fmt: skip
    ok(r)
    live = tmp_path / "live"
    finished = history(live)
    (live / "history.jsonl").unlink()
    _, records = read_history(live)
    assert records == finished  # checkpoint-3 holds all three epochs
    # an older history.jsonl beside a newer checkpoint: the checkpoint wins
    (live / "history.jsonl").write_text(json.dumps({"epoch": 1, "loss": 9.0}) + "\n")
    old = os.stat(live / "checkpoint-3.npz").st_mtime_ns - 10**9
    os.utime(live / "history.jsonl", ns=(old, old))
    assert read_history(live)[1] == finished
    assert read_history(live / "checkpoint-2.npz")[1] == finished[:2]


@pytest.mark.parametrize(
    "text, needle",
    [
        ("", "no epochs recorded"),
        ('{"epoch": 1, "loss": 0.5}\nnot json\n', "history.jsonl:2: not a JSON object"),
        ('{"loss": 0.5}\n', "history.jsonl:1: not an epoch's record"),
        ('{"epoch": 1, "loss": "low"}\n', "'loss' is \"low\", not a number"),
        ('{"epoch": 1}\n', "no 'loss'"),
        ("[1, 2]\n", "not an epoch's record"),
    ],
)
def test_a_damaged_history_names_the_line(tmp_path, text, needle):
    (tmp_path / "history.jsonl").write_text(text)
    with pytest.raises(DataError) as info:
        read_history(tmp_path)
    assert needle in str(info.value)
    assert_error(run("plot", tmp_path), needle)


def test_a_model_file_has_no_history(runs):
    assert_error(run("plot", runs / "sgd" / "model.npz"), "a model file holds no history")


def test_a_folder_that_is_no_run(tmp_path):
    assert_error(run("plot", tmp_path), "no history.jsonl and no checkpoint")
    assert_error(run("plot", tmp_path / "missing.jsonl"), "not found")


# -- the command ------------------------------------------------------------------------------------


def test_plot_writes_a_png_into_the_run_folder(runs):
    r = ok(run("plot", runs / "sgd"))
    image = runs / "sgd" / "learning_curves.png"
    assert image.read_bytes().startswith(PNG)
    assert r.stdout == ""
    assert f"Wrote {image} (epochs: sgd 4)" in r.stderr


def test_plot_compares_runs_into_the_named_file(runs, tmp_path):
    ok(run("plot", runs / "sgd", runs / "adam" / "history.jsonl", "-o", tmp_path / "cmp.svg", "--log"))
    svg = (tmp_path / "cmp.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert_error(run("plot", runs / "sgd", runs / "adam"), "2 runs: name the image")


def test_plot_to_stdout_is_png(runs):
    r = run("plot", runs / "adam", "-o", "-", "-q")
    assert r.exit_code == 0, r.stderr
    assert r.stdout_bytes.startswith(PNG)
    assert r.stderr == ""


def test_plot_refuses_a_suffix_it_cannot_write(runs, tmp_path):
    assert_error(run("plot", runs / "sgd", "-o", tmp_path / "curves.pnj"), "'.pnj'", "did you mean 'png'")
    assert_error(run("plot", runs / "sgd", "-o", tmp_path / "curves"), "no suffix")
    assert not list(tmp_path.iterdir())


def test_same_folder_names_are_told_apart_by_path(runs, tmp_path):
    import shutil

    shutil.copytree(runs / "sgd", tmp_path / "a" / "sgd")
    r = ok(run("plot", runs / "sgd", tmp_path / "a" / "sgd", "-o", tmp_path / "two.png"))
    assert f"{runs / 'sgd'} 4, {tmp_path / 'a' / 'sgd'} 4" in r.stderr


def test_without_matplotlib_plot_says_how_to_install_it(runs, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import fails as if not installed
    assert_error(run("plot", runs / "sgd"), 'pip install "nettrain[plot]"')


def write_history(folder, records):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return folder


def test_dollars_in_names_and_titles_are_text_not_math(runs, tmp_path):
    """matplotlib reads $...$ as math markup: 'a $^$ b' crashed the drawing."""
    run_folder = write_history(tmp_path / "a$^$b", [{"epoch": 1, "loss": 1.0}, {"epoch": 2, "loss": 0.5}])
    ok(run("plot", run_folder, "-o", tmp_path / "d.svg", "--title", "cost $^$ time"))
    fig = learning_curves([read_history(run_folder)], title="cost $^$ time")
    assert title(fig) == r"cost \$^\$ time"


def test_values_no_axis_can_span_are_gaps_and_warnings_stay_quiet(tmp_path):
    """1.7e308 made matplotlib's tick arithmetic overflow (an internal error); a log axis over
    losses <= 0 warned on stderr. (pytest turns any warning into an error here.)"""
    records = [{"epoch": 1, "loss": 1.7e308, "lr": 1e308}, {"epoch": 2, "loss": 0.0, "lr": -1e308}]
    folder = write_history(tmp_path / "wild", records)
    ok(run("plot", folder, "-o", tmp_path / "w.png", "--log", "-q"))
    assert (tmp_path / "w.png").read_bytes().startswith(PNG)


def test_only_runs_with_validation_get_a_validation_curve(runs, tmp_path):
    plain = write_history(tmp_path / "plain", [{"epoch": 1, "loss": 1.0}, {"epoch": 2, "loss": 0.5}])
    fig = learning_curves([read_history(plain), read_history(runs / "adam")])
    labels = [line.get_label() for line in panels(fig)["loss"].get_lines()]
    assert labels == ["plain", "adam", "adam (validation)"]


def test_an_empty_title_is_no_title_and_epochs_are_drawn_in_order(tmp_path):
    folder = write_history(tmp_path / "mixed", [{"epoch": 2, "loss": 0.5}, {"epoch": 1, "loss": 1.0}])
    fig = learning_curves([read_history(folder)], title="")
    assert title(fig) == ""
    assert list(panels(fig)["loss"].get_lines()[0].get_xdata()) == [1, 2]


def test_the_epoch_early_stopping_kept_is_marked(tmp_path):
    from nettrain.plot import kept_epoch

    r = run(
        "fit", CONFIGS / "digits.yaml", "-q", "-o", tmp_path / "es",
        "--set", "training.epochs=60", "--set", "training.early_stopping={patience: 3}",
    )  # fmt: skip
    ok(r)
    records = history(tmp_path / "es")
    kept = kept_epoch(tmp_path / "es")
    assert kept is not None and kept < len(records)  # stopped after it, kept it
    fig = learning_curves([read_history(tmp_path / "es")], kept=[kept])
    marks = [line for line in panels(fig)["loss"].get_lines() if line.get_linestyle() == ":"]
    assert len(marks) == 1 and list(marks[0].get_xdata()) == [kept, kept]
    assert marks[0].get_label() == f"kept epoch {kept}"
    assert kept_epoch(tmp_path / "es" / "history.jsonl") is None
    # curves of another run in the same folder (its history ends elsewhere): no mark
    assert kept_epoch(tmp_path / "es", last_epoch=len(records)) == kept
    assert kept_epoch(tmp_path / "es", last_epoch=len(records) + 5) is None


def test_a_copied_run_folder_is_drawn_from_its_history_not_an_older_checkpoint(runs, tmp_path):
    """cp -r gives every file a new time, in any order: a checkpoint of the same run, older in
    epochs, must not win over the finished history.jsonl."""
    r = run(
        "fit", CONFIGS / "digits.yaml", "-q", "-o", tmp_path / "a",
        "--set", "training.epochs=4", "--set", "training.checkpoint_every=3",
    )  # fmt: skip
    ok(r)
    (tmp_path / "a" / "checkpoint-4.npz").unlink()  # the newest left is epoch 3's
    t = os.stat(tmp_path / "a" / "history.jsonl").st_mtime_ns + 10**9
    os.utime(tmp_path / "a" / "checkpoint-3.npz", ns=(t, t))  # as a copy may leave it
    assert len(read_history(tmp_path / "a")[1]) == 4


def test_history_numbers_python_cannot_read_are_a_data_error(tmp_path):
    (tmp_path / "history.jsonl").write_text('{"epoch": 1, "loss": ' + "9" * 5001 + "}\n")
    assert_error(run("plot", tmp_path), "history.jsonl:1: not a JSON object")


# -- gradient norms (training.gradient_norms) -------------------------------------------------------


def test_a_run_with_gradient_norms_gets_a_log_panel_of_them_one_line_per_layer(tmp_path):
    ok(run(
        "fit", CONFIGS / "digits.yaml", "-q", "-o", tmp_path / "g",
        "--set", "training.epochs=3", "--set", "training.gradient_norms=true",
    ))  # fmt: skip
    records = history(tmp_path / "g")
    axes = panels(learning_curves([read_history(tmp_path / "g")]))
    assert list(axes) == ["loss", "validation accuracy", "gradient norm"]
    grad = axes["gradient norm"]
    assert grad.get_yscale() == "log"
    lines = grad.get_lines()
    assert [line.get_label() for line in lines] == ["W(1)", "W(2)", "W(3)"]
    for l, line in enumerate(lines):
        assert list(line.get_xdata()) == [1, 2, 3]
        assert list(line.get_ydata()) == [r["grad_norm"][l] for r in records]
    assert len({line.get_color() for line in lines}) == 3
    ok(run("plot", tmp_path / "g", "-q"))
    assert (tmp_path / "g" / "learning_curves.png").read_bytes().startswith(PNG)


def test_each_run_with_gradient_norms_gets_its_panel_on_one_shared_scale(runs, tmp_path):
    """A panel per run that has them (the layers take the colours there), none for one that has
    not; an epoch without them (a run resumed with them turned on) or a null is a gap."""
    deep = write_history(tmp_path / "sigmoid", [
        {"epoch": 1, "loss": 2.3, "grad_norm": [1e-3, 1e-2, 0.5]},
        {"epoch": 2, "loss": 2.3, "grad_norm": [1e-3, None, 0.4]},
    ])  # fmt: skip
    wide = write_history(
        tmp_path / "relu", [{"epoch": 1, "loss": 1.0}, {"epoch": 2, "loss": 0.5, "grad_norm": [2.0, 1.0]}]
    )
    fig = learning_curves([read_history(deep), read_history(runs / "adam"), read_history(wide)])
    grads = [ax for ax in fig.axes if ax.get_ylabel() == "gradient norm"]
    assert [ax.get_title() for ax in grads] == ["sigmoid", "relu"]
    assert [len(ax.get_lines()) for ax in grads] == [3, 2]
    np.testing.assert_array_equal(grads[0].get_lines()[1].get_ydata(), [1e-2, np.nan])
    np.testing.assert_array_equal(grads[1].get_lines()[0].get_ydata(), [np.nan, 2.0])
    low, high = grads[0].get_ylim()
    assert grads[1].get_ylim() == (low, high) and low <= 1e-3 and high >= 2.0


@pytest.mark.parametrize("value", ['"big"', '[1, "x"]', "3"])
def test_a_damaged_grad_norm_names_the_line(tmp_path, value):
    (tmp_path / "history.jsonl").write_text('{"epoch": 1, "loss": 0.5, "grad_norm": ' + value + "}\n")
    assert_error(run("plot", tmp_path), "history.jsonl:1: 'grad_norm' is", "not a list of numbers")


def test_quiet_silences_matplotlib_complaining_of_a_home_it_cannot_write(runs, tmp_path):
    """In a container whose HOME cannot be written, matplotlib warns at import (two lines:
    'mkdir -p failed ...', 'Matplotlib created a temporary cache directory ...'); -q silences
    them, as it does plot's own 'Wrote ...'. Without -q they stay: they say how to speed it up."""
    import subprocess

    pytest.importorskip("matplotlib")
    from tests.helpers import subprocess_env

    home = tmp_path / "home"
    home.write_text("a file, where matplotlib wants a folder\n")
    env = {**subprocess_env(), "HOME": str(home)}
    for var in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        env.pop(var, None)
    args = [sys.executable, "-m", "nettrain", "plot", str(runs / "sgd"), "-o", str(tmp_path / "c.png")]
    quiet = subprocess.run([*args, "-q"], capture_output=True, text=True, env=env, timeout=120)
    assert (quiet.returncode, quiet.stderr) == (0, "")
    loud = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    assert loud.returncode == 0 and "MPLCONFIGDIR" in loud.stderr and "Wrote" in loud.stderr


def test_many_runs_put_the_legend_beside_the_curves_and_decades_of_lr_on_a_log_axis(tmp_path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    runs = []
    for k, lr in enumerate([0.1, 0.01, 0.001]):
        records = [
            {"epoch": e, "loss": 1 / e, "val_loss": 1.2 / e, "lr": lr * (0.5 if e > 3 else 1)}
            for e in (1, 2, 3, 4)
        ]
        runs.append(read_history(write_history(tmp_path / f"run{k}", records)))

    def extents(fig):
        canvas = FigureCanvasAgg(fig)
        canvas.draw()  # (lays it out)
        renderer = canvas.get_renderer()
        loss = panels(fig)["loss"]
        return loss.get_legend().get_window_extent(renderer), loss.get_window_extent(renderer)

    fig = learning_curves(runs, kept=[2, 3, 4])  # 9 legend entries: they covered the curves
    legend, loss = extents(fig)
    assert len(panels(fig)["loss"].get_legend().get_texts()) == 9
    assert legend.x0 >= loss.x1  # beside the panel, not over it
    assert panels(fig)["learning rate"].get_yscale() == "log"  # 0.1 beside 0.0005
    # one run: its three entries stay inside the panel, and a halved lr keeps a linear axis
    fig = learning_curves(runs[:1], kept=[2])
    legend, loss = extents(fig)
    assert legend.x1 <= loss.x1
    assert panels(fig)["learning rate"].get_yscale() == "linear"


def r2_run(folder, values):
    folder.mkdir()
    lines = [{"epoch": e, "loss": 1.0 / e, "val_loss": 1.0 / e, "val_r2": v} for e, v in enumerate(values, 1)]
    (folder / "history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    return read_history(folder)


def test_a_run_that_blew_up_does_not_squash_the_r2_panel(tmp_path):
    """One run's R² of -2000 would make 0.999 and 0.03 one line at the top: the panel shows
    R² from -1 up and says so; the curves keep their values."""
    good = r2_run(tmp_path / "good", [0.03, 0.5, 0.999])
    bad = r2_run(tmp_path / "bad", [0.2, -2000.0, 0.1])
    fig = learning_curves([good, bad])
    ax = fig.axes[1]
    assert ax.get_ylabel() == "validation R²\n(below -1 not shown)"
    low, high = ax.get_ylim()
    assert low == -1.0 and 0.999 < high < 1.2
    assert [list(line.get_ydata()) for line in ax.get_lines()] == [[0.03, 0.5, 0.999], [0.2, -2000.0, 0.1]]
    render(fig)  # (and it draws)
    # R² that stays above -1 is drawn as matplotlib scales it, under the plain label
    ax = panels(learning_curves([good, r2_run(tmp_path / "fair", [-0.5, 0.2, 0.4])]))["validation R²"]
    assert ax.get_ylim()[0] < -0.5
    # every value below -1: nothing would be left to see, so the panel is drawn whole
    ax = panels(learning_curves([r2_run(tmp_path / "worse", [-50.0, -20.0])]))["validation R²"]
    assert ax.get_ylim()[0] < -50
