"""The Slurm client side: submit a job array, ask what its tasks are doing, cancel it.

Only the ordinary client commands are used (``sbatch``, ``squeue``, ``sacct``,
``scancel``, ``scontrol``), as subprocesses, so whatever Slurm the cluster runs and however
it is configured, the harness asks it the same questions a user would. A task's state
comes from the first source that knows it: ``squeue`` (pending, running, and finished
within ``MinJobAge``), then ``sacct`` (clusters with an accounting database), then the
``jobcomp/filetxt`` file (clusters without one, like the single-node test cluster of
``ci/slurm/``). The file is read line by line, never whole.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from benchstone.runner._errors import RunnerError

#: In a command given to :func:`submit_array`, this text stands for the array task id.
TASK_PLACEHOLDER = "{task}"
_CLIENT_TIMEOUT = 60.0
_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class TaskState(StrEnum):
    """What one array task is doing, folded from Slurm's many state names."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    #: No source knows the task (purged from squeue, no sacct, no jobcomp file).
    UNKNOWN = "unknown"

    @property
    def finished(self) -> bool:
        return self in (TaskState.DONE, TaskState.FAILED, TaskState.CANCELLED)


# Slurm's job state names (squeue %T, sacct State, jobcomp JobState), folded.
_STATES: dict[str, TaskState] = {
    **dict.fromkeys(
        (
            "PENDING",
            "CONFIGURING",
            "REQUEUED",
            "REQUEUE_FED",
            "REQUEUE_HOLD",
            "RESIZING",
            "SUSPENDED",
            "STOPPED",
            "RESV_DEL_HOLD",
            "POWER_UP_NODE",
        ),
        TaskState.PENDING,
    ),
    **dict.fromkeys(
        ("RUNNING", "COMPLETING", "STAGE_OUT", "SIGNALING", "UPDATE_DB"), TaskState.RUNNING
    ),
    "COMPLETED": TaskState.DONE,
    "CANCELLED": TaskState.CANCELLED,
    "REVOKED": TaskState.CANCELLED,
    **dict.fromkeys(
        (
            "FAILED",
            "TIMEOUT",
            "NODE_FAIL",
            "OUT_OF_MEMORY",
            "BOOT_FAIL",
            "DEADLINE",
            "PREEMPTED",
            "SPECIAL_EXIT",
        ),
        TaskState.FAILED,
    ),
}


def fold_state(name: str) -> TaskState:
    """Slurm's state text (``CANCELLED by 0``, ``completed``) as a :class:`TaskState`."""
    word = name.strip().split(" ")[0].upper().rstrip("+")
    return _STATES.get(word, TaskState.UNKNOWN)


@dataclass(frozen=True)
class SlurmOptions:
    """How a job array is submitted; ``None`` leaves the cluster's default."""

    partition: str | None = None
    account: str | None = None
    #: Slurm's time format per task: ``MM``, ``HH:MM:SS``, ``D-HH:MM``.
    time_limit: str | None = None
    extra_args: tuple[str, ...] = ()
    #: A whole node per task, so the repetitions of one window share no node with others.
    exclusive: bool = False
    #: Every task on one node (``--nodes=1``): a side-by-side window must not straddle two.
    one_node: bool = True
    #: At most this many tasks at once (``--array=0-N%K``); ``None`` is no limit.
    max_parallel: int | None = None
    job_name: str = "benchstone"
    #: CPUs Slurm reserves per task: the benchmark's ``threads``.
    cpus_per_task: int | None = None

    def sbatch_args(self) -> list[str]:
        args = [f"--job-name={self.job_name}"]
        if self.partition:
            args.append(f"--partition={self.partition}")
        if self.account:
            args.append(f"--account={self.account}")
        if self.time_limit:
            args.append(f"--time={self.time_limit}")
        if self.one_node:
            args.append("--nodes=1")
        if self.exclusive:
            args.append("--exclusive")
        if self.cpus_per_task:
            args.append(f"--cpus-per-task={self.cpus_per_task}")
        args.extend(self.extra_args)
        return args


@dataclass(frozen=True)
class SlurmJob:
    """A submitted job array: its Slurm id, its task count, and where its files are."""

    job_id: str
    tasks: int
    workdir: Path
    script: Path
    options: SlurmOptions = field(default_factory=SlurmOptions)

    def task_ids(self) -> range:
        return range(self.tasks)

    def stdout_path(self, task: int) -> Path:
        """The file Slurm writes the task's batch-script stdout to (node-side failures)."""
        return self.workdir / f"slurm-{self.job_id}_{task}.out"

    def stderr_path(self, task: int) -> Path:
        return self.workdir / f"slurm-{self.job_id}_{task}.err"


