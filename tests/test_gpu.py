"""The same code on NumPy and on CuPy. The ``backend`` fixture runs each test on NumPy always and
on CuPy when a GPU answers (else that case is skipped), so these files run unchanged on a GPU
machine; ``@pytest.mark.gpu`` tests (CPU/GPU parity) run only with ``pytest -m gpu``
(benchmarks/gpu_check.sh does that)."""

import numpy as np
import pytest

from nettrain import config_from_dict
from nettrain.backend import Device, gpu_problem, resolve_device, to_host
from nettrain.errors import BackendError
from nettrain.gradcheck import gradcheck
from nettrain.network import Network
from nettrain.train import fit
from tests.conftest import DATA

GPU_PROBLEM = gpu_problem()
needs_gpu = pytest.mark.skipif(bool(GPU_PROBLEM), reason=f"no usable GPU: {GPU_PROBLEM}")


@pytest.fixture(params=["cpu", "gpu"])
def device(request) -> Device:
    if request.param == "gpu" and GPU_PROBLEM:
        pytest.skip(f"no usable GPU: {GPU_PROBLEM}")
    return resolve_device(request.param)


def batch(sizes, n=16, seed=0, classes=True):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, sizes[0])).astype(np.float32)
    y = np.eye(sizes[-1], dtype=np.float32)[rng.integers(0, sizes[-1], n)]
    return x, y


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "relu", "softplus"])
def test_gradients_on_the_device_match_the_host(device, act):
    sizes = [6, 9, 7, 4]
    host = Network.create(sizes, [act, act], "softmax", "cross_entropy", seed=3, dtype="float64")
    dev = Network.create(
        sizes, [act, act], "softmax", "cross_entropy", seed=3, dtype="float64", device=device
    )
    x, y = batch(sizes)
    x, y = x.astype(np.float64), y.astype(np.float64)
    loss_h, dW_h, db_h = host.gradients(x, y)
    loss_d, dW_d, db_d = dev.gradients(device.asarray(x), device.asarray(y))
    assert float(loss_d) == pytest.approx(float(loss_h), rel=1e-12)
    for a, b in zip(dW_h + db_h, dW_d + db_d):
        np.testing.assert_allclose(to_host(b), a, rtol=1e-10, atol=1e-14)


def test_same_seed_same_initial_weights_on_every_device(device):
    sizes = [5, 8, 3]
    host = Network.create(sizes, ["relu"], "softmax", "cross_entropy", seed=7)
    dev = Network.create(sizes, ["relu"], "softmax", "cross_entropy", seed=7, device=device)
    for a, b in zip(host.W + host.b, dev.W + dev.b):
        assert np.array_equal(to_host(b), a)  # exactly: drawn on the host, then copied


def test_gradcheck_on_the_device(device):
    sizes = [4, 6, 3]
    net = Network.create(sizes, ["tanh"], "softmax", "cross_entropy", seed=1, dtype="float64", device=device)
    x, y = batch(sizes, n=8)
    result = gradcheck(net, device.asarray(x.astype(np.float64)), device.asarray(y.astype(np.float64)))
    assert result.passed


def digits_config(tmp_path, device: str, epochs=2):
    return config_from_dict(
        {
            "data": {"train": str(DATA / "digits_train.csv"), "target": "label", "validation": 0.1},
            "network": {"layers": [64, 32, 10], "activation": "relu"},
            "cost": "cross_entropy",
            "training": {"learning_rate": 0.1, "epochs": epochs, "batch_size": 32, "seed": 0},
            "device": device,
            "output": str(tmp_path / device),
        }
    )


def test_gpu_without_a_gpu_is_a_clear_error(tmp_path):
    if not GPU_PROBLEM:
        pytest.skip("a GPU is usable here")
    with pytest.raises(BackendError, match="cannot be used"):
        fit(digits_config(tmp_path, "gpu"), save=False)


