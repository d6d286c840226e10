"""fit --warm-start MODEL: a new run whose initial weights are a trained model's, its data
encoded with the model's encoding; the config's network must be the model's; the run records
where it started; resume of such a run; --warm-start with --resume refused."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from nettrain import ConfigError, DataError, RunData, fit, load_config, load_model, read_table
from nettrain.cli import resume_argv
from nettrain.errors import Interrupted
from nettrain.modelfile import save_model, weights_sha256
from tests.conftest import CONFIGS, DATA
from tests.helpers import animals, assert_error, nettrain, ok, run, same_weights, write_config, write_rows

DIGITS = CONFIGS / "digits.yaml"


def fitted(*args):
    """A successful, quiet `nettrain fit ARGS`."""
    return ok(run("fit", *args, "-q"))


def digits_rows(part: str) -> tuple[list[str], list[list[str]]]:
    """The header and rows of data/digits_train.csv: its first or its second half."""
    lines = (DATA / "digits_train.csv").read_text().splitlines()
    header, rows = lines[0].split(","), [line.split(",") for line in lines[1:]]
    half = len(rows) // 2
    return header, rows[:half] if part == "first" else rows[half:]


# -- the initial weights are the model's ---------------------------------------------------------


def test_the_first_step_starts_from_the_models_exact_weights(digits_run, tmp_path):
    # a stop asked for at the first step checkpoints the state before it: the initial weights
    config = load_config(DIGITS, [f"output={tmp_path / 'warm'}"])
    with pytest.raises(Interrupted) as stopped:
        fit(config, warm_start=digits_run, stop=lambda: "SIGINT")
    start, source = load_model(stopped.value.checkpoint), load_model(digits_run)
    assert stopped.value.checkpoint.endswith("checkpoint-0.npz")
    assert same_weights(start, source)
    fresh_dir = tmp_path / "fresh"
    with pytest.raises(Interrupted) as fresh:
        fit(load_config(DIGITS, [f"output={fresh_dir}"]), stop=lambda: "SIGINT")
    assert not same_weights(load_model(fresh.value.checkpoint), source)  # (the check can fail)
    # so the run before any training predicts what the model predicts, on any data
    table = read_table(DATA / "digits_test.csv", "label")
    assert np.array_equal(start.predict(table), source.predict(table))


def test_the_first_epochs_loss_is_the_models_cost_on_the_new_data(digits_run, tmp_path):
    # one batch of all the rows: the first epoch's loss is the cost before any step, which
    # evaluate measures independently as the log loss of the model on those rows
    test = DATA / "digits_test.csv"
    args = ["--set", f"data.train={test}", "--set", "data.test=null", "--set", "data.validation=0"]
    args += ["--set", "training.batch_size=1000", "--set", "training.epochs=1", "-q"]
    ok(run("fit", DIGITS, *args, "--warm-start", digits_run, "-o", tmp_path / "warm"))
    first = json.loads((tmp_path / "warm" / "history.jsonl").read_text().splitlines()[0])
    report = load_model(digits_run).evaluate(read_table(test, "label"))
    assert first["loss"] == pytest.approx(report["log_loss"], rel=1e-5)
    ok(run("fit", DIGITS, *args, "-o", tmp_path / "fresh"))
    fresh = json.loads((tmp_path / "fresh" / "history.jsonl").read_text().splitlines()[0])
    assert fresh["loss"] > 3 * first["loss"]  # (ln 10 = 2.3 from fresh weights)


# -- the data is encoded with the model's encoding -------------------------------------------------


def regression_csv(path: Path, shift: float, scale: float, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(120, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.1 * rng.normal(size=120)
    rows = [[f"{v:.6f}" for v in (*x * scale + shift, t * scale + shift)] for x, t in zip(X, y)]
    return write_rows(path, ["a", "b", "c", "y"], rows)


def test_the_new_data_is_encoded_with_the_models_statistics(tmp_path):
    a = regression_csv(tmp_path / "a.csv", 0.0, 1.0, seed=0)
    b = regression_csv(tmp_path / "b.csv", 10.0, 3.0, seed=1)  # other column means and scales
    config = write_config(tmp_path / "c.yaml", a, [3, 8, 1], cost="mse", target="y")
    fitted(config, "-o", tmp_path / "A")
    # (B's rows are far out for A's statistics: a gentle learning rate)
    on_b = ["--set", f"data.train={b}", "--set", "training.learning_rate=0.001", "--set", "training.epochs=2"]
    warm = ok(run("fit", config, *on_b, "--warm-start", tmp_path / "A", "-o", tmp_path / "B"))
    # (a note says how far out: every column of B has moved by about 10 of A's standard deviations)
    assert "has shifted: its mean lies" in warm.stderr
    fitted(config, *on_b, "-o", tmp_path / "fresh")
    A, B, fresh = (load_model(tmp_path / name).encoding for name in ("A", "B", "fresh"))
    for key in ("x_mean", "x_scale", "y_mean", "y_scale"):
        assert np.array_equal(getattr(B, key), getattr(A, key)), key
        assert not np.allclose(getattr(fresh, key), getattr(A, key)), key  # B's own statistics differ
    assert B.to_dict() == A.to_dict()


def animals_run(tmp_path: Path) -> tuple[Path, Path]:
    """A model trained on the animals table (yes/no, a categorical colour) and its config."""
    header, rows = animals(120)
    train = write_rows(tmp_path / "animals.csv", header, rows)
    config = write_config(tmp_path / "animals.yaml", train, ["auto", 6, "auto"], target="label")
    fitted(config, "-o", tmp_path / "A")
    return config, tmp_path / "A"


def test_a_class_the_model_does_not_know_is_an_error_naming_it(tmp_path):
    config, model = animals_run(tmp_path)
    header, rows = animals(30, seed=1)
    rows[6][-1] = "maybe"
    new = write_rows(tmp_path / "new.csv", header, rows)
    out = tmp_path / "B"
    result = run("fit", config, "--set", f"data.train={new}", "--warm-start", model, "-o", out)
    assert_error(result, "new.csv:8", "class 'maybe'", "model's classes (no, yes)")
    assert not out.exists()


def test_a_category_the_model_never_saw_is_an_error_naming_it(tmp_path):
    config, model = animals_run(tmp_path)
    header, rows = animals(30, seed=1)
    rows[3][1] = "purple"
    new = write_rows(tmp_path / "new.csv", header, rows)
    result = run("fit", config, "--set", f"data.train={new}", "--warm-start", model, "-o", tmp_path / "B")
    assert_error(result, "new.csv:5", "column 'color'", "'purple'", "the model never saw", "blue, green, red")


def test_unknown_ignore_encodes_a_category_the_model_never_saw_as_zeros_with_a_note(tmp_path):
    config, model = animals_run(tmp_path)
    header, rows = animals(30, seed=1)
    rows[3][1] = rows[9][1] = "purple"
    rows[4][1] = "pink"
    new = write_rows(tmp_path / "new.csv", header, rows)
    args = ("fit", config, "--set", f"data.train={new}", "--warm-start", model)
    result = ok(run(*args, "--unknown", "ignore", "-o", tmp_path / "B"))
    note = next(line for line in result.stderr.splitlines() if "never saw" in line)
    assert "column 'color' holds 'pink' in 1 row(s); column 'color' holds 'purple' in 2 row(s)" in note
    assert "encoded as all zeros (--unknown ignore)" in note
    assert "fit: 30 training rows" in result.stderr  # (none left out)
    B = load_model(tmp_path / "B")
    assert B.encoding.to_dict() == load_model(model).encoding.to_dict()  # (no new category)
    # the model's config.yaml says what repeats the run, and the printed resume command keeps it
    assert (
        (tmp_path / "B" / "config.yaml")
        .read_text()
        .splitlines()[1]
        .endswith("repeat with --warm-start that model and --unknown ignore")
    )
    got = resume_argv(["fit", "/c.yaml", "--warm-start", "/m", "--unknown", "ignore"], "/r/checkpoint-3.npz")
    assert got == ["fit", "/c.yaml", "--unknown", "ignore", "--resume", "/r/checkpoint-3.npz"]
    # error, the default, stops as before, and says what else can be done
    assert_error(run(*args, "-o", tmp_path / "C"), "'purple'", "--unknown ignore")
    assert_error(run(*args, "--unknown", "skip", "-o", tmp_path / "C"), "--unknown 'skip'")


def test_a_run_started_with_unknown_ignore_resumes_with_it_unless_told_otherwise(tmp_path):
    # `fit --resume RUN` alone continues the run as it was started: its data, read with the
    # model's encoding again, holds the category that --unknown ignore let in
    config, model = animals_run(tmp_path)
    header, rows = animals(30, seed=1)
    rows[3][1] = "purple"
    new = write_rows(tmp_path / "new.csv", header, rows)
    args = ("--set", f"data.train={new}", "--set", "training.checkpoint_every=1")
    fitted(config, *args, "--warm-start", model, "--unknown", "ignore", "-o", tmp_path / "B")
    more = ("--set", "training.epochs=17")  # (write_config's runs train 15)
    resumed = ok(run("fit", "--resume", tmp_path / "B", *more, "--json", "-q"))
    notes = [json.loads(line) for line in resumed.stdout.splitlines()]
    assert any("(--unknown ignore)" in e.get("message", "") for e in notes if e["event"] == "note")
    assert load_model(tmp_path / "B").meta["warm_start"]["unknown"] == "ignore"
    # an explicit --unknown error still refuses it
    assert_error(
        run("fit", "--resume", tmp_path / "B", "--set", "training.epochs=18", "--unknown", "error"),
        "'purple'",
    )


def test_a_resume_that_takes_unknown_ignore_records_it(tmp_path):
    # started on data the model knows, resumed (--force: other data) with --unknown ignore: the
    # model says so, so that its config.yaml's repeat line and a later resume have it too
    config, model = animals_run(tmp_path)
    header, rows = animals(30, seed=1)
    clean = write_rows(tmp_path / "clean.csv", header, rows)
    rows[3][1] = "purple"
    new = write_rows(tmp_path / "new.csv", header, rows)
    fitted(
        config,
        "--set",
        f"data.train={clean}",
        "--set",
        "training.checkpoint_every=1",
        "--warm-start",
        model,
        "-o",
        tmp_path / "B",
    )
    assert "unknown" not in load_model(tmp_path / "B").meta["warm_start"]
    more = ("--set", f"data.train={new}", "--set", "training.epochs=17", "--force", "--unknown", "ignore")
    fitted("--resume", tmp_path / "B", *more)
    assert load_model(tmp_path / "B").meta["warm_start"]["unknown"] == "ignore"
    assert (tmp_path / "B" / "config.yaml").read_text().splitlines()[1].endswith("and --unknown ignore")


def test_unknown_ignore_without_a_warm_start_is_refused(tmp_path):
    # a fresh fit fits its categories on its own training data: none is unknown
    config, model = animals_run(tmp_path)
    result = run("fit", config, "--unknown", "ignore", "-o", tmp_path / "B")
    assert_error(result, "--unknown ignore", "none is unknown", "would do nothing")
    assert not (tmp_path / "B").exists()
    assert_error(run("fit", config, "--unknown", "ignore", "--dry-run"), "would do nothing")
    # nor with --resume of a run that fitted its own encoding
    fitted(config, "--set", "training.checkpoint_every=1", "-o", tmp_path / "C")
    assert_error(run("fit", "--resume", tmp_path / "C", "--unknown", "ignore"), "would do nothing")


def test_classes_of_the_model_absent_from_the_new_data_are_kept(tmp_path):
    config, model = animals_run(tmp_path)
    header, rows = animals(60, seed=2)
    yes_only = write_rows(tmp_path / "yes.csv", header, [r for r in rows if r[-1] == "yes"])
    result = ok(
        run("fit", config, "--set", f"data.train={yes_only}", "--warm-start", model, "-o", tmp_path / "B")
    )
    assert load_model(tmp_path / "B").encoding.classes == ["no", "yes"]
    # (kept, but trained away from: a note says so, for a nightly job whose batch lacks a class)
    assert "Note: the training data holds no rows of class(es) no (of the model's 2)" in result.stderr
    both = ok(run("fit", config, "--set", f"data.train={tmp_path / 'animals.csv'}", "--warm-start", model))
    assert "holds no rows of class" not in both.stderr


def test_a_shifted_column_and_one_that_hardly_varied_get_notes_that_tell_them_apart(tmp_path):
    header = ["a", "b", "y"]
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 2))
    a = write_rows(tmp_path / "a.csv", header, [[x0, 0.01 * x1, x0 + x1] for x0, x1 in X])
    config = write_config(tmp_path / "c.yaml", a, [2, 4, 1], cost="mse", target="y")
    fitted(config, "-o", tmp_path / "A")
    # 'a' moved by 40 standard deviations (as a sensor's new units would): the bulk, not a few rows
    shifted = write_rows(tmp_path / "s.csv", header, [[x0 + 40, 0.01 * x1, x0 + x1] for x0, x1 in X])
    # 'b' hardly varied in A (a scale of 0.01) and varies now, around the same mean
    wider = write_rows(tmp_path / "w.csv", header, [[x0, x1, x0 + x1] for x0, x1 in X])
    notes = {}
    for name, data in (("shifted", shifted), ("wider", wider)):
        result = ok(
            run(
                "fit",
                config,
                "--set",
                f"data.train={data}",
                "--set",
                "training={epochs: 1, learning_rate: 0.0001}",
                "--warm-start",
                tmp_path / "A",
                "-o",
                tmp_path / name,
            )
        )
        notes[name] = [line for line in result.stderr.splitlines() if "standard deviations" in line]
    assert len(notes["shifted"]) == 1 and "'a' has shifted: its mean lies 4" in notes["shifted"][0]
    assert "drift, or other units?" in notes["shifted"][0]
    assert len(notes["wider"]) == 1 and "'b' reaches" in notes["wider"][0]
    assert "of its 100 rows lie beyond the range of the model's 100 rows" in notes["wider"][0]
    assert "a column the model's data hardly varied in?" in notes["wider"][0]


def test_the_models_own_training_data_is_not_far_out(digits_run, tmp_path):
    # 'pixel_2_0' is 0 in all but one of the model's 1211 training rows: that value lies
    # sqrt(1210) = 34.8 standard deviations out in the model's own data, which is no news
    result = ok(
        run("fit", DIGITS, "--set", "training.epochs=1", "--warm-start", digits_run, "-o", tmp_path / "B")
    )
    assert "standard deviations" not in result.stderr


def one_among_zeros(path: Path, lone: float, n: int = 150) -> Path:
    """n rows whose 'b' is 0 but for one row's ``lone``, next to a varying 'a' and a target."""
    rng = np.random.default_rng(0)
    rows = [[f"{rng.normal():.4f}", lone if i == 7 else 0, i % 2] for i in range(n)]
    return write_rows(path, ["a", "b", "y"], rows)


