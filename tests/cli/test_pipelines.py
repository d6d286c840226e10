"""Real processes in real pipelines: `| head`, `-` as stdin, output to files (not a terminal),
Ctrl-C and SIGTERM. These run the installed console script and `python -m nettrain`, with the
environment of the test run (tests/conftest.py pins the BLAS threads)."""

from __future__ import annotations

import csv
import io
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import CONFIGS, DATA, ROOT
from tests.helpers import nettrain_on_a_terminal, signal_when

MODULE = [sys.executable, "-m", "nettrain"]
SCRIPT = Path(sys.executable).parent / "nettrain"


def make_env(**changes: str | None) -> dict[str, str]:
    """os.environ without colour forcing (a pipe must stay plain), plus `changes` (None: drop)."""
    env = dict(os.environ)
    for var in ("FORCE_COLOR", "CLICOLOR_FORCE", "TTY_COMPATIBLE", "NETTRAIN_DEBUG"):
        env.pop(var, None)
    env["TERM"] = "xterm-256color"  # a colour terminal type: still no codes off a terminal
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


ENV = make_env()


def nettrain(*args, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("capture_output", True)
    return subprocess.run(
        [*MODULE, *map(str, args)], text=True, env=kwargs.pop("env", ENV), cwd=ROOT, timeout=120, **kwargs
    )


def sh(command: str, **kwargs) -> subprocess.CompletedProcess:
    """Run a /bin/sh pipeline (no pipefail: the pipeline's status is the last command's)."""
    return subprocess.run(
        command, shell=True, capture_output=True, env=kwargs.pop("env", ENV), cwd=ROOT, timeout=120, **kwargs
    )


def q(path) -> str:
    return shlex.quote(str(path))


def script() -> str:
    if not SCRIPT.exists():
        pytest.skip(f"no console script next to {sys.executable} (nettrain not installed?)")
    return q(SCRIPT)


def epoch_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("epoch ")]


def fit_quietly(config: str, out: Path, *sets: str) -> Path:
    args = ["fit", CONFIGS / config, "-o", out, "--quiet"]
    for s in sets:
        args += ["--set", s]
    r = nettrain(*args)
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("digits") / "run"
    return fit_quietly("digits.yaml", out, "training.epochs=3") / "model.npz"


@pytest.fixture(scope="module")
def seed_model(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("seed") / "run"
    return fit_quietly("seed.yaml", out, "training.epochs=3") / "model.npz"


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory) -> Path:
    """data/seed.csv repeated to 200,000 rows: megabytes of output, far past a pipe's buffer."""
    header, *rows = (DATA / "seed.csv").read_text().splitlines()
    path = tmp_path_factory.mktemp("big") / "big.csv"
    body = "\n".join(rows) + "\n"
    path.write_text(header + "\n" + body * 1000)
    return path


@pytest.fixture(scope="module")
def regression_run(tmp_path_factory) -> Path:
    return fit_quietly("regression.yaml", tmp_path_factory.mktemp("regression") / "run", "training.epochs=2")


# -- python -m nettrain, the console script ------------------------------------------------------


def test_python_m_nettrain_help():
    r = nettrain("--help")
    assert r.returncode == 0, r.stderr
    assert "Example" in r.stdout
    assert "Usage: nettrain" in r.stdout  # named as the program, not "__main__.py"
    for command in ("fit", "predict", "evaluate", "gradcheck", "init", "info"):
        assert command in r.stdout


def test_console_script_version():
    r = sh(f"{script()} --version")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().startswith("nettrain ")


# -- | head ----------------------------------------------------------------------------------------


def test_predict_into_head(digits_model, tmp_path):
    err = tmp_path / "err.txt"
    r = sh(f"{script()} predict {q(digits_model)} data/digits_test.csv 2>{q(err)} | head -n 3")
    assert r.returncode == 0
    lines = r.stdout.decode().splitlines()
    assert len(lines) == 3
    assert lines[0] == "prediction"
    assert all(line in [str(d) for d in range(10)] for line in lines[1:])
    assert err.read_text() == ""