@pytest.mark.gpu
@needs_gpu
def test_training_on_gpu_matches_cpu(tmp_path):
    cpu = fit(digits_config(tmp_path, "cpu"), save=False)
    gpu = fit(digits_config(tmp_path, "gpu"), save=False)
    assert_same_run(gpu, cpu, rel=1e-4, rtol=1e-3, atol=1e-5)


@pytest.mark.gpu
@needs_gpu
def test_gradient_norms_on_gpu_match_cpu(tmp_path):
    """training.gradient_norms summed on the GPU: the CPU's numbers, to float32 tolerance."""
    assert gradient_norms(tmp_path, "gpu") == pytest.approx(gradient_norms(tmp_path, "cpu"), rel=1e-3)


def gradient_norms(tmp_path, device: str) -> list[float]:
    from dataclasses import replace

    config = digits_config(tmp_path, device)
    config = replace(config, training=replace(config.training, gradient_norms=True))
    return [g for r in fit(config, save=False).history for g in r["grad_norm"]]


def assert_same_run(got, want, rel: float, rtol: float, atol: float) -> None:
    """Two fit results: the same losses (within rel) and final weights (within rtol, atol)."""
    assert [h["loss"] for h in got.history] == pytest.approx([h["loss"] for h in want.history], rel=rel)
    for a, b in zip(want.model.network.W, got.model.network.W):
        np.testing.assert_allclose(b, a, rtol=rtol, atol=atol)


@pytest.mark.gpu
@needs_gpu
def test_model_trained_on_gpu_predicts_the_same_on_cpu(tmp_path):
    from nettrain import load_model

    result = fit(digits_config(tmp_path, "gpu"))
    model_cpu = load_model(tmp_path / "gpu" / "model.npz")
    model_gpu = load_model(tmp_path / "gpu" / "model.npz", device=resolve_device("gpu"))
    X = np.loadtxt(DATA / "digits_test.csv", delimiter=",", skiprows=1)[:, :-1]
    np.testing.assert_allclose(model_gpu.outputs(X), model_cpu.outputs(X), rtol=1e-4, atol=1e-6)
    assert result.summary["device"].startswith("gpu")


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity"])
def test_fused_activation_kernels_on_the_gpu_equal_the_host_forms(name):
    from nettrain.activations import get_activation

    f = get_activation(name)
    gpu = resolve_device("gpu")
    rng = np.random.default_rng(0)
    z = (rng.standard_normal((64, 33)) * 4).astype(np.float32)
    b = rng.standard_normal(33).astype(np.float32)
    da = rng.standard_normal((64, 33)).astype(np.float32)
    host_a, dev_a = z + b, gpu.asarray(z)
    with np.errstate(over="ignore"):
        f.f_into(host_a, host_a)  # the CPU's form
    f.bias_f_kernel(gpu.asarray(b), dev_a)
    np.testing.assert_allclose(to_host(dev_a), host_a, rtol=2e-6, atol=1e-6)
    if f.cuda_df:
        host_da, dev_da = da.copy(), gpu.asarray(da)
        f.mul_df(host_da, host_a, np.empty_like(host_a))
        f.mul_df_kernel(dev_a, dev_da)
        np.testing.assert_allclose(to_host(dev_da), host_da, rtol=2e-6, atol=1e-6)


LR = {"sgd": 0.05, "momentum": 0.05, "nesterov": 0.05, "adam": 0.003, "adamw": 0.003, "rmsprop": 0.003}


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop"])
def test_every_optimizer_on_gpu_matches_cpu(tmp_path, optimizer):
    """The fused update kernels against the NumPy updates: 2 epochs of digits with weight decay
    and clipping, in float64 (in float32, Adam's g / sqrt(v) turns rounding noise in gradients
    near zero into steps of size lr, which says nothing about the kernels)."""

    def run(device):
        base = digits_config(tmp_path, device).to_dict()
        base["dtype"] = "float64"
        base["training"].update(
            optimizer=optimizer, learning_rate=LR[optimizer], weight_decay=1e-3, clip_norm=5.0
        )
        return fit(config_from_dict(base), save=False)

    cpu, gpu = run("cpu"), run("gpu")
    assert_same_run(gpu, cpu, rel=1e-9, rtol=1e-7, atol=1e-10)


