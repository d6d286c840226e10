"""evaluate's confusion matrix is drawn as a table up to CONFUSION_MAX_CLASSES classes; beyond,
a line says where it is (--json), instead of a K x K table wrapped past the terminal (1,000
classes took 16 s to draw)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nettrain.cli import CONFUSION_MAX_CLASSES
from tests.helpers import ok, run


def classes_csv(path, k: int):
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(k), 4)
    x = labels[:, None] + rng.normal(scale=0.1, size=(len(labels), 2))
    lines = ["a,b,label"] + [f"{u:.4f},{v:.4f},c{c}" for (u, v), c in zip(x, labels)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("k, drawn", [(CONFUSION_MAX_CLASSES, True), (CONFUSION_MAX_CLASSES + 1, False)])
def test_the_confusion_matrix_is_drawn_up_to_the_limit(tmp_path, k, drawn):
    data = classes_csv(tmp_path / "k.csv", k)
    config = tmp_path / "k.yaml"
    config.write_text(
        f"data: {{train: {data}}}\nnetwork: {{layers: [auto, 4, auto]}}\ncost: cross_entropy\n"
        "training: {epochs: 1}\n"
    )
    ok(run("fit", config, "-o", tmp_path / "run", "-q"))
    text = ok(run("evaluate", tmp_path / "run", data)).stdout
    assert ("confusion matrix (rows: true class, columns: predicted):" in text) is drawn
    assert (f"confusion matrix: {k} classes, more than the {CONFUSION_MAX_CLASSES}" in text) is not drawn
    report = json.loads(ok(run("evaluate", tmp_path / "run", data, "--json")).stdout)
    assert len(report["confusion_matrix"]) == k  # (--json has it either way)
