"""fit's training loop against PyTorch and its data preparation against scikit-learn: the same
initial weights, row permutations and dropout masks replayed in torch (its own SGD,
clip_grad_norm_ and lr_scheduler) give the same weights, per-epoch losses and learning rates;
the standardization statistics under missing: mean are those of scikit-learn's SimpleImputer
and StandardScaler fitted on the training rows alone. Skipped where torch or scikit-learn are
not installed."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from nettrain import RunData, config_from_dict, fit
from nettrain.data import load_run_data, split_indices, stream_rng
from nettrain.network import Network

N = 101  # 3 full batches of 32 and a last one of 5
SEED = 3


def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, 5))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)  # 3 classes
    return X, y


def arrays(X, y) -> RunData:
    return RunData.from_arrays(X, y, "cross_entropy", dtype="float64")


def config(
    schedule,
    optimizer="momentum",
    weight_decay=0.01,
    clip=0.3,
    dropout=0.3,
    epochs=8,
    decay_biases=False,
    input_dropout=0.0,
):
    training = {
        "decay_biases": decay_biases,
        "input_dropout": input_dropout,
        "learning_rate": 0.1,
        "epochs": epochs,
        "batch_size": 32,
        "seed": SEED,
        "optimizer": optimizer,
        "weight_decay": weight_decay,
        "clip_norm": clip,
        "dropout": dropout,
        "schedule": schedule,
    }
    return config_from_dict(
        {
            "network": {"layers": [5, 16, 12, 3], "activation": ["relu", "tanh"]},
            "cost": "cross_entropy",
            "dtype": "float64",
            "training": training,
            "device": "cpu",  # (the replays draw dropout masks from the host stream, as the CPU does)
        }
    )


def torch_replay(cfg, X, y, make_scheduler):
    """The run in torch: nettrain's initial weights, its shuffle (stream 2) and dropout (stream 3)
    generators drawn as fit draws them (one permutation per epoch; per step, per hidden layer,
    uniform float32 draws of the batch's shape, kept where u >= p and scaled by 1 / (1 - p));
    everything else is torch's: cross_entropy, backward, clip_grad_norm_ over every W and b,
    SGD (or AdamW) with weight decay on the weights only, or on every parameter with
    decay_biases (torch's own default), the scheduler stepped after each epoch.
    Returns (W, b, per-epoch loss: the mean of the batches' losses weighted by their rows, lr)."""
    torch = pytest.importorskip("torch")
    tc = cfg.training
    net = Network.from_config(cfg)
    W = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in net.W]
    b = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in net.b]
    bias_decay = tc.weight_decay if tc.decay_biases else 0.0
    groups = [{"params": W, "weight_decay": tc.weight_decay}, {"params": b, "weight_decay": bias_decay}]
    if tc.optimizer == "adamw":
        opt = torch.optim.AdamW(groups, lr=tc.learning_rate, betas=(0.9, 0.999), eps=1e-8)
    else:
        momentum = 0.9 if tc.optimizer == "momentum" else 0.0
        opt = torch.optim.SGD(groups, lr=tc.learning_rate, momentum=momentum)
    scheduler = make_scheduler(torch.optim.lr_scheduler, opt) if make_scheduler else None
    shuffle, drop = stream_rng(SEED, 2), stream_rng(SEED, 3)
    p, p_in = tc.dropout[0], tc.input_dropout
    Xt, yt = torch.tensor(X), torch.tensor(y)
    losses, lrs = [], []
    for _ in range(tc.epochs):
        lrs.append(opt.param_groups[0]["lr"])
        perm, total = shuffle.permutation(N), 0.0
        for start in range(0, N, tc.batch_size):
            rows = perm[start : start + tc.batch_size]
            a = Xt[rows]
            if p_in:  # nn.Dropout(p_in) before the first nn.Linear, with nettrain's mask (drawn first)
                u = drop.random(tuple(a.shape), dtype=np.float32)
                a = a * torch.tensor((u >= p_in) / (1 - p_in))
            for l, f in enumerate((torch.relu, torch.tanh)):
                a = f(a @ W[l].T + b[l])
                if p:
                    u = drop.random(tuple(a.shape), dtype=np.float32)
                    a = a * torch.tensor((u >= p) / (1 - p))
            loss = torch.nn.functional.cross_entropy(a @ W[2].T + b[2], yt[rows])
            opt.zero_grad()
            loss.backward()
            if tc.clip_norm:
                torch.nn.utils.clip_grad_norm_(W + b, tc.clip_norm)
            opt.step()
            total += loss.item() * len(rows)
        losses.append(total / N)
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step(losses[-1])
        elif scheduler is not None:
            scheduler.step()
    return [w.detach().numpy() for w in W], [v.detach().numpy() for v in b], losses, lrs


@pytest.mark.parametrize(
    ("schedule", "make_scheduler"),
    [
        ("constant", None),
        ({"name": "step", "step_size": 3, "gamma": 0.5}, lambda S, o: S.StepLR(o, 3, 0.5)),
        ({"name": "exponential", "gamma": 0.8}, lambda S, o: S.ExponentialLR(o, 0.8)),
        (
            {"name": "cosine", "min_lr": 0.01},
            lambda S, o: S.CosineAnnealingLR(o, T_max=8, eta_min=0.01),
        ),
        (  # warm-up over 3 epochs (1/3, 2/3, 1), then the cosine over the other 5
            {"name": "cosine", "warmup": 3},
            lambda S, o: S.SequentialLR(
                o, [S.LinearLR(o, 1 / 3, 1.0, total_iters=2), S.CosineAnnealingLR(o, T_max=5)], milestones=[3]
            ),
        ),
        (  # monitor: loss (no validation data here), relative threshold as PyTorch's mode 'rel'
            {"name": "plateau", "patience": 0, "factor": 0.5, "threshold": 0.05},
            lambda S, o: S.ReduceLROnPlateau(o, patience=0, factor=0.5, threshold=0.05),
        ),
        (  # an absolute threshold and a cooldown, PyTorch's threshold_mode='abs' and cooldown
            {
                "name": "plateau",
                "patience": 0,
                "factor": 0.5,
                "threshold": 0.02,
                "threshold_mode": "abs",
                "cooldown": 1,
            },
            lambda S, o: S.ReduceLROnPlateau(
                o, patience=0, factor=0.5, threshold=0.02, threshold_mode="abs", cooldown=1
            ),
        ),
    ],
)
def test_a_fit_is_its_replay_in_torch(schedule, make_scheduler):
    """Momentum with weight decay on the weights, clipping by the global norm of every W and b,
    inverted dropout, a short last batch, a fresh permutation each epoch: the same weights as
    torch's (float64, to rounding), the same per-epoch training loss (the row-weighted mean of
    the batches' losses, each taken before its step, as Keras reports it) and each epoch's lr in
    the history that torch's scheduler gave that epoch."""
    X, y = data()
    cfg = config(schedule)
    result = fit(cfg, save=False, data=arrays(X, y))
    W, b, losses, lrs = torch_replay(cfg, X, y, make_scheduler)
    for mine, theirs in zip(result.model.network.W + result.model.network.b, W + b, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-12)
    np.testing.assert_allclose([r["loss"] for r in result.history], losses, rtol=1e-12)
    np.testing.assert_allclose([r["lr"] for r in result.history], lrs, rtol=1e-12)
    if make_scheduler is not None:
        assert len(set(lrs)) > 1  # the schedule changed the lr within the run


@pytest.mark.parametrize(
    "options",
    [
        {"optimizer": "sgd", "weight_decay": 0.0},  # the packed update
        {"optimizer": "sgd", "weight_decay": 0.05, "dropout": 0.0},  # the scaled one
    ],
)
def test_plain_sgd_with_clipping_is_its_replay_in_torch(options):
    """Plain SGD folds lr into the gradients it forms and clips those: the same steps as torch's
    clip_grad_norm_ on the plain gradient, then SGD."""
    X, y = data()
    cfg = config("constant", **options)
    result = fit(cfg, save=False, data=arrays(X, y))
    W, b, losses, _ = torch_replay(cfg, X, y, None)
    for mine, theirs in zip(result.model.network.W + result.model.network.b, W + b, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-12)
    np.testing.assert_allclose([r["loss"] for r in result.history], losses, rtol=1e-12)
    unclipped = fit(
        replace(cfg, training=replace(cfg.training, clip_norm=None)), save=False, data=arrays(X, y)
    )
    assert not np.array_equal(unclipped.model.network.W[0], result.model.network.W[0])  # clipping acted


@pytest.mark.parametrize(
    "options",
    [
        {"optimizer": "momentum"},
        {"optimizer": "sgd"},  # the lr-scaled update with weight decay (the sgd_decay kernel's)
        {"optimizer": "sgd", "dropout": 0.0, "clip": None},
        {"optimizer": "adamw", "weight_decay": 0.1},  # decoupled
    ],
    ids=["momentum", "sgd", "sgd, no dropout or clipping", "adamw"],
)
def test_decay_biases_is_torchs_weight_decay_on_every_parameter(options):
    """optim.SGD(weight_decay=wd) and optim.AdamW decay the biases as well as the weights, as
    model.parameters() hands them over: training.decay_biases: true replays them to the same
    tolerance; the biases end elsewhere than with the weights decayed alone. torch adds the decay
    in step(), after clip_grad_norm_: outside the clipped norm, as nettrain does."""
    X, y = data()
    options = {"weight_decay": 0.05, **options}
    cfg = config({"name": "step", "step_size": 3, "gamma": 0.5}, decay_biases=True, **options)
    result = fit(cfg, save=False, data=arrays(X, y))
    W, b, losses, _ = torch_replay(cfg, X, y, lambda S, o: S.StepLR(o, 3, 0.5))
    for mine, theirs in zip(result.model.network.W + result.model.network.b, W + b, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-12)
    np.testing.assert_allclose([r["loss"] for r in result.history], losses, rtol=1e-12)
    weights_only = fit(
        replace(cfg, training=replace(cfg.training, decay_biases=False)), save=False, data=arrays(X, y)
    )
    assert np.abs(weights_only.model.network.b[0] - result.model.network.b[0]).max() > 1e-6
    if cfg.training.clip_norm:  # clipping acted: the replay pins the decay outside the clipped norm
        unclipped = fit(
            replace(cfg, training=replace(cfg.training, clip_norm=None)), save=False, data=arrays(X, y)
        )
        assert np.abs(unclipped.model.network.b[0] - result.model.network.b[0]).max() > 1e-6


@pytest.mark.parametrize("hidden", [0.3, 0.0], ids=["and hidden dropout", "alone"])
def test_input_dropout_is_its_replay_in_torch(hidden):
    """training.input_dropout: nn.Dropout on the inputs before the first nn.Linear, each step's
    input mask drawn before the hidden layers' (from the same generator): the same weights and
    losses as torch's, with and without hidden dropout."""
    X, y = data()
    cfg = config("constant", dropout=hidden, input_dropout=0.2)
    result = fit(cfg, save=False, data=arrays(X, y))
    W, b, losses, _ = torch_replay(cfg, X, y, None)
    for mine, theirs in zip(result.model.network.W + result.model.network.b, W + b, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-12)
    np.testing.assert_allclose([r["loss"] for r in result.history], losses, rtol=1e-12)
    without = fit(config("constant", dropout=hidden), save=False, data=arrays(X, y))
    assert np.abs(without.model.network.W[0] - result.model.network.W[0]).max() > 1e-3


def test_validation_loss_is_unweighted_without_dropout_at_the_epochs_weights():
    """With class weights and dropout, val_loss is plain cross-entropy of the validation rows at
    the weights the epoch ended with (Keras's: class_weight and dropout act on training only),
    while the training loss is the weighted running mean."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 4))
    y = (X[:, 0] > 0.8).astype(int)  # about 1 in 5 rows of class 1
    run = arrays(X[:300], y[:300])
    run = replace(run, validation=arrays(X[300:], y[300:]).train)
    training = {"epochs": 3, "learning_rate": 0.1, "dropout": 0.5, "class_weight": "balanced"}
    cfg = config_from_dict(
        {"network": {"layers": [4, 16, 2]}, "cost": "cross_entropy", "dtype": "float64", "training": training}
    )
    result = fit(cfg, save=False, data=run)
    net = result.model.network
    W = [torch.tensor(w) for w in net.W]
    bias = [torch.tensor(v) for v in net.b]

    def losses(rows):
        z = torch.relu(torch.tensor(X[rows]) @ W[0].T + bias[0]) @ W[1].T + bias[1]
        return torch.nn.functional.cross_entropy(z, torch.tensor(y[rows]), reduction="none").numpy()

    val = losses(slice(300, None))
    assert result.history[-1]["val_loss"] == pytest.approx(val.mean(), rel=1e-12)
    weights = 300 / (2 * np.bincount(y[:300]))  # 'balanced'
    assert abs(val.mean() - (weights[y[300:]] * val).mean()) > 1e-3  # (weighting would show)


def test_standardization_and_mean_fill_are_scikit_learns_on_the_training_rows_only(tmp_path):
    """missing: mean fills with the training rows' mean, and standardization then takes the
    statistics of the filled columns: SimpleImputer(strategy='mean') then StandardScaler, fitted
    on the rows left after the test and validation fractions are held out, not on all rows."""
    pipeline = pytest.importorskip("sklearn.pipeline")
    impute = pytest.importorskip("sklearn.impute")
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    rng = np.random.default_rng(5)
    X = rng.normal(3, 2, size=(N, 3))
    X[rng.random(X.shape) < 0.1] = np.nan
    labels = np.array(["a", "b", "c"])[rng.integers(0, 3, N)]
    lines = ["x1,x2,x3,label"]
    lines += [
        ",".join("" if np.isnan(v) else format(v, ".17g") for v in r) + f",{c}" for r, c in zip(X, labels)
    ]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    cfg = config_from_dict(
        {
            "data": {"train": str(tmp_path / "t.csv"), "test": 0.2, "validation": 0.25, "missing": "mean"},
            "network": {"layers": ["auto", 4, "auto"]},
            "cost": "cross_entropy",
            "training": {"seed": 7},
        }
    )
    run = load_run_data(cfg)
    # the training rows: the test fraction (stream 4) held out first, then validation (stream 1)
    kept, _ = split_indices(N, 0.2, stream_rng(7, 4), labels)
    kept2, _ = split_indices(len(kept), 0.25, stream_rng(7, 1), labels[kept])
    train = kept[kept2]
    assert (len(run.train), len(run.validation), len(run.test)) == (len(train), N - 21 - len(train), 21)
    ref = pipeline.make_pipeline(impute.SimpleImputer(strategy="mean"), preprocessing.StandardScaler())
    ref.fit(X[train])
    enc = run.encoding
    np.testing.assert_allclose([c.fill for c in enc.columns], ref[0].statistics_, rtol=1e-14)
    np.testing.assert_allclose(enc.x_mean, ref[1].mean_, rtol=1e-14)
    np.testing.assert_allclose(enc.x_scale, ref[1].scale_, rtol=1e-14)
    np.testing.assert_allclose(run.train.X, ref.transform(X[train]), atol=1e-6)  # (float32 data)
    everything = pipeline.make_pipeline(impute.SimpleImputer(), preprocessing.StandardScaler()).fit(X)
    assert np.abs(enc.x_mean - everything[1].mean_).max() > 0.01  # the held-out rows would shift it


def test_held_out_sizes_round_per_class_half_to_even():
    """The sizes README gives: round(n f) rows without classes (scikit-learn's train_test_split
    takes ceil(n f): 21 of 101 at 0.2, where nettrain takes round(20.2) = 20); with classes,
    round(f count) of each class, Python's round-half-to-even: 4 classes of 25 at 0.1 give 2.5,
    rounded to 2 each, 8 in all (scikit-learn: 10)."""
    rng = np.random.default_rng(0)
    assert len(split_indices(101, 0.2, rng)[1]) == 20
    labels = np.repeat(np.arange(4), 25)
    _, held = split_indices(100, 0.1, rng, labels)
    assert np.bincount(labels[held]).tolist() == [2, 2, 2, 2]
