"""Jobs: the record around every dispatch, background workers, and `bench status`.

Every `bench run` / `bench baseline establish` is admitted by the scheduler before its first
repetition and leaves a job record: a foreground one is ``running`` under the calling
process, a background one is ``queued`` until its detached worker takes it over. The rows
a job appends carry its id, so `bench status` can say how far a job got even when its
process was killed between two updates of the record.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from benchstone.api._batch import DispatchPlan
from benchstone.api._errors import ApiError
from benchstone.api._job_files import (
    Job,
    JobFiles,
    current_process,
    live_state,
    new_job_id,
    now_utc,
    validate_job_id,
)
from benchstone.api._job_process import finish, hand_over, plan_to_dict, spawn_worker
from benchstone.api._scheduler import admit, claim_of, host_budget
from benchstone.api._types import DispatchReport
from benchstone.runner import BenchmarkSpec, RunnerError
from benchstone.store import ReadOnlyStore, Store, StoreError, StorePaths, home_dir, settings

#: The hidden command a worker runs: `bench _worker JOB_ID`.


@dataclass(frozen=True)
class JobInfo:
    """A job as `bench status` shows it; ``state`` is ``stale`` when its process is gone."""

    id: str
    kind: str  # run | establish
    project: str
    benchmark: str
    state: str  # queued | running | done | failed | stale
    background: bool
    pid: int | None
    threads: int
    gpus: int
    total: int
    run_ids: tuple[int, ...]
    created_at: str
    started_at: str | None
    finished_at: str | None
    git_sha: str | None
    git_dirty: bool | None
    at_sha: str | None
    message: str | None
    log_path: str | None
    executor: str = "local"
    #: The Slurm job id and its array tasks' states, counted (slurm executor only).
    slurm_job: str | None = None
    task_states: Mapping[str, int] = field(default_factory=dict)

    @property
    def progress(self) -> str:
        """``k/n``: repetitions recorded so far out of those planned."""
        return f"{len(self.run_ids)}/{self.total}"

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "project": self.project,
            "benchmark": self.benchmark,
            "state": self.state,
            "background": self.background,
            "pid": self.pid,
            "threads": self.threads,
            "gpus": self.gpus,
            "total": self.total,
            "done_runs": len(self.run_ids),
            "progress": self.progress,
            "run_ids": list(self.run_ids),
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "git_sha": self.git_sha,
            "git_dirty": self.git_dirty,
            "at_sha": self.at_sha,
            "message": self.message,
            "log_path": self.log_path,
            "executor": self.executor,
            "slurm_job": self.slurm_job,
            "task_states": dict(self.task_states),
        }


@dataclass(frozen=True, kw_only=True)
class BackgroundDispatch(DispatchReport):
    """A dispatch handed to a background worker: the plan is known, the runs are to come.

    ``runs`` is empty; ``job`` says where to follow it (`bench status`, the log).
    """

    job: JobInfo

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["background"] = True
        data["job"] = self.job.to_dict()
        return data


def jobs(*, include_finished: bool = False, home: Path | None = None) -> list[JobInfo]:
    """Queued, running and stale jobs (every job with ``include_finished``), newest first.

    Read-only: a store that does not exist yet has no jobs, and none is created.
    """
    directory = _jobs_directory(home)
    if not directory.is_dir():
        return []
    files = JobFiles(directory)
    with files.locked(shared=True):
        records = files.unfinished()
    if include_finished:
        # Finished records never change, so they are read without holding the lock; a job
        # that finished since the unfinished ones were read shows with its final state.
        done = {record.id: record for record in files.finished()}
        records = [done.pop(record.id, record) for record in records] + list(done.values())
    records.sort(key=lambda record: (record.created_at, record.id), reverse=True)
    return _with_progress(records, home)


def job(job_id: str, *, home: Path | None = None) -> JobInfo:
    """One job by id, finished or not."""
    validate_job_id(job_id)
    directory = _jobs_directory(home)
    record = None
    if directory.is_dir():
        files = JobFiles(directory)
        with files.locked(shared=True):
            record = files.load(job_id)
    if record is None:
        raise ApiError(f"no job {job_id} in {directory} (see `bench status --all`)")
    return _with_progress([record], home)[0]


def prune_jobs(*, home: Path | None = None) -> list[JobInfo]:
    """Forget finished and stale jobs: their records and logs go, their runs stay.

    Job files are harness bookkeeping, not the append-only store: the rows a job appended
    keep its id and remain in `bench history`. Queued and running jobs are kept. Returns
    the jobs forgotten, newest first.
    """
    directory = _jobs_directory(home)
    if not directory.is_dir():
        return []
    files = JobFiles(directory)
    with files.locked():
        gone = files.finished() + [r for r in files.unfinished() if live_state(r) == "stale"]
        forgotten = _with_progress(gone, home)  # a stale job's runs come from the store
        for record in gone:
            files.forget(record)
    forgotten.sort(key=lambda info: (info.created_at, info.id), reverse=True)
    return forgotten


def check_mode(spec: BenchmarkSpec, project: str, *, background: bool, at_sha: str | None) -> bool:
    """Whether the dispatch runs in the background: as asked, or because the manifest says
    ``background_required = true`` (SPEC: such a benchmark always dispatches as a job).

    ``--at-sha`` runs in a temporary worktree that cannot outlive the command, so a
    benchmark that must run in the background cannot be measured that way.
    """
    if not spec.background_required:
        return background
    if at_sha is not None:
        raise ApiError(
            f"benchmark '{spec.name}' of project '{project}' sets background_required = true "
            f"in its manifest at {at_sha[:10]}, but --at-sha runs only in the foreground; "
            f"check out that commit and run `bench baseline establish {project} {spec.name}` "
            "instead"
        )
    return True


def admit_job(
    store: Store,
    *,
    kind: str,
    spec: BenchmarkSpec,
    plan: DispatchPlan,
    root: Path,
    manifest_hash: str,
    background: bool,
    options: dict[str, Any],
    slurm: dict[str, Any] | None = None,
) -> Job:
    """Claim the benchmark's threads and GPU for a new job, or refuse (over-commit).

    The record names this process until a worker takes it over, so a dispatcher that dies
    in between leaves a stale record rather than a claim nobody holds. With ``slurm`` (the
    executor's ingest data) the job claims nothing here and is ``running`` at once: the
    cluster carries it, in the background or not.
    """
    threads, gpus = claim_of(spec)
    pid, started = current_process()
    created = now_utc()
    record = Job(
        id=new_job_id(),
        kind=kind,
        project=plan.project,
        benchmark=plan.benchmark,
        root=str(root),
        background=background,
        threads=threads,
        gpus=gpus,
        total=plan.repetitions,
        created_at=created,
        state="queued" if background and slurm is None else "running",
        pid=pid,
        pid_started=started,
        started_at=None if background and slurm is None else created,
        plan=plan_to_dict(plan),
        options=options,
        manifest_hash=manifest_hash,
        executor="local" if slurm is None else "slurm",
        slurm=slurm,
    )
    files = JobFiles(store.paths.jobs)
    if background and slurm is None:
        record = replace(record, log_path=str(files.log_path(record.id)))
    return admit(files, record, host_budget())


def start_background(store: Store, record: Job) -> JobInfo:
    """Start the detached worker for a queued job; returns at once."""
    files = JobFiles(store.paths.jobs)
    env = dict(os.environ)
    env.update(settings())  # the harness's own settings, sealed from its environment
    env["BENCHSTONE_HOME"] = str(store.paths.home)
    log_path = Path(record.log_path) if record.log_path else files.log_path(record.id)
    try:
        pid = spawn_worker(
            [sys.executable, "-m", "benchstone.api._job_worker", record.id],
            log_path=log_path,
            env=env,
        )
    except RunnerError as exc:
        finish(files, record.id, state="failed", message=str(exc))
        raise
    current = hand_over(files, record.id, pid) or record
    return replace(_info(current, current.run_ids), pid=pid)


def dispatch_summary(report: DispatchReport) -> str:
    """The outcome line a finished job keeps."""
    if report.baseline is not None:
        return (
            f"baseline set: {report.project}/{report.benchmark} -> "
            f"{report.baseline.git_sha[:10]} ({len(report.baseline.run_ids)} run(s))"
        )
    errors = len(report.runs) - len(report.ok_runs)
    return f"{len(report.ok_runs)} ok, {errors} error run(s) at {report.git_sha[:10]}"


def _jobs_directory(home: Path | None) -> Path:
    root = Path(home).expanduser().absolute() if home is not None else home_dir()
    return StorePaths(root).jobs


def _with_progress(records: list[Job], home: Path | None) -> list[JobInfo]:
    """Attach run ids; for unfinished jobs they come from the store's rows (the truth)."""
    pending = [record for record in records if not record.finished]
    found: dict[str, list[int]] = {}
    if pending:
        found = _rows_by_job(pending, home)
    return [
        _info(record, record.run_ids if record.finished else tuple(found.get(record.id, ())))
        for record in records
    ]


def _rows_by_job(records: list[Job], home: Path | None) -> dict[str, list[int]]:
    try:
        store = ReadOnlyStore.open(home)
    except StoreError:
        return {}
    found: dict[str, list[int]] = {}
    wanted = {record.id for record in records}
    with store:
        earliest: dict[tuple[str, str], str] = {}
        for record in records:
            key = (record.project, record.benchmark)
            earliest[key] = min(earliest.get(key, record.created_at), record.created_at)
        for (project, benchmark), since in sorted(earliest.items()):
            for run in store.runs(project, benchmark, since=since, newest_first=False):
                if run.job_id in wanted:
                    found.setdefault(run.job_id, []).append(run.id)
    return found


def _info(record: Job, run_ids: tuple[int, ...] | list[int]) -> JobInfo:
    plan = record.plan
    return JobInfo(
        id=record.id,
        kind=record.kind,
        project=record.project,
        benchmark=record.benchmark,
        state=live_state(record),
        background=record.background,
        pid=record.pid,
        threads=record.threads,
        gpus=record.gpus,
        total=record.total,
        run_ids=tuple(run_ids),
        created_at=record.created_at,
        started_at=record.started_at,
        finished_at=record.finished_at,
        git_sha=plan.get("git_sha"),
        git_dirty=plan.get("git_dirty"),
        at_sha=record.options.get("at_sha"),
        message=record.message,
        log_path=record.log_path,
        executor=record.executor,
        slurm_job=(record.slurm or {}).get("slurm_job"),
    )
