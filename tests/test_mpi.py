"""Data-parallel training under MPI: 2 ranks give the weights of one process with the same
global batch (within float32 summation tolerance); errors end the whole job with one message;
only rank 0 writes and reports; resume works. Real `mpiexec -n 2 python -m mpi4py -m nettrain`
runs, bounded in time."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nettrain import load_model
from tests.conftest import DATA, ROOT

pytest.importorskip("mpi4py")
MPIEXEC = Path(sys.executable).with_name("mpiexec")
if not MPIEXEC.exists():
    found = shutil.which("mpiexec")
    if found is None:
        pytest.skip("no mpiexec (pip install 'nettrain[mpi]')", allow_module_level=True)
    MPIEXEC = Path(found)

CONFIG = f"""\
data:
  train: {DATA / "digits_train.csv"}
  target: label
  validation: 0.1
network:
  layers: [64, 32, 10]
  activation: relu
cost: cross_entropy
training:
  optimizer: {{name: momentum, momentum: 0.9}}
  learning_rate: 0.05
  epochs: 3
  batch_size: 64
  seed: 0
"""


#: nettrain's command line with a tiny streaming threshold, so that a small .npy is streamed in
#: several chunks (python -c STREAMED fit ...)
STREAMED = (
    "import runpy, sys, nettrain.data.stream as s; s.STREAM_BYTES = 1000; s.CHUNK_BYTES = 20000; "
    "s.BLOCK_BYTES = 4000; sys.argv = ['nettrain', *sys.argv[1:]]; "
    "runpy.run_module('nettrain', run_name='__main__')"
)


def nettrain(*args, ranks: int | None = None, cwd=None):
    cmd = [sys.executable, "-m", "nettrain", *map(str, args)]
    if ranks:
        cmd = [
            str(MPIEXEC),
            "-n",
            str(ranks),
            sys.executable,
            "-m",
            "mpi4py",
            "-m",
            "nettrain",
            *map(str, args),
        ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=cwd or ROOT)


def weights(folder: Path) -> list[np.ndarray]:
    net = load_model(folder / "model.npz").network
    return net.W + net.b


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG)
    return path


def test_two_ranks_train_the_weights_of_one_process(config, tmp_path):
    one = nettrain("fit", config, "-o", tmp_path / "one", "-q")
    assert one.returncode == 0, one.stderr
    two = nettrain("fit", config, "-o", tmp_path / "two", "--json", ranks=2)
    assert two.returncode == 0, two.stderr
    for a, b in zip(weights(tmp_path / "one"), weights(tmp_path / "two")):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    # only rank 0 reports: one JSON line per epoch and one summary, one progress header
    lines = [json.loads(line) for line in two.stdout.splitlines()]
    assert [r["event"] for r in lines] == ["epoch"] * 3 + ["summary"]
    assert two.stderr.count("fit: ") == 1


def test_a_bad_config_ends_the_job_with_one_message(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(CONFIG.replace("learning_rate: 0.05", "learnig_rate: 0.05"))
    r = nettrain("fit", bad, "-o", tmp_path / "out", ranks=2)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("Error:") == 1 and "did you mean 'learning_rate'" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()
    # every rank met it at the same point and agreed on it: the job ends without MPI_Abort
    assert "Abort" not in r.stderr and r.stderr.count("\n") == 1


def test_a_config_error_on_one_rank_alone_ends_the_job_with_its_message(config, tmp_path):
    """Rank 1 is given a bad config, rank 0 a good one (mpiexec's A : B form): the ranks agree
    after reading their configs, so rank 0 says what rank 1 met and no rank waits for another."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(CONFIG.replace("learning_rate: 0.05", "learnig_rate: 0.05"))
    rank = [sys.executable, "-m", "mpi4py", "-m", "nettrain", "fit"]
    out = ["-o", str(tmp_path / "out")]
    cmd = [str(MPIEXEC), "-n", "1", *rank, str(config), *out, ":", "-n", "1", *rank, str(bad), *out]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("Error: MPI rank 1 of 2: ") and "did you mean 'learning_rate'" in r.stderr
    assert "Abort" not in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


def test_an_error_of_rank_0_alone_still_aborts_the_job(config, tmp_path):
    """The run folder is checked by rank 0 alone (it writes the files), while the others wait
    for the data: its error cannot be agreed on, so MPI_Abort ends the job rather than leave
    them waiting (the test's timeout would catch a hang)."""
    (tmp_path / "afile").write_text("")
    r = nettrain("fit", config, "-o", tmp_path / "afile", ranks=2)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("Error:") == 1 and "is a file" in r.stderr
    # (MPICH's own 'Abort(2) on node 0 ...' line usually follows, but not always: the job is torn
    # down while it is written; 2 of 20 runs under load went without it)


def test_resume_under_mpi(config, tmp_path):
    run = tmp_path / "run"
    first = nettrain(
        "fit",
        config,
        "-o",
        run,
        "-q",
        "--set",
        "training.epochs=2",
        "--set",
        "training.checkpoint_every=1",
        ranks=2,
    )
    assert first.returncode == 0, first.stderr
    assert (run / "checkpoint-2.npz").is_file()
    resumed = nettrain("fit", config, "-o", run, "-q", "--resume", run, ranks=2)
    assert resumed.returncode == 0, resumed.stderr
    straight = nettrain("fit", config, "-o", tmp_path / "straight", "-q", ranks=2)
    assert straight.returncode == 0, straight.stderr
    for a, b in zip(weights(tmp_path / "straight"), weights(run)):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    history = (run / "history.jsonl").read_text().splitlines()
    assert [json.loads(h)["epoch"] for h in history] == [1, 2, 3]


def test_a_data_error_ends_the_job_with_one_message(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(CONFIG.replace(str(DATA / "digits_train.csv"), str(tmp_path / "missing.csv")))
    r = nettrain("fit", bad, "-o", tmp_path / "out", ranks=2)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("Error:") == 1 and "missing.csv" in r.stderr and "not found" in r.stderr
    assert "Traceback" not in r.stderr
    # rank 0 read the data for all and sent every rank its error: they end together, no MPI_Abort
    assert "Abort" not in r.stderr and r.stderr.count("\n") == 1


def test_streamed_npy_under_mpi(tmp_path):
    """A large .npy streamed in chunks: every rank streams the same chunks and keeps its share."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3000, 8)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(np.float32)
    np.save(tmp_path / "big.npy", np.column_stack([X, y]))
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"data: {{train: {tmp_path / 'big.npy'}, validation: 0.1}}\n"
        "network: {layers: [8, 16, 2]}\ncost: cross_entropy\n"
        "training: {epochs: 3, learning_rate: 0.1, batch_size: 64}\n"
    )
    code = STREAMED
    args = ["fit", str(cfg), "-q"]
    one = subprocess.run(
        [sys.executable, "-c", code, *args, "-o", str(tmp_path / "one")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert one.returncode == 0, one.stderr
    two = subprocess.run(
        [
            str(MPIEXEC),
            "-n",
            "2",
            sys.executable,
            "-m",
            "mpi4py",
            "-c",
            code,
            *args,
            "-o",
            str(tmp_path / "two"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert two.returncode == 0, two.stderr
    for a, b in zip(weights(tmp_path / "one"), weights(tmp_path / "two")):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)


def test_a_streamed_npy_with_sample_weights_under_mpi(tmp_path):
    """data.weight with a streamed .npy: every rank reads the weights with the chunks' rows and
    keeps its share of each global batch's, normalized over all the training rows (every rank's
    statistics pass sums them all): 2 ranks train the one process's weights, which the
    weights change."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3000, 8)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(np.float32)
    w = np.round(rng.uniform(0, 3, size=3000), 1).astype(np.float32)
    np.save(tmp_path / "big.npy", np.column_stack([X[:, :4], w, X[:, 4:], y]))
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"data: {{train: {tmp_path / 'big.npy'}, validation: 0.1, weight: 4}}\n"
        "network: {layers: [8, 16, 2]}\ncost: cross_entropy\n"
        "training: {epochs: 3, learning_rate: 0.1, batch_size: 64}\n"
    )
    code = STREAMED
    mpi = [str(MPIEXEC), "-n", "2", sys.executable, "-m", "mpi4py"]
    runs = {}
    for name, prefix, extra in (
        ("one", [sys.executable], []),
        ("two", mpi, []),
        ("plain", [sys.executable], ["--set", "data.weight=null", "--set", "data.exclude=[4]"]),
    ):
        runs[name] = subprocess.run(
            [*prefix, "-c", code, "fit", str(cfg), "-q", "-o", str(tmp_path / name), *extra],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
        )
        assert runs[name].returncode == 0, runs[name].stderr
    assert load_model(tmp_path / "two" / "model.npz").encoding.weight == "4"
    for a, b in zip(weights(tmp_path / "one"), weights(tmp_path / "two")):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    # and the held-out rows' weights weigh the validation scores on every rank alike
    one, two = (load_model(tmp_path / name / "model.npz").meta["training"] for name in ("one", "two"))
    assert one["val_weighted"] is two["val_weighted"] is True
    assert two["val_loss"] == pytest.approx(one["val_loss"], rel=1e-4)
    assert not np.allclose(weights(tmp_path / "plain")[0], weights(tmp_path / "one")[0], rtol=1e-3)


