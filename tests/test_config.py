"""The YAML config: shipped configs, defaults, paths, every kind of error, --set, dump/load."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nettrain.activations import ACTIVATIONS
from nettrain.config import STARTER_CONFIG, config_from_dict, load_config
from nettrain.costs import COSTS
from nettrain.errors import ConfigError
from tests.conftest import CONFIGS

# Hypothesis: small and fast; tmp_path is shared by the examples (each rewrites its file)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

MINIMAL = "network:\n  layers: [2, 3, 1]\n"


def write(tmp_path: Path, text: str, name: str = "c.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    """1-based number of the (only) line of ``text`` that contains ``needle``."""
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    assert len(hits) == 1, (needle, hits)
    return hits[0]


def load_error(tmp_path: Path, text: str, overrides=None) -> ConfigError:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, overrides=overrides)
    return info.value


# -- shipped configs and the starter -------------------------------------------------------------

SHIPPED = sorted(CONFIGS.glob("*.yaml"))


def test_there_are_shipped_configs():
    assert {p.stem for p in SHIPPED} >= {"seed", "xor", "digits", "regression"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_config_loads_and_its_data_exists(path):
    cfg = load_config(path)
    raw = yaml.safe_load(path.read_text())
    assert list(cfg.network.layers) == raw["network"]["layers"]
    assert cfg.cost == raw.get("cost", "mse")
    assert cfg.path == str(path.resolve())
    for p in (cfg.data.train, cfg.data.test):
        if p is not None:
            assert Path(p).is_absolute() and Path(p).is_file(), p


def test_starter_config_is_yaml_and_loads_as_is(tmp_path):
    raw = yaml.safe_load(STARTER_CONFIG)
    assert isinstance(raw, dict) and {"data", "network", "cost", "training"} <= set(raw)
    # loading validates only; it does not read data/train.csv, which does not exist here
    cfg = load_config(write(tmp_path, STARTER_CONFIG, "nettrain.yaml"))
    assert cfg.data.train == str(tmp_path / raw["data"]["train"])
    assert not Path(cfg.data.train).exists()
    assert cfg.to_dict()["network"]["layers"] == raw["network"]["layers"] == ["auto", 32, "auto"]
    assert cfg.cost == raw["cost"] and cfg.network.output == "softmax"
    assert "learning_rate" not in raw["training"] and cfg.training.learning_rate == 0.01  # sgd's
    assert cfg.output == str(tmp_path / raw["output"])
    # the commented exclude and features lines are valid keys, one at a time
    for key in ("exclude", "features"):
        line = next(x for x in STARTER_CONFIG.splitlines() if x.startswith(f"  # {key}: ["))
        text = STARTER_CONFIG.replace(line, line.replace("# ", "", 1))
        assert getattr(load_config(write(tmp_path, text, "n.yaml")).data, key)


def test_starter_config_comments_start_in_one_column():
    """Every comment after a key (commented-out keys too) starts in one column, so `nettrain
    init` reads as two columns."""
    columns = {}
    for line in STARTER_CONFIG.splitlines():
        match = re.search(r"\S {2,}#", line)
        if match:
            columns.setdefault(match.end() - 1, []).append(line)
    assert len(columns) == 1, {k: v[:2] for k, v in columns.items()}


# -- defaults and paths --------------------------------------------------------------------------


def test_defaults_are_filled(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = load_config(write(tmp_path, MINIMAL, "mynet.yaml"))
    assert cfg.training.learning_rate == 0.01
    assert cfg.training.epochs == 10
    assert cfg.training.batch_size == 32
    assert cfg.training.seed == 0
    assert cfg.training.optimizer == "sgd"
    assert cfg.cost == "mse" and cfg.task == "regression"
    assert cfg.network.activation == ("relu",)
    assert cfg.device == "auto" and cfg.dtype == "float32"
    assert cfg.data.train is None and cfg.data.validation == 0.0 and cfg.data.standardize
    # no output key: runs/<config stem>, under the current directory
    assert cfg.output == str(tmp_path / "runs" / "mynet")


def test_the_resolved_config_shows_every_optimizer_and_schedule_parameter(tmp_path):
    """--dry-run and the run's config.yaml show what the run uses: a bare word gets its
    defaults written out, a mapping keeps what it gave and gains the rest."""
    text = MINIMAL + "training:\n  optimizer: momentum\n  schedule: {name: exponential}\n"
    d = load_config(write(tmp_path, text)).to_dict()["training"]
    assert d["optimizer"] == {"name": "momentum", "momentum": 0.9}
    assert d["schedule"] == {"name": "exponential", "gamma": 0.95}
    text = MINIMAL + "training:\n  optimizer: {name: adam, beta2: 0.99}\n"
    d = load_config(write(tmp_path, text)).to_dict()["training"]
    assert d["optimizer"] == {"name": "adam", "beta1": 0.9, "beta2": 0.99, "eps": 1e-8}
    assert d["schedule"] == "constant"  # no parameters: stays a word


@pytest.mark.parametrize(
    "cost, output, layers",
    [
        ("mse", "identity", [2, 3, 1]),
        ("cross_entropy", "softmax", [2, 3, 3]),
        ("binary_cross_entropy", "sigmoid", [2, 3, 1]),
    ],
)
def test_output_function_follows_the_cost(tmp_path, cost, output, layers):
    cfg = load_config(write(tmp_path, f"network: {{layers: {layers}}}\ncost: {cost}\n"))
    assert cfg.network.output == output
    assert cfg.task == ("regression" if cost == "mse" else "classification")


def test_paths_resolve_against_the_config_folder(tmp_path, monkeypatch):
    folder = tmp_path / "project" / "configs"
    folder.mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    text = MINIMAL + (
        "data:\n  train: ../data/a.csv\n  test: b.csv\n  validation: v/val.csv\noutput: ../runs/x\n"
    )
    cfg = load_config(write(folder, text))
    project = (tmp_path / "project").resolve()
    assert cfg.data.train == str(project / "data" / "a.csv")
    assert cfg.data.test == str(project / "configs" / "b.csv")
    assert cfg.data.validation == str(project / "configs" / "v" / "val.csv")
    assert cfg.output == str(project / "runs" / "x")


def test_stdin_dash_is_kept(tmp_path):
    cfg = load_config(write(tmp_path, MINIMAL + "data: {train: '-'}\n"))
    assert cfg.data.train == "-"
    err = load_error(tmp_path, MINIMAL + "data: {train: '-', test: '-'}\n")
    assert "data.test" in str(err)


def test_activation_list_one_per_hidden_layer(tmp_path):
    text = "network:\n  layers: [2, 3, 4, 1]\n  activation: [tanh, sigmoid]\n"
    cfg = load_config(write(tmp_path, text))
    assert cfg.network.activation == ("tanh", "sigmoid")
    cfg = load_config(write(tmp_path, "network:\n  layers: [2, 3, 4, 1]\n  activation: tanh\n"))
    assert cfg.network.activation == ("tanh", "tanh")


def test_float_without_a_dot_is_a_number(tmp_path):
    # YAML 1.1 (PyYAML) reads 1e-3 as a string; users mean the number
    cfg = load_config(write(tmp_path, MINIMAL + "training: {learning_rate: 1e-3}\n"))
    assert cfg.training.learning_rate == 1e-3
    cfg = load_config(write(tmp_path, MINIMAL), overrides=["training.learning_rate=5E-2"])
    assert cfg.training.learning_rate == 5e-2


@pytest.mark.parametrize(
    "text, want", [("010", 10), ("08", 8), ("0o10", 8), ("0x1F", 31), ("+7", 7), ("007", 7)]
)
def test_integers_are_yaml_1_2(tmp_path, text, want):
    """README promises YAML 1.2 numbers: a leading 0 is not octal (PyYAML's YAML 1.1 read 010
    as 8 and refused 08), 0o is octal, 0x hex; in the file and in --set alike."""
    cfg = load_config(write(tmp_path, MINIMAL + f"training: {{seed: {text}}}\n"))
    assert cfg.training.seed == want and type(cfg.training.seed) is int
    cfg = load_config(write(tmp_path, MINIMAL), overrides=[f"training.seed={text}"])
    assert cfg.training.seed == want


@pytest.mark.parametrize("text", ["1:30", "1_000", "0b11"])
def test_yaml_1_1_integers_are_text(tmp_path, text):
    """1:30 was 90 (base 60) and 1_000 was 1000 under YAML 1.1; in YAML 1.2 both are text."""
    err = load_error(tmp_path, MINIMAL + f"training:\n  epochs: {text}\n")
    assert f"c.yaml:4: training.epochs: '{text}' is not an integer" in str(err)
    err = load_error(tmp_path, MINIMAL, overrides=[f"training.epochs={text}"])
    assert f"--set training.epochs={text}: training.epochs: '{text}' is not an integer" in str(err)


def test_floats_are_yaml_1_2(tmp_path):
    for text, want in ((".5", 0.5), ("5.", 5.0), ("1E3", 1000.0), ("+2.5e-1", 0.25)):
        cfg = load_config(write(tmp_path, MINIMAL + f"training: {{learning_rate: {text}}}\n"))
        assert cfg.training.learning_rate == want


def test_booleans_are_yaml_1_2(tmp_path):
    """true/false (any case YAML 1.2 allows) are booleans; yes/no/on/off are words, with a hint."""
    for text, want in (("true", True), ("False", False), ("TRUE", True)):
        assert (
            load_config(write(tmp_path, MINIMAL + f"data: {{standardize: {text}}}\n")).data.standardize
            is want
        )
    for text in ("yes", "no", "on", "Off"):
        err = load_error(tmp_path, MINIMAL + f"data:\n  standardize: {text}\n")
        assert f"c.yaml:4: data.standardize: '{text}' is not known" in str(err)
        assert "yes, no, on and off are words" in str(err) and "one of: true, false, inputs" in str(err)
        err = load_error(tmp_path, MINIMAL, overrides=[f"data.standardize={text}"])
        assert "one of: true, false, inputs" in str(err)


def test_standardize_takes_inputs_and_a_wrong_word_lists_the_three(tmp_path):
    """data.standardize: inputs (the inputs only, as scikit-learn's StandardScaler in a
    pipeline), from the file or --set; a near-miss gets a "did you mean", and every wrong value
    lists true, false and inputs."""
    assert (
        load_config(write(tmp_path, MINIMAL + "data: {standardize: inputs}\n")).data.standardize == "inputs"
    )
    assert (
        load_config(write(tmp_path, MINIMAL), overrides=["data.standardize=inputs"]).data.standardize
        == "inputs"
    )
    for text, hint in (
        ("input", "(did you mean 'inputs'?)"),
        ("ture", "(did you mean 'true'?)"),
        ("[1]", ""),
    ):
        err = str(load_error(tmp_path, MINIMAL + f"data: {{standardize: {text}}}\n"))
        assert "data.standardize:" in err and hint in err and "one of: true, false, inputs" in err, err


def test_words_yaml_1_1_misread_stay_words(tmp_path):
    """Column names such as on, no or a date were booleans and dates under YAML 1.1."""
    text = MINIMAL + "data:\n  target: on\n  exclude: [no, 2024-01-31, 1:30, 0o7x]\n"
    cfg = load_config(write(tmp_path, text))
    assert cfg.data.target == "on"
    assert cfg.data.exclude == ("no", "2024-01-31", "1:30", "0o7x")


def test_features_names_the_columns_to_use_as_exclude_names_those_to_leave_out(tmp_path):
    """A list of names or 0-based indices (kept as text, as exclude keeps them), a single name, a
    name given twice counted once; unset it is null in the resolved config, which loads back."""
    text = MINIMAL + "data:\n  target: y\n  features: [no, 3, 2024-01-31, 3]\n"
    cfg = load_config(write(tmp_path, text))
    assert cfg.data.features == ("no", "3", "2024-01-31") and cfg.data.exclude == ()
    assert yaml.safe_load(cfg.to_yaml())["data"]["features"] == ["no", "3", "2024-01-31"]
    roundtrip(tmp_path, cfg)
    assert load_config(write(tmp_path, MINIMAL + "data:\n  features: age\n")).data.features == ("age",)
    plain = load_config(write(tmp_path, MINIMAL))
    assert plain.data.features is None and yaml.safe_load(plain.to_yaml())["data"]["features"] is None
    roundtrip(tmp_path, plain)
    over = load_config(write(tmp_path, MINIMAL), overrides=["data.features=[b, a]"])
    assert over.data.features == ("b", "a")  # (the model takes them in the file's order)


@pytest.mark.parametrize(
    "data, needle",
    [
        ("features: []", "c.yaml:4: data.features: is an empty list: name the input columns"),
        ("features: {a: 1}", "c.yaml:4: data.features: a mapping is not a list of column names"),
        ("features: [a, true]", "c.yaml:4: data.features: ['a', True] is not a list of column names"),
        ("target: y\n  features: [a, y]", "c.yaml:5: data.features: names the target 'y'"),
        ("target: 0\n  features: [0, 1]", "data.features: names the target '0'"),
        ("features: [a]\n  exclude: [b]", "c.yaml:4: data.features: and data.exclude are both given: one or"),
        (
            "features: [a]\n  categorical: [a, b]",
            "data.features: leaves out 'b', which data.categorical names",
        ),
    ],
)
def test_a_wrong_features_list_is_a_config_problem(tmp_path, data, needle):
    err = load_error(tmp_path, MINIMAL + f"data:\n  {data}\n")
    assert len(err.problems) == 1 and needle in str(err), str(err)


def test_an_empty_exclude_or_none_categorical_go_with_features(tmp_path):
    text = MINIMAL + "data:\n  features: [a]\n  exclude: []\n  categorical: none\n"
    assert load_config(write(tmp_path, text)).data.features == ("a",)


def test_text_that_looks_like_a_number_or_boolean_is_dumped_quoted(tmp_path):
    """The run's config.yaml reads back the same with nettrain and with any YAML 1.1 reader."""
    raw = {
        "network": {"layers": [2, 3, 1]},
        "data": {"target": "0o10", "exclude": ["yes", "010", "1e3", "1:30"]},
    }
    cfg = config_from_dict(raw, base=tmp_path)
    text = cfg.to_yaml()
    assert load_config(write(tmp_path, text)).data == cfg.data
    assert yaml.safe_load(text)["data"]["exclude"] == ["yes", "010", "1e3", "1:30"]
    assert yaml.safe_load(text)["data"]["target"] == "0o10"


