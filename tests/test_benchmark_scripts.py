"""The benchmark scripts say what they need instead of a traceback, where the bench extra
(PyTorch, scikit-learn) is not installed: README's `python benchmarks/run.py` on a machine that
only followed the quick start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_without(script: str, *modules: str) -> subprocess.CompletedProcess:
    """benchmarks/SCRIPT --quick in a fresh Python where ``modules`` cannot be imported, as if
    the bench extra were not installed."""
    hidden = " = ".join(f"sys.modules[{m!r}]" for m in modules)
    code = (
        "import runpy, sys\n"
        f"{hidden} = None  # as if not installed\n"
        "sys.path.insert(0, 'benchmarks')\n"
        f"sys.argv = ['benchmarks/{script}', '--quick']\n"
        f"runpy.run_path('benchmarks/{script}', run_name='__main__')\n"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_run_py_without_the_bench_extra_is_one_error_line():
    r = run_without("run.py", "sklearn", "torch")
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stderr.splitlines() == [
        "Error: sklearn is not installed: this benchmark compares nettrain with PyTorch and "
        'scikit-learn: pip install -e ".[bench]"'
    ]
    assert r.stdout == ""


def test_benchmarks_readme_names_every_option_of_each_script_it_lists():
    """benchmarks/README.md's table of scripts shows each script's options: one that a script
    gained and the table did not (optimizers.py's --epochs, --bar, --long, --patience) is drift."""
    import re

    table = (ROOT / "benchmarks" / "README.md").read_text()
    rows = re.findall(r"^\| `python benchmarks/(\w+)\.py([^`]*)` \|", table, re.M)
    assert len(rows) >= 7, rows
    for script, shown in rows:
        source = (ROOT / "benchmarks" / f"{script}.py").read_text()
        options = set(re.findall(r"add_argument\(\s*\"(--[\w-]+)\"", source))
        assert options == set(re.findall(r"--[\w-]+", shown)), (script, options, shown)


def test_estimators_py_quick_prints_one_row_per_estimator_and_data_set():
    """benchmarks/estimators.py --quick runs NettrainClassifier/Regressor and MLP* on two bundled
    data sets and prints the Markdown table (a smoke test: the figures are not asserted)."""
    pytest.importorskip("sklearn")
    cmd = [sys.executable, "benchmarks/estimators.py", "--quick", "--seeds", "2", "--epochs", "2"]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    rows = [line for line in r.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[0].startswith("| data (train/test rows) |") and "over 2 seeds" in rows[0]
    body = [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[1:]]
    assert [(cells[0].split(" (")[0], cells[2]) for cells in body] == [
        ("breast_cancer", "nettrain"),
        ("breast_cancer", "scikit-learn"),
        ("diabetes", "nettrain"),
        ("diabetes", "scikit-learn"),
    ]
    assert r.stdout.startswith("2 epochs (max_iter)")


def test_estimators_py_without_scikit_learn_is_one_error_line():
    r = run_without("estimators.py", "sklearn", "sklearn.neural_network")
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stderr.splitlines() == [
        "Error: sklearn is not installed: this benchmark compares nettrain with scikit-learn: "
        'pip install -e ".[bench]"'
    ]
    assert r.stdout == ""
