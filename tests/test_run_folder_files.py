"""fit names the files it writes in the run folder (config.yaml, history.jsonl, model.npz), not the
user: in a folder that holds a file of one of those names that fit did not write (`-o .` in a
project whose config.yaml is another tool's), fit is refused before training, and the file kept."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import yaml

from tests.conftest import CONFIGS, DATA
from tests.helpers import assert_error, ok, run


@pytest.fixture
def xor(tmp_path):
    cfg = yaml.safe_load((CONFIGS / "xor.yaml").read_text())
    cfg["data"]["train"] = str(DATA / "xor.csv")
    cfg["training"]["epochs"] = 5
    path = tmp_path / "xor.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.parametrize(
    "name, content",
    [
        ("config.yaml", b"stages: [build, test]\nimage: python:3.12\n"),  # a CI tool's config
        ("config.yaml", b"data:\n  train: other.csv\nnetwork:\n  layers: [2, 1]\n"),  # a config, not a run's
        ("history.jsonl", b'{"commit": "abc123", "status": "ok"}\n'),
        ("history.jsonl", b"not json\n"),
        ("model.npz", b"weights of another program"),
    ],
)
def test_fit_does_not_replace_a_file_it_did_not_write(tmp_path, xor, name, content):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / name).write_bytes(content)
    for extra in ([], ["--dry-run"]):
        assert_error(run("fit", xor, "-o", folder, "-q", *extra), str(folder), name, "did not write")
        assert (folder / name).read_bytes() == content
    assert not (folder / "model.npz").exists() or name == "model.npz"


def test_fit_replaces_what_an_earlier_fit_wrote(tmp_path, xor):
    folder = tmp_path / "run"
    ok(run("fit", xor, "-o", folder, "-q"))
    ok(run("fit", xor, "-o", folder, "-q"))  # its own files: replaced
    ok(run("fit", folder / "config.yaml", "-q"))  # the run's resolved config, rewritten alike
    # a run folder of a nettrain that did not mark config.yaml's first line: a resolved config
    # has every key
    text = (folder / "config.yaml").read_text()
    (folder / "config.yaml").write_text(text.split("\n", 1)[1])
    ok(run("fit", xor, "-o", folder, "-q"))
    # and a checkpoint copied to model.npz is a model too; empty files hold nothing to lose
    ok(run("fit", xor, "-o", folder, "-q", "--set", "training.checkpoint_every=5"))
    shutil.copy(folder / "checkpoint-5.npz", folder / "model.npz")
    (folder / "history.jsonl").write_bytes(b"")
    ok(run("fit", xor, "-o", folder, "-q"))
    assert set(np.load(folder / "model.npz").files) >= {"W0", "meta"}


def test_fit_does_not_replace_a_hand_written_config_of_every_key(tmp_path, xor):
    """`nettrain init > config.yaml` has the seven top-level keys of a resolved config, and its
    comments: it is the user's, not an earlier run's, and `fit other.yaml -o .` keeps it."""
    folder = tmp_path / "project"
    folder.mkdir()
    r = run("init")
    assert r.exit_code == 0
    (folder / "config.yaml").write_text(r.stdout)
    assert_error(run("fit", xor, "-o", folder, "-q"), "config.yaml", "did not write")
    assert (folder / "config.yaml").read_text() == r.stdout
    # without its comments, a relative output still says a person wrote it
    bare = yaml.safe_dump(yaml.safe_load(r.stdout))
    (folder / "config.yaml").write_text(bare)
    assert_error(run("fit", xor, "-o", folder, "-q"), "config.yaml", "did not write")
    assert (folder / "config.yaml").read_text() == bare