@pytest.mark.parametrize("buffered", [True, False], ids=["buffered", "unbuffered"])
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_large_predict_into_head_ends_quietly(seed_model, big_csv, tmp_path, buffered, fmt):
    """The reader goes away after one line; nettrain must end as `yes | head` does.

    With Python's buffered stdout the closed pipe surfaces as BrokenPipeError (the path cli.py
    handles); PYTHONUNBUFFERED=1, common in CI and containers, takes another route through io.
    """
    err, rc = tmp_path / "err.txt", tmp_path / "rc.txt"
    env = make_env(PYTHONUNBUFFERED=None if buffered else "1")
    command = (
        f"{{ {q(sys.executable)} -m nettrain predict {q(seed_model)} {q(big_csv)} -f {fmt} "
        f"2>{q(err)}; echo $? >{q(rc)}; }} | head -n 1"
    )
    r = sh(command, env=env)
    assert r.returncode == 0
    assert len(r.stdout.decode().splitlines()) == 1
    status = int(rc.read_text())
    assert status in (0, 141), err.read_text()
    stderr = err.read_text()
    assert "Traceback" not in stderr
    assert "BrokenPipe" not in stderr
    assert stderr == ""


def test_fit_json_into_head_stops_with_a_checkpoint(tmp_path):
    """The --json lines' reader gone in the middle of training (`| head -n 1`): fit stops, as a
    writer into a closed pipe does (exit 141, the pipeline ends), but after a checkpoint, as for
    Ctrl-C, so that no training is lost (it died at once, nothing saved); no model is claimed."""
    err, rc, run = tmp_path / "err.txt", tmp_path / "rc.txt", tmp_path / "run"
    command = (
        f"{{ {script()} fit configs/xor.yaml --json --quiet -o {q(run)} "
        f"--set training.epochs=200000 2>{q(err)}; echo $? >{q(rc)}; }} | head -n 1"
    )
    r = sh(command, env=make_env(PYTHONUNBUFFERED=None))
    assert r.returncode == 0
    assert json.loads(r.stdout.decode())["event"] == "epoch"
    assert int(rc.read_text()) == 141, err.read_text()
    text = err.read_text()
    assert "interrupted (SIGPIPE)" in text and "Resume with: " in text and "Traceback" not in text
    assert [p.name for p in run.glob("checkpoint-*.npz")] and not (run / "model.npz").exists()


# -- stdin -----------------------------------------------------------------------------------------


def test_predict_from_stdin_pipe(digits_model, tmp_path):
    out = tmp_path / "p.csv"
    r = sh(f"cat data/digits_test.csv | {script()} predict {q(digits_model)} - --proba > {q(out)}")
    assert r.returncode == 0, r.stderr
    assert r.stderr == b""
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert rows[0] == ["prediction"] + [f"prob_{d}" for d in range(10)]
    assert len(rows) == 451
    assert all(len(row) == 11 for row in rows)
    # the same predictions as reading the file by name
    by_name = nettrain("predict", digits_model, DATA / "digits_test.csv", "--proba")
    assert by_name.stdout == out.read_text()


@pytest.mark.parametrize("stdin", ["devnull", "closed"])
def test_predict_without_stdin_data(digits_model, stdin):
    if stdin == "devnull":
        r = nettrain("predict", digits_model, "-", stdin=subprocess.DEVNULL)
        status, stdout, stderr = r.returncode, r.stdout, r.stderr
    else:  # file descriptor 0 closed: Python starts with sys.stdin = None
        r = sh(f"{q(sys.executable)} -m nettrain predict {q(digits_model)} <&-")
        status, stdout, stderr = r.returncode, r.stdout.decode(), r.stderr.decode()
    assert status == 2, stderr
    assert stdout == ""
    assert [line for line in stderr.splitlines() if line.startswith("Error:")] != []
    assert len(stderr.splitlines()) == 1
    assert "Traceback" not in stderr


