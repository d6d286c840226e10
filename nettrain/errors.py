"""nettrain's own errors.

The library raises these; ``cli.py`` turns each into one ``Error: ...`` line on stderr and an exit
code (2 for bad usage, config, data or model files; 1 for a failed check or a diverged run).
"""

from __future__ import annotations

import difflib
import errno
from collections.abc import Iterable


class NettrainError(Exception):
    """Base class of every error nettrain raises on purpose. ``exit_code`` is what the CLI returns."""

    exit_code = 2


class ConfigError(NettrainError):
    """The config file (or a --set override) is missing, unreadable, or invalid.

    ``problems`` holds every problem found, one line each, so all of a file's mistakes are
    reported at once.
    """

    def __init__(self, problems: str | list[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            message = f"{len(self.problems)} problems in the config:\n  " + "\n  ".join(self.problems)
        super().__init__(message)


class DataError(NettrainError):
    """A data file is missing, unreadable, or does not fit the network."""


class TargetColumnError(DataError):
    """The target column a data file was read with (data.target) is not in it."""


class ModelFileError(NettrainError):
    """A model file is missing, corrupt, unsafe, or from an unknown format version."""


class OutputError(NettrainError):
    """A file cannot be written where it was asked for (a folder in the way, no permission,
    no space)."""


class BackendError(NettrainError):
    """The requested device cannot be used."""


class TrainingDiverged(NettrainError):
    """The loss became NaN or infinite; exit code 1, as a failed check."""

    exit_code = 1


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ' (did you mean 'x'?)' for the closest choice, or '' when nothing is close.

    Case is a near miss first of all: a choice that differs from the word only in case
    ('Label' for a column 'label') is the answer, else difflib's closest of the choices
    compared without case ('LABLE' -> 'label', which case-sensitive difflib finds nothing
    like), the first of the choices that share its folded spelling."""
    word = str(word)
    choices = [str(c) for c in choices]
    same = [c for c in choices if c.casefold() == word.casefold()]
    if same:
        best = max(same, key=lambda c: difflib.SequenceMatcher(None, word, c).ratio())
        return f" (did you mean '{best}'?)"
    folded: dict[str, str] = {}
    for c in choices:
        folded.setdefault(c.casefold(), c)
    close = difflib.get_close_matches(word.casefold(), list(folded), n=1, cutoff=0.6)
    return f" (did you mean '{folded[close[0]]}'?)" if close else ""


def one_of(choices: Iterable[str]) -> str:
    """Format a list of valid words: 'one of: a, b, c'."""
    return "one of: " + ", ".join(str(c) for c in choices)


#: The exit code of a command stopped by each signal: 128 + its number, as a shell reports it.
SIGNAL_EXIT_CODES = {"SIGINT": 130, "SIGHUP": 129, "SIGTERM": 143, "SIGPIPE": 141}


class Interrupted(NettrainError):
    """Training stopped on a signal after saving a checkpoint; exit 130 (SIGINT), 129 (SIGHUP)
    or 143 (SIGTERM).

    ``checkpoint`` is the file written, so the CLI can say how to resume.
    """

    def __init__(self, message: str, signal_name: str = "SIGINT", checkpoint: str | None = None):
        super().__init__(message)
        self.exit_code = SIGNAL_EXIT_CODES.get(signal_name, 130)
        self.signal_name = signal_name
        self.checkpoint = checkpoint


def shown(path, limit: int = 200) -> str:
    """A path for a message: as it is, or, when longer than ``limit`` characters (a name too long
    to exist), its start and end and its length, so that the message stays readable."""
    text = str(path)
    if len(text) <= limit:
        return text
    return f"{text[: limit // 2]}...{text[-limit // 4 :]} ({len(text)} characters)"


def os_reason(exc: BaseException) -> str:
    """Why an operating-system call failed, in words: the system's (strerror), with 'file name
    too long' spelled as nettrain's messages are."""
    if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
        return "file name too long"
    return getattr(exc, "strerror", None) or str(exc)


def name_too_long(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG


def unreadable(what: str, path, exc: BaseException) -> str:
    """One line saying why a file cannot be read: '<what> '<path>' not found', '... is a
    directory, not a file', '... permission denied', or the system's words."""
    if isinstance(exc, FileNotFoundError):
        return f"{what} '{path}' not found"
    if isinstance(exc, IsADirectoryError):
        return f"{what} '{path}' is a directory, not a file"
    if isinstance(exc, PermissionError):
        return f"{what} '{path}' cannot be read: permission denied"
    if name_too_long(exc):
        return f"{what} '{shown(path)}' cannot be read: file name too long"
    if isinstance(exc, ValueError):  # a NUL byte in the path
        return f"{what} '{path}' is not a usable path ({exc})"
    return f"{what} '{path}' cannot be read: {getattr(exc, 'strerror', None) or exc}"