# -- errors --------------------------------------------------------------------------------------


def test_unknown_key_did_you_mean_with_file_line_and_key_path(tmp_path):
    text = MINIMAL + "training:\n  epochs: 5\n  learnig_rate: 0.1\n"
    err = load_error(tmp_path, text)
    path = tmp_path / "c.yaml"
    line = line_of(text, "learnig_rate")
    assert len(err.problems) == 1
    msg = err.problems[0]
    assert msg.startswith(f"{path}:{line}: training.learnig_rate")
    assert "did you mean 'learning_rate'?" in msg


def test_unknown_top_level_key(tmp_path):
    text = MINIMAL + "cots: mse\n"
    err = load_error(tmp_path, text)
    assert f":{line_of(text, 'cots')}: cots" in str(err)
    assert "did you mean 'cost'?" in str(err)


@pytest.mark.parametrize(
    "overrides, hint",
    [
        (["training.lr=0.01"], "training.lr: unknown key (did you mean 'training.learning_rate'?)"),
        (["training.max_iter=100"], "(did you mean 'training.epochs'?)"),
        (["training.validation_split=0.2"], "(did you mean 'data.validation'?)"),
        (["network.hidden_layer_sizes=[8]"], "(did you mean 'network.layers'?)"),
        (["training.patience=5"], "(did you mean 'training.early_stopping: {patience: N}'?)"),
        (["training.random_state=1"], "(did you mean 'training.seed'?)"),
        (["training.alpha=0.001"], "(did you mean 'training.weight_decay'?)"),
        (["network.kernel_initializer=he_normal"], "(did you mean 'network.init'?)"),
        (["lr=0.01"], "(did you mean 'training.learning_rate'?)"),
        # the right key in the wrong section
        (["network.dropout=0.2"], "network.dropout: unknown key (did you mean 'training.dropout'?)"),
        (["network.epochs=3"], "(did you mean 'training.epochs'?)"),
        # what nettrain always does: not a near spelling of another key (shuffle was 'schedule')
        (["training.shuffle=false"], "(no such setting: every epoch shuffles the training rows)"),
        (["data.stratify=true"], "(no such setting: a fraction in data.validation or data.test is"),
        # other libraries' names of a value (categorical_crossentropy was 'binary_cross_entropy')
        (["cost=categorical_crossentropy"], "'categorical_crossentropy' is not known (did you mean 'cross_"),
        (["cost=log_loss"], "(did you mean 'cross_entropy'?)"),
        (["cost=binary_crossentropy"], "(did you mean 'binary_cross_entropy'?)"),
        (["network.activation=logistic"], "'logistic' is not known (did you mean 'sigmoid'?)"),
        (["network.activation=[logistic]"], "'logistic' is not known (did you mean 'sigmoid'?)"),
        # the learning rate given to the optimizer, Keras's and PyTorch's way
        (["training.optimizer={name: adam, lr: 0.01}"], "'lr' (did you mean 'training.learning_rate'?)"),
        (["training.optimizer={name: rmsprop, alpha: 0.99}"], "'alpha' (did you mean 'rho'?)"),
        (["training.optimizer={name: adam, weight_decay: 0.1}"], "(did you mean 'training.weight_decay'?)"),
        (["training.optimizer.lr=0.01"], "needs 'name:', one of: sgd, momentum, nesterov, adam, adamw, "
         "rmsprop; and it has 'lr' (did you mean 'training.learning_rate'?)"),
        # scikit-learn's MLP and PyTorch's names (README: Coming from Keras, scikit-learn or PyTorch)
        (["training.nesterovs_momentum=true"], "(did you mean 'training.optimizer: {name: nesterov, "),
        (["training.tol=0.001"], "(did you mean 'training.early_stopping: {min_delta: X}'?)"),
        (["training.max_norm=1"], "(did you mean 'training.clip_norm'?)"),
        (["training.early_stopping={n_iter_no_change: 3}"], "n_iter_no_change: unknown key (did you mean 'p"),
        (["training.early_stopping={tol: 0.1}"], "tol: unknown key (did you mean 'min_delta'?)"),
        (["training.early_stopping={restore_best_weights: true}"], "(did you mean 'restore_best'?)"),
        (["network.init=kaiming_uniform"], "'kaiming_uniform' is not known (did you mean 'he_uniform'?)"),
        # PyTorch's in-place functions (kaiming_uniform_ once got 'xavier_uniform'), a family alone
        (["network.init=kaiming_uniform_"], "'kaiming_uniform_' is not known (did you mean 'he_uniform'?)"),
        (["network.init=kaiming_normal_"], "(did you mean 'he_normal'?)"),
        (["network.init=xavier_normal_"], "(did you mean 'xavier_normal'?)"),
        (["network.init=kaiming"], "'kaiming' is not known (did you mean 'he_uniform'?)"),
        (["network.init=He"], "(did you mean 'he_uniform'?)"),
        (["network.init=xavier"], "(did you mean 'xavier_uniform'?)"),
        (["network.init=glorot"], "(did you mean 'glorot_uniform'?)"),
        (["training.schedule=CosineAnnealingLR"], "(did you mean 'cosine'?)"),
        (["training.schedule=ReduceLROnPlateau"], "(did you mean 'plateau'?)"),
        (["training.schedule={name: cosine, eta_min: 0}"], "'eta_min' (did you mean 'min_lr'?)"),
        (["training.schedule={name: plateau, min_delta: 0.1}"],
         "'plateau' has no parameter 'min_delta' (did you mean 'threshold_mode: abs, threshold: X'?)"),
        (["training.schedule={name: plateau, mode: max}"],
         "(did you mean 'monitor: val_loss (mode min) or val_accuracy (max)'?)"),
        (["training.schedule={name: plateau, threshold_mode: absolute}"],
         "threshold_mode: 'absolute' is not known (did you mean 'abs'?); one of: rel, abs"),
        # another case of a choice
        (["training.optimizer=SGD"], "'SGD' is not known (did you mean 'sgd'?)"),
        (["network.activation=[ReLU]"], "'ReLU' is not known (did you mean 'relu'?)"),
    ],
)  # fmt: skip
def test_keras_and_sklearn_names_point_to_nettrain_keys(tmp_path, overrides, hint):
    err = load_error(tmp_path, MINIMAL, overrides)
    assert hint in str(err)