@pytest.mark.skipif(not (shutil.which("bash") and Path("/dev/fd").is_dir()), reason="needs bash and /dev/fd")
@pytest.mark.parametrize("how", ["/dev/stdin", "<(cat data/xor.csv)"])
def test_fit_and_gradcheck_read_training_data_from_a_pipe_path(tmp_path, how):
    """data.train=/dev/stdin or a process substitution: the path is kept as given (resolved, it
    named /proc/PID/fd/pipe:[N], 'not found'), and the pipe is read once, all of it."""
    feed = "cat data/xor.csv | " if how == "/dev/stdin" else ""
    common = f"configs/xor.yaml --set data.train={how}"
    run = tmp_path / "run"
    fit = f"{feed}{shlex.join(MODULE)} fit {common} -o {q(run)} -q --set training.epochs=20"
    r = subprocess.run(["bash", "-c", fit], capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=120)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    by_name = fit_quietly("xor.yaml", tmp_path / "by_name", "training.epochs=20")
    losses = [
        [json.loads(line)["loss"] for line in (folder / "history.jsonl").read_text().splitlines()]
        for folder in (run, by_name)
    ]
    assert losses[0] == losses[1]  # the same rows, so the same run
    check = f"{feed}{shlex.join(MODULE)} gradcheck {common} --json"
    r = subprocess.run(["bash", "-c", check], capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["passed"] and result["source"].startswith("first 4 rows of /dev/")


# -- off a terminal: plain lines -----------------------------------------------------------------


def test_fit_progress_to_a_file_is_plain(tmp_path):
    err = tmp_path / "err.txt"
    with open(err, "w") as f:
        r = nettrain(
            "fit",
            CONFIGS / "digits.yaml",
            "--set",
            "training.epochs=3",
            "-o",
            tmp_path / "run",
            capture_output=False,
            stdout=subprocess.PIPE,
            stderr=f,
        )
    assert r.returncode == 0
    assert r.stdout == ""
    text = err.read_text()
    assert "\x1b" not in text
    assert len(epoch_lines(text)) == 3
    assert "epoch 3/3" in text
    assert "loss" in epoch_lines(text)[0]


@pytest.mark.parametrize("epochs", [101, 250])
def test_long_fit_prints_about_100_lines(tmp_path, epochs):
    """100 evenly spaced lines and the first (a run of 101 epochs printed 52 before)."""
    r = nettrain("fit", CONFIGS / "xor.yaml", "--set", f"training.epochs={epochs}", "-o", tmp_path / "run")
    assert r.returncode == 0, r.stderr
    lines = epoch_lines(r.stderr)
    assert 100 <= len(lines) <= 101
    assert lines[0].startswith(f"epoch   1/{epochs}")
    assert lines[-1].startswith(f"epoch {epochs}/{epochs}")
    assert "\x1b" not in r.stderr


def test_fit_on_a_terminal_draws_and_exits(tmp_path):
    """stderr on a pseudo-terminal takes the Rich live path; stdout (a pipe) stays empty."""
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [
                *MODULE,
                "fit",
                str(CONFIGS / "xor.yaml"),
                "--set",
                "training.epochs=30",
                "-o",
                str(tmp_path / "run"),
            ],
            stdout=subprocess.PIPE,
            stderr=slave,
            stdin=subprocess.DEVNULL,
            env=ENV,
            cwd=ROOT,
        )
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's last writer has gone
                break
            if not chunk:
                break
            chunks.append(chunk)
        stdout, _ = proc.communicate(timeout=60)
    finally:
        os.close(master)
    screen = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0, screen
    assert stdout == b""
    assert "Traceback" not in screen
    assert "30/30" in screen
    assert (tmp_path / "run" / "model.npz").is_file()


# -- signals ---------------------------------------------------------------------------------------


