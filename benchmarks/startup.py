"""Start-up time: `nettrain --help` and a 10-row `nettrain predict`, against `import numpy`.

    python benchmarks/startup.py [--repeats 10] [--imports]

Each command runs as a fresh subprocess, as a user runs it, once untimed (so the interpreter, the
packages and the model are in the page cache) and then ``--repeats`` times, the commands taking
turns; the median wall time is reported. Targets (issue 5): ``nettrain --help`` within 0.1 s of
``python -c "import numpy"``; ``nettrain predict`` on a 10-row CSV in under 0.3 s. ``--imports``
adds the modules that cost ``nettrain --help`` the most (``python -X importtime``).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from common import (
    ROOT,
    machine_line,
    median,
    nettrain_command,
    spread,
    time_command,
    train_digits_model,
    verdict,
)

HELP_MARGIN_S = 0.1  # --help may take this much longer than `import numpy`
PREDICT_LIMIT_S = 0.3  # predict on 10 rows, whole process


def heaviest_imports(cmd: list[str], min_s: float, max_depth: int) -> list[tuple[float, str]]:
    """(cumulative seconds, indented module) of the imports of ``cmd`` costing at least ``min_s``.

    In the order ``python -X importtime`` reports them (a package after what it imported),
    indented by depth, ``max_depth`` levels deep at most.
    """
    if cmd[0] == sys.executable:  # [python, -m, nettrain]
        full = [sys.executable, "-X", "importtime", *cmd[1:]]
    else:  # the console script, run by this Python
        full = [sys.executable, "-X", "importtime", *cmd]
    done = subprocess.run(full, capture_output=True, text=True, check=False)
    rows = []
    for line in done.stderr.splitlines():
        # "import time: self [us] | cumulative | <two spaces per level>package"
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| ( *)(\S+)$", line)
        if m and int(m.group(1)) >= min_s * 1e6 and len(m.group(2)) // 2 <= max_depth:
            rows.append((int(m.group(1)) / 1e6, m.group(2) + m.group(3)))
    return rows


def interleaved(commands: dict[str, list[str]], repeats: int) -> dict[str, list[float]]:
    """Wall times of each command: one warm-up run each, then ``repeats`` rounds of all of them
    in turn, so that a busy moment on the machine hits every command alike."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for cmd in commands.values():
        time_command(cmd, repeats=0, warmup=1)
    for _ in range(repeats):
        for name, cmd in commands.items():
            times[name] += time_command(cmd, repeats=1, warmup=0)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--imports", action="store_true", help="list the heaviest imports of --help")
    args = parser.parse_args(argv)
    nt = nettrain_command()

    with tempfile.TemporaryDirectory(prefix="nettrain-startup-") as tmp:
        folder = Path(tmp)
        model = train_digits_model(folder / "digits")
        ten_rows = folder / "ten_rows.csv"
        lines = (ROOT / "data" / "digits_test.csv").read_text().splitlines(keepends=True)
        ten_rows.write_text("".join(lines[:11]))  # the header and 10 rows (label included)

        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "python -c 'import numpy'": [sys.executable, "-c", "import numpy"],
            "nettrain --help": [*nt, "--help"],
            "nettrain --version": [*nt, "--version"],
            "nettrain predict MODEL ten_rows.csv": [*nt, "predict", str(model), str(ten_rows)],
        }
        times = interleaved(commands, args.repeats)

    print("# nettrain start-up")
    print()
    print(f"- machine: {machine_line()}; {args.repeats} runs each, interleaved, after one warm-up run")
    print(f"- load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"- nettrain: {' '.join(nt)}")
    print()
    print("| command | wall time, s: median (min-max) |")
    print("|---|---|")
    for name, t in times.items():
        print(f"| `{name}` | {spread(t)} |")
    print()
    numpy_s = median(times["python -c 'import numpy'"])
    help_over = median(times["nettrain --help"]) - numpy_s
    predict_s = median(times["nettrain predict MODEL ten_rows.csv"])
    print(
        f"- `nettrain --help` - `import numpy` = {help_over:+.3f} s "
        f"(target <= {HELP_MARGIN_S} s): {verdict(help_over <= HELP_MARGIN_S)}"
        + ("" if help_over <= HELP_MARGIN_S else f", {help_over - HELP_MARGIN_S:.3f} s over")
    )
    print(
        f"- `nettrain predict` on 10 rows = {predict_s:.3f} s (target < {PREDICT_LIMIT_S} s): "
        f"{verdict(predict_s < PREDICT_LIMIT_S)}"
        + ("" if predict_s < PREDICT_LIMIT_S else f", {predict_s - PREDICT_LIMIT_S:.3f} s over")
    )
    if args.imports:
        print()
        print("Imports of `nettrain --help` costing >= 5 ms (cumulative s, one run, python -X importtime):")
        print()
        print("```")
        for seconds, module in heaviest_imports([*nt, "--help"], 0.005, 4):
            print(f"{seconds:6.3f}  {module}")
        print("```")
    return 0


if __name__ == "__main__":
    sys.exit(main())
