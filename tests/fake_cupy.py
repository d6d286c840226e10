"""A stand-in for CuPy on a machine without a GPU, as strict as CuPy where nettrain could trip.

Installed as ``sys.modules["cupy"]`` (tests/test_fake_gpu.py), it makes ``device: gpu`` run every
GPU branch of nettrain in this process: arrays are NumPy arrays wrapped in ``ndarray`` (its
``__module__`` is "cupy", so backend.on_gpu and xp_of see a device array), and each
``ElementwiseKernel`` runs its CUDA C body compiled for the CPU (tests/test_kernels.py). What a
real GPU would refuse, this refuses too, with CuPy's own error types:

- implicit conversion to NumPy: ``np.asarray(x)``, ``float(np.sum(x))`` on a device array
  (``__array__`` raises TypeError, as cupy.ndarray's does);
- mixing host and device arrays in one operation (``x + host``, ``np.add(host, x)``,
  ``cupy.dot(x, host)``): CuPy takes Python and NumPy scalars only, never a numpy.ndarray
  (cupy/_core/_scalar.pyx, scalar_to_c_scalar);
- functions and arguments CuPy lacks: a NumPy function reached through ``__array_function__``
  runs this module's function of that name with CuPy's signature (``np.take(x, i, mode=...)`` is
  a TypeError: cupy.take has no mode), and one this module lacks is refused;
- ``dot(out=...)`` with an output that is not C-contiguous or not of the result's dtype, and
  ``take(out=...)`` of another dtype (cupy/_core/_routines_linalg.pyx, _routines_indexing.pyx);
- ElementwiseKernel calls whose arrays of one type placeholder (T) differ in dtype ("Type is
  mismatched"), whose outputs are not device arrays, or that pass a host array
  (cupy/_core/_kernel.pyx).

Every read of device data by the host (``get``, ``float``, ``int``, ``bool``, ``item``,
``tolist``, ``asnumpy``) is counted in ``SYNCS``: on a GPU each one waits for the device, so a
test can check that nothing in a training step does.
"""

from __future__ import annotations

import types

import numpy as np

__version__ = "0+fake"

#: host reads of device data (each one a wait for the GPU on a real card)
SYNCS = [0]
#: what cupy.cuda.runtime.memGetInfo answers: (free, total) bytes
MEMORY = [8 << 30, 16 << 30]
#: the CPU-compiled kernels (tests.test_kernels.CompiledKernels) that ElementwiseKernel runs
COMPILED: list = []

_PY_SCALARS = (bool, int, float, complex)


def _synced():
    SYNCS[0] += 1


def _is_scalar(x) -> bool:
    return type(x) in _PY_SCALARS or isinstance(x, np.generic)


def _unwrap(x):
    """The NumPy array behind a device array; scalars pass; host arrays are refused as CuPy does."""
    if isinstance(x, ndarray):
        return x._a
    if _is_scalar(x):
        return x
    raise TypeError(f"Unsupported type {type(x)}")


def _wrap(x):
    if isinstance(x, np.ndarray):
        return ndarray(x)
    if isinstance(x, np.generic):  # CuPy's reductions and element reads give 0-d arrays
        return ndarray(np.asarray(x))
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    return x


def _out(out):
    if out is None:
        return None
    if not isinstance(out, ndarray):
        raise TypeError("Output arguments type must be cupy.ndarray")
    return out._a


