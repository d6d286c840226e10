"""Bad input: the contract (issue "Real-world data in, nothing lost"; DESIGN.md's exit codes).

One test per case, at the command line: exit 2, exactly one stderr line starting with 'Error:'
that names the problem and where (file:line[:column], or the key path), no traceback, nothing on
stdout. This file is the one place that proves the whole list; some cases are also covered
closer to the code (tests/test_config.py, tests/test_data.py, tests/test_modelfile.py).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nettrain.modelfile import FORMAT_VERSION
from tests.helpers import (
    MODULE,
    animals,
    assert_error,
    error_line,
    nettrain,
    ok,
    run,
    subprocess_env,
    write_config,
    write_rows,
)

HEADER, ROWS = animals(120)


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A folder with train.csv, c.yaml and a trained run/model.npz."""
    folder = tmp_path_factory.mktemp("trained")
    write_rows(folder / "train.csv", HEADER, ROWS)
    write_config(folder / "c.yaml", "train.csv", [5, 8, 2], target="label", training={"epochs": 3})
    ok(run("fit", folder / "c.yaml", "-o", folder / "run", "--quiet"))
    return folder


@pytest.fixture
def project(tmp_path) -> Path:
    """A good train.csv and config in tmp_path (the current directory)."""
    write_rows(tmp_path / "train.csv", HEADER, ROWS)
    write_config(tmp_path / "c.yaml", "train.csv", [5, 8, 2], target="label", training={"epochs": 2})
    return tmp_path


def fit_error(config, *needles, sets=()):
    args = ["fit", config, "-o", Path(config).parent / "out"]
    for s in sets:
        args += ["--set", s]
    line = assert_error(run(*args), *needles)
    assert not (Path(config).parent / "out").exists()  # nothing starts before the input is valid
    return line


def config_text(tmp_path, text: str) -> Path:
    (tmp_path / "train.csv").exists() or write_rows(tmp_path / "train.csv", HEADER, ROWS)
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


GOOD = """\
data:
  train: train.csv
  target: label
network:
  layers: [5, 8, 2]
  activation: tanh
cost: cross_entropy
training:
  learning_rate: 0.1
  epochs: 2
  batch_size: 16
"""


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def bad_config(tmp_path, old: str, new: str) -> tuple[Path, int]:
    text = GOOD.replace(old, new)
    assert text != GOOD
    return config_text(tmp_path, text), line_of(text, new.strip().splitlines()[0])


# -- files: missing, unreadable, a directory ----------------------------------------------------

running_as_root = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.mark.parametrize("dry_run", [False, True])
def test_fit_will_not_replace_its_own_config_in_the_run_folder(tmp_path, dry_run):
    """output: . beside a hand-written config.yaml: fit would replace it with the resolved one."""
    write_rows(tmp_path / "train.csv", HEADER, ROWS)
    text = "# my notes\n" + GOOD + "output: .\n"
    (tmp_path / "config.yaml").write_text(text)
    line = assert_error(
        run("fit", tmp_path / "config.yaml", *(["--dry-run"] if dry_run else [])),
        "would get a new config.yaml, replacing the config file",
    )
    assert "choose another output" in line
    assert (tmp_path / "config.yaml").read_text() == text
    assert not (tmp_path / "model.npz").exists()


def test_fit_of_a_runs_own_config_repeats_the_run(tmp_path):
    """RUN/config.yaml is the resolved config fit wrote (marked on its first line): fitting it
    rewrites it alike, so it is not refused as an input about to be replaced."""
    write_rows(tmp_path / "train.csv", HEADER, ROWS)
    (tmp_path / "c.yaml").write_text(GOOD)
    ok(run("fit", tmp_path / "c.yaml", "-o", tmp_path / "run", "-q"))
    first = (tmp_path / "run" / "config.yaml").read_text()
    ok(run("fit", tmp_path / "run" / "config.yaml", "-q"))
    assert (tmp_path / "run" / "config.yaml").read_text() == first


def test_fit_will_not_replace_a_data_file_named_like_a_checkpoint(tmp_path):
    np.savez(tmp_path / "checkpoint-1.npz", X=np.ones((20, 5)), y=np.arange(20) % 2)
    (tmp_path / "c.yaml").write_text(
        GOOD.replace("train.csv", "checkpoint-1.npz").replace("  target: label\n", "")
    )
    assert_error(run("fit", tmp_path / "c.yaml", "-o", tmp_path), "replacing the training data file")