def test_unknown_key_far_from_everything_lists_allowed_keys(tmp_path):
    err = load_error(tmp_path, MINIMAL + "training: {zzzzqqq: 1}\n")
    assert "did you mean" not in str(err)
    for key in ("learning_rate", "epochs", "batch_size", "seed"):
        assert key in str(err)


@pytest.mark.parametrize(
    "snippet, key, words",
    [
        ("training: {learning_rate: fast}", "training.learning_rate", ["'fast'", "not a number"]),
        ("training: {epochs: 2.5}", "training.epochs", ["2.5", "not an integer"]),
        ("training: {batch_size: true}", "training.batch_size", ["true is not an integer"]),
        ("data: {standardize: 3}", "data.standardize", ["3", "one of: true, false, inputs"]),
        ("data: {train: 5}", "data.train", ["5", "not a file path"]),
        ("data: {target: [1]}", "data.target", ["column name"]),
        ("device: tpu", "device", ["'tpu'", "auto, cpu, gpu"]),
        ("dtype: float16", "dtype", ["'float16'", "float32, float64"]),
        ("training: 5", "training", ["expected a mapping"]),
        ("cost: 5", "cost", ["5 is not a word", "mse, cross_entropy"]),
        ("data: {train: ' '}", "data.train", ["' ' is not a file path"]),
        ("data: {target: true}", "data.target", ["true is not a column name or a 0-based index"]),
        ("data: {categorical: [color, true]}", "data.categorical", ["'auto', 'none' or a list"]),
        ("data: {validation: '-'}", "data.validation", ["standard input) is not allowed here"]),
        ("output: '-'", "output", ["standard input) is not allowed here"]),
        ("training: {dropout: false}", "training.dropout", ["false is not a dropout rate"]),
        ("training: {input_dropout: true}", "training.input_dropout", ["true is not a dropout rate"]),
        (
            "training: {schedule: {name: plateau, cooldown: true}}",
            "training.schedule.cooldown",
            ["true is not"],
        ),
        ("training: {early_stopping: {monitr: loss}}", "training.early_stopping.monitr", ["'monitor'"]),
        ("device: 5", "device", ["5 is not a device"]),
    ],
)
def test_wrong_type(tmp_path, snippet, key, words):
    text = MINIMAL + snippet + "\n"
    err = load_error(tmp_path, text)
    msg = str(err)
    assert f"c.yaml:{line_of(text, snippet.split(':')[0])}: {key}" in msg, msg
    for w in words:
        assert w in msg, msg


