"""Where nettrain's training loop spends its time: cProfile over one run.py workload.

    python benchmarks/profile_fit.py [--workload digits] [--threads 1] [--epochs 2] [--top 25]

Trains exactly what run.py times for nettrain (same data, config and loop), once to warm up and
once under cProfile, and prints the functions with the most time of their own (tottime) and the
per-step cost. cProfile adds a little to every Python call, so small networks look somewhat slower
here than in run.py; compare profiles with each other, and speed with run.py.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time

import threadpoolctl
from run import BY_NAME, make_data, nettrain_runner


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", default="digits", choices=list(BY_NAME))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, help="default: the workload's full-run epochs")
    parser.add_argument("--top", type=int, default=25, help="how many functions to list")
    args = parser.parse_args(argv)
    w = BY_NAME[args.workload]
    epochs = args.epochs or w.epochs
    threadpoolctl.threadpool_limits(limits=args.threads)

    X, y = make_data(w, w.n, seed=sum(map(ord, w.name)))
    run = nettrain_runner(w, X, y, epochs)
    run()  # warm-up
    t0 = time.perf_counter()
    run()
    plain = time.perf_counter() - t0
    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()

    steps = w.steps_per_epoch * epochs
    print(f"{w.name}: {steps} steps of batch {w.batch}, {args.threads} thread(s)")
    print(f"without the profiler: {plain:.3f} s = {plain / steps * 1e6:.1f} us per step")
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime")
    stats.print_stats(args.top)
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
