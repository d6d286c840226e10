"""`nettrain info RUN RUN ...`: several runs compared in one table (a row per run), --sort, and
JSON lines; one model's info stays as it was."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from nettrain.compare import compare_table
from tests.conftest import CONFIGS, DATA
from tests.helpers import assert_error, ok, run


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Four short digits runs of a tuning session: sgd at two learning rates, adam, and adam with
    early stopping (not restoring the best), dropout and no test set."""
    folder = tmp_path_factory.mktemp("runs")
    settings = {
        "lr01": ["training.learning_rate=0.1"],
        "lr003": ["training.learning_rate=0.03"],
        "adam": ["training.optimizer=adam", "training.learning_rate=0.001"],
        "adam_es": [
            "training.optimizer={name: adam, beta1: 0.8}",
            "training.learning_rate=0.01",
            "training.epochs=30",
            "training.early_stopping={patience: 1, restore_best: false}",
            "training.dropout=0.1",
            "data.test=null",
        ],
    }
    for name, sets in settings.items():
        args = ["fit", CONFIGS / "digits.yaml", "-q", "-o", folder / name, "--set", "training.epochs=3"]
        for s in sets:
            args += ["--set", s]
        ok(run(*args))
    return {name: folder / name for name in settings}


def summary(path) -> dict:
    return json.loads(ok(run("info", path, "--json")).stdout)["training"]


def row_of(stdout: str, path) -> list[str]:
    """The table's line for the run at ``path`` (exactly one), split on runs of spaces."""
    lines = [line for line in stdout.splitlines() if line.split()[:1] == [str(path)]]
    assert len(lines) == 1, stdout
    return lines[0].split()


def test_one_model_is_shown_as_before(runs):
    out = ok(run("info", runs["lr01"])).stdout
    assert out.splitlines()[0].split() == ["model", str(runs["lr01"])]
    assert "trained with sgd, lr 0.1, batch 32, 3 epochs, seed 0" in " ".join(out.split())
    assert "all runs" not in out
    assert len(ok(run("info", runs["lr01"], "--json")).stdout.splitlines()) == 1


def test_several_runs_make_one_table_with_a_row_each(runs):
    paths = [runs["lr01"], runs["lr003"], runs["adam"]]
    r = ok(run("info", *paths))
    assert r.stderr == ""
    lines = [line for line in r.stdout.splitlines() if line.strip()]
    # the settings every run shares on one line; the ones that differ are columns
    train = os.path.relpath(DATA / "digits_train.csv")  # (the tests run in the repository)
    assert lines[0] == f"all runs: 64-128-64-10 relu, cross_entropy, batch 32, seed 0, trained on {train}"
    titles = lines[1].split()
    assert titles[:4] == ["run", "optimizer", "lr", "epochs"]
    assert "batch" not in titles and "layers" not in titles and "schedule" not in titles
    assert "kept" not in titles  # (no run stopped early: every model kept its last epoch)
    assert r.stdout.count("model ") == 0  # (not one info table per model)
    for path, opt, lr in zip(paths, ["sgd", "sgd", "adam"], ["0.1", "0.03", "0.001"]):
        s = summary(path)
        cells = row_of(r.stdout, path)
        assert cells[1:4] == [opt, lr, "3"]
        # loss, val loss, val acc, test loss, test acc, time: the model's own numbers
        assert cells[4:9] == [
            f"{s['loss']:.4g}",
            f"{s['val_loss']:.4g}",
            f"{s['val_accuracy']:.4f}",
            f"{s['test_loss']:.4g}",
            f"{s['test_accuracy']:.4f}",
        ]
        assert cells[9:] == [f"{s['train_time_s']:.3g}", "s"]


def test_early_stopping_dropout_and_no_test_set_are_columns(runs):
    r = ok(run("info", runs["lr01"], runs["adam_es"]))
    header = [line for line in r.stdout.splitlines() if line.strip()][1]
    for title in ("optimizer", "lr", "dropout", "early stopping", "epochs", "kept", "test acc"):
        assert title in header, header
    s = summary(runs["adam_es"])
    assert s["stopped_early"] and s["kept_epoch"] == s["epochs"] != s["best_epoch"]
    row = " ".join(row_of(r.stdout, runs["adam_es"]))
    assert "adam beta1=0.8 0.01" in row  # (only the hyper-parameter that differs from adam's defaults)
    assert "val_loss, patience 1, not restored" in row
    assert f" {s['epochs']}/30 {s['kept_epoch']} (best {s['best_epoch']}) " in row
    assert row.endswith(f"{s['val_accuracy']:.4f} - - {s['train_time_s']:.3g} s")  # (no test set)
    lr01 = " ".join(row_of(r.stdout, runs["lr01"]))
    assert " - - 3 3 " in lr01  # (no dropout, no early stopping; 3 epochs, the last one kept)


