"""The GPU's fused kernels (backend.Kernel), checked on a machine without a GPU.

Each kernel's CUDA C body is compiled by the host's C++ compiler inside a plain loop that binds
every parameter to one element, as CuPy's ElementwiseKernel does, and run on NumPy arrays
through ctypes. Its results must equal the NumPy forms the CPU trains with (activations,
dropout, every optimizer), in float32 and float64: so a sign, a missing term or a wrong operand
in a kernel fails here, not only on a GPU. Where nvcc is installed, the same bodies are compiled
for a real GPU too, and the float32 ones must not touch double precision (slow on most GPUs).
Where CuPy is installed, cupy.ElementwiseKernel must accept each kernel's parameter lists.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess

import numpy as np
import pytest

from nettrain.activations import ACTIVATIONS, get_activation
from nettrain.backend import Kernel
from nettrain.costs import COSTS, get_cost
from nettrain.network import DROPOUT, Network
from nettrain.optimizers import SGD, Adam, AdamW, Momentum, Nesterov, RMSprop, get_optimizer

CXX = shutil.which("g++") or shutil.which("c++")
NVCC = shutil.which("nvcc")
TYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}


def all_kernels() -> list[Kernel]:
    kernels = [DROPOUT, SGD.KERNEL, Momentum.KERNEL, Adam.KERNEL, RMSprop.KERNEL]
    for name in ACTIVATIONS:
        f = get_activation(name)
        kernels += [f.bias_f_kernel] if f.cuda_f else []
        kernels += [f.mul_df_kernel] if f.cuda_df else []
    kernels += [get_cost(name, output).kernel for name, output in COST_OUTPUTS]
    return kernels


#: every cost with every output function it accepts
COST_OUTPUTS = [(name, output) for name, cls in COSTS.items() for output in cls.outputs]
CTYPES = {"T": "T", "int32": "int"}


def params(text: str) -> list[tuple[str, str, bool]]:
    """(type, name, raw) of each parameter of a list such as 'T g, raw T z, int32 k'."""
    out = []
    for item in text.split(","):
        words = item.split()
        raw = words[0] == "raw"
        kind, name = words[1:] if raw else words
        assert kind in CTYPES, f"the CPU check handles parameters of types T and int32, not {item!r}"
        out.append((kind, name, raw))
    return out


def loop_source(j: int, kernel: Kernel, prefix: str = "") -> str:
    """Kernel j's body in a loop over n elements, as CuPy runs it: each parameter bound to its
    element (raw ones to the whole array, indexed by the body), ``i`` the element's index."""
    binds = []
    ins, outs = params(kernel.inputs), params(kernel.outputs)
    for k, (kind, name, raw) in enumerate(ins + outs):
        ctype = CTYPES[kind]
        const = "const " if k < len(ins) else ""
        if raw:
            binds.append(f"{const}{ctype}* {name} = static_cast<{const}{ctype}*>(args[{k}]);")
        else:
            ref = "" if const else "&"
            binds.append(f"{const}{ctype}{ref} {name} = static_cast<{const}{ctype}*>(args[{k}])[i_];")
    head = f"template <typename T> {prefix} void k{j}(long n, void** args)"
    if prefix:  # CUDA: one thread an element
        loop = "long i_ = blockIdx.x * (long)blockDim.x + threadIdx.x; if (i_ < n) {"
    else:
        loop = "for (long i_ = 0; i_ < n; ++i_) {"
    return "\n".join([head + " {", loop, "const ptrdiff_t i = i_;", *binds, "{", kernel.body, "}", "}", "}"])