def test_config_missing(tmp_path):
    fit_error(tmp_path / "nope.yaml", "nope.yaml", "not found")


def test_config_is_a_directory(tmp_path):
    (tmp_path / "conf").mkdir()
    fit_error(tmp_path / "conf", "conf", "is a directory")


def test_config_unreadable_not_a_directory_on_the_way(tmp_path):
    (tmp_path / "file").write_text("x")
    fit_error(tmp_path / "file" / "c.yaml", "c.yaml", "cannot be read")


def test_config_broken_symlink(tmp_path):
    (tmp_path / "link.yaml").symlink_to(tmp_path / "gone.yaml")
    fit_error(tmp_path / "link.yaml", "link.yaml", "not found")


@pytest.mark.skipif(running_as_root, reason="root reads files whatever their mode")
def test_config_permission_denied(project):
    os.chmod(project / "c.yaml", 0)
    fit_error(project / "c.yaml", "c.yaml", "permission denied")


def test_data_missing(project):
    fit_error(project / "c.yaml", "nope.csv", "not found", sets=["data.train=nope.csv"])


def test_data_is_a_directory(project):
    (project / "dir.csv").mkdir()
    fit_error(project / "c.yaml", "dir.csv", "is a directory", sets=["data.train=dir.csv"])


def test_data_unreadable_not_a_directory_on_the_way(project):
    fit_error(project / "c.yaml", "train.csv/x.csv", "cannot be read", sets=["data.train=train.csv/x.csv"])


@pytest.mark.skipif(running_as_root, reason="root reads files whatever their mode")
def test_data_permission_denied(project):
    os.chmod(project / "train.csv", 0)
    fit_error(project / "c.yaml", "train.csv", "permission denied")


def test_the_reasons_a_file_cannot_be_read_are_worded_plainly():
    """(Permission denied is not reproducible as root, where the tests above are skipped.)"""
    import errno

    from nettrain.errors import os_reason, unreadable

    assert unreadable("data file", "x.csv", PermissionError(errno.EACCES, "Permission denied")) == (
        "data file 'x.csv' cannot be read: permission denied"
    )
    too_long = OSError(errno.ENAMETOOLONG, "File name too long")
    assert os_reason(too_long) == "file name too long"
    assert unreadable("model file", "m" * 300, too_long).endswith(
        "(300 characters)' cannot be read: file name too long"
    )
    assert os_reason(OSError(errno.ENOSPC, "No space left on device")) == "No space left on device"


@pytest.mark.parametrize("command", ["predict", "evaluate", "info"])
def test_model_missing(trained, command):
    args = [command, "nope.npz"] + ([] if command == "info" else [trained / "train.csv"])
    assert_error(run(*args), "nope.npz", "not found")


def test_model_is_a_directory_without_a_model(trained, tmp_path):
    (tmp_path / "empty_run").mkdir()
    assert_error(run("predict", tmp_path / "empty_run", trained / "train.csv"), "empty_run", "directory")


def test_model_broken_symlink(trained, tmp_path):
    (tmp_path / "m.npz").symlink_to(tmp_path / "gone.npz")
    assert_error(run("info", tmp_path / "m.npz"), "m.npz", "not found")


@pytest.mark.skipif(running_as_root, reason="root reads files whatever their mode")
def test_model_permission_denied(trained, tmp_path):
    model = tmp_path / "m.npz"
    model.write_bytes((trained / "run" / "model.npz").read_bytes())
    os.chmod(model, 0)
    assert_error(run("info", model), "m.npz", "permission denied")


def test_predict_input_missing_and_a_directory(trained, tmp_path):
    assert_error(run("predict", trained / "run", "nope.csv"), "nope.csv", "not found")
    (tmp_path / "d.csv").mkdir()
    assert_error(run("predict", trained / "run", "d.csv"), "d.csv", "is a directory")


def test_run_folder_is_a_file(project):
    (project / "out").write_text("not a folder")
    line = assert_error(run("fit", project / "c.yaml", "-o", project / "out"), "out")
    assert "internal error" not in line