@pytest.mark.gpu
@needs_gpu
def test_dropout_on_gpu_is_drawn_on_the_device_and_seeded(tmp_path):
    """Masks come from a device generator seeded from the host one: the same seed gives the same
    run; the masks are inverted (0 or 1 / (1 - p)) at the configured rate."""

    def run(seed):
        base = digits_config(tmp_path, "gpu").to_dict()
        base["training"].update(dropout=[0.3], seed=seed)
        return fit(config_from_dict(base), save=False)

    a, b, c = run(0), run(0), run(1)
    for wa, wb in zip(a.model.network.W, b.model.network.W):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(a.model.network.W[0], c.model.network.W[0])

    from nettrain.backend import DeviceRandom

    gpu = resolve_device("gpu")
    net = Network.create([64, 400, 10], ["relu"], "softmax", "cross_entropy", device=gpu, dropout=[0.25])
    ws = net.workspace(256)
    x, y = batch([64, 400, 10], n=256)
    ws.step(gpu.asarray(x), gpu.asarray(y), 1 / 256, DeviceRandom(np.random.default_rng(0)))
    mask = to_host(ws.masks[0])
    assert set(np.unique(mask).tolist()) == {0.0, np.float32(1 / 0.75)}
    assert (mask == 0).mean() == pytest.approx(0.25, abs=0.01)


def test_training_data_too_big_for_the_device_goes_over_in_chunks_with_the_same_batches(
    device, tmp_path, monkeypatch
):
    """When the training set would take more than half of the GPU's free memory it stays on the
    host and is copied a chunk of shuffled rows at a time: the batches, and so the weights, are
    exactly those of the whole set on the device. (Forced here with chunks of 3 batches.)"""
    import nettrain.train

    def run():
        base = digits_config(tmp_path, device.kind).to_dict()
        base["training"].update(dropout=[0.2], epochs=2)
        return fit(config_from_dict(base), save=False)

    whole = run()
    chunks = []
    monkeypatch.setattr(
        nettrain.train, "device_chunk_rows", lambda device, train, bs: chunks.append(bs) or 3 * bs
    )
    chunked = run()
    # the training set; on the GPU the validation set asks too (and is then left on the host)
    assert chunks == ([32] if device.kind == "cpu" else [32, 32])
    if device.kind == "cpu":  # bit for bit
        assert [h["loss"] for h in chunked.history] == [h["loss"] for h in whole.history]
        for a, b in zip(whole.model.network.W, chunked.model.network.W):
            np.testing.assert_array_equal(a, b)
    else:  # cuBLAS may pick other kernels for other addresses of the same rows
        assert_same_run(chunked, whole, rel=1e-6, rtol=1e-5, atol=1e-7)


class _Card:
    """A stand-in GPU with a given amount of free memory."""

    def __init__(self, free):
        self.free = free

    def free_bytes(self):
        return self.free


