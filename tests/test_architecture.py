"""The import rules of DESIGN.md, checked on the source with ``ast``: only backend.py imports
cupy; only cli.py and report.py import typer or rich; the library never prints; importing the fit
loop pulls in no CLI or GPU module."""

import ast
import subprocess
import sys

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "nettrain"
SOURCES = sorted(PACKAGE.glob("**/*.py"))
CLI_MODULES = {"cli.py", "report.py"}


def called_name(node: ast.Call) -> str:
    return getattr(node.func, "attr", getattr(node.func, "id", ""))


def imported_roots(tree: ast.AST) -> set[str]:
    """Top-level names of every module imported anywhere in the file (also inside functions)."""
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call) and node.args and called_name(node) in ("import_module", "__import__")
        ):
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                roots.add(arg.value.split(".")[0])
    return roots


def relative(path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def parse(path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_the_scan_sees_the_library():
    names = {relative(p) for p in SOURCES}
    assert {"backend.py", "network.py", "train.py", "gradcheck.py"} <= names
    assert "cupy" in imported_roots(parse(PACKAGE / "backend.py"))
    # the scanner itself finds imports nested in functions, from-imports and import_module
    sample = ast.parse(
        "def f():\n    import cupy.cuda\nfrom rich.console import Console\nimportlib.import_module('typer')\n"
    )
    assert imported_roots(sample) == {"cupy", "rich", "typer"}


@pytest.mark.parametrize("path", SOURCES, ids=relative)
def test_only_backend_imports_cupy(path):
    if relative(path) != "backend.py":
        assert "cupy" not in imported_roots(parse(path))


@pytest.mark.parametrize("path", SOURCES, ids=relative)
def test_only_plot_imports_matplotlib(path):
    """matplotlib is the optional `plot` extra: the rest of the library must work without it."""
    if relative(path) != "plot.py":
        assert "matplotlib" not in imported_roots(parse(path))


@pytest.mark.parametrize("path", SOURCES, ids=relative)
def test_only_the_estimators_import_scikit_learn_and_only_inside_functions(path):
    """nettrain does not depend on scikit-learn: estimators.py imports it where scikit-learn
    itself calls (its tags) or to raise its NotFittedError, never when the module loads."""
    tree = parse(path)
    if relative(path) != "estimators.py":
        assert "sklearn" not in imported_roots(tree)
        return
    assert "sklearn" in imported_roots(tree)
    top_level = ast.Module(
        body=[n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))], type_ignores=[]
    )
    assert "sklearn" not in imported_roots(top_level)


@pytest.mark.parametrize("path", SOURCES, ids=relative)
def test_only_cli_and_report_import_typer_or_rich(path):
    if relative(path) not in CLI_MODULES and path.parent.name != "cli":
        assert not {"typer", "rich", "click"} & imported_roots(parse(path))


@pytest.mark.parametrize("path", SOURCES, ids=relative)
def test_the_library_never_prints(path):
    if relative(path) in CLI_MODULES or path.parent.name == "cli":
        return
    calls = [
        node.lineno
        for node in ast.walk(parse(path))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("print", "breakpoint")
    ]
    assert not calls, f"{relative(path)} calls print() on line(s) {calls}"


def test_importing_the_fit_loop_loads_no_cli_or_gpu_module():
    code = (
        "import nettrain.train, nettrain.gradcheck, sys; "
        "bad = sorted(m for m in sys.modules "
        "if m.startswith(('typer', 'rich', 'cupy', 'click', 'matplotlib'))); "
        "assert not bad, bad"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr


def test_cli_starts_without_numpy_rich_or_yaml():
    """`nettrain --help` must start fast: nothing heavy is imported until a command needs it.
    (Beyond what typer itself imports: typer 0.15 imports rich, later ones do not.)"""
    code = (
        "import sys, typer; typers = set(sys.modules); import nettrain.cli; "
        "heavy = [m for m in ('numpy', 'rich', 'yaml', 'pydantic', 'cupy', 'matplotlib') "
        "if m in sys.modules and m not in typers]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_package_is_installed_by_a_regular_install():
    """A wheel must hold nettrain.data and any other subpackage, not only what an editable
    install finds in the source tree."""
    # tomllib is 3.11+; on 3.10 pytest itself depends on tomli, the same parser.
    tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")

    from tests.conftest import ROOT

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    include = config["packages"]["find"]["include"]
    packages = sorted(
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "nettrain").rglob("__init__.py")
    )
    import fnmatch

    for package in packages:
        assert any(fnmatch.fnmatch(package, pattern) for pattern in include), package