def test_layers_wrong_type(tmp_path):
    for layers in ("abc", "[5]", "[2, x, 1]", "[2, 2.5, 1]"):
        err = load_error(tmp_path, f"network: {{layers: {layers}}}\n")
        assert "network.layers" in str(err), layers


def test_layers_required(tmp_path):
    err = load_error(tmp_path, "cost: mse\n")
    assert "network.layers" in str(err) and "required" in str(err)


@pytest.mark.parametrize(
    "snippet, key",
    [
        ("training: {learning_rate: -0.1}", "training.learning_rate"),
        ("training: {learning_rate: 0}", "training.learning_rate"),
        ("training: {batch_size: 0}", "training.batch_size"),
        ("training: {epochs: 0}", "training.epochs"),
        ("training: {seed: -1}", "training.seed"),
        ("data: {validation: 1.5}", "data.validation"),
        ("data: {validation: 1.0}", "data.validation"),
        ("data: {validation: -0.1}", "data.validation"),
        ("data: {target: -1}", "data.target"),
        ("training: {learning_rate: .nan}", "training.learning_rate"),
        ("training: {learning_rate: .inf}", "training.learning_rate"),
        ("training: {seed: 9223372036854775808}", "training.seed"),  # 2^63: beyond a 64-bit seed
        ("training: {checkpoint_keep: 0}", "training.checkpoint_keep"),
        ("training: {checkpoint_every: -1}", "training.checkpoint_every"),
        ("training: {clip_norm: 0}", "training.clip_norm"),
        ("training: {early_stopping: {patience: 0}}", "training.early_stopping.patience"),
        ("training: {early_stopping: {min_delta: -0.1}}", "training.early_stopping.min_delta"),
        ("data: {test: 1.0}", "data.test"),
        ("data: {test: -0.2}", "data.test"),
    ],
)
def test_out_of_range(tmp_path, snippet, key):
    err = load_error(tmp_path, MINIMAL + snippet + "\n")
    assert len(err.problems) == 1
    assert f"{key}: " in err.problems[0]
    assert "out of range" in err.problems[0] or "not a finite number" in err.problems[0]


def test_out_of_range_says_what_is_allowed(tmp_path):
    err = load_error(tmp_path, MINIMAL + "data: {validation: 1.5}\n")
    assert "1.5" in str(err) and ">= 0.0" in str(err) and "< 1.0" in str(err)


def test_zero_sized_layer(tmp_path):
    err = load_error(tmp_path, "network: {layers: [2, 0, 1]}\n")
    assert "network.layers" in str(err) and "0 is not a layer size" in str(err)


def test_huge_numbers_are_config_errors(tmp_path):
    err = load_error(tmp_path, MINIMAL + f"training: {{learning_rate: {10**400}}}\n")
    assert "training.learning_rate" in str(err)
    err = load_error(tmp_path, MINIMAL + f"training: {{seed: {'9' * 5000}}}\n")
    assert "c.yaml" in str(err)


@pytest.mark.parametrize(
    "training",
    [
        "optimizer: {name: adam, beta1: HUGE}",
        "optimizer: {name: momentum, momentum: -HUGE}",
        "schedule: {name: step, step_size: HUGE}",
        "schedule: {name: exponential, gamma: HUGE}",
        "class_weight: {0: HUGE}",
        "epochs: HUGE",
    ],
)
def test_integers_too_large_for_a_float_are_config_errors(tmp_path, training):
    """A parameter of 400 digits: math.isfinite raised OverflowError (an internal error), and
    epochs passed to fit's ETA, which overflowed on its first epoch."""
    huge = "1" + "0" * 400
    err = load_error(tmp_path, MINIMAL + "training: {" + training.replace("HUGE", huge) + "}\n")
    assert "training." in str(err)
    assert huge not in str(err)  # shown shortened: '100000000000...0000 (401 digits)'
    assert "(401 digits)" in str(err)


def test_a_class_label_too_large_for_a_float_is_kept_as_text(tmp_path):
    huge = "1" + "0" * 400
    text = "network: {layers: [2, 3, 2]}\ncost: cross_entropy\ntraining: {class_weight: {" + huge + ": 2}}\n"
    config = load_config(write(tmp_path, text))
    assert config.training.class_weight == {huge: 2.0}


def test_unusable_paths_are_config_errors(tmp_path):
    err = load_error(tmp_path, MINIMAL + "output: '~no_such_user_hopefully_xyz/run'\n")
    assert "output" in str(err)
    err = load_error(tmp_path, MINIMAL + 'data: {train: "a\\0b.csv"}\n')
    assert "data.train" in str(err)


def test_unknown_activation_and_cost_suggest_and_list(tmp_path):
    text = "network:\n  layers: [2, 3, 1]\n  activation: rellu\ncost: cross_entropi\n"
    err = load_error(tmp_path, text)
    act = next(p for p in err.problems if "network.activation" in p)
    cost = next(p for p in err.problems if p.split(": ")[1] == "cost")
    assert f":{line_of(text, 'rellu')}:" in act and "did you mean 'relu'?" in act
    assert f":{line_of(text, 'cross_entropi')}:" in cost
    assert "did you mean 'cross_entropy'?" in cost
    for name in ACTIVATIONS:
        assert name in act
    for name in COSTS:
        assert name in cost


def test_unknown_activation_in_a_list(tmp_path):
    err = load_error(tmp_path, "network:\n  layers: [2, 3, 3, 1]\n  activation: [tanh, sigmod]\n")
    assert "'sigmod'" in str(err) and "did you mean 'sigmoid'?" in str(err)


@pytest.mark.parametrize(
    "cost, output, layers",
    [
        ("mse", "softmax", [2, 3, 2]),
        ("cross_entropy", "sigmoid", [2, 3, 3]),
        ("cross_entropy", "identity", [2, 3, 3]),
        ("binary_cross_entropy", "softmax", [2, 3, 2]),
        ("binary_cross_entropy", "identity", [2, 3, 1]),
    ],
)
def test_output_incompatible_with_cost(tmp_path, cost, output, layers):
    text = f"network:\n  layers: {layers}\n  output: {output}\ncost: {cost}\n"
    err = load_error(tmp_path, text)
    assert len(err.problems) == 1
    msg = err.problems[0]
    assert f":{line_of(text, 'output:')}: network.output" in msg
    assert f"'{output}'" in msg and cost in msg