def _client(argv: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run one Slurm client command; a missing or failing command is one-line RunnerError."""
    try:
        proc = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=_CLIENT_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise RunnerError(
            f"{argv[0]} not found on PATH: run on a Slurm submit host "
            '(Debian/Ubuntu package slurm-client) or use executor = "local"'
        ) from None
    except subprocess.TimeoutExpired:
        raise RunnerError(
            f"{shlex.join(argv)} did not answer within {_CLIENT_TIMEOUT:.0f}s; "
            "is slurmctld reachable (scontrol ping)?"
        ) from None
    if check and proc.returncode != 0:
        raise RunnerError(
            f"{shlex.join(argv)} failed (exit {proc.returncode}): {_one_line(proc.stderr)}"
        )
    return proc


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines)[-400:] if lines else "(no stderr)"


def batch_script(command: Sequence[str], *, env: Mapping[str, str] | None = None) -> str:
    """The batch script one array task runs: ``command`` with ``{task}`` as the task id.

    Every argument is shell-quoted; only the placeholder becomes ``"$SLURM_ARRAY_TASK_ID"``,
    so nothing in a path or argument is ever interpreted by the shell on the node.
    """
    if not command:
        raise RunnerError("submit_array: the command is empty; give the worker's argv")
    lines = [
        "#!/bin/sh",
        "# Generated by benchstone: one array task runs one worker with its task id.",
        "set -eu",
    ]
    for key, value in sorted((env or {}).items()):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise RunnerError(f"submit_array: environment name {key!r} is not a shell name")
        lines.append(f"export {key}={shlex.quote(value)}")
    words = []
    for arg in command:
        parts = arg.split(TASK_PLACEHOLDER)
        words.append('"$SLURM_ARRAY_TASK_ID"'.join(shlex.quote(p) if p else "" for p in parts))
    lines.append("exec " + " ".join(w if w else "''" for w in words))
    return "\n".join(lines) + "\n"


def submit_array(
    command: Sequence[str],
    tasks: int,
    *,
    workdir: Path,
    options: SlurmOptions | None = None,
    env: Mapping[str, str] | None = None,
) -> SlurmJob:
    """Submit ``command`` as a job array of ``tasks`` tasks (ids ``0..tasks-1``).

    The batch script and Slurm's per-task stdout/stderr files go to ``workdir``, which
    must be on the filesystem the compute nodes share with the submitter.
    """
    options = options or SlurmOptions()
    if tasks < 1:
        raise RunnerError(f"submit_array: tasks = {tasks}; a job array needs at least 1")
    if not _NAME_RE.match(options.job_name):
        raise RunnerError(
            f"submit_array: job name {options.job_name!r} must be 1-64 of [A-Za-z0-9_.-]"
        )
    if options.max_parallel is not None and options.max_parallel < 1:
        raise RunnerError(f"submit_array: max_parallel = {options.max_parallel}; give >= 1")
    workdir = Path(workdir).resolve()
    workdir.mkdir(mode=0o700, parents=True, exist_ok=True)
    pattern_dir = str(workdir).replace("%", "%%")  # sbatch expands %A, %a, ... in file names
    script = workdir / f"{options.job_name}.sbatch"
    tmp = script.with_name(f".{script.name}.{os.getpid()}.tmp")
    tmp.write_text(batch_script(command, env=env))
    tmp.chmod(0o755)
    os.replace(tmp, script)
    array = f"0-{tasks - 1}"
    if options.max_parallel is not None:
        array += f"%{options.max_parallel}"
    argv = [
        "sbatch",
        "--parsable",
        f"--array={array}",
        f"--chdir={workdir}",
        f"--output={pattern_dir}/slurm-%A_%a.out",
        f"--error={pattern_dir}/slurm-%A_%a.err",
        *options.sbatch_args(),
        str(script),
    ]
    out = _client(argv).stdout.strip()
    job_id = out.split(";")[0].strip()
    if not job_id.isdigit():
        raise RunnerError(f"{shlex.join(argv)} printed {out!r}, not a job id")
    return SlurmJob(job_id=job_id, tasks=tasks, workdir=workdir, script=script, options=options)


def _task_of(job_id: str, field_text: str) -> Iterable[int]:
    """Task ids named by ``ID_N`` or ``ID_[0-3,5%2]``; nothing for another job's text."""
    head, sep, tail = field_text.partition("_")
    if head != job_id or not sep:
        return ()
    if tail.isdigit():
        return (int(tail),)
    if not (tail.startswith("[") and tail.endswith("]")):
        return ()
    ids: list[int] = []
    for chunk in tail[1:-1].split("%")[0].split(","):
        lo, _, hi = chunk.partition("-")
        if lo.isdigit() and (not hi or hi.isdigit()):
            ids.extend(range(int(lo), int(hi or lo) + 1))
    return ids


def _listed_states(job_id: str, argv: Sequence[str]) -> dict[int, TaskState]:
    """Task states from a client printing ``ID_TASK|STATE`` lines; none if it refuses."""
    proc = _client(argv, check=False)
    if proc.returncode != 0:
        return {}
    states: dict[int, TaskState] = {}
    for line in proc.stdout.splitlines():
        ident, _, state = line.partition("|")
        for task in _task_of(job_id, ident.strip()):
            states[task] = fold_state(state)
    return states


def _from_squeue(job_id: str) -> dict[int, TaskState]:
    # squeue refuses ("Invalid job id specified") once slurmctld has purged the job.
    return _listed_states(job_id, ["squeue", "-h", "-r", "-t", "all", "-j", job_id, "-o", "%i|%T"])


def _from_sacct(job_id: str) -> dict[int, TaskState]:
    # Without an accounting database sacct refuses ("accounting storage is disabled").
    return _listed_states(job_id, ["sacct", "-n", "-P", "-X", "-j", job_id, "-o", "JobID,State"])


def jobcomp_file() -> Path | None:
    """The cluster's ``jobcomp/filetxt`` file, if it is configured and readable here."""
    proc = _client(["scontrol", "show", "config"], check=False)
    if proc.returncode != 0:
        return None
    conf = {}
    for line in proc.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            conf[key.strip()] = value.strip()
    if conf.get("JobCompType") != "jobcomp/filetxt" or not conf.get("JobCompLoc"):
        return None
    path = Path(conf["JobCompLoc"])
    return path if path.is_file() else None


def _from_jobcomp(job_id: str, path: Path) -> tuple[dict[int, TaskState], TaskState | None]:
    """Scan the jobcomp file (``Key=Value`` words, one finished job per line).

    Returns the per-task states and the state of the array's own record: the tasks still
    pending when the array was cancelled are not written one by one but as one line
    ``JobId=ID`` without an array task id, which then stands for every task not listed.
    """
    states: dict[int, TaskState] = {}
    whole: TaskState | None = None
    needle = f"ArrayJobId={job_id} "
    plain = f"JobId={job_id} "
    try:
        with path.open("r", encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if needle not in line and not line.startswith(plain):
                    continue
                words = dict(w.split("=", 1) for w in line.split() if "=" in w)
                state = fold_state(words.get("JobState", ""))
                if words.get("ArrayJobId") == job_id and words.get("ArrayTaskId", "").isdigit():
                    states[int(words["ArrayTaskId"])] = state
                elif words.get("JobId") == job_id and "ArrayTaskId" not in words:
                    whole = state
    except OSError as exc:
        raise RunnerError(f"{path}: cannot read the Slurm jobcomp file: {exc.strerror}") from None
    return states, whole


def task_states(
    job: SlurmJob | str, tasks: int | None = None, *, jobcomp: Path | None = None
) -> dict[int, TaskState]:
    """The state of every task of ``job`` (``0..tasks-1``), asking as few sources as needed.

    ``jobcomp`` names the jobcomp file when the submitter knows it; otherwise it is read
    from ``scontrol show config`` when squeue and sacct leave tasks unanswered.
    """
    job_id = job.job_id if isinstance(job, SlurmJob) else str(job)
    count = job.tasks if isinstance(job, SlurmJob) and tasks is None else tasks
    if count is None or count < 1:
        raise RunnerError(f"task_states: give the task count of job {job_id}")
    wanted = set(range(count))
    states = {t: s for t, s in _from_squeue(job_id).items() if t in wanted}
    if wanted - states.keys():
        for t, s in _from_sacct(job_id).items():
            if t in wanted and t not in states:
                states[t] = s
    if wanted - states.keys():
        path = jobcomp or jobcomp_file()
        if path is not None:
            listed, whole = _from_jobcomp(job_id, path)
            for t in wanted - states.keys():
                if t in listed:
                    states[t] = listed[t]
                elif whole is not None:
                    states[t] = whole
    return {t: states.get(t, TaskState.UNKNOWN) for t in sorted(wanted)}


def job_by_name(name: str) -> str | None:
    """The id of the job array named ``name`` that Slurm still knows, or None.

    For a submitter killed between ``sbatch`` answering and writing the id down: the job
    name is unique per dispatch, so it finds the array again (squeue, then sacct).
    """
    if not _NAME_RE.match(name):
        raise RunnerError(f"job_by_name: {name!r} is not a job name of [A-Za-z0-9_.-]")
    for argv in (
        ["squeue", "-h", "-t", "all", "--name", name, "-o", "%F"],
        ["sacct", "-n", "-P", "-X", "--name", name, "-o", "JobID"],
    ):
        proc = _client(argv, check=False)
        if proc.returncode != 0:
            continue
        for line in proc.stdout.split():
            head = line.split("_")[0].strip()
            if head.isdigit():
                return head
    return None


def cancel_slurm_job(job: SlurmJob | str, task: int | None = None) -> None:
    """Cancel the whole job array, or one task of it, through ``scancel``."""
    job_id = job.job_id if isinstance(job, SlurmJob) else str(job)
    if not job_id.isdigit():
        raise RunnerError(f"cancel_slurm_job: {job_id!r} is not a Slurm job id (digits)")
    _client(["scancel", job_id if task is None else f"{job_id}_{task}"])
