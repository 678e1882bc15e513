"""The thread that watches a running command: drains its pipes, samples it, times it out.

One thread does all three so the main thread can sit in ``os.wait4`` and learn of the
shell's exit the instant it happens: nothing on the spawn/reap path sleeps in fixed steps.
The thread wakes for pipe data, for the next sample and for the next deadline only.
"""

from __future__ import annotations

import contextlib
import math
import os
import selectors
import signal
import threading
import time

from benchstone.runner._exec_logs import CappedLog
from benchstone.runner._proc_tree import SAMPLE_INTERVAL, ProcessTree

_READ_SIZE = 1 << 20
_DRAIN_CHECK = 0.1


class Watcher(threading.Thread):
    """Runs until both pipes reach end-of-file (or it is told to abandon them)."""

    def __init__(
        self,
        tree: ProcessTree,
        streams: list[tuple[int, CappedLog]],
        *,
        deadline: float,
        grace: float,
    ) -> None:
        super().__init__(name=f"benchstone-watch-{tree.root}", daemon=True)
        self.lock = threading.Lock()
        self.timed_out = False
        self.term_sent_at: float | None = None
        self.failure: Exception | None = None
        self._tree = tree
        self._streams = streams
        self._deadline = deadline
        self._grace = grace
        self._killed = False
        self._stopped = False
        self._abandon = threading.Event()

    def stop(self) -> tuple[bool, float | None]:
        """Hand the tree over to the caller; return (timed_out, when SIGTERM was sent).

        Taken under the lock, so the answer cannot change after the caller has it.
        """
        with self.lock:
            self._stopped = True
            return self.timed_out, self.term_sent_at

    def finish(self, patience: float) -> None:
        """Wait for end-of-file on both pipes; give up on them after ``patience`` s.

        Once the tree is ended every writer is gone and EOF comes at once; the patience
        only bounds the case of a writer the harness could not find.
        """
        self.join(patience)
        if self.is_alive():
            self._abandon.set()
            self.join()

    def run(self) -> None:
        selector = selectors.DefaultSelector()
        buffer = bytearray(_READ_SIZE)
        view = memoryview(buffer)
        try:
            for fd, log in self._streams:
                selector.register(fd, selectors.EVENT_READ, log)
            next_sample = time.monotonic()
            while selector.get_map():
                with self.lock:
                    if self._stopped or self.failure is not None:
                        wait = _DRAIN_CHECK
                    else:
                        try:
                            now = time.monotonic()
                            if now >= next_sample:
                                self._tree.sample()
                                next_sample = time.monotonic() + SAMPLE_INTERVAL
                            due = self._enforce_deadline(time.monotonic())
                        except Exception as exc:
                            # A bug here must not leave a child unwatched until the end
                            # of time: end it now, keep draining, let the caller re-raise.
                            self.failure = exc
                            with contextlib.suppress(OSError):
                                os.killpg(self._tree.root, signal.SIGKILL)
                            due = math.inf
                        wait = max(0.0, min(next_sample, due) - time.monotonic())
                if self._abandon.is_set():
                    break
                for key, _events in selector.select(wait):
                    try:
                        count = os.readv(key.fd, [view])
                    except OSError:
                        count = 0
                    if count == 0:
                        selector.unregister(key.fd)
                        continue
                    key.data.feed(view[:count])
        finally:
            selector.close()
            for fd, _log in self._streams:
                os.close(fd)

    def _enforce_deadline(self, now: float) -> float:
        """Send SIGTERM at the deadline, SIGKILL ``grace`` later; return the next due time."""
        if not self.timed_out:
            if now < self._deadline:
                return self._deadline
            self.timed_out = True
            self.term_sent_at = now
            self._tree.signal(signal.SIGTERM)
        if self._killed or self.term_sent_at is None:
            return math.inf
        kill_at = self.term_sent_at + self._grace
        if now < kill_at:
            return kill_at
        self._killed = True
        self._tree.signal(signal.SIGKILL)
        return math.inf