class ndarray:
    """A device array: a NumPy array that only this module's functions and its own operators
    touch."""

    __slots__ = ("_a",)
    __array_priority__ = 100

    def __init__(self, a: np.ndarray):
        self._a = a

    # -- what CuPy refuses -------------------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct "
            "a NumPy array explicitly."
        )

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or ufunc.__name__ not in _UFUNCS:
            return NotImplemented
        for x in (*inputs, *kwargs.get("out", ())):
            if not (isinstance(x, ndarray) or _is_scalar(x)):
                return NotImplemented  # NumPy then raises TypeError, as with CuPy
        if "out" in kwargs:
            kwargs["out"] = tuple(_out(o) for o in kwargs["out"])
        return _wrap(ufunc(*(_unwrap(x) for x in inputs), **kwargs))

    def __array_function__(self, func, types, args, kwargs):
        mine = globals().get(func.__name__)
        if mine is None or not callable(mine):
            return NotImplemented
        return mine(*args, **kwargs)

    # -- host reads: each one waits for the GPU ------------------------------------------------------
    def get(self, stream=None):
        _synced()
        return self._a.copy()

    def set(self, arr, stream=None):
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"Only numpy.ndarray can be set to cupy.ndarray, not {type(arr)}")
        if arr.shape != self._a.shape:
            raise ValueError("Shape mismatch")
        if arr.dtype != self._a.dtype:
            raise TypeError(f"{arr.dtype} array cannot be set to {self._a.dtype} array")
        self._a[...] = arr

    def item(self):
        _synced()
        return self._a.item()

    def tolist(self):
        _synced()
        return self._a.tolist()

    def __float__(self):
        _synced()
        return float(self._a)

    def __int__(self):
        _synced()
        return int(self._a)

    def __bool__(self):
        _synced()
        return bool(self._a)

    def __index__(self):
        _synced()
        return self._a.__index__()

    # -- attributes and methods ----------------------------------------------------------------------
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    size = property(lambda self: self._a.size)
    ndim = property(lambda self: self._a.ndim)
    nbytes = property(lambda self: self._a.nbytes)
    itemsize = property(lambda self: self._a.itemsize)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: ndarray(self._a.T))

    def __len__(self):
        return len(self._a)

    def __repr__(self):
        return f"fake_cupy.ndarray({self._a!r})"

    def __getitem__(self, key):
        key = tuple(_key(k) for k in key) if isinstance(key, tuple) else _key(key)
        return _wrap(self._a[key])

    def __setitem__(self, key, value):
        key = tuple(_key(k) for k in key) if isinstance(key, tuple) else _key(key)
        self._a[key] = value._a if isinstance(value, ndarray) else value  # host to device: allowed

    def reshape(self, *shape, order="C"):
        return ndarray(self._a.reshape(*shape, order=order))

    def ravel(self, order="C"):
        return ndarray(self._a.ravel(order=order))

    def copy(self, order="C"):
        return ndarray(self._a.copy(order=order))

    def astype(self, dtype, order="K", casting=None, subok=None, copy=True):
        return ndarray(self._a.astype(dtype, order=order, copy=copy))

    def fill(self, value):
        self._a.fill(_unwrap(value))

    def view(self, dtype=None):
        return ndarray(self._a.view() if dtype is None else self._a.view(dtype))

    def _reduce(name):  # noqa: N805 (a helper that makes methods)
        def method(self, axis=None, dtype=None, out=None, keepdims=False):
            kwargs = {"axis": axis, "keepdims": keepdims, "out": _out(out)}
            if dtype is not None:
                kwargs["dtype"] = dtype
            return _wrap(getattr(self._a, name)(**kwargs))

        method.__name__ = name
        return method

    sum = _reduce("sum")
    mean = _reduce("mean")
    max = _reduce("max")
    min = _reduce("min")
    any = _reduce("any")
    all = _reduce("all")
    del _reduce

    def dot(self, b, out=None):
        return dot(self, b, out)


def _key(k):
    if isinstance(k, ndarray):
        return k._a
    return k


def _binary(name: str, ufunc, reflected: bool = False, inplace: bool = False):
    def op(self, other):
        if not (isinstance(other, ndarray) or _is_scalar(other)):
            if isinstance(other, np.ndarray):
                raise TypeError(f"Unsupported type {type(other)}")
            return NotImplemented
        a, b = (other, self) if reflected else (self, other)
        if inplace:
            ufunc(self._a, _unwrap(other), out=self._a)
            return self
        return _wrap(ufunc(_unwrap(a), _unwrap(b)))

    op.__name__ = name
    return op


for _name, _ufunc in {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "truediv": np.true_divide,
    "pow": np.power,
    "matmul": np.matmul,
    "and": np.logical_and,
    "or": np.bitwise_or,
}.items():
    setattr(ndarray, f"__{_name}__", _binary(f"__{_name}__", _ufunc))
    setattr(ndarray, f"__r{_name}__", _binary(f"__r{_name}__", _ufunc, reflected=True))
    setattr(ndarray, f"__i{_name}__", _binary(f"__i{_name}__", _ufunc, inplace=True))
for _name, _ufunc in {
    "lt": np.less,
    "le": np.less_equal,
    "gt": np.greater,
    "ge": np.greater_equal,
    "eq": np.equal,
    "ne": np.not_equal,
}.items():
    setattr(ndarray, f"__{_name}__", _binary(f"__{_name}__", _ufunc))
ndarray.__neg__ = lambda self: ndarray(-self._a)
ndarray.__abs__ = lambda self: ndarray(np.abs(self._a))
ndarray.__invert__ = lambda self: ndarray(~self._a)
ndarray.__hash__ = None
ndarray.__module__ = "cupy"  # what backend.on_gpu and xp_of look at


# -- functions, with CuPy's signatures --------------------------------------------------------------
def _ufunc(np_ufunc):
    def f(*args, out=None, dtype=None, casting="same_kind"):
        kwargs = {"casting": casting}
        if dtype is not None:
            kwargs["dtype"] = dtype
        if out is not None:
            kwargs["out"] = _out(out)
        return _wrap(np_ufunc(*(_unwrap(a) for a in args), **kwargs))

    f.__name__ = np_ufunc.__name__
    return f


