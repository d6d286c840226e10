"""How nettrain replaces a file: a temporary file beside it with a short name of its own (so
any name the folder can hold can be written), renamed over the target, with the target's
permission bits kept (a new file gets 0666 less the umask); over-long names are one error line."""

from __future__ import annotations

import errno
import os
import stat
import sys

import pytest

from nettrain.errors import OutputError
from nettrain.modelfile import write_atomic
from tests.conftest import CONFIGS, DATA
from tests.helpers import assert_error, ok, run

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture(scope="module")
def xor_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("xor") / "run"
    ok(run("fit", CONFIGS / "xor.yaml", "--set", "training.epochs=2", "-o", out, "--quiet"))
    return out


def test_a_replaced_file_keeps_its_permission_bits(tmp_path, umask_022):
    path = tmp_path / "f.bin"
    for bits in (0o640, 0o600, 0o604, 0o660):
        path.write_bytes(b"old")
        os.chmod(path, bits)
        write_atomic(path, lambda f: f.write(b"new"))
        assert path.read_bytes() == b"new"
        assert mode(path) == bits, oct(mode(path))


def test_a_new_file_gets_0666_less_the_umask_not_mkstemps_0600(tmp_path):
    for umask in (0o022, 0o027, 0o002):
        old = os.umask(umask)
        try:
            path = tmp_path / f"new-{umask:o}.bin"
            write_atomic(path, lambda f: f.write(b"x"))
        finally:
            os.umask(old)
        assert mode(path) == 0o666 & ~umask, (oct(umask), oct(mode(path)))


def test_predict_o_keeps_a_640_file_640(xor_run, tmp_path, umask_022):
    out = tmp_path / "p.csv"
    out.write_text("old\n")
    os.chmod(out, 0o640)
    ok(run("predict", xor_run, DATA / "xor.csv", "-o", out))
    assert out.read_text().startswith("prediction")
    assert mode(out) == 0o640


def test_a_refit_keeps_a_600_model_600(tmp_path, umask_022):
    out = tmp_path / "run"
    args = ("fit", CONFIGS / "xor.yaml", "--set", "training.epochs=2", "-o", out, "--quiet")
    ok(run(*args))
    os.chmod(out / "model.npz", 0o600)
    os.chmod(out / "history.jsonl", 0o640)
    before = (out / "model.npz").stat().st_mtime_ns
    ok(run(*args[:3], "training.epochs=3", *args[4:]))
    assert (out / "model.npz").stat().st_mtime_ns != before  # replaced
    assert mode(out / "model.npz") == 0o600
    assert mode(out / "history.jsonl") == 0o640
    assert mode(out / "config.yaml") == 0o644


def name_max(folder) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def test_the_temporary_name_is_short_whatever_the_target(tmp_path, monkeypatch):
    """The temporary file is .nettrain-XXXXXXXX.tmp: not the target's name plus ~14 characters."""
    seen = []
    real = os.replace

    def spy(src, dst):
        seen.append(os.path.basename(src))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    write_atomic(tmp_path / ("a" * 200 + ".csv"), lambda f: f.write(b"x"))
    (name,) = seen
    assert name.startswith(".nettrain-") and name.endswith(".tmp") and len(name) == 22, name


def test_predict_o_writes_the_longest_name_the_folder_takes(xor_run, tmp_path):
    longest = "c" * (name_max(tmp_path) - 4) + ".csv"
    (tmp_path / longest).touch()  # the folder takes it (as the shell would)
    (tmp_path / longest).unlink()
    for length in (245, len(longest)):
        out = tmp_path / ("c" * (length - 4) + ".csv")
        ok(run("predict", xor_run, DATA / "xor.csv", "-o", out))
        assert out.read_text().startswith("prediction")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_name_too_long_for_the_folder_is_an_output_error(tmp_path):
    path = tmp_path / ("d" * (name_max(tmp_path) + 1))
    with pytest.raises(OutputError, match="too long"):
        write_atomic(path, lambda f: f.write(b"x"))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("length", [256, 5000])
def test_fit_o_with_a_name_too_long_is_one_error_line(tmp_path, length):
    out = tmp_path / ("b" * length)
    r = run("fit", CONFIGS / "xor.yaml", "-o", out, "--quiet")
    # (a 5000-character path is over PATH_MAX: that check speaks first)
    expected = "file name too long" if length < 1000 else "its path is too long"
    line = assert_error(r, expected)
    assert "internal error" not in line and len(line) < 400
    assert list(tmp_path.iterdir()) == []
    r = run("fit", CONFIGS / "xor.yaml", "-o", out, "--dry-run")
    assert_error(r, expected)


def test_other_commands_with_names_too_long_are_one_error_line(xor_run, tmp_path):
    long = tmp_path / ("e" * 300)
    cases = [
        ("predict", xor_run, DATA / "xor.csv", "-o", long),
        ("predict", long, DATA / "xor.csv"),
        ("info", long),
        ("plot", xor_run, "-o", str(long) + ".png"),
        ("plot", long),
        ("fit", CONFIGS / "xor.yaml", "--resume", long),
        ("fit", CONFIGS / "xor.yaml", "-o", tmp_path / ("f" * 300) / "run"),
    ]
    for args in cases:
        line = assert_error(run(*args), "too long")
        assert "internal error" not in line, (args, line)
        assert len(line) < 400, line


def test_the_fallback_names_an_unexpected_enametoolong(monkeypatch, xor_run):
    """A name too long met where nettrain does not expect it is still no internal error."""
    import nettrain.modelfile as modelfile

    def too_long(*args, **kwargs):
        raise OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG), "/x/" + "g" * 3000)

    monkeypatch.setattr(modelfile, "load_model", too_long)
    line = assert_error(run("info", xor_run), "file name too long")
    assert "internal error" not in line and len(line) < 400


def test_a_run_folder_too_deep_for_the_files_fit_writes_is_refused_before_training(tmp_path):
    """A folder whose path leaves no room for the 22-character temporary name under PATH_MAX
    took the lock file, trained every epoch, then lost the weights: refused up front now."""
    limit = os.pathconf("/", "PC_PATH_MAX")
    deep = str(tmp_path)
    while len(deep) < limit - 20:
        deep += "/" + "d" * min(200, limit - 20 - len(deep) - 1)
    r = run("fit", CONFIGS / "seed.yaml", "-o", deep)
    assert_error(r, "its path is too long for the files fit writes in it")
    assert not any(tmp_path.iterdir())  # nothing made