def test_model_npz_is_a_directory_in_the_run_folder(project):
    (project / "out" / "model.npz").mkdir(parents=True)
    line = assert_error(run("fit", project / "c.yaml", "-o", project / "out"), "model.npz")
    assert "internal error" not in line


def test_predict_output_into_a_file_as_folder(trained, tmp_path):
    (tmp_path / "afile").write_text("x")
    line = assert_error(run("predict", trained / "run", trained / "train.csv", "-o", "afile/p.csv"), "afile")
    assert "internal error" not in line


# -- the config ------------------------------------------------------------------------------------


def test_yaml_syntax_error_names_line_and_column(tmp_path):
    text = GOOD.replace("  epochs: 2\n", "  epochs: [2\n")
    path = config_text(tmp_path, text)
    line = fit_error(path, "c.yaml:", "YAML syntax error")
    where = line.split(" ")[1]  # 'c.yaml:LINE:COLUMN:'
    assert where.count(":") == 3 and int(where.split(":")[-3]) >= line_of(text, "epochs: [2")


def test_unknown_key_with_suggestion(tmp_path):
    path, n = bad_config(tmp_path, "  batch_size: 16", "  batchsize: 16")
    fit_error(path, f"c.yaml:{n}:", "training.batchsize", "did you mean 'batch_size'")


def test_wrong_type(tmp_path):
    path, n = bad_config(tmp_path, "  epochs: 2", "  epochs: ten")
    fit_error(path, f"c.yaml:{n}:", "training.epochs", "'ten'", "integer")


@pytest.mark.parametrize(
    ("old", "new", "key", "value"),
    [
        ("  learning_rate: 0.1", "  learning_rate: -0.1", "training.learning_rate", "-0.1"),
        ("  layers: [5, 8, 2]", "  layers: [5, 0, 2]", "network.layers", "0"),
        ("  batch_size: 16", "  batch_size: 0", "training.batch_size", "0"),
        ("  epochs: 2", "  epochs: 0", "training.epochs", "0"),
    ],
    ids=["negative-learning-rate", "zero-sized-layer", "batch-size-0", "epochs-0"],
)
def test_out_of_range(tmp_path, old, new, key, value):
    path, n = bad_config(tmp_path, old, new)
    line = fit_error(path, f"c.yaml:{n}:", key, value)
    assert ">" in line or "range" in line or "must" in line  # says what would be right


def test_unknown_activation_with_suggestion(tmp_path):
    path, n = bad_config(tmp_path, "  activation: tanh", "  activation: tahn")
    fit_error(path, f"c.yaml:{n}:", "network.activation", "'tahn'", "did you mean 'tanh'")


def test_unknown_cost_with_suggestion(tmp_path):
    path, n = bad_config(tmp_path, "cost: cross_entropy", "cost: cross_entropyy")
    fit_error(path, f"c.yaml:{n}:", "cost", "did you mean 'cross_entropy'")


@pytest.mark.parametrize(
    ("setting", "needle"),
    [
        ("training.epochs", "expected key.path=value"),  # no '='
        ("=5", "expected key.path=value"),  # no key
        ("training..epochs=5", "expected key.path=value"),  # an empty part
        ("training.epochs=[1", "not valid YAML"),
        ("training.epochs=abc", "'abc'"),  # valid YAML, wrong type
        ("training.learning_rate.x=1", "training.learning_rate is not a mapping"),
    ],
)
def test_set_malformed_value(project, setting, needle):
    fit_error(project / "c.yaml", "--set", needle, sets=[setting])


# -- the data --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("", ["train.csv", "empty"]),
        ("\n \n", ["train.csv", "empty"]),
        ("size,color,weight,label\n", ["train.csv", "header", "no data rows"]),
        ("size,color,weight,label\n\n\n", ["train.csv", "header", "no data rows"]),
    ],
    ids=["empty", "blank-lines", "header-only", "header-and-blank-lines"],
)
def test_empty_data_and_header_only(project, text, needles):
    (project / "train.csv").write_text(text)
    fit_error(project / "c.yaml", *needles)


