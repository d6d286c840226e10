"""The YAML config: read, override with ``--set``, validate, and freeze into dataclasses.

Every problem names the file and line (or the ``--set`` that caused it), the key path, the value
and what is allowed, with a "did you mean" for near-misses; all problems of a file are collected
and raised together as one ConfigError. Paths inside a config file resolve against the file's
folder; a path given on the command line (``--output``) resolves against the current directory.
"""

from __future__ import annotations

import functools
import math
import os
import re
import stat
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path, PurePath
from typing import Any

from .activations import ACTIVATIONS
from .backend import DEVICES, parse_device
from .costs import COSTS, OUTPUTS
from .errors import BackendError, ConfigError, did_you_mean, one_of, unreadable
from .network import INITS
from .optimizers import DEFAULT_LR, DEFAULT_WEIGHT_DECAY, OPTIMIZERS
from .schedules import SCHEDULES

DTYPES = ("float32", "float64")

#: network.layers' first or last size written as 'auto': the data decides it (the inputs after
#: one-hot encoding; the classes, or the target's columns). Held as 0 until ``with_data_sizes``.
AUTO = 0


@dataclass(frozen=True)
class DataConfig:
    """Where the data is and how to read it. Paths are absolute once loaded (or '-' for stdin)."""

    train: str | None = None
    test: str | float | None = None  # a path, or a fraction of train held out for the end
    target: str | int | None = None  # column name or 0-based index; None: the last column
    validation: float | str = 0.0  # fraction of train held out, or a path
    #: True: z-score the inputs and a regression target; "inputs": the inputs only (the target
    #: stays in its units, as scikit-learn's StandardScaler in a pipeline); False: neither
    standardize: bool | str = True
    missing: str = "error"  # error | drop | mean
    categorical: str | tuple[str, ...] = "auto"  # auto, or the columns to one-hot encode
    delimiter: str | None = None  # None: sniffed from the file
    header: bool = True
    exclude: tuple[str, ...] = ()  # columns left out (ids, leaks): names, or indices as text
    #: the input columns, as exclude names them; None: every column but the target and exclude's.
    #: The alternative to exclude: the reader turns it into the exclude list of the training
    #: file's other columns (``excluded_by_features``), so everything after works as for exclude
    features: tuple[str, ...] | None = None
    #: the seed of the validation and test hold-outs; None: training.seed's (as before the key
    #: existed). Set, training.seed varies the weights, shuffles and dropout over one fixed split
    split_seed: int | None = None
    #: the column holding each training row's sample weight (a name, or a 0-based index as
    #: text), which is neither an input nor the target; None: every row weighs the same
    weight: str | None = None


@dataclass(frozen=True)
class NetworkConfig:
    """Layer sizes (input, hidden..., output; AUTO where the data decides), one activation per
    hidden layer, the output function."""

    layers: tuple[int, ...]
    activation: tuple[str, ...]
    output: str
    init: str = "auto"
    init_scale: float = 0.01  # the standard deviation of init: normal
    output_bias: bool = True


@dataclass(frozen=True)
class TrainingConfig:
    learning_rate: float = 0.01  # sgd's; a loaded config gets its optimizer's (DEFAULT_LR)
    epochs: int = 10
    batch_size: int = 32
    seed: int = 0
    optimizer: str = "sgd"
    optimizer_params: dict = field(default_factory=dict)  # e.g. {"momentum": 0.9}
    schedule: str = "constant"
    schedule_params: dict = field(default_factory=dict)
    weight_decay: float = 0.0
    #: weight decay on the biases too (PyTorch's optimizers decay every parameter); False: W only
    decay_biases: bool = False
    dropout: tuple[float, ...] = ()  # one rate per hidden layer
    input_dropout: float = 0.0  # the dropout rate of the inputs a(1) = x while training
    clip_norm: float | None = None
    early_stopping: dict | None = None  # monitor, patience, min_delta, restore_best
    checkpoint_every: int = 0  # epochs; 0: only when interrupted
    checkpoint_keep: int = 3
    gradient_norms: bool = False  # record each layer's ||dC/dW(l)|| per epoch (history: grad_norm)
    #: None, 'balanced', or {class label as text: weight}: see class_weight_vector
    class_weight: str | dict | None = None


@dataclass(frozen=True)
class Config:
    """A validated config. ``path`` is the file it came from (None for one built in code)."""

    network: NetworkConfig
    data: DataConfig = field(default_factory=DataConfig)
    cost: str = "mse"
    training: TrainingConfig = field(default_factory=TrainingConfig)
    device: str = "auto"
    dtype: str = "float32"
    output: str = "runs/run"
    path: str | None = None
    #: where each key was given (the file's lines, the --set options), for problems found after
    #: loading; None for a config built in code
    where: _Where | None = field(default=None, compare=False, repr=False)

    def problem(self, path: tuple, message: str) -> str:
        """A problem with the key ``path`` worded as the loader words its own:
        'c.yaml:12: training.early_stopping.monitor: ...', or '--set KEY=VALUE: ...'."""
        prefix = self.where(path) if self.where is not None else ""
        return f"{prefix}{'.'.join(path)}: {message}"

    def origin(self, path: tuple) -> str | None:
        """Where the key ``path`` was given: 'c.yaml:4', '--set data.target=x', or None."""
        return self.where.origin(path) if self.where is not None else None

    def given(self, path: tuple) -> str | None:
        """Where the key ``path`` was given, worded for a message about the data:
        'data.target in c.yaml:4' or 'from --set data.target=x'; None when not known."""
        origin = self.origin(path)
        if origin is None:
            return None
        return f"from {origin}" if origin.startswith("--set ") else f"{'.'.join(path)} in {origin}"

    @property
    def task(self) -> str:
        """'classification' for the cross-entropies, 'regression' for mse."""
        return "classification" if COSTS[self.cost].classification else "regression"

    @property
    def split_seed(self) -> int:
        """The seed the validation and test fractions are held out with: data.split_seed, or
        training.seed when that is unset."""
        return self.training.seed if self.data.split_seed is None else self.data.split_seed

    def to_dict(self) -> dict[str, Any]:
        """The resolved config, every default filled in: YAML-ready and loadable again."""
        d = asdict(replace(self, where=None))
        d.pop("path")
        d.pop("where")
        d = {k: d[k] for k in ("data", "network", "cost", "training", "device", "dtype", "output")}
        if isinstance(self.data.categorical, tuple):
            d["data"]["categorical"] = list(self.data.categorical) if self.data.categorical else "none"
        d["data"]["exclude"] = list(self.data.exclude)
        d["data"]["features"] = list(self.data.features) if self.data.features is not None else None
        d["network"]["layers"] = ["auto" if k == AUTO else k for k in self.network.layers]
        acts = list(self.network.activation)
        d["network"]["activation"] = acts[0] if len(set(acts)) == 1 else acts
        if not acts:
            d["network"]["activation"] = "relu"
        net, tr = d["network"], d["training"]
        scale = net.pop("init_scale")
        if net["init"] == "normal":
            net["init"] = {"name": "normal", "scale": scale}
        for key in ("optimizer", "schedule"):
            params = tr.pop(f"{key}_params")
            if params:
                tr[key] = {"name": tr[key], **params}
        if tr["early_stopping"] is None:
            tr["early_stopping"] = False
        drop = list(self.training.dropout)
        tr["dropout"] = drop[0] if drop and len(set(drop)) == 1 else (drop or 0.0)
        return d

    def to_yaml(self) -> str:
        import yaml

        return yaml.dump(self.to_dict(), Dumper=_yaml_types()[1], sort_keys=False, default_flow_style=False)

    def with_output(self, output: str) -> Config:
        return replace(self, output=absolute_path(output))


def absolute_path(path: str, base=None) -> str:
    """``path`` joined to ``base`` (default: the current folder), naming the same file from
    anywhere: links are kept (/dev/stdin stays /dev/stdin), and a '..' is tidied away only where
    that names the same file (configs/../data/x.csv is data/x.csv; lnk/../x is x beside the
    link's target, as the system reads it, and stays as it is)."""
    joined = os.path.join(base if base is not None else os.getcwd(), path)
    tidy = os.path.normpath(joined)
    if ".." not in Path(path).parts or os.path.realpath(joined) == os.path.realpath(tidy):
        return tidy
    return joined


# -- reading ---------------------------------------------------------------------------------------


