"""Which stored number a benchmark gates on, chosen when the rows are read.

Every row keeps every measurement it has: the metric the runner reported, the harness's
wall clock, CPU time, peak RSS and (schema v2) instruction count. The manifest's
``metric_source`` picks one of them at read time, here and only here, so changing
``metric_source`` re-reads the stored baseline runs instead of throwing them away. The
row's ``metric`` column is still written (older readers use it) but never read for gating.
"""

from __future__ import annotations

from benchstone.api._errors import ApiError
from benchstone.store import Run

#: metric_source -> the row column that holds that measurement.
SOURCE_COLUMNS: dict[str, str] = {
    "reported": "reported_metric",
    "wall_clock": "wall_clock",
    "cpu_time": "cpu_time",
    "peak_rss": "peak_rss",
    "instructions": "instructions",
}

#: Sources measured in time (or work), whose changes read as "faster" / "slower".
TIME_SOURCES = frozenset({"wall_clock", "cpu_time", "instructions"})


def gated_value(run: Run, metric_source: str) -> float | None:
    """The number ``run`` contributes to a gate on ``metric_source``; None when the row has
    no such measurement (a failed repetition, or a harness that could not measure it).

    Accepts any row-shaped object (a stored :class:`Run` or a ``NewRun`` being written).
    """
    try:
        column = SOURCE_COLUMNS[metric_source]
    except KeyError:
        raise ApiError(
            f"metric_source {metric_source!r} is unknown; use one of "
            f"{', '.join(sorted(SOURCE_COLUMNS))}"
        ) from None
    value = getattr(run, column)
    return None if value is None else float(value)


def gateable(run: Run, metric_source: str) -> bool:
    """An ok, measured (not warmup) row that holds the measurement the gate reads.

    A warmup's number describes a cold start, which is what warming up exists to leave
    out of the comparison.
    """
    return run.status == "ok" and not run.warmup and gated_value(run, metric_source) is not None


def timeline_value(run: Run, metric_source: str) -> float | None:
    """The value a history shows as gated: none for a warmup, which no gate reads."""
    return None if run.warmup else gated_value(run, metric_source)
