"""The Slurm client primitives against the real single-node cluster of ci/slurm/."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import pytest

from benchstone.runner import (
    RunnerError,
    SlurmOptions,
    TaskState,
    cancel_slurm_job,
    job_by_name,
    submit_array,
    task_states,
)
from benchstone.runner._slurm import _from_jobcomp

DEADLINE = 180.0  # generous bound on a loaded CI machine; not a timing assertion


def _wait(job, *, want_finished: bool = True, jobcomp: Path | None = None):
    end = time.monotonic() + DEADLINE
    while True:
        states = task_states(job, jobcomp=jobcomp)
        if all(s.finished for s in states.values()) == want_finished:
            return states
        if time.monotonic() > end:
            pytest.fail(f"job {job.job_id} not finished after {DEADLINE:.0f}s: {states}")
        time.sleep(0.5)


def test_array_of_four_tasks_runs_each_task_once(slurm_cluster, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    job = submit_array(
        ["sh", "-c", 'echo "$1 on $(hostname -s)" > "$2/task-$1"', "sh", "{task}", str(out)],
        4,
        workdir=tmp_path / "spool",
        options=SlurmOptions(partition=slurm_cluster.partition, time_limit="5", job_name="four"),
    )
    states = _wait(job)
    assert states == dict.fromkeys(range(4), TaskState.DONE)
    written = {p.name: p.read_text().split() for p in out.iterdir()}
    assert written == {f"task-{t}": [str(t), "on", slurm_cluster.node] for t in range(4)}


def test_failed_task_is_failed_and_its_stderr_is_kept(slurm_cluster, tmp_path: Path) -> None:
    job = submit_array(
        ["sh", "-c", 'if [ "$1" = 1 ]; then echo "boom $1" >&2; exit 3; fi', "sh", "{task}"],
        2,
        workdir=tmp_path / "100%a-done",  # "%a" is a literal, not the array id
        options=SlurmOptions(partition=slurm_cluster.partition, job_name="fails"),
    )
    assert _wait(job) == {0: TaskState.DONE, 1: TaskState.FAILED}
    assert job.stderr_path(1).read_text().strip() == "boom 1"
    assert job.stderr_path(0).read_text() == ""


def test_finished_states_come_from_the_jobcomp_file(slurm_cluster, tmp_path: Path) -> None:
    """After squeue forgets a job (MinJobAge), the jobcomp file still answers."""
    job = submit_array(
        ["sh", "-c", 'test "$1" != 0', "sh", "{task}"],
        2,
        workdir=tmp_path,
        options=SlurmOptions(partition=slurm_cluster.partition, job_name="comp"),
    )
    _wait(job)
    end = time.monotonic() + DEADLINE
    while len(_from_jobcomp(job.job_id, slurm_cluster.jobcomp)[0]) < 2:
        assert time.monotonic() < end, "jobcomp file never listed both tasks"
        time.sleep(0.2)
    listed, _ = _from_jobcomp(job.job_id, slurm_cluster.jobcomp)
    assert listed == {0: TaskState.FAILED, 1: TaskState.DONE}


def test_cancel_cancels_running_and_pending_tasks(slurm_cluster, tmp_path: Path) -> None:
    job = submit_array(
        ["sleep", "300"],
        3,
        workdir=tmp_path,
        options=SlurmOptions(partition=slurm_cluster.partition, job_name="cancelme"),
    )
    assert not any(s.finished for s in task_states(job).values())
    cancel_slurm_job(job)
    assert _wait(job) == dict.fromkeys(range(3), TaskState.CANCELLED)
    end = time.monotonic() + DEADLINE
    while True:  # the file is written as slurmctld finishes the records
        listed, whole = _from_jobcomp(job.job_id, slurm_cluster.jobcomp)
        if len(listed) + (whole is not None) >= 1 and (whole or len(listed) == 3):
            break
        assert time.monotonic() < end, "jobcomp file never recorded the cancelled array"
        time.sleep(0.2)
    assert set(listed.values()) | {whole} <= {TaskState.CANCELLED, None}


def test_exclusive_one_node_job_lands_on_the_node(slurm_cluster, tmp_path: Path) -> None:
    job = submit_array(
        ["sh", "-c", 'echo "$SLURM_JOB_NODELIST $SLURM_JOB_NUM_NODES" >nodes-$1', "sh", "{task}"],
        2,
        workdir=tmp_path,
        options=SlurmOptions(partition=slurm_cluster.partition, exclusive=True, job_name="excl"),
    )
    assert _wait(job) == dict.fromkeys(range(2), TaskState.DONE)
    for task in range(2):
        assert (tmp_path / f"nodes-{task}").read_text().split() == [slurm_cluster.node, "1"]


def test_sbatch_refusal_names_the_command_and_its_stderr(slurm_cluster, tmp_path: Path) -> None:
    with pytest.raises(RunnerError) as err:
        submit_array(["true"], 1, workdir=tmp_path, options=SlurmOptions(partition="no-such"))
    message = str(err.value)
    assert message.startswith("sbatch --parsable --array=0-0 ")
    assert "invalid partition" in message.lower()
    assert "\n" not in message


def test_a_job_is_found_again_by_its_name(slurm_cluster, tmp_path: Path) -> None:
    name = f"find-{secrets.token_hex(8)}"  # unique, as a dispatch's job name is
    job = submit_array(
        ["true"],
        1,
        workdir=tmp_path,
        options=SlurmOptions(partition=slurm_cluster.partition, job_name=name),
    )
    assert job_by_name(name) == job.job_id
    assert job_by_name(f"none-{secrets.token_hex(8)}") is None
