"""One fit at a time per run folder: fit holds RUN/.nettrain.lock locked (flock) for its whole
run, so a second fit into the folder is refused at once (exit 2, naming the first one's pid)
instead of pruning the first one's checkpoints; pruning to checkpoint_keep counts only the
checkpoints of the run's own config; the lock file confuses nothing and is gone after the run."""

from __future__ import annotations

import errno
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from nettrain import fit, load_config
from nettrain.checkpoint import load_checkpoint
from nettrain.errors import DataError, OutputError
from nettrain.runlock import LOCK_NAME, RunLock
from tests.conftest import CONFIGS, DATA, ROOT
from tests.helpers import MODULE, assert_error, ok, run, subprocess_env

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fcntl locks are POSIX")


def checkpoints(folder) -> list[str]:
    return sorted((p.name for p in folder.glob("checkpoint-*.npz")), key=lambda n: int(n[11:-4]))


def xor(folder, **training):
    cfg = load_config(CONFIGS / "xor.yaml", [f"output={folder}"])
    return replace(cfg, training=replace(cfg.training, **training))


def test_a_second_fit_into_a_locked_folder_is_refused_at_once(tmp_path):
    out = tmp_path / "R"
    lock = RunLock(out).acquire()  # as a fit running in this folder holds it
    try:
        assert (out / LOCK_NAME).read_text().strip() == str(os.getpid())
        t0 = time.monotonic()
        r = run("fit", CONFIGS / "seed.yaml", "-o", out, "--set", "training.checkpoint_every=1")
        line = assert_error(r, f"is being written by another nettrain fit (pid {os.getpid()})")
        assert str(out) in line
        assert time.monotonic() - t0 < 5  # before the data is read, nothing trained
        assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]  # nothing written
        with pytest.raises(OutputError, match="another nettrain fit"):
            fit(xor(out))  # the library refuses too
        # --dry-run writes nothing and does not need the lock
        ok(run("fit", CONFIGS / "seed.yaml", "-o", out, "--dry-run"))
    finally:
        lock.release()
    assert not out.exists()  # the lock made the folder; nothing else was written, so it went too
    ok(run("fit", CONFIGS / "xor.yaml", "-o", out, "--quiet", "--set", "training.epochs=2"))
    assert sorted(p.name for p in out.iterdir()) == ["config.yaml", "history.jsonl", "model.npz"]