def as_older_model(model: Path, path: Path) -> Path:
    """The model re-saved without its training range (x_min, x_max), as an older nettrain wrote
    it."""
    m = load_model(model)
    m.encoding.x_min = m.encoding.x_max = None
    save_model(path, m)
    return path


def test_the_next_days_rows_of_the_same_digits_get_no_note(tmp_path):
    """A nightly warm start on another day of the same distribution: the first half of the
    digits' rows, then the second. 'pixel_5_0' is 0 in all but one of the model's rows (a scale
    of 0.04) and the second half holds a 4, 98.6 of those standard deviations out: a few rows
    beyond a nearly constant column's range are what any new sample of it holds."""
    header, first = digits_rows("first")
    _, second = digits_rows("second")
    monday = write_rows(tmp_path / "monday.csv", header, first)
    tuesday = write_rows(tmp_path / "tuesday.csv", header, second)
    fitted(DIGITS, "--set", f"data.train={monday}", "--set", "training.epochs=2", "-o", tmp_path / "A")
    assert load_model(tmp_path / "A").encoding.x_max[header.index("pixel_5_0")] == 1.0
    args = ("--set", f"data.train={tuesday}", "--set", "training.epochs=1", "-o", tmp_path / "B")
    result = ok(run("fit", DIGITS, *args, "--warm-start", tmp_path / "A"))
    assert "standard deviations" not in result.stderr
    # the same model without its range (an older nettrain's) is held to sqrt(n - 1), and notes it
    older = as_older_model(tmp_path / "A" / "model.npz", tmp_path / "older.npz")
    result = ok(run("fit", DIGITS, *args, "--warm-start", older))
    assert "'pixel_5_0' reaches 98.6 standard deviations" in result.stderr