_UFUNCS = {
    "add", "subtract", "multiply", "divide", "true_divide", "power", "negative", "reciprocal",
    "exp", "expm1", "log", "log1p", "sqrt", "tanh", "absolute", "abs", "maximum", "minimum",
    "greater", "greater_equal", "less", "less_equal", "equal", "not_equal", "isfinite", "isnan",
    "logical_and", "logical_or", "logical_not", "bitwise_or",
}  # fmt: skip
for _name in _UFUNCS:
    globals()[_name] = _ufunc(np.absolute if _name == "abs" else getattr(np, _name))


def asarray(a, dtype=None, order=None, *, copy=None, blocking=False):
    if isinstance(a, ndarray):
        return a if dtype is None or a.dtype == np.dtype(dtype) else a.astype(dtype)
    return ndarray(np.array(a, dtype=dtype, order=order or "K"))  # a copy to the device


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *, blocking=False):
    if isinstance(obj, ndarray):
        return ndarray(np.array(obj._a, dtype=dtype, copy=copy, order=order, ndmin=ndmin))
    return ndarray(np.array(obj, dtype=dtype, order=order, ndmin=ndmin))


def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    if isinstance(a, ndarray):
        return a.get()
    return np.asarray(a, order=order)


def empty(shape, dtype=float, order="C"):
    return ndarray(np.empty(shape, dtype=dtype, order=order))


def zeros(shape, dtype=float, order="C"):
    return ndarray(np.zeros(shape, dtype=dtype, order=order))


def ones(shape, dtype=float, order="C"):
    return ndarray(np.ones(shape, dtype=dtype, order=order))


def _like(np_func):
    def f(a, *args, dtype=None, order="K", subok=None, shape=None):
        if not isinstance(a, ndarray):
            raise TypeError(f"Unsupported type {type(a)}")
        return ndarray(np_func(a._a, *(_unwrap(x) for x in args), dtype=dtype, order=order, shape=shape))

    f.__name__ = np_func.__name__
    return f


empty_like = _like(np.empty_like)
zeros_like = _like(np.zeros_like)
ones_like = _like(np.ones_like)
full_like = _like(np.full_like)


def where(condition, x=None, y=None):
    if x is None and y is None:
        return _wrap(np.nonzero(_unwrap(condition)))
    return _wrap(np.where(_unwrap(condition), _unwrap(x), _unwrap(y)))


def dot(a, b, out=None):
    if not (isinstance(a, ndarray) and isinstance(b, ndarray)):
        raise TypeError(f"Argument has incorrect type (expected cupy.ndarray, got {type(a)}, {type(b)})")
    if out is not None:
        o = _out(out)
        if np.result_type(a.dtype, b.dtype) != o.dtype:
            raise ValueError("Not supported dtype combination.")
        if not o.flags.c_contiguous:
            raise ValueError("Output array must be C-contiguous")
        np.dot(a._a, b._a, out=o)
        return out
    return _wrap(np.dot(a._a, b._a))


def matmul(a, b, out=None):
    return _wrap(np.matmul(_unwrap(a), _unwrap(b), out=_out(out)))


def take(a, indices, axis=None, out=None):  # no mode: CuPy's take wraps indices
    if not isinstance(a, ndarray):
        raise TypeError(f"Unsupported type {type(a)}")
    indices = indices._a if isinstance(indices, ndarray) else np.asarray(indices)
    if out is not None:
        if out.dtype != a.dtype:
            raise TypeError("Output dtype mismatch")
        np.take(a._a, indices, axis=axis, out=_out(out), mode="wrap")
        return out
    return _wrap(np.take(a._a, indices, axis=axis, mode="wrap"))


def concatenate(tup, axis=0, out=None, *, dtype=None, casting="same_kind"):
    arrays = [_unwrap(x) for x in tup]
    if any(not isinstance(x, np.ndarray) for x in arrays):
        raise TypeError("Only cupy arrays can be concatenated")
    return _wrap(np.concatenate(arrays, axis=axis, out=_out(out), dtype=dtype, casting=casting))


def copyto(dst, src, casting="same_kind", where=None):
    if not isinstance(dst, ndarray):
        raise TypeError(f"Unsupported type {type(dst)}")
    np.copyto(dst._a, _unwrap(src), casting=casting, where=True if where is None else _unwrap(where))


def get_array_module(*args):
    import sys

    return sys.modules[__name__]


