"""The lifecycle of a job's process: detaching a worker, taking over, reporting the end.

A background job is carried by a detached worker process (its own session, no terminal,
stdin on /dev/null, output to a ``0o600`` log under the store), so closing the terminal
or the dispatching shell does not end it. The record changes hands exactly once: the
dispatcher writes it ``queued`` under its own pid (so a dispatcher that dies before the
worker starts leaves a stale record, not a phantom), points it at the worker's pid, and the
worker marks it ``running`` under its own identity. Both steps are conditional on the
record still being ``queued``, so their order does not matter.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path
from typing import Any, Protocol

import psutil

from benchstone.api._batch import DispatchPlan
from benchstone.api._errors import ApiError
from benchstone.api._job_files import Job, JobFiles, current_process, now_utc
from benchstone.runner import git_state


def spawn_worker(
    argv: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str],
    cwd: Path = Path("/"),
) -> int:
    """Start ``argv`` detached from this process's session; return its pid.

    Its stdout and stderr go to ``log_path`` (created 0o600, appended to); it holds no
    other descriptor of ours (``close_fds``), in particular not the jobs lock.

    A daemon thread waits on it: this process is its parent until it exits, and a
    long-lived one (`bench mcp`) would otherwise keep every finished worker as a zombie
    until its next subprocess start. SIGCHLD=SIG_IGN would reap too, but it breaks the
    return codes of every other subprocess. A short-lived CLI simply exits; the worker,
    in its own session, is then reaped by init.
    """
    try:
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise ApiError(f"{log_path}: cannot create the job log ({exc.strerror})") from None
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=fd,
            stderr=fd,
            cwd=cwd,
            env=dict(env),
            start_new_session=True,
            close_fds=True,
        )
    except OSError as exc:
        raise ApiError(
            f"cannot start the background worker {argv[0]} ({exc.strerror}); "
            "run the command without --background"
        ) from None
    finally:
        os.close(fd)
    threading.Thread(target=proc.wait, name=f"reap-worker-{proc.pid}", daemon=True).start()
    return proc.pid


def hand_over(files: JobFiles, job_id: str, pid: int) -> Job | None:
    """Dispatcher side: point a still-queued record at the worker process ``pid``."""
    try:
        started = psutil.Process(pid).create_time()
    except psutil.Error:
        started = None
    with files.locked():
        job = files.load(job_id)
        if job is None or job.state != "queued":
            return job
        return files.update(job_id, pid=pid, pid_started=started)


def take_over(files: JobFiles, job_id: str) -> Job:
    """Worker side: mark a queued record ``running`` under this process's identity."""
    pid, started = current_process()
    with files.locked():
        job = files.load(job_id)
        if job is None:
            raise ApiError(f"{files.directory}: no job {job_id} (see `bench status --all`)")
        if job.state != "queued":
            raise ApiError(f"job {job_id} is {job.state}, not queued; a job runs only once")
        return files.update(
            job_id, state="running", pid=pid, pid_started=started, started_at=now_utc()
        )


def record_run(files: JobFiles, job_id: str, run_id: int) -> Job:
    """Append one run id to the record as soon as its row is committed."""
    with files.locked():
        job = files.load(job_id)
        if job is None:
            raise ApiError(f"{files.directory}: no job {job_id} (see `bench status --all`)")
        return files.update(job_id, run_ids=(*job.run_ids, run_id))


def finish(
    files: JobFiles,
    job_id: str,
    *,
    state: str,
    message: str | None,
    run_ids: Sequence[int] | None = None,
) -> Job:
    """Mark the record ``done`` or ``failed`` with its outcome (moves it to ``finished/``)."""
    if state not in ("done", "failed"):
        raise ApiError(f"job {job_id}: cannot finish in state {state!r}; use done or failed")
    changes: dict[str, object] = {"state": state, "message": message, "finished_at": now_utc()}
    if run_ids is not None:
        changes["run_ids"] = tuple(run_ids)
    with files.locked():
        return files.update(job_id, **changes)