def test_many_rows_beyond_the_models_range_get_the_note_a_few_do_not(tmp_path):
    """'b' is 0 but for one 1 in the model's 150 rows (a scale of 0.08): one 1.01 in the new rows
    (12.3 standard deviations out) is one row beyond the model's range, as rows drawn like the
    model's put about 150/151 there; 30 of 300 new rows are not (the chance of 30 or more is
    3e-6, under the 2.5e-4 that DRIFT_P allows each of the 2 inputs at each end)."""
    config = write_config(tmp_path / "c.yaml", one_among_zeros(tmp_path / "a.csv", 1), [2, 4, 2], target="y")
    fitted(config, "-o", tmp_path / "A")
    gentle = ["--set", "training={epochs: 1, learning_rate: 0.0001}"]

    def notes(data: Path) -> list[str]:
        args = ("fit", config, "--set", f"data.train={data}", *gentle, "--warm-start", tmp_path / "A")
        result = ok(run(*args, "-o", tmp_path / "B"))
        return [line for line in result.stderr.splitlines() if "standard deviations" in line]

    assert notes(one_among_zeros(tmp_path / "one.csv", 1.01)) == []
    rng = np.random.default_rng(1)
    rows = [[f"{rng.normal():.4f}", 1.01 if i % 10 == 7 else 0, i % 2] for i in range(300)]
    (note,) = notes(write_rows(tmp_path / "many.csv", ["a", "b", "y"], rows))
    assert "'b' reaches 12.3 standard deviations from the model's mean, and 30 of its 300 rows" in note
    assert "beyond the range of the model's 150 rows, where rows drawn like the model's would put" in note
    assert "would put about 2 (1 input(s) so)" in note
    # (the chance bound itself: that the k greatest of n_model + n_new rows are all new ones)
    from nettrain.data import _log_p_beyond

    assert math.exp(_log_p_beyond(1, 300, 150)) == pytest.approx(300 / 450)
    assert math.exp(_log_p_beyond(2, 3, 2)) == pytest.approx(3 * 2 / (5 * 4))


