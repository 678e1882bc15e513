"""Scheduler admission: a job starts only if the host has the threads and GPUs it claims.

Two benchmarks sharing cores measure each other, not the code under test; a timing gate
fed by over-committed runs sees noise and drift that no statistic can remove. So every
dispatch, foreground or background, claims its benchmark's ``threads`` (and one GPU when
``gpu != "none"``) and is refused when the claims of the jobs still alive plus its own
would exceed the budget. The check and the writing of the new record happen under one
exclusive lock, so two concurrent dispatches cannot both squeeze into the last free slot.

The budget is ``BENCHSTONE_MAX_THREADS`` (default: the host's logical CPU count) and
``BENCHSTONE_GPU_COUNT`` (default 0: GPUs are not detected, so a GPU benchmark needs the
variable set to run at all).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import psutil

from benchstone.api._errors import ApiError
from benchstone.api._job_files import LIVE_STATES, Job, JobFiles, live_state
from benchstone.runner import BenchmarkSpec
from benchstone.store import settings

THREADS_VARIABLE = "BENCHSTONE_MAX_THREADS"
GPUS_VARIABLE = "BENCHSTONE_GPU_COUNT"
_LISTED_JOBS = 5


@dataclass(frozen=True)
class Budget:
    """What the host offers to benchmarks at once, and where each number came from."""

    threads: int
    gpus: int
    threads_from_env: bool = True
    gpus_from_env: bool = True

    def describe_threads(self) -> str:
        text = f"{THREADS_VARIABLE}={self.threads}"
        return text if self.threads_from_env else f"{text} (unset: the host's CPU count)"

    def describe_gpus(self) -> str:
        text = f"{GPUS_VARIABLE}={self.gpus}"
        return text if self.gpus_from_env else f"{text} (unset: GPUs are not detected)"

    def to_dict(self) -> dict[str, object]:
        return {
            "threads": self.threads,
            "gpus": self.gpus,
            "threads_from_env": self.threads_from_env,
            "gpus_from_env": self.gpus_from_env,
        }


def host_budget(environ: Mapping[str, str] | None = None) -> Budget:
    """The budget from the environment, defaulting to the host's CPU count and no GPU."""
    env = settings() if environ is None else environ
    threads = _read_count(env, THREADS_VARIABLE, minimum=1)
    gpus = _read_count(env, GPUS_VARIABLE, minimum=0)
    return Budget(
        threads=threads if threads is not None else max(1, psutil.cpu_count() or 1),
        gpus=gpus if gpus is not None else 0,
        threads_from_env=threads is not None,
        gpus_from_env=gpus is not None,
    )


def _read_count(env: Mapping[str, str], name: str, *, minimum: int) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw, 10)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise ApiError(
            f"environment variable {name}={raw!r} is not valid; set it to an integer >= "
            f"{minimum} or unset it"
        )
    return value


def claim_of(spec: BenchmarkSpec) -> tuple[int, int]:
    """(threads, gpus) one repetition of ``spec`` holds while it runs."""
    return spec.threads, 0 if spec.gpu == "none" else 1


def live_jobs(files: JobFiles) -> list[Job]:
    """Local jobs whose process is alive: the ones that hold their claims right now.

    A Slurm job claims nothing here: its repetitions run on the cluster's nodes, where
    Slurm itself admits them (``--cpus-per-task``).
    """
    return [
        job
        for job in files.unfinished()
        if job.executor == "local" and live_state(job) in LIVE_STATES
    ]


def admit(files: JobFiles, job: Job, budget: Budget) -> Job:
    """Record ``job`` if its claim fits beside the live jobs' claims; refuse it otherwise."""
    with files.locked():
        if job.executor == "local":
            _check(job, live_jobs(files), budget)
        return files.create(job)


def _check(job: Job, live: list[Job], budget: Budget) -> None:
    name = f"{job.project}/{job.benchmark}"
    if job.threads > budget.threads:
        raise ApiError(
            f"{name} needs {job.threads} thread(s) but {budget.describe_threads()} allows at "
            f"most {budget.threads}; set {THREADS_VARIABLE}={job.threads} (or more) to allow it"
        )
    if job.gpus > budget.gpus:
        raise ApiError(
            f"{name} needs {job.gpus} GPU(s) but {budget.describe_gpus()} allows "
            f"{budget.gpus}; set {GPUS_VARIABLE} to the number of GPUs this host has"
        )
    free_threads = budget.threads - sum(other.threads for other in live)
    if job.threads > free_threads:
        raise ApiError(
            f"{name} needs {job.threads} thread(s) but only {max(free_threads, 0)} of "
            f"{budget.describe_threads()} are free (jobs: {_describe(live)}); wait for them "
            "(`bench status`) or raise the budget"
        )
    free_gpus = budget.gpus - sum(other.gpus for other in live)
    if job.gpus > free_gpus:
        holders = [other for other in live if other.gpus]
        raise ApiError(
            f"{name} needs {job.gpus} GPU(s) but only {max(free_gpus, 0)} of "
            f"{budget.describe_gpus()} are free (jobs: {_describe(holders)}); wait for them "
            "(`bench status`) or raise the budget"
        )


def _describe(jobs: list[Job]) -> str:
    if not jobs:
        return "none"
    shown = [
        f"{job.id} {job.project}/{job.benchmark} {job.threads} thread(s)"
        + (f" {job.gpus} GPU(s)" if job.gpus else "")
        + f" pid {job.pid}"
        for job in jobs[:_LISTED_JOBS]
    ]
    more = len(jobs) - _LISTED_JOBS
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")