def test_device_chunk_rows_follows_the_free_memory():
    from nettrain.data import Dataset
    from nettrain.train import device_chunk_rows

    X, Y = np.zeros((1000, 24), np.float32), np.zeros((1000, 1), np.float32)  # 100 bytes a row
    train = Dataset(X, Y)
    assert device_chunk_rows(resolve_device("cpu"), train, 32) is None  # the CPU holds it all
    assert device_chunk_rows(_Card(10**6), train, 32) is None  # 100 kB fits in half of 1 MB
    rows = device_chunk_rows(_Card(100_000), train, 32)  # 100 kB > half of 100 kB
    assert rows == 96  # 12.5 kB a chunk: 125 rows, cut to whole batches of 32
    assert device_chunk_rows(_Card(1000), train, 32) == 32  # at least one batch


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("weighted", [False, True])
def test_evaluation_from_arrays_already_on_the_device_is_the_same(weighted):
    """fit copies the validation set (and its weights) to the GPU once and evaluates from there
    each epoch (on the CPU both forms read the same arrays, so only the GPU can tell them apart)."""
    device = resolve_device("gpu")
    from nettrain.data import RunData
    from nettrain.train import evaluate_dataset

    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 6)).astype(np.float32)
    Y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 300)]
    data = RunData.from_arrays(
        X, Y, "cross_entropy", sample_weight=rng.uniform(0, 3, 300) if weighted else None
    )
    net = Network.create([6, 8, 3], ["relu"], "softmax", "cross_entropy", seed=0, device=device)
    ds = data.train
    copied = evaluate_dataset(net, ds, data.encoding, device, batch_size=128)
    w = None if ds.w is None else device.asarray(ds.w, dtype=np.float64)
    resident = evaluate_dataset(
        net,
        ds,
        data.encoding,
        device,
        batch_size=128,
        on_device=(device.asarray(ds.X), device.asarray(ds.Y), w),
    )
    assert resident == copied
    assert set(resident) == {"loss", "accuracy"} | ({"weighted"} if weighted else set())


@pytest.mark.gpu
@needs_gpu
def test_data_in_another_dtype_than_the_network_is_converted():
    """Arrays given to fit in float32 train a float64 network on the GPU, whose fused kernels
    need one dtype for all their arrays (NumPy mixes dtypes, so the CPU cannot fail this)."""
    device = resolve_device("gpu")
    from nettrain.data import RunData

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5)).astype(np.float32)
    Y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 200)]
    config = config_from_dict(
        {
            "network": {"layers": [5, 8, 3], "activation": "tanh"},
            "cost": "cross_entropy",
            "dtype": "float64",
            "training": {"epochs": 2, "batch_size": 50},
            "device": device.kind,
        }
    )
    data = RunData.from_arrays(X, Y, "cross_entropy")
    data.validation = RunData.from_arrays(X[:40], Y[:40], "cross_entropy").train
    result = fit(config, data=data, save=False)
    assert result.model.network.W[0].dtype == np.float64
    assert np.isfinite(result.history[-1]["val_loss"])


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_cost_kernels_on_the_gpu_equal_the_host_forms(dtype):
    """Every cost with every output function it takes: delta(L) and the summed cost from the
    GPU's kernel against the CPU's fused form."""
    from nettrain.costs import COSTS, get_cost

    gpu = resolve_device("gpu")
    rng = np.random.default_rng(1)
    for name, cls in COSTS.items():
        for output in cls.outputs:
            cost = get_cost(name, output)
            k = 7 if name == "cross_entropy" else 3
            z = (rng.standard_normal((50, k)) * 3).astype(dtype)
            if name == "cross_entropy":
                y = np.eye(k, dtype=dtype)[rng.integers(0, k, 50)]
            else:
                y = rng.random((50, k)).astype(dtype)
            want = z.copy()
            with np.errstate(over="ignore"):
                want_loss = cost.fused(want, y, 0.02, np.empty_like(z))
            got = gpu.asarray(z)
            got_loss = cost.fused_gpu(got, gpu.asarray(y), 0.02, gpu.xp.empty_like(got))
            tol = {"rtol": 1e-5, "atol": 1e-7} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-15}
            np.testing.assert_allclose(to_host(got), want, **tol, err_msg=f"{name}/{output}")
            assert float(got_loss) == pytest.approx(float(want_loss), rel=tol["rtol"] * 10)


@pytest.mark.gpu
@needs_gpu
def test_gradcheck_command_on_the_gpu_passes_for_every_shipped_config():
    """`nettrain gradcheck --device gpu`: the GPU's fused training step against finite
    differences, on each shipped config."""
    from nettrain import load_config
    from nettrain.gradcheck import gradcheck_config
    from tests.conftest import CONFIGS

    gpu = resolve_device("gpu")
    for path in sorted(CONFIGS.glob("*.yaml")):
        result = gradcheck_config(load_config(path), batch=8, device=gpu)
        assert result.passed and result.device.startswith("gpu"), path.name
