"""SIGTERM and SIGHUP end a `bench` call the way Ctrl-C does, with one `Error:` line.

A CI timeout sends SIGTERM: the running benchmark's process tree is killed and the job is
closed before `bench` exits, exactly as for Ctrl-C, because the signal is raised as a
``KeyboardInterrupt`` in the main thread. Shared by the click app and the click-free path.
"""

from __future__ import annotations

import signal

from benchstone.cli._output import error_line


class Terminated(KeyboardInterrupt):
    """SIGTERM / SIGHUP, handled exactly like Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum: int, _frame: object) -> None:
    raise Terminated(signum)


def handle_termination() -> None:
    """Make SIGTERM and SIGHUP raise :class:`Terminated` (the console script only: a
    caller embedding ``main`` keeps its own handlers)."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_terminated)


def interrupted(cause: BaseException | None) -> int:
    """Print why the call stopped; the exit code a shell expects for it."""
    if isinstance(cause, Terminated):
        error_line(f"terminated by {signal.Signals(cause.signum).name}")
        return 128 + cause.signum
    error_line("interrupted")
    return 130