def _reset_sigint():
    # a shell's background jobs start with SIGINT ignored, and Python keeps it ignored; a user's
    # Ctrl-C reaches a foreground process, which is what this test plays
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize(
    ("signum", "status"),
    [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)],
    ids=["SIGINT", "SIGTERM", "SIGHUP"],
)
def test_signal_during_fit(regression_run, tmp_path, signum, status):
    run = tmp_path / "run"
    shutil.copytree(regression_run, run)
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    err = tmp_path / "err.txt"
    with open(err, "w") as f:
        proc = subprocess.Popen(
            [
                *MODULE,
                "fit",
                str(CONFIGS / "regression.yaml"),
                "-o",
                str(run),
                "--set",
                "training.epochs=100000",
            ],
            stdout=subprocess.DEVNULL,
            stderr=f,
            stdin=subprocess.DEVNULL,
            env=ENV,
            cwd=ROOT,
            preexec_fn=_reset_sigint,
        )
    text = signal_when(proc, err, lambda text: bool(epoch_lines(text)), signum)
    assert proc.returncode == status, text
    assert "Traceback" not in text
    after = {p.name: p.read_bytes() for p in run.iterdir()}
    # the earlier run's files are untouched; a checkpoint to resume from was added
    assert {k: v for k, v in after.items() if not k.startswith("checkpoint-")} == before
    assert [k for k in after if k.startswith("checkpoint-")], text
    assert "Resume with: " in text and " -m nettrain fit " in text and "--resume" in text


def test_npy_is_not_written_to_a_terminal(digits_model):
    r = nettrain_on_a_terminal("predict", digits_model, DATA / "digits_test.csv", "--format", "npy")
    assert r.returncode == 2
    assert r.stderr.startswith("Error: refusing to write NPY") and "Traceback" not in r.stderr


def test_predict_without_input_on_a_terminal_says_so(digits_model):
    """INPUT defaults to '-': on a terminal nothing is piped in, and predict would wait on it."""
    r = nettrain_on_a_terminal("predict", digits_model, stream="stdin")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == "Error: no input: give a data file, or pipe rows into '-'\n"


@pytest.mark.parametrize(
    "args", [("evaluate", "{model}", "data/digits_test.csv"), ("gradcheck", "configs/seed.yaml")]
)
def test_tables_into_head_end_quietly(digits_model, tmp_path, args):
    """Rich writes these tables; a closed pipe must not turn into exit 1 ('a check failed')."""
    cmd = " ".join([*MODULE, *(a.format(model=digits_model) for a in args)])
    r = subprocess.run(
        f"{{ {cmd} 2>{tmp_path / 'err'}; echo $? > {tmp_path / 'rc'}; }} | head -n 1",
        shell=True,
        capture_output=True,
        text=True,
        env={**ENV, "PYTHONUNBUFFERED": ""},
        cwd=ROOT,
        timeout=60,
    )
    assert r.stdout.count("\n") == 1
    assert (tmp_path / "rc").read_text().strip() in ("0", "141")
    assert (tmp_path / "err").read_text() == ""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_unwritable_standard_streams(digits_model, tmp_path):
    """A closed or full stdout is one clear error (exit 2), not an internal one; a closed or
    full stderr loses only the messages: the run's files and data are written, exit 0."""
    rows = DATA / "digits_test.csv"
    closed = sh(f"{shlex.join(MODULE)} predict {q(digits_model)} {q(rows)} >&-")
    assert closed.returncode == 2 and closed.stderr.decode().strip() == (
        "Error: standard output is closed; redirect it (> FILE) or give --output FILE"
    )
    full = sh(f"{shlex.join(MODULE)} predict {q(digits_model)} {q(rows)} > /dev/full")
    assert full.returncode == 2
    assert full.stderr.decode().strip() == "Error: cannot write to standard output: No space left on device"
    info = sh(f"{shlex.join(MODULE)} info {q(digits_model)} > /dev/full")
    assert info.returncode == 2 and "internal error" not in info.stderr.decode()
    for redirect in ("2>&-", "2>/dev/full"):
        run = tmp_path / f"run{len(redirect)}"
        fitted = sh(f"{shlex.join(MODULE)} fit {q(CONFIGS / 'seed.yaml')} -o {q(run)} {redirect}")
        assert fitted.returncode == 0, redirect
        assert (run / "model.npz").is_file()
        predicted = sh(f"{shlex.join(MODULE)} predict {q(run)} {q(DATA / 'seed.csv')} {redirect}")
        assert predicted.returncode == 0 and predicted.stdout.decode().startswith("prediction")


