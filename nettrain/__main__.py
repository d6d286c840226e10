"""`python -m nettrain` and the `nettrain` script run the command-line tool."""

import io
import os
import sys


def main() -> None:
    _usable_streams()
    try:
        from .cli import main as run
    except KeyboardInterrupt:  # Ctrl-C while the program is still starting: no traceback
        sys.stderr.write("\nInterrupted.\n")
        raise SystemExit(130) from None
    from .errors import NettrainError

    try:
        run()
    except NettrainError as exc:  # outside a command (--help, --version): an unwritable stdout
        sys.stderr.write(f"Error: {exc}\n")
        raise SystemExit(exc.exit_code) from None


class _Tolerant:
    """Standard error that cannot be written (a full disk, a closed reader) is not a reason to
    fail a run whose data goes elsewhere: its messages are dropped instead."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        try:
            return self._stream.write(text)
        except UnicodeEncodeError:  # an ASCII terminal: escape what it cannot show
            encoding = getattr(self._stream, "encoding", None) or "ascii"
            return self.write(text.encode(encoding, "backslashreplace").decode(encoding))
        except (OSError, ValueError):
            return len(text)

    def flush(self):
        try:
            self._stream.flush()
        except (OSError, ValueError):
            pass

    def __getattr__(self, name):
        return getattr(self._stream, name)


class _Checked:
    """Standard output whose failures (a full disk: > /dev/full) are one clear error, not an
    internal one; a reader that went away (| head) stays a BrokenPipeError, which ends quietly."""

    def __init__(self, stream):
        self._stream = stream

    def _failed(self, exc: OSError):
        from .errors import OutputError

        try:  # the interpreter's last flush must not fail again
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return OutputError(f"cannot write to standard output: {exc.strerror or exc}")

    def write(self, data):
        try:
            return self._stream.write(data)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise self._failed(exc) from None
        except UnicodeEncodeError as exc:
            from .errors import OutputError

            bad = exc.object[exc.start : exc.end]
            raise OutputError(
                f"standard output's encoding ({exc.encoding}) cannot write {bad!r}; "
                "set PYTHONIOENCODING=utf-8, or give --output FILE"
            ) from None

    def flush(self):
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise self._failed(exc) from None

    @property
    def buffer(self):
        inner = getattr(self._stream, "buffer", None)
        return None if inner is None else _Checked(inner)

    def __getattr__(self, name):
        return getattr(self._stream, name)


class _ClosedOutput:
    """Stands in for a closed standard output (`>&-`): writing data to it is an error that says
    so, while commands that write none (fit) run as usual."""

    def write(self, data):
        from .errors import OutputError

        raise OutputError("standard output is closed; redirect it (> FILE) or give --output FILE")

    def flush(self):
        pass

    def isatty(self):
        return False

    @property
    def buffer(self):
        return self


_replaced: list = []


def _usable_streams() -> None:
    """Python starts with sys.stdout or sys.stderr None when that descriptor is closed.

    Under PYTHONUNBUFFERED (or -u) stdout writes straight to its raw file, which may take only
    part of a write (a disk nearly full) without an error: the rest was lost and the command
    ended 0. A BufferedWriter writes all or raises; line buffering keeps output as prompt."""
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")
    else:
        sys.stderr = _Tolerant(sys.stderr)
    raw = getattr(sys.stdout, "buffer", None)
    if isinstance(raw, io.RawIOBase):
        _replaced.append(sys.stdout)  # (kept: collected, it would close the raw file under us)
        text = sys.stdout
        sys.stdout = io.TextIOWrapper(
            io.BufferedWriter(raw), encoding=text.encoding, errors=text.errors, line_buffering=True
        )
    sys.stdout = _ClosedOutput() if sys.stdout is None else _Checked(sys.stdout)


if __name__ == "__main__":
    main()
