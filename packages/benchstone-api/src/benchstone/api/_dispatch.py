"""Dispatching repetitions: `bench run` and `bench baseline establish`.

Every dispatch is planned here, in the calling process (dirty-tree refusal, corpus check,
seeds), so a refusal is an immediate error whether or not it then runs in the background.
The scheduler admits it (thread and GPU budget) before the first repetition; a foreground
dispatch then runs under its own job record, a background one is handed to a worker.
With the Slurm executor the repetitions are submitted as one job array instead, and a
foreground dispatch waits and ingests their bundles (api._slurm_executor).
``at_sha`` runs in a temporary git worktree of that commit, with that commit's manifest.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from benchstone.api._batch import DispatchPlan, plan_dispatch, run_dispatch
from benchstone.api._context import ProjectContext, load_project
from benchstone.api._errors import ApiError
from benchstone.api._job_files import JobFiles
from benchstone.api._job_process import tracked
from benchstone.api._jobs import (
    BackgroundDispatch,
    JobInfo,
    admit_job,
    check_mode,
    dispatch_summary,
    job,
    start_background,
)
from benchstone.api._lock import check_drift, materialize, require_lock
from benchstone.api._report import dispatch_report
from benchstone.api._slurm_executor import (
    ProgressCallback,
    slurm_record,
    slurm_settings,
    submit,
    wait,
)
from benchstone.api._types import DispatchReport
from benchstone.runner import (
    EXECUTORS,
    BenchmarkSpec,
    GitState,
    Manifest,
    RunnerError,
    git_state,
    load_manifest,
    resolve_sha,
    worktree,
)
from benchstone.store import LockEvent, Run, Store

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
    background: bool = False,
    checkout: str | Path | None = None,
    executor: str | None = None,
    home: Path | None = None,
    on_plan: PlanCallback | None = None,
    on_run: RunCallback | None = None,
    on_progress: ProgressCallback | None = None,
) -> DispatchReport:
    """Run a benchmark's repetitions at the project's current SHA; one row each.

    With ``background`` (or a benchmark with ``background_required = true``) the
    repetitions run in a detached worker and the call returns at once with a
    :class:`BackgroundDispatch` (no runs yet; its ``job`` says where to look).
    ``checkout`` measures the HEAD of that git worktree of the project instead of the
    registered root (same refusals: dirty tree, evaluator drift, corpus).
    ``executor`` (``local`` or ``slurm``) overrides the manifest's; with slurm the
    repetitions are one job array and ``on_progress`` hears of each ingest pass.
    """
    return _dispatch(
        project,
        benchmark,
        kind="run",
        seed_set=seed_set,
        meta_seed=meta_seed,
        n=n,
        allow_dirty=allow_dirty,
        background=background,
        at_sha=None,
        notes=None,
        checkout=checkout,
        executor=executor,
        home=home,
        on_plan=on_plan,
        on_run=on_run,
        on_progress=on_progress,
    )


def establish_baseline(
    project: str,
    benchmark: str,
    *,
    n: int | None = None,
    notes: str | None = None,
    allow_dirty: bool = False,
    background: bool = False,
    at_sha: str | None = None,
    executor: str | None = None,
    home: Path | None = None,
    on_plan: PlanCallback | None = None,
    on_run: RunCallback | None = None,
    on_progress: ProgressCallback | None = None,
) -> DispatchReport:
    """Run the manifest's baseline seeds and point the baseline at those runs.

    ``at_sha`` measures that commit instead of the checkout, in a temporary worktree that
    is removed whatever happens; it cannot be combined with ``background``. A background
    establish moves the pointer when its worker finishes.
    """
    return _dispatch(
        project,
        benchmark,
        kind="establish",
        seed_set="baseline",
        meta_seed=None,
        n=n,
        allow_dirty=allow_dirty,
        background=background,
        at_sha=at_sha,
        notes=notes,
        checkout=None,
        executor=executor,
        home=home,
        on_plan=on_plan,
        on_run=on_run,
        on_progress=on_progress,
    )


def execute_plan(
    store: Store,
    manifest: Manifest,
    spec: BenchmarkSpec,
    plan: DispatchPlan,
    *,
    root: Path,
    kind: str,
    notes: str | None = None,
    job_id: str | None = None,
    on_run: RunCallback | None = None,
) -> DispatchReport:
    """Run a planned dispatch; for an establish, point the baseline at its ok runs.

    Shared by the foreground and the background worker, so both append the same rows and
    move the pointer the same way.
    """
    dispatch = run_dispatch(store, manifest, spec, plan, root=root, job_id=job_id, on_run=on_run)
    return dispatch_report(store, plan, dispatch.runs, kind=kind, notes=notes)


def _dispatch(
    project: str,
    benchmark: str,
    *,
    kind: str,
    seed_set: str,
    meta_seed: int | None,
    n: int | None,
    allow_dirty: bool,
    background: bool,
    at_sha: str | None,
    notes: str | None,
    checkout: str | Path | None,
    executor: str | None,
    home: Path | None,
    on_plan: PlanCallback | None,
    on_run: RunCallback | None,
    on_progress: ProgressCallback | None,
) -> DispatchReport:
    if executor is not None and executor not in EXECUTORS:
        raise ApiError(
            f"executor {executor!r} is not known; use one of " + ", ".join(map(repr, EXECUTORS))
        )
    if background and at_sha is not None:
        raise ApiError(
            "--at-sha runs in a temporary git worktree that is removed when the command "
            "ends, so it cannot run in the background; drop --background"
        )
    with Store.open(home) as store:
        context = load_project(store, project, checkout=checkout)
        lock = require_lock(store, context.name, context.root)
        if at_sha is None:
            check_drift(store, lock, context.root, context.manifest)
        with _checkout(store, lock, context, at_sha) as (root, manifest, sha, state):
            spec = manifest.benchmark(benchmark)
            if kind == "establish" and spec.tier == "correctness":
                raise ApiError(
                    f"{context.name}/{spec.name} is a correctness benchmark: it is judged "
                    "against a frozen reference, not a baseline; use `bench run` and then "
                    "`bench freeze-reference`"
                )
            background = check_mode(spec, context.name, background=background, at_sha=sha)
            on_cluster = (executor or spec.executor) == "slurm"
            if on_cluster and at_sha is not None:
                raise ApiError(
                    "--at-sha measures a temporary git worktree on this host, which the "
                    "cluster's nodes cannot see; check out that commit in the shared checkout "
                    "and dispatch without --at-sha, or use --executor local"
                )
            if on_cluster:
                slurm_settings(manifest, spec)  # refuse before planning, not after
            plan = plan_dispatch(
                store,
                manifest,
                spec,
                root=root,
                project=context.name,
                seed_set=seed_set,
                count=n,
                meta_seed=meta_seed,
                allow_dirty=allow_dirty,
                lock_id=lock.id,
                state=state,
            )
            record = admit_job(
                store,
                kind=kind,
                spec=spec,
                plan=plan,
                root=root,
                manifest_hash=manifest.hash,
                background=background,
                options={
                    "seed_set": seed_set,
                    "meta_seed": meta_seed,
                    "n": n,
                    "allow_dirty": allow_dirty,
                    "notes": notes,
                    "at_sha": sha,
                    "checkout": str(context.checkout) if context.checkout else None,
                },
                slurm=slurm_record(manifest, spec, plan) if on_cluster else None,
            )
            if on_cluster:
                if on_plan is not None:
                    on_plan(plan)
                record = submit(store, manifest, spec, plan, record, root=root)
                if background:
                    return _handed_over(plan, job(record.id, home=store.paths.home))
                return wait(
                    store,
                    record.id,
                    poll_seconds=slurm_settings(manifest, spec).poll_seconds,
                    on_run=on_run,
                    on_progress=on_progress,
                )
            if background:
                return _handed_over(plan, start_background(store, record))
            with tracked(JobFiles(store.paths.jobs), record.id) as outcome:
                if on_plan is not None:
                    on_plan(plan)
                report = execute_plan(
                    store,
                    manifest,
                    spec,
                    plan,
                    root=root,
                    kind=kind,
                    notes=notes,
                    job_id=record.id,
                    on_run=on_run,
                )
                outcome.message = dispatch_summary(report)
                outcome.run_ids = tuple(r.id for r in report.runs)
            return report


def _handed_over(plan: DispatchPlan, info: JobInfo) -> BackgroundDispatch:
    """The report of a dispatch that goes on elsewhere (a worker, or the cluster)."""
    return BackgroundDispatch(
        project=plan.project,
        benchmark=plan.benchmark,
        git_sha=plan.git_sha,
        git_dirty=plan.git_dirty,
        meta_seed=plan.meta_seed,
        seed_set=plan.seed_set,
        runs=(),
        job=info,
    )


@contextlib.contextmanager
def _checkout(
    store: Store, lock: LockEvent, context: ProjectContext, at_sha: str | None
) -> Iterator[tuple[Path, Manifest, str | None, GitState | None]]:
    """Where to run and with which manifest: the project's checkout, or a commit's worktree.

    A commit's worktree gets the locked evaluator written over it (the commit's own
    ``bench/``, if it has one, never runs), so its manifest is the locked one; its git
    state is read before that, since those files are not the commit's changes.

    The worktree is removed on every way out (an error, Ctrl-C). Messages that name a path
    inside it name ``<root>@<sha>`` instead, since the temporary path is gone by the time
    the user reads them.
    """
    if at_sha is None:
        yield context.root, context.manifest, None, None
        return
    sha = resolve_sha(context.root, at_sha)
    with worktree(context.root, sha) as path:
        try:
            state = git_state(path)
            materialize(store, lock, path)
            manifest = load_manifest(path)
            if manifest.project.name != context.name:
                raise ApiError(
                    f"{context.root}@{sha[:10]}: bench/manifest.toml names project "
                    f"'{manifest.project.name}', not '{context.name}'; --at-sha needs a commit "
                    "of the same project"
                )
            yield path, manifest, sha, state
        except (ApiError, RunnerError) as exc:
            text = str(exc).replace(str(path), f"{context.root}@{sha[:10]}")
            if text == str(exc):
                raise
            raise type(exc)(text) from None