class _Where:
    """Finds the line of a key path in the YAML source, and knows which keys came from --set."""

    def __init__(self, filename: str, lines: dict[tuple, int], overridden: dict[tuple, str]):
        self.filename = filename
        self.lines = lines
        self.overridden = overridden

    def is_override(self, path: tuple) -> bool:
        """Whether this key's value came from a --set (itself or a mapping above it)."""
        return any(path[:n] in self.overridden for n in range(len(path), 0, -1))

    def origin(self, path: tuple) -> str:
        """'--set KEY=VALUE' when a --set gave the key (or a mapping above it), else 'FILE:LINE'
        of the key or of the nearest mapping above it that the file has, else 'FILE'."""
        for n in range(len(path), 0, -1):
            if path[:n] in self.overridden:
                return f"--set {self.overridden[path[:n]]}"
        for n in range(len(path), 0, -1):
            if path[:n] in self.lines:
                return f"{self.filename}:{self.lines[path[:n]]}"
        return self.filename

    def __call__(self, path: tuple) -> str:
        return f"{self.origin(path)}: "


# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution): the plain scalars
# that are not strings. PyYAML follows YAML 1.1, where 010 is octal 8, 1:30 is 90 (base 60),
# 1e-3 and 0o10 are strings, yes/no/on/off are booleans and 2024-01-31 is a date.
YAML12_RESOLVERS = (
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+.0123456789"),
    ),
)


@functools.cache
def _yaml_types():
    """PyYAML's safe loader and dumper, taught the YAML 1.2 core schema that README promises.

    The loader resolves plain scalars by YAML 1.2 only: ``seed: 010`` is 10 (not octal 8),
    ``0o10`` is 8, ``0x1F`` 31, ``1e-3`` a float, and ``1:30``, ``yes``, ``off`` and
    ``2024-01-31`` stay strings. (The ``<<`` merge key of YAML 1.1 is kept.) The dumper knows
    both schemas, so that a string either would read as something else ('0o10', 'yes', '1e3')
    is written quoted and reads back as a string with any YAML reader.
    """
    import re

    import yaml
    from yaml.constructor import ConstructorError

    class Loader(yaml.SafeLoader):
        yaml_implicit_resolvers: dict = {}

    class Dumper(yaml.SafeDumper):
        pass

    Loader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])
    for tag, pattern, first in YAML12_RESOLVERS:
        for cls in (Loader, Dumper):
            cls.add_implicit_resolver(tag, re.compile(pattern), first)

    def construct_int(loader, node):
        text = loader.construct_scalar(node)
        if re.fullmatch(r"[-+]?[0-9]+", text):
            return int(text, 10)  # 010 is ten: YAML 1.2 has no leading-zero octal
        if re.fullmatch(r"0o[0-7]+|0x[0-9a-fA-F]+", text):
            return int(text[2:], 8 if text[1] == "o" else 16)
        raise ConstructorError(None, None, f"'{text}' is not a YAML 1.2 integer", node.start_mark)

    def construct_float(loader, node):
        text = loader.construct_scalar(node)
        lower = text.lower()
        if lower in (".inf", "+.inf", "-.inf", ".nan"):
            return float(lower.replace(".", ""))
        if re.fullmatch(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?", text):
            return float(text)
        raise ConstructorError(None, None, f"'{text}' is not a YAML 1.2 number", node.start_mark)

    Loader.add_constructor("tag:yaml.org,2002:int", construct_int)
    Loader.add_constructor("tag:yaml.org,2002:float", construct_float)

    def flow_list(dumper, data):  # lists of sizes on one line; mappings as blocks
        return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)

    Dumper.add_representer(list, flow_list)
    # YAML 1.1's spec reads y and n as booleans too (some readers do; PyYAML does not): quoted
    Dumper.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:y|Y|n|N)$"), list("yYnN"))
    return Loader, Dumper


def _key_lines(
    node, prefix: tuple = (), seen: set | None = None, twice: list | None = None
) -> dict[tuple, int]:
    """Map each key path of a composed YAML mapping to its 1-based line number (of the last
    occurrence: the one whose value PyYAML keeps), and append to ``twice`` (path, [lines]) for
    each key given more than once in the same mapping.

    Each node is visited once: a YAML alias repeats a node, and following every repetition of
    nested aliases (a "billion laughs" file) would take exponential time.
    """
    import yaml

    seen = set() if seen is None else seen
    lines: dict[tuple, int] = {}
    if isinstance(node, yaml.MappingNode) and id(node) not in seen:
        seen.add(id(node))
        here: dict[tuple, list[int]] = {}  # (tag, text) of a key -> its lines in this mapping
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                path = (*prefix, key_node.value)
                lines[path] = key_node.start_mark.line + 1
                if key_node.tag != "tag:yaml.org,2002:merge":  # (<< merges; keys beside it win)
                    here.setdefault((key_node.tag, key_node.value), []).append(lines[path])
                lines.update(_key_lines(value_node, path, seen, twice))
        if twice is not None:
            twice.extend(((*prefix, key[1]), at) for key, at in here.items() if len(at) > 1)
    return lines


def _twice(path: tuple, at: list[int] | None = None) -> str:
    """'training.epochs appears twice (lines 7 and 9)'; without the lines when ``at`` is None
    or all on one line."""
    n = len(at) if at else 2
    times = "twice" if n == 2 else f"{n} times"
    lines = ""
    if at and len(set(at)) > 1:
        lines = " (lines " + ", ".join(str(k) for k in at[:-1]) + f" and {at[-1]})"
    elif at:
        lines = f" (on line {at[0]})"
    return f"{'.'.join(path)} appears {times}{lines}; YAML keys must be unique: keep one"


def _load_yaml(text: str) -> tuple[Any, dict[tuple, int], list]:
    """(the value, the key lines, the keys given twice) of YAML text, parsed once."""
    loader = _yaml_types()[0](text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}, []
        twice: list = []
        lines = _key_lines(node, twice=twice)  # (before constructing: a << merge edits the node)
        return loader.construct_document(node), lines, twice
    finally:
        loader.dispose()


def read_text(path: str | Path, what: str = "config file") -> str:
    """A text file's contents, or a ConfigError that says plainly why it cannot be read.

    A model file or a run folder given where a config goes (`nettrain gradcheck runs/digits`)
    is named as such, with the run's config.yaml when there is one."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        if _is_zip(path):
            raise ConfigError(
                f"{what} '{path}' is a model file (an .npz archive), not a YAML config"
                + _run_config(Path(path).parent)
            ) from None
        raise ConfigError(f"{what} '{path}' is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except IsADirectoryError as exc:
        raise ConfigError(unreadable(what, path, exc) + _run_config(Path(path))) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(unreadable(what, path, exc)) from None


def _is_zip(path: str | Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) in (b"PK\x03\x04", b"PK\x05\x06")
    except OSError:
        return False


def _run_config(folder: Path) -> str:
    """'; its run's config is 'runs/digits/config.yaml'' where the folder holds one, else ''."""
    config = folder / "config.yaml"
    return f"; its run's config is '{config}'" if config.is_file() else ""


def parse_yaml(text: str, filename: str) -> tuple[Any, dict[tuple, int], list[str]]:
    """Parse YAML text into plain Python values, a map of key paths to line numbers, and the
    problems of keys given twice in a mapping (reported with the config's other problems)."""
    import yaml

    try:
        data, lines, twice = _load_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{filename}:{mark.line + 1}:{mark.column + 1}" if mark else filename
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"{where}: YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:  # a ReaderError (a control character) has a position only
        position = getattr(exc, "position", None)
        where = filename
        if isinstance(position, int):
            where = f"{filename}:{text.count(chr(10), 0, position) + 1}"
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{where}: YAML syntax error: {problem}") from None
    except RecursionError:
        raise ConfigError(f"{filename}: YAML nested too deeply") from None
    except ValueError as exc:  # an integer of more than 4300 digits (int's conversion limit)
        raise ConfigError(f"{filename}: a value cannot be read ({exc})") from None
    twice.sort(key=lambda t: t[1][-1])
    return data, lines, [f"{filename}:{at[-1]}: {_twice(path, at)}" for path, at in twice]


