"""An exclusive lock on a run folder while ``fit`` writes it.

Two fits writing one folder at once would prune each other's checkpoints and replace each
other's model. So fit holds ``RUN/.nettrain.lock`` locked (``fcntl.flock``, exclusive,
non-blocking) from before it reads the data until it ends, however it ends; a second fit into
the folder is refused at once with an OutputError naming the first one's process id, which the
file holds. The lock is advisory (only nettrain asks for it) and the kernel lets it go when the
process dies, so a file left by a killed run holds no lock and is simply taken over; a run that
ends removes the file. Where there is no fcntl (Windows) nothing is locked; where the file
system refuses locks, fit goes on unlocked and says so.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from .errors import OutputError, os_reason, shown

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

#: The lock file's name in the run folder (hidden; not a name fit writes otherwise).
LOCK_NAME = ".nettrain.lock"

#: The errors of flock on a file system without locks (some network and FUSE file systems).
UNSUPPORTED = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL, errno.ENOSYS}


class RunLock:
    """The lock on one run folder. ``acquire()`` takes it (making the folder if needed) or raises
    OutputError; ``release()`` lets it go, removes the lock file, and removes the folders
    ``acquire`` made when nothing else was written into them. ``notice`` says why the folder
    is not locked, when the file system refused."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.fd: int | None = None
        self.made: list[Path] = []  # folders acquire created, innermost first
        self.notice: str | None = None

    def acquire(self) -> RunLock:
        if fcntl is None:
            return self
        self._make_folder()
        try:
            # the file may be removed by the run that held it between our open and our flock:
            # then the lock taken is on a file no longer in the folder, and we try again
            for _ in range(100):
                try:
                    fd = self._open()
                except FileNotFoundError:
                    # the folder went between making and opening: a fit that made it and failed
                    # took it away again (its release); make it again, ours now
                    self._make_folder()
                    continue
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    pid = _read_pid(fd)
                    os.close(fd)
                    raise OutputError(
                        f"{self.folder} is being written by another nettrain fit"
                        + (f" (pid {pid})" if pid else "")
                        + "; wait for it to end, or choose another output (-o DIR)"
                    ) from None
                except OSError as exc:
                    os.close(fd)
                    if exc.errno not in UNSUPPORTED:
                        raise OutputError(
                            f"cannot lock the run folder '{self.folder}': {os_reason(exc)}"
                        ) from None
                    self.notice = (
                        f"the run folder {self.folder} cannot be locked ({os_reason(exc)}): another "
                        "fit into it at the same time would not be refused"
                    )
                    self._remove_file()
                    return self
                if self._still_named(fd):
                    self.fd = fd
                    _write_pid(fd)
                    return self
                os.close(fd)
            raise OutputError(f"cannot lock the run folder '{self.folder}': its lock file keeps changing")
        except BaseException:
            self._remove_folders()
            raise

    def release(self) -> None:
        if self.fd is not None:
            # removed while still held, so a fit waiting to start finds either this file locked
            # or no file (a fit that opened this file meanwhile sees it is gone and tries again)
            if self._still_named(self.fd):
                self._remove_file()
            os.close(self.fd)
            self.fd = None
        self._remove_folders()

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> bool:
        self.release()
        return False

    def _make_folder(self) -> None:
        missing = []
        folder = self.folder
        try:
            while not folder.exists() and folder != folder.parent:
                missing.append(folder)
                folder = folder.parent
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # (check_output saw to the usual reasons)
            raise OutputError(
                f"cannot make the run folder '{shown(self.folder)}': {os_reason(exc)}"
            ) from None
        # innermost first; a second call (the folder taken away meanwhile) adds to the first's
        self.made = sorted({*self.made, *missing}, key=lambda p: len(p.parts), reverse=True)

    def _open(self) -> int:
        """The lock file, open (created if needed); FileNotFoundError when the folder is gone."""
        try:
            # not through a link: one planted as the lock file would have fit write elsewhere
            return os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise OutputError(
                f"cannot lock the run folder '{shown(self.folder)}': {os_reason(exc)}"
            ) from None

    def _still_named(self, fd: int) -> bool:
        """Whether the lock file's name still leads to the file open as ``fd``."""
        try:
            return os.path.samestat(os.fstat(fd), os.stat(self.path))
        except OSError:
            return False

    def _remove_file(self) -> None:
        try:
            os.unlink(self.path)
        except OSError:
            pass

    def _remove_folders(self) -> None:
        """The folders acquire made, when they are empty (a run that failed before writing)."""
        for folder in self.made:
            try:
                folder.rmdir()
            except OSError:  # not empty: something was written
                break
        self.made = []


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _write_pid(fd: int) -> None:
    """The process id into the lock file, for the message of a fit that is refused (best effort:
    a full disk must not stop the run here)."""
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    except OSError:
        pass
