"""Dispatching repetitions: `bench run` and `bench baseline establish`.

Every dispatch is planned here, in the calling process (dirty-tree refusal, corpus check,
seeds), so a refusal is an immediate error whether or not it then runs in the background.
The scheduler admits it (thread and GPU budget) before the first repetition; a foreground
dispatch then runs under its own job record, a background one is handed to a worker.
With the Slurm executor the repetitions are submitted as one job array instead, and a
foreground dispatch waits and ingests their bundles (api._slurm_executor); a side-by-side
window there is one task on one exclusive node, its baseline worktree in the job's spool
directory (api._slurm_window).
``at_sha`` runs in a temporary git worktree of that commit, with that commit's manifest
(on Slurm, in the spool, removed with the job).
A run of a side-by-side benchmark (measurement = "side_by_side", with a baseline
pointer) plans one window: the baseline pointer's commit is measured next to the checkout
(api._sidebyside), and ``until_decided`` grows that window stage by stage (api._until).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

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
from benchstone.api._lock import check_drift, require_lock
from benchstone.api._report import dispatch_report
from benchstone.api._sidebyside import (
    CANDIDATE,
    Arm,
    build,
    locked_worktree,
    new_window,
    open_locked_worktree,
    run_pairs,
    window_arms,
)
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
    load_manifest,
    remove_worktree,
    resolve_sha,
)
from benchstone.store import LockEvent, Run, Store

if TYPE_CHECKING:
    from benchstone.api._until import Stages

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
    until_decided: bool = False,
    max_repetitions: int | None = None,
    home: Path | None = None,
    on_plan: PlanCallback | None = None,
    on_run: RunCallback | None = None,
    on_progress: ProgressCallback | None = None,
) -> DispatchReport:
    """Run a benchmark's repetitions at the project's current SHA; one row each.

    A side-by-side benchmark with a baseline pointer runs ``n`` pairs (local executor):
    each repetition of the checkout next to one of the pointer's commit, in one window.
    ``until_decided`` adds pairs stage by stage until the verdict is PROMOTE or REJECT or
    ``max_repetitions`` pairs ran (the report's ``decision``).

    With ``background`` (or a benchmark with ``background_required = true``) the
    repetitions run in a detached worker and the call returns at once with a
    :class:`BackgroundDispatch` (no runs yet; its ``job`` says where to look).
    ``checkout`` measures the HEAD of that git worktree of the project instead of the
    registered root (same refusals: dirty tree, evaluator drift, corpus).
    ``executor`` (``local`` or ``slurm``) overrides the manifest's; with slurm the
    repetitions are one job array and ``on_progress`` hears of each ingest pass.
    """
    if max_repetitions is not None and not until_decided:
        raise ApiError("--max-repetitions is the budget of --until-decided; pass both")
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
        until_decided=until_decided,
        max_repetitions=max_repetitions,
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
    move the pointer the same way. A side-by-side plan runs its pairs in its window.
    """
    if plan.window is not None:
        with window_arms(store, manifest, spec, plan, root=root) as arms:
            runs = run_pairs(
                store,
                manifest,
                spec,
                arms,
                window=plan.window,
                seeds=plan.seeds,
                pairs=range(len(plan.seeds)),
                job_id=job_id,
                on_run=on_run,
                corpus_from=root,
            )
            warmups = tuple(w for arm in arms.values() for w in arm.warmups)
    else:
        build(store, manifest, spec, (Arm(CANDIDATE, root, plan),), project_root=root)
        dispatch = run_dispatch(
            store, manifest, spec, plan, root=root, job_id=job_id, on_run=on_run
        )
        runs, warmups = list(dispatch.runs), dispatch.warmups
    return dispatch_report(store, plan, runs, kind=kind, notes=notes, warmups=warmups)


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
    until_decided: bool = False,
    max_repetitions: int | None = None,
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
        spool = None  # an --at-sha worktree on the cluster goes where its node can see it
        if at_sha is not None and executor != "local":
            listed = context.manifest.benchmark(benchmark)
            if (executor or listed.executor) == "slurm":
                spool = slurm_settings(context.manifest, listed).spool
        with _checkout(store, lock, context, at_sha, spool=spool) as (
            root,
            manifest,
            sha,
            state,
            adopt,
        ):
            spec = manifest.benchmark(benchmark)
            if kind == "establish" and spec.tier == "correctness":
                raise ApiError(
                    f"{context.name}/{spec.name} is a correctness benchmark: it is judged "
                    "against a frozen reference, not a baseline; use `bench run` and then "
                    "`bench freeze-reference`"
                )
            background = check_mode(spec, context.name, background=background, at_sha=sha)
            on_cluster = (executor or spec.executor) == "slurm"
            if on_cluster:
                slurm_settings(manifest, spec)  # refuse before planning, not after
                _local_only(manifest, spec)
            pointer = store.baseline(context.name, spec.name) if kind == "run" else None
            # On Slurm the window is one task on one exclusive node (api._slurm_window).
            side_by_side = spec.measurement == "side_by_side" and pointer is not None
            stages = None
            if until_decided:
                stages = _until_stages(
                    spec,
                    context.name,
                    pointer is not None,
                    background or on_cluster,
                    n,
                    max_repetitions,
                )
            plan = plan_dispatch(
                store,
                manifest,
                spec,
                root=root,
                project=context.name,
                seed_set=seed_set,
                count=stages.max_pairs if stages is not None else n,
                meta_seed=meta_seed,
                allow_dirty=allow_dirty,
                lock_id=lock.id,
                state=state,
            )
            if side_by_side:
                assert pointer is not None
                plan = replace(plan, window=new_window(), baseline_sha=pointer.git_sha)
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
                    "until_decided": until_decided,
                    "max_repetitions": max_repetitions,
                },
                slurm=(
                    slurm_record(
                        manifest,
                        spec,
                        plan,
                        repository=context.root,
                        checkout=root if spool is not None else None,
                    )
                    if on_cluster
                    else None
                ),
            )
            if on_cluster:
                if on_plan is not None:
                    on_plan(plan)
                record = submit(store, manifest, spec, plan, record, root=root)
                adopt()  # the job removes its --at-sha worktree once ingested
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
                if stages is not None:
                    from benchstone.api._until import run_until_decided  # gates: only here

                    runs, decision = run_until_decided(
                        store,
                        context,
                        manifest,
                        spec,
                        plan,
                        stages,
                        root=root,
                        allow_dirty=allow_dirty,
                        job_id=record.id,
                        on_run=on_run,
                    )
                    report = replace(
                        dispatch_report(store, plan, runs, kind=kind), decision=decision
                    )
                else:
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
        window=plan.window,
        baseline_sha=plan.baseline_sha,
        job=info,
    )