@dataclass
class Outcome:
    """What the body of :func:`tracked` reports for the record: its final message and runs."""

    message: str | None = None
    run_ids: tuple[int, ...] | None = None


@contextlib.contextmanager
def tracked(files: JobFiles, job_id: str) -> Iterator[Outcome]:
    """Finish the record however the body ends: ``done``, or ``failed`` with the reason.

    Ctrl-C and termination are failures too (with that reason), and the exception goes on:
    the caller still sees it. A process killed outright leaves the record unfinished, and
    then its dead pid makes it read as stale.
    """
    outcome = Outcome()
    try:
        yield outcome
    except KeyboardInterrupt:
        with contextlib.suppress(ApiError):  # the interruption matters more
            finish(files, job_id, state="failed", message="interrupted (Ctrl-C)")
        raise
    except BaseException as exc:
        with contextlib.suppress(ApiError):  # the original failure matters more
            finish(files, job_id, state="failed", message=failure_message(exc))
        raise
    finish(files, job_id, state="done", message=outcome.message, run_ids=outcome.run_ids)


def failure_message(exc: BaseException) -> str:
    """One line for a record: the harness's own messages as they are, others with their type."""
    text = " ".join(str(exc).split())
    if isinstance(exc, ApiError) or type(exc).__module__.startswith("benchstone."):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def plan_to_dict(plan: DispatchPlan) -> dict[str, Any]:
    """A plan as JSON, so a worker runs exactly what the dispatcher planned."""
    data = asdict(plan)
    data["seeds"] = list(plan.seeds)
    return data


def plan_from_dict(data: Mapping[str, Any], source: str) -> DispatchPlan:
    """The plan a job record carries, checked field by field."""
    names = {item.name for item in fields(DispatchPlan)}
    required = {
        item.name
        for item in fields(DispatchPlan)
        if item.default is MISSING and item.default_factory is MISSING
    }
    missing = sorted(required - set(data))
    unknown = sorted(set(data) - names)
    if missing or unknown:
        raise ApiError(
            f"{source}: the job's plan has missing keys {missing} and unknown keys {unknown}; "
            "the record is damaged or from another version (dispatch again)"
        )
    seeds = data["seeds"]
    if not isinstance(seeds, list) or not all(
        isinstance(seed, int) and not isinstance(seed, bool) for seed in seeds
    ):
        raise ApiError(f"{source}: the job's plan key 'seeds' must be a list of integers")
    for key in ("project", "benchmark", "git_sha", "seed_set"):
        if not isinstance(data[key], str) or not data[key]:
            raise ApiError(f"{source}: the job's plan key {key!r} must be a non-empty string")
    if not isinstance(data["git_dirty"], bool):
        raise ApiError(f"{source}: the job's plan key 'git_dirty' must be true or false")
    return DispatchPlan(**{**data, "seeds": tuple(seeds)})


class Provenance(Protocol):
    """What a plan says was measured: a background plan, or a Slurm job's node spec."""

    @property
    def git_sha(self) -> str: ...

    @property
    def git_dirty(self) -> bool: ...


def check_unchanged(root: Path, plan: Provenance) -> None:
    """Refuse to go on when the checkout no longer is what the plan recorded.

    A background job's rows say "measured at ``plan.git_sha``"; if HEAD moved or the tree
    changed from clean to dirty (or back) after the job was planned, the next repetition
    would measure other code under that name.
    """
    state = git_state(root)
    if state.sha != plan.git_sha:
        raise ApiError(
            f"{root}: HEAD moved from {plan.git_sha[:10]} to {state.sha[:10]} after the job "
            "was dispatched; stopped so no row is recorded under the wrong commit "
            "(dispatch again at the new commit)"
        )
    if state.dirty != plan.git_dirty:
        now = "dirty" if state.dirty else "clean"
        then = "dirty" if plan.git_dirty else "clean"
        raise ApiError(
            f"{root}: the working tree became {now} (it was {then} when the job was "
            "dispatched); stopped so no row misstates the code it measured "
            "(restore the tree, or dispatch again)"
        )
