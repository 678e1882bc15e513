"""Job records, process identity, the detached worker and its hand-over, with real processes."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import psutil
import pytest
from _support import git, init_repo

from benchstone.api import ApiError
from benchstone.api._batch import DispatchPlan
from benchstone.api._job_files import (
    Job,
    JobFiles,
    current_process,
    live_state,
    new_job_id,
    now_utc,
    process_alive,
    validate_job_id,
)
from benchstone.api._job_process import (
    check_unchanged,
    finish,
    hand_over,
    plan_from_dict,
    plan_to_dict,
    record_run,
    spawn_worker,
    take_over,
    tracked,
)

DEADLINE = 20.0


def _job(**changes: object) -> Job:
    pid, started = current_process()
    base = Job(
        id=new_job_id(),
        kind="run",
        project="proj",
        benchmark="speed",
        root="/somewhere/proj",
        background=True,
        threads=1,
        gpus=0,
        total=3,
        created_at=now_utc(),
        state="queued",
        pid=pid,
        pid_started=started,
        plan={"git_sha": "a" * 40},
        options={"n": None, "notes": "x"},
        manifest_hash="sha256:" + "0" * 64,
    )
    return replace(base, **changes)


def _create(files: JobFiles, job: Job) -> Job:
    with files.locked():
        return files.create(job)


def _sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def test_a_record_round_trips_and_is_private(tmp_path: Path) -> None:
    files = JobFiles(tmp_path / "jobs")
    job = _create(files, _job(run_ids=(4, 5)))
    path = files.path(job)
    assert path == tmp_path / "jobs" / f"{job.id}.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "jobs").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "jobs" / "finished").st_mode) == 0o700
    assert json.loads(path.read_text())["format"] == "benchstone-job-v1"
    assert files.load(job.id) == job
    assert Job.from_dict(job.to_dict()) == job
    with files.locked(), pytest.raises(ApiError, match="already exists"):
        files.create(job)


def test_finishing_moves_the_record_out_of_the_unfinished_folder(tmp_path: Path) -> None:
    files = JobFiles(tmp_path / "jobs")
    first = _create(files, _job())
    second = _create(files, _job())
    done = finish(files, first.id, state="done", message="3 ok", run_ids=[1, 2, 3])
    assert done.state == "done" and done.run_ids == (1, 2, 3) and done.finished_at
    assert not (tmp_path / "jobs" / f"{first.id}.json").exists()
    assert (tmp_path / "jobs" / "finished" / f"{first.id}.json").is_file()
    assert [j.id for j in files.unfinished()] == [second.id]
    assert [j.id for j in files.finished()] == [first.id]
    assert files.load(first.id) == done
    with pytest.raises(ApiError, match="cannot finish in state 'stale'"):
        finish(files, second.id, state="stale", message=None)


def test_process_identity_is_pid_and_start_time(tmp_path: Path) -> None:
    child = _sleeper()
    try:
        started = psutil.Process(child.pid).create_time()
        assert process_alive(child.pid, started)
        # Same pid, another start time: a stranger that inherited the pid.
        assert not process_alive(child.pid, started - 1000.0)
        assert not process_alive(child.pid, None)
        child.kill()
        # Killed but not yet reaped: a zombie is not alive either.
        deadline = time.monotonic() + DEADLINE
        while psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert not process_alive(child.pid, started)
    finally:
        child.kill()
        child.wait()
    assert not process_alive(child.pid, started)


def test_live_state_marks_unfinished_records_of_dead_processes_stale(tmp_path: Path) -> None:
    child = _sleeper()
    started = psutil.Process(child.pid).create_time()
    child.kill()
    child.wait()
    pid, my_start = current_process()
    assert live_state(_job(state="running")) == "running"
    assert live_state(_job(state="queued")) == "queued"
    assert live_state(_job(state="running", pid=child.pid, pid_started=started)) == "stale"
    assert live_state(_job(state="running", pid=pid, pid_started=my_start - 500)) == "stale"
    assert live_state(_job(state="running", pid=None, pid_started=None)) == "stale"
    # A finished job keeps its outcome whatever became of its process.
    assert live_state(_job(state="done", pid=child.pid, pid_started=started)) == "done"
    assert live_state(_job(state="failed", pid=child.pid, pid_started=started)) == "failed"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not a job record"),
        ("[1, 2]", "not a JSON object"),
        ('{"format": "other"}', "key 'format' must be 'benchstone-job-v1'"),
    ],
)
def test_a_damaged_record_is_an_error_naming_the_file(
    tmp_path: Path, content: str, expected: str
) -> None:
    files = JobFiles(tmp_path / "jobs")
    files.ensure()
    path = tmp_path / "jobs" / "20260101-000000-abcdef.json"
    path.write_text(content)
    with pytest.raises(ApiError) as info:
        files.unfinished()
    assert str(path) in str(info.value) and expected in str(info.value)
    assert "\n" not in str(info.value)


def test_a_bad_field_names_its_key_and_a_renamed_file_is_refused(tmp_path: Path) -> None:
    files = JobFiles(tmp_path / "jobs")
    job = _create(files, _job())
    data = job.to_dict()
    data["threads"] = "2"
    files.path(job).write_text(json.dumps(data))
    with pytest.raises(ApiError, match=r"key 'threads' must be an integer >= 1, got '2'"):
        files.load(job.id)
    other = tmp_path / "jobs" / "20260101-000000-abcdef.json"
    files.path(job).rename(other)
    other.write_text(json.dumps(job.to_dict()))
    with pytest.raises(ApiError, match="the file name must match its id"):
        files.unfinished()


@pytest.mark.parametrize("bad", ["../../etc/passwd", "", "20260101-000000-ABCDEF", "x" * 22])
def test_job_ids_that_could_escape_the_folder_are_refused(bad: str) -> None:
    with pytest.raises(ApiError, match="is not valid"):
        validate_job_id(bad)
    assert validate_job_id(new_job_id())


def test_the_worker_is_detached_with_a_private_log(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    script = textwrap.dedent(
        """\
        import os, sys
        print("sid", os.getsid(0), "pid", os.getpid(), flush=True)
        print("stdin", repr(sys.stdin.read()), flush=True)
        print("cwd", os.getcwd(), flush=True)
        print("marker", os.environ.get("MARKER"), flush=True)
        print("fds", sorted(int(fd) for fd in os.listdir("/proc/self/fd")), flush=True)
        print("end .", flush=True)
        """
    )
    pid = spawn_worker(
        [sys.executable, "-c", script],
        log_path=log,
        env=dict(os.environ, MARKER="m1"),
    )
    deadline = time.monotonic() + DEADLINE
    while "end" not in (log.read_text() if log.exists() else ""):
        assert time.monotonic() < deadline, "the worker never finished"
        time.sleep(0.02)
    lines = dict(line.split(" ", 1) for line in log.read_text().splitlines())
    assert lines["sid"] == f"{pid} pid {pid}"  # a session of its own: no terminal of ours
    assert os.getsid(0) != pid
    assert lines["stdin"] == "''"
    assert lines["cwd"] == "/"
    assert lines["marker"] == "m1"
    # stdin, stdout, stderr and the descriptor listing /proc/self/fd: nothing inherited.
    assert json.loads(lines["fds"]) == [0, 1, 2, 3]
    assert stat.S_IMODE(os.stat(log).st_mode) == 0o600
    # Reaped by spawn_worker's own waiter: no zombie is left for the caller to wait on.
    while Path(f"/proc/{pid}").exists():
        assert time.monotonic() < deadline, "the finished worker was never reaped"
        time.sleep(0.02)


def test_spawning_a_missing_program_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ApiError, match="cannot start the background worker"):
        spawn_worker(["/nonexistent/python"], log_path=tmp_path / "w.log", env=os.environ)


def test_hand_over_then_take_over(tmp_path: Path) -> None:
    files = JobFiles(tmp_path / "jobs")
    child = _sleeper()
    try:
        job = _create(files, _job())
        handed = hand_over(files, job.id, child.pid)
        assert handed.pid == child.pid
        assert handed.pid_started == psutil.Process(child.pid).create_time()
        assert live_state(handed) == "queued"
        taken = take_over(files, job.id)
        assert taken.state == "running" and taken.pid == os.getpid() and taken.started_at
        with pytest.raises(ApiError, match="is running, not queued"):
            take_over(files, job.id)
    finally:
        child.kill()
        child.wait()


def test_a_late_hand_over_does_not_undo_the_take_over(tmp_path: Path) -> None:
    files = JobFiles(tmp_path / "jobs")
    job = _create(files, _job())
    taken = take_over(files, job.id)
    child = _sleeper()
    try:
        assert hand_over(files, job.id, child.pid) == taken
    finally:
        child.kill()
        child.wait()
    assert files.load(job.id) == taken


def test_tracked_records_the_outcome_whatever_happens(tmp_path: Path) -> None:
    files = JobFiles(tmp_path / "jobs")
    ok = _create(files, _job(state="running"))
    with tracked(files, ok.id) as outcome:
        record_run(files, ok.id, 7)
        assert files.load(ok.id).run_ids == (7,)
        outcome.message = "1 ok"
        outcome.run_ids = (7,)
    assert files.load(ok.id).state == "done" and files.load(ok.id).message == "1 ok"

    broken = _create(files, _job(state="running"))
    with pytest.raises(ApiError), tracked(files, broken.id):
        raise ApiError("corpus drifted")
    assert (files.load(broken.id).state, files.load(broken.id).message) == (
        "failed",
        "corpus drifted",
    )

    other = _create(files, _job(state="running"))
    with pytest.raises(ValueError), tracked(files, other.id):
        raise ValueError("bad\nvalue")
    assert files.load(other.id).message == "ValueError: bad value"

    stopped = _create(files, _job(state="running"))
    with pytest.raises(KeyboardInterrupt), tracked(files, stopped.id):
        raise KeyboardInterrupt
    assert files.load(stopped.id).message == "interrupted (Ctrl-C)"


def test_concurrent_writers_do_not_lose_run_ids(tmp_path: Path) -> None:
    files = JobFiles(tmp_path / "jobs")
    job = _create(files, _job(state="running"))
    script = textwrap.dedent(
        f"""\
        from benchstone.api._job_files import JobFiles
        from benchstone.api._job_process import record_run
        files = JobFiles({str(tmp_path / "jobs")!r})
        import sys
        base = int(sys.argv[1])
        for i in range(25):
            record_run(files, {job.id!r}, base + i)
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(base)]) for base in (0, 100)]
    for proc in procs:
        assert proc.wait(timeout=60) == 0
    assert sorted(files.load(job.id).run_ids) == [*range(25), *range(100, 125)]


