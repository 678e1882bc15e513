"""`bench status` and `bench cancel`: the job list, with Slurm jobs ingested first.

Listing a Slurm job is also the moment to ingest it: the submitter may be gone (killed,
or it was a ``--background`` dispatch), and the store has one writer — whoever looks. So
before listing, every unfinished Slurm job gets one ingest pass; its task states come
back on the listing. Cancelling goes through ``scancel`` for a Slurm job and SIGTERM for a
local job's process (which ends the repetition's tree and closes the record itself).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import replace
from pathlib import Path

from benchstone.api._errors import ApiError
from benchstone.api._ingest import ingest
from benchstone.api._job_files import JobFiles, live_state, validate_job_id
from benchstone.api._job_process import finish
from benchstone.api._jobs import JobInfo, job, jobs
from benchstone.runner import RunnerError, cancel_slurm_job
from benchstone.store import Store, StoreError, StorePaths, home_dir

#: How long `bench cancel` waits for the job to wind down before it reports.
CANCEL_PATIENCE_SECONDS = 60.0
_POLL_SECONDS = 0.5


def status(*, include_finished: bool = False, home: Path | None = None) -> list[JobInfo]:
    """Ingest what unfinished Slurm jobs finished, then list jobs as :func:`jobs` does."""
    files = _files(home)
    states: dict[str, dict[str, int]] = {}
    problems: dict[str, str] = {}
    if files.directory.is_dir():
        with files.locked(shared=True):
            pending = [r.id for r in files.unfinished() if r.executor == "slurm"]
        if pending:
            with Store.open(home) as store:
                for job_id in pending:
                    try:
                        states[job_id] = dict(ingest(store, job_id).counts)
                    except (ApiError, RunnerError, StoreError) as exc:
                        problems[job_id] = f"ingest failed: {exc}"
    found = jobs(include_finished=include_finished, home=home)
    return [
        replace(
            info,
            task_states=states.get(info.id, {}),
            message=problems.get(info.id, info.message),
        )
        for info in found
    ]


def cancel(job_id: str, *, home: Path | None = None) -> JobInfo:
    """Cancel an unfinished job: scancel a Slurm job, SIGTERM a local job's process.

    A Slurm job's repetitions that finished keep their rows (ingested here); the others
    become error rows saying they were cancelled, and the record is closed.
    """
    validate_job_id(job_id)
    files = _files(home)
    with files.locked(shared=True):
        record = files.load(job_id) if files.directory.is_dir() else None
    if record is None:
        raise ApiError(f"no job {job_id} in {files.directory} (see `bench status --all`)")
    if record.finished:
        raise ApiError(f"job {job_id} is already {record.state}; nothing to cancel")
    deadline = time.monotonic() + CANCEL_PATIENCE_SECONDS
    if record.executor == "slurm":
        slurm = dict(record.slurm or {})
        if slurm.get("slurm_job"):
            cancel_slurm_job(str(slurm["slurm_job"]))
        with files.locked():
            files.update(job_id, slurm={**slurm, "cancelled": True})
        with Store.open(home) as store:
            while True:
                result = ingest(store, job_id)
                if result.report is not None or result.failure is not None:
                    break
                if time.monotonic() > deadline:
                    break
                time.sleep(_POLL_SECONDS)
        return job(job_id, home=home)
    if live_state(record) != "stale" and record.pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(record.pid, signal.SIGTERM)
        while time.monotonic() < deadline:
            current = files.load(job_id)
            if current is None or current.finished or live_state(current) == "stale":
                break
            time.sleep(_POLL_SECONDS)
    current = files.load(job_id)
    if current is not None and not current.finished:
        finish(files, job_id, state="failed", message="cancelled (bench cancel)")
    return job(job_id, home=home)


def _files(home: Path | None) -> JobFiles:
    root = Path(home).expanduser().absolute() if home is not None else home_dir()
    return JobFiles(StorePaths(root).jobs)
