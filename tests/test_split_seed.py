"""data.split_seed: the seed of the validation and test hold-outs, apart from training.seed (the
weights, shuffles, dropout). Unset, the hold-outs are drawn from training.seed exactly as before."""

from __future__ import annotations

import numpy as np
import pytest

from nettrain.config import config_from_dict
from nettrain.data import load_run_data, split_indices, stream_rng

N = 40


def rows_csv(tmp_path, classes: bool = False) -> str:
    """A CSV whose first column is the row's own number, so a held-out set names its rows."""
    rng = np.random.default_rng(0)
    lines = ["row,x,y"]
    for i in range(N):
        y = f"c{i % 3}" if classes else f"{rng.normal():.6f}"
        lines.append(f"{i},{rng.normal():.6f},{y}")
    path = tmp_path / "rows.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def config(train: str, classes: bool = False, seed: int = 7, **data):
    raw = {
        "data": {"train": train, "standardize": False, "validation": 0.25, "test": 0.2, **data},
        "network": {"layers": [2, 3, 3 if classes else 1], "activation": "tanh"},
        "cost": "cross_entropy" if classes else "mse",
        "training": {"epochs": 2, "batch_size": 8, "seed": seed, "learning_rate": 0.05},
    }
    return config_from_dict(raw)


def held_rows(cfg) -> tuple[list[int], list[int], list[int]]:
    """(training, validation, test) rows of a config's data, by the row numbers they hold."""
    run = load_run_data(cfg)
    return tuple(sorted(int(r) for r in ds.X[:, 0]) for ds in (run.train, run.validation, run.test))


def first_principles(seed: int) -> tuple[list[int], list[int], list[int]]:
    """The plain (unstratified) split as it has always been drawn: the test fraction first, from
    child 4 of SeedSequence(seed), then the validation fraction of the rest from child 1; each a
    random permutation whose first round(fraction * n) rows are held out."""
    children = np.random.SeedSequence(seed).spawn(5)
    perm = np.random.default_rng(children[4]).permutation(N)
    n_test = round(0.2 * N)
    test, rest = sorted(perm[:n_test].tolist()), sorted(perm[n_test:].tolist())
    perm = np.random.default_rng(children[1]).permutation(len(rest))
    n_val = round(0.25 * len(rest))
    val = sorted(rest[i] for i in perm[:n_val])
    train = sorted(set(rest) - set(val))
    return train, val, test


@pytest.mark.parametrize("seed", [0, 7])
def test_without_split_seed_the_hold_outs_are_drawn_from_the_training_seed_as_always(tmp_path, seed):
    train = rows_csv(tmp_path)
    assert held_rows(config(train, seed=seed)) == first_principles(seed)


def test_a_stratified_split_without_split_seed_is_the_training_seeds(tmp_path):
    train = rows_csv(tmp_path, classes=True)
    labels = np.array([f"c{i % 3}" for i in range(N)])
    kept, test = split_indices(N, 0.2, stream_rng(7, 4), labels)
    kept_, val = split_indices(len(kept), 0.25, stream_rng(7, 1), labels[kept])
    expected = (kept[kept_].tolist(), kept[val].tolist(), test.tolist())
    assert held_rows(config(train, classes=True)) == expected


def weights(result) -> list[np.ndarray]:
    return [*result.model.network.W, *result.model.network.b]


def same(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(weights(a), weights(b), strict=True))


def test_split_seed_equal_to_the_training_seed_is_the_default_bit_for_bit(tmp_path):
    from nettrain import fit

    train = rows_csv(tmp_path, classes=True)
    default, given = config(train, classes=True), config(train, classes=True, split_seed=7)
    assert held_rows(given) == held_rows(default)
    a, b = fit(default, save=False), fit(given, save=False)
    assert same(a, b)
    assert [(r["loss"], r["val_loss"]) for r in a.history] == [(r["loss"], r["val_loss"]) for r in b.history]


@pytest.mark.parametrize("classes", [False, True])
def test_a_fixed_split_seed_keeps_the_hold_outs_while_the_training_seed_varies(tmp_path, classes):
    from nettrain import fit

    train = rows_csv(tmp_path, classes=classes)
    runs = [config(train, classes, seed=seed, split_seed=3) for seed in (0, 1, 2)]
    assert held_rows(runs[0]) == held_rows(runs[1]) == held_rows(runs[2])
    # ... and they are split_seed's own, not any training seed's
    assert held_rows(runs[0]) != held_rows(config(train, classes, seed=0, split_seed=4))
    if not classes:
        assert held_rows(runs[0]) == first_principles(3)
    fits = [fit(c, save=False) for c in runs[:2]]
    assert not same(*fits)  # the weights still follow training.seed