def test_a_value_beyond_the_furthest_the_models_rows_could_lie_gets_the_note(tmp_path):
    # a model that does not record its training range (an older nettrain's): in n values
    # (population standard deviation) none lies more than sqrt(n - 1) from their mean, and a
    # lone 1 among zeros lies just that far: sqrt(149) = 12.2 for the model's 150 rows
    config = write_config(tmp_path / "c.yaml", one_among_zeros(tmp_path / "a.csv", 1), [2, 4, 2], target="y")
    fitted(config, "--set", "training.checkpoint_every=15", "-o", tmp_path / "A")
    older = as_older_model(tmp_path / "A" / "model.npz", tmp_path / "older.npz")
    gentle = ["--set", "training={epochs: 1, learning_rate: 0.0001}"]

    def notes(data: Path, model=older) -> list[str]:
        args = ("fit", config, "--set", f"data.train={data}", *gentle, "--warm-start", model)
        result = ok(run(*args, "-o", tmp_path / "B"))
        return [line for line in result.stderr.splitlines() if "standard deviations" in line]

    assert notes(tmp_path / "a.csv") == []  # the model's own rows
    assert notes(tmp_path / "a.csv", model=tmp_path / "A" / "checkpoint-15.npz") == []  # (a checkpoint's too)
    # 1.01 in place of the 1: (1.01 * 150 - 1) / sqrt(149) = 12.3, further than any of its rows
    (far,) = notes(one_among_zeros(tmp_path / "far.csv", 1.01))
    assert "'b' reaches 12.3 standard deviations" in far
    assert "pass 12.2, the furthest a value of the model's 150 rows can lie" in far
    # a warm-started model's encoding is its source's: so is the count it records, and passes on
    b = load_model(tmp_path / "B").meta["warm_start"]
    assert b["encoding_n_train"] == 150
    ok(run("fit", config, *gentle, "--set", f"data.train={tmp_path / 'far.csv'}", "-o", tmp_path / "C"))
    assert notes(tmp_path / "a.csv", model=tmp_path / "B") == []


