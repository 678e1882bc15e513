"""Ingesting a Slurm job: the spool's bundles become rows, by the one writer.

Whoever calls :func:`ingest` — the waiting `bench run`, a later `bench status`, `bench
cancel` — does the same thing, so a submitter killed at any point loses nothing: the next
caller picks up where it stopped. Each repetition of a job is one ``bundle_id``
(``<job>/rep<i>``) and the store keeps that column unique, so a repetition becomes exactly
one row however many ingesters race (a per-job lock file also keeps them from doing the
work twice). What a repetition's row says:

- its bundle, validated against the job's nonce: the repetition as measured on the node;
- a bundle that does not validate (torn, foreign, changed): an error row naming why;
- no bundle, and its array task finished (failed, cancelled, or done without writing it):
  an error row with the tail of the task's stderr, which Slurm kept in the spool.

A side-by-side job's bundles (``rep<i>-<arm>``) are ingested in the window's run order,
so row ids follow ``pair_order``; each must carry, under its seal, the window and arm the
job laid out for its name, and becomes a row exactly like a local window's: the baseline
arm's with the baseline commit's provenance (api._slurm_window).

When every repetition has its row the job is finished here: an establish moves the
baseline pointer, the record is closed with the outcome, and a window's baseline
worktree is removed from the spool.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from benchstone.api._batch import DispatchPlan
from benchstone.api._errors import ApiError
from benchstone.api._job_files import Job, JobFiles, now_utc
from benchstone.api._job_process import finish, plan_from_dict
from benchstone.api._jobs import dispatch_summary
from benchstone.api._node_spec import (
    Slot,
    job_directory,
    record_layout,
    slurm_job_name,
    task_owners,
)
from benchstone.api._repetition import (
    Repetition,
    check_output,
    failed_repetition,
    private_dir,
    repetition_row,
)
from benchstone.api._report import dispatch_report
from benchstone.api._sidebyside import BASELINE
from benchstone.api._slurm_window import baseline_plan, remove_worktrees
from benchstone.api._types import DispatchReport
from benchstone.runner import (
    Bundle,
    RunnerError,
    TaskState,
    job_by_name,
    list_bundles,
    read_bundle,
    task_states,
)
from benchstone.runner._bundle import BUNDLE_SUFFIX
from benchstone.store import BaselineEvent, Run, Store, StoreError

#: How much of a failed task's Slurm stderr file an error row's message quotes.
_MESSAGE_TAIL_LINES = 3
_STDERR_TAIL_BYTES = 64 * 1024


@dataclass(frozen=True)
class Ingest:
    """What one pass over a Slurm job found and did."""

    job_id: str
    slurm_job: str | None
    total: int
    #: Rows this pass appended, in repetition order.
    runs: tuple[Run, ...]
    #: Repetitions that have a row now (this pass or before).
    recorded: int
    #: Array task states, counted (``pending``, ``running``, ``done``, ...).
    counts: Mapping[str, int] = field(default_factory=dict)
    #: Set once every repetition has its row and the record is closed.
    report: DispatchReport | None = None
    #: Why the finished job failed (an establish without an ok run), else None.
    failure: str | None = None

    @property
    def complete(self) -> bool:
        return self.recorded >= self.total


def ingest(store: Store, job_id: str) -> Ingest:
    """One pass: ask Slurm, ingest what is in the spool, close the job when it is whole."""
    files = JobFiles(store.paths.jobs)
    with _ingest_lock(files, job_id):
        with files.locked(shared=True):
            record = files.load(job_id)
        if record is None:
            raise ApiError(f"{files.directory}: no job {job_id} (see `bench status --all`)")
        if record.executor != "slurm" or record.slurm is None:
            raise ApiError(f"job {job_id} ran on this host, not on Slurm; nothing to ingest")
        return _Pass(store, files, record).run()


@contextlib.contextmanager
def _ingest_lock(files: JobFiles, job_id: str) -> Iterator[None]:
    """One ingester per job at a time (held across squeue, never across a DB transaction)."""
    path = files.ingest_lock_path(job_id)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class _Pass:
    def __init__(self, store: Store, files: JobFiles, record: Job) -> None:
        self.store = store
        self.files = files
        self.record = record
        info: Mapping[str, Any] = record.slurm or {}
        self.info = info
        self.plan: DispatchPlan = plan_from_dict(record.plan, str(files.path(record)))
        self.spool = Path(str(info.get("spool")))
        self.job_dir = job_directory(self.spool, record.id)
        self.nonce = str(info.get("nonce", ""))
        self.slurm_job: str | None = info.get("slurm_job")
        layout = record_layout(info)
        self.tasks = layout
        # In run order: a window's slots follow pair_order, and so do its row ids.
        self.slots: dict[str, Slot] = {slot.name: slot for task in layout for slot in task}
        self.owner = task_owners(layout)
        self.baseline_plan = baseline_plan(info, str(files.path(record)))
        self.metric_source = str(info.get("metric_source", "reported"))
        self.total = len(self.slots)
        self.logs = store.paths.logs(self.plan.project, self.plan.benchmark)

    def bundle_id(self, name: str) -> str:
        return f"{self.record.id}/{name}"

    def run(self) -> Ingest:
        states = self._states()
        counts: dict[str, int] = {}
        for state in states.values():
            counts[state.value] = counts.get(state.value, 0) + 1
        appended: list[Run] = []
        # Bundles first (listed after the states were read: a task seen finished has
        # published every bundle it will), in the layout's order, then the foreign ones,
        # then the repetitions their task left without.
        published = {
            p.name[: -len(BUNDLE_SUFFIX)]: p for p in list_bundles(self.spool, self.record.id)
        }
        ordered = [n for n in self.slots if n in published]
        for name in [*ordered, *sorted(set(published) - set(ordered))]:
            if self.store.run_by_bundle(self.bundle_id(name)) is None:
                appended.extend(self._append(name, self._from_path(published[name], name)))
        for name, slot in self.slots.items():
            if self.store.run_by_bundle(self.bundle_id(name)) is not None:
                continue
            task = self.owner.get(name)
            state = states.get(task, TaskState.UNKNOWN) if task is not None else None
            if state is TaskState.UNKNOWN and self.info.get("cancelled"):
                # Cancelled, and no source remembers the task (or sbatch never answered).
                state = TaskState.CANCELLED
            if state is not None and state.finished and not self._published(name):
                appended.extend(self._append(name, self._without_bundle(slot, task, state)))
        rows = self._rows()
        appended.sort(key=self._order)
        result = Ingest(
            job_id=self.record.id,
            slurm_job=self.slurm_job,
            total=self.total,
            runs=tuple(appended),
            recorded=len(rows),
            counts=counts,
        )
        if len(rows) < self.total:
            return result
        report, failure = self._close(rows)
        return replace(result, report=report, failure=failure)

    def _states(self) -> dict[int, TaskState]:
        if not self.slurm_job and self.tasks:
            self._recover_job_id()
        if not self.slurm_job or not self.tasks:
            return dict.fromkeys(range(len(self.tasks)), TaskState.UNKNOWN)
        try:
            return task_states(self.slurm_job, len(self.tasks))
        except RunnerError:
            # Slurm unreachable: the bundles still ingest; states are asked again next pass.
            return dict.fromkeys(range(len(self.tasks)), TaskState.UNKNOWN)

    def _recover_job_id(self) -> None:
        """The submitter died before writing the Slurm id down: find it by the job name."""
        try:
            found = job_by_name(slurm_job_name(self.record.id))
        except RunnerError:
            return
        if found is None:
            return
        self.slurm_job = found
        with self.files.locked():
            self.files.update(self.record.id, slurm={**self.info, "slurm_job": found})

    def _order(self, run: Run) -> tuple[bool, int, int]:
        """Report order: a window's run order (row ids), else repetition order."""
        if self.plan.window is not None:
            return False, 0, run.id
        return run.repetition is None, run.repetition or 0, run.id

    def _published(self, name: str) -> bool:
        return (self.job_dir / f"{name}{BUNDLE_SUFFIX}").exists()

    def _rows(self) -> list[Run]:
        rows = []
        for name in self.slots:
            run = self.store.run_by_bundle(self.bundle_id(name))
            if run is not None:
                rows.append(run)
        return rows

    def _append(self, name: str, built: tuple[Repetition, Bundle | None]) -> list[Run]:
        rep, bundle = built
        digest = None
        if bundle is not None and bundle.artifact_path is not None and rep.status == "ok":
            digest = self.store.put_artifact(bundle.artifact_path)
        output_reference = self.info.get("output_reference")
        rep = check_output(self.store, self.plan.project, output_reference, digest, rep)
        slot = self.slots.get(name)
        arm = slot.arm if slot is not None else None
        plan = self.plan
        if arm == BASELINE and self.baseline_plan is not None:
            plan = self.baseline_plan  # the baseline commit's sha, git state, digests
        row = repetition_row(
            rep,
            plan,
            metric_source=self.metric_source,
            manifest_hash=self.record.manifest_hash or "",
            job_id=self.record.id,
            executor="slurm",
            artifact_digest=digest,
            bundle_id=self.bundle_id(name),
            window=self.plan.window if arm is not None else None,
            arm=arm,
        )
        try:
            return [self.store.append_run(row)]
        except StoreError:
            if self.store.run_by_bundle(self.bundle_id(name)) is not None:
                return []  # another ingester recorded it first: once is the rule
            raise

    def _from_path(self, path: Path, name: str) -> tuple[Repetition, Bundle | None]:
        slot = self.slots.get(name)
        where = f"bundle {self.record.id}/{path.name}"
        total = len(self.plan.seeds)
        if slot is None:
            message = f"foreign bundle: {where} names no repetition of the job"
            return failed_repetition(None, None, total, message, host="-"), None
        index, seed = slot.index, slot.seed
        try:
            bundle = read_bundle(path, nonce=self.nonce, job=self.record.id)
        except RunnerError as exc:
            text = str(exc).replace(str(path), where)
            return failed_repetition(index, seed, total, f"bundle rejected: {text}"), None
        try:
            return self._repetition(bundle, slot), bundle
        except ApiError as exc:
            return failed_repetition(index, seed, total, f"bundle rejected: {exc}"), None

    def _repetition(self, bundle: Bundle, slot: Slot) -> Repetition:
        doc = bundle.result
        index, seed = slot.index, slot.seed
        where = f"bundle {bundle.bundle_id}: result.json"
        if doc.get("index") != index or doc.get("seed") != seed:
            raise ApiError(
                f"{where} is repetition {doc.get('index')} with seed {doc.get('seed')}; the "
                f"job planned repetition {index} with seed {seed}"
            )
        labels = dict(bundle.labels)
        planned = {"window": self.plan.window, "arm": slot.arm} if slot.arm else {}
        if labels != planned:
            raise ApiError(
                f"bundle {bundle.bundle_id}: sealed labels {labels or 'none'}; the job laid "
                f"out {planned or 'no window'} for it"
            )
        status = doc.get("status")
        if status not in ("ok", "error"):
            raise ApiError(f"{where} key 'status' must be 'ok' or 'error'")
        measured = doc.get("measured") is not False
        m = bundle.measurements
        stdout_log, stderr_log = self._keep_logs(slot.name, bundle.stdout_tail, bundle.stderr_tail)
        return Repetition(
            index=index,
            seed=seed,
            total=len(self.plan.seeds),
            status=status,
            message=_text(doc.get("message")),
            started_at=_text(doc.get("started_at")) or now_utc(),
            finished_at=_text(doc.get("finished_at")) or now_utc(),
            exit_code=_integer(doc.get("exit_code")),
            wall_clock=float(m.wall_seconds) if measured else None,
            cpu_time=m.cpu_seconds,
            peak_rss=m.peak_rss_bytes,
            instructions=m.instructions,
            isolation=m.isolation if measured else None,
            host=m.node,
            fingerprint=dict(m.host_fingerprint),
            reported_metric=_number(doc.get("reported_metric")),
            metric_components=_mapping(doc.get("metric_components")),
            reported_wall_clock=_number(doc.get("reported_wall_clock")),
            metadata=_mapping(doc.get("metadata")),
            stdout_log=stdout_log,
            stderr_log=stderr_log,
        )

    def _without_bundle(
        self, slot: Slot, task: int, state: TaskState
    ) -> tuple[Repetition, Bundle | None]:
        tail = self._slurm_stderr(task)
        lines = [line for line in tail.splitlines() if line.strip()][-_MESSAGE_TAIL_LINES:]
        said = " | ".join(line.strip() for line in lines) or "its stderr is empty"
        which = f"repetition {slot.index}" + (f" ({slot.arm} arm)" if slot.arm else "")
        message = (
            f"slurm task {self.slurm_job}_{task} {state.value} without a bundle for {which}: {said}"
        )
        _, stderr_log = self._keep_logs(slot.name, "", tail)
        total = len(self.plan.seeds)
        rep = failed_repetition(slot.index, slot.seed, total, message, host="-")
        return replace(rep, stderr_log=stderr_log), None

    def _slurm_stderr(self, task: int) -> str:
        path = self.job_dir / f"slurm-{self.slurm_job}_{task}.err"
        try:
            with path.open("rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                handle.seek(max(0, size - _STDERR_TAIL_BYTES))
                return handle.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _keep_logs(self, name: str, stdout: str, stderr: str) -> tuple[Path, Path]:
        """The node's log tails as the row's log files, under the store like local logs."""
        directory = private_dir(self.logs)
        stem = f"{now_utc().replace(':', '').replace('-', '')}-{self.record.id}-{name}"
        paths = []
        for suffix, text in (("stdout", stdout), ("stderr", stderr)):
            path = directory / f"{stem}.{suffix}.log"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            paths.append(path)
        return paths[0], paths[1]

    def _close(self, rows: list[Run]) -> tuple[DispatchReport | None, str | None]:
        """Finish the record (once): the pointer for an establish, the outcome line; the
        window's baseline worktree goes (every task has ended, or no row would be missing)."""
        remove_worktrees(self.info, Path(self.record.root))
        with self.files.locked(shared=True):
            current = self.files.load(self.record.id)
        rows.sort(key=self._order)
        notes = self.record.options.get("notes")
        if current is not None and current.finished:
            report = DispatchReport(
                project=self.plan.project,
                benchmark=self.plan.benchmark,
                git_sha=self.plan.git_sha,
                git_dirty=self.plan.git_dirty,
                meta_seed=self.plan.meta_seed,
                seed_set=self.plan.seed_set,
                runs=tuple(rows),
                baseline=self._own_baseline(rows),
            )
            return report, current.message if current.state == "failed" else None
        try:
            report = dispatch_report(
                self.store, self.plan, rows, kind=self.record.kind, notes=notes
            )
        except ApiError as exc:
            finish(
                self.files,
                self.record.id,
                state="failed",
                message=str(exc),
                run_ids=[r.id for r in rows],
            )
            return None, str(exc)
        cancelled = " (cancelled)" if self.info.get("cancelled") else ""
        finish(
            self.files,
            self.record.id,
            state="done",
            message=dispatch_summary(report) + cancelled,
            run_ids=[r.id for r in rows],
        )
        return report, None

    def _own_baseline(self, rows: list[Run]) -> BaselineEvent | None:
        if self.record.kind != "establish":
            return None
        event = self.store.baseline(self.plan.project, self.plan.benchmark)
        ids = {r.id for r in rows}
        if event is not None and set(event.run_ids) <= ids:
            return event
        return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _mapping(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}