def test_ragged_row_names_its_line(project):
    rows = [list(r) for r in ROWS]
    rows[6] = rows[6][:2]  # line 8
    write_rows(project / "train.csv", HEADER, rows)
    fit_error(project / "c.yaml", "train.csv:8:", "expected 4 fields, found 2")


def test_non_numeric_value_names_value_line_and_column(project):
    rows = [list(r) for r in ROWS]
    rows[20][2] = "heavy"  # line 22, column 'weight'
    write_rows(project / "train.csv", HEADER, rows)
    fit_error(project / "c.yaml", "train.csv:22:", "'weight'", "'heavy'", "not a number")


def test_non_numeric_value_at_predict(trained, tmp_path):
    rows = [list(r) for r in ROWS[:5]]
    rows[3][0] = "big"
    write_rows(tmp_path / "new.csv", HEADER, rows)
    assert_error(run("predict", trained / "run", "new.csv"), "new.csv:5:", "'size'", "'big'")
    assert_error(run("evaluate", trained / "run", "new.csv"), "new.csv:5:", "'size'", "'big'")


def test_missing_target_column(project):
    fit_error(project / "c.yaml", "train.csv", "'lable'", "did you mean 'label'", sets=["data.target=lable"])


def test_target_with_one_class(project):
    write_rows(project / "train.csv", HEADER, [[*r[:3], "yes"] for r in ROWS])
    fit_error(project / "c.yaml", "train.csv", "only one class", "'yes'")


def test_output_size_not_matching_classes(project):
    fit_error(
        project / "c.yaml",
        "2 classes",
        "3 outputs",
        "set the last of network.layers to 2",
        sets=["network.layers=[5, 8, 3]"],
    )


def test_input_width_not_matching_first_layer(project):
    fit_error(
        project / "c.yaml",
        "train.csv",
        "5 inputs",
        "starts with 4",
        "set it to 5",
        sets=["network.layers=[4, 8, 2]"],
    )


def test_predict_input_missing_a_feature_column(trained, tmp_path):
    write_rows(tmp_path / "new.csv", ["size", "colour", "weight", "label"], ROWS[:3])
    for command in ("predict", "evaluate"):
        assert_error(run(command, trained / "run", "new.csv"), "new.csv", "'color'", "did you mean 'colour'")


def test_evaluate_input_without_the_target(trained, tmp_path):
    write_rows(tmp_path / "new.csv", HEADER[:3], [r[:3] for r in ROWS[:3]])
    assert_error(run("evaluate", trained / "run", "new.csv"), "new.csv", "'label'")


# -- model files -----------------------------------------------------------------------------------


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def zip_up(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=True)
    return buf.getvalue()


def with_meta(parts: dict[str, bytes], change) -> dict[str, bytes]:
    meta = json.loads(np.load(io.BytesIO(parts["meta.npy"])).tobytes().decode("utf-8"))
    change(meta)
    return {**parts, "meta.npy": npy(np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))}


def npy_header(shape: tuple, dtype="<f4") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": shape}
    )
    return buf.getvalue()


def model_error(trained, model: Path, *needles) -> None:
    """info and predict both refuse the file with one line."""
    assert_error(run("info", model), model.name, *needles)
    assert_error(run("predict", model, trained / "train.csv"), model.name, *needles)