class CompiledKernels:
    """Every kernel compiled on the host into one library; ``run(kernel, *args)`` calls one like
    CuPy would: inputs then outputs, arrays broadcast to the shape of the (non-raw) outputs,
    scalars cast to the parameter's type, outputs written in place."""

    def __init__(self, kernels: list[Kernel], folder):
        self.index = {k: j for j, k in enumerate(kernels)}
        lines = ["#include <cmath>", "#include <cstddef>", "using namespace std;"]
        for j, kernel in enumerate(kernels):
            lines.append(loop_source(j, kernel))
            for ctype in TYPES.values():
                lines.append(f'extern "C" void k{j}_{ctype}(long n, void** a) {{ k{j}<{ctype}>(n, a); }}')
        source = folder / "kernels.cpp"
        source.write_text("\n".join(lines))
        library = folder / "kernels.so"
        # -ffp-contract=off: no fused multiply-adds, so float32 results match NumPy's closely
        cmd = [CXX, "-O1", "-shared", "-fPIC", "-ffp-contract=off", "-o", str(library), str(source)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        self.lib = ctypes.CDLL(str(library))

    def run(self, kernel: Kernel, *args) -> None:
        specs = params(kernel.inputs) + params(kernel.outputs)
        n_in = len(params(kernel.inputs))
        assert len(args) == len(specs)
        domain = [a for a, (_, _, raw) in zip(args[n_in:], specs[n_in:]) if not raw]
        dtype, shape = args[n_in].dtype, domain[0].shape
        arrays, write_back = [], []
        for k, (x, (kind, _, raw)) in enumerate(zip(args, specs)):
            want = dtype if kind == "T" else np.dtype(np.int32)
            if k >= n_in:  # an output: written in place (through a contiguous copy if need be)
                assert x.dtype == want and (raw or x.shape == shape)
                assert x.flags.c_contiguous or not raw
                if not x.flags.c_contiguous:
                    work = np.ascontiguousarray(x)
                    write_back.append((x, work))
                    x = work
                arrays.append(x)
            elif isinstance(x, np.ndarray):  # CuPy: "Type is mismatched" (no silent cast)
                assert x.dtype == want, f"{kernel.name}: a {x.dtype} array for a {want} parameter"
                arrays.append(np.ascontiguousarray(x if raw else np.broadcast_to(x, shape)))
            else:  # a scalar: cast to the parameter's type
                assert not raw, f"{kernel.name}: a scalar for a raw parameter"
                arrays.append(np.full(shape, x, dtype=want))
        pointers = (ctypes.c_void_p * len(arrays))(*[a.ctypes.data for a in arrays])
        function = getattr(self.lib, f"k{self.index[kernel]}_{TYPES[dtype]}")
        function(ctypes.c_long(int(np.prod(shape))), pointers)
        for target, work in write_back:
            target[...] = work


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    if CXX is None:
        pytest.skip("no C++ compiler to check the GPU kernels with")
    return CompiledKernels(all_kernels(), tmp_path_factory.mktemp("kernels"))


@pytest.fixture
def kernels_on_cpu(compiled, monkeypatch):
    """Makes the training step take its GPU branches on NumPy arrays, each Kernel running
    through the compiled CPU loop: the GPU code paths (which kernel, which arguments in which
    order) run for real on a machine without a GPU."""
    import nettrain.network
    import nettrain.optimizers

    for module in (nettrain.network, nettrain.optimizers):
        monkeypatch.setattr(module, "on_gpu", lambda x: True)
    calls: list[str] = []

    def run(self, *args):
        calls.append(self.name)
        compiled.run(self, *args)

    monkeypatch.setattr(Kernel, "__call__", run)
    return calls


def tolerance(dtype):
    return {"rtol": 2e-6, "atol": 1e-7} if dtype == np.float32 else {"rtol": 1e-13, "atol": 1e-15}


DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_bias_and_activation_kernel_equals_the_numpy_form(compiled, name, dtype):
    f = get_activation(name)
    rng = np.random.default_rng(0)
    z = (rng.standard_normal((33, 7)) * 4).astype(dtype)
    z[0, :5] = [0, -100, 100, -1e-3, np.nan]  # the kink, both tails (exp overflows), NaN passed on
    b = rng.standard_normal(7).astype(dtype)
    want = z + b
    with np.errstate(over="ignore"):
        f.f_into(want, want)  # the CPU's form: z += b, then f in place
    got = z.copy()
    compiled.run(f.bias_f_kernel, b, got)
    np.testing.assert_allclose(got, want, **tolerance(dtype))
    assert np.isnan(got[0, 4])  # a diverging run stays visible in the loss


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(n for n in ACTIVATIONS if get_activation(n).cuda_df))
def test_derivative_kernel_equals_the_numpy_form(compiled, name, dtype):
    f = get_activation(name)
    rng = np.random.default_rng(1)
    a = f.f((rng.standard_normal((21, 5)) * 3).astype(dtype))
    a[0, 0] = 0  # relu's kink: f' = 0 there
    da = rng.standard_normal((21, 5)).astype(dtype)
    want = da.copy()
    f.mul_df(want, a, np.empty_like(a))
    got = da.copy()
    compiled.run(f.mul_df_kernel, a, got)
    np.testing.assert_allclose(got, want, **tolerance(dtype))
    assert not np.array_equal(got, da)  # it did multiply


