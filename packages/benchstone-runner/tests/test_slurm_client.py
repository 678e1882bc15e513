"""The Slurm client's own pieces that need no cluster: the batch script, the state folding,
and the refusal when the Slurm commands are not installed (a real PATH without them)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from benchstone.runner import RunnerError, SlurmOptions, TaskState, submit_array, task_states
from benchstone.runner._slurm import _task_of, batch_script, fold_state


def test_batch_script_passes_arguments_verbatim_and_the_task_id(tmp_path: Path) -> None:
    """Shell syntax in an argument reaches the worker as text, never as shell."""
    hostile = "$(touch pwned); `touch pwned2` 'q' \"d\" *"
    script = tmp_path / "job.sbatch"
    script.write_text(
        batch_script(
            ["python3", "-c", "import sys; print(sys.argv[1:])", hostile, "rep-{task}.x", ""],
            env={"BENCH_SPOOL": "/spool dir/$HOME"},
        )
    )
    out = subprocess.run(
        ["sh", str(script)],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "SLURM_ARRAY_TASK_ID": "7"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == repr([hostile, "rep-7.x", ""])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job.sbatch"]
    assert "export BENCH_SPOOL='/spool dir/$HOME'" in script.read_text()


def test_batch_script_refuses_bad_input() -> None:
    with pytest.raises(RunnerError, match="the command is empty"):
        batch_script([])
    with pytest.raises(RunnerError, match="environment name 'A-B' is not a shell name"):
        batch_script(["true"], env={"A-B": "x"})


def test_state_names_fold() -> None:
    assert fold_state("CANCELLED by 0") is TaskState.CANCELLED
    assert fold_state("COMPLETED") is TaskState.DONE
    assert fold_state("OUT_OF_MEMORY") is TaskState.FAILED
    assert fold_state("TIMEOUT") is TaskState.FAILED
    assert fold_state("PENDING") is TaskState.PENDING
    assert fold_state("COMPLETING") is TaskState.RUNNING
    assert fold_state("something new") is TaskState.UNKNOWN
    assert not TaskState.RUNNING.finished and TaskState.CANCELLED.finished


def test_array_ids_expand() -> None:
    assert list(_task_of("12", "12_3")) == [3]
    assert list(_task_of("12", "12_[0-2,5%2]")) == [0, 1, 2, 5]
    assert list(_task_of("12", "13_1")) == []
    assert list(_task_of("12", "12")) == []


def test_options_become_sbatch_arguments() -> None:
    opts = SlurmOptions(
        partition="p", account="a", time_limit="1:00:00", extra_args=("--qos=x",), exclusive=True
    )
    assert opts.sbatch_args() == [
        "--job-name=benchstone",
        "--partition=p",
        "--account=a",
        "--time=1:00:00",
        "--nodes=1",
        "--exclusive",
        "--qos=x",
    ]


def test_missing_slurm_commands_are_one_line_errors(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a real PATH with no Slurm on it
    with pytest.raises(RunnerError) as err:
        submit_array(["true"], 2, workdir=tmp_path / "spool")
    assert str(err.value).startswith("sbatch not found on PATH")
    with pytest.raises(RunnerError, match="squeue not found on PATH"):
        task_states("5", 1)


def test_task_count_is_checked(tmp_path: Path) -> None:
    with pytest.raises(RunnerError, match="tasks = 0; a job array needs at least 1"):
        submit_array(["true"], 0, workdir=tmp_path)
    with pytest.raises(RunnerError, match="job name 'a b' must be"):
        submit_array(["true"], 1, workdir=tmp_path, options=SlurmOptions(job_name="a b"))
