"""An input's bytes, handed out a chunk of whole lines at a time, for readers that stream.

A ``ByteSource`` reads a file, standard input or bytes already in memory in pieces of
``READ_BYTES`` and hands out chunks that end at a line end (b'\\n'): at most ``max_lines`` lines
and, past the first line, about ``max_bytes`` bytes; the last chunk is whatever is left, a
final line without its line end included. A chunk never splits a line, so it never splits a
UTF-8 character or a CRLF either.

Standard input may come slowly (``tail -f log | nettrain predict ...``): there a chunk is also
handed out when it holds a whole line and no more bytes come for ``STALL_SECONDS``, or when its
first whole line has waited ``MAX_WAIT_SECONDS`` in all, so that answers never wait for the end of
the input. (Files and bytes in memory are read until the chunk is full.)
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable

import numpy as np

from ..errors import DataError

#: Bytes asked for with each read.
READ_BYTES = 1 << 20
#: Standard input that sends nothing for this long has stalled: what is there is handed out.
STALL_SECONDS = 0.1
#: A whole line read from standard input waits at most about this long for its chunk to fill.
MAX_WAIT_SECONDS = 1.0

BOM = b"\xef\xbb\xbf"


class ByteSource:
    """The bytes of one input, read a piece at a time (see the module doc).

    stream : a binary file object (``read1`` is used where it exists: it returns what one read
        gives, so a pipe's bytes come as they arrive).
    stalls : watch for a stalled producer (standard input); needs a stream with a file
        descriptor that ``select`` accepts, else it is ignored.
    unreadable : the message of a read that fails (OSError), for the DataError raised.
    owned : the stream was opened for this source: ``close()`` closes it.
    """

    def __init__(
        self,
        stream,
        *,
        stalls: bool = False,
        unreadable: Callable[[BaseException], str] = str,
        owned: bool = False,
    ):
        self._stream, self._owned = stream, owned
        self._read = getattr(stream, "read1", None) or stream.read
        self._unreadable = unreadable
        self._fd = None
        if stalls:
            try:
                fd = stream.fileno()
                select.select([fd], [], [], 0)
                self._fd = fd
            except (AttributeError, OSError, ValueError):  # a BytesIO (tests), or no select
                self._fd = None
        self._pending = bytearray()
        self._newlines = 0  # b'\n' in _pending
        self.eof = False
        self.newlines_out = 0  # b'\n' in the bytes handed out so far: a chunk's first line - 1
        self._started = False

    # -- reading ----------------------------------------------------------------------------------

    def _read_once(self, timeout: float | None = None) -> bool:
        """One more read into the pending bytes; False when nothing came: the end of the input,
        or no byte within ``timeout`` seconds (only where stalls are watched)."""
        if self.eof:
            return False
        if timeout is not None and self._fd is not None:
            ready, _, _ = select.select([self._fd], [], [], max(0.0, timeout))
            if not ready:
                return False
        try:
            data = self._read(READ_BYTES)
        except (OSError, ValueError) as exc:
            raise DataError(self._unreadable(exc)) from None
        if isinstance(data, str):  # a text stream (a test's stdin)
            data = data.encode("utf-8")
        if not data:
            self.eof = True
            return False
        self._pending += data
        self._newlines += data.count(b"\n")
        return True

    def _start(self) -> None:
        """Drop a UTF-8 byte order mark at the start of the input."""
        if self._started:
            return
        while len(self._pending) < len(BOM) and self._read_once():
            pass
        if self._pending.startswith(BOM):
            del self._pending[: len(BOM)]
        self._started = True

    def head(self, size: int) -> bytes:
        """The first ``size`` bytes (fewer at the end of the input), without handing them out."""
        while len(self._pending) < size and self._read_once():
            pass
        return bytes(self._pending[:size])

    def read_all(self) -> bytes:
        """Every byte not handed out yet (an NPY or NPZ file, which is not read in lines)."""
        while self._read_once():
            pass
        data = bytes(self._pending)
        self._pending.clear()
        self._newlines = 0
        return data

    def peek_lines(self, lines: int, size: int) -> bytes:
        """The bytes not handed out yet, after reading until they hold ``lines`` line ends or
        ``size`` bytes, or the input ends or stalls (for sniffing the delimiter)."""
        self._start()
        self._fill(lines, size)
        return bytes(self._pending)

    def _fill(self, max_lines: int, max_bytes: int) -> None:
        """Read until the pending bytes hold ``max_lines`` line ends, or ``max_bytes`` bytes and a
        line end, or the input ends, or (standard input) a whole line has waited long enough."""
        first_line_at = None
        while not self.eof:
            if self._newlines >= max_lines or (self._newlines and len(self._pending) >= max_bytes):
                return
            timeout = None
            if self._fd is not None and self._newlines:
                now = time.monotonic()
                first_line_at = first_line_at or now
                timeout = min(STALL_SECONDS, first_line_at + MAX_WAIT_SECONDS - now)
                if timeout <= 0:
                    return
            if not self._read_once(timeout) and not self.eof:
                return  # stalled, with a whole line to hand out

    def chunk(self, max_lines: int, max_bytes: int) -> bytes | None:
        """The next chunk: whole lines, at most ``max_lines`` of them and about ``max_bytes``
        bytes (at least one line, however long), or what is left at the end of the input;
        None once everything has been handed out."""
        self._start()
        self._fill(max_lines, max_bytes)
        pending = self._pending
        if not pending:
            return None
        if self._newlines >= max_lines:
            cut = _after_newline(pending, max_lines)
        elif self.eof:
            cut = len(pending)  # what is left, a last line without its line end included
        else:
            cut = pending.rfind(b"\n") + 1  # the whole lines (stalled, or full by size)
        if cut > max_bytes:  # keep to the size: end at the last line end within it, if any
            within = pending.rfind(b"\n", 0, max_bytes)
            if within < 0:
                within = pending.find(b"\n")  # one line longer than the size: whole
            cut = within + 1 if within >= 0 else len(pending)
        data = bytes(pending[:cut])
        del pending[:cut]
        counted = data.count(b"\n")
        self._newlines -= counted
        self.newlines_out += counted
        return data

    def unread(self, data: bytes) -> None:
        """Give back the end of what was handed out (lines a reader did not take): they come
        first in the next chunk."""
        self._pending[:0] = data
        counted = data.count(b"\n")
        self._newlines += counted
        self.newlines_out -= counted

    def close(self) -> None:
        if self._owned:
            self._stream.close()

    @property
    def exhausted(self) -> bool:
        """Everything has been read and handed out."""
        return self.eof and not self._pending


def _after_newline(data: bytearray, k: int) -> int:
    """The offset just after the k-th b'\\n' of ``data`` (which holds at least k): counted a
    mebibyte at a time, then found in the last one with NumPy."""
    seen, start, step = 0, 0, 1 << 20
    while True:
        stop = min(len(data), start + step)
        here = data.count(b"\n", start, stop)
        if seen + here >= k:
            break
        seen += here
        start = stop
    window = np.frombuffer(data, dtype=np.uint8, count=stop - start, offset=start)
    at = int(np.flatnonzero(window == ord("\n"))[k - seen - 1])
    del window  # (a bytearray with a view of it cannot be resized)
    return start + at + 1


class WholeBytes:
    """Bytes already in memory as one chunk, for the whole-file reader: ``ByteSource``'s
    interface, without its copies."""

    def __init__(self, data: bytes):
        self._data: bytes | None = data
        self.newlines_out = 0
        self.exhausted = False

    def chunk(self, max_lines: int, max_bytes: int) -> bytes | None:
        data, self._data = self._data, None
        if data is not None:
            self.newlines_out, self.exhausted = data.count(b"\n"), True
        return data or None
