"""What a Slurm job's node workers are told, and where its files live in the spool.

The node worker must not open the store (there is one writer, on the submit host, and
SQLite does not belong on a network filesystem), so everything it needs travels in the
job's directory of the spool:

    <spool>/<job>/spec.json    this document: checkout, commit, manifest hash, the task
                               layout (which repetitions each array task runs, with seeds)
    <spool>/<job>/nonce        the job's sealing secret (0600); the worker reads it before
                               any repetition starts, and the sandbox hides the spool
    <spool>/<job>/rep<i>.bundle  one result bundle per repetition (benchstone.runner)
    <spool>/<job>/baseline-*/tree  a side-by-side job's baseline arm: a worktree of the
                               baseline pointer's commit with the locked evaluator over it
    <spool>/<job>/rep<i>-<arm>.bundle  a window's bundles: pair i, arm baseline|candidate

The task layout is the dispatch's, not the node's: a task may run several repetitions, in
order, on one node. A side-by-side window is one task that way (api._slurm_window): its
pairs run in ``pair_order``, in one allocation on one ``--exclusive`` node.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchstone.api._errors import ApiError

NODE_SPEC_FORMAT = "benchstone-node-spec-v1"
SPEC_NAME = "spec.json"
NONCE_NAME = "nonce"
_MAX_SPEC_BYTES = 16 << 20
_BUNDLE_NAME = re.compile(r"rep([0-9]{1,6})(?:-(baseline|candidate))?")


def job_directory(spool: Path, job_id: str) -> Path:
    return Path(spool) / job_id


def slurm_job_name(job_id: str) -> str:
    """The Slurm job name of a dispatch: unique, so the array can be found again by it."""
    return f"bench-{job_id}"


def bundle_name(index: int, arm: str | None = None) -> str:
    """The bundle name of repetition ``index`` (``rep3``; in a window ``rep3-baseline``)."""
    return f"rep{index}" if arm is None else f"rep{index}-{arm}"


def slot_of(name: str) -> tuple[int, str | None] | None:
    """The repetition and arm a bundle name stands for, or None for a name none has."""
    match = _BUNDLE_NAME.fullmatch(name)
    return (int(match.group(1)), match.group(2)) if match else None


@dataclass(frozen=True)
class Slot:
    """One repetition a task runs: its index in the dispatch, its seed, and (in a window)
    its arm; both arms of pair i have index i and the same seed."""

    index: int
    seed: int
    arm: str | None = None

    @property
    def name(self) -> str:
        return bundle_name(self.index, self.arm)

    def to_json(self) -> list[Any]:
        return [self.index, self.seed] if self.arm is None else [self.index, self.seed, self.arm]


@dataclass(frozen=True)
class NodeSpec:
    """The job as its node workers see it (``spec.json``)."""

    job: str
    project: str
    benchmark: str
    root: str
    manifest_hash: str
    git_sha: str
    git_dirty: bool
    total: int
    #: Harness paths of the submit host the sandbox hides on the node too (its store).
    hidden: tuple[str, ...]
    #: ``tasks[k]``: the repetitions array task ``k`` runs, in order.
    tasks: tuple[tuple[Slot, ...], ...]
    #: The locked evaluator the repetitions must run under: its digest and its files
    #: (path -> digest), so the node can name what drifted without the store.
    lock_digest: str | None = None
    lock_files: Mapping[str, str] = field(default_factory=dict)
    #: A side-by-side job's window, and its baseline arm: the worktree in the spool and
    #: the commit it must be at.
    window: str | None = None
    baseline_root: str | None = None
    baseline_sha: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": NODE_SPEC_FORMAT,
            "job": self.job,
            "project": self.project,
            "benchmark": self.benchmark,
            "root": self.root,
            "manifest_hash": self.manifest_hash,
            "git_sha": self.git_sha,
            "git_dirty": self.git_dirty,
            "total": self.total,
            "hidden": list(self.hidden),
            "tasks": [[slot.to_json() for slot in task] for task in self.tasks],
            "lock_digest": self.lock_digest,
            "lock_files": dict(self.lock_files),
            "window": self.window,
            "baseline_root": self.baseline_root,
            "baseline_sha": self.baseline_sha,
        }

    @classmethod
    def read(cls, path: Path) -> NodeSpec:
        """Read and check ``spec.json``; ApiError naming the file and key otherwise."""
        try:
            with Path(path).open("rb") as handle:
                raw = handle.read(_MAX_SPEC_BYTES + 1)
        except OSError as exc:
            raise ApiError(f"{path}: cannot read the node spec ({exc.strerror})") from None
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise ApiError(f"{path}: not a node spec ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != NODE_SPEC_FORMAT:
            raise ApiError(f"{path}: key 'format' must be {NODE_SPEC_FORMAT!r}")

        def text(key: str) -> str:
            value = data.get(key)
            if not isinstance(value, str) or not value:
                raise ApiError(f"{path}: key {key!r} must be a non-empty string")
            return value

        tasks = data.get("tasks")
        if not isinstance(tasks, list) or not all(
            isinstance(task, list)
            and all(
                isinstance(slot, list)
                and len(slot) in (2, 3)
                and all(isinstance(v, int) and not isinstance(v, bool) for v in slot[:2])
                and (len(slot) == 2 or slot[2] in ("baseline", "candidate"))
                for slot in task
            )
            for task in tasks
        ):
            raise ApiError(
                f"{path}: key 'tasks' must be a list of [[index, seed(, arm)], ...] lists"
            )
        optional = {}
        for key in ("window", "baseline_root", "baseline_sha"):
            value = data.get(key)
            if value is not None and (not isinstance(value, str) or not value):
                raise ApiError(f"{path}: key {key!r} must be a non-empty string or null")
            optional[key] = value
        if (optional["window"] is None) != (optional["baseline_root"] is None):
            raise ApiError(f"{path}: keys 'window' and 'baseline_root' go together")
        hidden = data.get("hidden")
        if not isinstance(hidden, list) or not all(isinstance(p, str) for p in hidden):
            raise ApiError(f"{path}: key 'hidden' must be a list of paths")
        total = data.get("total")
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise ApiError(f"{path}: key 'total' must be an integer >= 0")
        if not isinstance(data.get("git_dirty"), bool):
            raise ApiError(f"{path}: key 'git_dirty' must be true or false")
        lock_digest = data.get("lock_digest")
        if lock_digest is not None and not isinstance(lock_digest, str):
            raise ApiError(f"{path}: key 'lock_digest' must be a digest string or null")
        lock_files = data.get("lock_files", {})
        if not isinstance(lock_files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in lock_files.items()
        ):
            raise ApiError(f"{path}: key 'lock_files' must map paths to digests")
        return cls(
            job=text("job"),
            project=text("project"),
            benchmark=text("benchmark"),
            root=text("root"),
            manifest_hash=text("manifest_hash"),
            git_sha=text("git_sha"),
            git_dirty=data["git_dirty"],
            total=total,
            hidden=tuple(hidden),
            tasks=tuple(tuple(Slot(*slot) for slot in task) for task in tasks),
            lock_digest=lock_digest,
            lock_files=lock_files,
            **optional,
        )


def task_layout(
    indices: Sequence[int], seeds: Sequence[int], *, per_task: int = 1
) -> tuple[tuple[Slot, ...], ...]:
    """Consecutive repetitions, ``per_task`` to an array task (the last may have fewer).

    One per task spreads independent repetitions over the nodes; more run in order in one
    allocation on one node. A dispatch with windows lays out each window's repetitions as
    one task instead (see the module docstring): the worker runs whatever a task lists.
    """
    if per_task < 1:
        raise ApiError(f"repetitions per task must be at least 1, got {per_task}")
    slots = [Slot(index, seed) for index, seed in zip(indices, seeds, strict=True)]
    return tuple(tuple(slots[i : i + per_task]) for i in range(0, len(slots), per_task))


def make_job_directory(directory: Path) -> Path:
    """Create the job's spool directory (0700); ``directory``.

    Created exclusively: a job id is never reused, so an existing directory is someone
    else's and is refused rather than written into.
    """
    try:
        directory.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory.mkdir(mode=0o700)
    except FileExistsError:
        raise ApiError(f"{directory}: already exists; the spool belongs to another job") from None
    except OSError as exc:
        raise ApiError(
            f"{directory}: cannot create the job's spool directory ({exc.strerror}); "
            "[slurm] spool must be a writable directory on the shared filesystem"
        ) from None
    return directory


def write_job_files(directory: Path, spec: NodeSpec, nonce: str) -> Path:
    """Write the nonce and the spec into the job's directory (made by
    :func:`make_job_directory`); the spec's path."""
    _write_private(directory / NONCE_NAME, nonce.encode())
    path = directory / SPEC_NAME
    _write_private(path, json.dumps(spec.to_json(), sort_keys=True).encode())
    return path


