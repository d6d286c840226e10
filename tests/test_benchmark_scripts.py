"""The benchmark scripts say what they need instead of a traceback, where the bench extra
(PyTorch, scikit-learn) is not installed: README's `python benchmarks/run.py` on a machine that
only followed the quick start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_run_py_without_the_bench_extra_is_one_error_line():
    code = (
        "import runpy, sys\n"
        "sys.modules['sklearn'] = sys.modules['torch'] = None  # as if not installed\n"
        "sys.path.insert(0, 'benchmarks')\n"
        "sys.argv = ['benchmarks/run.py', '--quick']\n"
        "runpy.run_path('benchmarks/run.py', run_name='__main__')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
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