def test_identity_needs_no_derivative_kernel():
    assert get_activation("identity").cuda_df == ""


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_kernel_equals_the_workspace_form(compiled, dtype):
    net = Network.create(
        [6, 50, 3], ["relu"], "softmax", "cross_entropy", dtype=np.dtype(dtype).name, dropout=[0.3]
    )
    ws = net.workspace(40)
    a = np.abs(np.random.default_rng(2).standard_normal((40, 50))).astype(dtype)
    want = a.copy()
    mask_cpu = ws.drop(0, want, 0.3, np.random.default_rng(5), None).copy()
    pre_cpu = ws.pre[0].copy()
    u = np.random.default_rng(5).random((40, 50), dtype=np.float32)  # the same draws
    got, pre, mask = a.copy(), np.empty_like(a), np.empty_like(a)
    compiled.run(DROPOUT, u.astype(dtype), 0.3, 1 / 0.7, got, pre, mask)  # (Workspace.drop casts u)
    np.testing.assert_array_equal(pre, pre_cpu)
    np.testing.assert_allclose(mask, mask_cpu, **tolerance(dtype))
    np.testing.assert_allclose(got, want, **tolerance(dtype))
    assert 0.2 < (mask == 0).mean() < 0.4


def cost_targets(name: str, k: int, rng, dtype) -> np.ndarray:
    """19 rows of targets as the cost takes them: one-hot rows, 0/1 values, or real values."""
    if name == "cross_entropy":
        return np.eye(k, dtype=dtype)[rng.integers(0, k, 19)]
    if name == "binary_cross_entropy":
        return rng.integers(0, 2, (19, k)).astype(dtype)
    return rng.standard_normal((19, k)).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, output", COST_OUTPUTS, ids=[f"{c}-{o}" for c, o in COST_OUTPUTS])
def test_cost_kernel_equals_the_numpy_form(kernels_on_cpu, name, output, dtype):
    """delta(L) over z and the batch's summed cost, from one kernel and a sum (the GPU's form),
    against the CPU's fused form; logits large enough to overflow a naive exp included."""
    cost = get_cost(name, output)
    rng = np.random.default_rng(7)
    k = 5 if name == "cross_entropy" else 3
    z = (rng.standard_normal((19, k)) * 3).astype(dtype)
    z[0, :2] = [120, -120]
    z[1, -2:] = [-120, 120]  # a row whose max is its last entry: a row max must reach every column
    y = cost_targets(name, k, rng, dtype)
    want = z.copy()
    with np.errstate(over="ignore"):
        want_loss = cost.fused(want, y, 0.1, np.empty_like(z))
    got = z.copy()
    got_loss = cost.fused_gpu(got, y, 0.1, np.empty_like(z))
    assert kernels_on_cpu == [cost.kernel.name]
    np.testing.assert_allclose(got, want, **tolerance(dtype))
    assert float(got_loss) == pytest.approx(float(want_loss), rel=1e-5 if dtype == np.float32 else 1e-12)
    assert np.isfinite(float(got_loss)) and np.isfinite(got).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, output", COST_OUTPUTS, ids=[f"{c}-{o}" for c, o in COST_OUTPUTS])
