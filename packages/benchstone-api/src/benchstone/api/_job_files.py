"""Job records: what a dispatch claimed, how far it got, and whether its process still lives.

Every dispatch (foreground or background) is a job: one JSON document under the store's
``jobs`` folder, written atomically and ``0o600`` (it names project paths and options a user
may want private). Unfinished jobs live in ``jobs/<id>.json``; a finished one (``done`` or
``failed``) is moved to ``jobs/finished/<id>.json``, so the scheduler only ever reads the
few unfinished records, however long the history.

A record names the process that carries the job by pid *and* by that process's start
time: pids are reused, and a dead worker whose pid now belongs to an unrelated process must
read as ``stale``, not as ``running``. Stale is therefore never written: it is what an
unfinished record is when its process is gone.

Writers serialise on an ``flock`` of ``jobs/.lock`` (held for milliseconds, never across a
subprocess); readers take it shared so a job moving to ``finished/`` is never missed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from benchstone.api._errors import ApiError
from benchstone.protocol import ProtocolError, atomic_write_json
from benchstone.runner import EXECUTORS  # the manifest's rule: where repetitions run

JOB_FORMAT = "benchstone-job-v1"
JOB_KINDS = ("run", "establish")
RECORDED_STATES = ("queued", "running", "done", "failed")
JOB_STATES = (*RECORDED_STATES, "stale")
FINISHED_STATES = ("done", "failed")
LIVE_STATES = ("queued", "running")
#: A job document holds at most one id per repetition (100000 at most): a few MiB at worst.
MAX_JOB_BYTES = 16 << 20
#: Process start times are read from the kernel in clock ticks; a clock step (NTP) can
#: shift the computed value a little, never by as much as a reused pid's start time differs.
START_TIME_TOLERANCE = 1.0

_ID_RE = re.compile(r"[0-9]{8}-[0-9]{6}-[0-9a-f]{6}")
_LOCK_NAME = ".lock"
_FINISHED_DIR = "finished"


def now_utc() -> str:
    """The store's timestamp format, so job and run times compare as strings."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_job_id() -> str:
    """``YYYYMMDD-HHMMSS-xxxxxx``: sorts by creation time, random enough to never collide."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def validate_job_id(job_id: str) -> str:
    """A job id becomes a file name: anything but the generated shape is refused."""
    if not isinstance(job_id, str) or not _ID_RE.fullmatch(job_id):
        raise ApiError(
            f"job id {job_id!r} is not valid; job ids look like 20261127-090323-a1b2c3 "
            "(see `bench status --all`)"
        )
    return job_id


@dataclass(frozen=True)
class Job:
    """One dispatch's record, as stored (``state`` is the recorded state, never stale)."""

    id: str
    kind: str  # one of JOB_KINDS
    project: str
    benchmark: str
    root: str
    background: bool
    threads: int
    gpus: int
    total: int
    created_at: str
    state: str = "queued"
    pid: int | None = None
    pid_started: float | None = None
    started_at: str | None = None
    finished_at: str | None = None
    plan: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    manifest_hash: str | None = None
    run_ids: tuple[int, ...] = ()
    message: str | None = None
    log_path: str | None = None
    #: ``local``, or ``slurm``: then the cluster carries the job, not a process of ours,
    #: and ``slurm`` holds what ingesting needs (spool, nonce, Slurm job id, task layout).
    executor: str = "local"
    slurm: Mapping[str, Any] | None = None

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_STATES

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": JOB_FORMAT,
            "id": self.id,
            "kind": self.kind,
            "project": self.project,
            "benchmark": self.benchmark,
            "root": self.root,
            "background": self.background,
            "threads": self.threads,
            "gpus": self.gpus,
            "total": self.total,
            "created_at": self.created_at,
            "state": self.state,
            "pid": self.pid,
            "pid_started": self.pid_started,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "plan": dict(self.plan),
            "options": dict(self.options),
            "manifest_hash": self.manifest_hash,
            "run_ids": list(self.run_ids),
            "message": self.message,
            "log_path": self.log_path,
            "executor": self.executor,
            "slurm": dict(self.slurm) if self.slurm is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "job record") -> Job:
        """Rebuild a record, checking every field: a hand-edited file must not mislead."""
        reader = _Fields(data, source)
        if data.get("format") != JOB_FORMAT:
            raise reader.bad("format", f"must be {JOB_FORMAT!r}")
        job = cls(
            id=validate_job_id(reader.text("id")),
            kind=reader.choice("kind", JOB_KINDS),
            project=reader.text("project"),
            benchmark=reader.text("benchmark"),
            root=reader.text("root"),
            background=reader.flag("background"),
            threads=reader.count("threads", minimum=1),
            gpus=reader.count("gpus", minimum=0),
            total=reader.count("total", minimum=0),
            created_at=reader.text("created_at"),
            state=reader.choice("state", RECORDED_STATES),
            pid=reader.optional_count("pid"),
            pid_started=reader.optional_number("pid_started"),
            started_at=reader.optional_text("started_at"),
            finished_at=reader.optional_text("finished_at"),
            plan=reader.mapping("plan"),
            options=reader.mapping("options"),
            manifest_hash=reader.optional_text("manifest_hash"),
            run_ids=tuple(reader.id_list("run_ids")),
            message=reader.optional_text("message"),
            log_path=reader.optional_text("log_path"),
            executor=reader.choice("executor", EXECUTORS) if "executor" in data else "local",
            slurm=reader.mapping("slurm") if data.get("slurm") is not None else None,
        )
        if (job.executor == "slurm") != (job.slurm is not None):
            raise reader.bad("slurm", "must be an object exactly when executor is slurm")
        return job