def test_a_column_constant_in_the_models_data_is_held_to_the_plain_threshold(tmp_path):
    # 'b' is 0 in every one of the model's 150 rows: its scale is 1, not a spread, so sqrt(149) =
    # 12.2 bounds nothing there, and a 11 (11 of its own units out) is a value it never held
    config = write_config(tmp_path / "c.yaml", one_among_zeros(tmp_path / "a.csv", 0), [2, 4, 2], target="y")
    fitted(config, "-o", tmp_path / "A")
    assert load_model(tmp_path / "A").encoding.x_scale[1] == 1.0
    older = as_older_model(tmp_path / "A" / "model.npz", tmp_path / "older.npz")
    args = ("--set", f"data.train={one_among_zeros(tmp_path / 'new.csv', 11)}", "--set", "training.epochs=1")
    result = ok(run("fit", config, *args, "--warm-start", older, "-o", tmp_path / "B"))
    (note,) = [line for line in result.stderr.splitlines() if "standard deviations" in line]
    assert "'b' reaches 11 standard deviations" in note and "pass 10)" in note
    # a model that records its range counts the rows beyond it: one is what chance gives
    result = ok(run("fit", config, *args, "--warm-start", tmp_path / "A", "-o", tmp_path / "B"))
    assert "standard deviations" not in result.stderr


def test_a_model_that_does_not_say_how_many_rows_it_had_keeps_the_plain_threshold(tmp_path):
    config = write_config(tmp_path / "c.yaml", one_among_zeros(tmp_path / "a.csv", 1), [2, 4, 2], target="y")
    fitted(config, "-o", tmp_path / "A")
    model = load_model(tmp_path / "A")
    del model.meta["training"]["n_train"]  # (as an older nettrain's model)
    events = []
    fit(
        load_config(config, [f"output={tmp_path / 'B'}", "training.epochs=1"]),
        warm_start=model,
        on_event=lambda kind, e: events.append((kind, e)),
        save=False,
    )
    notes = [e["message"] for kind, e in events if kind == "notice" and "standard deviations" in e["message"]]
    assert len(notes) == 1 and "'b' reaches 12.2" in notes[0] and "pass 10)" in notes[0]


def test_the_notes_are_json_events_too(tmp_path):
    # a pipeline runs fit with --json and --quiet: the notes (drift, an absent class) reach it
    config, model = animals_run(tmp_path)
    header, rows = animals(60, seed=2)
    yes_only = write_rows(tmp_path / "yes.csv", header, [r for r in rows if r[-1] == "yes"])
    args = ("fit", config, "--set", f"data.train={yes_only}", "--warm-start", model, "-o", tmp_path / "B")
    result = ok(run(*args, "--json", "-q"))
    assert result.stderr == ""
    events = [json.loads(line) for line in result.stdout.splitlines()]
    notes = [e["message"] for e in events if e["event"] == "note"]
    assert any(n.startswith("the training data holds no rows of class(es) no") for n in notes), notes
    assert any(n.startswith("warm start from ") for n in notes), notes
    assert events[-1]["event"] == "summary"
    # the same notes as the human lines, word for word
    human = ok(run(*args, "-o", tmp_path / "C"))
    shown = [line.removeprefix("Note: ") for line in human.stderr.splitlines() if line.startswith("Note: ")]
    assert [n.replace(str(tmp_path / "B"), str(tmp_path / "C")) for n in notes] == shown


# -- the config's network must be the model's ------------------------------------------------------


