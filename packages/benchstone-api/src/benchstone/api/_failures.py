"""What went wrong in failed repetitions, in the words a person needs to fix the runner.

A failed row keeps a one-line reason; its stderr log keeps the traceback. Showing the
last lines of that log next to the reason is usually the whole diagnosis, so callers
need not go and find the file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from benchstone.store import Record, Run

#: Lines of stderr shown per failure, and the most bytes read from the log's end for them.
TAIL_LINES = 5
TAIL_BYTES = 8192


class Failure(Record):
    """One failed repetition: which, why, and how its stderr ended."""

    run_id: int
    repetition: int | None
    seed: int | None
    reason: str
    stderr_tail: tuple[str, ...]
    stderr_log: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "repetition": self.repetition,
            "seed": self.seed,
            "reason": self.reason,
            "stderr_tail": list(self.stderr_tail),
            "stderr_log": self.stderr_log,
        }


def failures(runs: Iterable[Run], *, lines: int = TAIL_LINES) -> tuple[Failure, ...]:
    """The failed repetitions among ``runs``, in order, each with its stderr's last lines."""
    return tuple(
        Failure(
            run_id=run.id,
            repetition=run.repetition,
            seed=run.seed,
            reason=run.message or "no reason recorded",
            stderr_tail=tail(run.stderr_log, lines) if run.stderr_log else (),
            stderr_log=run.stderr_log,
        )
        for run in runs
        if run.status != "ok"
    )


def why(runs: Iterable[Run]) -> str:
    """The failed rows' reasons, counted: "2x exit code 3; 1x timeout after 5 s"."""
    counts: dict[str, int] = {}
    for run in runs:
        if run.status != "ok":
            reason = run.message or "no reason recorded"
            counts[reason] = counts.get(reason, 0) + 1
    return "; ".join(f"{count}x {reason}" for reason, count in counts.items())


def tail(path: str | os.PathLike[str], lines: int = TAIL_LINES) -> tuple[str, ...]:
    """The last ``lines`` non-empty lines of a log, reading at most TAIL_BYTES of it.

    A log that cannot be read (removed, unreadable) has no tail; its path is still shown.
    """
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - TAIL_BYTES))
            chunk = handle.read(TAIL_BYTES)
    except OSError:
        return ()
    text = chunk.decode("utf-8", errors="replace")
    kept = [line.rstrip() for line in text.splitlines() if line.strip()]
    if size > TAIL_BYTES and kept:
        kept = kept[1:]  # the first line of a partial read is cut
    return tuple(kept[-lines:])