def test_sort_puts_the_best_run_first(runs):
    paths = list(runs.values())
    names = {str(p) for p in paths}

    def order(r) -> list[str]:
        return [
            line.split()[0] for line in r.stdout.splitlines() if line.split()[:1] and line.split()[0] in names
        ]

    val_loss = {str(p): summary(p)["val_loss"] for p in paths}
    assert order(ok(run("info", *paths, "--sort", "val_loss"))) == sorted(val_loss, key=val_loss.get)
    assert order(ok(run("info", *paths, "--sort", "-val_loss"))) == sorted(val_loss, key=val_loss.get)[::-1]
    val_acc = {str(p): summary(p)["val_accuracy"] for p in paths}
    assert order(ok(run("info", *paths, "--sort", "val_accuracy"))) == sorted(
        val_acc, key=lambda k: -val_acc[k]
    )
    # a run without the key (no test set) comes last
    by_test = order(ok(run("info", *paths, "--sort", "test_accuracy")))
    assert by_test[-1] == str(runs["adam_es"])
    # JSON lines follow the same order
    lines = ok(run("info", *paths, "--sort", "val_loss", "--json")).stdout.splitlines()
    assert [json.loads(line)["path"] for line in lines] == sorted(val_loss, key=val_loss.get)


def test_sort_by_a_key_no_run_has_names_the_keys(runs):
    line = assert_error(run("info", runs["lr01"], runs["adam"], "--sort", "val_r2"), "--sort val_r2")
    assert "val_loss" in line and "test_accuracy" in line and "learning_rate" in line
    assert_error(run("info", runs["lr01"], runs["adam"], "--sort", "val_los"), "did you mean 'val_loss'")
    # a score named without its set: the sets that have it
    assert_error(
        run("info", runs["lr01"], runs["adam"], "--sort", "accuracy"),
        "did you mean 'val_accuracy' or 'test_accuracy'?",
    )


def test_json_lines_are_each_models_info(runs):
    paths = [runs["lr01"], runs["adam"] / "model.npz", runs["adam_es"]]
    lines = ok(run("info", *paths, "--json")).stdout.splitlines()
    assert len(lines) == 3
    for path, line in zip(paths, lines):
        assert json.loads(line) == json.loads(ok(run("info", path, "--json")).stdout)


def test_a_path_that_is_not_a_model_stops_before_any_output(runs, tmp_path):
    (tmp_path / "notes.txt").write_text("not a model\n")
    (tmp_path / "empty").mkdir()
    bad = {
        "missing": "not found",
        "notes.txt": "not a nettrain model file",
        "empty": "a directory without a model.npz",
    }
    for name, needle in bad.items():
        for extra in ([], ["--json"], ["--sort", "val_loss"]):
            assert_error(run("info", runs["lr01"], tmp_path / name, runs["adam"], *extra), name, needle)


def test_a_run_folder_and_a_model_file_side_by_side(runs):
    model = runs["adam"] / "model.npz"
    r = ok(run("info", runs["lr01"], model))
    assert row_of(r.stdout, runs["lr01"])[1] == "sgd"
    assert row_of(r.stdout, model)[1:3] == ["adam", "0.001"]
    # the same run twice (its folder and its file): nothing differs but the name
    same = ok(run("info", runs["lr01"], runs["lr01"] / "model.npz")).stdout
    assert same.splitlines()[0].startswith(
        "all runs: 64-128-64-10 relu, cross_entropy, sgd, lr 0.1, batch 32, seed 0"
    )
    assert row_of(same, runs["lr01"])[1:] == row_of(same, runs["lr01"] / "model.npz")[1:]