def test_dropout_under_mpi_draws_the_masks_of_one_process(config, tmp_path):
    """Each rank draws the whole global batch's masks and keeps its rows' part."""
    drop = ["--set", "training.dropout=0.3"]
    one = nettrain("fit", config, "-o", tmp_path / "one", "-q", *drop)
    assert one.returncode == 0, one.stderr
    two = nettrain("fit", config, "-o", tmp_path / "two", "-q", *drop, ranks=2)
    assert two.returncode == 0, two.stderr
    for a, b in zip(weights(tmp_path / "one"), weights(tmp_path / "two")):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)


def _rank_pid(launcher_pid: int, rank: int) -> int | None:
    """The process id of MPI rank ``rank`` started under ``launcher_pid`` (read from /proc)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue

    def descends(pid: int) -> bool:
        while pid in parents and pid > 1:
            pid = parents[pid]
            if pid == launcher_pid:
                return True
        return False

    for pid in parents:
        if not descends(pid):
            continue
        try:
            env = (Path("/proc") / str(pid) / "environ").read_bytes().split(b"\0")
            cmd = (Path("/proc") / str(pid) / "cmdline").read_bytes()
        except OSError:
            continue
        if f"PMI_RANK={rank}".encode() in env and b"mpi4py" in cmd:
            return pid
    return None


def signal_rank(args: list[str], rank: int, signum) -> tuple[int, str]:
    """Start a 2-rank `nettrain ARGS --json`, send ``signum`` to MPI rank ``rank`` once the first
    epoch is reported, and return (the job's exit code, its stderr). On every path, a launcher
    that fails included, the job is ended and waited for and its pipes closed (the with block):
    a failed assertion left two text pipes to the garbage collector, whose ResourceWarnings
    failed whichever later test of the same process it ran in."""
    import time

    cmd = [str(MPIEXEC), "-n", "2", sys.executable, "-m", "mpi4py", "-m", "nettrain", *args]
    with subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            first = proc.stdout.readline()  # training is under way, or the launcher says why not
            assert first.startswith('{"event": "epoch"'), first or proc.communicate(timeout=60)[1]
            deadline = time.monotonic() + 30
            pid = None
            while pid is None and time.monotonic() < deadline:
                pid = _rank_pid(proc.pid, rank)
            assert pid is not None, f"rank {rank} not found"
            os.kill(pid, signum)
            _, stderr = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    return proc.returncode, stderr


def test_signal_rank_leaves_no_open_pipe_when_the_launcher_fails(tmp_path, monkeypatch):
    """On a machine whose MPI launcher refuses to start (the H100's Open MPI, run as root),
    signal_rank's assertion failed and its two text pipes were left to the garbage collector:
    4 ResourceWarnings ('unclosed file <_io.TextIOWrapper name=68 ...>') that pytest turned into
    the failure of a later, unrelated test of the same process. The failure is now the helper's own
    (with the launcher's message), and nothing of the job is left open."""
    import gc
    import signal
    import warnings

    launcher = tmp_path / "mpiexec"
    launcher.write_text("#!/bin/sh\necho 'mpiexec: refused to start' >&2\nexit 1\n")
    launcher.chmod(0o755)
    monkeypatch.setattr(sys.modules[__name__], "MPIEXEC", launcher)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(AssertionError) as failed:
            signal_rank(["fit", "c.yaml"], 0, signal.SIGINT)
        message = str(failed.value)
        del failed  # its traceback holds the helper's frame
        gc.collect()
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == []
    assert "refused to start" in message


def test_an_interrupted_mpi_run_prints_a_resume_command_that_works(config, tmp_path):
    """Ctrl-C reaching one rank stops every rank after the same step (the stop request travels in
    the Allreduce); rank 0 checkpoints and prints the mpiexec command that resumes the run. The
    network is big enough (35 MB of checkpoint) that a rank exiting at once would abort the job
    before rank 0 has written it."""
    import shlex
    import signal

    config.write_text(CONFIG.replace("layers: [64, 32, 10]", "layers: [64, 2048, 2048, 10]"))
    run = tmp_path / "run"
    args = ["fit", str(config), "-o", str(run), "--json", "--set", "training.epochs=500"]
    code, stderr = signal_rank(args, 0, signal.SIGINT)
    assert code == 130, stderr
    line = next(x for x in stderr.splitlines() if x.startswith("Resume with: "))
    resume = shlex.split(line.removeprefix("Resume with: "))
    # the launcher as found (on the PATH, else beside this Python), this very Python
    assert resume[0] in ("mpiexec", str(MPIEXEC))
    assert resume[1:8] == ["-n", "2", sys.executable, "-m", "mpi4py", "-m", "nettrain"]
    assert resume[8:-2] == args and resume[-2] == "--resume"
    checkpoint = Path(resume[-1]) if Path(resume[-1]).is_absolute() else ROOT / resume[-1]
    assert checkpoint.is_file() and checkpoint.parent == run
    # the printed command as it is, with fewer epochs
    again = [a.replace("training.epochs=500", f"training.epochs={_epoch_of(checkpoint) + 1}") for a in resume]
    done = subprocess.run(again, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (run / "model.npz").is_file()
    history = [json.loads(h)["epoch"] for h in (run / "history.jsonl").read_text().splitlines()]
    assert history == list(range(1, _epoch_of(checkpoint) + 2))


def _epoch_of(checkpoint: Path) -> int:
    return int(checkpoint.stem.rsplit("-", 1)[1])


def test_sigterm_to_any_rank_stops_the_job_as_sigterm(config, tmp_path):
    """A job being shut down (SIGTERM reaching rank 1 only) exits 143 on every rank and says
    SIGTERM, with rank 0's checkpoint: the stop request carries its kind through the Allreduce."""
    import signal

    run = tmp_path / "run"
    args = ["fit", str(config), "-o", str(run), "--json", "--set", "training.epochs=500"]
    code, stderr = signal_rank(args, 1, signal.SIGTERM)
    assert code == 143, stderr
    assert "interrupted (SIGTERM)" in stderr and "Resume with: " in stderr
    assert list(run.glob("checkpoint-*.npz"))


def test_rank_0_alone_speaks_for_dry_runs_and_diverged_json(config, tmp_path):
    """--dry-run prints the resolved config once, and a diverged --json run writes its error
    event once (every rank printed them)."""
    dry = nettrain("fit", config, "--dry-run", ranks=2)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.count("\nnetwork:") + dry.stdout.startswith("network:") == 1
    assert dry.stderr.count("total ") == 1
    bad = nettrain(
        "fit", config, "-o", tmp_path / "run", "--json", "--set", "training.learning_rate=1e6", ranks=2
    )
    assert bad.returncode == 1, bad.stderr
    assert [json.loads(line)["event"] for line in bad.stdout.splitlines()].count("error") == 1


def test_gradient_norms_under_mpi_are_those_of_the_global_batch_on_every_rank(config, tmp_path):
    """training.gradient_norms measures the gradient after the ranks' Allreduce: every rank
    records the same numbers (bit for bit), those of one process with the same global batch."""
    code = (
        "import json, sys\n"
        "from nettrain import fit, load_config\n"
        "from nettrain.distributed import rank\n"
        "cfg = load_config(sys.argv[1], ['training.gradient_norms=true', 'dtype=float64'])\n"
        "norms = [r['grad_norm'] for r in fit(cfg, save=False).history]\n"
        "open(f'{sys.argv[2]}-{rank()}.json', 'w').write(json.dumps(norms))\n"
    )
    out = tmp_path / "norms"
    for cmd in (
        [sys.executable, "-c", code],
        [str(MPIEXEC), "-n", "2", sys.executable, "-m", "mpi4py", "-c", code],
    ):
        r = subprocess.run(
            [*cmd, str(config), str(out)], capture_output=True, text=True, timeout=120, cwd=ROOT
        )
        assert r.returncode == 0, r.stderr
        out = tmp_path / "ranks"
    one = json.loads((tmp_path / "norms-0.json").read_text())
    rank0, rank1 = (json.loads((tmp_path / f"ranks-{k}.json").read_text()) for k in (0, 1))
    assert rank0 == rank1
    assert np.array(one).shape == (3, 2)
    np.testing.assert_allclose(rank0, one, rtol=1e-9)


def test_a_warm_start_under_mpi_trains_the_weights_of_one_process(config, tmp_path):
    """Every rank reads the model and starts from its weights (a rank that started fresh would
    pull the averaged gradients elsewhere); rank 0 records where the run began; a bad model ends
    the job with one message."""
    first = nettrain("fit", config, "-o", tmp_path / "first", "-q", "--set", "training.seed=1")
    assert first.returncode == 0, first.stderr
    warm = ["--warm-start", tmp_path / "first", "-q"]
    one = nettrain("fit", config, "-o", tmp_path / "one", *warm)
    assert one.returncode == 0, one.stderr
    two = nettrain("fit", config, "-o", tmp_path / "two", *warm, ranks=2)
    assert two.returncode == 0, two.stderr
    for a, b in zip(weights(tmp_path / "one"), weights(tmp_path / "two")):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    started = load_model(tmp_path / "two" / "model.npz").meta["warm_start"]
    assert started["path"] == str(tmp_path / "first" / "model.npz")
    bad = nettrain("fit", config, "-o", tmp_path / "bad", "--warm-start", tmp_path / "none", ranks=2)
    assert bad.returncode == 2, bad.stderr
    assert bad.stderr.count("Error:") == 1 and "Traceback" not in bad.stderr
    assert not (tmp_path / "bad").exists()


def test_sample_weights_under_mpi_train_the_weights_of_one_process(tmp_path):
    """data.weight: each rank takes its share of the global batch's weights, normalized over all
    the training rows (every rank holds them all), so 2 ranks train the one process's weights;
    and the weights are used (the same file without them trains others)."""
    rows = (DATA / "digits_train.csv").read_text().splitlines()
    rng = np.random.default_rng(0)
    weighted = [f"{rows[0]},w"] + [f"{row},{rng.integers(0, 4)}" for row in rows[1:]]
    (tmp_path / "w.csv").write_text("\n".join(weighted) + "\n")
    config = tmp_path / "c.yaml"
    config.write_text(
        CONFIG.replace(str(DATA / "digits_train.csv"), str(tmp_path / "w.csv")).replace(
            "  target: label\n", "  target: label\n  weight: w\n"
        )
    )
    one = nettrain("fit", config, "-o", tmp_path / "one", "-q")
    assert one.returncode == 0, one.stderr
    two = nettrain("fit", config, "-o", tmp_path / "two", "-q", ranks=2)
    assert two.returncode == 0, two.stderr
    for a, b in zip(weights(tmp_path / "one"), weights(tmp_path / "two")):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    # the validation scores are weighted by the held-out rows' weights on every rank alike
    runs = [load_model(tmp_path / name / "model.npz").meta["training"] for name in ("one", "two")]
    assert runs[0]["val_weighted"] is runs[1]["val_weighted"] is True
    for key in ("val_loss", "val_accuracy"):
        assert runs[1][key] == pytest.approx(runs[0][key], rel=1e-4)
    plain = nettrain(
        "fit",
        config,
        "-o",
        tmp_path / "plain",
        "-q",
        "--set",
        "data.weight=null",
        "--set",
        "data.exclude=[w]",
    )
    assert plain.returncode == 0, plain.stderr
    assert not np.allclose(weights(tmp_path / "plain")[0], weights(tmp_path / "one")[0], rtol=1e-3)