def test_fit_json_into_a_closed_stdout_fails_before_reading_the_data(tmp_path):
    """`fit --json >&-` (and `--dry-run`): the error comes first, not after the data was read and
    an epoch trained (the first JSON line failed: a big data set's minutes, for nothing). A fit
    without --json writes nothing on stdout and runs."""
    config = q(CONFIGS / "digits.yaml")
    for flag in ("--json", "--dry-run"):
        r = sh(f"{shlex.join(MODULE)} fit {config} -o {q(tmp_path / 'run')} {flag} >&-")
        assert r.returncode == 2
        assert r.stderr.decode() == (
            "Error: standard output is closed; redirect it (> FILE) or give --output FILE\n"
        )
    assert not (tmp_path / "run").exists()
    r = sh(f"{shlex.join(MODULE)} fit {config} -o {q(tmp_path / 'run')} -q --set training.epochs=1 >&-")
    assert r.returncode == 0 and (tmp_path / "run" / "model.npz").is_file()


def test_predict_output_to_dev_stdout_into_a_pipe(digits_model):
    """-o /dev/stdout writes into the pipe stdout is (it failed: the path through /proc named no
    file to replace)."""
    rows = q(DATA / "digits_test.csv")
    r = sh(f"{shlex.join(MODULE)} predict {q(digits_model)} {rows} -o /dev/stdout | head -2")
    assert r.returncode == 0 and r.stdout.decode().splitlines()[0] == "prediction", r.stderr


def test_an_ascii_only_output_encoding(digits_model, tmp_path):
    """Under PYTHONIOENCODING=ascii (as some CI consoles and old Windows consoles run): tables
    fall back to ASCII rules, what stdout cannot encode is one clear error, and messages escape
    what stderr cannot show (an internal UnicodeEncodeError before)."""
    env = {**ENV, "PYTHONIOENCODING": "ascii"}
    table = nettrain("evaluate", digits_model, DATA / "digits_test.csv", env=env)
    assert table.returncode == 0, table.stderr
    assert "accuracy" in table.stdout and "─" not in table.stdout
    data = tmp_path / "u.csv"
    data.write_text("x,y\n1,café\n2,thé\n3,café\n4,thé\n", encoding="utf-8")
    config = tmp_path / "u.yaml"
    config.write_text(
        f"data: {{train: {data}, target: y}}\nnetwork: {{layers: [1, 2]}}\ncost: cross_entropy\n"
    )
    assert nettrain("fit", config, "-o", tmp_path / "run", "-q").returncode == 0
    labels = nettrain("predict", tmp_path / "run", data, env=env)
    assert labels.returncode == 2 and "PYTHONIOENCODING=utf-8" in labels.stderr
    missing = nettrain("predict", tmp_path / "run", tmp_path / "nö.csv", env=env)
    assert missing.returncode == 2 and "n\\xf6.csv" in missing.stderr and "internal" not in missing.stderr


def test_the_stop_flag_before_and_during_training(monkeypatch):
    """fit's signal handling: before the first step (reading data) a signal stops at once, with
    nothing to save; once training runs, the first asks for a checkpoint after the step, the
    same signal again within a second (a runner signalling the process group while a wrapper
    forwards it) changes nothing, and a later one stops at once."""
    from nettrain import cli

    clock = [100.0]
    monkeypatch.setattr(cli.time, "monotonic", lambda: clock[0])
    cli._signalled.clear()
    with cli._StopFlag() as flag:
        with pytest.raises(KeyboardInterrupt):
            flag._handle(signal.SIGINT, None)
        flag._handle(signal.SIGTERM, None)  # during the clean-up that follows: not again
    assert cli._signalled == {"SIGINT"}  # recorded: the command ends as interrupted
    for first, second, stops in (
        (signal.SIGINT, signal.SIGTERM, cli.Terminated),
        (signal.SIGHUP, signal.SIGINT, KeyboardInterrupt),
    ):
        cli._signalled.clear()
        with cli._StopFlag() as flag:
            assert flag.get() is None  # the first step: training has begun
            flag._handle(first, None)
            assert flag.get() == signal.Signals(first).name
            clock[0] += 0.01
            flag._handle(second, None)  # the same stop, delivered twice: ignored
            assert flag.get() == signal.Signals(first).name
            clock[0] += 2.0
            with pytest.raises(stops):
                flag._handle(second, None)