def test_a_regression_run_beside_a_classifier(runs, tmp_path):
    out = tmp_path / "regression"
    ok(run("fit", CONFIGS / "regression.yaml", "-q", "-o", out, "--set", "training.epochs=3"))
    r = ok(run("info", runs["lr01"], out))
    titles = [line for line in r.stdout.splitlines() if line.strip()][1]
    for title in ("layers", "cost", "val acc", "val R²"):
        assert title in titles, titles
    s = summary(out)
    row = " ".join(row_of(r.stdout, out))
    assert f" {s['val_loss']:.4g} - {s['val_r2']:.4f} " in row  # (no accuracy: a '-' in its column)


def test_the_split_seed_is_named_where_a_run_set_it(tmp_path):
    """A sweep over training.seed with data.split_seed fixed: the runs differ in seed, not in the
    rows held out, and the header says which split they share; runs that never set it show no
    split seed (their seed column says it all)."""
    for seed in (0, 1):
        ok(run(
            "fit", CONFIGS / "digits.yaml", "-q", "-o", tmp_path / f"s{seed}", "--set", "training.epochs=1",
            "--set", f"training.seed={seed}", "--set", "data.split_seed=0",
        ))  # fmt: skip
        ok(run(
            "fit", CONFIGS / "digits.yaml", "-q", "-o", tmp_path / f"p{seed}", "--set", "training.epochs=1",
            "--set", f"training.seed={seed}",
        ))  # fmt: skip
    fixed = ok(run("info", tmp_path / "s0", tmp_path / "s1")).stdout.splitlines()
    assert fixed[0].startswith("all runs:") and ", split seed 0, trained on " in fixed[0]
    assert "seed" in fixed[2].split() and "split" not in fixed[2]
    plain = ok(run("info", tmp_path / "p0", tmp_path / "p1")).stdout.splitlines()
    assert "split" not in plain[0] and "split" not in plain[2]  # (the header and the titles)
    # one run set it (to 0), the other drew its split from training.seed 1: a column
    mixed = ok(run("info", tmp_path / "s0", tmp_path / "p1")).stdout.splitlines()
    assert "split seed" in mixed[2] and "split" not in mixed[0]


def test_runs_that_differ_in_class_weight_show_it(tmp_path):
    """Two runs alike but for training.class_weight read alike in the table (a column of their
    own settings was missing): the class weight is a column where they differ."""
    for name, weight in (("plain", "null"), ("balanced", "balanced"), ("mapped", "{0: 2}")):
        ok(run(
            "fit", CONFIGS / "digits.yaml", "-q", "-o", tmp_path / name, "--set", "training.epochs=1",
            "--set", f"training.class_weight={weight}",
        ))  # fmt: skip
    out = ok(run("info", tmp_path / "plain", tmp_path / "balanced", tmp_path / "mapped")).stdout
    lines = out.splitlines()
    assert "class weight" in lines[2], out
    assert "balanced" in row_of(out, tmp_path / "balanced")
    assert row_of(out, tmp_path / "mapped")[1:3] == ["0:", "2"]
    assert row_of(out, tmp_path / "plain")[1] == "-"
    shared = ok(run("info", tmp_path / "balanced", tmp_path / "balanced")).stdout.splitlines()[0]
    assert "class weight balanced" in shared


def test_runs_that_differ_in_decay_biases_or_input_dropout_show_it(tmp_path):
    """training.decay_biases and training.input_dropout change the run: two runs differing only
    in one of them are told apart by a column; a setting all share is named on the header line."""
    sets = {
        "plain": [],
        "biases": ["training.decay_biases=true"],
        "inputs": ["training.input_dropout=0.2"],
    }
    for name, extra in sets.items():
        args = ["fit", CONFIGS / "digits.yaml", "-q", "-o", tmp_path / name, "--set", "training.epochs=1"]
        for s in ["training.weight_decay=0.001", *extra]:
            args += ["--set", s]
        ok(run(*args))
    out = ok(run("info", *(tmp_path / name for name in sets))).stdout
    titles = out.splitlines()[2]
    assert "decay biases" in titles and "input dropout" in titles, out
    assert "yes" in row_of(out, tmp_path / "biases") and "0.2" in row_of(out, tmp_path / "inputs")
    assert "yes" not in row_of(out, tmp_path / "plain") and "0.2" not in row_of(out, tmp_path / "plain")
    shared = ok(run("info", tmp_path / "biases", tmp_path / "biases")).stdout.splitlines()[0]
    assert "weight decay on the biases too" in shared
    shared = ok(run("info", tmp_path / "inputs", tmp_path / "inputs")).stdout.splitlines()[0]
    assert "input dropout 0.2" in shared