def _plan(sha: str, dirty: bool = False) -> DispatchPlan:
    return DispatchPlan(
        project="proj",
        benchmark="speed",
        git_sha=sha,
        git_dirty=dirty,
        diff_path=None,
        seeds=(1, 2, 3),
        meta_seed=None,
        seed_set="baseline",
        corpus_digest=None,
    )


def test_check_unchanged_refuses_a_moved_head_or_a_changed_tree(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "a.txt").write_text("one\n")
    init_repo(root, "one")
    sha = git(root, "rev-parse", "HEAD")
    check_unchanged(root, _plan(sha))
    (root / "a.txt").write_text("two\n")
    with pytest.raises(ApiError, match="became dirty"):
        check_unchanged(root, _plan(sha))
    check_unchanged(root, _plan(sha, dirty=True))
    git(root, "commit", "-q", "-am", "two")
    with pytest.raises(ApiError, match=f"HEAD moved from {sha[:10]}"):
        check_unchanged(root, _plan(sha))


def test_plans_round_trip_through_a_record() -> None:
    plan = _plan("b" * 40)
    data = json.loads(json.dumps(plan_to_dict(plan)))
    assert plan_from_dict(data, "job.json") == plan
    del data["seeds"]
    data["extra"] = 1
    with pytest.raises(ApiError, match=r"missing keys \['seeds'\] and unknown keys \['extra'\]"):
        plan_from_dict(data, "job.json")


def test_a_killed_process_leaves_a_stale_record(tmp_path: Path) -> None:
    files = JobFiles(tmp_path / "jobs")
    child = _sleeper()
    try:
        running = _create(
            files,
            _job(
                state="running",
                pid=child.pid,
                pid_started=psutil.Process(child.pid).create_time(),
            ),
        )
        assert live_state(running) == "running"
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        assert live_state(files.load(running.id)) == "stale"
    finally:
        child.kill()
        child.wait()