def test_weighted_cost_kernel_equals_the_numpy_form(kernels_on_cpu, name, output, dtype):
    """The GPU's form with row weights w (class weight times sample weight): delta(L) row i times
    w_i and the rows' costs summed weighted, as the CPU's fused form computes them; a row of
    weight 0 gets a delta(L) of exactly 0."""
    cost = get_cost(name, output)
    rng = np.random.default_rng(8)
    k = 5 if name == "cross_entropy" else 3
    z = (rng.standard_normal((19, k)) * 3).astype(dtype)
    y = cost_targets(name, k, rng, dtype)
    w = rng.uniform(0, 3, 19).astype(dtype)
    w[3] = 0
    want = z.copy()
    want_loss = cost.fused(want, y, 0.1, np.empty_like(z), w)
    got = z.copy()
    got_loss = cost.fused_gpu(got, y, 0.1, np.empty_like(z), w)
    assert kernels_on_cpu == [cost.kernel.name]
    np.testing.assert_allclose(got, want, **tolerance(dtype))
    assert float(got_loss) == pytest.approx(float(want_loss), rel=1e-5 if dtype == np.float32 else 1e-12)
    assert not got[3].any()
    # and the weights count: unweighted, another delta(L) and cost
    plain = z.copy()
    assert float(cost.fused(plain, y, 0.1, np.empty_like(z))) != pytest.approx(float(want_loss), rel=1e-3)


