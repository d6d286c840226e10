"""A config on standard input (`nettrain fit -`, `envsubst < t.yaml | nettrain fit -`) and from a
shell's <(...): its relative paths are the current folder's, as it has no folder of its own."""

from __future__ import annotations

import io
import os
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from nettrain import load_config
from nettrain.cli import resume_argv
from nettrain.config import is_stream
from nettrain.errors import ConfigError
from tests.conftest import DATA
from tests.helpers import nettrain, signal_when, subprocess_env

CONFIG = """\
data: {train: data/seed.csv, target: y, validation: 0.2}
network: {layers: [4, 3, 1], activation: tanh}
cost: mse
training: {learning_rate: 0.1, epochs: 2, batch_size: 16}
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    shutil.copy(DATA / "seed.csv", tmp_path / "data" / "seed.csv")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_config_on_stdin_takes_its_paths_from_the_current_folder(project):
    cfg = load_config("-", stdin=io.StringIO(CONFIG))
    assert cfg.data.train == str(project / "data" / "seed.csv")
    assert cfg.output == str(project / "runs" / "stdin") and cfg.path is None


def test_stdin_bytes_are_utf8_whatever_the_locale_and_a_bom_is_dropped(project):
    class Stream(io.StringIO):  # a text stream whose bytes are underneath, as sys.stdin's
        buffer = io.BytesIO(("\ufeff# é\n" + CONFIG).encode("utf-8"))

    assert load_config("-", stdin=Stream()).network.activation == ("tanh",)
    with pytest.raises(ConfigError, match=r"config '-' \(standard input\) is not UTF-8 text"):
        load_config("-", stdin=io.BytesIO(b"\xff\xfe"))


def test_data_on_stdin_too_is_refused(project):
    text = CONFIG.replace("train: data/seed.csv", "train: '-'")
    with pytest.raises(ConfigError, match=r"data\.train: '-' \(standard input\) holds the config itself"):
        load_config("-", stdin=io.StringIO(text))


def test_a_terminal_on_stdin_is_refused_not_waited_on():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    with pytest.raises(ConfigError, match="standard input, which is a terminal: pipe a config in"):
        load_config("-", stdin=Terminal(CONFIG))


def test_fit_and_gradcheck_read_a_config_piped_in(project):
    r = nettrain("fit", "-", "-q", "-o", "out", input=CONFIG, cwd=project)
    assert r.returncode == 0, r.stderr
    assert (project / "out" / "model.npz").is_file() and r.stderr == ""
    r = nettrain("gradcheck", "-", input=CONFIG, cwd=project)
    assert r.returncode == 0 and r.stdout.rstrip().splitlines()[-1].startswith("PASS"), r.stdout
    r = nettrain("trace", "-", "--data", "-", input=CONFIG, cwd=project)
    assert r.returncode == 2 and r.stderr.strip() == (
        "Error: the config and --data cannot both be '-': standard input is read once"
    )


def fit_through_process_substitution(project, *args: str):
    """`nettrain fit <(cat c.yaml) ARGS` in bash, from ``project``, with the test config."""
    (project / "c.yaml").write_text(CONFIG)
    return subprocess.run(
        ["bash", "-c", f"'{sys.executable}' -m nettrain fit <(cat c.yaml) {' '.join(args)}"],
        cwd=project, env=subprocess_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash for <(...)")
def test_a_config_from_process_substitution_uses_the_current_folder(project):
    """<(cat c.yaml) is /dev/fd/63, which resolves to /proc/PID/fd/pipe:[...]: its 'folder' made
    data/seed.csv '/proc/PID/fd/data/seed.csv', not found."""
    r = fit_through_process_substitution(project, "-q", "-o", "piped")
    assert r.returncode == 0, r.stderr
    assert (project / "piped" / "model.npz").is_file()


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash for <(...)")
def test_a_config_from_process_substitution_defaults_to_runs_stdin(project):
    """Its name, /dev/fd/63, names no run: the default output was runs/63, as for every <(...)."""
    r = fit_through_process_substitution(project, "--dry-run")
    assert r.returncode == 0, r.stderr
    assert f"output: {project / 'runs' / 'stdin'}\n" in r.stdout, r.stdout


# -- resuming a run whose config was piped in ------------------------------------------------------


def _reset_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # (a background job starts with SIGINT ignored)


def test_the_resume_command_of_a_piped_config_works_from_elsewhere_without_it(project, tmp_path_factory):
    """`cat c.yaml | nettrain fit -`, Ctrl-C: the printed command named '-', which resumed only
    with the same config piped in again. It now names no config: the resumed fit takes the one the
    checkpoint stores, whose relative paths (the current folder's when piped) are absolute."""
    err = project / "err.txt"
    with open(err, "w") as f:
        proc = subprocess.Popen(
            [sys.executable, "-m", "nettrain", "fit", "-", "-o", "out"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=f, cwd=project,
            env=subprocess_env(), text=True, preexec_fn=_reset_sigint,
        )  # fmt: skip
        proc.stdin.write(CONFIG.replace("epochs: 2", "epochs: 100000"))
        proc.stdin.close()
    text = signal_when(proc, err, lambda t: "\nepoch " in t, signal.SIGINT)
    assert proc.returncode == 130, text
    line = next(x for x in text.splitlines() if x.startswith("Resume with: "))
    command = shlex.split(line.removeprefix("Resume with: "))
    assert command[3:5] == ["fit", "-o"] and "-" not in command, line  # no config to pipe again
    checkpoint = Path(command[command.index("--resume") + 1])
    done = int(checkpoint.stem.split("-")[1])
    elsewhere = tmp_path_factory.mktemp("elsewhere")  # where data/seed.csv is not
    r = subprocess.run(
        [*command, "-q", "--set", f"training.epochs={done + 2}"],
        stdin=subprocess.DEVNULL, cwd=elsewhere, env=subprocess_env(), capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert (project / "out" / "model.npz").is_file()
    assert load_config(project / "out" / "config.yaml").data.train == str(project / "data" / "seed.csv")


def test_fit_without_a_config_needs_resume(project):
    r = nettrain("fit", cwd=project)
    assert r.returncode == 2 and r.stderr.strip() == (
        "Error: fit needs a CONFIG (or --resume RUN_OR_CHECKPOINT alone: the config it stores)"
    )


def test_configs_that_cannot_be_read_again_are_streams(project):
    (project / "c.yaml").write_text(CONFIG)
    os.mkfifo(project / "fifo")
    assert not is_stream(project / "c.yaml") and not is_stream("c.yaml")
    assert is_stream("-") and is_stream("/dev/stdin") and is_stream("/dev/fd/63") and is_stream("fifo")
    # a path of an open descriptor, whatever it points at: a redirect from a regular file too
    with open(project / "c.yaml") as f:
        assert is_stream(f"/dev/fd/{f.fileno()}") and is_stream(f"/proc/self/fd/{f.fileno()}")
        assert is_stream(f"/proc/{os.getpid()}/fd/{f.fileno()}")
    assert is_stream("/dev/null") and is_stream("/dev/tty")  # character devices
    os.symlink(project / "fifo", project / "link")
    assert is_stream(project / "link")  # (a link to a FIFO)
    # a link to /dev/stdin, read with a regular file redirected in: what it reads later is the
    # resume command's own stdin
    os.symlink("/dev/stdin", project / "stdin.yaml")
    os.symlink("stdin.yaml", project / "link2.yaml")
    with open(project / "c.yaml") as f:
        saved = os.dup(0)
        os.dup2(f.fileno(), 0)
        try:
            assert is_stream(project / "stdin.yaml") and is_stream(project / "link2.yaml")
        finally:
            os.dup2(saved, 0)
            os.close(saved)


def test_a_regular_file_under_dev_or_proc_is_no_stream(project):
    """/dev/shm is a tmpfs folder: a config there can be read again, so the resume command names
    it, as any other (only descriptors, FIFOs, devices and sockets are streams); so can a
    regular file of /proc."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        pytest.skip("no writable /dev/shm")
    config = shm / f"nettrain-test-{os.getpid()}.yaml"
    config.write_text(CONFIG)
    try:
        assert not is_stream(config)
    finally:
        config.unlink()
    assert not is_stream("/proc/self/status")


def test_the_resume_arguments_leave_a_streamed_config_out(project):
    argv = ["fit", "/dev/fd/63", "--set", "training.epochs=9", "-o", "runs/x"]
    resumed = resume_argv(argv, "runs/x/checkpoint-3.npz", keep_config=False)
    out, ckpt = str(project / "runs" / "x"), str(project / "runs" / "x" / "checkpoint-3.npz")
    assert resumed == ["fit", "--set", "training.epochs=9", "-o", out, "--resume", ckpt]
    assert resume_argv(argv, "runs/x/checkpoint-3.npz")[1] == "/dev/fd/63"  # (kept: as it was)