class _Fields:
    """Typed access to a job document with one-line errors naming the file and key."""

    def __init__(self, data: Mapping[str, Any], source: str) -> None:
        self.data = data
        self.source = source

    def bad(self, key: str, rule: str) -> ApiError:
        value = repr(self.data.get(key))
        if len(value) > 60:
            value = value[:57] + "..."
        return ApiError(
            f"{self.source}: key {key!r} {rule}, got {value}; the job record is damaged "
            "(remove the file to forget the job)"
        )

    def text(self, key: str) -> str:
        value = self.data.get(key)
        if not isinstance(value, str) or not value:
            raise self.bad(key, "must be a non-empty string")
        return value

    def optional_text(self, key: str) -> str | None:
        return None if self.data.get(key) is None else self.text(key)

    def choice(self, key: str, choices: tuple[str, ...]) -> str:
        value = self.data.get(key)
        if value not in choices:
            raise self.bad(key, f"must be one of {', '.join(choices)}")
        return value

    def flag(self, key: str) -> bool:
        value = self.data.get(key)
        if not isinstance(value, bool):
            raise self.bad(key, "must be true or false")
        return value

    def count(self, key: str, *, minimum: int) -> int:
        value = self.data.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.bad(key, f"must be an integer >= {minimum}")
        return value

    def optional_count(self, key: str) -> int | None:
        return None if self.data.get(key) is None else self.count(key, minimum=1)

    def optional_number(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.bad(key, "must be a number")
        return float(value)

    def mapping(self, key: str) -> Mapping[str, Any]:
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            raise self.bad(key, "must be an object")
        return value

    def id_list(self, key: str) -> list[int]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(
            isinstance(item, int) and not isinstance(item, bool) for item in value
        ):
            raise self.bad(key, "must be a list of run ids")
        return value


def process_alive(pid: int | None, started: float | None) -> bool:
    """Whether ``pid`` is still the process that started at ``started`` (and not a zombie).

    A process whose pid matches but whose start time does not is a stranger that inherited
    a dead job's pid.
    """
    if pid is None or started is None:
        return False
    try:
        proc = psutil.Process(pid)
        if abs(proc.create_time() - started) > START_TIME_TOLERANCE:
            return False
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        # Cannot look closer: keep counting it, a wrongly "live" claim only delays admission.
        return True


def current_process() -> tuple[int, float]:
    """This process's pid and start time, the identity a job record stores."""
    me = psutil.Process()
    return me.pid, me.create_time()


def live_state(job: Job) -> str:
    """The state to show: the recorded one, or ``stale`` when its process is gone.

    A Slurm job is never stale: the cluster carries it, and whoever ingests next
    (`bench status`, `bench cancel`) finishes its record.
    """
    if job.finished or job.executor == "slurm" or process_alive(job.pid, job.pid_started):
        return job.state
    return "stale"


class JobFiles:
    """The job records of one store: ``jobs/<id>.json`` and ``jobs/finished/<id>.json``."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.finished_directory = self.directory / _FINISHED_DIR

    def ensure(self) -> None:
        """Create both folders 0o700 (they hold paths and options of the user's projects)."""
        for folder in (self.directory, self.finished_directory):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)

    def path(self, job: Job) -> Path:
        folder = self.finished_directory if job.finished else self.directory
        return folder / f"{job.id}.json"

    def log_path(self, job_id: str) -> Path:
        return self.directory / f"{validate_job_id(job_id)}.log"

    def ingest_lock_path(self, job_id: str) -> Path:
        """The lock one ingester of a Slurm job holds (see api._ingest)."""
        return self.directory / "ingest" / f"{validate_job_id(job_id)}.lock"

    @contextlib.contextmanager
    def locked(self, *, shared: bool = False) -> Iterator[None]:
        """Hold ``jobs/.lock``: exclusive to change records, shared to read a consistent set."""
        self.ensure()
        lock = self.directory / _LOCK_NAME
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise ApiError(f"{lock}: cannot open the jobs lock ({exc.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    # The methods below expect the caller to hold the lock (``locked()``).

    def create(self, job: Job) -> Job:
        """Write a new record; an id that already exists is refused, never overwritten."""
        if self.load(job.id) is not None:
            raise ApiError(f"{self.path(job)}: a job with id {job.id} already exists")
        self.save(job)
        return job

    def save(self, job: Job) -> Job:
        """Write ``job`` where its state belongs; a finished job leaves the unfinished folder."""
        target = self.path(job)
        try:
            atomic_write_json(target, job.to_dict(), mode=0o600)
        except ProtocolError as exc:
            raise ApiError(str(exc)) from None
        if job.finished:
            with contextlib.suppress(FileNotFoundError):
                (self.directory / f"{job.id}.json").unlink()
        return job

    def load(self, job_id: str) -> Job | None:
        """The record of ``job_id`` (finished or not), or None when there is none."""
        validate_job_id(job_id)
        for folder in (self.finished_directory, self.directory):
            job = self._read(folder / f"{job_id}.json")
            if job is not None:
                return job
        return None

    def update(self, job_id: str, **changes: Any) -> Job:
        """Read, change and save one record (the caller holds the exclusive lock)."""
        job = self.load(job_id)
        if job is None:
            raise ApiError(f"{self.directory}: no job {job_id} (see `bench status --all`)")
        return self.save(replace(job, **changes))

    def forget(self, job: Job) -> None:
        """Remove a job's record and log (`bench status --prune`); missing files are fine."""
        for path in (self.path(job), self.log_path(job.id), self.ingest_lock_path(job.id)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def unfinished(self) -> list[Job]:
        """Queued, running and stale jobs, oldest first."""
        return self._read_folder(self.directory)

    def finished(self) -> list[Job]:
        """Done and failed jobs, oldest first."""
        return self._read_folder(self.finished_directory)

    def _read_folder(self, folder: Path) -> list[Job]:
        try:
            names = sorted(
                entry.name
                for entry in os.scandir(folder)
                if entry.name.endswith(".json") and not entry.name.startswith(".")
            )
        except FileNotFoundError:
            return []
        jobs = []
        for name in names:
            job = self._read(folder / name)
            if job is not None:
                jobs.append(job)
        return sorted(jobs, key=lambda job: (job.created_at, job.id))

    def _read(self, path: Path) -> Job | None:
        try:
            with open(path, "rb") as handle:
                raw = handle.read(MAX_JOB_BYTES + 1)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ApiError(f"{path}: cannot read the job record ({exc.strerror})") from None
        if len(raw) > MAX_JOB_BYTES:
            raise ApiError(f"{path}: larger than {MAX_JOB_BYTES} bytes; not a job record")
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ApiError(
                f"{path}: not a job record ({exc}); remove the file to forget the job"
            ) from None
        if not isinstance(data, dict):
            raise ApiError(f"{path}: not a job record (not a JSON object)")
        job = Job.from_dict(data, str(path))
        if f"{job.id}.json" != path.name:
            raise ApiError(f"{path}: holds job {job.id}; the file name must match its id")
        return job