@pytest.mark.parametrize(
    "override, needles",
    [
        ("network.layers=[64, 32, 10]", ["network.layers [64, 32, 10]", "has [64, 128, 64, 10]"]),
        ("network.activation=tanh", ['network.activation ["tanh", "tanh"]', 'has ["relu", "relu"]']),
        ("cost=binary_cross_entropy", ["cost 'binary_cross_entropy'", "has 'cross_entropy'"]),
        ("network.output_bias=false", ["network.output_bias false", "has true"]),
        ("data.standardize=false", ["data.standardize false", "was trained with true"]),
        ("data.target=pixel_0_0", ["data.target 'pixel_0_0'", "was trained with 'label'"]),
    ],
)
def test_a_config_that_differs_from_the_model_is_one_error_naming_the_difference(
    digits_run, tmp_path, override, needles
):
    out = tmp_path / "B"
    result = run("fit", DIGITS, "--set", override, "--warm-start", digits_run, "-o", out)
    line = assert_error(result, *needles, str(digits_run / "model.npz"))
    assert line.startswith(f"Error: --set {override}: ")  # (where the value came from)
    assert not out.exists()
    # --dry-run makes the same checks
    assert_error(run("fit", DIGITS, "--set", override, "--warm-start", digits_run, "--dry-run"), *needles)


def test_standardize_inputs_is_true_for_a_classifier_and_not_for_a_regression(
    digits_run, regression_run, tmp_path
):
    """A class target is never scaled: a classifier trained under true warm-starts under inputs
    (the same encoding); a regression model's target was scaled under true, not under inputs."""
    ok(run("fit", DIGITS, "--set", "data.standardize=inputs", "--warm-start", digits_run, "--dry-run"))
    result = run(
        "fit",
        CONFIGS / "regression.yaml",
        "--set",
        "data.standardize=inputs",
        "--warm-start",
        regression_run,
        "--dry-run",
    )
    assert_error(result, "data.standardize 'inputs'", "was trained with true")


def test_layers_left_to_the_data_are_the_models(digits_run, tmp_path):
    layers = "network.layers=[auto, 128, 64, auto]"
    result = ok(run("fit", DIGITS, "--set", layers, "--warm-start", digits_run, "--dry-run"))
    assert "layers: [64, 128, 64, 10]" in result.stdout
    assert f"warm start: {digits_run / 'model.npz'} (weights sha256 " in result.stderr


def test_a_bad_model_is_an_error(tmp_path):
    missing = run("fit", DIGITS, "--warm-start", tmp_path / "none", "--dry-run")
    assert_error(missing, "--warm-start", "not found")
    not_a_model = run("fit", DIGITS, "--warm-start", DIGITS, "-o", tmp_path / "B")
    assert_error(not_a_model, "--warm-start", "not a nettrain model")


# -- what the run records ---------------------------------------------------------------------------


def test_info_follows_a_chain_of_warm_starts_back_to_fresh_weights(tmp_path):
    """C began from B, B from A, A from fresh weights: info of C names all three, checking that
    each file still holds the weights its successor recorded; the chain stops, saying why, at a
    model that is gone or was replaced."""
    config = write_config(tmp_path / "c.yaml", one_among_zeros(tmp_path / "a.csv", 1), [2, 4, 2], target="y")
    quick = ("--set", "training.epochs=1")
    fitted(config, *quick, "-o", tmp_path / "A")
    fitted(config, *quick, "--warm-start", tmp_path / "A", "-o", tmp_path / "B")
    fitted(config, *quick, "--warm-start", tmp_path / "B", "-o", tmp_path / "C")
    digest = {r: weights_sha256(load_model(tmp_path / r).network) for r in "AB"}
    path = {r: str(tmp_path / r / "model.npz") for r in "AB"}

    def chain(run_name="C"):
        return json.loads(ok(run("info", tmp_path / run_name, "--json")).stdout)["warm_start_chain"]

    def lines(run_name="C"):
        out = ok(run("info", tmp_path / run_name)).stdout.splitlines()
        start = next(i for i, line in enumerate(out) if line.startswith("warm start"))
        return [line.split(None, 2)[-1] if k == 0 else line.strip() for k, line in enumerate(out[start:])][:3]

    assert chain() == [
        {"path": path["B"], "weights_sha256": digest["B"], "status": "found"},
        {"path": path["A"], "weights_sha256": digest["A"], "status": "found"},
    ]
    assert lines() == [
        f"from {path['B']} (weights sha256 {digest['B']})",
        f"which began from {path['A']} (weights sha256 {digest['A']})",
        "which began from fresh weights",
    ]
    assert chain("A") == [] and chain("B")[-1]["status"] == "found" and len(chain("B")) == 1
    # A trained again in its folder (another seed): other weights there now
    fitted(config, *quick, "--set", "training.seed=5", "-o", tmp_path / "A")
    assert chain()[-1]["status"] == "replaced"
    assert lines()[2] == f"({path['A']} now holds other weights: what it began from is unknown)"
    (tmp_path / "A" / "model.npz").unlink()
    assert chain()[-1]["status"] == "missing"
    assert lines()[2] == f"({path['A']} is no longer there: what it began from is unknown)"
    # (the library's walk: a limit, and the models it read kept for the next chain)
    from nettrain.warmstart import warm_start_chain

    meta = load_model(tmp_path / "C").meta
    assert [e["status"] for e in warm_start_chain(meta, limit=0)] == ["not followed"]
    read: dict = {}
    warm_start_chain(meta, read=read)
    assert set(read) == {path["B"]}  # (A's file is gone: not read)


