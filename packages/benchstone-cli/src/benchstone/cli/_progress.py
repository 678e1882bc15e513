"""A progress line on stderr for slow hashing, shown only where a person is watching.

Silent for the first second (most corpora hash faster than that) and whenever stderr is not
a terminal, so scripts and `--json` consumers never see it.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

DELAY_SECONDS = 1.0


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{count} B"
        value /= 1024
    return f"{count} B"


class ByteProgress:
    """Callable ``(done, total)`` that draws ``label: done / total (pct)`` after a delay."""

    def __init__(self, label: str, stream: TextIO | None = None, enabled: bool | None = None):
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.started = time.monotonic()
        self.drawn = False

    def __call__(self, done: int, total: int | None) -> None:
        if not self.enabled or time.monotonic() - self.started < DELAY_SECONDS:
            return
        text = f"{self.label}: {_size(done)}"
        if total:
            text += f" / {_size(total)} ({100 * done / total:.0f}%)"
        self.stream.write("\r" + text.ljust(60))
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        """Erase the line so the next output starts clean."""
        if self.drawn:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()
            self.drawn = False
