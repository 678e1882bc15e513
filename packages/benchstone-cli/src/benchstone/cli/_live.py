"""The live line of a foreground dispatch: elapsed time and an ETA, redrawn on a terminal.

A person watching a 20-minute repetition needs to see that something is happening and when
it will end; a script reading the output needs neither, and must not get carriage returns
mixed into what it parses. So the line exists only when stderr is a terminal and never in
``--json`` mode, lives on stderr alone, and is erased before every per-repetition line so
the lines on stdout read exactly as without it.

The ETA uses the mean duration of the repetitions finished so far, or the manifest's
``expected_runtime_seconds`` until one has finished; with neither it shows ``?``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from benchstone.cli import _format as fmt

REDRAW_SECONDS = 0.5
_ERASE = "\r\033[K"


class LiveLine:
    """One `\\r`-rewritten stderr line, redrawn by a daemon thread until ``stop``.

    Every write happens under one lock, so the thread never draws between the erase and
    the per-repetition line that ``print_above`` prints.
    """

    def __init__(self, stream: TextIO, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._stream = stream
        self._clock = clock
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._total = 0
        self._expected: float | None = None
        self._durations: list[float] = []
        self._started = 0.0
        self._rep_started = 0.0
        self._shown = False
        self._stopped = False

    @classmethod
    def for_stderr(cls) -> LiveLine | None:
        """A live line on stderr when it is a terminal that can erase a line, else None."""
        stream = sys.stderr
        try:
            interactive = stream is not None and stream.isatty()
        except (AttributeError, ValueError):
            interactive = False
        if os.environ.get("TERM") == "dumb":  # no cursor control: \r and ESC[K would show
            interactive = False
        return cls(stream) if interactive else None

    def start(self, total: int, expected_seconds: float | None) -> None:
        """The dispatch begins: ``total`` repetitions, each expected to take so long."""
        with self._lock:
            if self._thread is not None or self._stopped or total < 1:
                return
            self._total = total
            self._expected = expected_seconds
            self._started = self._rep_started = self._clock()
            self._draw()
            self._thread = threading.Thread(
                target=self._redraw_loop, name="benchstone-live-line", daemon=True
            )
            self._thread.start()

    def print_above(self, emit: Callable[[], None]) -> None:
        """Erase the line, let ``emit`` print a repetition's line, count it, redraw."""
        with self._lock:
            self._erase()
            emit()
            if self._thread is None or self._stopped:
                return
            now = self._clock()
            self._durations.append(now - self._rep_started)
            self._rep_started = now
            if len(self._durations) >= self._total:
                self._stopped = True
                self._wake.set()
                return
            self._draw()

    def stop(self) -> None:
        """Erase the line and end the thread; safe to call more than once."""
        with self._lock:
            self._stopped = True
            self._erase()
            self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _redraw_loop(self) -> None:
        while not self._wake.wait(REDRAW_SECONDS):
            with self._lock:
                if self._stopped:
                    return
                self._draw()

    def _eta(self, now: float) -> float | None:
        per_rep = sum(self._durations) / len(self._durations) if self._durations else self._expected
        if per_rep is None:
            return None
        left_in_this = max(per_rep - (now - self._rep_started), 0.0)
        return left_in_this + per_rep * (self._total - len(self._durations) - 1)

    def _draw(self) -> None:
        now = self._clock()
        text = fmt.live_line(
            len(self._durations) + 1,
            self._total,
            now - self._rep_started,
            now - self._started,
            self._eta(now),
        )
        # The cursor goes back to column 0, so any other line printed over it (an
        # `Error:` from a failure mid-dispatch) starts at the left margin.
        self._write(f"{_ERASE}{text}\r")
        self._shown = True

    def _erase(self) -> None:
        if self._shown:
            self._write(_ERASE)
            self._shown = False

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):
            # The terminal went away (closed, hung up): the run itself must go on.
            self._stopped = True