def test_the_warm_start_chain_stops_at_an_unreadable_file_and_at_a_path_met_before(tmp_path):
    """warm_start_chain: a recorded path whose file is not a model is 'unreadable' (not
    'missing': it is there); a model whose record leads back to a path already in the chain is
    'not followed' there, at once, not walked round to the limit."""
    from nettrain.warmstart import warm_start_chain

    junk = tmp_path / "model.npz"
    junk.write_text("not a model\n")
    meta = {"warm_start": {"path": str(junk), "weights_sha256": "ab" * 32}}
    assert [e["status"] for e in warm_start_chain(meta)] == ["unreadable"]
    # a file (as read) whose own record names itself: a loop
    loop = {"path": str(junk), "weights_sha256": "cd" * 32}
    read = {str(junk): ("cd" * 32, loop)}
    chain = warm_start_chain({"warm_start": loop}, read=read)
    assert [e["status"] for e in chain] == ["found", "not followed"]


def test_the_run_records_the_model_it_started_from(digits_run, tmp_path):
    out = tmp_path / "B"
    p = nettrain("fit", DIGITS, "--set", "training.epochs=1", "--warm-start", digits_run, "-o", out, "--json")
    assert p.returncode == 0, p.stderr
    source = load_model(digits_run)
    expected = {"path": str(digits_run / "model.npz"), "weights_sha256": weights_sha256(source.network)}
    # (and the rows its encoding was fitted on: digits_train.csv's 1347 less a tenth for validation)
    expected["encoding_n_train"] = 1211
    summary = json.loads(p.stdout.splitlines()[-1])
    assert summary["event"] == "summary" and summary["warm_start"] == expected
    assert f"Note: warm start from {digits_run / 'model.npz'}" in p.stderr
    assert load_model(out).meta["warm_start"] == expected
    info = json.loads(ok(run("info", out, "--json")).stdout)
    assert info["warm_start"] == expected
    assert info["weights_sha256"] != expected["weights_sha256"]  # (it trained)
    assert json.loads(ok(run("info", digits_run, "--json")).stdout)["warm_start"] is None
    table = ok(run("info", out)).stdout
    assert f"warm start       from {expected['path']} (weights sha256 {expected['weights_sha256']})" in table
    config_lines = (out / "config.yaml").read_text().splitlines()
    assert config_lines[1].startswith(f"# warm-started from {expected['path']} (weights sha256 ")
    # and the run's config.yaml with --warm-start repeats it
    ok(run("fit", out / "config.yaml", "--warm-start", digits_run, "-o", tmp_path / "again", "-q"))
    assert same_weights(load_model(tmp_path / "again"), load_model(out))


def test_fresh_state_from_the_config(digits_run, tmp_path):
    # a new run: its epochs count from 1 to the config's, at the config's learning rate
    out = tmp_path / "B"
    tune = ["--set", "training.epochs=2", "--set", "training.learning_rate=0.01"]
    fitted(DIGITS, *tune, "--warm-start", digits_run, "-o", out)
    history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert [(r["epoch"], r["lr"]) for r in history] == [(1, 0.01), (2, 0.01)]
    assert load_model(out).meta["training"]["epochs"] == 2


# -- resume -----------------------------------------------------------------------------------------


def test_a_warm_started_run_on_other_data_resumes_bit_identical(digits_run, tmp_path):
    header, rows = digits_rows("second")
    new = write_rows(tmp_path / "second.csv", header, rows)  # (statistics other than the model's)
    args = [DIGITS, "--set", f"data.train={new}", "--set", "training.checkpoint_every=1"]
    fitted(*args, "--set", "training.epochs=3", "--warm-start", digits_run, "-o", tmp_path / "whole")
    fitted(*args, "--set", "training.epochs=2", "--warm-start", digits_run, "-o", tmp_path / "part")
    fitted(*args, "--set", "training.epochs=3", "--resume", tmp_path / "part")
    whole, resumed = load_model(tmp_path / "whole"), load_model(tmp_path / "part")
    assert same_weights(resumed, whole)
    assert resumed.meta["warm_start"] == whole.meta["warm_start"]
    assert resumed.meta["warm_start"]["path"] == str(digits_run / "model.npz")


def test_a_warm_started_run_on_other_data_resumes_from_its_state_in_memory(digits_run, tmp_path):
    """fit(resume=RunState) of a warm-started run reads its data with the source model's encoding
    (standardization), as --resume of its checkpoint file does."""
    header, rows = digits_rows("second")
    new = write_rows(tmp_path / "second.csv", header, rows)  # (statistics other than the model's)

    def config(epochs: int):
        return load_config(DIGITS, [f"data.train={new}", f"training.epochs={epochs}", f"output={tmp_path}/x"])

    whole = fit(config(3), save=False, warm_start=digits_run)
    part = fit(config(2), save=False, warm_start=digits_run, keep_state=True)
    resumed = fit(config(3), save=False, resume=part.state)
    assert same_weights(resumed.model, whole.model)
    assert resumed.model.meta["warm_start"] == whole.model.meta["warm_start"]