def _params(dtype, seed=3):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((4, 6)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    return [W, b]


OPTIMIZERS = [
    ("momentum", Momentum, {"momentum": 0.8}),
    ("nesterov", Nesterov, {"momentum": 0.8}),
    ("adam", Adam, {}),  # the defaults: 1 - 0.999 is off by 1e-5 when computed in float32
    ("adamw", AdamW, {"beta1": 0.85, "beta2": 0.99, "eps": 1e-6}),
    ("rmsprop", RMSprop, {}),
]


@pytest.mark.parametrize("decay", [[True, False], None], ids=["W decayed", "W and b decayed"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, cls, hyper", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_optimizer_kernel_equals_the_numpy_step(kernels_on_cpu, monkeypatch, name, cls, hyper, dtype, decay):
    """A few steps (the moments and Adam's step count matter), with weight decay on W only, or
    on W and b (training.decay_biases: None decays every parameter)."""
    rng = np.random.default_rng(4)
    grads = [[rng.standard_normal(p.shape).astype(dtype) for p in _params(dtype)] for _ in range(3)]

    def steps():
        opt = get_optimizer(name, 0.05, 0.1, decay, **hyper)
        params = _params(dtype)
        for g in grads:
            opt.step(params, [x.copy() for x in g])
        return params + opt.state_arrays()

    fused = steps()
    assert kernels_on_cpu == [cls.KERNEL.name] * 6  # one kernel a parameter a step
    monkeypatch.undo()
    for a, b in zip(fused, steps()):
        np.testing.assert_allclose(a, b, rtol=3e-6 if dtype == np.float32 else 1e-12, atol=1e-9)
    assert not np.array_equal(fused[0], _params(dtype)[0])
    if decay is None:  # the biases' decay acted: not the step of W-only decay
        opt = get_optimizer(name, 0.05, 0.1, [True, False], **hyper)
        params = _params(dtype)
        for g in grads:
            opt.step(params, [x.copy() for x in g])
        assert np.abs(fused[1] - params[1]).max() > 1e-4


@pytest.mark.parametrize("decay", [[True, False], None], ids=["W decayed", "W and b decayed"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_decay_kernel_equals_the_numpy_step(kernels_on_cpu, monkeypatch, dtype, decay):
    scaled = [np.random.default_rng(6).standard_normal(p.shape).astype(dtype) * 0.1 for p in _params(dtype)]

    def step():
        params = _params(dtype)
        SGD(0.1, weight_decay=0.01, decay=decay).step_scaled(params, [g.copy() for g in scaled])
        return params

    fused = step()
    # the weights; the biases take a plain subtraction unless they are decayed too
    assert kernels_on_cpu == ["sgd_decay"] * (1 if decay else 2)
    monkeypatch.undo()
    for a, b in zip(fused, step()):
        np.testing.assert_allclose(a, b, **tolerance(dtype))


def test_the_kernel_check_itself_catches_a_wrong_body(compiled, tmp_path):
    """A kernel with a flipped sign must fail the comparison (the check is not vacuous)."""
    f = get_activation("tanh")
    wrong = Kernel("mul_dtanh", "T a", "T da", "da *= (1 + a * a);")
    check = CompiledKernels([wrong], tmp_path)
    a = np.tanh(np.linspace(-2, 2, 12, dtype=np.float32)).reshape(3, 4)
    want, got = np.ones_like(a), np.ones_like(a)
    f.mul_df(want, a, np.empty_like(a))
    check.run(wrong, a, got)
    assert not np.allclose(got, want)


def test_every_kernel_compiles_for_a_gpu_without_double_precision_in_float32(tmp_path):
    if NVCC is None:
        pytest.skip("nvcc is not installed")
    kernels = all_kernels()
    lines = ["#include <cstddef>"]
    for j, kernel in enumerate(kernels):
        lines.append(loop_source(j, kernel, prefix="__global__"))
        lines.append(f"template __global__ void k{j}<float>(long, void**);")
    source = tmp_path / "kernels.cu"
    source.write_text("\n".join(lines))
    cmd = [
        NVCC,
        "-c",
        "-arch=sm_80",
        "-Xptxas",
        "-warn-double-usage",
        str(source),
        "-o",
        str(tmp_path / "k.o"),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "double" not in done.stderr.lower(), done.stderr


def test_cupy_accepts_every_kernel():
    """CuPy parses each kernel's parameter lists here; the bodies compile on the first call, on a
    GPU (tests/test_gpu.py calls every kernel there)."""
    cupy = pytest.importorskip("cupy")
    for kernel in all_kernels():
        cupy.ElementwiseKernel(kernel.inputs, kernel.outputs, kernel.body, kernel.name, no_return=True)


def cupy_source(kernel: Kernel, dtype, ndim: int, contiguous: bool) -> str:
    """The CUDA C that cupy.ElementwiseKernel generates for a call of ``kernel`` with arrays of
    ``dtype``, ``ndim`` dimensions and that contiguity (scalars where the training step passes
    Python numbers), through CuPy's own code generator (cupy/_core/_kernel.pyx)."""
    from cupy import ndarray
    from cupy._core import _carray, _kernel, _scalar

    ndarray_kind, indexer_kind, scalar_kind = 1, 2, 3  # cupy/_core/_kernel.pxd's _ArgKind
    ek = _kernel.ElementwiseKernel(kernel.inputs, kernel.outputs, kernel.body, kernel.name, no_return=True)
    arrays = KERNEL_ARRAYS.get(kernel.name)
    infos = []
    for k, p in enumerate(ek.in_params + ek.out_params):
        t = np.dtype(dtype if p.dtype is None else p.dtype).type
        if p.raw or k >= ek.nin or arrays is None or p.name in arrays:
            infos.append(_kernel._ArgInfo(ndarray_kind, ndarray, t, ndim, contiguous, True))
        else:
            infos.append(_kernel._ArgInfo(scalar_kind, _scalar.CScalar, t, 0, True, True))
    infos.append(_kernel._ArgInfo(indexer_kind, _carray.Indexer, None, ndim, True, True))
    types = _kernel._TypeMap((("T", np.dtype(dtype).type),))
    body = _kernel._get_elementwise_kernel_code(tuple(infos), types, ek.params, ek.operation, ek.name, "")
    return "#include <cupy/carray.cuh>\n" + body  # as cupy._core.core.compile_with_cache does


#: the (non-raw) array inputs of each kernel whose other inputs are scalars (a kernel not named
#: here takes arrays only)
KERNEL_ARRAYS = {
    "softmax_cross_entropy": (),
    "dropout": ("u",),
    "sgd_decay": ("g",),
    "momentum": ("g",),
    "adam": ("g",),
    "rmsprop": ("g",),
    "binary_cross_entropy": ("y",),
    "mse_identity": ("y",),
    "mse_sigmoid": ("y",),
}


def test_cupy_compiles_every_kernel_with_nvrtc():
    """Where CuPy and CUDA's NVRTC are installed, GPU or not: each kernel's code as CuPy generates
    it compiles with NVRTC for a Hopper GPU (the options CuPy uses), and the float32 ones use no
    double precision. Needs CuPy's internal code generator; skipped where it moved."""
    cupy = pytest.importorskip("cupy")
    try:
        cupy.cuda.nvrtc.getVersion()
        from cupy._core import core
        from cupy.cuda import compiler

        options = (*core.assemble_cupy_compiler_options(()), "--device-as-default-execution-space")
        cupy_source(DROPOUT, np.float32, 2, True)
    except Exception as exc:  # no NVRTC library, or CuPy's internals changed
        pytest.skip(f"cannot generate or compile CuPy's kernel code here ({type(exc).__name__}: {exc})")
    cases = [(np.float32, 2, True), (np.float64, 2, True), (np.float32, 1, False)]
    for kernel in all_kernels():
        for dtype, ndim, contiguous in cases:
            source = cupy_source(kernel, dtype, ndim, contiguous)
            ptx, _ = compiler._NVRTCProgram(source, "kern.cu").compile((*options, "-arch=compute_90"))
            ptx = ptx.decode() if isinstance(ptx, bytes) else ptx
            if dtype == np.float32:
                assert ".f64" not in ptx, f"{kernel.name}: double precision in the float32 kernel"


TRAINING = [
    # optimizer, hidden activation, cost, output, weight decay, the update's kernel
    ("sgd", "relu", "cross_entropy", "softmax", 0.001, "sgd_decay"),
    ("sgd", "tanh", "mse", "identity", 0.0, None),  # packed: one subtraction, no kernel
    ("momentum", "tanh", "mse", "sigmoid", 0.001, "momentum"),
    ("nesterov", "sigmoid", "binary_cross_entropy", "sigmoid", 0.001, "momentum"),
    ("adam", "leaky_relu", "cross_entropy", "softmax", 0.001, "adam"),
    ("adamw", "softplus", "binary_cross_entropy", "sigmoid", 0.001, "adam"),
    ("rmsprop", "relu", "mse", "identity", 0.001, "rmsprop"),
]


@pytest.fixture(scope="module")
def digits():
    from tests.conftest import DATA

    table = np.loadtxt(DATA / "digits_train.csv", delimiter=",", skiprows=1)
    return table[:, :-1] / 16, table[:, -1].astype(int)


@pytest.mark.parametrize(
    "optimizer, activation, cost, output, decay, update", TRAINING, ids=[f"{t[0]}-{t[2]}" for t in TRAINING]
)
def test_training_through_the_gpu_kernels_matches_the_cpu(
    kernels_on_cpu, monkeypatch, digits, optimizer, activation, cost, output, decay, update
):
    """Digits, 3 epochs, dropout, every cost and optimizer: the GPU branches of the step, of the
    cost and of the update give the CPU's losses and weights (float64, so only the order of
    operations differs)."""
    from nettrain import config_from_dict, fit
    from nettrain.data import RunData

    X, label = digits
    Y = {"cross_entropy": np.eye(10)[label], "binary_cross_entropy": label >= 5, "mse": label / 9}[cost]
    k = 10 if cost == "cross_entropy" else 1

    def run():
        config = config_from_dict(
            {
                "network": {"layers": [64, 24, 16, k], "activation": activation, "output": output},
                "cost": cost,
                "dtype": "float64",
                "training": {
                    "epochs": 3,
                    "batch_size": 64,
                    "optimizer": optimizer,
                    "learning_rate": 0.05 if optimizer in ("sgd", "momentum", "nesterov") else 0.003,
                    "weight_decay": decay,
                    "dropout": [0.2, 0.0],
                    "seed": 1,
                },
                "device": "cpu",
            }
        )
        return fit(config, data=RunData.from_arrays(X, Y, cost, dtype="float64"), save=False)

    fused = run()
    cost_kernel = get_cost(cost, output).kernel.name
    expected = {f"bias_{activation}", f"mul_d{activation}", "dropout", cost_kernel} | ({update} - {None})
    assert set(kernels_on_cpu) == expected
    monkeypatch.undo()  # the CPU's own forms
    plain = run()
    assert [h["loss"] for h in fused.history] == pytest.approx([h["loss"] for h in plain.history], rel=1e-9)
    for a, b in zip(fused.model.network.W, plain.model.network.W):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-11)
    assert plain.history[-1]["loss"] < plain.history[0]["loss"]  # it learned something


def test_input_dropout_through_the_dropout_kernel_matches_the_cpu(kernels_on_cpu, monkeypatch, digits):
    """training.input_dropout alone (no hidden dropout): the GPU branch drops a copy of the
    inputs with the DROPOUT kernel, the CPU's with NumPy; the same masks (host draws here), the
    same losses and weights, and the batch the step was given is left as it was."""
    from nettrain import config_from_dict, fit
    from nettrain.data import RunData

    X, label = digits

    def run():
        config = config_from_dict(
            {
                "network": {"layers": [64, 24, 10], "activation": "relu"},
                "cost": "cross_entropy",
                "dtype": "float64",
                "training": {"epochs": 2, "batch_size": 64, "optimizer": "momentum", "input_dropout": 0.3},
                "device": "cpu",
            }
        )
        data = RunData.from_arrays(X, label, "cross_entropy", dtype="float64")
        before = data.train.X.copy()
        result = fit(config, data=data, save=False)
        assert np.array_equal(data.train.X, before)
        return result

    fused = run()
    assert "dropout" in kernels_on_cpu
    monkeypatch.undo()
    plain = run()
    assert [h["loss"] for h in fused.history] == pytest.approx([h["loss"] for h in plain.history], rel=1e-12)
    for a, b in zip(fused.model.network.W, plain.model.network.W):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("cost, output", COST_OUTPUTS, ids=[f"{c}-{o}" for c, o in COST_OUTPUTS])
def test_gradcheck_passes_through_the_gpu_kernels(kernels_on_cpu, activation, cost, output):
    """The gradients the GPU's step computes (fused bias+activation, cost and derivative
    kernels, run here on the CPU) against finite differences of the plain forward pass: the
    project's oracle, applied to the CUDA bodies."""
    from nettrain import config_from_dict
    from nettrain.gradcheck import gradcheck_config

    config = config_from_dict(
        {
            "network": {"layers": [4, 6, 5, 3], "activation": activation, "output": output},
            "cost": cost,
            "training": {"seed": 3},
        }
    )
    result = gradcheck_config(config, batch=8)
    assert result.passed, [p for p in result.params if not p.passed]
    expected = {f"bias_{activation}", get_cost(cost, output).kernel.name}
    expected |= {f"mul_d{activation}"} if get_activation(activation).cuda_df else set()
    assert set(kernels_on_cpu) == expected


@pytest.mark.parametrize("cost, output", COST_OUTPUTS, ids=[f"{c}-{o}" for c, o in COST_OUTPUTS])
def test_gradcheck_with_sample_weights_passes_through_the_gpu_kernels(kernels_on_cpu, cost, output):
    """The weighted gradients of the GPU's step (the cost kernel, then the rows times w) against
    finite differences of the weighted cost."""
    from nettrain.gradcheck import gradcheck
    from nettrain.network import Network

    k = 1 if cost == "binary_cross_entropy" else 3
    net = Network.create([4, 6, k], "tanh", output, cost, 3, "float64")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((8, 4))
    if cost == "cross_entropy":
        y = np.eye(k)[rng.integers(0, k, 8)]
    elif cost == "binary_cross_entropy":
        y = rng.integers(0, 2, (8, k)).astype(float)
    else:
        y = rng.uniform(0.1, 0.9, (8, k))
    result = gradcheck(net, x, y, sw=rng.uniform(0, 3, 8))
    assert result.passed, [p for p in result.params if not p.passed]
    assert get_cost(cost, output).kernel.name in kernels_on_cpu