def test_runs_that_differ_in_init_show_it(tmp_path):
    """network.init (pytorch and sklearn draw the biases too) changes the run: runs differing only
    there are told apart by a column ('auto' shown, as set); a warm-started run's is '-' (its
    weights were the source model's); a shared init is named on the header line, unless auto."""
    sets = {
        "auto": [],
        "torch": ["network.init=pytorch"],
        "normal": ["network.init={name: normal, scale: 0.05}"],
    }
    for name, extra in sets.items():
        args = ["fit", CONFIGS / "digits.yaml", "-q", "-o", tmp_path / name, "--set", "training.epochs=1"]
        for s in extra:
            args += ["--set", s]
        ok(run(*args))
    ok(
        run(
            "fit",
            CONFIGS / "digits.yaml",
            "-q",
            "-o",
            tmp_path / "warm",
            "--set",
            "training.epochs=1",
            "--set",
            "network.init=pytorch",
            "--warm-start",
            tmp_path / "auto",
        )
    )
    out = ok(run("info", *(tmp_path / name for name in [*sets, "warm"]))).stdout
    assert out.splitlines()[2].split()[:2] == ["run", "init"], out
    assert row_of(out, tmp_path / "auto")[1] == "auto" and row_of(out, tmp_path / "torch")[1] == "pytorch"
    assert row_of(out, tmp_path / "normal")[1:3] == ["normal", "scale=0.05"]
    assert row_of(out, tmp_path / "warm")[1] == "-"
    assert "init pytorch" in ok(run("info", tmp_path / "torch", tmp_path / "torch")).stdout.splitlines()[0]
    assert "init" not in ok(run("info", tmp_path / "auto", tmp_path / "auto")).stdout.splitlines()[0]
    # one model's info: on its 'trained with' line unless auto (as the schedule unless constant);
    # --json gives network.init as the config has it, null for the warm-started run
    shown = {name: " ".join(ok(run("info", tmp_path / name)).stdout.split()) for name in [*sets, "warm"]}
    assert "1 epochs, init pytorch, seed 0" in shown["torch"]
    assert "1 epochs, init normal scale=0.05, seed 0" in shown["normal"]
    assert ", init " not in shown["auto"] and ", init " not in shown["warm"]
    assert "1 epochs, seed 0" in shown["auto"] and "1 epochs, seed 0" in shown["warm"]
    inits = {name: json.loads(ok(run("info", tmp_path / name, "--json")).stdout)["init"] for name in shown}
    assert inits == {
        "auto": "auto",
        "torch": "pytorch",
        "normal": {"name": "normal", "scale": 0.05},
        "warm": None,
    }


def _with_meta(src, dst, change) -> None:
    """A copy of the model file ``src`` whose metadata ``change`` (a function of the dict) edited."""
    import numpy as np

    with np.load(src) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays["meta"].tobytes().decode("utf-8"))
    change(meta)
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    np.savez(dst, **arrays)


@pytest.mark.parametrize(
    "training",
    [
        {"early_stopping": {"monitor": "val_loss", "patience": 2, "min_delta": "a"}},
        {"schedule": {"name": ["cosine"]}},
        {"optimizer": {"name": {"adam": 1}, "beta1": 0.8}},
    ],
)
def test_a_model_whose_config_entries_have_odd_types_is_shown_not_a_crash(runs, tmp_path, training):
    # one model's info showed these; the table stopped on an internal error
    def change(meta):
        meta["config"]["training"].update(training)

    _with_meta(runs["lr01"] / "model.npz", tmp_path / "odd.npz", change)
    ok(run("info", tmp_path / "odd.npz"))
    res = ok(run("info", tmp_path / "odd.npz", runs["lr01"]))
    assert len(row_of(res.stdout, tmp_path / "odd.npz")) > 1