# -- ElementwiseKernel ---------------------------------------------------------------------------------
class ElementwiseKernel:
    """Checks a call as cupy.ElementwiseKernel does, then runs the body compiled for the CPU."""

    def __init__(
        self,
        in_params,
        out_params,
        operation,
        name="kernel",
        reduce_dims=True,
        preamble="",
        no_return=False,
        return_tuple=False,
        **kwargs,
    ):
        import re

        from nettrain.backend import Kernel
        from tests.test_kernels import params

        if not re.fullmatch(r"[A-Za-z_][A-Za-z_0-9]*", name):
            raise ValueError(f'Invalid kernel name: "{name}"')
        self.kernel = Kernel(name, in_params, out_params, operation)
        self.ins, self.outs = params(in_params), params(out_params)
        if "i" in [n for _, n, _ in self.ins + self.outs]:
            raise ValueError("Can not use 'i' as a parameter name")
        self.no_return = no_return

    def __call__(self, *args, **kwargs):
        if len(args) != len(self.ins) + len(self.outs):
            raise TypeError(f"Wrong number of arguments for {self.kernel.name!r}")
        placeholders: dict[str, np.dtype] = {}
        specs = self.outs + self.ins  # CuPy decides the placeholders from the outputs first
        ordered = list(args[len(self.ins) :]) + list(args[: len(self.ins)])
        for k, (x, (kind, name, _raw)) in enumerate(zip(ordered, specs)):
            if k < len(self.outs) and not isinstance(x, ndarray):
                raise TypeError("Output arguments type must be cupy.ndarray")
            if not (isinstance(x, ndarray) or _is_scalar(x)):
                raise TypeError(f"Unsupported type {type(x)}")
            if isinstance(x, ndarray):
                want = placeholders.setdefault(kind, x.dtype) if kind == "T" else np.dtype(kind)
                if x.dtype != want:
                    raise TypeError(f"Type is mismatched. {name} {x.dtype} {want} {kind}")
        domain = [
            a.shape
            for a, (_, _, raw) in zip(args, self.ins + self.outs)
            if isinstance(a, ndarray) and not raw
        ]
        shape = np.broadcast_shapes(*domain)
        for x, (_, _, raw) in zip(args[len(self.ins) :], self.outs):
            if not raw and x.shape != shape:
                raise ValueError("Out shape is mismatched")
        COMPILED[0].run(self.kernel, *(_unwrap(a) for a in args))
        return None if self.no_return else args[len(self.ins) :]


# -- cupy.random, cupy.cuda ------------------------------------------------------------------------------
class RandomState:
    def __init__(self, seed=None, method=None):
        seed = 0 if seed is None else seed
        if isinstance(seed, float) or np.asarray(seed).dtype.kind not in "biu":
            raise TypeError("Seed must be an integer.")
        if not 0 <= int(seed) < 2**64:
            raise ValueError("Seed must be an integer between 0 and 2**64 - 1")
        self._rng = np.random.default_rng(int(seed))

    def random_sample(self, size=None, dtype=float):
        if np.dtype(dtype) not in (np.float32, np.float64):
            raise TypeError(f"cupy.random only supports float32 and float64, not {np.dtype(dtype)}")
        return _wrap(self._rng.random(size, dtype=dtype))


random = types.SimpleNamespace(RandomState=RandomState)


class _Device:
    current = [0]

    def __init__(self, device=None):
        self.id = 0 if device is None else int(device)
        if not 0 <= self.id < runtime.getDeviceCount():
            raise runtime.CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")

    def use(self):
        _Device.current[0] = self.id

    def __enter__(self):
        self._before = _Device.current[0]
        self.use()
        return self

    def __exit__(self, *exc):
        _Device.current[0] = self._before


class _CUDARuntimeError(RuntimeError):
    pass


_CUDARuntimeError.__module__ = "cupy_backends.cuda.api.runtime"
_CUDARuntimeError.__name__ = _CUDARuntimeError.__qualname__ = "CUDARuntimeError"


class _OutOfMemoryError(MemoryError):
    pass


_OutOfMemoryError.__module__ = "cupy.cuda.memory"
_OutOfMemoryError.__name__ = _OutOfMemoryError.__qualname__ = "OutOfMemoryError"

runtime = types.SimpleNamespace(
    getDeviceCount=lambda: 1,
    memGetInfo=lambda: tuple(MEMORY),
    getDeviceProperties=lambda device: {"name": b"fake GPU", "totalGlobalMem": MEMORY[1]},
    CUDARuntimeError=_CUDARuntimeError,
)
_stream = types.SimpleNamespace(synchronize=lambda: None)
_pool = types.SimpleNamespace(free_bytes=lambda: 0, used_bytes=lambda: 0, free_all_blocks=lambda: None)
cuda = types.SimpleNamespace(
    Device=_Device,
    runtime=runtime,
    get_current_stream=lambda: _stream,
    nvrtc=types.SimpleNamespace(getVersion=lambda: (13, 0)),
    memory=types.SimpleNamespace(OutOfMemoryError=_OutOfMemoryError),
)


def get_default_memory_pool():
    return _pool


float32, float64, int32, int64 = np.float32, np.float64, np.int32, np.int64