def parse_override(text: str) -> tuple[tuple[str, ...], Any]:
    """'training.epochs=5' -> (('training', 'epochs'), 5). The value is parsed as YAML."""
    import yaml

    key, sep, value = text.partition("=")
    path = tuple(part.strip() for part in key.split("."))
    if not sep or not all(path):
        raise ConfigError(f"--set '{text}': expected key.path=value, e.g. training.epochs=5")
    if not value.strip() and len(value) != 1:  # (one blank character is a delimiter, below)
        # `--set training.epochs=$UNSET` would otherwise drop the file's value for the default
        raise ConfigError(
            f"--set '{text}': the value is empty; write {key.strip()}=null to ask for the default"
        )
    if value.strip() == "-":  # standard input ('-' alone is a YAML list of one null)
        return path, "-"
    if value.strip() == "~":  # YAML's null, as in a config file
        return path, None
    if len(value) == 1 and not value.isalnum():  # a delimiter such as , ; | (not valid YAML alone)
        return path, value
    try:
        parsed, _, twice = _load_yaml(value)
    except (yaml.YAMLError, ValueError, RecursionError) as exc:  # ValueError: an int of > 4300 digits
        problem = getattr(exc, "problem", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ConfigError(f"--set '{text}': the value is not valid YAML ({problem})") from None
    if twice:
        raise ConfigError([f"--set '{text}': {_twice((*path, *inner))}" for inner, _ in twice])
    if parsed is None and value.strip() not in ("null", "Null", "NULL"):
        # '#5' is a YAML comment, '---' a document start: no value, which would silently be the
        # default, as an empty value would
        raise ConfigError(
            f"--set '{text}': YAML reads '{value.strip()}' as no value ('#' starts a comment); quote "
            f"it ({key.strip()}='\"{value.strip()}\"') for text, or write {key.strip()}=null for the default"
        )
    return path, parsed


def _merge(into: dict, new: dict) -> None:
    """``new``'s keys into ``into``, mappings merged key by key."""
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def apply_overrides(raw: dict, overrides: list[str]) -> dict[tuple, str]:
    """Apply ``--set`` overrides to the raw mapping in place; returns which paths they touched."""
    touched: dict[tuple, str] = {}
    for text in overrides:
        path, value = parse_override(text)
        node = raw
        for depth, part in enumerate(path[:-1]):
            child = node.get(part)
            if child is None:  # a mapping made for this --set: its problems are the --set's
                child = node[part] = {}
                touched[path[: depth + 1]] = text
            if not isinstance(child, dict):
                dotted = ".".join(path[: depth + 1])
                raise ConfigError(f"--set '{text}': {dotted} is not a mapping, so it has no keys")
            node = child
        if isinstance(value, dict) and isinstance(node.get(path[-1]), dict):
            # training={epochs: 5} sets epochs and keeps the section's other keys (replacing
            # the mapping dropped them silently: the learning rate went back to its default)
            _merge(node[path[-1]], value)
        else:
            node[path[-1]] = value
        touched[path] = text
    return touched


# -- validating ------------------------------------------------------------------------------------


SECTIONS = {
    (): ("data", "network", "cost", "training", "device", "dtype", "output"),
    ("data",): (
        "train",
        "test",
        "target",
        "validation",
        "standardize",
        "missing",
        "categorical",
        "delimiter",
        "header",
        "exclude",
        "features",
        "split_seed",
        "weight",
    ),
    ("network",): ("layers", "activation", "output", "init", "output_bias"),
    ("training",): (
        "learning_rate",
        "epochs",
        "batch_size",
        "seed",
        "optimizer",
        "schedule",
        "weight_decay",
        "decay_biases",
        "dropout",
        "input_dropout",
        "clip_norm",
        "early_stopping",
        "checkpoint_every",
        "checkpoint_keep",
        "gradient_norms",
        "class_weight",
    ),
}

#: what Keras, scikit-learn and PyTorch call a setting, and where nettrain keeps it: the "did
#: you mean" of an unknown key, where spelling alone finds nothing close (lr is far from
#: learning_rate, max_iter from epochs)
KNOWN_KEYS = {
    "lr": "training.learning_rate",
    "learning_rate_init": "training.learning_rate",
    "max_iter": "training.epochs",
    "n_epochs": "training.epochs",
    "num_epochs": "training.epochs",
    "max_epochs": "training.epochs",
    "validation_split": "data.validation",
    "validation_fraction": "data.validation",
    "hidden_layer_sizes": "network.layers",
    "patience": "training.early_stopping: {patience: N}",
    "n_iter_no_change": "training.early_stopping: {patience: N}",
    "random_state": "training.seed",
    "alpha": "training.weight_decay",
    "l2": "training.weight_decay",
    "bias_decay": "training.decay_biases",
    "bias_regularizer": "training.decay_biases",
    "kernel_initializer": "network.init",
    "momentum": "training.optimizer: {name: momentum, momentum: 0.9}",
    "loss": "cost",
    "solver": "training.optimizer",
    "clipnorm": "training.clip_norm",
    "max_grad_norm": "training.clip_norm",
    "validation_data": "data.validation",
    "nesterovs_momentum": "training.optimizer: {name: nesterov, momentum: 0.9}",
    "nesterov": "training.optimizer: {name: nesterov, momentum: 0.9}",
    "tol": "training.early_stopping: {min_delta: X}",
    "min_delta": "training.early_stopping: {min_delta: X}",
    "restore_best_weights": "training.early_stopping: {restore_best: true}",
    "max_norm": "training.clip_norm",
    "sample_weight": "data.weight",
    "sample_weights": "data.weight",
    "weights": "data.weight",
    "weight_column": "data.weight",
}

#: other libraries' settings nettrain has no key for, because it always does what they ask for
KNOWN_AS_BUILT_IN = {
    "shuffle": "every epoch shuffles the training rows",
    "stratify": "a fraction in data.validation or data.test is stratified by class",
    "verbose": "progress is fit's own: -q/--quiet silences it",
}

#: other libraries' names for a value: cost and activation names of Keras, scikit-learn and
#: PyTorch (lower case), each taken only where the value it names is one of the choices
KNOWN_VALUES = {
    "categorical_crossentropy": "cross_entropy",
    "sparse_categorical_crossentropy": "cross_entropy",
    "crossentropy": "cross_entropy",
    "crossentropyloss": "cross_entropy",
    "log_loss": "cross_entropy",
    "nll": "cross_entropy",
    "binary_crossentropy": "binary_cross_entropy",
    "bce": "binary_cross_entropy",
    "bcewithlogitsloss": "binary_cross_entropy",
    "mean_squared_error": "mse",
    "squared_error": "mse",
    "mseloss": "mse",
    "logistic": "sigmoid",
    "linear": "identity",
    "kaiming_uniform": "he_uniform",
    "kaiming_normal": "he_normal",
    # a family named alone: its uniform scheme, as network.init: auto draws it (and PyTorch's
    # nn.Linear, kaiming_uniform_; Keras's Dense, glorot_uniform)
    "kaiming": "he_uniform",
    "he": "he_uniform",
    "xavier": "xavier_uniform",
    "glorot": "glorot_uniform",
    "steplr": "step",
    "exponentiallr": "exponential",
    "cosineannealinglr": "cosine",
    "reducelronplateau": "plateau",
    "torch": "pytorch",
    "scikit-learn": "sklearn",
    "scikit_learn": "sklearn",
    "absolute": "abs",
    "relative": "rel",
}


#: other libraries' names for an optimizer's parameter (PyTorch's RMSprop alpha is rho)
KNOWN_PARAMETERS = {
    "alpha": "rho",
    "epsilon": "eps",
    "beta_1": "beta1",
    "beta_2": "beta2",
    "eta_min": "min_lr",
}

#: other libraries' names for one optimizer's or schedule's parameters, where the meaning
#: needs more than a rename (Keras's ReduceLROnPlateau(min_delta) is an absolute threshold)
KNOWN_NAMED_PARAMETERS = {
    ("plateau", "min_delta"): "threshold_mode: abs, threshold: X",
    ("plateau", "epsilon"): "threshold_mode: abs, threshold: X",  # (older Keras)
    # PyTorch's and Keras's mode (min | max): the direction follows the monitored value
    ("plateau", "mode"): "monitor: val_loss (mode min) or val_accuracy (max)",
}

#: scikit-learn's and Keras's names for early stopping's keys
KNOWN_EARLY_STOPPING = {
    "n_iter_no_change": "patience",
    "tol": "min_delta",
    "restore_best_weights": "restore_best",
}


def _known_as(word, choices, table: dict) -> str:
    """' (did you mean 'x'?)' for another library's name of a choice (or the choice in another
    case: ReLU, SGD; or PyTorch's in-place function of it, with its trailing '_':
    kaiming_uniform_, xavier_normal_), else the spelling's."""
    name = str(word).lower()
    name = name.rstrip("_") if name.rstrip("_") else name
    found = table.get(name, name)
    if found is not None and found in [str(c) for c in choices]:
        return f" (did you mean '{found}'?)"
    return did_you_mean(word, choices)


def _key_hint(key, path: tuple, allowed) -> str:
    """The "did you mean" of an unknown key: another library's name for a setting (lr, max_iter,
    validation_split, shuffle), else the same key in another section (network.dropout is
    training.dropout), else a near spelling in this section, else ''."""
    found = KNOWN_KEYS.get(str(key).lower())
    if found is not None:
        return f" (did you mean '{found}'?)"
    if str(key).lower() in KNOWN_AS_BUILT_IN:
        return f" (no such setting: {KNOWN_AS_BUILT_IN[str(key).lower()]})"
    for other, keys in SECTIONS.items():
        if other != path and key in keys:
            return f" (did you mean '{'.'.join((*other, str(key)))}'?)"
    return did_you_mean(key, allowed)


class _Checker:
    """Collects problems while converting the raw mapping into the dataclasses."""

    def __init__(self, where: _Where, base: Path):
        self.where = where
        self.base = base
        self.problems: list[str] = []

    def problem(self, path: tuple, message: str) -> None:
        self.problems.append(f"{self.where(path)}{'.'.join(path)}: {message}")

    def section(self, raw: Any, path: tuple) -> dict:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.problem(path, f"expected a mapping of keys, got {_show(raw)}")
            return {}
        allowed = SECTIONS[path]
        for key in raw:
            if key in allowed:
                continue
            self.problem(
                (*path, str(key)),
                f"unknown key{_key_hint(key, path, allowed)}; allowed keys: " + ", ".join(allowed),
            )
        return raw

    def number(
        self,
        raw: dict,
        path: tuple,
        default,
        *,
        integer=False,
        low=None,
        high=None,
        low_open=False,
        high_open=False,
    ):
        key = path[-1]
        if key not in raw or raw[key] is None:
            return default
        value = raw[key]
        kind = "an integer" if integer else "a number"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.problem(path, f"{_show(value)} is not {kind}{_yaml11_hint(value)}")
            return default
        if integer and isinstance(value, float):
            if not value.is_integer():
                self.problem(path, f"{_show(value)} is not {kind}")
                return default
            value = int(value)
        if isinstance(value, float) and not math.isfinite(value):
            self.problem(path, f"{_show(value)} is not a finite number")
            return default
        if not integer and isinstance(value, int):
            try:  # a huge YAML integer has no float: say so instead of an OverflowError
                value = float(value)
            except OverflowError:
                self.problem(path, "is too large a number")
                return default
        too_low = low is not None and (value <= low if low_open else value < low)
        too_high = high is not None and (value >= high if high_open else value > high)
        if too_low or too_high:
            lo = "" if low is None else f"{'>' if low_open else '>='} {low}"
            hi = "" if high is None else f"{'<' if high_open else '<='} {high}"
            bounds = " and ".join(filter(None, [lo, hi]))
            self.problem(path, f"{_show(value)} is out of range: must be {bounds}")
            return default
        return value

    def word(self, raw: dict, path: tuple, default, choices):
        key = path[-1]
        if key not in raw or raw[key] is None:
            return default
        value = raw[key]
        if not isinstance(value, str):
            self.problem(path, f"{_show(value)} is not a word; {one_of(choices)}")
            return default
        if value not in choices:
            self.problem(
                path, f"'{value}' is not known{_known_as(value, choices, KNOWN_VALUES)}; {one_of(choices)}"
            )
            return default
        return value

    def path_value(self, raw: dict, path: tuple, default=None, stdin_ok=True):
        key = path[-1]
        if key not in raw or raw[key] is None:
            return default
        value = raw[key]
        if not isinstance(value, str) or not value.strip():
            self.problem(path, f"{_show(value)} is not a file path")
            return default
        if value == "-":
            if stdin_ok:
                return "-"
            self.problem(path, "'-' (standard input) is not allowed here")
            return default
        # a path typed on the command line (--set) is relative to the current folder; one in
        # the file, to the file's folder
        base = Path.cwd() if self.where.is_override(path) else self.base
        try:
            if "\0" in value:
                raise ValueError("embedded null byte")
            # absolute, with links kept: /dev/stdin or a process substitution (/dev/fd/63)
            # resolved would name /proc/PID/fd/pipe:[N], which no one can open; tidied only
            # where no '..' could cross a link (lnk/../x is x beside lnk's target)
            return absolute_path(str(Path(value).expanduser()), base)  # (~nosuchuser: an error)
        except (RuntimeError, ValueError, OSError) as exc:  # '~nosuchuser/x', a NUL byte
            self.problem(path, f"{_show(value)} is not a usable file path ({exc})")
            return default

    def named(self, raw: dict, path: tuple, default: str, registry: dict[str, dict]):
        """A word, or a mapping with ``name:`` and that name's parameters (numbers; a few words).

        Returns (name, {parameter: value}): every parameter of that name, its default where the
        config gives none, so that the resolved config (--dry-run, the run's config.yaml) shows
        what the run uses.
        """
        key = path[-1]
        value = raw.get(key)
        if value is None:
            return default, dict(registry[default])
        if isinstance(value, str):
            name = self.word(raw, path, default, tuple(registry))
            return name, dict(registry.get(name, {}))
        if not isinstance(value, dict):
            self.problem(path, f"{_show(value)} is not a name or a mapping with 'name:'; {one_of(registry)}")
            return default, {}
        name = self.word(value, (*path, "name"), None, tuple(registry))
        if name is None:
            if "name" not in value:
                # (--set training.optimizer.lr=0.01 onto `optimizer: sgd` makes {lr: 0.01})
                elsewhere = [f"'{k}'{h}" for k in value if k not in registry and (h := _key_hint(k, (), ()))]
                also = f"; and it has {', '.join(elsewhere)}" if elsewhere else ""
                self.problem(path, f"a mapping needs 'name:', {one_of(registry)}{also}")
            return default, {}
        allowed = registry[name]
        params = {}
        for k, v in value.items():
            if k == "name":
                continue
            if k not in allowed:
                known = KNOWN_NAMED_PARAMETERS.get((name, str(k).lower()))
                hint = (
                    f" (did you mean '{known}'?)"
                    if known
                    else _known_as(k, allowed, KNOWN_PARAMETERS) or _key_hint(k, (), ())
                )
                listed = ", ".join(allowed) or "none"
                self.problem(
                    (*path, str(k)), f"'{name}' has no parameter '{k}'{hint}; its parameters: {listed}"
                )
                continue
            if isinstance(allowed[k], str):  # a word parameter (plateau's monitor, threshold_mode)
                words = WORD_PARAMETERS[k]
                if v not in words:
                    hint = _known_as(v, words, KNOWN_VALUES) if isinstance(v, str) else ""
                    self.problem((*path, k), f"{_show(v)} is not known{hint}; one of: " + ", ".join(words))
                    continue
                params[k] = v
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not _finite(v) or v < 0:
                self.problem((*path, k), f"{_show(v)} is not a number >= 0")
                continue
            params[k] = v
        return name, {**allowed, **params}

    def boolean(self, raw: dict, path: tuple, default: bool) -> bool:
        key = path[-1]
        if key not in raw or raw[key] is None:
            return default
        if not isinstance(raw[key], bool):
            self.problem(path, f"{_show(raw[key])} is not true or false{_yaml11_hint(raw[key])}")
            return default
        return raw[key]


MONITORS = ("val_loss", "val_accuracy", "val_r2", "loss")

#: the words a word parameter of an optimizer or schedule takes
WORD_PARAMETERS = {
    "monitor": ("auto", *MONITORS),
    "threshold_mode": ("rel", "abs"),  # PyTorch's ReduceLROnPlateau's names
}

#: data.standardize's choices besides true and false
STANDARDIZE_WORDS = ("inputs",)


def _standardize(c: _Checker, d: dict) -> bool | str:
    """data.standardize: true (inputs and a regression target), false (neither) or inputs."""
    value = d.get("standardize")
    if value is None:
        return True
    if isinstance(value, bool) or value in STANDARDIZE_WORDS:
        return value
    hint = _yaml11_hint(value) or (
        did_you_mean(value, ("true", "false", *STANDARDIZE_WORDS)) if isinstance(value, str) else ""
    )
    c.problem(("data", "standardize"), f"{_show(value)} is not known{hint}; one of: true, false, inputs")
    return True


def _dropout(c: _Checker, t: dict, hidden: int) -> tuple[float, ...]:
    raw = t.get("dropout")
    path = ("training", "dropout")
    if raw is None:
        return (0.0,) * hidden
    rates = raw if isinstance(raw, list) else [raw]
    if isinstance(raw, list) and len(raw) != hidden:
        c.problem(
            path,
            f"a list of {len(raw)} rates for {hidden} hidden layer(s): give one per "
            "hidden layer, or one number for all",
        )
        return (0.0,) * hidden
    out = []
    for r in rates:
        if isinstance(r, bool) or not isinstance(r, (int, float)) or not 0 <= r < 1:
            c.problem(path, f"{_show(r)} is not a dropout rate: must be >= 0 and < 1")
            return (0.0,) * hidden
        out.append(float(r))
    return tuple(out) if isinstance(raw, list) else (out[0],) * hidden


def _early_stopping(c: _Checker, t: dict) -> dict | None:
    raw = t.get("early_stopping")
    path = ("training", "early_stopping")
    if raw is None or raw is False:
        return None
    if raw is True:
        raw = {}
    if not isinstance(raw, dict):
        c.problem(
            path,
            f"{_show(raw)} is not true, false or a mapping (monitor, patience, min_delta, restore_best)"
            + _yaml11_hint(raw),
        )
        return None
    allowed = ("monitor", "patience", "min_delta", "restore_best")
    for key in raw:
        if key not in allowed:
            hint = _known_as(key, allowed, KNOWN_EARLY_STOPPING)
            c.problem((*path, str(key)), f"unknown key{hint}; allowed keys: " + ", ".join(allowed))
    return {
        "monitor": c.word(raw, (*path, "monitor"), "val_loss", MONITORS),
        "patience": c.number(raw, (*path, "patience"), 10, integer=True, low=1),
        "min_delta": float(c.number(raw, (*path, "min_delta"), 0.0, low=0)),
        "restore_best": c.boolean(raw, (*path, "restore_best"), True),
    }


def _device_word(value: Any) -> str:
    """A device as written in a config, normalised ('GPU:1' -> 'gpu:1'); BackendError if none."""
    if not isinstance(value, str):
        raise BackendError(f"{value!r} is not a device")
    kind, index = parse_device(value)
    return f"gpu:{index}" if kind == "gpu" and ":" in value else kind


def with_data_sizes(config: Config, n_inputs: int, n_outputs: int) -> Config:
    """The config with network.layers' 'auto' sizes filled in from the data (unchanged when it
    has none): what a run, its model and its checkpoints record."""
    layers = config.network.layers
    if AUTO not in layers:
        return config
    sizes = (
        n_inputs if layers[0] == AUTO else layers[0],
        *layers[1:-1],
        n_outputs if layers[-1] == AUTO else layers[-1],
    )
    return replace(config, network=replace(config.network, layers=sizes))


def _yaml11_hint(value: Any) -> str:
    """Why a word YAML 1.1 would have read as a boolean or a number is text here (YAML 1.2)."""
    import re

    if not isinstance(value, str):
        return ""
    if value.lower() in ("yes", "no", "on", "off"):
        return " (in YAML 1.2 yes, no, on and off are words, not true or false)"
    if ("_" in value or ":" in value) and re.fullmatch(
        r"[-+]?[0-9][0-9_:]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?", value
    ):
        return " (YAML 1.2 numbers have no '_' or ':' in them)"
    return ""


def _finite(value: int | float) -> bool:
    """math.isfinite, False for a YAML integer too large for a float (10**400) where
    math.isfinite raises OverflowError."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _show(value: Any) -> str:
    if isinstance(value, bool):  # as the config writes it, not Python's True
        return "true" if value else "false"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**40:
        text = str(value)  # (a YAML integer of hundreds of digits: not all of them)
        return f"{text[:12]}...{text[-4:]} ({len(text.lstrip('-'))} digits)"
    if isinstance(value, str):  # (a CSV given as the config is one long string: not all of it)
        return f"'{value}'" if len(value) <= 60 else f"'{value[:50]}...' ({len(value):,} characters)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return repr(value) if len(repr(value)) <= 40 else "a list"
    if value is None:
        return "nothing"
    return repr(value)


def _data_section(c: _Checker, raw: dict) -> DataConfig:
    """The data: section, its problems noted in ``c``."""
    d = c.section(raw.get("data"), ("data",))
    target = d.get("target")
    if target is not None and (isinstance(target, bool) or not isinstance(target, (str, int))):
        c.problem(("data", "target"), f"{_show(target)} is not a column name or a 0-based index")
        target = None
    elif isinstance(target, int) and target < 0:
        c.problem(("data", "target"), f"{target} is out of range: a column index must be >= 0")
        target = None
    validation: float | str = 0.0
    v = d.get("validation")
    if isinstance(v, str):
        validation = c.path_value(d, ("data", "validation"), 0.0, stdin_ok=False)
    elif v is not None:
        validation = c.number(d, ("data", "validation"), 0.0, low=0.0, high=1.0, high_open=True)
    categorical: str | tuple[str, ...] = "auto"
    cat = d.get("categorical")
    if cat is None or cat == "auto":
        categorical = "auto"
    elif cat is False or cat == "none":
        categorical = ()
    elif isinstance(cat, list) and all(isinstance(x, (str, int)) and not isinstance(x, bool) for x in cat):
        categorical = tuple(str(x) for x in cat)
    else:
        c.problem(
            ("data", "categorical"),
            f"{_show(cat)} is not 'auto', 'none' or a list of column names{_yaml11_hint(cat)}",
        )
    delimiter = d.get("delimiter")
    if delimiter is not None:
        if isinstance(delimiter, str) and delimiter.lower() in ("tab", "\\t"):
            delimiter = "\t"
        if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n':
            c.problem(
                ("data", "delimiter"),
                f"{_show(delimiter)} is not a delimiter: give one "
                "character such as ',', ';', '|' or 'tab' (or leave it out to sniff it)",
            )
            delimiter = None
    exclude: tuple[str, ...] = ()
    ex = d.get("exclude")
    if isinstance(ex, (str, int)) and not isinstance(ex, bool):
        ex = [ex]
    if ex is None:
        pass
    elif isinstance(ex, list) and all(isinstance(x, (str, int)) and not isinstance(x, bool) for x in ex):
        exclude = tuple(dict.fromkeys(str(x) for x in ex))  # (a name given twice counts once)
        if target is not None and str(target) in exclude:
            c.problem(("data", "exclude"), f"names the target '{target}': the target cannot be left out")
        both = [x for x in exclude if isinstance(categorical, tuple) and x in categorical]
        if both:
            c.problem(
                ("data", "exclude"), f"names '{both[0]}', which data.categorical names too: one or the other"
            )
    else:
        c.problem(("data", "exclude"), f"{_show(ex)} is not a list of column names (or 0-based indices)")
    features: tuple[str, ...] | None = None
    fe = d.get("features")
    if isinstance(fe, (str, int)) and not isinstance(fe, bool):
        fe = [fe]
    if fe is None:
        pass
    elif fe == []:
        c.problem(
            ("data", "features"),
            "is an empty list: name the input columns (or leave data.features out to use every column)",
        )
    elif isinstance(fe, list) and all(isinstance(x, (str, int)) and not isinstance(x, bool) for x in fe):
        features = tuple(dict.fromkeys(str(x) for x in fe))  # (a name given twice counts once)
        if target is not None and str(target) in features:
            c.problem(("data", "features"), f"names the target '{target}': the target cannot be an input")
        if exclude:
            c.problem(
                ("data", "features"),
                "and data.exclude are both given: one or the other (features names the columns "
                "to use, exclude the columns to leave out)",
            )
        left_out = [x for x in categorical if x not in features] if isinstance(categorical, tuple) else []
        if left_out:
            c.problem(
                ("data", "features"),
                f"leaves out '{left_out[0]}', which data.categorical names: add it to data.features, "
                "or take it out of data.categorical",
            )
    else:
        c.problem(("data", "features"), f"{_show(fe)} is not a list of column names (or 0-based indices)")
    weight = d.get("weight")
    if weight is not None:
        if isinstance(weight, bool) or not isinstance(weight, (str, int)):
            c.problem(("data", "weight"), f"{_show(weight)} is not a column name or a 0-based index")
            weight = None
        elif isinstance(weight, int) and weight < 0:
            c.problem(("data", "weight"), f"{weight} is out of range: a column index must be >= 0")
            weight = None
        else:
            weight = str(weight)
            clash = next(
                (
                    key
                    for key, names in (
                        ("target", () if target is None else (str(target),)),
                        ("features", features or ()),
                        ("exclude", exclude),
                        ("categorical", categorical if isinstance(categorical, tuple) else ()),
                    )
                    if weight in names
                ),
                None,
            )
            if clash is not None:
                role = {
                    "target": "the target",
                    "features": "an input",
                    "exclude": "a column left out",
                    "categorical": "a categorical input",
                }[clash]
                c.problem(
                    ("data", "weight"),
                    f"'{weight}' is data.{clash}'s column too; the weight column is neither an input "
                    f"nor the target, so it cannot be {role}",
                )
                weight = None
    test_value = d.get("test")
    if isinstance(test_value, (int, float)) and not isinstance(test_value, bool):
        # a fraction; 0 means none, as for validation
        test = c.number(d, ("data", "test"), None, low=0.0, high=1.0, high_open=True) or None
    else:
        test = c.path_value(d, ("data", "test"))
    data = DataConfig(
        train=c.path_value(d, ("data", "train")),
        test=test,
        target=target,
        validation=validation,
        standardize=_standardize(c, d),
        missing=c.word(d, ("data", "missing"), "error", ("error", "drop", "mean")),
        categorical=categorical,
        delimiter=delimiter,
        header=c.boolean(d, ("data", "header"), True),
        exclude=exclude,
        features=features,
        split_seed=c.number(d, ("data", "split_seed"), None, integer=True, low=0, high=2**63 - 1),
        weight=weight,
    )
    if data.train == "-" and data.test == "-":
        c.problem(("data", "test"), "train and test cannot both be standard input")
    named = {"train": data.train, "validation": data.validation, "test": data.test}
    named = {k: v for k, v in named.items() if isinstance(v, str) and not (k != "train" and v == "-")}
    seen: dict = {}
    for key, value in named.items():  # one pipe under two names ('-' and /dev/stdin) too
        same = _stream_identity(value)
        if same is not None and same in seen:
            c.problem(
                ("data", key),
                f"'{value}' is data.{seen[same]} too (the same pipe or device), which can be read "
                "only once; give a file",
            )
        seen.setdefault(same, key)
    return data


def _stream_identity(path: str):
    """(device, inode) of a data path that is neither a regular file nor a folder (a pipe, a
    device; '-' is standard input), else None: such an input can be read only once."""
    import stat

    try:
        st = os.fstat(0) if path == "-" else os.stat(path)
    except (OSError, ValueError):
        return None
    if stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):  # (a folder: 'is a directory', when read)
        return None
    return st.st_dev, st.st_ino


def _network_section(c: _Checker, raw: dict, cost: str) -> NetworkConfig:
    """The network: section; the cost decides the default output function."""
    n = c.section(raw.get("network"), ("network",))
    layers: tuple[int, ...] = ()
    if "layers" not in n or n["layers"] is None:
        c.problem(("network", "layers"), "is required: the layer sizes, input first, e.g. [64, 32, 10]")
    elif not isinstance(n["layers"], list) or len(n["layers"]) < 2:
        c.problem(
            ("network", "layers"),
            f"{_show(n['layers'])} is not a list of at least two sizes (input and output), e.g. [64, 32, 10]",
        )
    else:
        sizes = list(n["layers"])
        ends = [0, len(sizes) - 1]  # input and output may be 'auto': the data says
        bad = [  # ('auto' is AUTO, 0, inside; a 0 written in the file is not a size)
            x
            for j, x in enumerate(sizes)
            if not (x == "auto" and j in ends)
            and (isinstance(x, bool) or not isinstance(x, int) or not 1 <= x < 2**31)
        ]
        sizes = [AUTO if x == "auto" else x for x in sizes]
        if bad:
            hint = " ('auto' only for the first or the last)" if "auto" in bad else ""
            c.problem(
                ("network", "layers"),
                f"{_show(bad[0])} is not a layer size: every size must be a whole number from 1 to "
                f"2^31 - 1, or auto for the input and output sizes{hint}",
            )
        else:
            layers = tuple(sizes)
    hidden = max(len(layers) - 2, 0)
    act = n.get("activation", "relu")
    activation: tuple[str, ...] = ("relu",) * hidden
    names = tuple(ACTIVATIONS)
    if act is None:
        act = "relu"
    if isinstance(act, str):
        if act in ACTIVATIONS:
            activation = (act,) * hidden
        else:
            c.problem(
                ("network", "activation"),
                f"'{act}' is not known{_known_as(act, names, KNOWN_VALUES)}; {one_of(names)}",
            )
    elif isinstance(act, list):
        if layers and len(act) != hidden:
            c.problem(
                ("network", "activation"),
                f"a list of {len(act)} activations for {hidden} "
                "hidden layer(s): give one per hidden layer, or one word for all",
            )
        for a in act:
            if not isinstance(a, str) or a not in ACTIVATIONS:
                c.problem(
                    ("network", "activation"),
                    f"{_show(a)} is not known"
                    f"{_known_as(a, names, KNOWN_VALUES) if isinstance(a, str) else ''}; {one_of(names)}",
                )
                break
        else:
            if len(act) == hidden:
                activation = tuple(act)
    else:
        c.problem(("network", "activation"), f"{_show(act)} is not an activation name or a list")
    output = c.word(n, ("network", "output"), None, OUTPUTS)
    allowed_outputs = COSTS[cost].outputs
    if output is None:
        output = COSTS[cost].default_output
    elif output not in allowed_outputs:
        c.problem(
            ("network", "output"), f"'{output}' does not go with cost '{cost}'; {one_of(allowed_outputs)}"
        )
    if layers and cost == "cross_entropy" and layers[-1] != AUTO and layers[-1] < 2:
        c.problem(
            ("network", "layers"),
            "cross_entropy needs an output layer of at least 2 units "
            "(one per class); for two classes with one output use binary_cross_entropy",
        )
    init, init_params = c.named(
        n, ("network", "init"), "auto", {k: {} for k in INITS} | {"normal": {"scale": 0.01}}
    )
    network = NetworkConfig(
        layers=layers,
        activation=activation,
        output=output,
        init=init,
        init_scale=float(init_params.get("scale", 0.01)),
        output_bias=c.boolean(n, ("network", "output_bias"), True),
    )
    if init_params.get("scale", 0.01) <= 0:
        c.problem(("network", "init", "scale"), "must be > 0")
    return network


def _input_dropout(c: _Checker, t: dict) -> float:
    """training.input_dropout: one rate in [0, 1) for the inputs (Keras's Dropout before the
    first Dense, PyTorch's nn.Dropout before the first nn.Linear)."""
    r = t.get("input_dropout")
    if r is None:
        return 0.0
    if isinstance(r, bool) or not isinstance(r, (int, float)) or not 0 <= r < 1:
        c.problem(("training", "input_dropout"), f"{_show(r)} is not a dropout rate: must be >= 0 and < 1")
        return 0.0
    return float(r)


def _class_weight(c: _Checker, t: dict) -> str | dict | None:
    """training.class_weight: None, 'balanced', or {label: weight > 0}, the labels kept as text
    the way the data's labels are (3 and 3.0 -> '3'); whether each is a class, the data says."""
    path = ("training", "class_weight")
    value = t.get("class_weight")
    if value is None:
        return None
    if isinstance(value, str):
        if value != "balanced":
            c.problem(path, f"{_show(value)} is not known; 'balanced', or a mapping {{label: weight}}")
        return "balanced"
    if isinstance(value, dict) and not value:
        c.problem(path, "an empty mapping names no class: leave the key out, or give {label: weight, ...}")
        return None
    if not isinstance(value, dict):
        c.problem(path, f"{_show(value)} is not 'balanced' or a mapping {{label: weight}}")
        return None
    weights: dict[str, float] = {}
    for label, weight in value.items():
        if isinstance(label, bool) or not isinstance(label, (str, int, float)):
            c.problem(path, f"the key {_show(label)} is not a class label (write it as in the data)")
            continue
        if isinstance(label, str):
            text = label.strip()
        elif _finite(label) and label == int(label):  # as data.label_text writes labels
            text = str(int(label))
        else:
            text = str(label)
        where = (*path, str(label))
        if isinstance(weight, bool) or not isinstance(weight, (int, float)):
            c.problem(where, f"{_show(weight)} is not a number")
        elif not (_finite(weight) and weight > 0):
            c.problem(where, f"{_show(weight)} is out of range: a weight must be finite and > 0")
        elif text in weights:
            c.problem(where, f"the class '{text}' is given twice")
        else:
            weights[text] = float(weight)
    return weights


def _training_section(c: _Checker, raw: dict, layers: tuple[int, ...]) -> TrainingConfig:
    """The training: section; dropout rates are per hidden layer of ``layers``."""
    t = c.section(raw.get("training"), ("training",))
    optimizer, opt_params = c.named(
        t, ("training", "optimizer"), "sgd", {k: v.defaults for k, v in OPTIMIZERS.items()}
    )
    schedule, sched_params = c.named(
        t, ("training", "schedule"), "constant", {k: v.defaults for k, v in SCHEDULES.items()}
    )
    # values the registries' ">= 0" lets through that would divide by zero or make no sense:
    # decay rates below 1, a plateau factor that lowers the lr, whole numbers of epochs
    for key in ("beta1", "beta2", "rho"):
        if opt_params.get(key, 0) >= 1:
            c.problem(
                ("training", "optimizer", key), f"{_show(opt_params[key])} is out of range: must be < 1"
            )
    factor = sched_params.get("factor", 0.5)
    if not 0 < factor < 1:
        c.problem(("training", "schedule", "factor"), f"{_show(factor)} is out of range: must be > 0 and < 1")
    if sched_params.get("gamma", 1) <= 0:  # lr 0 from the first decay on: training.learning_rate's rule
        c.problem(
            ("training", "schedule", "gamma"), f"{_show(sched_params['gamma'])} is out of range: must be > 0"
        )
    for key, low in (("step_size", 1), ("warmup", 0), ("patience", 0), ("cooldown", 0)):
        value = sched_params.get(key, low)
        if value < low or value != int(value):
            c.problem(
                ("training", "schedule", key), f"{_show(value)} is not a whole number of epochs >= {low}"
            )
        elif key in sched_params:  # (cooldown: 1.0 is 1, as epochs: 4.0 is 4)
            sched_params[key] = int(value)
    hidden_layers = max(len(layers) - 2, 0)
    dropout = _dropout(c, t, hidden_layers)
    training = TrainingConfig(
        learning_rate=float(
            c.number(t, ("training", "learning_rate"), DEFAULT_LR[optimizer], low=0, low_open=True)
        ),
        epochs=c.number(t, ("training", "epochs"), 10, integer=True, low=1, high=2**63 - 1),
        batch_size=c.number(t, ("training", "batch_size"), 32, integer=True, low=1),
        seed=c.number(t, ("training", "seed"), 0, integer=True, low=0, high=2**63 - 1),
        optimizer=optimizer,
        optimizer_params=opt_params,
        schedule=schedule,
        schedule_params=sched_params,
        weight_decay=float(
            c.number(t, ("training", "weight_decay"), DEFAULT_WEIGHT_DECAY.get(optimizer, 0.0), low=0)
        ),
        decay_biases=c.boolean(t, ("training", "decay_biases"), False),
        dropout=dropout,
        input_dropout=_input_dropout(c, t),
        clip_norm=(
            None
            if t.get("clip_norm") is None
            else float(c.number(t, ("training", "clip_norm"), 1.0, low=0, low_open=True))
        ),
        early_stopping=_early_stopping(c, t),
        checkpoint_every=c.number(t, ("training", "checkpoint_every"), 0, integer=True, low=0),
        checkpoint_keep=c.number(t, ("training", "checkpoint_keep"), 3, integer=True, low=1),
        gradient_norms=c.boolean(t, ("training", "gradient_norms"), False),
        class_weight=_class_weight(c, t),
    )
    if sched_params.get("min_lr", 0) > training.learning_rate:
        c.problem(
            ("training", "schedule", "min_lr"),
            f"{_show(sched_params['min_lr'])} is above the learning rate ({training.learning_rate:g}): "
            "a schedule only lowers it",
        )
    return training


def _check(
    raw: Any,
    where: _Where,
    base: Path,
    default_output: str,
    path: str | None,
    problems: list[str] | None = None,
) -> Config:
    """Validate ``raw``; ``problems`` found while parsing are reported with the rest."""
    c = _Checker(where, base)
    c.problems.extend(problems or [])
    if raw is None:
        raise ConfigError(f"{where(())}the config is empty; start from `nettrain init`")
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{where(())}the config must be a mapping of keys (data:, network:, ...), got {_show(raw)}"
        )
    c.section(raw, ())

    # cost first: the output function and the data reading depend on it
    cost = c.word(raw, ("cost",), "mse", tuple(COSTS))

    data = _data_section(c, raw)
    network = _network_section(c, raw, cost)
    training = _training_section(c, raw, network.layers)
    if training.class_weight is not None and not COSTS[cost].classification:
        c.problem(
            ("training", "class_weight"),
            f"is for classification costs (cross_entropy, binary_cross_entropy), not {cost}",
        )
    device = raw.get("device", "auto")
    try:  # the words --device takes, the same way (backend.parse_device): 'CPU' is cpu
        device = "auto" if device is None else _device_word(device)
    except BackendError:
        c.problem(
            ("device",),
            f"{_show(device)} is not a device{did_you_mean(str(device), DEVICES)}; "
            "one of: auto, cpu, gpu, gpu:N",
        )
        device = "auto"
    dtype = c.word(raw, ("dtype",), "float32", DTYPES)
    out = c.path_value(raw, ("output",), None, stdin_ok=False)
    if c.problems:
        raise ConfigError(c.problems)
    return Config(
        network=network,
        data=data,
        cost=cost,
        training=training,
        device=device,
        dtype=dtype,
        output=out or os.path.abspath(default_output),
        path=path,
        where=where,
    )


def load_config(path: str | Path, overrides: list[str] | None = None, *, stdin=None) -> Config:
    """Read, override and validate a config file. Raises ConfigError listing every problem.

    Parameters
    ----------
    path : the YAML file, or ``-`` for ``stdin`` (a text stream; sys.stdin when None).
    overrides : ``key.path=value`` strings (from ``--set``); each value is parsed as YAML.

    Relative paths in the config are its folder's; a config with no folder of its own (``-``,
    /dev/stdin, a shell's ``<(...)``, which resolve into /dev or /proc) takes the current one's.
    """
    if isinstance(overrides, str):  # one override given as a string, not a list of them
        overrides = [overrides]
    from_stdin = str(path) == "-"
    folder = None if from_stdin else _folder_of(Path(path))
    if from_stdin:
        text = _read_stdin(stdin)
        filename, resolved = "<stdin>", None
    else:
        text = read_text(path)
        filename, resolved = str(path), str(Path(path).resolve())
    # (a pipe's name, /dev/fd/63, names no run: its default output is runs/stdin, as for '-')
    name = Path(path).stem if folder is not None else "stdin"
    raw, lines, problems = parse_yaml(text, filename)
    touched = {}
    if overrides:
        if raw is None:
            raw = {}
        if isinstance(raw, dict):
            touched = apply_overrides(raw, overrides)
    where = _Where(filename, lines, touched)
    base = Path.cwd() if folder is None else folder
    config = _check(raw, where, base, f"runs/{name}", resolved, problems)
    if from_stdin:
        taken = [key for key in ("train", "validation", "test") if getattr(config.data, key) == "-"]
        if taken:
            raise ConfigError(
                f"data.{taken[0]}: '-' (standard input) holds the config itself; give the data a file"
            )
    return config


def _read_stdin(stdin) -> str:
    """The config text on standard input (``-``)."""
    import sys

    stream = stdin if stdin is not None else sys.stdin
    if stream is None:
        raise ConfigError("config '-': there is no standard input to read")
    if getattr(stream, "isatty", lambda: False)():
        raise ConfigError("config '-' reads standard input, which is a terminal: pipe a config in")
    try:
        data = getattr(stream, "buffer", stream).read()  # bytes where it can: UTF-8 whatever the locale
        return data.decode("utf-8-sig") if isinstance(data, bytes) else data.removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"config '-' (standard input) is not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(unreadable("config", "-", exc)) from None


def _folder_of(path: Path) -> Path | None:
    """The folder a config's relative paths start from: its own, or None for a config with
    none (/dev/stdin, /dev/fd/N, a shell's <(...), which resolve into /dev or /proc), whose
    paths are the current folder's."""
    folder = path.resolve().parent
    if folder.parts[1:2] in (("dev",), ("proc",)) and not path.resolve().is_file():
        return None
    return folder


def config_from_dict(
    raw: dict,
    base: str | Path = ".",
    name: str = "config",
    overrides: list[str] | None = None,
    *,
    origin: str | None = None,
) -> Config:
    """Validate a config given as a mapping (the Python API; model files store one too).

    Values as a notebook has them are taken as YAML would give them: NumPy numbers as Python
    numbers, paths (pathlib) as text, tuples as lists. ``overrides`` are ``--set`` strings, as for
    load_config (their relative paths are the current folder's). Problems begin with
    ``origin`` ('NettrainClassifier: training.epochs: ...'), by default ``<name>``, which no
    file is called."""
    raw = _plain(raw)
    touched = apply_overrides(raw, overrides) if overrides else {}
    where = _Where(origin if origin is not None else f"<{name}>", {}, touched)
    return _check(raw, where, Path(base).resolve(), f"runs/{name}", None)


#: Paths that name one of this process's open files, not a file: /dev/stdin (and stdout,
#: stderr), /dev/fd/N, /proc/self/fd/N, /proc/PID/fd/N. Another process (the resume command)
#: opening the same path gets its own descriptors, whatever the file was here (a redirect from
#: a regular file too).
_DESCRIPTOR_PATH = re.compile(r"/dev/(stdin|stdout|stderr|fd/\d+)|/proc/(self|thread-self|\d+)/fd/\d+")


def is_stream(path: str | Path) -> bool:
    """Whether a config path names nothing that can be read again later: ``-``; a path that
    names an open descriptor (_DESCRIPTOR_PATH: a shell's ``<(...)`` is /dev/fd/63; /dev/stdin
    also when it is a redirected file), itself or through links; or, through links, a FIFO, a
    character device (a terminal) or a socket. A regular file is not one wherever it lies
    (/dev/shm, a tmpfs, is a folder like another). A path that cannot be looked at (gone) counts
    as one: it cannot be read again either."""
    if str(path) == "-":
        return True
    try:
        # the path and each link it leads through (a link to /dev/stdin is a descriptor path
        # too, whatever stdin is: os.stat would see the file redirected in)
        hop = os.path.abspath(path)
        for _ in range(40):  # (Linux follows 40 links at most)
            if _DESCRIPTOR_PATH.fullmatch(hop):
                return True
            if not os.path.islink(hop):
                break
            hop = os.path.normpath(os.path.join(os.path.dirname(hop), os.readlink(hop)))
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return True
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISSOCK(mode)


def _plain(value):
    """``value`` with NumPy scalars, paths and tuples made the plain types YAML produces."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, PurePath):
        return str(value)
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return _plain(value.tolist())  # an array becomes a list, a scalar a number
    return value


STARTER_CONFIG = """\
# nettrain config: a fully-connected network trained by backpropagation and gradient descent.
#   a(1) = x;  z(l+1) = W(l) a(l) + b(l);  a(l+1) = f(z(l+1));  C = cost(s, y);  w := w - lr dC/dw
# Paths are relative to this file's folder. Run: nettrain fit THIS_FILE
# Reference: README.md, "Config reference".

data:
  train: data/train.csv        # CSV with a header, .npy, .npz or .parquet; '-': standard input
  # test: data/test.csv        # optional: evaluated after training (a file, or a fraction: 0.2)
  target: label                # the target column: a name or a 0-based index (default: the last column)
  validation: 0.1              # fraction of train held out to validate each epoch (or a file path)
  standardize: true            # z-score inputs and a regression target with training statistics;
                               # inputs: the inputs only (the target keeps its units); false: neither
  missing: error               # missing values (empty, NA, ?): error | drop (the rows) | mean (fill)
  categorical: auto            # text columns become one-hot inputs; or a list of columns, or none
  # exclude: [customer_id]     # columns to leave out (ids, leaks); predict ignores them too
  # features: [age, income]    # or instead: the only columns to use (not with exclude)
  # weight: sample_weight      # a column of per-row weights (>= 0) in the training cost;
                               # not an input; weighs the validation and test scores too
  # split_seed: 0              # seed of the validation/test hold-outs (default: training.seed's);
                               # set it to vary training.seed over one fixed split
  # delimiter: ","             # default: sniffed (comma, semicolon, tab or |)
  header: true                 # false: no header row; columns are then 0, 1, ... (target: an index)

network:
  layers: [auto, 32, auto]     # units per layer: input, hidden..., output; auto: the data's
                               # (inputs after one-hot encoding; the classes, or target columns)
  activation: relu             # hidden layers: sigmoid | tanh | relu | leaky_relu | softplus | identity
                               # (or a list, one per hidden layer)
  # output: softmax            # identity | sigmoid | softmax; default follows the cost
  init: auto                   # auto (He for relu, else Glorot) | xavier_uniform | xavier_normal |
                               # glorot_uniform | glorot_normal | he_uniform | he_normal |
                               # lecun_uniform | lecun_normal | normal | {name: normal, scale: 0.01} |
                               # pytorch | sklearn (those libraries' defaults: biases drawn too)
  output_bias: true            # false: no bias in the output layer, s = f(W a)

cost: cross_entropy            # mse (regression) | cross_entropy (classes) | binary_cross_entropy

training:
  # learning_rate: 0.1         # lr in w := w - lr * dC/dw; default: the optimizer's (0.01 for
                               # sgd, momentum, nesterov; 0.001 for adam, adamw, rmsprop)
  epochs: 30                   # passes over the training data
  batch_size: 32               # examples per gradient step (the last batch may be smaller)
  seed: 0                      # same seed, same machine: the same model, bit for bit
  optimizer: sgd               # sgd (as derived) | momentum | nesterov | adam | adamw | rmsprop,
                               # or e.g. {name: momentum, momentum: 0.9}, {name: adam, beta1: 0.9,
                               # beta2: 0.999, eps: 1.0e-8}, {name: rmsprop, rho: 0.9}
  schedule: constant           # constant | {name: step, step_size: 10, gamma: 0.1} |
                               # {name: exponential, gamma: 0.95} | {name: cosine, warmup: 0,
                               # min_lr: 0} | {name: plateau, factor: 0.1, patience: 10,
                               # threshold: 1.0e-4, threshold_mode: rel, cooldown: 0} |
                               # {name: invscaling, power_t: 0.5} (scikit-learn's)
  weight_decay: 0              # L2 on the weights (decoupled for adamw, whose default is 0.01)
  decay_biases: false          # true: weight decay on the biases too, as PyTorch's optimizers do
  dropout: 0                   # rate of dropped hidden units while training (or one per layer)
  input_dropout: 0             # rate of dropped inputs while training
  # clip_norm: 1.0             # clip the gradients' global norm
  early_stopping: false        # true, or {monitor: val_loss, patience: 10, min_delta: 0,
                               # restore_best: true}
  checkpoint_every: 0          # write checkpoint-N.npz every N epochs (0: only when interrupted)
  checkpoint_keep: 3           # keep the newest K checkpoints
  gradient_norms: false        # true: history gets grad_norm, each layer's ||dC/dW|| per epoch
                               # (to see vanishing or exploding gradients; nettrain plot draws it)
  # class_weight: balanced     # weight each class's rows in the training cost: balanced, or
                               # {label: weight, ...} (missing classes 1); classification only

device: auto                   # cpu | gpu | gpu:N | auto (GPU when CuPy and a GPU are usable)
dtype: float32                 # float32 | float64
output: runs/my-model          # run folder: model.npz, history.jsonl, config.yaml
"""
