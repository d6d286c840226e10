"""GPU training speed: nettrain on CuPy vs PyTorch eager CUDA, on the same card.

    python benchmarks/gpu_bench.py [--steps 60] [--repeats 3]

Workloads (issue 6): 784-1024-1024-10 relu / softmax cross-entropy at batch 256 and 4096, and
100-4096-1 tanh / identity mse at batch 512; float32, plain SGD, the same data, sizes, learning
rate and number of steps for both; one warm-up run each; synchronised timing (nettrain's fit reads
the loss once per epoch, which waits for the GPU; PyTorch is timed with torch.cuda.synchronize()).
nettrain is timed through its real loop: ``fit(config, data=RunData(...))`` with device gpu.
Prints one Markdown table. Installs nothing; says which library is missing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

WORKLOADS = {
    "large_b256": ([784, 1024, 1024, 10], "relu", "softmax", "cross_entropy", 256),
    "large_b4096": ([784, 1024, 1024, 10], "relu", "softmax", "cross_entropy", 4096),
    "wide_b512": ([100, 4096, 1], "tanh", "identity", "mse", 512),
}
GOALS = {"large_b256": 0.8, "large_b4096": 1.0, "wide_b512": None}


def need(name: str):
    try:
        return __import__(name)
    except Exception as exc:  # ImportError, or a CUDA library that fails to load
        sys.exit(f"gpu_bench: {name} is not usable here ({type(exc).__name__}: {exc})")


def data_for(sizes, cost, n, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, sizes[0])).astype(np.float32)
    if cost == "cross_entropy":
        Y = np.eye(sizes[-1], dtype=np.float32)[rng.integers(0, sizes[-1], n)]
    else:
        Y = rng.standard_normal((n, sizes[-1])).astype(np.float32)
    return X, Y


def run_nettrain(sizes, act, out, cost, bs, steps, X, Y):
    from nettrain import config_from_dict
    from nettrain.data import RunData
    from nettrain.train import fit

    cfg = config_from_dict(
        {
            "network": {"layers": sizes, "activation": act, "output": out},
            "cost": cost,
            "device": "gpu",
            "training": {"epochs": 1, "batch_size": bs, "learning_rate": 0.01},
        }
    )
    data = RunData.from_arrays(X[: steps * bs], Y[: steps * bs], cost)
    t = time.perf_counter()
    fit(cfg, data=data, save=False)
    return steps * bs / (time.perf_counter() - t)


def run_torch(sizes, act, out, cost, bs, steps, X, Y):
    import torch

    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU() if act == "relu" else torch.nn.Tanh())
    model = torch.nn.Sequential(*layers).cuda()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss() if cost == "cross_entropy" else torch.nn.MSELoss()
    Xd = torch.from_numpy(X[: steps * bs]).cuda()
    Yd = torch.from_numpy(Y[: steps * bs].argmax(1) if cost == "cross_entropy" else Y[: steps * bs]).cuda()
    torch.cuda.synchronize()
    t = time.perf_counter()
    perm = torch.randperm(steps * bs, device="cuda")
    total = torch.zeros((), device="cuda")
    for k in range(steps):
        idx = perm[k * bs : (k + 1) * bs]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(Xd[idx]), Yd[idx])
        loss.backward()
        opt.step()
        total += loss.detach()
    float(total)  # the once-per-epoch read, as nettrain does
    torch.cuda.synchronize()
    return steps * bs / (time.perf_counter() - t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    need("numpy")
    cupy = need("cupy")
    torch = need("torch")
    if not torch.cuda.is_available():
        sys.exit("gpu_bench: torch.cuda.is_available() is False (a CPU build of PyTorch?)")
    card = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    print(f"- card: {card}; cupy {cupy.__version__}, torch {torch.__version__}; {time.strftime('%Y-%m-%d')}")
    print("\n| workload | batch | nettrain (CuPy) samples/s | PyTorch CUDA samples/s | ratio | goal |")
    print("|---|---|---|---|---|---|")
    for name, (sizes, act, out, cost, bs) in WORKLOADS.items():
        X, Y = data_for(sizes, cost, args.steps * bs)
        run_nettrain(sizes, act, out, cost, bs, 3, X, Y)  # warm-up: kernels compiled, pools filled
        run_torch(sizes, act, out, cost, bs, 3, X, Y)
        nt, pt = [], []
        for _ in range(args.repeats):
            nt.append(run_nettrain(sizes, act, out, cost, bs, args.steps, X, Y))
            pt.append(run_torch(sizes, act, out, cost, bs, args.steps, X, Y))
        ratio = statistics.median(a / b for a, b in zip(nt, pt))
        goal = GOALS[name]
        verdict = "-" if goal is None else (f">= {goal}x: " + ("met" if ratio >= goal else "MISSED"))
        print(
            f"| {name} | {bs} | {statistics.median(nt):,.0f} | {statistics.median(pt):,.0f} | "
            f"{ratio:.2f} | {verdict} |"
        )


if __name__ == "__main__":
    main()
