"""Training speed: nettrain against PyTorch (CPU, eager) and scikit-learn on the same work.

    python benchmarks/run.py [--quick] [--threads N] [--workloads a,b] [--repeats R] [--json out.json]

For every workload the three systems get the same synthetic float32 data (seeded), the same layer
sizes and activations, cost, batch size, learning rate and number of optimizer steps (plain SGD:
no momentum, no weight decay), and the same thread count. Each system runs once untimed (warm-up),
then the timed runs are interleaved, nettrain, PyTorch, scikit-learn, nettrain, ..., so that a
neighbour taking the machine for a while hurts all three alike.

What is timed is one whole training call, set-up included, the same for all three:

- nettrain: ``nettrain.train.fit(config, data=RunData(...), save=False)``, the loop ``nettrain fit``
  runs (per-epoch shuffle, batch gather, forward, backward, update, loss bookkeeping). A second
  column gives nettrain's in-loop figure from the per-epoch ``time`` of the returned history.
- PyTorch: build an ``nn.Sequential``, ``optim.SGD``, then the usual loop (``randperm`` per epoch,
  gather, ``zero_grad``, forward, loss, ``backward``, ``step``, loss summed without a host sync).
- scikit-learn: ``MLPClassifier``/``MLPRegressor(solver='sgd').fit`` with ``max_iter`` = epochs and
  stopping rules disabled, so it takes exactly as many steps.

samples/s = rows x epochs / seconds. The GEMM-only lower bound counts the three matrix products of
a training step (forward ``a @ W.T`` and ``dW = delta.T @ a`` for every layer, ``da = delta @ W``
for every layer but the first; 2 m n k flops each) at the float32 matmul speed measured here.

The default is one thread. nettrain's machines are shared 2-core VMs: two BLAS threads gain
nothing on small matrices and collapse (5x to 350x slower) whenever a neighbour takes a core, while
one-thread runs keep their speed (measured on these machines). One thread gives
numbers that can be compared from run to run; ``--threads 2`` records the two-core figures.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import statistics
import sys
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from common import machine_line, verdict

# -- the workloads (the table of the speed issue) ----------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """One network and its training run.

    steps_per_epoch x batch rows of data; ``epochs`` passes over them (``quick_epochs`` with
    --quick). Every batch is full, so all three systems take exactly steps_per_epoch x epochs steps.
    """

    name: str
    layers: tuple[int, ...]
    hidden: str  # hidden activation: sigmoid | relu | tanh
    output: str  # output function: sigmoid | softmax | identity
    cost: str  # mse | cross_entropy
    batch: int
    lr: float  # small enough that no system diverges on this data
    steps_per_epoch: int
    epochs: int
    quick_epochs: int

    @property
    def n(self) -> int:
        return self.batch * self.steps_per_epoch

    @property
    def classification(self) -> bool:
        return self.cost == "cross_entropy"

    def flops_per_sample(self) -> int:
        """GEMM flops of one training step per example: 2 m n k for each of the step's products."""
        pairs = list(zip(self.layers[:-1], self.layers[1:]))
        forward = sum(2 * i * o for i, o in pairs)  # z = a @ W.T
        weight_grads = forward  # dW = delta.T @ a
        input_grads = sum(2 * i * o for i, o in pairs[1:])  # da = delta @ W, not for the input
        return forward + weight_grads + input_grads


# the learning rates keep every system well away from divergence on standard-normal inputs
WORKLOADS = [
    Workload("tiny_b1", (4, 2, 2, 1), "sigmoid", "sigmoid", "mse", 1, 0.5, 2000, 2, 1),
    Workload("tiny_b32", (4, 2, 2, 1), "sigmoid", "sigmoid", "mse", 32, 0.5, 1000, 2, 1),
    Workload("digits", (64, 128, 64, 10), "relu", "softmax", "cross_entropy", 64, 0.01, 500, 2, 1),
    Workload("large", (784, 1024, 1024, 10), "relu", "softmax", "cross_entropy", 256, 0.001, 20, 2, 1),
    Workload("wide", (100, 4096, 1), "tanh", "identity", "mse", 512, 1e-4, 60, 2, 1),
]
BY_NAME = {w.name: w for w in WORKLOADS}

#: The issue's targets: (min nettrain/PyTorch, min nettrain/scikit-learn, min fraction of bound).
TARGETS = {
    "tiny_b1": (7.0, 2.0, None),
    "tiny_b32": (7.0, 2.0, None),
    "digits": (3.0, 2.0, None),
    "large": (1.05, 1.0, 0.90),
    "wide": (1.05, 1.0, None),
}