def test_nightly_runs_show_their_data_and_warm_start_source(tmp_path, monkeypatch):
    # a nightly pipeline: each day's run starts from the day before's model, on that day's data
    monkeypatch.chdir(tmp_path)
    base = ["-q", "--set", "training.epochs=1", "--set", "data.test=null"]
    for day in ("day1", "day2", "day3"):
        shutil.copy(DATA / "digits_train.csv", tmp_path / f"{day}.csv")
    ok(
        run(
            "fit",
            CONFIGS / "digits.yaml",
            *base,
            "--set",
            f"data.train={tmp_path / 'day1.csv'}",
            "-o",
            "day1",
        )
    )
    for day, before in (("day2", "day1"), ("day3", "day2")):
        args = ["--set", f"data.train={tmp_path / day}.csv", "--warm-start", tmp_path / before / "model.npz"]
        ok(run("fit", CONFIGS / "digits.yaml", *base, *args, "-o", day))
    digest = {
        d: json.loads(ok(run("info", d, "--json")).stdout)["weights_sha256"][:8] for d in ("day1", "day2")
    }
    out = ok(run("info", "day2", "day3")).stdout
    titles = [line for line in out.splitlines() if line.strip()][1].split()
    assert titles[1:3] == ["data", "warm"] and "start" in titles  # ('warm start')
    # short: the files relative to the current folder, a source model by its run folder
    assert row_of(out, "day2")[1:4] == ["day2.csv", "day1/", f"({digest['day1']})"]
    assert row_of(out, "day3")[1:4] == ["day3.csv", "day2/", f"({digest['day2']})"]
    # shared, they are on the 'all runs:' line instead
    same = ok(run("info", "day2", "day2/model.npz")).stdout.splitlines()[0]
    assert same.endswith(f", trained on day2.csv, warm start from day1/ ({digest['day1']})")
    # the JSON lines keep the full paths
    for line in ok(run("info", "day2", "day3", "--json")).stdout.splitlines():
        info = json.loads(line)
        day = info["path"]
        assert info["training"]["data"] == str(tmp_path / f"{day}.csv")
        assert info["warm_start"]["path"] == str(
            tmp_path / {"day2": "day1", "day3": "day2"}[day] / "model.npz"
        )
    # outside the current folder: the data in full, a source by its run folder's name
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    out = ok(run("info", tmp_path / "day2", tmp_path / "day3")).stdout
    assert row_of(out, tmp_path / "day2")[1:3] == [str(tmp_path / "day2.csv"), "day1/"]
    monkeypatch.chdir(tmp_path / "day1")  # (the source's own folder: its name, not './')
    assert (
        row_of(ok(run("info", tmp_path / "day2", tmp_path / "day3")).stdout, tmp_path / "day2")[2] == "day1/"
    )


def test_sources_whose_short_forms_look_alike_are_shown_in_full():
    def row(run, source, digest):
        return {"run": run, "data": "/data/x.csv", "warm_start": {"path": source, "weights_sha256": digest}}

    rows = [row("a", "/srv/a/nightly/model.npz", "1" * 64), row("b", "/srv/b/nightly/model.npz", "1" * 64)]
    header, titles, cells = compare_table(rows)
    assert header == "all runs: trained on /data/x.csv"
    assert titles == ["run", "warm start"]
    assert [c[1] for c in cells] == [
        f"/srv/a/nightly/model.npz ({'1' * 64})",
        f"/srv/b/nightly/model.npz ({'1' * 64})",
    ]
    # the same file rewritten between runs: the same path, told apart by its weights' digest
    rows = [row("a", "/srv/a/nightly/model.npz", "1" * 64), row("b", "/srv/a/nightly/model.npz", "2" * 64)]
    assert [c[1] for c in compare_table(rows)[2]] == ["nightly/ (11111111)", "nightly/ (22222222)"]


def test_runs_from_one_source_differing_in_unknown_ignore_show_it_short():
    """Two runs from the same model, one with --unknown ignore (recorded in warm_start beside the
    path and digest), and a third from another model: the sources are still told apart short."""

    def row(run, source, digest, **more):
        warm = {"path": source, "weights_sha256": digest, "encoding_n_train": 160, **more}
        return {"run": run, "data": "/data/x.csv", "warm_start": warm}

    rows = [
        row("a", "/srv/a/model.npz", "1" * 64),
        row("b", "/srv/a/model.npz", "1" * 64, unknown="ignore"),
        row("c", "/srv/c/model.npz", "2" * 64),
    ]
    assert [c[1] for c in compare_table(rows)[2]] == ["a/ (11111111)", "a/ (11111111)", "c/ (22222222)"]