def test_split_seed_holds_out_the_arrays_given_to_fit(tmp_path):
    """RunData.from_arrays through the Python API: fit holds the fractions out itself."""
    from nettrain.data import RunData
    from nettrain.train import _hold_out

    X = np.column_stack([np.arange(N, dtype=float), np.linspace(-1, 1, N)])
    Y = np.sin(X[:, 1:])

    def held(**data):
        cfg = config(str(tmp_path / "unused.csv"), **data)
        run = _hold_out(cfg, RunData.from_arrays(X, Y, "mse", "float64"))
        return tuple(sorted(int(r) for r in ds.X[:, 0]) for ds in (run.train, run.validation, run.test))

    assert held() == first_principles(7)
    assert held(split_seed=3) == first_principles(3)


def test_gradcheck_and_trace_read_the_split_seeds_training_rows(tmp_path):
    """gradcheck and trace read the data as fit does: the training rows (whose statistics
    standardize a traced row) are split_seed's."""
    from nettrain.trace import trace_config

    train = rows_csv(tmp_path)
    a = trace_config(config(train, split_seed=3, standardize=True), row=0)
    b = trace_config(config(train, seed=1, split_seed=3, standardize=True), row=0)
    c = trace_config(config(train, standardize=True), row=0)
    assert np.array_equal(a.x_mean, b.x_mean) and not np.array_equal(a.x_mean, c.x_mean)


@pytest.mark.parametrize("value", [-1, 1.5, "one", True, [1]])
def test_split_seed_must_be_an_integer_from_zero(tmp_path, value):
    from nettrain.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        config(rows_csv(tmp_path), split_seed=value)
    message = str(err.value)
    assert "data.split_seed" in message and len(message.splitlines()) == 1, message


def test_split_seed_round_trips_through_the_resolved_config(tmp_path):
    from nettrain.config import load_config

    cfg = config(rows_csv(tmp_path), split_seed=5)
    assert cfg.to_dict()["data"]["split_seed"] == 5 and cfg.split_seed == 5
    (tmp_path / "c.yaml").write_text(cfg.to_yaml(), encoding="utf-8")
    assert load_config(tmp_path / "c.yaml").data.split_seed == 5
    assert config(rows_csv(tmp_path)).to_dict()["data"]["split_seed"] is None


def test_resume_refuses_another_split_and_takes_the_same_one_spelled_out(tmp_path):
    from nettrain import ConfigError, fit

    train = rows_csv(tmp_path)

    def cfg(epochs, **data):
        return config_from_dict_with(train, tmp_path / "run", epochs, **data)

    fit(cfg(2, split_seed=3))
    with pytest.raises(ConfigError, match="--force") as err:
        fit(cfg(3, split_seed=4), resume=str(tmp_path / "run"))
    assert "data.split_seed 3 -> 4" in str(err.value)
    with pytest.raises(ConfigError, match="--force"):
        fit(cfg(3), resume=str(tmp_path / "run"))  # unset: training.seed's split, another one
    fit(cfg(3, split_seed=3), resume=str(tmp_path / "run"))
    # a run without split_seed resumes with split_seed: training.seed written out (the same split)
    fit(cfg(2, output="plain"))
    assert len(fit(cfg(3, split_seed=7, output="plain"), resume=str(tmp_path / "plain")).history) == 3


def config_from_dict_with(train, folder, epochs, output=None, **data):
    raw = config(train, **data).to_dict()
    raw["training"].update(epochs=epochs, checkpoint_every=1)
    raw["output"] = str(folder.parent / output) if output else str(folder)
    return config_from_dict(raw)


def test_a_streamed_npy_holds_out_the_split_seeds_validation_rows(tmp_path, monkeypatch):
    import nettrain.data.stream as stream

    monkeypatch.setattr(stream, "STREAM_BYTES", 1000)
    M = np.column_stack([np.arange(300.0), np.random.default_rng(0).normal(size=300)])
    np.save(tmp_path / "m.npy", M)

    def val_rows(seed, **data):
        raw = {
            "data": {"train": str(tmp_path / "m.npy"), "validation": 0.1, "standardize": False, **data},
            "network": {"layers": [1, 1]},
            "training": {"seed": seed},
            "output": "run",
        }
        return sorted(load_run_data(config_from_dict(raw)).validation.X[:, 0].tolist())

    assert val_rows(0, split_seed=3) == val_rows(1, split_seed=3) != val_rows(1)
    assert val_rows(3) == val_rows(0, split_seed=3)


def test_info_names_the_split_seed_of_a_run_that_set_one(tmp_path):
    from nettrain import fit
    from tests.helpers import ok, run

    train = rows_csv(tmp_path)
    fit(config_from_dict_with(train, tmp_path / "a", 1, split_seed=3))
    fit(config_from_dict_with(train, tmp_path / "b", 1))
    assert "seed 7, split seed 3" in ok(run("info", tmp_path / "a")).stdout
    assert "split seed" not in ok(run("info", tmp_path / "b")).stdout
