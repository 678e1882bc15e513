"""The end of a dispatch, whichever executor ran it: its report, and for an establish the
baseline pointer moved to exactly its ok runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from benchstone.api._batch import DispatchPlan
from benchstone.api._errors import ApiError
from benchstone.api._failures import why
from benchstone.api._types import DispatchReport
from benchstone.store import Run, Store


def dispatch_report(
    store: Store,
    plan: DispatchPlan,
    runs: Sequence[Run],
    *,
    kind: str,
    notes: str | None = None,
    warmups: Sequence[Run] = (),
) -> DispatchReport:
    """The report of a finished dispatch; an establish points the baseline at its ok runs.

    Raises ApiError when an establish has no ok run (the pointer is then left alone).
    """
    report = DispatchReport(
        project=plan.project,
        benchmark=plan.benchmark,
        git_sha=plan.git_sha,
        git_dirty=plan.git_dirty,
        meta_seed=plan.meta_seed,
        seed_set=plan.seed_set,
        runs=tuple(runs),
        window=plan.window,
        baseline_sha=plan.baseline_sha,
        warmups=tuple(warmups),
    )
    if kind != "establish":
        return report
    ok_ids = tuple(r.id for r in report.ok_runs)
    if not ok_ids:
        raise ApiError(
            f"{plan.project}/{plan.benchmark}: none of the {len(report.runs)} baseline "
            f"repetition(s) succeeded ({why(report.runs)}); the baseline was not set (`bench "
            f"history {plan.project} {plan.benchmark}` lists the errors, `--json` their "
            "stderr_log)"
        )
    event = store.set_baseline(
        plan.project,
        plan.benchmark,
        git_sha=plan.git_sha,
        meta_seed=None,
        run_ids=ok_ids,
        action="establish",
        notes=notes,
    )
    return replace(report, baseline=event)