def test_model_truncated(trained, tmp_path):
    data = (trained / "run" / "model.npz").read_bytes()
    for cut in (len(data) // 3, len(data) - 7):
        path = tmp_path / f"cut{cut}.npz"
        path.write_bytes(data[:cut])
        model_error(trained, path)


@pytest.mark.parametrize(
    "data", [b"", b"size,color\n1,red\n", bytes(range(256)) * 8], ids=["empty", "csv", "binary"]
)
def test_model_not_a_zip(trained, tmp_path, data):
    path = tmp_path / "m.npz"
    path.write_bytes(data)
    model_error(trained, path, "not a nettrain model file")


def test_model_from_a_newer_format_version(trained, tmp_path):
    def newer(meta):
        meta["format_version"] = FORMAT_VERSION + 1
        meta["nettrain_version"] = "99.1"

    path = zip_up(tmp_path / "new.npz", with_meta(members(trained / "run" / "model.npz"), newer))
    model_error(trained, path, "newer", f"format {FORMAT_VERSION + 1}", "99.1", "Upgrade")


def test_model_holding_a_pickled_object(trained, tmp_path):
    parts = members(trained / "run" / "model.npz")
    evil = {**parts, "W0.npy": npy(np.array([{"run": "code"}, None], dtype=object))}
    model_error(trained, zip_up(tmp_path / "evil.npz", evil), "W0", "pickled")
    extra = {**parts, "extra.npy": npy(np.array([print], dtype=object))}
    model_error(trained, zip_up(tmp_path / "extra.npz", extra), "extra", "pickled")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_model_with_non_finite_weights(trained, tmp_path, bad):
    parts = members(trained / "run" / "model.npz")
    W1 = np.load(io.BytesIO(parts["W1.npy"])).copy()
    W1[1, 0] = bad
    model_error(trained, zip_up(tmp_path / "nan.npz", {**parts, "W1.npy": npy(W1)}), "W1", "NaN or infinite")


def test_model_declaring_a_huge_shape_is_refused_before_allocating(trained, tmp_path):
    parts = members(trained / "run" / "model.npz")
    big = 10**11  # 400 GB of float32 per matrix, declared in a few bytes

    def huge(meta):
        meta["network"]["sizes"] = [5, big, 2]

    parts = with_meta(parts, huge)
    parts["W0.npy"] = npy_header((big, 5)) + b"\0" * 64
    parts["b0.npy"] = npy_header((big,)) + b"\0" * 64
    parts["W1.npy"] = npy_header((2, big)) + b"\0" * 64
    path = zip_up(tmp_path / "huge.npz", parts)
    tracemalloc.start()
    try:
        model_error(trained, path, "W0", "declares shape", "damaged or forged")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20, peak


# -- standard input --------------------------------------------------------------------------------


def _stdin_cases(trained):
    config = trained / "stdin.yaml"
    write_config(config, "-", [5, 8, 2], target="label", training={"epochs": 1})
    return {
        "predict": [*MODULE, "predict", str(trained / "run"), "-"],
        "evaluate": [*MODULE, "evaluate", str(trained / "run"), "-"],
        # --device cpu: where CuPy is installed without a GPU, auto adds a notice line
        "fit": [*MODULE, "fit", str(config), "-o", str(trained / "stdin_run"), "--device", "cpu"],
    }


@pytest.mark.parametrize("command", ["predict", "evaluate", "fit"])
@pytest.mark.parametrize("stdin", ["empty", "closed"])
def test_standard_input_empty_or_closed(trained, command, stdin):
    argv = _stdin_cases(trained)[command]
    if stdin == "empty":
        r = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=subprocess_env(), timeout=60
        )
    else:  # file descriptor 0 closed: Python starts with sys.stdin = None
        r = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=subprocess_env(),
            timeout=60,
            preexec_fn=lambda: os.close(0),
        )
    assert r.returncode == 2, r.stderr
    assert r.stdout == ""
    line = error_line(r.stderr)
    assert "standard input" in line and ("empty" in line or "closed" in line), line
    assert len(r.stderr.splitlines()) == 1, r.stderr
    assert not (trained / "stdin_run").exists()


def test_standard_input_that_is_bad_data(trained):
    r = nettrain("predict", trained / "run", "-", input="size,color\n1\n")
    assert r.returncode == 2
    assert "<stdin>:2: expected 2 fields, found 1" in error_line(r.stderr)


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_value_beyond_float32_is_named_not_warned(trained, command):
    """1e300 is a finite float64 but no float32: one Error line naming the file line and the
    column (it was a RuntimeWarning and a made-up prediction)."""
    rows = [list(r) for r in ROWS[:3]]
    rows[1][0] = "1e300"
    write_rows(Path("big.csv"), HEADER, rows)
    r = nettrain(command, trained / "run", Path("big.csv").resolve())
    assert r.returncode == 2 and r.stdout == ""
    line = error_line(r.stderr)
    assert line.endswith("big.csv:3: column 'size' holds 1e+300, too large for the model (float32)")
    assert "Warning" not in r.stderr