def make_data(w: Workload, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded synthetic data: X (n, inputs) float32 standard normal; y from a random teacher.

    y is (n,) int64 class labels for classification (argmax of a random linear map), else
    (n, outputs) float32 targets in the output function's range.
    """
    rng = np.random.default_rng(seed)
    d, k = w.layers[0], w.layers[-1]
    X = rng.standard_normal((n, d), dtype=np.float32)
    T = rng.standard_normal((d, k), dtype=np.float32) / np.float32(math.sqrt(d))
    scores = X @ T
    if w.classification:
        return X, scores.argmax(axis=1)
    if w.output == "sigmoid":
        return X, (1 / (1 + np.exp(-scores))).astype(np.float32)
    return X, scores.astype(np.float32)


# -- the three systems -------------------------------------------------------------------------------


def nettrain_runner(w: Workload, X: np.ndarray, y: np.ndarray, epochs: int):
    """A function that trains nettrain once through its real loop; returns (loss, in-loop seconds)."""
    from nettrain.config import config_from_dict
    from nettrain.data import RunData
    from nettrain.train import fit

    if w.classification:
        Y = np.zeros((len(y), w.layers[-1]), dtype=np.float32)  # one-hot rows, as nettrain encodes labels
        Y[np.arange(len(y)), y] = 1
    else:
        Y = y
    data = RunData.from_arrays(X, Y, w.cost)  # no standardization: the data is already scaled
    config = config_from_dict(
        {
            "data": {"validation": 0, "standardize": False},
            "network": {"layers": list(w.layers), "activation": w.hidden, "output": w.output},
            "cost": w.cost,
            "training": {
                "learning_rate": w.lr,
                "epochs": epochs,
                "batch_size": w.batch,
                "seed": 0,
                "optimizer": "sgd",
            },
            "device": "cpu",
            "dtype": "float32",
        },
        name=f"bench-{w.name}",
    )

    def run():
        result = fit(config, data=data, save=False)
        return result.history[-1]["loss"], sum(r["time"] for r in result.history)

    return run


def torch_runner(w: Workload, X: np.ndarray, y: np.ndarray, epochs: int):
    """A function that trains the same network in PyTorch eager, written as its users write it."""
    import torch
    from torch import nn

    acts = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}
    Xt = torch.from_numpy(X)
    if w.classification:
        Yt = torch.from_numpy(y)  # class indices: CrossEntropyLoss fuses log-softmax with the cost
        loss_fn = nn.CrossEntropyLoss()
    else:
        Yt = torch.from_numpy(y)
        loss_fn = nn.MSELoss()  # mean over all elements, as nettrain's mse
    n, bs = len(X), w.batch

    def run():
        torch.manual_seed(0)
        layers: list[nn.Module] = []
        pairs = list(zip(w.layers[:-1], w.layers[1:]))
        for l, (i, o) in enumerate(pairs):
            layers.append(nn.Linear(i, o))
            if l < len(pairs) - 1:
                layers.append(acts[w.hidden]())
        if w.output == "sigmoid":
            layers.append(nn.Sigmoid())  # softmax is inside CrossEntropyLoss; identity is nothing
        model = nn.Sequential(*layers)
        opt = torch.optim.SGD(model.parameters(), lr=w.lr, momentum=0.0)
        g = torch.Generator().manual_seed(0)
        for _ in range(epochs):
            perm = torch.randperm(n, generator=g)
            loss_sum = torch.zeros((), dtype=torch.float64)  # read once per epoch, as nettrain does
            for start in range(0, n, bs):
                idx = perm[start : start + bs]
                xb, yb = Xt[idx], Yt[idx]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(xb), yb)
                loss.backward()
                opt.step()
                loss_sum += loss.detach() * len(idx)
            epoch_loss = float(loss_sum) / n
        return epoch_loss, None

    return run


def sklearn_runner(w: Workload, X: np.ndarray, y: np.ndarray, epochs: int):
    """A function that trains scikit-learn's MLP with plain SGD for exactly the same steps.

    Its output function is fixed by the estimator: softmax for MLPClassifier with several classes,
    identity for MLPRegressor. tiny (sigmoid output) therefore runs as an MLPRegressor with
    logistic hidden units and an identity output, the closest it offers.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    hidden = {"sigmoid": "logistic", "relu": "relu", "tanh": "tanh"}[w.hidden]
    estimator = MLPClassifier if w.classification else MLPRegressor
    target = y if w.classification or y.shape[1] > 1 else y[:, 0]

    def run():
        model = estimator(
            hidden_layer_sizes=w.layers[1:-1],
            activation=hidden,
            solver="sgd",
            alpha=0.0,
            batch_size=w.batch,
            learning_rate="constant",
            learning_rate_init=w.lr,
            momentum=0.0,
            nesterovs_momentum=False,
            max_iter=epochs,
            shuffle=True,
            random_state=0,
            # never stop early: no validation split, and "no improvement" cannot trigger in time
            early_stopping=False,
            tol=0.0,
            n_iter_no_change=epochs + 1,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter reached, on purpose
            model.fit(X, target)
        assert model.n_iter_ == epochs and model.coefs_[0].dtype == np.float32
        return model.loss_, None  # half the mean squared error for regressors

    return run


SYSTEMS = ("nettrain", "torch", "sklearn")
RUNNERS = {"nettrain": nettrain_runner, "torch": torch_runner, "sklearn": sklearn_runner}


# -- measuring ---------------------------------------------------------------------------------------


def matmul_gflops(size: int, repeats: int) -> dict[str, float]:
    """Best float32 GFLOP/s of a size^3 matrix product, NumPy and PyTorch, at the current threads."""
    import torch

    rng = np.random.default_rng(0)
    A = rng.standard_normal((size, size), dtype=np.float32)
    B = rng.standard_normal((size, size), dtype=np.float32)
    C = np.empty_like(A)
    At, Bt, Ct = torch.from_numpy(A), torch.from_numpy(B), torch.empty(size, size)
    flops = 2 * size**3
    best = {"numpy": math.inf, "torch": math.inf}
    for _ in range(repeats + 1):  # the first of each is a warm-up and can only lose
        t0 = time.perf_counter()
        np.matmul(A, B, out=C)
        best["numpy"] = min(best["numpy"], time.perf_counter() - t0)
        t0 = time.perf_counter()
        torch.mm(At, Bt, out=Ct)
        best["torch"] = min(best["torch"], time.perf_counter() - t0)
    return {k: flops / t / 1e9 for k, t in best.items()}


def busy_cpu_seconds() -> float:
    """CPU seconds all processes have spent busy since boot (Linux /proc/stat), or NaN."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return math.nan
    idle = ticks[3] + ticks[4]  # idle and iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def timed(fn) -> tuple[float, float, object]:
    """(wall seconds, CPU cores other processes used meanwhile, fn's result) of one call.

    The second figure is the machine's busy CPU time minus this process's own, per second of the
    call: above about 0.1 a neighbour shared the machine and the call's figure is suspect.
    """
    busy0, own0, t0 = busy_cpu_seconds(), time.process_time(), time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    others = (busy_cpu_seconds() - busy0) - (time.process_time() - own0)
    return seconds, max(others, 0.0) / seconds, result


def bench_workload(w: Workload, epochs: int, repeats: int) -> dict:
    """Warm up each system, then time ``repeats`` interleaved rounds of nettrain, torch, sklearn."""
    X, y = make_data(w, w.n, seed=sum(map(ord, w.name)))
    runners = {s: RUNNERS[s](w, X, y, epochs) for s in SYSTEMS}
    # warm-up: one epoch of at most 20 steps on the same data, through the same code paths
    warm_n = w.batch * min(w.steps_per_epoch, 20)
    warm = {s: RUNNERS[s](w, X[:warm_n], y[:warm_n], 1) for s in SYSTEMS}
    for s in SYSTEMS:
        warm[s]()
    times: dict[str, list[float]] = {s: [] for s in SYSTEMS}
    loop_times: list[float] = []
    neighbours: list[float] = []
    losses: dict[str, float] = {}
    for _ in range(repeats):
        for s in SYSTEMS:
            gc.collect()  # outside the timing, so no system pays for another's garbage
            seconds, others, (loss, in_loop) = timed(runners[s])
            times[s].append(seconds)
            neighbours.append(others)
            losses[s] = float(loss)
            if in_loop is not None:
                loop_times.append(in_loop)
    samples = w.n * epochs
    return {
        "workload": asdict(w),
        "epochs": epochs,
        "steps": w.steps_per_epoch * epochs,
        "samples": samples,
        "flops_per_sample": w.flops_per_sample(),
        "seconds": times,
        "nettrain_in_loop_seconds": loop_times,
        "samples_per_s": {s: [samples / t for t in times[s]] for s in SYSTEMS},
        "nettrain_in_loop_samples_per_s": [samples / t for t in loop_times],
        "final_loss": losses,
        "neighbour_cores": neighbours,
    }


# -- reporting ---------------------------------------------------------------------------------------


def fmt_rate(x: float) -> str:
    if x >= 10_000_000:
        return f"{x / 1e6:,.0f}M"
    if x >= 100_000:
        return f"{x / 1000:,.0f}k"
    if x >= 10_000:
        return f"{x / 1000:.1f}k"
    return f"{x:,.0f}"


def pct(x: float) -> str:
    return f"{x:.1%}" if x >= 0.001 else "<0.1%"


def rate_cell(values: list[float]) -> str:
    return f"{fmt_rate(statistics.median(values))} ({fmt_rate(min(values))}-{fmt_rate(max(values))})"


def ratios(a: list[float], b: list[float]) -> list[float]:
    """Per-round ratios a/b: each round runs the systems back to back, under the same conditions."""
    return [x / y for x, y in zip(a, b)]


def ratio_cell(a: list[float], b: list[float]) -> str:
    r = ratios(a, b)
    return f"{statistics.median(r):.2f} ({min(r):.2f}-{max(r):.2f})"


def check(what: str, value: float, want: float, percent: bool = False) -> str:
    """'vs PyTorch 2.50x >= 3x: MISSED' (value shown to 3 digits, so 1.047 never reads as 1.05)."""
    shown = f"{value:.1%} >= {want:.0%}" if percent else f"{value:.3g}x >= {want:g}x"
    return f"{what} {shown}: {verdict(value >= want)}"


def report(results: list[dict], gflops: float) -> str:
    lines = [
        "Samples/s, median (min-max) over the repeats; whole training call timed for every system. "
        "Others' CPU: cores that other processes kept busy during the timed calls, median (max); "
        "near 0 means the figures are the machine's own.",
        "",
        "| workload | layers | batch | steps | nettrain | nettrain in-loop | PyTorch | scikit-learn "
        "| others' CPU |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        w, sps = r["workload"], r["samples_per_s"]
        lines.append(
            f"| {w['name']} | {'-'.join(map(str, w['layers']))} | {w['batch']} | {r['steps']} "
            f"| {rate_cell(sps['nettrain'])} | {rate_cell(r['nettrain_in_loop_samples_per_s'])} "
            f"| {rate_cell(sps['torch'])} | {rate_cell(sps['sklearn'])} "
            f"| {statistics.median(r['neighbour_cores']):.2f} (max {max(r['neighbour_cores']):.2f}) |"
        )
    lines += [
        "",
        "Ratios: median (min-max) of the per-round ratios. Bound: GEMM-only samples/s at "
        f"{gflops:.0f} GFLOP/s; the three columns after it: median samples/s as a fraction of it.",
        "",
        "| workload | nettrain / PyTorch | sklearn / PyTorch | nettrain / sklearn "
        "| bound | nettrain | PyTorch | sklearn | targets (issue 5) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        w, sps = r["workload"], r["samples_per_s"]
        bound = gflops * 1e9 / r["flops_per_sample"]
        med = {s: statistics.median(sps[s]) for s in SYSTEMS}
        nt_torch = statistics.median(ratios(sps["nettrain"], sps["torch"]))
        nt_sk = statistics.median(ratios(sps["nettrain"], sps["sklearn"]))
        want_torch, want_sk, want_bound = TARGETS[w["name"]]
        checks = [check("vs PyTorch", nt_torch, want_torch), check("vs sklearn", nt_sk, want_sk)]
        if want_bound:
            checks.append(check("of bound", med["nettrain"] / bound, want_bound, percent=True))
        lines.append(
            f"| {w['name']} | {ratio_cell(sps['nettrain'], sps['torch'])} "
            f"| {ratio_cell(sps['sklearn'], sps['torch'])} | {ratio_cell(sps['nettrain'], sps['sklearn'])} "
            f"| {fmt_rate(bound)} | {pct(med['nettrain'] / bound)} | {pct(med['torch'] / bound)} "
            f"| {pct(med['sklearn'] / bound)} | {'; '.join(checks)} |"
        )
    return "\n".join(lines)


def load_line() -> str:
    """The 1/5/15-minute load averages: above the thread count, a neighbour shared the cores."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} CPUs)"


def library_versions() -> dict[str, str]:
    import sklearn
    import threadpoolctl
    import torch

    import nettrain

    # e.g. "openblas 0.3.31 SkylakeX x1 (numpy.libs)": which copy of which library, how many threads
    pools = []
    for i in threadpoolctl.threadpool_info():
        folder = Path(i["filepath"]).parent
        owner = f"{folder.parent.name}/{folder.name}" if folder.name == "lib" else folder.name
        words = [i["internal_api"], i.get("version"), i.get("architecture"), f"x{i['num_threads']}"]
        pools.append(" ".join(filter(None, words)) + f" ({owner})")
    return {
        "nettrain": f"{nettrain.__version__} ({nettrain.__file__.rsplit('/', 2)[0]})",
        "numpy": np.__version__,
        "torch": torch.__version__,
        "scikit-learn": sklearn.__version__,
        "thread pools": "; ".join(pools),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats (< 1 minute)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/torch threads (default 1)")
    parser.add_argument("--workloads", default=",".join(BY_NAME), help="comma-separated names")
    parser.add_argument("--repeats", type=int, help="timed rounds (default 5, 3 with --quick)")
    parser.add_argument("--json", metavar="FILE", help="also write every measurement as JSON")
    args = parser.parse_args(argv)
    names = [s.strip() for s in args.workloads.split(",") if s.strip()]
    unknown = [s for s in names if s not in BY_NAME]
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(BY_NAME)}")
    repeats = args.repeats or (3 if args.quick else 5)

    # Import everything that brings a thread pool before limiting them: threadpoolctl limits the
    # pools that are loaded (NumPy's and SciPy's OpenBLAS, torch's OpenMP); torch also gets its own.
    try:
        import sklearn.neural_network  # noqa: F401
        import threadpoolctl
        import torch
    except ImportError as exc:  # (a traceback said so before)
        missing = (exc.name or str(exc)).split(".")[0]
        parser.exit(
            2,
            f"Error: {missing} is not installed: this benchmark compares nettrain with PyTorch "
            'and scikit-learn: pip install -e ".[bench]"\n',
        )

    import nettrain.train  # noqa: F401

    threadpoolctl.threadpool_limits(limits=args.threads)
    # nettrain's fit chooses its BLAS threads by the step's size unless told: tell it the same
    os.environ["NETTRAIN_THREADS"] = str(args.threads)
    torch.set_num_threads(args.threads)

    versions = library_versions()
    print(f"# nettrain training benchmark ({'quick' if args.quick else 'full'} run)")
    print()
    print(f"- date: {time.strftime('%Y-%m-%d %H:%M')}; machine: {machine_line()}")
    print(f"- threads: {args.threads} (threadpoolctl for the BLAS pools, torch.set_num_threads)")
    for k, v in versions.items():
        print(f"- {k}: {v}")
    size, reps = (1024, 3) if args.quick else (2048, 5)
    gf = matmul_gflops(size, reps)
    print(
        f"- float32 matmul {size}x{size} @ {size}x{size}, best of {reps}: numpy {gf['numpy']:.0f} "
        f"GFLOP/s, torch {gf['torch']:.0f} GFLOP/s (the bound below uses the larger)"
    )
    print(
        "- timing: wall time of each whole training call (set-up included) after one warm-up run "
        f"each; {repeats} rounds interleaved nettrain, PyTorch, scikit-learn. 'nettrain in-loop' "
        "sums the per-epoch `time` of fit's history (shuffle, steps, loss bookkeeping)."
    )
    print(
        "- same for all: float32 data and weights, layer sizes, batch, learning rate, plain SGD, "
        "steps. scikit-learn's output layer is identity on tiny (it has no sigmoid output) and "
        "it ends each epoch with its own loss bookkeeping."
    )
    print(f"- load average before: {load_line()}")
    sys.stdout.flush()

    results = []
    for name in names:
        w = BY_NAME[name]
        epochs = w.quick_epochs if args.quick else w.epochs
        t0 = time.perf_counter()
        r = bench_workload(w, epochs, repeats)
        r["wall_s"] = time.perf_counter() - t0
        results.append(r)
        print(f"  ... {name} done in {r['wall_s']:.0f} s", file=sys.stderr, flush=True)

    print(f"- load average after: {load_line()}")
    print()
    gflops = max(gf.values())
    print(report(results, gflops))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "quick": args.quick,
                    "threads": args.threads,
                    "repeats": repeats,
                    "machine": machine_line(),
                    "versions": versions,
                    "matmul_gflops": gf,
                    "results": results,
                },
                f,
                indent=1,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