def test_cross_entropy_needs_two_outputs(tmp_path):
    err = load_error(tmp_path, "network: {layers: [2, 3, 1]}\ncost: cross_entropy\n")
    assert "network.layers" in str(err) and "binary_cross_entropy" in str(err)


@pytest.mark.parametrize("acts", [["tanh"], ["tanh", "tanh", "tanh"], []])
def test_activation_list_of_wrong_length(tmp_path, acts):
    err = load_error(tmp_path, f"network:\n  layers: [2, 3, 4, 1]\n  activation: {acts}\n")
    assert "network.activation" in str(err)
    assert f"{len(acts)} activations for 2 hidden" in str(err)


def test_several_problems_reported_at_once(tmp_path):
    text = (
        "network:\n  layers: [2, 3, 1]\n  activation: rellu\n"
        "training:\n  learnig_rate: 0.1\n  batch_size: 0\n  epochs: -3\n"
    )
    err = load_error(tmp_path, text)
    assert len(err.problems) >= 4
    for needle, key in [
        ("rellu", "network.activation"),
        ("learnig_rate", "training.learnig_rate"),
        ("batch_size", "training.batch_size"),
        ("epochs", "training.epochs"),
    ]:
        assert any(
            p.startswith(f"{tmp_path / 'c.yaml'}:{line_of(text, needle)}: {key}") for p in err.problems
        ), (key, err.problems)
    assert str(len(err.problems)) in str(err).splitlines()[0]


def test_a_key_given_twice_is_an_error_with_both_lines(tmp_path):
    """PyYAML keeps the last of two equal keys without a word: epochs 5 then 7 trained 7."""
    text = MINIMAL + "training:\n  epochs: 5\n  batch_size: 4\n  epochs: 7\ncost: msee\n"
    err = load_error(tmp_path, text)
    assert err.problems[0] == (
        f"{tmp_path / 'c.yaml'}:6: training.epochs appears twice (lines 4 and 6); "
        "YAML keys must be unique: keep one"
    )
    assert any("cost: 'msee' is not known" in p for p in err.problems)  # reported with the rest
    err = load_error(tmp_path, "cost: mse\n" + MINIMAL + "cost: mse\ncost: mse\n")
    assert "cost appears 3 times (lines 1, 4 and 5)" in str(err)
    err = load_error(tmp_path, MINIMAL + "training: {optimizer: {name: adam, name: sgd}}\n")
    assert "c.yaml:3: training.optimizer.name appears twice (on line 3)" in str(err)


def test_a_merge_key_is_not_a_key_given_twice(tmp_path):
    """A key beside a << merge overrides the merged one: that is what merging is for."""
    text = MINIMAL + "training:\n  <<: {epochs: 5, batch_size: 4}\n  epochs: 7\n"
    cfg = load_config(write(tmp_path, text))
    assert cfg.training.epochs == 7 and cfg.training.batch_size == 4
    # two merges into one mapping (YAML allows it; PyYAML merges both): no key given twice
    text = MINIMAL + "training:\n  <<: {epochs: 5}\n  <<: {batch_size: 4}\n"
    cfg = load_config(write(tmp_path, text))
    assert cfg.training.epochs == 5 and cfg.training.batch_size == 4


def test_a_key_given_twice_in_a_set_value(tmp_path):
    err = load_error(tmp_path, MINIMAL, overrides=["training.optimizer={name: adam, name: sgd}"])
    assert str(err) == (
        "--set 'training.optimizer={name: adam, name: sgd}': training.optimizer.name appears twice; "
        "YAML keys must be unique: keep one"
    )


def test_yaml_syntax_error_names_the_line(tmp_path):
    text = MINIMAL + "training:\n  epochs: 5: 6\n"
    err = load_error(tmp_path, text)
    assert f"c.yaml:{line_of(text, 'epochs')}:" in str(err)
    assert "YAML syntax error" in str(err)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "~\n"])
def test_empty_file(tmp_path, text):
    err = load_error(tmp_path, text)
    assert "empty" in str(err) and "c.yaml" in str(err)


@pytest.mark.parametrize("text", ["- 1\n- 2\n", "42\n", "just words\n"])
def test_top_level_not_a_mapping(tmp_path, text):
    err = load_error(tmp_path, text)
    assert "must be a mapping" in str(err)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def test_directory(tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)


def test_not_utf8(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_bytes(b"network: {layers: [2, 1]}\ncost: \xff\xfe\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path)


# -- --set overrides -----------------------------------------------------------------------------


def test_set_overrides_value_parsed_as_yaml(tmp_path):
    path = write(tmp_path, MINIMAL + "training: {epochs: 5}\n")
    cfg = load_config(
        path,
        overrides=[
            "training.epochs=7",
            "training.learning_rate=0.25",
            "network.layers=[2, 8, 8, 1]",
            "data.standardize=false",
            "network.activation=[tanh, relu]",
        ],
    )
    assert cfg.training.epochs == 7 and isinstance(cfg.training.epochs, int)
    assert cfg.training.learning_rate == 0.25
    assert cfg.network.layers == (2, 8, 8, 1)
    assert cfg.data.standardize is False
    assert cfg.network.activation == ("tanh", "relu")


def test_set_later_override_wins(tmp_path):
    overrides = ["training.epochs=3", "training.epochs=4"]
    cfg = load_config(write(tmp_path, MINIMAL), overrides=overrides)
    assert cfg.training.epochs == 4


def test_set_creates_nested_path(tmp_path, monkeypatch):
    path = write(tmp_path, MINIMAL)  # no training: section at all
    monkeypatch.chdir(tmp_path)  # a typed path resolves against the current folder
    cfg = load_config(path, overrides=["training.batch_size=4", "data.train=x.csv"])
    assert cfg.training.batch_size == 4
    assert cfg.data.train == str(tmp_path / "x.csv")


def test_set_on_empty_file(tmp_path):
    cfg = load_config(write(tmp_path, ""), overrides=["network.layers=[3, 1]"])
    assert cfg.network.layers == (3, 1)


def test_error_from_an_override_names_the_set(tmp_path):
    err = load_error(
        tmp_path,
        MINIMAL + "training:\n  epochs: 5\n",
        overrides=["training.epochs=-2", "training.learnig_rate=0.1"],
    )
    epochs = next(p for p in err.problems if "training.epochs" in p)
    typo = next(p for p in err.problems if "learnig_rate" in p)
    assert epochs.startswith("--set training.epochs=-2: training.epochs")
    assert typo.startswith("--set training.learnig_rate=0.1: ")
    assert "did you mean 'learning_rate'?" in typo
    assert "c.yaml:" not in epochs


@pytest.mark.parametrize(
    "override",
    ["noequals", "a..b=1", ".a=1", "=3", "training.epochs=[1,", "training.epochs={", "network.layers.x=1"],
)
def test_malformed_override(tmp_path, override):
    err = load_error(tmp_path, MINIMAL, overrides=[override])
    assert override in str(err) and "--set" in str(err)


# -- dump and load -------------------------------------------------------------------------------


def roundtrip(tmp_path: Path, cfg) -> None:
    path = tmp_path / "dumped" / "config.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(cfg.to_yaml(), encoding="utf-8")
    again = load_config(path)
    assert again.to_dict() == cfg.to_dict()
    assert again.network == cfg.network and again.training == cfg.training
    assert again.data == cfg.data


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_to_yaml_round_trips_shipped(tmp_path, path):
    roundtrip(tmp_path, load_config(path))


def test_to_yaml_round_trips_starter(tmp_path):
    roundtrip(tmp_path, load_config(write(tmp_path, STARTER_CONFIG)))


words = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12
).filter(lambda s: s.strip() and s != "-" and not s.startswith("~"))


@st.composite
def config_dicts(draw):
    cost = draw(st.sampled_from(sorted(COSTS)))
    hidden = draw(st.lists(st.integers(1, 50), max_size=3))
    out = draw(st.integers(2 if cost == "cross_entropy" else 1, 10))
    acts = draw(
        st.one_of(
            st.sampled_from(sorted(ACTIVATIONS)),
            st.lists(st.sampled_from(sorted(ACTIVATIONS)), min_size=len(hidden), max_size=len(hidden)),
        )
    )
    lr = draw(st.floats(min_value=1e-300, max_value=1e300, allow_nan=False, allow_infinity=False))
    target = draw(st.one_of(words, st.integers(0, 99)))
    features = draw(st.lists(st.one_of(words, st.integers(0, 99)), max_size=4))
    features = [f for f in features if str(f) != str(target)] or None  # (None: every column)
    return {
        "data": {
            "train": draw(words),
            "target": target,
            "features": features,
            "validation": draw(st.one_of(st.floats(0, 0.99), words)),
            "standardize": draw(st.sampled_from([True, False, "inputs"])),
        },
        "network": {"layers": [draw(st.integers(1, 100)), *hidden, out], "activation": acts},
        "cost": cost,
        "training": {
            "learning_rate": lr,
            "epochs": draw(st.integers(1, 10**6)),
            "batch_size": draw(st.integers(1, 10**6)),
            "seed": draw(st.integers(0, 2**63 - 1)),
        },
        "dtype": draw(st.sampled_from(["float32", "float64"])),
        "device": draw(st.sampled_from(["auto", "cpu", "gpu", "gpu:1"])),
    }


@FUZZ
@given(raw=config_dicts())
def test_to_yaml_round_trips_any_valid_config(tmp_path, raw):
    roundtrip(tmp_path, config_from_dict(raw, base=tmp_path))


# -- nothing but ConfigError ---------------------------------------------------------------------


def load_anything(tmp_path: Path, data: bytes | str, overrides=None):
    path = tmp_path / "fuzz.yaml"
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8", errors="surrogatepass")
    else:
        path.write_bytes(data)
    try:
        load_config(path, overrides=overrides)
    except ConfigError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)


