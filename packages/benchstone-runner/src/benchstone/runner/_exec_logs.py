"""Capped, private log files for a child's stdout and stderr.

The harness, not the child, writes these files: the child only ever sees a pipe, so it
never learns a path into the store. A cap keeps a chatty (or hostile) child from filling
the disk; past the cap the bytes are counted and dropped, so the child never blocks on a
full pipe and the harness's memory does not grow with the child's output.
"""

from __future__ import annotations

import os
from pathlib import Path

from benchstone.runner._errors import RunnerError

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)


class CappedLog:
    """One stream's log file: the first ``cap`` bytes verbatim, then a marker line."""

    def __init__(self, path: Path, cap: int) -> None:
        try:
            fd = os.open(path, _FLAGS, 0o600)
        except OSError as exc:
            raise RunnerError(
                f"{path}: cannot open the log file ({exc.strerror}); its directory must "
                "exist and be writable by the harness"
            ) from None
        try:
            # A pre-existing file keeps its old mode through O_CREAT: force it private.
            os.fchmod(fd, 0o600)
        except OSError:
            os.close(fd)
            raise
        self.path = path
        self._fd: int | None = fd
        self._cap = cap
        self._last = b"\n"
        self.written = 0
        self.total = 0
        self.error: OSError | None = None

    @property
    def truncated(self) -> bool:
        return self.total > self._cap

    def feed(self, chunk: memoryview) -> None:
        """Count every byte; write only those that fit under the cap."""
        self.total += len(chunk)
        room = self._cap - self.written
        if room <= 0 or self.error is not None or self._fd is None:
            return
        part = chunk[:room]
        self._write(part)
        self.written += len(part)
        if part:
            self._last = bytes(part[-1:])

    def close(self) -> None:
        """Append the truncation marker (when the cap was hit) and close the file."""
        if self._fd is None:
            return
        try:
            if self.truncated and self.error is None:
                lead = b"" if self._last == b"\n" else b"\n"
                marker = (
                    f"[benchstone: output truncated after {self._cap} bytes; "
                    f"{self.total - self._cap} bytes discarded]\n"
                ).encode()
                self._write(memoryview(lead + marker))
        finally:
            os.close(self._fd)
            self._fd = None

    def check(self) -> None:
        """Raise the first write error, once the child is gone and nothing is lost by it."""
        if self.error is not None:
            raise RunnerError(
                f"{self.path}: cannot write the log file ({self.error.strerror}); "
                "free space or fix permissions under the store"
            )

    def _write(self, data: memoryview) -> None:
        fd = self._fd
        if fd is None:
            return
        try:
            while data:
                done = os.write(fd, data)
                data = data[done:]
        except OSError as exc:
            self.error = exc
