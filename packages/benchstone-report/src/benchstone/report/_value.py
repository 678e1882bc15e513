"""Which number of a run a report plots: kept in one place so it can be switched.

The gated value will be chosen at read time from ``metric_source``; until the store
does that, ``metric`` is the value the gate read.
"""

from __future__ import annotations

from benchstone.store import Run


def run_value(run: Run) -> float | None:
    """The gated value of ``run``, or None when it has none (errored runs)."""
    return run.metric