@FUZZ
@given(text=st.text(max_size=300))
def test_arbitrary_text_loads_or_raises_config_error(tmp_path, text):
    load_anything(tmp_path, text)


yaml_keys = st.one_of(
    st.sampled_from(
        [
            "data",
            "network",
            "cost",
            "training",
            "device",
            "dtype",
            "output",
            "layers",
            "activation",
            "train",
            "test",
            "target",
            "validation",
            "standardize",
            "learning_rate",
            "epochs",
            "batch_size",
            "seed",
            "optimizer",
            "dropout",
        ]
    ),
    st.text(max_size=8),
    st.integers(-5, 5),
)
yaml_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=10),
    st.sampled_from(["relu", "tanh", "mse", "cross_entropy", "softmax", "-", "~", "cpu", "gpu:0"]),
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(yaml_keys, inner, max_size=5)),
    max_leaves=20,
)


@FUZZ
@given(value=yaml_values)
def test_arbitrary_yaml_structure_loads_or_raises_config_error(tmp_path, value):
    load_anything(tmp_path, yaml.safe_dump(value))


@FUZZ
@given(
    value=st.dictionaries(st.sampled_from(["data", "network", "training", "cost"]), yaml_values, max_size=4),
    overrides=st.lists(st.text(max_size=30), max_size=3),
)
def test_arbitrary_overrides_load_or_raise_config_error(tmp_path, value, overrides):
    load_anything(tmp_path, yaml.safe_dump(value), overrides=overrides)


