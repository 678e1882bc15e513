"""Running the measuring process under a deadline, and killing it when it is exceeded.

OpenEvolve's own timeout abandons the evaluation thread and lets the work go on; ours
ends the work. At the deadline the child gets SIGTERM, which makes the API kill the
running repetition's tree and close its job; whatever is still alive ``grace`` seconds
later (the child and every descendant) gets SIGKILL. The calling thread waits for all of
it, so when :func:`supervise` returns nothing it started is left running.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

CHILD = "benchstone.integrations.openevolve._child"
_STDERR_TAIL = 2000


@dataclass(frozen=True)
class Answer:
    """What the measuring process said, or why it said nothing."""

    data: dict[str, Any] | None  # the child's JSON document
    timed_out: bool = False
    problem: str | None = None  # the child died or printed no document

    @property
    def error(self) -> str | None:
        if self.problem is not None:
            return self.problem
        if self.data is not None and not self.data.get("ok"):
            return str(self.data.get("error"))
        return None


def supervise(request: dict[str, Any], *, deadline: float, grace: float, cwd: Path) -> Answer:
    """Run one measurement in a child process; give up (and kill it) at ``deadline``.

    ``deadline`` is a ``time.monotonic()`` value. A deadline already passed still starts
    nothing: the answer is a timeout at once.
    """
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return Answer(None, timed_out=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        start_new_session=True,  # a terminal's Ctrl-C reaches us, and we stop the child
        text=True,
    )
    payload: str | None = json.dumps(request)
    try:
        out, err = proc.communicate(payload, timeout=remaining)
    except subprocess.TimeoutExpired:
        _stop(proc, grace)
        return Answer(None, timed_out=True)
    finally:
        if proc.poll() is None:  # an exception in this thread (KeyboardInterrupt)
            _stop(proc, grace=0.0)
    try:
        data = json.loads(out)
    except ValueError:
        tail = (err or "").strip()[-_STDERR_TAIL:]
        return Answer(
            None,
            problem=f"the measuring process exited {proc.returncode} without an answer: {tail}",
        )
    return Answer(data if isinstance(data, dict) else None)


def _stop(proc: subprocess.Popen[str], grace: float) -> None:
    """SIGTERM, ``grace`` seconds to wind down, then SIGKILL for the child and its tree."""
    try:
        family = [psutil.Process(proc.pid)]
        family += family[0].children(recursive=True)
    except psutil.Error:
        family = []
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.communicate(timeout=grace)
    with contextlib.suppress(psutil.Error):
        family += psutil.Process(proc.pid).children(recursive=True)
    for process in family:
        with contextlib.suppress(psutil.Error):
            process.kill()
    proc.communicate()
    psutil.wait_procs([p for p in family if p.pid != proc.pid], timeout=grace or 1.0)