def test_two_fit_processes_on_one_folder_the_issue_repro(tmp_path):
    """`fit digits -o R &` then `fit seed -o R --set training.checkpoint_every=100 &`: the second
    is refused (exit 2) and the first, interrupted, leaves a checkpoint its printed command
    resumes from."""
    out = tmp_path / "R"
    err_path = tmp_path / "first.err"
    with open(err_path, "w") as err:
        first = subprocess.Popen(
            [
                *MODULE,
                "fit",
                str(CONFIGS / "digits.yaml"),
                "-o",
                str(out),
                "--set",
                "training.epochs=1000000",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=subprocess_env(),
            cwd=tmp_path,
        )
    try:
        deadline = time.monotonic() + 60
        while "epoch " not in err_path.read_text():
            assert first.poll() is None, err_path.read_text()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        second = subprocess.run(
            [*MODULE, "fit", str(CONFIGS / "seed.yaml"), "-o", "R", "--set", "training.epochs=3000"]
            + ["--set", "training.checkpoint_every=100"],
            capture_output=True,
            text=True,
            env=subprocess_env(),
            cwd=tmp_path,
            timeout=60,
        )
        assert second.returncode == 2, second.stderr
        assert f"is being written by another nettrain fit (pid {first.pid})" in second.stderr
        assert "Traceback" not in second.stderr
        first.send_signal(signal.SIGINT)
        first.wait(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    text = err_path.read_text()
    assert first.returncode == 130, text
    line = next(x for x in text.splitlines() if x.startswith("Resume with: "))
    checkpoint = shlex.split(line.removeprefix("Resume with: "))[-1]
    load_checkpoint(os.path.join(tmp_path, checkpoint))  # still there, whole
    assert not (out / LOCK_NAME).exists()


def test_pruning_keeps_another_configs_checkpoints(tmp_path):
    """checkpoint_keep counts only this config's checkpoints: a leftover of another config (here
    written first, so the oldest) is not deleted; an earlier run of the same config is."""
    out = tmp_path / "R"
    other = load_config(CONFIGS / "seed.yaml", [f"output={out}", "training.epochs=100"])
    fit(replace(other, training=replace(other.training, checkpoint_every=100)))  # checkpoint-100
    (out / "model.npz").unlink()
    time.sleep(0.01)
    fit(xor(out, epochs=5, checkpoint_every=1, checkpoint_keep=2))
    assert checkpoints(out) == ["checkpoint-4.npz", "checkpoint-5.npz", "checkpoint-100.npz"]
    assert load_checkpoint(out / "checkpoint-100.npz")[0].meta["config"]["cost"] == "mse"  # seed's
    # a run of the same config again: the earlier run's checkpoints are its own to prune
    fit(xor(out, epochs=3, checkpoint_every=1, checkpoint_keep=2))
    assert checkpoints(out) == ["checkpoint-2.npz", "checkpoint-3.npz", "checkpoint-100.npz"]
    # and a resumed run of the other config prunes only its own
    fit(
        replace(other, training=replace(other.training, epochs=102, checkpoint_every=1, checkpoint_keep=1)),
        resume=str(out / "checkpoint-100.npz"),
    )
    assert checkpoints(out) == ["checkpoint-2.npz", "checkpoint-3.npz", "checkpoint-102.npz"]


def test_a_stale_lock_file_confuses_nothing(tmp_path):
    """A lock file left by a killed fit (its pid long gone) holds no lock: fit takes it over;
    plot, info, --resume RUN and the earlier-run notices do not see it; the run removes it."""
    out = tmp_path / "R"
    args = ("fit", CONFIGS / "xor.yaml", "-o", out, "--set", "training.epochs=4")
    ok(run(*args, "--set", "training.checkpoint_every=2"))
    (out / LOCK_NAME).write_text("999999999\n")  # as kill -9 leaves it
    r = ok(run(*args, "--set", "training.epochs=6", "--resume", out))
    assert "Note:" in r.stderr and LOCK_NAME not in r.stderr
    assert not (out / LOCK_NAME).exists()
    (out / LOCK_NAME).write_text("999999999\n")
    r = ok(run(*args, "--set", "training.checkpoint_every=2"))  # the earlier-run notices
    assert "checkpoints of an earlier run" in r.stderr and LOCK_NAME not in r.stderr
    (out / LOCK_NAME).write_text("")
    ok(run("info", out))
    ok(run("predict", out, DATA / "xor.csv"))
    pytest.importorskip("matplotlib")
    ok(run("plot", out, "-o", tmp_path / "curves.png"))


def test_the_lock_file_holds_this_fits_pid_alone(tmp_path):
    """A stale file with a longer pid is rewritten, not overwritten in part ('4242\\n999...'
    reads as no pid, and a refused fit could not say who holds the folder)."""
    out = tmp_path / "R"
    out.mkdir()
    (out / LOCK_NAME).write_text("99999999999999\n")
    with RunLock(out):
        assert (out / LOCK_NAME).read_text() == f"{os.getpid()}\n"


def test_a_lock_file_removed_between_open_and_lock_is_opened_again(tmp_path, monkeypatch):
    """The fit that held the folder may end, removing its lock file, between this fit's open
    and its flock: the lock then taken is on a file no longer in the folder, so it tries again."""
    real_open = RunLock._open
    opened = []

    def open_then_lose_it(self):
        fd = real_open(self)
        if not opened:
            os.unlink(self.path)  # the other run ended
        opened.append(fd)
        return fd

    monkeypatch.setattr(RunLock, "_open", open_then_lose_it)
    with RunLock(tmp_path / "R") as lock:
        assert len(opened) == 2
        assert os.path.samestat(os.fstat(lock.fd), os.stat(tmp_path / "R" / LOCK_NAME))


def test_the_lock_file_is_gone_after_every_ending(tmp_path, monkeypatch):
    out = tmp_path / "R"
    fit(xor(out, epochs=2))
    assert LOCK_NAME not in os.listdir(out)
    # interrupted
    from nettrain.errors import Interrupted

    with pytest.raises(Interrupted):
        fit(xor(out, epochs=50), stop=lambda: "SIGINT")
    assert LOCK_NAME not in os.listdir(out)
    # a data error before anything is written: the folder fit made for the lock goes too
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1\n")
    cfg = load_config(CONFIGS / "xor.yaml", [f"output={tmp_path / 'new' / 'run'}", f"data.train={bad}"])
    with pytest.raises(DataError):
        fit(cfg)
    assert not (tmp_path / "new").exists()


def test_a_folder_taken_away_by_a_failing_fit_is_made_again(tmp_path, monkeypatch):
    # fit B finds the folder fit A made; A fails and removes it before B opens the lock file:
    # B makes it again and runs, and, failing too, removes what it made
    out = tmp_path / "new" / "run"
    made = RunLock._make_folder

    def make_then_lose(self):
        made(self)
        if not getattr(self, "lost", False):
            self.lost = True
            out.rmdir()
            out.parent.rmdir()

    monkeypatch.setattr(RunLock, "_make_folder", make_then_lose)
    lock = RunLock(out).acquire()
    assert (out / LOCK_NAME).is_file()
    lock.release()
    assert not (tmp_path / "new").exists()


def test_without_fcntl_or_without_file_locks_fit_runs_unlocked(tmp_path, monkeypatch):
    import nettrain.runlock as runlock

    monkeypatch.setattr(runlock, "fcntl", None)  # Windows
    fit(xor(tmp_path / "a", epochs=2))
    assert not (tmp_path / "a" / LOCK_NAME).exists()
    monkeypatch.undo()

    class NoLocks:
        LOCK_EX, LOCK_NB = 2, 4

        @staticmethod
        def flock(fd, op):
            raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(runlock, "fcntl", NoLocks)
    events = []
    fit(xor(tmp_path / "b", epochs=2), lambda kind, info: events.append((kind, info)))
    notes = [info["message"] for kind, info in events if kind == "notice"]
    assert any("cannot be locked" in m for m in notes), notes
    assert sorted(os.listdir(tmp_path / "b")) == ["config.yaml", "history.jsonl", "model.npz"]


def test_the_lock_module_is_importable_where_fcntl_is_missing():
    code = "import sys; sys.modules['fcntl'] = None; import nettrain.runlock as r; assert r.fcntl is None"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=subprocess_env())


def test_a_link_planted_as_the_lock_file_is_not_followed(tmp_path):
    """fit opened RUN/.nettrain.lock through a link: it truncated the link's target and wrote
    its pid into it."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (run_dir / ".nettrain.lock").symlink_to(victim)
    r = run("fit", CONFIGS / "xor.yaml", "-o", run_dir, "-q")
    assert r.exit_code == 2 and "cannot lock the run folder" in r.stderr
    assert victim.read_text() == "precious\n"
