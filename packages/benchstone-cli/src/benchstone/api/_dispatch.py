"""Dispatching repetitions: `bench run` and `bench baseline establish`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from benchstone.api._context import load_project
from benchstone.api._errors import ApiError
from benchstone.api._types import DispatchReport
from benchstone.runner import DispatchPlan, plan_dispatch, run_dispatch
from benchstone.store import Run, Store

PlanCallback = Callable[[DispatchPlan], None]
RunCallback = Callable[[Run], None]


def run(
    project: str,
    benchmark: str,
    *,
    seed_set: str = "fresh",
    meta_seed: int | None = None,
    n: int | None = None,
    allow_dirty: bool = False,
    home: Path | None = None,
    on_plan: PlanCallback | None = None,
    on_run: RunCallback | None = None,
) -> DispatchReport:
    """Run a benchmark's repetitions at the project's current SHA; one row each."""
    return _dispatch(
        project,
        benchmark,
        seed_set=seed_set,
        meta_seed=meta_seed,
        n=n,
        allow_dirty=allow_dirty,
        home=home,
        on_plan=on_plan,
        on_run=on_run,
    )


def establish_baseline(
    project: str,
    benchmark: str,
    *,
    n: int | None = None,
    notes: str | None = None,
    allow_dirty: bool = False,
    home: Path | None = None,
    on_plan: PlanCallback | None = None,
    on_run: RunCallback | None = None,
) -> DispatchReport:
    """Run the manifest's baseline seeds at the current SHA and point the baseline at them."""
    report = _dispatch(
        project,
        benchmark,
        seed_set="baseline",
        meta_seed=None,
        n=n,
        allow_dirty=allow_dirty,
        home=home,
        on_plan=on_plan,
        on_run=on_run,
    )
    ok_ids = tuple(r.id for r in report.ok_runs)
    if not ok_ids:
        raise ApiError(
            f"{project}/{benchmark}: none of the {len(report.runs)} baseline repetition(s) "
            "succeeded; the baseline was not set (see `bench history` for the errors)"
        )
    with Store.open(home) as store:
        event = store.set_baseline(
            project,
            benchmark,
            git_sha=report.git_sha,
            meta_seed=None,
            run_ids=ok_ids,
            action="establish",
            notes=notes,
        )
    return DispatchReport(
        project=report.project,
        benchmark=report.benchmark,
        git_sha=report.git_sha,
        git_dirty=report.git_dirty,
        meta_seed=report.meta_seed,
        seed_set=report.seed_set,
        runs=report.runs,
        baseline=event,
    )


def _dispatch(
    project: str,
    benchmark: str,
    *,
    seed_set: str,
    meta_seed: int | None,
    n: int | None,
    allow_dirty: bool,
    home: Path | None,
    on_plan: PlanCallback | None,
    on_run: RunCallback | None,
) -> DispatchReport:
    with Store.open(home) as store:
        context = load_project(store, project)
        spec = context.benchmark(benchmark)
        plan = plan_dispatch(
            store,
            context.manifest,
            spec,
            root=context.root,
            project=context.name,
            seed_set=seed_set,
            count=n,
            meta_seed=meta_seed,
            allow_dirty=allow_dirty,
        )
        if on_plan is not None:
            on_plan(plan)
        dispatch = run_dispatch(
            store, context.manifest, spec, plan, root=context.root, on_run=on_run
        )
    return DispatchReport(
        project=context.name,
        benchmark=spec.name,
        git_sha=plan.git_sha,
        git_dirty=plan.git_dirty,
        meta_seed=plan.meta_seed,
        seed_set=plan.seed_set,
        runs=dispatch.runs,
    )