def _local_only(manifest: Manifest, spec: BenchmarkSpec) -> None:
    """Refuse hygiene keys the Slurm executor does not carry out, rather than ignore them.

    A node's CPUs are the scheduler's to give (``--exclusive``, ``--cpus-per-task``), and
    its tasks run measured repetitions only.
    """
    pinned = spec.cpu_affinity is not None or manifest.project.cpu_affinity is not None
    if spec.warmup_repetitions or pinned:
        key = "warmup_repetitions" if spec.warmup_repetitions else "cpu_affinity"
        raise ApiError(
            f"{manifest.path}: benchmark {spec.name!r}: key {key!r} applies to the local "
            'executor only; remove it for executor = "slurm" (pin with the [slurm] '
            "table's options instead), or dispatch with --executor local"
        )


@contextlib.contextmanager
def _checkout(
    store: Store,
    lock: LockEvent,
    context: ProjectContext,
    at_sha: str | None,
    *,
    spool: Path | None = None,
) -> Iterator[tuple[Path, Manifest, str | None, GitState | None, Callable[[], None]]]:
    """Where to run and with which manifest: the project's checkout, or a commit's worktree.

    A commit's worktree gets the locked evaluator written over it (the commit's own
    ``bench/``, if it has one, never runs), so its manifest is the locked one; its git
    state is read before that, since those files are not the commit's changes.

    The worktree is removed on every way out (an error, Ctrl-C). Messages that name a path
    inside it name ``<root>@<sha>`` instead, since the temporary path is gone by the time
    the user reads them. With ``spool`` (a Slurm dispatch) it is made in the spool, which
    the nodes see, and the last item yielded hands it to the job once submitted: from
    then on the job's ingest removes it, and an error or Ctrl-C here leaves it alone.
    """
    if at_sha is None:
        yield context.root, context.manifest, None, None, lambda: None
        return
    sha = resolve_sha(context.root, at_sha)
    if spool is None:
        with locked_worktree(store, lock, context.root, sha, hidden=False) as (path, state):
            yield path, _commit_manifest(context, path, sha), sha, state, lambda: None
        return
    try:
        spool.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ApiError(
            f"{spool}: cannot create the spool ({exc.strerror}); [slurm] spool must be a "
            "writable directory on the shared filesystem"
        ) from None
    path, state = open_locked_worktree(store, lock, context.root, sha, parent=spool)
    adopted: list[bool] = []
    try:
        yield path, _commit_manifest(context, path, sha), sha, state, lambda: adopted.append(True)
    finally:
        if not adopted:
            remove_worktree(context.root, path)


def _commit_manifest(context: ProjectContext, path: Path, sha: str) -> Manifest:
    """The (locked) manifest of the worktree of ``sha``; it must name the same project."""
    manifest = load_manifest(path)
    if manifest.project.name != context.name:
        raise ApiError(
            f"{context.root}@{sha[:10]}: bench/manifest.toml names project "
            f"'{manifest.project.name}', not '{context.name}'; --at-sha needs a commit "
            "of the same project"
        )
    return manifest


def _until_stages(
    spec: BenchmarkSpec,
    project: str,
    has_baseline: bool,
    elsewhere: bool,
    n: int | None,
    max_repetitions: int | None,
) -> Stages:
    """The stages of an --until-decided run, or the reason it cannot be one."""
    if elsewhere:
        raise ApiError(
            f"--until-decided decides in the foreground on this host, stage by stage; "
            f"{project}/{spec.name} would run in the background or on the cluster (drop "
            "--background / use --executor local; a benchmark with background_required = "
            "true cannot use --until-decided)"
        )
    if not has_baseline:
        raise ApiError(
            f"{project}/{spec.name} has no baseline pointer, so there is nothing to decide "
            f"against; run `bench baseline establish {project} {spec.name}` first"
        )
    from benchstone.api._until import plan_stages

    return plan_stages(spec, project, n=n, max_repetitions=max_repetitions)