def test_a_test_file_value_beyond_float32_stops_fit_before_training(trained, tmp_path):
    rows = [list(r) for r in ROWS[:3]]
    rows[2][2] = "-1e300"
    write_rows(tmp_path / "test.csv", HEADER, rows)
    r = nettrain(
        "fit", trained / "c.yaml", "--set", f"data.test={tmp_path / 'test.csv'}", "-o", tmp_path / "out", "-q"
    )
    assert r.returncode == 2
    assert "test.csv:4: column 'weight' holds -1e+300, too large" in error_line(r.stderr)
    assert "Warning" not in r.stderr and not (tmp_path / "out").exists()


def test_a_csv_given_as_the_config_is_not_quoted_whole(tmp_path):
    rows = [[str(i)] * 200 for i in range(50)]
    write_rows(tmp_path / "wide.csv", [f"column_{j}" for j in range(200)], rows)
    line = assert_error(run("fit", tmp_path / "wide.csv"), "the config must be a mapping", "characters)")
    assert len(line) < 300


def test_a_mapping_made_by_set_is_blamed_on_the_set(tmp_path):
    """--set training.optimizer.beta2=0.5 on a config without an optimizer makes the mapping
    {beta2: 0.5}: its missing name is the --set's problem, not a file line's."""
    config = config_text(tmp_path, GOOD)
    assert_error(
        run("fit", config, "--dry-run", "--set", "training.optimizer.beta2=0.5"),
        "--set training.optimizer.beta2=0.5: training.optimizer: a mapping needs 'name:'",
    )


def test_a_target_name_without_a_header_says_to_give_a_number(tmp_path):
    config = config_text(tmp_path, GOOD.replace("  target: label\n", "  target: y\n  header: false\n"))
    assert_error(
        run("fit", config, "--dry-run"),
        "target column 'y' not found: the columns are numbered",
        "give data.target as a number",
    )


def test_a_target_not_in_the_data_says_where_data_target_was_given(tmp_path):
    """'target column not found' named the data file only, not that data.target said so."""
    config = config_text(tmp_path, GOOD.replace("  target: label\n", "  target: lable\n"))
    line = 1 + config.read_text().splitlines().index("  target: lable")
    for command in ("fit", "gradcheck"):
        assert_error(
            run(command, config, *(["--dry-run"] if command == "fit" else [])),
            "target column 'lable' not found in the header (did you mean 'label'?)",
            f"(data.target in {config}:{line})",
        )
    assert_error(
        run("fit", config, "--dry-run", "--set", "data.target=9"),
        "target column 9 does not exist",
        "(from --set data.target=9)",
    )


def test_a_target_beyond_float32_is_named_in_evaluate_and_fit(trained, tmp_path):
    """A regression target of 1e300: evaluate printed inf scores (and bare Infinity in its
    JSON), fit blamed the learning rate; now one Error naming the line."""
    rows = [[f"{i * 0.1:.1f}", f"{i * 0.2:.1f}", f"{i:.1f}"] for i in range(30)]
    write_rows(tmp_path / "r.csv", ["a", "b", "y"], rows)
    config = write_config(tmp_path / "r.yaml", "r.csv", [2, 3, 1], cost="mse", training={"epochs": 2})
    ok(run("fit", config, "-o", tmp_path / "run", "-q"))
    rows[4][2] = "1e300"
    write_rows(tmp_path / "big.csv", ["a", "b", "y"], rows)
    for args in (
        ["evaluate", tmp_path / "run", tmp_path / "big.csv", "--json"],
        ["fit", config, "-o", tmp_path / "run2", "-q", "--set", f"data.test={tmp_path / 'big.csv'}"],
    ):
        line = assert_error(run(*args), "big.csv:6: the target 'y' holds 1e+300, too large for the model")
        assert "diverged" not in line


def test_a_schedule_growing_the_lr_to_inf_diverges_naming_the_gamma(project):
    """lr 10 * gamma 1e308 is inf at epoch 2: the run diverges (exit 1) and says the gamma did
    it, where it said 'try --set training.learning_rate=inf'."""
    line = assert_error(
        run(
            "fit",
            "c.yaml",
            "-q",
            "--set",
            "training.learning_rate=10",
            "--set",
            "training.schedule={name: exponential, gamma: 1e308}",
        ),
        "training diverged",
        "the learning rate grew to inf (training.schedule's gamma is 1e+308): lower the gamma",
        code=1,
    )
    assert "learning_rate=inf" not in line
    assert not (project / "run").exists()