def record_layout(info: Mapping[str, Any]) -> tuple[tuple[Slot, ...], ...]:
    """The task layout a job record keeps (``tasks``, ``seeds`` and, for a window,
    ``arms``), as slots."""
    tasks, seeds = info.get("tasks", []), info.get("seeds", [])
    arms = info.get("arms") or [[None] * len(task) for task in tasks]
    return tuple(
        tuple(Slot(i, s, a) for i, s, a in zip(task, seed, arm, strict=True))
        for task, seed, arm in zip(tasks, seeds, arms, strict=True)
    )


def read_nonce(directory: Path) -> str:
    """The job's nonce from the spool (the worker's copy; the submitter keeps its own)."""
    path = directory / NONCE_NAME
    try:
        with path.open("rb") as handle:
            text = handle.read(256).decode("ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ApiError(f"{path}: cannot read the job's nonce ({exc})") from None
    if not re.fullmatch(r"[0-9a-f]{64}", text):
        raise ApiError(f"{path}: not a job nonce (64 hex digits)")
    return text


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def task_owners(tasks: Sequence[Sequence[Slot]]) -> dict[str, int]:
    """Bundle name -> the array task that runs it (a failed task's repetitions)."""
    return {slot.name: task for task, slots in enumerate(tasks) for slot in slots}