def test_a_signal_swallowed_while_reading_stops_before_the_first_step():
    """A Terminated or KeyboardInterrupt raised inside a NumPy string operation while the data
    is read can be swallowed; the first step then stops the command instead of training."""
    from nettrain import cli

    cli._signalled.clear()
    cli._signalled.add("SIGTERM")
    with cli._StopFlag() as flag:
        with pytest.raises(cli.Terminated) as info:
            flag.get()
    assert info.value.signal_name == "SIGTERM"
    cli._signalled.clear()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_while_fit_reads_its_data_stops_at_once_and_writes_nothing(tmp_path, signum, status):
    """Ctrl-C while the training file is still being read: nothing has been trained, so nothing
    is saved (it went on reading, then wrote an untrained checkpoint-0 and a resume command)."""
    fifo = tmp_path / "train.csv"
    os.mkfifo(fifo)
    config = tmp_path / "c.yaml"
    config.write_text(f"data: {{train: {fifo}, target: y}}\nnetwork: {{layers: [auto, 2, auto]}}\n")
    err = tmp_path / "err.txt"
    with open(err, "w") as f:
        proc = subprocess.Popen(
            [*MODULE, "fit", str(config), "-o", str(tmp_path / "run")],
            stdout=subprocess.DEVNULL,
            stderr=f,
            stdin=subprocess.DEVNULL,
            env=ENV,
            cwd=ROOT,
            preexec_fn=_reset_sigint,
        )
    writer = None
    try:
        deadline = time.monotonic() + 60
        while writer is None:  # the write end opens once fit has the read end open
            try:
                writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, err.read_text()
                time.sleep(0.01)
        os.write(writer, b"x,y\n1,2\n")  # a first line; fit now waits for the rest
        time.sleep(0.2)
        proc.send_signal(signum)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if writer is not None:
            os.close(writer)
    text = err.read_text()
    assert proc.returncode == status, text
    assert "Traceback" not in text and "Resume with" not in text
    run = tmp_path / "run"
    assert not run.exists() or list(run.iterdir()) == [], list(run.iterdir())


def test_unbuffered_stdout_that_takes_part_of_a_write_loses_nothing(monkeypatch):
    """Under PYTHONUNBUFFERED stdout is its raw file, which may take only part of a write (a
    disk nearly full) with no error: the rest was lost and predict ended 0. The streams set-up
    puts a BufferedWriter in between, which writes all or raises."""
    import io as _io

    from nettrain import __main__ as entry

    class Half(_io.RawIOBase):
        """A raw file that takes at most half of each write, as a nearly full disk may."""

        def __init__(self):
            self.data = bytearray()

        def writable(self):
            return True

        def write(self, b):
            n = max(1, len(b) // 2)
            self.data += bytes(b[:n])
            return n

    raw = Half()
    monkeypatch.setattr(sys, "stdout", _io.TextIOWrapper(raw, encoding="utf-8", write_through=True))
    monkeypatch.setattr(sys, "stderr", sys.stderr)
    entry._usable_streams()
    text = "".join(f"{i},{i * 0.5}\n" for i in range(5000))
    sys.stdout.write(text)
    sys.stdout.flush()
    assert raw.data.decode() == text


def test_a_signal_ignored_at_start_stays_ignored(tmp_path):
    """nohup starts a program with SIGHUP ignored (a shell's background job, SIGINT): fit must
    not put its own handler over that (a closed ssh session stopped a nohup'ed run, exit 129)."""
    err = tmp_path / "err.txt"

    def ignore_hup():
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    with open(err, "w") as f:
        proc = subprocess.Popen(
            [*MODULE, "fit", str(CONFIGS / "regression.yaml"), "-o", str(tmp_path / "run"),
             "--set", "training.epochs=150"],
            stdout=subprocess.DEVNULL, stderr=f, stdin=subprocess.DEVNULL, env=ENV, cwd=ROOT,
            preexec_fn=ignore_hup,
        )  # fmt: skip
    text = signal_when(proc, err, lambda text: bool(epoch_lines(text)), signal.SIGHUP, timeout=120)
    assert proc.returncode == 0, text
    assert (tmp_path / "run" / "model.npz").is_file() and "SIGHUP" not in text
