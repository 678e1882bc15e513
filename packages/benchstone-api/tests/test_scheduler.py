"""Scheduler admission: budgets from the environment, refusals that name them, and a lock."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from benchstone.api import ApiError
from benchstone.api._job_files import Job, JobFiles, current_process, new_job_id, now_utc
from benchstone.api._scheduler import Budget, admit, claim_of, host_budget, live_jobs
from benchstone.runner import load_manifest

DEADLINE = 30.0


def _job(threads: int = 1, gpus: int = 0, **changes: object) -> Job:
    pid, started = current_process()
    job = Job(
        id=new_job_id(),
        kind="run",
        project="proj",
        benchmark="speed",
        root="/p",
        background=False,
        threads=threads,
        gpus=gpus,
        total=2,
        created_at=now_utc(),
        state="running",
        pid=pid,
        pid_started=started,
    )
    return replace(job, **changes)


def test_budget_defaults_to_the_host_cpu_count_and_no_gpu() -> None:
    budget = host_budget({})
    assert budget == Budget(
        threads=psutil.cpu_count(), gpus=0, threads_from_env=False, gpus_from_env=False
    )
    assert budget.describe_threads().endswith("(unset: the host's CPU count)")
    assert "GPUs are not detected" in budget.describe_gpus()
    assert host_budget({"BENCHSTONE_MAX_THREADS": " 12 ", "BENCHSTONE_GPU_COUNT": "2"}) == Budget(
        threads=12, gpus=2
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BENCHSTONE_MAX_THREADS", "0"),
        ("BENCHSTONE_MAX_THREADS", "four"),
        ("BENCHSTONE_MAX_THREADS", "2.5"),
        ("BENCHSTONE_GPU_COUNT", "-1"),
    ],
)
def test_a_bad_budget_variable_is_named(name: str, value: str) -> None:
    with pytest.raises(ApiError) as info:
        host_budget({name: value})
    assert f"{name}={value!r} is not valid" in str(info.value)


def test_claims_come_from_the_manifest(tmp_path: Path) -> None:
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "manifest.toml").write_text(
        textwrap.dedent(
            """\
            [project]
            name = "p"
            invocation = "true {config_path} {output_path}"

            [[benchmarks]]
            name = "cpu"
            tier = "performance"
            metric_direction = "minimize"
            threads = 3

            [[benchmarks]]
            name = "gpu"
            tier = "quality"
            metric_direction = "maximize"
            gpu = "ollama"
            """
        )
    )
    manifest = load_manifest(tmp_path)
    assert claim_of(manifest.benchmark("cpu")) == (3, 0)
    assert claim_of(manifest.benchmark("gpu")) == (1, 1)


def test_over_commit_is_refused_naming_the_budget_and_the_jobs(tmp_path: Path) -> None:
    files = JobFiles(tmp_path / "jobs")
    budget = Budget(threads=4, gpus=0)
    holder = admit(files, _job(threads=3), budget)
    with pytest.raises(ApiError) as info:
        admit(files, _job(threads=2), budget)
    message = str(info.value)
    assert message.startswith(
        "proj/speed needs 2 thread(s) but only 1 of BENCHSTONE_MAX_THREADS=4 are free (jobs: "
    )
    assert f"{holder.id} proj/speed 3 thread(s)" in message
    assert [job.id for job in files.unfinished()] == [holder.id]
    fits = admit(files, _job(threads=1), budget)
    assert [job.id for job in live_jobs(files)] == [holder.id, fits.id]


def test_a_claim_larger_than_the_whole_budget_says_how_to_allow_it(tmp_path: Path) -> None:
    files = JobFiles(tmp_path / "jobs")
    with pytest.raises(ApiError) as info:
        admit(files, _job(threads=8), Budget(threads=2, gpus=0, threads_from_env=False))
    assert "needs 8 thread(s) but BENCHSTONE_MAX_THREADS=2 (unset: the host's CPU count)" in str(
        info.value
    )
    assert "set BENCHSTONE_MAX_THREADS=8" in str(info.value)
    with pytest.raises(ApiError, match=r"needs 1 GPU.* BENCHSTONE_GPU_COUNT=0"):
        admit(files, _job(gpus=1), Budget(threads=2, gpus=0, gpus_from_env=False))


def test_gpus_are_a_budget_of_their_own(tmp_path: Path) -> None:
    files = JobFiles(tmp_path / "jobs")
    budget = Budget(threads=8, gpus=1)
    holder = admit(files, _job(gpus=1), budget)
    with pytest.raises(ApiError) as info:
        admit(files, _job(gpus=1), budget)
    assert "needs 1 GPU(s) but only 0 of BENCHSTONE_GPU_COUNT=1 are free" in str(info.value)
    assert holder.id in str(info.value)
    admit(files, _job(gpus=0), budget)  # a CPU job still fits


def test_finished_and_stale_jobs_hold_no_claim(tmp_path: Path) -> None:
    files = JobFiles(tmp_path / "jobs")
    budget = Budget(threads=1, gpus=0)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    started = psutil.Process(child.pid).create_time()
    child.wait()
    pid, my_start = current_process()
    with files.locked():
        files.create(_job(pid=child.pid, pid_started=started))  # its process is gone
        files.create(_job(pid=pid, pid_started=my_start - 100.0))  # a stranger has the pid
        files.create(_job(state="done"))
    assert live_jobs(files) == []
    admit(files, _job(), budget)


_CONTENDER = textwrap.dedent(
    """\
    import sys, time
    from benchstone.api import ApiError
    from benchstone.api._job_files import JobFiles, new_job_id, now_utc
    from benchstone.api._scheduler import Budget, admit
    from benchstone.api._job_files import Job, current_process
    jobs, go, stop = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    pid, started = current_process()
    job = Job(id=new_job_id(), kind="run", project="proj", benchmark="speed", root="/p",
              background=False, threads=1, gpus=0, total=1, created_at=now_utc(),
              state="running", pid=pid, pid_started=started)
    while time.time() < go:
        time.sleep(0.001)
    try:
        admit(JobFiles(jobs), job, Budget(threads=1, gpus=0))
        print("admitted", flush=True)
    except ApiError:
        print("refused", flush=True)
    import os
    deadline = time.time() + 30
    while not os.path.exists(stop) and time.time() < deadline:
        time.sleep(0.01)
    """
)


def test_concurrent_admissions_cannot_both_take_the_last_slot(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs"
    stop = tmp_path / "stop"
    go = time.time() + 1.5  # every contender imported and waiting, then all at once
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CONTENDER, str(jobs), str(go), str(stop)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    try:
        answers = [proc.stdout.readline().strip() for proc in procs]
    finally:
        stop.touch()
        for proc in procs:
            proc.wait(timeout=DEADLINE)
            proc.stdout.close()
    assert sorted(answers) == ["admitted", "refused", "refused", "refused"]
    assert len(JobFiles(jobs).unfinished()) == 1
