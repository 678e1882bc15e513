"""The Slurm executor, submitter side: one job array per dispatch, then ingest.

The dispatch is planned and admitted exactly as a local one (provenance, corpus, seeds,
the job record). Then the record is given the job's nonce — before anything can run, so
the secret that validates the bundles lives on the submit host whatever happens next —
the spool gets the node spec, and ``sbatch`` submits one array task per entry of the
task layout. A foreground dispatch then polls: it asks Slurm for the task states, ingests
every bundle that appeared (:mod:`benchstone.api._ingest`) and reports progress, until
every repetition has its row. A side-by-side dispatch (``plan.window``) is one task on
one exclusive node with its baseline worktree in the spool (:mod:`api._slurm_window`).
Killing it loses nothing: the job goes on on the cluster
and the next `bench status` ingests what it finished.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchstone.api._batch import DispatchPlan
from benchstone.api._errors import ApiError
from benchstone.api._ingest import Ingest, ingest
from benchstone.api._job_files import Job, JobFiles
from benchstone.api._job_process import finish
from benchstone.api._node_spec import (
    NodeSpec,
    job_directory,
    make_job_directory,
    record_layout,
    slurm_job_name,
    task_layout,
    write_job_files,
)
from benchstone.api._sidebyside import BASELINE, CANDIDATE, Arm, build
from benchstone.api._slurm_window import (
    baseline_plan,
    prepare_baseline,
    remove_worktrees,
    window_layout,
)
from benchstone.api._types import DispatchReport
from benchstone.runner import (
    BenchmarkSpec,
    Manifest,
    RunnerError,
    SlurmOptions,
    SlurmSettings,
    harness_paths,
    new_nonce,
    submit_array,
)
from benchstone.store import Run, Store

ProgressCallback = Callable[[Ingest], None]


class LeftOnCluster(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) while waiting: the job goes on on the cluster, nothing is lost."""

    def __init__(self, job_id: str, slurm_job: str | None) -> None:
        super().__init__(
            f"job {job_id} (slurm job {slurm_job or '-'}) goes on on the cluster: "
            f"`bench status` ingests what it finishes, `bench cancel {job_id}` stops it"
        )


def slurm_settings(manifest: Manifest, spec: BenchmarkSpec) -> SlurmSettings:
    """The ``[slurm]`` table, or a one-line refusal naming what to add."""
    if spec.held_out:
        raise ApiError(
            f"{manifest.path}: benchmark {spec.name!r} is held out: its corpus lives in the "
            "store on this host, which no compute node may read; run it with --executor local"
        )
    if manifest.slurm is None:
        raise ApiError(
            f'{manifest.path}: benchmark {spec.name!r} runs with executor "slurm" but the '
            'manifest has no [slurm] table; add one with spool = "/shared/path" '
            "(docs/cluster.md), or run with --executor local"
        )
    return manifest.slurm


def slurm_record(
    manifest: Manifest,
    spec: BenchmarkSpec,
    plan: DispatchPlan,
    *,
    repository: Path,
    checkout: Path | None = None,
) -> dict[str, Any]:
    """What the job record keeps for ingesting: spool, nonce, task layout, metric source.

    ``slurm_job`` is filled in once sbatch has answered; a window's ``baseline_root`` and
    ``baseline_plan`` once its worktree is made. ``checkout`` is an --at-sha worktree in
    the spool, removed with the job; ``repository`` is the project's git checkout. A
    window is one task on an exclusive node whatever ``repetitions_per_task`` and
    ``exclusive`` say.
    """
    settings = slurm_settings(manifest, spec)
    if plan.window is not None:
        layout = window_layout(plan.window, plan.seeds)
    else:
        layout = task_layout(
            range(len(plan.seeds)), plan.seeds, per_task=settings.repetitions_per_task
        )
    record: dict[str, Any] = {
        "spool": str(settings.spool),
        "nonce": new_nonce(),
        "slurm_job": None,
        "tasks": [[slot.index for slot in task] for task in layout],
        "seeds": [[slot.seed for slot in task] for task in layout],
        "metric_source": spec.metric_source,
        "output_reference": spec.output_reference,
        "exclusive": settings.exclusive or plan.window is not None,
        "cancelled": False,
        "repository": str(repository),
    }
    if checkout is not None:
        record["checkout_root"] = str(checkout)
    if plan.window is not None:
        record["arms"] = [[slot.arm for slot in task] for task in layout]
    return record


