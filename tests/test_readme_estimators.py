"""README's scikit-learn estimators: the parameter table names every parameter of both
estimators and no other, and each config key it gives them is a config key."""

import re

import pytest

from nettrain import NettrainClassifier, NettrainRegressor
from nettrain.config import SECTIONS
from tests.conftest import ROOT


def parameter_table() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("\n### scikit-learn estimators\n")
    section = readme[start : readme.index("\n## ", start)]
    return section[section.index("| parameter | config key |") :].split("\n\n", 1)[0]


@pytest.mark.parametrize("estimator", [NettrainClassifier, NettrainRegressor])
def test_the_parameter_table_lists_every_parameter(estimator):
    cells = [line.split(" | ")[0] for line in parameter_table().splitlines()[2:]]
    named = {name for cell in cells for name in re.findall(r"`(\w+)`", cell)}
    assert named == set(estimator().get_params())


def test_the_config_keys_the_table_names_are_config_keys():
    keys = set(re.findall(r"`(data|network|training)\.(\w+)", parameter_table()))
    assert keys, "no config key found"
    assert not [f"{s}.{k}" for s, k in keys if k not in SECTIONS[(s,)]]
