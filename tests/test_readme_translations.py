"""README's "Coming from Keras, scikit-learn or PyTorch": each YAML block is a config that
`fit --dry-run` accepts with the shipped data (saved in the repository's root folder, as the
section says), and the PyTorch block's model loads into nn.Sequential as its snippet shows."""

from __future__ import annotations

import re

import numpy as np
import pytest

from nettrain import load_model
from nettrain.cli import app
from tests.conftest import DATA, ROOT
from tests.helpers import CliRunner

NAMES = ["keras", "sklearn", "torch"]  # the blocks' order; the section's commands use these names


def section() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("\n## Coming from Keras, scikit-learn or PyTorch\n")
    return readme[start : readme.index("\n## ", start + 1)]


def blocks(kind: str) -> list[str]:
    return re.findall(rf"^```{kind}\n(.*?)^```", section(), re.S | re.M)


@pytest.fixture
def repo_like(tmp_path, monkeypatch):
    """A folder laid out as the repository's root (its data/ linked), as the current folder."""
    (tmp_path / "data").symlink_to(DATA)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_section_has_one_config_per_library_and_uses_their_names():
    assert len(blocks("yaml")) == len(NAMES)
    commands = "\n".join(blocks("sh"))
    for name in ("keras", "sklearn"):
        assert f"nettrain fit {name}.yaml" in commands


def test_every_key_the_tables_name_is_a_config_key():
    """The tables' right-hand column names keys as `training.decay_biases`, `network.init: x`,
    `data.validation: f`: each is a key of that section (a renamed or misspelt key would send a
    user to an error), and the porting keys are among them."""
    from nettrain.config import SECTIONS

    named = set(re.findall(r"`(data|network|training)\.(\w+)", section()))
    unknown = sorted(f"{s}.{k}" for s, k in named if k not in SECTIONS[(s,)])
    assert not unknown, unknown
    keys = {f"{s}.{k}" for s, k in named}
    assert {"training.input_dropout", "network.init"} <= keys
    text = section()
    for words in (
        "threshold_mode: abs",
        "decay_biases: true",
        "network.init: pytorch",
        "network.init: sklearn",
    ):
        assert words in text


@pytest.mark.parametrize("name, text", list(zip(NAMES, blocks("yaml"))))
def test_each_translated_config_loads_with_the_shipped_data(repo_like, name, text):
    (repo_like / f"{name}.yaml").write_text(text)
    result = CliRunner().invoke(app, ["fit", f"{name}.yaml", "--dry-run"])
    assert result.exit_code == 0, result.stderr
    assert "Error" not in result.stderr


def test_the_pytorch_snippet_loads_the_model_into_nn_sequential(repo_like):
    pytest.importorskip("torch")
    (repo_like / "torch.yaml").write_text(blocks("yaml")[2])
    result = CliRunner().invoke(app, ["fit", "torch.yaml", "-q", "--set", "training.epochs=2"])
    assert result.exit_code == 0, result.stderr
    scope: dict = {}
    exec(blocks("python")[0], scope)
    scope["m"].close()  # (the snippet's np.load, left open as a session would leave it)
    proba = scope["logits"].softmax(1).detach().numpy()
    expected = load_model("runs/torch/model.npz").predict_proba(scope["X"])
    np.testing.assert_allclose(proba, expected, atol=1e-5)