def submit(
    store: Store,
    manifest: Manifest,
    spec: BenchmarkSpec,
    plan: DispatchPlan,
    record: Job,
    *,
    root: Path,
) -> Job:
    """Write the job's spool files and sbatch its array; the record with the Slurm id."""
    settings = slurm_settings(manifest, spec)
    files = JobFiles(store.paths.jobs)
    info: Mapping[str, Any] = record.slurm or {}
    layout = record_layout(info)
    node_spec = NodeSpec(
        job=record.id,
        project=plan.project,
        benchmark=plan.benchmark,
        root=str(root),
        manifest_hash=manifest.hash,
        git_sha=plan.git_sha,
        git_dirty=plan.git_dirty,
        total=len(plan.seeds),
        hidden=tuple(str(p) for p in harness_paths(store.paths.home)),
        tasks=layout,
    )
    lock = store.lock_event(plan.lock_id) if plan.lock_id is not None else None
    if lock is not None:
        node_spec = replace(node_spec, lock_digest=lock.digest, lock_files=dict(lock.files))
    extra = list(settings.extra_args)
    if spec.gpu != "none":
        extra.append("--gpus-per-task=1")
    options = SlurmOptions(
        partition=settings.partition,
        account=settings.account,
        time_limit=settings.time_limit,
        extra_args=tuple(extra),
        exclusive=bool(info.get("exclusive")),
        one_node=True,
        max_parallel=settings.max_parallel if plan.window is None else None,
        job_name=slurm_job_name(record.id),
        cpus_per_task=spec.threads,
    )
    try:
        directory = make_job_directory(job_directory(settings.spool, record.id))
        if plan.window is not None:
            assert lock is not None  # a window is planned from the baseline pointer, locked
            baseline = prepare_baseline(store, lock, manifest, plan, root=root, directory=directory)
            info = {**info, **baseline}
            with files.locked():
                files.update(record.id, slurm=dict(info))  # before sbatch: never orphaned
            _build_arms(store, manifest, spec, plan, info, root=root)
            node_spec = replace(
                node_spec,
                window=plan.window,
                baseline_root=baseline["baseline_root"],
                baseline_sha=plan.baseline_sha,
            )
        spec_path = write_job_files(directory, node_spec, str(info["nonce"]))
        job = submit_array(
            [sys.executable, "-m", "benchstone.api._node_worker", str(spec_path), "{task}"],
            len(layout),
            workdir=directory,
            options=options,
        )
    except BaseException as exc:
        remove_worktrees(info, root)
        if isinstance(exc, ApiError | RunnerError):
            finish(files, record.id, state="failed", message=str(exc))
        raise
    with files.locked():
        return files.update(record.id, slurm={**info, "slurm_job": job.job_id})


def _build_arms(
    store: Store,
    manifest: Manifest,
    spec: BenchmarkSpec,
    plan: DispatchPlan,
    info: Mapping[str, Any],
    *,
    root: Path,
) -> None:
    """``project.setup`` in both arms' checkouts, here, before the window is submitted.

    Both checkouts are on the shared filesystem (the project's and the spool's baseline
    worktree), so what setup builds on the submit host is what the node runs — untimed,
    logged in the store, once per checkout, as in a local window.
    """
    baseline_root = Path(str(info["baseline_root"]))
    baseline = baseline_plan(info, str(baseline_root))
    assert baseline is not None
    build(
        store,
        manifest,
        spec,
        (
            Arm(CANDIDATE, root, plan),
            Arm(BASELINE, baseline_root, baseline, reachable=(baseline_root,)),
        ),
        project_root=root,
    )


def wait(
    store: Store,
    job_id: str,
    *,
    poll_seconds: float,
    on_run: Callable[[Run], None] | None = None,
    on_progress: ProgressCallback | None = None,
) -> DispatchReport:
    """Ingest until every repetition of ``job_id`` has its row; the finished report."""
    last: Mapping[str, int] | None = None
    slurm_job = None
    try:
        while True:
            result = ingest(store, job_id)
            slurm_job = result.slurm_job
            if on_run is not None:
                for run in result.runs:
                    on_run(run)
            if on_progress is not None and (result.counts != last or result.runs):
                on_progress(result)
                last = result.counts
            if result.failure is not None:
                raise ApiError(result.failure)
            if result.report is not None:
                return result.report
            time.sleep(poll_seconds)
    except KeyboardInterrupt as exc:
        raise LeftOnCluster(job_id, slurm_job) from exc