@pytest.mark.parametrize("override", ["training.epochs=", "output=", "data.train=  ", "training.seed=\t "])
def test_an_empty_set_value_is_refused(tmp_path, override):
    """`--set training.epochs=$UNSET` trained the default 10 epochs instead of the file's 5."""
    path = write(
        tmp_path, MINIMAL + "training: {epochs: 5, seed: 3}\noutput: runs/mine\ndata: {train: a.csv}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(path, overrides=[override])
    key = override.partition("=")[0]
    assert (
        str(info.value) == f"--set '{override}': the value is empty; write {key}=null to ask for the default"
    )
    cfg = load_config(path, overrides=[f"{key}=null"])  # the default, asked for plainly
    assert (cfg.training.epochs, cfg.training.seed, cfg.data.train) == (
        10 if key == "training.epochs" else 5,
        0 if key == "training.seed" else 3,
        None if key == "data.train" else str(tmp_path / "a.csv"),
    )


def test_set_paths_resolve_against_the_current_folder(tmp_path, monkeypatch):
    """Paths in the file: against the file's folder; paths typed on the command line: against
    the current folder (DESIGN.md)."""
    (tmp_path / "conf").mkdir()
    (tmp_path / "work").mkdir()
    path = write(tmp_path / "conf", MINIMAL + "data: {train: in_file.csv}\n")
    monkeypatch.chdir(tmp_path / "work")
    cfg = load_config(path, overrides=["data.test=typed.csv", "output=runs/x"])
    assert cfg.data.train == str((tmp_path / "conf" / "in_file.csv").resolve())
    assert cfg.data.test == str((tmp_path / "work" / "typed.csv").resolve())
    assert cfg.output == str((tmp_path / "work" / "runs" / "x").resolve())


def test_paths_are_made_absolute_without_following_links(tmp_path, monkeypatch):
    """A link is kept as named: /dev/stdin or a process substitution (/dev/fd/63) resolved named
    /proc/PID/fd/pipe:[N], which cannot be opened; relative paths still start from the config's
    folder (file) or the current one (--set)."""
    (tmp_path / "real.csv").write_text("a,b\n1,2\n")
    (tmp_path / "link.csv").symlink_to(tmp_path / "real.csv")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    path = write(tmp_path, MINIMAL + "data: {train: link.csv, test: ./sub/../link.csv}\n")
    cfg = load_config(path, overrides=["data.validation=../link.csv"])
    assert cfg.data.train == cfg.data.test == cfg.data.validation == str(tmp_path / "link.csv")
    cfg = load_config(path, overrides=["data.train=/dev/stdin", "data.test=/dev/fd/63"])
    assert (cfg.data.train, cfg.data.test) == ("/dev/stdin", "/dev/fd/63")


def test_one_pipe_named_twice_is_refused(tmp_path):
    """A FIFO (or /dev/stdin) is read once: as train and validation the second read got nothing."""
    fifo = tmp_path / "rows.fifo"
    os.mkfifo(fifo)
    err = load_error(tmp_path, MINIMAL + f"data: {{train: {fifo}, validation: {fifo}}}\n")
    assert str(err) == (
        f"{tmp_path / 'c.yaml'}:3: data.validation: '{fifo}' is data.train too (the same pipe or "
        "device), which can be read only once; give a file"
    )
    # the same pipe under two names: a link to the FIFO (as /dev/stdin is to fd 0)
    (tmp_path / "alias").symlink_to(fifo)
    err = load_error(tmp_path, MINIMAL + f"data: {{train: {fifo}, test: {tmp_path / 'alias'}}}\n")
    assert "data.test: '" in str(err) and "is data.train too (the same pipe or device)" in str(err)
    (tmp_path / "rows.csv").write_text("a,b\n1,2\n")  # a file may be named twice
    cfg = load_config(write(tmp_path, MINIMAL + "data: {train: rows.csv, test: rows.csv}\n"))
    assert cfg.data.train == cfg.data.test
    # a folder is no pipe (found by the round-trip fuzz test: '/' twice was 'the same pipe'):
    # reading it says what is wrong
    (tmp_path / "folder").mkdir()
    cfg = load_config(write(tmp_path, MINIMAL + "data: {train: folder, validation: folder}\n"))
    assert cfg.data.train == cfg.data.validation == str(tmp_path / "folder")


def test_set_a_delimiter_without_quotes(tmp_path):
    path = write(tmp_path, MINIMAL)
    assert load_config(path, overrides=["data.delimiter=,"]).data.delimiter == ","
    assert load_config(path, overrides=["data.delimiter=;"]).data.delimiter == ";"


@pytest.mark.parametrize(
    "schedule",
    [
        {"name": "plateau", "patience": 2.0, "cooldown": 1.0},
        {"name": "step", "step_size": 3.0},
        {"name": "cosine", "warmup": 2.0},
    ],
)
def test_a_whole_number_of_epochs_written_as_a_float_is_that_whole_number(schedule):
    """cooldown: 1.0 is cooldown 1, as epochs: 4.0 is 4: the resolved config (which --dry-run
    shows and the resume hash covers) holds the int, so that cooldown: 1 resumes its run."""
    raw = {"network": {"layers": [4, 3, 1]}, "cost": "mse", "training": {"schedule": schedule}}
    params = config_from_dict(raw).to_dict()["training"]["schedule"]
    for key, value in schedule.items():
        if key != "name":
            assert params[key] == value and type(params[key]) is int, params


@pytest.mark.parametrize(
    "key, value, needle",
    [
        ("training.schedule", {"name": "cosine", "warmup": 2.5}, "whole number of epochs"),
        ("training.schedule", {"name": "plateau", "patience": 0.5}, "whole number of epochs"),
        (
            "training.schedule",
            {"name": "plateau", "cooldown": 1.5},
            "1.5 is not a whole number of epochs >= 0",
        ),
        ("training.schedule", {"name": "plateau", "threshold_mode": 1}, "1 is not known; one of: rel, abs"),
        ("training.schedule", {"name": "plateau", "factor": 5}, "must be > 0 and < 1"),
        ("training.schedule", {"name": "plateau", "factor": 0}, "must be > 0 and < 1"),
        ("training.schedule", {"name": "cosine", "min_lr": 5}, "above the learning rate"),
        ("training.optimizer", {"name": "rmsprop", "rho": 2}, "must be < 1"),
        ("network.layers", [4, 10**23, 1], "from 1 to 2^31 - 1"),
        ("network.layers", [4, 2**31, 1], "from 1 to 2^31 - 1"),
        ("network.init", {"name": "normal", "scale": 0}, "must be > 0"),
        ("training.optimizer", {"name": "adam", "beta1": 1}, "must be < 1"),
        ("training.optimizer", {"name": "momentum", "momentum": -0.5}, "is not a number >= 0"),
        ("training.schedule", {"name": "plateau", "factor": 1}, "must be > 0 and < 1"),
        ("training.schedule", {"name": "step", "step_size": 0}, "whole number of epochs >= 1"),
        ("training.schedule", {"name": "step", "gamma": 0}, "0 is out of range: must be > 0"),
        ("training.schedule", {"name": "exponential", "gamma": 0}, "0 is out of range: must be > 0"),
    ],
)
def test_values_that_would_silently_misbehave_are_config_errors(key, value, needle):
    """Accepted before and then truncated (2.5 epochs), inverted (a plateau factor that raises
    the lr, min_lr above lr), diverging (rho >= 1) or crashing (a layer of 10^23 units)."""
    raw = {
        "network": {"layers": [4, 3, 1]},
        "cost": "mse",
        "training": {"learning_rate": 0.1},
    }
    section, name = key.split(".")
    raw[section][name] = value
    with pytest.raises(ConfigError, match=re.escape(needle)):
        config_from_dict(raw)
    ok = {"name": value["name"]} if isinstance(value, dict) else [4, 3, 1]
    raw[section][name] = ok
    config_from_dict(raw)  # the same without the bad value is fine


def test_dropout_one_rate_or_one_per_hidden_layer(tmp_path):
    text = "network: {layers: [2, 3, 4, 1]}\ntraining:\n  dropout: "
    assert load_config(write(tmp_path, text + "0.25\n")).training.dropout == (0.25, 0.25)
    assert load_config(write(tmp_path, text + "[0.5, 0]\n")).training.dropout == (0.5, 0.0)
    for bad, needle in (
        ("[0.5]", "a list of 1 rates for 2 hidden layer(s)"),
        ("1", "1 is not a dropout rate"),
    ):
        err = load_error(tmp_path, text + bad + "\n")
        assert f"c.yaml:3: training.dropout: {needle}" in str(err), str(err)


def test_early_stopping_true_takes_the_documented_defaults(tmp_path):
    """README: true is {monitor: val_loss, patience: 10, min_delta: 0, restore_best: true}."""
    cfg = load_config(write(tmp_path, MINIMAL + "training: {early_stopping: true}\n"))
    assert cfg.training.early_stopping == {
        "monitor": "val_loss",
        "patience": 10,
        "min_delta": 0.0,
        "restore_best": True,
    }
    cfg = load_config(write(tmp_path, MINIMAL + "training: {early_stopping: {monitor: loss, patience: 2}}\n"))
    assert cfg.training.early_stopping == {
        "monitor": "loss",
        "patience": 2,
        "min_delta": 0.0,
        "restore_best": True,
    }
    assert (
        load_config(write(tmp_path, MINIMAL + "training: {early_stopping: false}\n")).training.early_stopping
        is None
    )


def test_adamw_weight_decay_defaults_to_a_hundredth(tmp_path):
    """README: weight_decay 0 (adamw: 0.01); a value given stays, 0 included."""
    text = MINIMAL + "training:\n  optimizer: adamw\n"
    assert load_config(write(tmp_path, text)).training.weight_decay == 0.01
    assert load_config(write(tmp_path, text + "  weight_decay: 0\n")).training.weight_decay == 0.0
    assert (
        load_config(write(tmp_path, MINIMAL + "training: {optimizer: adam}\n")).training.weight_decay == 0.0
    )


@pytest.mark.parametrize(
    "snippet, want",
    [("tab", "\t"), ("TAB", "\t"), ("'\\t'", "\t"), ("'|'", "|"), ("':'", ":")],
)
def test_delimiter_words(tmp_path, snippet, want):
    """'tab' in any case, or \\t as typed in single quotes, is the tab; any one character is itself."""
    assert load_config(write(tmp_path, MINIMAL + f"data: {{delimiter: {snippet}}}\n")).data.delimiter == want


@pytest.mark.parametrize("snippet", ["';;'", "'\"'", "''", "5"])
def test_delimiter_must_be_one_character_other_than_a_quote(tmp_path, snippet):
    err = load_error(tmp_path, MINIMAL + f"data: {{delimiter: {snippet}}}\n")
    assert "c.yaml:3: data.delimiter: " in str(err) and "is not a delimiter" in str(err)


def test_categorical_none_false_and_a_list(tmp_path):
    for word in ("none", "false"):
        cfg = load_config(write(tmp_path, MINIMAL + f"data: {{categorical: {word}}}\n"))
        assert cfg.data.categorical == ()
        assert cfg.to_dict()["data"]["categorical"] == "none"  # as README spells it, and reads back
        assert load_config(write(tmp_path, cfg.to_yaml(), "again.yaml")).data.categorical == ()
    cfg = load_config(write(tmp_path, MINIMAL + "data: {categorical: [zip, 3]}\n"))
    assert cfg.data.categorical == ("zip", "3")


def test_exclude_one_name_and_its_conflicts(tmp_path):
    cfg = load_config(write(tmp_path, MINIMAL + "data: {exclude: id}\n"))
    assert cfg.data.exclude == ("id",)
    err = load_error(tmp_path, MINIMAL + "data: {target: id, exclude: [id]}\n")
    assert "data.exclude: names the target 'id': the target cannot be left out" in str(err)
    err = load_error(tmp_path, MINIMAL + "data: {target: 2, exclude: [2]}\n")  # an index as the target
    assert "names the target '2'" in str(err)
    err = load_error(tmp_path, MINIMAL + "data: {categorical: [id], exclude: [id]}\n")
    assert "data.exclude: names 'id', which data.categorical names too" in str(err)


def test_a_test_fraction_of_zero_means_no_test_set(tmp_path):
    """As for validation: 0 holds nothing out (a fraction of 0 held out one row)."""
    assert load_config(write(tmp_path, MINIMAL + "data: {test: 0}\n")).data.test is None
    assert load_config(write(tmp_path, MINIMAL + "data: {test: 0.25}\n")).data.test == 0.25


def test_set_dash_is_standard_input(tmp_path):
    """--set data.train=- (README): '-' alone is a YAML list of one null, not the text '-'."""
    path = write(tmp_path, MINIMAL)
    assert load_config(path, overrides=["data.train=-"]).data.train == "-"
    assert load_config(path, overrides=["data.train= - "]).data.train == "-"


def test_one_override_given_as_a_string(tmp_path):
    """load_config(path, "training.epochs=5") from Python: one override, not one per character."""
    assert load_config(write(tmp_path, MINIMAL), overrides="training.epochs=5").training.epochs == 5


def test_an_empty_config_says_to_start_from_init(tmp_path):
    for text in ("", "# nothing yet\n"):
        err = load_error(tmp_path, text)
        assert str(err) == f"{tmp_path / 'c.yaml'}: the config is empty; start from `nettrain init`"


def test_a_config_with_a_byte_order_mark_loads(tmp_path):
    """Editors on Windows may start a UTF-8 file with a BOM."""
    path = tmp_path / "c.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode())
    assert load_config(path).network.layers == (2, 3, 1)


@pytest.mark.parametrize(
    "word, want", [("CPU", "cpu"), (" Gpu:2 ", "gpu:2"), ("AUTO", "auto"), ("gpu", "gpu")]
)
def test_device_words_as_the_command_line_takes_them(tmp_path, word, want):
    """--device CPU works, so device: CPU in a file must too (both go through parse_device)."""
    assert load_config(write(tmp_path, MINIMAL + f"device: '{word}'\n")).device == want


def test_auto_input_and_output_sizes(tmp_path):
    cfg = load_config(write(tmp_path, "network:\n  layers: [auto, 16, 8, auto]\n"))
    assert cfg.network.layers == (0, 16, 8, 0) and cfg.network.activation == ("relu", "relu")
    assert cfg.to_dict()["network"]["layers"] == ["auto", 16, 8, "auto"]  # and reads back so
    assert load_config(write(tmp_path, cfg.to_yaml(), "again.yaml")).network.layers == (0, 16, 8, 0)
    from nettrain.config import with_data_sizes

    assert with_data_sizes(cfg, 5, 3).network.layers == (5, 16, 8, 3)
    with pytest.raises(ConfigError, match="'auto' only for the first or the last"):
        load_config(write(tmp_path, "network:\n  layers: [4, auto, 1]\n"))


@pytest.mark.parametrize("value", ["#5", "---", "&a", " # id"])
def test_a_set_value_yaml_reads_as_nothing_is_refused(tmp_path, value):
    """'#5' is a YAML comment and '---' a document start: they read as null, which silently
    took the default (epochs 10 for the file's 5; data.exclude=#id excluded nothing)."""
    path = write(tmp_path, MINIMAL + "training: {epochs: 5}\n")
    with pytest.raises(ConfigError, match=f"YAML reads '{value.strip()}' as no value"):
        load_config(path, overrides=[f"training.epochs={value}"])
    for null in ("null", "~", "NULL"):
        assert load_config(path, overrides=[f"training.epochs={null}"]).training.epochs == 10


def test_a_path_through_a_link_and_dot_dot_names_the_file_the_system_finds(tmp_path, monkeypatch):
    """'lnk/../x' is x beside lnk's target, as the system reads it: paths were tidied as text
    (os.path.abspath), which named another file, or none; the run folder's temporary files too
    (tempfile.mkstemp tidies its folder so: the trained model could not be written)."""
    from nettrain import fit

    (tmp_path / "real" / "sub").mkdir(parents=True)
    (tmp_path / "real" / "rt.csv").write_text("x1,x2,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    (tmp_path / "lnk").symlink_to(tmp_path / "real" / "sub")
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, "network: {layers: [2, 2, 1]}\ntraining: {epochs: 2}\n")
    cfg = load_config(path, overrides=["data.train=lnk/../rt.csv"]).with_output("lnk/../out")
    assert cfg.data.train == str(tmp_path / "lnk" / ".." / "rt.csv")
    fit(cfg)
    assert sorted(p.name for p in (tmp_path / "real" / "out").iterdir()) == [
        "config.yaml",
        "history.jsonl",
        "model.npz",
    ]


def test_a_control_character_is_one_error_line_with_its_line(tmp_path):
    """PyYAML's reader error ended with a second line, 'in "<unicode string>", position 22'."""
    path = tmp_path / "c.yaml"
    path.write_text("network: {layers: [2, 1]}\ndata: {}\x01\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (
        f"{path}:2: YAML syntax error: unacceptable character #x0001: special characters are not allowed"
    )


def test_the_resolved_config_quotes_y_and_n(tmp_path):
    """YAML 1.1's spec reads y and n as booleans (some readers do): text y is written quoted."""
    from nettrain import config_from_dict

    cfg = config_from_dict({"network": {"layers": [2, 1]}, "data": {"target": "y", "exclude": ["n", "N"]}})
    text = cfg.to_yaml()
    assert "target: 'y'" in text and "exclude: ['n', 'N']" in text
    assert yaml.safe_load(text)["data"]["target"] == "y"


def test_a_mapping_given_by_set_merges_into_the_section(tmp_path):
    """--set training={epochs: 5} replaced the whole section: the file's learning rate went
    back to the default without a word."""
    path = write(
        tmp_path,
        MINIMAL + "training: {epochs: 50, learning_rate: 0.5, optimizer: {name: adam, beta1: 0.8}}\n",
    )
    cfg = load_config(path, overrides=["training={epochs: 5, optimizer: {beta2: 0.99}}"])
    assert cfg.training.epochs == 5 and cfg.training.learning_rate == 0.5
    assert cfg.training.optimizer == "adam" and cfg.training.optimizer_params["beta1"] == 0.8
    assert cfg.training.optimizer_params["beta2"] == 0.99
    cfg = load_config(path, overrides=["training.learning_rate=null"])  # a key back to its default
    assert cfg.training.learning_rate != 0.5