def test_text_labels_under_the_default_cost_say_to_set_a_cross_entropy(tmp_path):
    # cost defaults to mse, a regression: a classifier's config that leaves it out reads its labels
    # as numbers, and the error says which key makes the task
    config = config_text(
        tmp_path, GOOD.replace("cost: cross_entropy\n", "").replace("[5, 8, 2]", "[auto, 8, 1]")
    )
    line = fit_error(config, "column 'label' holds 'yes', which is not a number")
    assert line.endswith(
        "; the cost (mse) makes this a regression, whose target is numbers: for classes, train with "
        "cost: cross_entropy (or binary_cross_entropy)"
    )
    # a feature column's word is no target: no word of the cost there
    write_rows(
        tmp_path / "train.csv",
        HEADER,
        [[*r[:2], "heavy" if i == 3 else r[2], r[3]] for i, r in enumerate(ROWS)],
    )
    line = fit_error(config_text(tmp_path, GOOD), "column 'weight' is numeric but holds 'heavy'")
    assert "cost" not in line


# -- array files a fuzzer found (each was an internal error) -----------------------------------


def test_an_npy_of_rows_without_columns_is_refused_by_predict_and_trace(trained, tmp_path):
    """Shape (4, 0): predict's chunked reader cast its 0-byte rows into a memoryview."""
    np.save(tmp_path / "x.npy", np.zeros((4, 0)))
    for args in (
        ["predict", trained / "run", tmp_path / "x.npy"],
        ["trace", trained / "run", "--data", tmp_path / "x.npy"],
    ):
        assert_error(run(*args), "x.npy: has 0 columns but the model expects")


def test_an_npy_header_declaring_a_negative_dimension_is_refused(trained, tmp_path):
    """NumPy's header reader lets '(-4, 3)' through; np.frombuffer then raised ValueError."""
    (tmp_path / "x.npy").write_bytes(npy_header((-4, 3), "<f8") + b"\0" * 96)
    for args in (
        ["predict", trained / "run", tmp_path / "x.npy"],
        ["evaluate", trained / "run", tmp_path / "x.npy"],
        ["fit", trained / "c.yaml", "-o", tmp_path / "out", "--set", f"data.train={tmp_path / 'x.npy'}"],
    ):
        assert_error(run(*args), "x.npy: not a readable NumPy file", "negative dimension")
    assert not (tmp_path / "out").exists()


def test_an_npz_member_not_in_npy_format_is_refused(trained, tmp_path):
    """np.load hands back the bytes of a member without the .npy magic; they reached X.ndim."""
    path = tmp_path / "x.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("X.npy", b"hello")
        zf.writestr("y.npy", b"world")
    for args in (
        ["predict", trained / "run", path],
        [
            "fit",
            trained / "c.yaml",
            "-o",
            tmp_path / "out",
            "--set",
            f"data.train={path}",
            "--set",
            "data.target=null",
        ],
    ):
        assert_error(run(*args), "x.npz: array 'X' is not readable (not in NumPy's .npy format)")


def test_a_regression_model_whose_class_list_is_not_a_list_is_refused(tmp_path):
    """A forged 'classes': -1 in a regression model reached evaluate's len(classes)."""
    rows = [[f"{i * 0.1:.1f}", f"{i * 0.2:.1f}", f"{i:.1f}"] for i in range(30)]
    write_rows(tmp_path / "r.csv", ["a", "b", "y"], rows)
    config = write_config(tmp_path / "r.yaml", "r.csv", [2, 3, 1], cost="mse", training={"epochs": 2})
    ok(run("fit", config, "-o", tmp_path / "run", "-q"))

    def forge(meta):
        meta["encoding"]["classes"] = -1

    model = zip_up(tmp_path / "m.npz", with_meta(members(tmp_path / "run" / "model.npz"), forge))
    for args in (
        ["evaluate", model, tmp_path / "r.csv"],
        ["predict", model, tmp_path / "r.csv"],
        ["info", model],
    ):
        assert_error(run(*args), "m.npz: the 'meta' document is malformed (the class list is not a list)")
