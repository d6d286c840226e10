"""README's Config reference: its table has one row per config key, every key config.py accepts
and no other (a key added without a row, or a row for a renamed key, sends users astray)."""

import re

from nettrain.config import SECTIONS
from tests.conftest import ROOT


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
