"""The command-line contract (DESIGN.md, "Commands"), run in-process with Typer's CliRunner.

stdout holds only data (predictions, JSON, requested tables); stderr holds progress and messages;
exit codes: 0 success, 1 a failed check or a diverged run, 2 trouble (one `Error: ...` line).
Models are trained once per session (a few epochs: these are contract tests, not accuracy tests).
"""

from __future__ import annotations

import csv
import io
import json
import shutil

import numpy as np
import pytest
import yaml

from nettrain import load_config
from nettrain.cli import app
from tests.conftest import CONFIGS, DATA
from tests.helpers import CliRunner, ok

COMMANDS = ["fit", "predict", "evaluate", "gradcheck", "trace", "init", "info", "plot", "export"]


def run(*args, input=None):
    """Invoke the app in-process; stdout and stderr come back separately."""
    return CliRunner().invoke(app, [str(a) for a in args], input=input)


def assert_error(result, *needles, code=2):
    """Exit `code`, exactly one 'Error:' line on stderr naming `needles`, no traceback, no data."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # not a crash
    err = result.stderr
    error_lines = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1, err
    assert "Traceback" not in err
    assert result.stdout == ""
    for needle in needles:
        assert needle in error_lines[0], (needle, error_lines[0])


def read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def column_of(path, name: str) -> list[str]:
    return [row[name] for row in read_csv(path.read_text())]


def labels_of(path) -> list[str]:
    return column_of(path, "label")


def epoch_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("epoch ")]


# -- session models -------------------------------------------------------------------------------


# digits_run and regression_run: tests/cli/conftest.py


@pytest.fixture(scope="session")
def pets(tmp_path_factory):
    """Two separable features with string labels 'cat' and 'dog': the CSV, a config, a model."""
    folder = tmp_path_factory.mktemp("pets")
    rng = np.random.default_rng(7)
    rows = []
    for i in range(120):
        label = "cat" if i % 2 else "dog"
        centre = (-2.0, 1.0) if label == "cat" else (2.0, -1.0)
        x = rng.normal(centre, 0.5)
        rows.append((f"{x[0]:.4f}", f"{x[1]:.4f}", label))
    with open(folder / "pets.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["weight", "height", "kind"])
        w.writerows(rows)
    (folder / "pets.yaml").write_text(
        "data:\n  train: pets.csv\n  target: kind\nnetwork:\n  layers: [2, 8, 2]\n"
        "  activation: tanh\ncost: cross_entropy\n"
        "training:\n  learning_rate: 0.2\n  epochs: 20\n  batch_size: 8\n  seed: 0\n"
    )
    r = run("fit", folder / "pets.yaml", "-o", folder / "run", "--quiet")
    assert r.exit_code == 0, r.stderr
    return folder


# -- help and version -----------------------------------------------------------------------------


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_has_an_example(command):
    args = ["--help"] if command is None else [command, "--help"]
    r = run(*args)
    assert r.exit_code == 0, r.stderr
    assert "Example" in r.stdout
    assert "Usage" in r.stdout


def test_short_help_flag():
    r = run("predict", "-h")
    assert r.exit_code == 0
    assert "Example" in r.stdout


def test_version():
    from nettrain import __version__

    r = run("--version")
    assert r.exit_code == 0
    assert r.stdout.strip() == f"nettrain {__version__}"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_value_option_names_its_value_as_readme_does(command):
    """`fit --help` showed `-o, --output <str>`, `--resume <path>` and gradcheck's `--batch <int
    range>`: the type's name, where README writes `-o DIR`, `--resume RUN_FOLDER_OR_CHECKPOINT`,
    `--device cpu|gpu|gpu:N|auto`. Every option that takes a value names it."""
    import typer.main

    from nettrain.cli import app

    params = typer.main.get_command(app).commands[command].params
    for param in params:
        if param.param_type_name == "option" and not param.is_flag:
            assert param.metavar, (command, param.opts)
    r = run(command, "--help")
    assert r.exit_code == 0, r.stderr
    for typename in ("<str>", "<path>", "<int", "<float"):
        assert typename not in r.stdout, (command, typename)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_quiet(command):
    """DESIGN: `--quiet` is honoured by every command, spelled the same way (-q too)."""
    r = run(command, "--help")
    assert r.exit_code == 0, r.stderr
    assert "--quiet" in r.stdout and "-q" in r.stdout


def test_quiet_keeps_the_data_of_init_and_info(digits_run):
    for args in (["init"], ["info", digits_run], ["info", digits_run, "--json"]):
        loud, quiet = run(*args), run(*args, "-q")
        assert loud.exit_code == quiet.exit_code == 0, (quiet.stdout, quiet.stderr)
        assert quiet.stdout == loud.stdout != ""
        assert quiet.stderr == ""


def test_quiet_still_prints_errors(tmp_path):
    assert_error(run("predict", tmp_path / "none.npz", "data.csv", "--quiet"), "none.npz")
    assert_error(run("evaluate", tmp_path / "none.npz", "data.csv", "-q"), "none.npz")
    assert_error(run("info", tmp_path / "none.npz", "-q"), "none.npz")
    assert_error(run("gradcheck", tmp_path / "none.yaml", "-q"), "none.yaml")


# -- fit ------------------------------------------------------------------------------------------


def test_fit_writes_the_run_folder_and_keeps_stdout_empty(tmp_path):
    out = tmp_path / "run"
    r = run("fit", CONFIGS / "seed.yaml", "--set", "training.epochs=3", "-o", out)
    assert r.exit_code == 0, r.stderr
    assert r.stdout == ""
    assert {"model.npz", "history.jsonl", "config.yaml"} <= {p.name for p in out.iterdir()}
    history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert all(np.isfinite(h["loss"]) and "val_loss" in h for h in history)  # seed: validation 0.2
    # progress on stderr, one plain line per epoch (3 epochs: all printed)
    assert len(epoch_lines(r.stderr)) == 3
    assert "epoch 3/3" in r.stderr
    # the resolved config is complete and repeatable: the override and the defaults are in it
    resolved = yaml.safe_load((out / "config.yaml").read_text())
    assert resolved["training"]["epochs"] == 3
    assert resolved["network"]["layers"] == [4, 2, 2, 1]
    assert resolved["dtype"] in ("float32", "float64")


def test_fit_json_lines(tmp_path):
    r = run("fit", CONFIGS / "seed.yaml", "--set", "training.epochs=4", "-o", tmp_path / "run", "--json")
    assert r.exit_code == 0, r.stderr
    objects = [json.loads(line) for line in r.stdout.splitlines()]  # every line is JSON
    epochs = objects[:-1]
    assert [o["epoch"] for o in epochs] == [1, 2, 3, 4]
    for o in epochs:
        assert isinstance(o["loss"], float) and isinstance(o["val_loss"], float)
    summary = objects[-1]
    assert summary.get("event") == "summary"
    assert all(o.get("event") == "epoch" for o in epochs)
    assert summary["epochs"] == 4
    assert summary["loss"] == pytest.approx(epochs[-1]["loss"])
    # the JSON matches what was written to history.jsonl
    history = [json.loads(line) for line in (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
    assert [h["loss"] for h in history] == [o["loss"] for o in epochs]


def test_fit_quiet_leaves_stderr_empty(tmp_path):
    r = run("fit", CONFIGS / "seed.yaml", "--set", "training.epochs=3", "-o", tmp_path / "run", "--quiet")
    assert r.exit_code == 0
    assert r.stdout == ""
    assert r.stderr == ""
    assert (tmp_path / "run" / "model.npz").is_file()


def test_fit_quiet_json_still_writes_json(tmp_path):
    r = run(
        "fit", CONFIGS / "xor.yaml", "--set", "training.epochs=2", "-o", tmp_path / "run", "--quiet", "--json"
    )
    assert r.exit_code == 0
    assert r.stderr == ""
    assert len(r.stdout.splitlines()) == 3  # two epochs and the summary


def test_set_overrides_epochs(tmp_path):
    r = run("fit", CONFIGS / "xor.yaml", "--set", "training.epochs=2", "-o", tmp_path / "run")
    assert r.exit_code == 0, r.stderr
    assert len((tmp_path / "run" / "history.jsonl").read_text().splitlines()) == 2


def test_dry_run_prints_the_resolved_config_and_writes_nothing(tmp_path):
    out = tmp_path / "dry"
    r = run("fit", CONFIGS / "digits.yaml", "--dry-run", "-o", out, "--set", "training.epochs=7")
    assert r.exit_code == 0, r.stderr
    resolved = yaml.safe_load(r.stdout)
    assert resolved["network"]["layers"] == [64, 128, 64, 10]
    assert resolved["training"]["epochs"] == 7
    assert "W(1)" in r.stderr and "W(3)" in r.stderr  # the layer shapes, on stderr
    assert not out.exists()


def test_dry_run_json_writes_one_json_object_with_the_resolved_config(tmp_path):
    """--json means JSON on stdout: --dry-run --json writes one object, the resolved config the
    plain form writes as YAML, with the layer shapes and row counts it writes on stderr."""
    args = ("fit", CONFIGS / "digits.yaml", "--dry-run", "-o", tmp_path / "dry", "--set", "training.epochs=7")
    plain, js = run(*args), run(*args, "--json")
    assert plain.exit_code == 0 and js.exit_code == 0, js.stderr
    assert len(js.stdout.splitlines()) == 1
    report = json.loads(js.stdout)
    assert report["config"] == yaml.safe_load(plain.stdout)
    assert report["config"]["training"]["epochs"] == 7
    assert [layer["W"] for layer in report["layers"]] == [[128, 64], [64, 128], [10, 64]]
    assert [layer["activation"] for layer in report["layers"]] == ["relu", "relu", "softmax"]
    from nettrain.network import Network

    net = Network.from_config(load_config(CONFIGS / "digits.yaml", ["training.epochs=7"]))
    assert report["parameters"] == net.n_params() == sum(layer["parameters"] for layer in report["layers"])
    assert report["data"]["test"] == 450 and report["data"]["classes"] == 10
    assert report["data"]["train"] + report["data"]["validation"] == 1347  # validation: 0.1 held out
    assert report["task"] == "classification"
    assert report["resume"] is None and report["warm_start"] is None
    assert js.stderr == plain.stderr  # the human lines on stderr as ever
    assert not (tmp_path / "dry").exists()


def test_dry_run_json_names_the_checkpoint_a_resume_continues(tmp_path):
    out = tmp_path / "run"
    ok(
        run(
            "fit",
            CONFIGS / "xor.yaml",
            "-o",
            out,
            "--set",
            "training.epochs=4",
            "--set",
            "training.checkpoint_every=2",
        )
    )
    r = ok(run("fit", "--resume", out, "--set", "training.epochs=6", "--dry-run", "--json", "--quiet"))
    report = json.loads(r.stdout)
    assert report["resume"] == {"checkpoint": str((out / "checkpoint-4.npz").resolve()), "epoch": 4}
    assert report["data"] == {"train": 4, "streamed": False, "classes": 2}
    assert report["layers"][-1]["b"] == 1 and r.stderr == ""


def test_dry_run_says_fits_notes_about_the_data(tmp_path):
    """A row left out for a missing value: fit notes it, and so does fit --dry-run (it said
    nothing), before its layer shapes; --quiet silences it as the rest."""
    (tmp_path / "m.csv").write_text("a,label\n1,x\n2,y\n,x\n4,y\n5,x\n6,y\n")
    sets = [f"data.train={tmp_path / 'm.csv'}", "data.target=label", "data.missing=drop", "data.validation=0"]
    sets += [
        "network.layers=[auto,2,auto]",
        "cost=cross_entropy",
        "training.epochs=1",
        f"output={tmp_path / 'run'}",
    ]
    args = ["fit", CONFIGS / "xor.yaml", *(x for kv in sets for x in ("--set", kv))]
    note = "Note: training data: left out 1 of 6 rows with missing values (data.missing: drop)"
    dry = ok(run(*args, "--dry-run"))
    assert dry.stderr.splitlines()[0] == note
    assert note in ok(run(*args)).stderr.splitlines()
    assert ok(run(*args, "--dry-run", "--quiet")).stderr == ""


@pytest.mark.parametrize("output_bias", [True, False])
def test_dry_run_counts_the_parameters_fit_trains(tmp_path, output_bias):
    flag = f"network.output_bias={str(output_bias).lower()}"
    r = run("fit", CONFIGS / "seed.yaml", "--dry-run", "--set", flag)
    assert r.exit_code == 0, r.stderr
    from nettrain.network import Network

    net = Network.from_config(load_config(CONFIGS / "seed.yaml", [flag]))
    assert f"total {net.n_params():,} parameters" in r.stderr
    assert ("no bias" in r.stderr) is not output_bias


# -- predict --------------------------------------------------------------------------------------


def test_predict_csv_one_row_per_input_row(digits_run):
    r = run("predict", digits_run / "model.npz", DATA / "digits_test.csv")
    assert r.exit_code == 0, r.stderr
    assert r.stderr == ""
    rows = read_csv(r.stdout)
    assert list(rows[0]) == ["prediction"]
    truth = labels_of(DATA / "digits_test.csv")
    assert len(rows) == len(truth) == 450
    predicted = [row["prediction"] for row in rows]
    assert set(predicted) <= set(truth)
    # rows in order: a trained model agrees with the labels far more often than chance
    agree = np.mean([p == t for p, t in zip(predicted, truth, strict=True)])
    assert agree > 0.8


def test_predict_accepts_the_run_folder(digits_run):
    by_file = run("predict", digits_run / "model.npz", DATA / "digits_test.csv")
    by_folder = run("predict", digits_run, DATA / "digits_test.csv")
    assert by_folder.exit_code == 0
    assert by_folder.stdout == by_file.stdout


def test_predict_gives_string_labels_back(pets):
    r = run("predict", pets / "run" / "model.npz", pets / "pets.csv")
    assert r.exit_code == 0, r.stderr
    rows = read_csv(r.stdout)
    truth = column_of(pets / "pets.csv", "kind")
    assert [row["prediction"] for row in rows] == truth  # separable: every label right, as text


def test_predict_proba_string_labels(pets):
    r = run("predict", pets / "run", pets / "pets.csv", "--proba")
    assert r.exit_code == 0, r.stderr
    rows = read_csv(r.stdout)
    assert list(rows[0]) == ["prediction", "prob_cat", "prob_dog"]
    for row in rows:
        p = float(row["prob_cat"]), float(row["prob_dog"])
        assert sum(p) == pytest.approx(1, abs=1e-5)
        assert row["prediction"] == ("cat" if p[0] > p[1] else "dog")


def test_predict_proba_columns_sum_to_one(digits_run):
    r = run("predict", digits_run, DATA / "digits_test.csv", "--proba")
    assert r.exit_code == 0, r.stderr
    rows = read_csv(r.stdout)
    assert list(rows[0]) == ["prediction"] + [f"prob_{d}" for d in range(10)]
    probs = np.array([[float(row[f"prob_{d}"]) for d in range(10)] for row in rows])
    assert probs.shape == (450, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-4)
    assert [str(i) for i in probs.argmax(axis=1)] == [row["prediction"] for row in rows]


def test_predict_jsonl(digits_run):
    csv_out = read_csv(run("predict", digits_run, DATA / "digits_test.csv", "--proba").stdout)
    r = run("predict", digits_run, DATA / "digits_test.csv", "--format", "jsonl", "--proba")
    assert r.exit_code == 0, r.stderr
    objects = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(objects) == 450
    assert [o["prediction"] for o in objects] == [row["prediction"] for row in csv_out]
    assert sum(objects[0][f"prob_{d}"] for d in range(10)) == pytest.approx(1, abs=1e-5)


def test_predict_npy(digits_run, tmp_path):
    target = tmp_path / "p.npy"
    r = run("predict", digits_run, DATA / "digits_test.csv", "-f", "npy", "-o", target)
    assert r.exit_code == 0, r.stderr
    assert r.stdout == ""
    array = np.load(target, allow_pickle=False)
    csv_out = read_csv(run("predict", digits_run, DATA / "digits_test.csv").stdout)
    assert array.shape == (450,)
    assert [str(v) for v in array] == [row["prediction"] for row in csv_out]

    r = run(
        "predict", digits_run, DATA / "digits_test.csv", "-f", "npy", "--proba", "-o", tmp_path / "proba.npy"
    )
    probs = np.load(tmp_path / "proba.npy", allow_pickle=False)
    assert probs.shape == (450, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-4)


def test_predict_matches_columns_by_name(digits_run, tmp_path):
    """Columns in another order, plus an id column, give the same predictions."""
    with open(DATA / "digits_test.csv", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    order = list(reversed(range(len(header))))  # label first, pixels reversed
    shuffled = tmp_path / "shuffled.csv"
    with open(shuffled, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id"] + [header[j] for j in order])
        for i, row in enumerate(body):
            w.writerow([f"row{i}"] + [row[j] for j in order])
    want = run("predict", digits_run, DATA / "digits_test.csv", "--proba")
    got = run("predict", digits_run, shuffled, "--proba")
    assert got.exit_code == 0, got.stderr
    assert got.stdout == want.stdout


def test_predict_missing_feature_column(digits_run, tmp_path):
    with open(DATA / "digits_test.csv", newline="") as f:
        rows = list(csv.reader(f))
    j = rows[0].index("pixel_3_4")
    broken = tmp_path / "missing.csv"
    with open(broken, "w", newline="") as f:
        csv.writer(f).writerows([row[:j] + row[j + 1 :] for row in rows])
    r = run("predict", digits_run, broken)
    assert_error(r, "pixel_3_4")


def test_predict_from_stdin(digits_run):
    text = (DATA / "digits_test.csv").read_text()
    r = run("predict", digits_run, "-", input=text)
    assert r.exit_code == 0, r.stderr
    assert r.stdout == run("predict", digits_run, DATA / "digits_test.csv").stdout


def test_predict_regression_in_original_units(regression_run):
    r = run("predict", regression_run, DATA / "regression_train.csv")
    assert r.exit_code == 0, r.stderr
    rows = read_csv(r.stdout)
    y = np.array([float(v) for v in column_of(DATA / "regression_train.csv", "y")])
    pred = np.array([float(row["prediction"]) for row in rows])
    assert pred.shape == y.shape
    # standardized (unscaled) outputs would be near 0 with unit spread; y has mean ~14, std ~5
    assert abs(pred.mean() - y.mean()) < 0.1 * y.std()
    assert np.mean(np.abs(pred - y)) < 0.35 * y.std()


def test_predict_proba_on_regression_is_an_error(regression_run):
    r = run("predict", regression_run, DATA / "regression_test.csv", "--proba")
    assert_error(r, "--proba")


def test_predict_unknown_format(digits_run):
    r = run("predict", digits_run, DATA / "digits_test.csv", "--format", "jsn")
    assert_error(r, "jsn", "jsonl")
    assert_error(run("predict", digits_run, DATA / "digits_test.csv", "-f", "json"), "did you mean 'jsonl'?")
    assert_error(
        run("predict", digits_run, DATA / "digits_test.csv", "--unknown", "skip"),
        "--unknown 'skip' is not known",
    )
    upper = run("predict", digits_run, DATA / "digits_test.csv", "--format", "JSONL")  # any case
    assert (
        upper.exit_code == 0
        and upper.stdout == run("predict", digits_run, DATA / "digits_test.csv", "-f", "jsonl").stdout
    )


def test_predict_output_that_is_a_folder_is_refused(digits_run, tmp_path):
    assert_error(
        run("predict", digits_run, DATA / "digits_test.csv", "-o", tmp_path), "is a folder; give a file name"
    )
    assert list(tmp_path.iterdir()) == []


# -- evaluate -------------------------------------------------------------------------------------


def test_evaluate_classification_table(digits_run):
    r = run("evaluate", digits_run, DATA / "digits_test.csv")
    assert r.exit_code == 0, r.stderr
    assert "accuracy" in r.stdout
    assert "confusion matrix" in r.stdout
    assert "450 rows" in r.stdout
    assert r.stderr == ""


def test_evaluate_classification_json(digits_run):
    r = run("evaluate", digits_run, DATA / "digits_test.csv", "--json")
    assert r.exit_code == 0, r.stderr
    report = json.loads(r.stdout)
    cm = np.array(report["confusion_matrix"])
    assert cm.shape == (10, 10)
    assert cm.sum() == 450
    assert report["accuracy"] == pytest.approx(np.trace(cm) / cm.sum())
    assert len(report["per_class"]) == 10
    # the true-class counts are the test set's label counts
    truth = labels_of(DATA / "digits_test.csv")
    assert list(cm.sum(axis=1)) == [truth.count(str(d)) for d in range(10)]
    # and evaluate agrees with predict
    pred = [
        row["prediction"] for row in read_csv(run("predict", digits_run, DATA / "digits_test.csv").stdout)
    ]
    agree = np.mean([p == t for p, t in zip(pred, truth, strict=True)])
    assert report["accuracy"] == pytest.approx(agree)


def test_evaluate_string_labels(pets):
    r = run("evaluate", pets / "run", pets / "pets.csv", "--json")
    assert r.exit_code == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["accuracy"] == 1.0
    assert sorted(c["label"] for c in report["per_class"]) == ["cat", "dog"]


def test_evaluate_regression(regression_run):
    r = run("evaluate", regression_run, DATA / "regression_test.csv", "--json")
    assert r.exit_code == 0, r.stderr
    report = json.loads(r.stdout)
    assert {"r2", "mse", "mae"} <= set(report)
    assert 0.5 < report["r2"] <= 1
    pred = np.array(
        [
            float(row["prediction"])
            for row in read_csv(run("predict", regression_run, DATA / "regression_test.csv").stdout)
        ]
    )
    y = np.array([float(v) for v in column_of(DATA / "regression_test.csv", "y")])
    assert report["mse"] == pytest.approx(np.mean((pred - y) ** 2), rel=1e-4)
    assert report["mae"] == pytest.approx(np.mean(np.abs(pred - y)), rel=1e-4)

    table = run("evaluate", regression_run, DATA / "regression_test.csv")
    assert table.exit_code == 0
    for word in ("MSE", "MAE", "R"):
        assert word in table.stdout


# -- gradcheck ------------------------------------------------------------------------------------


def test_gradcheck_passes_on_the_seed_network():
    r = run("gradcheck", CONFIGS / "seed.yaml")
    assert r.exit_code == 0, r.stderr
    assert "PASS" in r.stdout
    assert "FAIL" not in r.stdout
    for name in ("W(1)", "b(1)", "W(3)", "b(3)"):
        assert name in r.stdout


def test_gradcheck_json():
    r = run("gradcheck", CONFIGS / "seed.yaml", "--json")
    assert r.exit_code == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["passed"] is True


def test_gradcheck_device(monkeypatch):
    """--device says where backprop runs (the CPU by default, as for predict); a GPU that cannot
    be used is one clear error."""
    r = run("gradcheck", CONFIGS / "seed.yaml", "--json", "--device", "cpu")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["device"] == "cpu"
    import nettrain.backend

    monkeypatch.setattr(nettrain.backend, "gpu_problem", lambda index=0: "no CUDA GPU found")
    assert_error(run("gradcheck", CONFIGS / "seed.yaml", "--device", "gpu"), "gpu", "no CUDA GPU found")
    assert_error(run("gradcheck", CONFIGS / "seed.yaml", "--device", "tpu"), "tpu", "cpu, gpu")


def test_gradcheck_fails_on_a_broken_derivative(monkeypatch):
    from nettrain import activations

    # wrong: f' should be a(1-a); backprop multiplies by it in place (mul_df)
    monkeypatch.setattr(activations.Sigmoid, "mul_df", lambda self, da, a, tmp: da.__imul__(a))
    r = run("gradcheck", CONFIGS / "seed.yaml")
    assert r.exit_code == 1, (r.stdout, r.stderr)
    assert "FAIL" in r.stdout
    assert "FAIL" in r.stderr
    assert "Traceback" not in r.stderr
    # where it enters: the highest failing layer's delta, made with the hidden layer's sigmoid f'
    hint = [line for line in r.stderr.splitlines() if line.startswith("Hint: ")]
    assert len(hint) == 1 and "delta(3)" in hint[0] and "sigmoid" in hint[0], r.stderr

    r = run("gradcheck", CONFIGS / "seed.yaml", "--json")
    assert r.exit_code == 1
    assert json.loads(r.stdout)["passed"] is False
    assert "delta(3)" in json.loads(r.stdout)["hint"]

    # --quiet keeps the verdict: the table on stdout, the failure line on stderr, exit 1
    loud, quiet = run("gradcheck", CONFIGS / "seed.yaml"), run("gradcheck", CONFIGS / "seed.yaml", "-q")
    assert quiet.exit_code == 1
    assert quiet.stdout == loud.stdout
    assert "gradcheck FAILED" in quiet.stderr


def test_gradcheck_failure_line_names_the_direction_as_the_table_does(monkeypatch):
    from nettrain import activations

    monkeypatch.setattr(activations.ReLU, "mul_df", lambda self, da, a, tmp: None)  # f' = 1
    r = run("gradcheck", CONFIGS / "digits.yaml", "--batch", "4")  # sampled: a random direction too
    assert r.exit_code == 1
    row = [line.split() for line in r.stdout.splitlines() if line.strip().startswith("direction")][0]
    assert row[-1] == "FAIL"
    failed = r.stderr.split("gradcheck FAILED: ")[1].split(" disagree")[0].split(", ")
    assert failed[-1] == "direction"


def test_gradcheck_says_when_the_readable_backward_disagrees(monkeypatch):
    from nettrain import activations

    # the readable f' (Activation.df, used by Network.backward) broken; training's mul_df is right
    monkeypatch.setattr(activations.Sigmoid, "df", lambda self, z, a: a)
    r = run("gradcheck", CONFIGS / "seed.yaml")
    assert r.exit_code == 1, (r.stdout, r.stderr)
    rows = [line.split() for line in r.stdout.splitlines() if line.strip().startswith(("W(", "b("))]
    assert rows and all(row[-1] == "ok" for row in rows)  # the training step agrees with differences
    verdict = [line for line in r.stdout.splitlines() if line.startswith("FAIL")][0]
    assert verdict.startswith("FAIL (Network.backward)")
    assert "Network.backward" in r.stderr and "W(1), b(1), W(2), b(2)" in r.stderr
    assert "Traceback" not in r.stderr
    result = json.loads(run("gradcheck", CONFIGS / "seed.yaml", "--json").stdout)
    assert result["passed"] is False and result["reference"]["differ"] == ["W(1)", "b(1)", "W(2)", "b(2)"]


def test_gradcheck_json_writes_null_for_a_gradient_that_is_not_a_number(monkeypatch):
    from nettrain import activations

    # f' broken into NaN: the errors of every array below the output are NaN, which JSON cannot hold
    monkeypatch.setattr(activations.Sigmoid, "mul_df", lambda self, da, a, tmp: da.__imul__(float("nan")))
    r = run("gradcheck", CONFIGS / "seed.yaml", "--json")
    assert r.exit_code == 1, (r.stdout, r.stderr)

    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")

    result = json.loads(r.stdout, parse_constant=refuse)
    w1 = result["params"][0]
    assert w1["name"] == "W(1)" and w1["max_abs_error"] is None and w1["passed"] is False


# -- init, info -----------------------------------------------------------------------------------


def test_init_config_trains(tmp_path):
    r = run("init")
    assert r.exit_code == 0
    starter = yaml.safe_load(r.stdout)
    assert starter["network"]["layers"]
    (tmp_path / "my.yaml").write_text(r.stdout)
    (tmp_path / "data").mkdir()
    assert starter["data"]["train"] == "data/train.csv"
    shutil.copy(DATA / "digits_train.csv", tmp_path / "data" / "train.csv")
    out = tmp_path / "run"
    r = run("fit", tmp_path / "my.yaml", "--set", "training.epochs=2", "-o", out)
    assert r.exit_code == 0, r.stderr
    assert (out / "model.npz").is_file()
    assert len((out / "history.jsonl").read_text().splitlines()) == 2


def test_info(digits_run):
    r = run("info", digits_run / "model.npz")
    assert r.exit_code == 0, r.stderr
    assert "64 -> 128 relu -> 64 relu -> 10 softmax" in r.stdout
    n_params = 64 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    assert f"{n_params:,}" in r.stdout


def test_info_says_how_and_on_what_the_model_was_trained(tmp_path):
    out = tmp_path / "run"
    r = run(
        "fit", CONFIGS / "digits.yaml", "-o", out, "-q", "--set", "training.epochs=40",
        "--set", "training.early_stopping={patience: 2}", "--set", "training.optimizer=adam",
        "--set", "training.learning_rate=0.01",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    info = " ".join(run("info", out).stdout.split())  # (column widths vary)
    assert "trained with adam, lr 0.01, batch 32, 40 epochs, seed 0" in info
    assert f"trained on {DATA / 'digits_train.csv'}" in info
    kept = json.loads(run("info", out, "--json").stdout)["training"]["kept_epoch"]
    assert f"loss (epoch {kept})" in info and "weights of epoch" in info and "train_time_s" not in info
    assert "stopped early yes" in info and "True" not in info  # (words, not Python's booleans)


def test_info_names_the_regularisation_a_model_was_trained_with(tmp_path):
    out = tmp_path / "run"
    sets = [
        "training.epochs=2",
        "training.optimizer=adamw",
        "training.dropout=[0.2, 0]",
        "training.clip_norm=1",
    ]
    sets += ["training.class_weight=balanced"]
    r = run("fit", CONFIGS / "digits.yaml", "-o", out, "-q", *[a for s in sets for a in ("--set", s)])
    assert r.exit_code == 0, r.stderr
    info = " ".join(run("info", out).stdout.split())
    assert (
        "trained with adamw, lr 0.1, batch 32, 2 epochs, weight decay 0.01, dropout [0.2, 0.0], "
        "clip norm 1.0, class weight balanced, seed 0" in info
    )
    assert run("fit", CONFIGS / "digits.yaml", "-o", out, "-q", "--set", "training.epochs=2").exit_code == 0
    assert "trained with sgd, lr 0.1, batch 32, 2 epochs, seed 0" in " ".join(run("info", out).stdout.split())
    sets = ["training.epochs=2", "training.weight_decay=0.001", "training.decay_biases=true"]
    sets += ["training.input_dropout=0.1"]
    r = run("fit", CONFIGS / "digits.yaml", "-o", out, "-q", *[a for s in sets for a in ("--set", s)])
    assert r.exit_code == 0, r.stderr
    info = " ".join(run("info", out).stdout.split())
    assert "2 epochs, weight decay 0.001 (biases too), input dropout 0.1, seed 0" in info


def test_info_names_r2_as_fit_and_evaluate_do(regression_run):
    """val and test R² under the same name (it was 'val R2' beside 'test r2')."""
    info = " ".join(run("info", regression_run / "model.npz").stdout.split())
    assert "val R² " in info and "test R² " in info and "r2" not in info


def test_info_json(digits_run):
    r = run("info", digits_run, "--json")
    assert r.exit_code == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["sizes"] == [64, 128, 64, 10]
    sizes = info["sizes"]
    assert info["parameters"] == sum(o * i + o for i, o in zip(sizes[:-1], sizes[1:], strict=True))
    assert info["classes"] == [str(d) for d in range(10)]
    assert info["training"]["epochs"] == 3
    # the settings it trained with, as the run's config.yaml holds them (for jq)
    assert info["config"] == yaml.safe_load((digits_run / "config.yaml").read_text())
    assert info["config"]["training"]["epochs"] == 3


# -- errors: exit 2, one line -------------------------------------------------------------------


def test_missing_config(tmp_path):
    assert_error(run("fit", tmp_path / "nope.yaml"), "nope.yaml")


def test_unknown_config_key(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text((CONFIGS / "xor.yaml").read_text().replace("  activation: tanh", "  activaton: tanh"))
    line = config.read_text().splitlines().index("  activaton: tanh") + 1
    r = run("fit", config, "-o", tmp_path / "run")
    assert_error(r, f"bad.yaml:{line}", "activaton", "did you mean 'activation'")
    assert not (tmp_path / "run").exists()


def test_bad_set_value(tmp_path):
    r = run("fit", CONFIGS / "xor.yaml", "--set", "training.epochs=abc", "-o", tmp_path / "run")
    assert_error(r, "training.epochs", "abc")
    r = run("fit", CONFIGS / "xor.yaml", "--set", "training.epochs", "-o", tmp_path / "run")
    assert_error(r, "training.epochs")
    assert not (tmp_path / "run").exists()


def test_missing_model_file(tmp_path):
    for command in (["info"], ["predict"], ["evaluate"]):
        args = [*command, tmp_path / "none.npz"]
        if command != ["info"]:
            args.append(DATA / "digits_test.csv")
        assert_error(run(*args), "none.npz")


def test_garbage_model_file(tmp_path):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(np.random.default_rng(0).bytes(1000))
    assert_error(run("info", garbage), "garbage.npz")
    assert_error(run("predict", garbage, DATA / "digits_test.csv"), "garbage.npz")
    # a zip that is not a model is no better
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    assert_error(run("info", tmp_path / "other.npz"), "other.npz")


def test_ragged_csv_row(tmp_path):
    (tmp_path / "train.csv").write_text("x1,x2,label\n0,0,0\n0,1,1\n1\n1,1,0\n")
    (tmp_path / "c.yaml").write_text(
        "data:\n  train: train.csv\n  target: label\nnetwork:\n  layers: [2, 4, 1]\n"
        "cost: binary_cross_entropy\n"
    )
    r = run("fit", tmp_path / "c.yaml", "-o", tmp_path / "run")
    assert_error(r, "train.csv:4")
    assert not (tmp_path / "run").exists()


def test_output_size_must_match_classes(tmp_path):
    r = run("fit", CONFIGS / "digits.yaml", "--set", "network.layers=[64, 32, 5]", "-o", tmp_path / "run")
    assert_error(r, "10", "5", "classes")
    assert not (tmp_path / "run").exists()


def test_evaluate_without_the_target_column(digits_run, tmp_path):
    with open(DATA / "digits_test.csv", newline="") as f:
        rows = [row[:-1] for row in csv.reader(f)]
    with open(tmp_path / "unlabelled.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)
    assert_error(run("evaluate", digits_run, tmp_path / "unlabelled.csv"), "label")


def test_empty_stdin(digits_run):
    assert_error(run("predict", digits_run, "-", input=""), "input")


@pytest.mark.parametrize("config", ["seed.yaml", "regression.yaml"])
def test_divergence_exits_1_and_keeps_the_earlier_model(config, tmp_path):
    out = tmp_path / "run"
    r = run("fit", CONFIGS / config, "--set", "training.epochs=2", "-o", out, "--quiet")
    assert r.exit_code == 0
    before = {name: (out / name).read_bytes() for name in ("model.npz", "history.jsonl", "config.yaml")}
    r = run("fit", CONFIGS / config, "--set", "training.learning_rate=1e6", "-o", out)
    assert_error(r, "diverged", code=1)
    after = {name: (out / name).read_bytes() for name in before}
    assert after == before
    assert sorted(p.name for p in out.iterdir()) == sorted(before)  # no temporary files left


def test_divergence_with_json_ends_with_an_error_event(tmp_path):
    r = run(
        "fit",
        CONFIGS / "seed.yaml",
        "--set",
        "training.learning_rate=1e6",
        "--json",
        "-q",
        "-o",
        tmp_path / "run",
    )
    assert r.exit_code == 1
    last = json.loads(r.stdout.splitlines()[-1])
    assert last["event"] == "error" and last["exit_code"] == 1 and "diverged" in last["error"]


def test_gradcheck_verdict_names_the_failing_parameters():
    # a tolerance nothing meets at the input layer, yet a bias of 0 error: only some rows fail
    r = run("gradcheck", CONFIGS / "seed.yaml", "--rtol", "1e-12", "--atol", "0")
    assert r.exit_code == 1
    verdict = [line for line in r.stdout.splitlines() if line.startswith("FAIL")][0]
    table = [line.split() for line in r.stdout.splitlines() if line.strip().endswith("FAIL")]
    assert verdict.startswith("FAIL (" + ", ".join(row[0] for row in table) + ")")


def test_unknown_command():
    r = run("frobnicate")
    assert r.exit_code == 2
    assert "Usage" in r.stderr
    assert "frobnicate" in r.stderr
    assert r.stdout == ""


def test_unknown_option():
    r = run("fit", CONFIGS / "xor.yaml", "--bogus")
    assert r.exit_code == 2
    assert "Usage" in r.stderr
    assert "--bogus" in r.stderr
    assert r.stdout == ""


def test_the_live_view_shows_progress_inside_a_long_epoch():
    """Batch events inside an epoch name the batch under the table; the epoch's row clears it."""
    from rich.console import Console

    from nettrain.report import RichReporter

    reporter = RichReporter(err=io.StringIO())
    reporter.on_start(
        {
            "epochs": 3,
            "first_epoch": 1,
            "n_train": 1000,
            "n_val": 0,
            "batches": 40,
            "batch_size": 25,
            "params": 99,
            "device": "cpu",
            "sizes": [4, 8, 3],
        }
    )

    def shown() -> str:
        console = Console(record=True, width=100, file=io.StringIO())
        console.print(reporter._render())
        return console.export_text()

    try:
        assert "epoch 1/3" in shown() and "batch" not in shown()
        reporter.on_batch({"epoch": 1, "batch": 20, "batches": 40})
        assert "epoch 1/3  batch 20/40" in shown()
        reporter.on_epoch(
            {"epoch": 1, "loss": 0.5, "lr": 0.01, "samples_per_s": 1e5, "elapsed": 1.0, "eta": 2.0}
        )
        text = shown()
        assert "epoch 2/3" in text and "batch 20/40" not in text and "1/3" in text
    finally:
        reporter.close()


def test_the_resume_command_starts_the_program_as_it_was_started(monkeypatch, tmp_path):
    """`nettrain` when the nettrain script on the PATH is what runs; else this very Python with
    -m nettrain (the printed command must work without an activated virtual environment)."""
    import sys

    from nettrain.cli import relaunch

    script = tmp_path / "bin" / "nettrain"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(script.parent))
    monkeypatch.setattr(sys, "argv", [str(script), "fit"])
    assert relaunch() == ["nettrain"]
    monkeypatch.setattr(sys, "argv", ["/somewhere/nettrain/__main__.py", "fit"])
    assert relaunch() == [sys.executable, "-m", "nettrain"]
    monkeypatch.setenv("PATH", "")  # a script that is not the one on the PATH
    monkeypatch.setattr(sys, "argv", [str(script), "fit"])
    assert relaunch() == [sys.executable, "-m", "nettrain"]


def test_ctrl_c_while_starting_is_no_traceback():
    """A Ctrl-C that lands while the command-line module is still importing exits 130 quietly."""
    import subprocess
    import sys

    code = (
        "import builtins, sys\n"
        "real = builtins.__import__\n"
        "def imp(name, *a, **k):\n"
        "    if name == 'cli' or name.endswith('.cli'):\n"
        "        raise KeyboardInterrupt\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = imp\n"
        "from nettrain.__main__ import main\n"
        "main()\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 130, r.stderr
    assert r.stderr.strip() == "Interrupted."


def test_predict_output_never_destroys_what_it_reads_and_follows_links(digits_run, tmp_path):
    """-o naming the model or the input is refused before anything is written; a symbolic link
    is followed (the link stays, what it names gets the predictions); a FIFO or a device such as
    /dev/stdout is written into, not replaced."""
    import os
    import shutil

    run_copy = tmp_path / "run"
    shutil.copytree(digits_run, run_copy)
    model_bytes = (run_copy / "model.npz").read_bytes()
    rows = tmp_path / "rows.csv"
    rows.write_text("".join((DATA / "digits_test.csv").read_text().splitlines(keepends=True)[:4]))
    rows_text = rows.read_text()
    for model_arg in (run_copy, run_copy / "model.npz"):
        assert_error(run("predict", model_arg, rows, "-o", run_copy / "model.npz"), "is the model file")
    assert_error(run("predict", run_copy, rows, "-o", rows), "is the input file")
    (tmp_path / "alias.csv").symlink_to(rows)  # the input under another name: refused as well
    assert_error(run("predict", run_copy, rows, "-o", tmp_path / "alias.csv"), "is the input file")
    assert (run_copy / "model.npz").read_bytes() == model_bytes and rows.read_text() == rows_text

    target = tmp_path / "target.csv"
    target.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    r = run("predict", run_copy, rows, "-o", link)
    assert r.exit_code == 0, r.stderr
    assert link.is_symlink() and target.read_text().splitlines()[0] == "prediction"
    assert len(target.read_text().splitlines()) == 4

    # a FIFO (like /dev/stdout, it cannot be replaced; this one is the test's own)
    import threading

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    r = run("predict", run_copy, rows, "-o", fifo)
    reader.join(timeout=30)
    assert r.exit_code == 0, r.stderr
    assert got and got[0].splitlines()[0] == "prediction" and fifo.is_fifo()


def test_set_tilde_is_yaml_null_as_in_a_config_file():
    r = run("fit", CONFIGS / "seed.yaml", "--set", "training.clip_norm=~", "--dry-run", "--quiet")
    assert r.exit_code == 0, r.stderr
    assert yaml.safe_load(r.stdout)["training"]["clip_norm"] is None


def test_dry_run_checks_what_fit_checks_before_training(tmp_path, monkeypatch):
    """--dry-run fails where fit would fail before training: an unusable device, a run folder
    that is a file."""
    import nettrain.backend

    monkeypatch.setattr(nettrain.backend, "gpu_problem", lambda index=0: "no CUDA GPU found")
    assert_error(run("fit", CONFIGS / "seed.yaml", "--device", "gpu", "--dry-run"), "no CUDA GPU found")
    blocker = tmp_path / "afile"
    blocker.write_text("")
    assert_error(run("fit", CONFIGS / "seed.yaml", "-o", blocker, "--dry-run"), "is a file")
    assert blocker.read_text() == ""


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_gradcheck_tolerances_must_be_finite(value):
    r = run("gradcheck", CONFIGS / "seed.yaml", "--rtol", value)
    assert r.exit_code == 2 and "not a finite number" in r.stderr


def test_fit_output_must_not_be_empty(tmp_path):
    assert_error(run("fit", CONFIGS / "seed.yaml", "-o", ""), "--output is empty")


@pytest.mark.parametrize("command", ["fit", "gradcheck"])
def test_a_model_or_run_folder_given_as_the_config_is_named_so(command, digits_run, tmp_path):
    """`nettrain gradcheck runs/digits/model.npz` said the config was "not UTF-8 text (invalid
    continuation byte at byte 15)"; the message names a model file, and the run's config.yaml."""
    config = str(digits_run / "config.yaml")
    assert_error(run(command, digits_run / "model.npz"), "is a model file (an .npz archive)", config)
    assert_error(run(command, digits_run), "is a directory, not a file", config)
    shutil.copy(digits_run / "model.npz", tmp_path / "m.npz")  # alone: no config to name
    r = run(command, tmp_path / "m.npz")
    assert_error(r, "is a model file (an .npz archive), not a YAML config")
    assert "config.yaml" not in r.stderr


def test_predict_output_must_not_be_empty(digits_run):
    """`predict -o ''` read and predicted every row, then said "cannot write '.': it is a folder"."""
    assert_error(run("predict", digits_run, DATA / "digits_test.csv", "-o", ""), "--output is empty")
    assert_error(run("predict", digits_run, DATA / "digits_test.csv", "-o", " "), "--output is empty")


def test_info_on_a_checkpoint_shows_its_epoch_and_losses(tmp_path):
    out = tmp_path / "run"
    r = run(
        "fit",
        CONFIGS / "xor.yaml",
        "-o",
        out,
        "-q",
        "--set",
        "training.epochs=3",
        "--set",
        "training.checkpoint_every=2",
    )
    assert r.exit_code == 0, r.stderr
    r = run("info", out / "checkpoint-2.npz", "--json")
    assert r.exit_code == 0, r.stderr
    training = json.loads(r.stdout)["training"]
    assert training["epochs"] == 2 and training["checkpoint"] is True and "loss" in training


@pytest.mark.parametrize("override", ["training.epochs=", "output="])
def test_an_empty_set_value_is_an_error_not_the_default(tmp_path, override):
    r = run("fit", CONFIGS / "xor.yaml", "-o", tmp_path / "run", "--set", override)
    assert_error(r, f"--set '{override}': the value is empty; write", "=null to ask for the default")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "config, sets, needle",
    [
        ("seed.yaml", ["training.early_stopping=true", "data.validation=0"], "needs validation data"),
        (
            "regression.yaml",
            ["training.early_stopping.monitor=val_accuracy"],
            "not measured in this regression",
        ),
        (
            "digits.yaml",
            ["training.schedule={name: plateau, monitor: val_r2}"],
            "not measured in this classification",
        ),
    ],
)
@pytest.mark.parametrize("dry", [True, False])
def test_a_monitor_the_run_will_not_measure_fails_before_training(tmp_path, config, sets, needle, dry):
    """Early stopping or plateau watching a figure the run will not have: exit 2 at once, the
    same with --dry-run (it failed only after epoch 1, and --dry-run passed it)."""
    args = ["fit", CONFIGS / config, "-o", tmp_path / "run"]
    for s in sets:
        args += ["--set", s]
    r = run(*args, *(["--dry-run"] if dry else []))
    assert_error(r, needle)
    assert "epoch" not in r.stderr and not (tmp_path / "run").exists()


def test_names_that_look_like_rich_markup_are_printed_as_written(tmp_path):
    """File names, feature names and class labels are data: '[/]' must not crash a table and
    '[bold]a' must not lose its brackets."""
    rng = np.random.default_rng(0)
    rows = [(f"{x:.3f}", f"{rng.normal():.3f}", "[/]yes" if x > 0 else "[b]no") for x in rng.normal(size=80)]
    data = tmp_path / "[bold]pets.csv"
    with open(data, "w", newline="") as f:
        csv.writer(f).writerows([("[bold]a", "b", "kind"), *rows])
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "data": {"train": data.name, "target": "kind"},
                "network": {"layers": [2, 4, 2], "activation": "tanh"},
                "cost": "cross_entropy",
                "training": {"learning_rate": 0.3, "epochs": 5},
                "output": "run",
            }
        )
    )
    assert run("fit", cfg, "-q").exit_code == 0
    r = run("evaluate", tmp_path / "run", data)
    assert r.exit_code == 0, r.stderr
    assert "[bold]pets.csv" in r.stdout and "[/]yes" in r.stdout and "[b]no" in r.stdout
    r = run("info", tmp_path / "run")
    assert r.exit_code == 0, r.stderr
    assert "[bold]a" in r.stdout and "[/]yes" in r.stdout


def test_the_live_table_keeps_the_first_epochs_and_the_latest():
    """A long run's terminal table showed only its last 12 epochs: the first ones, where most
    of the learning is seen, never reached the scrollback."""
    from rich.console import Console

    from nettrain.report import RichReporter

    reporter = RichReporter(io.StringIO())
    reporter.info = {"epochs": 30}
    for e in range(1, 31):
        reporter.rows.append(
            {"epoch": e, "loss": 1 / e, "lr": 0.1, "samples_per_s": 1e5, "elapsed": e, "eta": 30 - e}
        )
    console = Console(file=io.StringIO(), width=120, color_system=None)
    console.print(reporter._render())
    lines = [line.split()[0] for line in console.file.getvalue().splitlines()[1:] if line.strip()]
    assert lines == ["1/30", "2/30", "3/30", "...", *[f"{e}/30" for e in range(22, 31)]]


def test_the_summary_line_after_a_resume_and_a_loss_curve_over_decades():
    from nettrain.report import sparkline, summary_line

    losses = [10.0, 1.0, 0.1, 0.01]
    assert sparkline(losses) == "█▂▁▁"  # a linear scale: the first epoch flattens the rest
    assert sparkline(losses, log=True) == "█▆▃▁"  # each decade a step
    assert sparkline([-1.0, 0.0, 1.0], log=True) == "▁▅█"  # not all positive: linear
    end = {
        "summary": {"epochs": 30, "train_time_s": 2.0, "loss": 0.0123456, "val_loss": 0.0234567},
        "history": [{"loss": v} for v in losses],
        "first_epoch": 21,
    }
    line = summary_line(end)
    assert line.startswith("done: epochs 21-30 (resumed) in 2.0s  loss 0.0123456  val loss 0.0234567")
    assert "█▆▃▁" in line


def test_predict_keeps_id_columns_as_written(pets, tmp_path):
    rows = read_csv((pets / "pets.csv").read_text())
    with open(tmp_path / "in.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["pet_id", "weight", "height", "owner"])
        for i, r in enumerate(rows):
            w.writerow([f"{i:05d}", r["weight"], r["height"], f"o{i % 3}"])
    r = run("predict", pets / "run", tmp_path / "in.csv", "--keep", "pet_id", "--keep", "owner", "--proba")
    assert r.exit_code == 0, r.stderr
    out = read_csv(r.stdout)
    assert list(out[0]) == ["pet_id", "owner", "prediction", "prob_cat", "prob_dog"]
    assert [o["pet_id"] for o in out] == [f"{i:05d}" for i in range(len(rows))]  # '00000' stays
    plain = read_csv(run("predict", pets / "run", tmp_path / "in.csv").stdout)
    assert [o["prediction"] for o in out] == [p["prediction"] for p in plain]
    r = run("predict", pets / "run", tmp_path / "in.csv", "--keep", "pet_id", "-f", "jsonl")
    assert json.loads(r.stdout.splitlines()[0]) == {"pet_id": "00000", "prediction": plain[0]["prediction"]}
    assert_error(
        run("predict", pets / "run", tmp_path / "in.csv", "--keep", "pet"), "--keep 'pet'", "no such column"
    )
    assert_error(
        run("predict", pets / "run", tmp_path / "in.csv", "--keep", "pet_id", "-f", "npy"), "use --format csv"
    )


def test_keep_refuses_names_that_would_clash_and_info_names_array_data(pets, tmp_path):
    for args in (
        ["--keep", "prediction"],
        ["--keep", "weight", "--keep", "weight"],
        ["--keep", "prob_cat"],
        ["--keep", "prediction_0"],
    ):
        assert_error(
            run("predict", pets / "run", pets / "pets.csv", *args), "named twice, or the name of an output"
        )
    from nettrain import config_from_dict, fit
    from nettrain.data import RunData

    X = np.random.default_rng(0).normal(size=(40, 2))
    cfg = config_from_dict(
        {
            "data": {"train": "nowhere.csv", "test": 0.25},
            "network": {"layers": [2, 3, 2]},
            "cost": "cross_entropy",
            "training": {"epochs": 1},
            "output": str(tmp_path / "run"),
        }
    )
    events = []
    fit(
        cfg,
        lambda kind, info: events.append((kind, info)),
        data=RunData.from_arrays(X, (X[:, 0] > 0).astype(int), "cross_entropy"),
    )
    start = next(info for kind, info in events if kind == "start")
    assert start["n_test"] == 10 and start["n_train"] == 30
    info = " ".join(run("info", tmp_path / "run").stdout.split())
    assert "trained on arrays given to fit" in info and "nowhere.csv" not in info
    # its inputs are read by position: no column has a name to keep, not even '0'
    (tmp_path / "in.csv").write_text("0.5,1.5\n-1,2\n")
    assert_error(
        run("predict", tmp_path / "run", tmp_path / "in.csv", "--keep", "0"), "reads its inputs by position"
    )


@pytest.mark.parametrize("swallowed_as", ["nothing", "TypeError"])
def test_an_interrupt_numpy_swallows_still_interrupts_and_writes_nothing(
    digits_run, tmp_path, monkeypatch, swallowed_as
):
    """Ctrl-C inside NumPy's string operations is caught there (the run went on and wrote its
    output, exit 0) or comes out as a TypeError (an internal error): it is still exit 130."""
    import nettrain.cli as cli

    original = cli._read_inputs

    def read_then_signal(*args, **kwargs):
        table = original(*args, **kwargs)
        cli._signalled.add("SIGINT")  # what the handler records before NumPy eats the exception
        if swallowed_as == "TypeError":
            raise TypeError("result array type does not match underlying function")
        return table

    monkeypatch.setattr(cli, "_read_inputs", read_then_signal)
    r = run("predict", digits_run, DATA / "digits_test.csv", "-o", tmp_path / "p.csv")
    assert r.exit_code == 130 and "Interrupted." in r.stderr and "internal error" not in r.stderr
    assert not (tmp_path / "p.csv").exists()


def test_a_line_break_in_a_run_folders_name_stays_on_one_line(tmp_path):
    out = tmp_path / "a\nb"
    r = run("fit", CONFIGS / "xor.yaml", "-o", out, "--set", "training.epochs=5")
    assert r.exit_code == 0, r.stderr
    assert [line for line in r.stderr.splitlines() if line.startswith("done:")][0].endswith("a\\nb/model.npz")
    assert "a\\nb" in run("info", out).stdout.splitlines()[0]


def test_gradcheck_batch_must_be_at_least_one():
    r = run("gradcheck", CONFIGS / "seed.yaml", "--batch", "0")
    assert r.exit_code == 2 and "Invalid value for '--batch'" in r.stderr and r.stdout == ""


def test_an_error_message_with_a_line_break_stays_on_one_line(tmp_path):
    r = run("info", tmp_path / "a\nb.npz")
    assert_error(r, "a\\nb.npz", "not found")
    assert r.stderr.count("\n") == 1


def test_running_out_of_memory_is_one_error_line(tmp_path, monkeypatch):
    import nettrain.config

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(nettrain.config, "load_config", no_memory)
    assert_error(run("fit", CONFIGS / "xor.yaml", "-o", tmp_path / "run"), "out of memory")


def test_evaluate_needs_a_model_that_records_its_target(pets, tmp_path):
    from nettrain import load_model, save_model

    model = load_model(pets / "run")
    model.encoding.target = None
    save_model(tmp_path / "m.npz", model)
    assert_error(run("evaluate", tmp_path / "m.npz", pets / "pets.csv"), "does not record its target column")
    assert run("predict", tmp_path / "m.npz", pets / "pets.csv").exit_code == 0  # predict needs none


COMMANDS_WITH_ARGUMENTS = ["fit", "predict", "evaluate", "cv", "gradcheck", "trace", "info", "plot", "export"]


@pytest.mark.parametrize("command", COMMANDS_WITH_ARGUMENTS)
def test_usage_lines_name_arguments_as_unix_tools_do(command):
    """`Usage: nettrain fit [OPTIONS] CONFIG`: typer 0.28 wrote `{CONFIG}`, braces that in a usage
    line read as a choice; the line also heads every usage error."""
    r = run(command, "--help")
    assert r.exit_code == 0, r.stderr
    usage = r.stdout.splitlines()[0]
    assert usage.startswith(f"Usage: nettrain {command} [OPTIONS] ") and "{" not in usage, usage
    error = run(command, "--no-such-option").stderr.splitlines()[0]
    assert error == usage


@pytest.mark.parametrize("weighted", [True, False])
def test_both_reporters_say_that_test_scores_are_weighted(weighted):
    pytest.importorskip("rich")
    from nettrain.report import PlainReporter, RichReporter

    info = {"loss": 0.25, "accuracy": 0.75, **({"weighted": True} if weighted else {})}
    for make in (PlainReporter, RichReporter):
        err = io.StringIO()
        reporter = make(err=err)
        reporter.on_test(info)
        reporter.close()
        assert ("test (weighted): loss 0.25" in err.getvalue()) is weighted, (make, err.getvalue())
        assert "loss 0.25" in err.getvalue()