def test_warm_start_and_resume_together_are_refused(digits_run, tmp_path):
    both = run("fit", DIGITS, "--warm-start", digits_run, "--resume", digits_run)
    assert_error(both, "--warm-start and --resume")
    config = load_config(DIGITS, [f"output={tmp_path / 'B'}"])
    with pytest.raises(ConfigError, match="warm start and resume"):
        fit(config, warm_start=digits_run, resume=str(digits_run))


def test_the_printed_resume_command_leaves_the_warm_start_out():
    ckpt = "/r/checkpoint-3.npz"
    got = resume_argv(["fit", "/c.yaml", "--warm-start", "/m", "--warm-start=/m", "-q"], ckpt)
    assert got == ["fit", "/c.yaml", "-q", "--resume", ckpt]


# -- Python API -------------------------------------------------------------------------------------


def test_the_api_takes_a_model_and_arrays_encoded_alike(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(80, 4)), rng.integers(0, 3, 80)
    from nettrain import config_from_dict

    config = config_from_dict(
        {"network": {"layers": [4, 5, 3]}, "cost": "cross_entropy", "training": {"epochs": 2}}
    )
    first = fit(config, data=RunData.from_arrays(X, y, "cross_entropy"), save=False).model
    half = RunData.from_arrays(X[:40], y[:40], "cross_entropy")
    again = fit(config, data=half, save=False, warm_start=first)
    # (first's encoding was fitted on all 80 rows given to it)
    expected = {"path": None, "weights_sha256": weights_sha256(first.network), "encoding_n_train": 80}
    assert again.model.meta["warm_start"] == expected
    with pytest.raises(DataError, match="encoded otherwise"):  # classes 0-1 only: another encoding
        fit(config, data=RunData.from_arrays(X, y % 2, "cross_entropy"), save=False, warm_start=first)


def test_a_streamed_training_file_is_refused(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "d.npy", np.column_stack([rng.normal(size=(50, 2)), rng.normal(size=50)]))
    config = write_config(tmp_path / "c.yaml", tmp_path / "d.npy", [2, 3, 1], cost="mse")
    fitted(config, "-o", tmp_path / "A")
    monkeypatch.setattr("nettrain.data.stream.STREAM_BYTES", 0)  # (every .npy is streamed)
    streamed = run("fit", config, "--warm-start", tmp_path / "A", "-o", tmp_path / "B")
    assert_error(streamed, "d.npy", "warm start")


# -- fine-tuning ------------------------------------------------------------------------------------


def test_fine_tuning_on_more_data_keeps_or_improves_test_accuracy(tmp_path):
    header, first = digits_rows("first")
    _, second = digits_rows("second")
    a = write_rows(tmp_path / "first.csv", header, first)
    b = write_rows(tmp_path / "second.csv", header, second)
    common = [DIGITS, "--set", "data.validation=0", "--set", "training.epochs=5"]
    fitted(*common, "--set", f"data.train={a}", "-o", tmp_path / "A")
    fine = ["--set", f"data.train={b}", "--set", "training.learning_rate=0.02"]
    fitted(*common, *fine, "--warm-start", tmp_path / "A", "-o", tmp_path / "B")
    test = read_table(DATA / "digits_test.csv", "label")
    model, tuned = load_model(tmp_path / "A"), load_model(tmp_path / "B")
    before, after = model.evaluate(test)["accuracy"], tuned.evaluate(test)["accuracy"]
    assert after >= before, (before, after)
    # and the data it fine-tuned on was encoded with the first half's statistics
    assert np.array_equal(tuned.encoding.x_mean, model.encoding.x_mean)


def test_a_model_reached_through_a_link_is_recorded_by_the_file_it_points_at(digits_run, tmp_path):
    # a nightly job warm-starts from `current`, a link it swaps to each day's promoted run
    current = tmp_path / "current"
    current.symlink_to(digits_run, target_is_directory=True)
    new = tmp_path / "new"
    result = ok(
        run("fit", DIGITS, "--set", "training.epochs=1", "--warm-start", current, "-o", new, "--json", "-q")
    )
    summary = json.loads(result.stdout.splitlines()[-1])
    target = str((Path(digits_run) / "model.npz").resolve())
    assert summary["warm_start"]["path"] == target
    current.unlink()  # tomorrow's promotion: the link moves on, the record still names the model
    current.symlink_to(new, target_is_directory=True)
    assert load_model(new).meta["warm_start"]["path"] == target
    assert f"# warm-started from {target} " in (new / "config.yaml").read_text().splitlines()[1]
