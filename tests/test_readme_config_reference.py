"""README's Config reference: its table has one row per config key, every key config.py accepts
and no other (a key added without a row, or a row for a renamed key, sends users astray); the
other libraries' names its Validation paragraph cites each get their "did you mean"."""

import re

import pytest

from nettrain import ConfigError, load_config
from nettrain.config import SECTIONS
from tests.conftest import CONFIGS, ROOT


def reference_rows() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("\n## Config reference\n")
    table = readme[start : readme.index("\n## ", start + 1)]
    return re.findall(r"^\| `([\w.]+)` \|", table, re.M)


def test_the_config_reference_has_a_row_for_every_key_and_no_other():
    keys = [key for key in SECTIONS[()] if (key,) not in SECTIONS]
    keys += [f"{section}.{key}" for (section,) in (k for k in SECTIONS if k) for key in SECTIONS[(section,)]]
    rows = reference_rows()
    assert len(rows) == len(set(rows)), "a key with two rows"
    assert sorted(rows) == sorted(keys)
    assert {"training.decay_biases", "training.input_dropout"} <= set(rows)


#: each other library's name README's Validation paragraph cites, a --set that uses it, and the
#: "did you mean" it gets
DID_YOU_MEAN = {
    "lr": ("training.lr=0.1", "did you mean 'training.learning_rate'?"),
    "max_iter": ("training.max_iter=5", "did you mean 'training.epochs'?"),
    "validation_split": ("data.validation_split=0.1", "did you mean 'data.validation'?"),
    "hidden_layer_sizes": ("network.hidden_layer_sizes=[8]", "did you mean 'network.layers'?"),
    "patience": ("training.patience=3", "did you mean 'training.early_stopping: {patience: N}'?"),
    "random_state": ("training.random_state=1", "did you mean 'training.seed'?"),
    "alpha": ("training.alpha=0.1", "did you mean 'training.weight_decay'?"),
    "tol": ("training.tol=0.1", "did you mean 'training.early_stopping: {min_delta: X}'?"),
    "nesterovs_momentum": ("training.nesterovs_momentum=true", "{name: nesterov, momentum: 0.9}'?"),
    "max_norm": ("training.max_norm=1", "did you mean 'training.clip_norm'?"),
    "bias_decay": ("training.bias_decay=true", "did you mean 'training.decay_biases'?"),
    "sample_weight": ("data.sample_weight=w", "did you mean 'data.weight'?"),
    "categorical_crossentropy": ("cost=categorical_crossentropy", "did you mean 'cross_entropy'?"),
    "log_loss": ("cost=log_loss", "did you mean 'cross_entropy'?"),
    "logistic": ("network.activation=logistic", "did you mean 'sigmoid'?"),
    "kaiming_uniform": ("network.init=kaiming_uniform", "did you mean 'he_uniform'?"),
    "kaiming_uniform_": ("network.init=kaiming_uniform_", "did you mean 'he_uniform'?"),
    "kaiming": ("network.init=kaiming", "did you mean 'he_uniform'?"),
    "torch": ("network.init=torch", "did you mean 'pytorch'?"),
    "CosineAnnealingLR": ("training.schedule=CosineAnnealingLR", "did you mean 'cosine'?"),
    "eta_min": ("training.schedule={name: cosine, eta_min: 0.001}", "did you mean 'min_lr'?"),
    "min_delta": ("training.schedule={name: plateau, min_delta: 0.01}", "did you mean 'threshold_mode: abs"),
    "mode": ("training.schedule={name: plateau, mode: max}", "did you mean 'monitor: "),
    "SGD": ("training.optimizer=SGD", "did you mean 'sgd'?"),
    "ReLU": ("network.activation=ReLU", "did you mean 'relu'?"),
}


def test_every_other_librarys_name_the_validation_paragraph_cites_gets_its_did_you_mean(tmp_path):
    """The Validation paragraph's list of other libraries' names (between 'also knows' and 'a key
    put in another section'): each is one the config knows, and each the test knows is cited."""
    readme = " ".join((ROOT / "README.md").read_text().split())
    start = readme.index('The "did you mean" also knows the names Keras, scikit-learn and PyTorch')
    cited = readme[start : readme.index("a key put in another section", start)]
    targets = {"training.lr: unknown key (did you mean 'training.learning_rate'?)", "threshold_mode: abs"}
    targets |= {"cross_entropy", "sigmoid", "he_uniform", "pytorch", "cosine", "min_lr", "monitor"}
    names = set(re.findall(r"`([^`]+)`", cited)) - targets
    assert names == set(DID_YOU_MEAN)
    for name, (override, hint) in DID_YOU_MEAN.items():
        with pytest.raises(ConfigError) as caught:
            load_config(CONFIGS / "xor.yaml", [override, f"output={tmp_path}"])
        assert hint in str(caught.value), (name, str(caught.value))
