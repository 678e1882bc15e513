"""Background jobs, `bench status` and scheduler admission, through the installed `bench`.

The projects' runners can be held: while the test's HOLD file exists a repetition waits
(never longer than a minute), so a job can be caught running, killed, or crowded out, and
released afterwards. Every wait polls `bench status --json` against a deadline.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from _support import (
    PROTOCOL_ARGS,
    Result,
    bench_command,
    commit_all,
    git,
    live_processes_in,
)

from benchstone.api._job_files import Job, JobFiles, now_utc
from benchstone.api._job_process import finish

DEADLINE = 60.0

RUNNER = """\
import json, os, sys, time
HOLD = {hold!r}
STARTED = {started!r}
args = dict(a.split("=", 1) for a in sys.argv[1:])
config = json.load(open(args["--config"]))
os.makedirs(STARTED, exist_ok=True)
with open(os.path.join(STARTED, "%d-%d" % (config["seed"], os.getpid())), "w") as f:
    f.write(os.path.dirname(args["--config"]))
deadline = time.time() + 60
while config["benchmark"] == "speed" and os.path.exists(HOLD) and time.time() < deadline:
    time.sleep(0.02)
metric = {level} + config["seed"] / 1000
open(args["--output"], "w").write(json.dumps({{"status": "ok", "metric": metric}}))
"""

MANIFEST = """\
[project]
name = "{name}"
invocation = "{python} bench/runner.py {args}"

[[benchmarks]]
name = "speed"
tier = "performance"
metric_direction = "minimize"
repetitions = 2
baseline_seeds = [1, 2]

[[benchmarks]]
name = "heavy"
tier = "performance"
metric_direction = "minimize"
repetitions = 2
baseline_seeds = [1, 2]
background_required = true

[[benchmarks]]
name = "quick"
tier = "performance"
metric_direction = "minimize"
repetitions = 1
baseline_seeds = [1]

[[benchmarks]]
name = "wide"
tier = "performance"
metric_direction = "minimize"
repetitions = 2
baseline_seeds = [1, 2]
threads = 2
"""


class Held:
    """A registered project whose runner waits in benchmark 'speed' while ``hold`` exists."""

    def __init__(self, root: Path, hold: Path, started: Path) -> None:
        self.root = root
        self.hold = hold
        self.started = started

    def started_pids(self) -> list[int]:
        if not self.started.is_dir():
            return []
        return [int(name.split("-")[1]) for name in os.listdir(self.started)]

    def run_dirs(self) -> list[Path]:
        """The per-repetition temp dirs the harness made (a killed worker leaves its own)."""
        if not self.started.is_dir():
            return []
        return [Path((self.started / name).read_text()) for name in os.listdir(self.started)]

    def write_runner(self, level: float) -> None:
        (self.root / "bench" / "runner.py").write_text(
            RUNNER.format(hold=str(self.hold), started=str(self.started), level=level)
        )


@pytest.fixture
def held(tmp_path: Path, home: Path) -> Iterator[Held]:
    root = tmp_path / "bg"
    (root / "bench").mkdir(parents=True)
    project = Held(root, tmp_path / "hold", tmp_path / "started")
    (root / "bench" / "manifest.toml").write_text(
        MANIFEST.format(name="bg", python=sys.executable, args=PROTOCOL_ARGS)
    )
    project.write_runner(1.0)
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "initial")
    assert run_bench(home, "register", str(root)).code == 0
    try:
        yield project
    finally:
        # Release anything still held, then make sure nothing of ours outlives the test.
        project.hold.unlink(missing_ok=True)
        deadline = time.monotonic() + DEADLINE  # runner pids are the sandbox's own
        while live_processes_in(project.root) and time.monotonic() < deadline:
            time.sleep(0.05)
        for path in project.run_dirs():
            if path.name.startswith("benchstone-run-"):
                shutil.rmtree(path, ignore_errors=True)
        for job in jobs(home, include_finished=True):
            if job["state"] in ("queued", "running") and job["pid"] != os.getpid():
                _wait_gone([job["pid"]])


def _wait_gone(pids: list[int]) -> None:
    deadline = time.monotonic() + DEADLINE
    for pid in pids:
        while psutil.pid_exists(pid) and time.monotonic() < deadline:
            try:
                if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.NoSuchProcess:
                break
            time.sleep(0.05)


def run_bench(home: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("BENCHSTONE_")}
    full_env.update(BENCHSTONE_HOME=str(home), **(env or {}))
    proc = subprocess.run(
        [*bench_command(), *args], capture_output=True, text=True, env=full_env, timeout=120
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def jobs(home: Path, *, include_finished: bool = True) -> list[dict]:
    r = run_bench(home, "status", "--json", *(["--all"] if include_finished else []))
    assert r.code == 0, r.err
    return json.loads(r.out)["jobs"]


def wait_job(home: Path, job_id: str, until: Callable[[dict], bool]) -> dict:
    deadline = time.monotonic() + DEADLINE
    while True:
        found = {job["id"]: job for job in jobs(home)}
        job = found.get(job_id)
        if job is not None and until(job):
            return job
        assert time.monotonic() < deadline, f"job {job_id} never got there: {job}"
        time.sleep(0.1)


def finished(job: dict) -> bool:
    return job["state"] in ("done", "failed", "stale")


def dispatch(home: Path, *args: str, env: dict[str, str] | None = None) -> dict:
    r = run_bench(home, *args, "--background", "--json", env=env)
    assert r.code == 0, r.err
    document = json.loads(r.out)
    assert document["background"] is True and document["runs"] == []
    return document["job"]


def history(home: Path, benchmark: str = "speed") -> dict:
    r = run_bench(home, "history", "bg", benchmark, "--json")
    assert r.code == 0, r.err
    return json.loads(r.out)


def test_a_background_run_finishes_and_status_shows_its_runs(home: Path, held: Held) -> None:
    r = run_bench(home, "run", "bg", "speed", "--background")
    assert r.code == 0, r.err
    first = r.lines[0]
    assert first.startswith("dispatched 2 run(s) in the background  job=")
    job_id = first.split("job=")[1].split()[0]
    pid = int(first.split("pid=")[1])
    sha = git(held.root, "rev-parse", "HEAD")
    assert r.lines[1].startswith(f"  git_sha={sha[:10]}  dirty=False  meta_seed=")

    job = wait_job(home, job_id, finished)
    assert job["state"] == "done", job
    assert job["kind"] == "run" and job["background"] is True and job["pid"] == pid
    assert job["progress"] == "2/2" and job["message"] == f"2 ok, 0 error run(s) at {sha[:10]}"
    rows = [run for run in history(home)["runs"] if run["job_id"] == job_id]
    assert sorted(run["id"] for run in rows) == sorted(job["run_ids"])
    assert {run["git_sha"] for run in rows} == {sha} and len(rows) == 2

    # Private files: the record, the worker's log (which has the same lines a foreground
    # run prints).
    record = home / "jobs" / "finished" / f"{job_id}.json"
    log = Path(job["log_path"])
    assert stat.S_IMODE(os.stat(record).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(log).st_mode) == 0o600
    assert f"job {job_id} done" in log.read_text()

    # Finished jobs leave the default view; --all keeps them.
    assert [j["id"] for j in jobs(home, include_finished=False)] == []
    r = run_bench(home, "status")
    assert r.code == 0 and r.lines == [
        "no queued, running or stale jobs (`bench status --all` lists finished ones too)"
    ]
    r = run_bench(home, "status", "--all")
    assert r.lines[0].split() == [
        "job",
        "project/benchmark",
        "kind",
        "state",
        "pid",
        "progress",
        "started",
        "outcome",
    ]
    assert r.lines[1].split()[:6] == [job_id, "bg/speed", "run", "(bg)", "done", str(pid)]


def test_a_background_establish_moves_the_pointer_when_done(home: Path, held: Held) -> None:
    sha = git(held.root, "rev-parse", "HEAD")
    job = dispatch(home, "baseline", "establish", "bg", "speed")
    job = wait_job(home, job["id"], finished)
    assert job["state"] == "done", job
    assert job["message"] == f"baseline set: bg/speed -> {sha[:10]} (2 run(s))"
    pointer = history(home)["baseline"]
    assert pointer["git_sha"] == sha and pointer["action"] == "establish"
    assert sorted(pointer["run_ids"]) == sorted(job["run_ids"])
    r = run_bench(home, "evaluate", "bg", "speed")
    assert "NEEDS_MORE_DATA" in r.out  # a baseline exists now; no candidates yet


def test_a_killed_worker_shows_as_stale(home: Path, held: Held) -> None:
    held.hold.touch()
    job = dispatch(home, "run", "bg", "speed")
    job = wait_job(home, job["id"], lambda j: j["state"] == "running")
    deadline = time.monotonic() + DEADLINE
    while not held.started_pids():
        assert time.monotonic() < deadline, "the repetition never started"
        time.sleep(0.05)
    os.kill(job["pid"], signal.SIGKILL)
    job = wait_job(home, job["id"], lambda j: j["state"] != "running")
    assert job["state"] == "stale"
    r = run_bench(home, "status")
    assert r.code == 0
    assert job["id"] in r.out and " stale " in r.out and f"process {job['pid']} is gone" in r.out


def test_a_live_pid_with_another_start_time_is_stale_not_running(home: Path, held: Held) -> None:
    me = psutil.Process()
    files = JobFiles(home / "jobs")
    records = []
    for name, started in (("mine", me.create_time()), ("reused", me.create_time() - 1000.0)):
        record = Job(
            id=f"20260101-00000{len(records)}-abcdef",
            kind="run",
            project="bg",
            benchmark=name,
            root=str(held.root),
            background=True,
            threads=1,
            gpus=0,
            total=2,
            created_at=now_utc(),
            state="running",
            pid=me.pid,
            pid_started=started,
        )
        with files.locked():
            files.create(record)
        records.append(record)
    states = {job["benchmark"]: job["state"] for job in jobs(home, include_finished=False)}
    assert states == {"mine": "running", "reused": "stale"}
    finish(files, records[0].id, state="done", message="finished by the test")
    states = {job["benchmark"]: job["state"] for job in jobs(home)}
    assert states == {"mine": "done", "reused": "stale"}


def test_over_commit_is_refused_naming_the_budget(home: Path, held: Held) -> None:
    one = {"BENCHSTONE_MAX_THREADS": "1"}
    held.hold.touch()
    job = dispatch(home, "run", "bg", "speed", env=one)
    job = wait_job(home, job["id"], lambda j: j["state"] == "running")

    for args in (("run", "bg", "speed"), ("run", "bg", "speed", "--background")):
        r = run_bench(home, *args, env=one)
        assert r.code == 10, r.out
        assert r.err.startswith(
            "Error: bg/speed needs 1 thread(s) but only 0 of BENCHSTONE_MAX_THREADS=1 are free "
            f"(jobs: {job['id']} bg/speed 1 thread(s) pid {job['pid']})"
        ), r.err
        assert r.err.count("\n") == 1
    r = run_bench(home, "run", "bg", "wide", env=one)
    assert r.code == 10 and "needs 2 thread(s) but BENCHSTONE_MAX_THREADS=1 allows" in r.err
    # A larger budget admits another job beside the held one.
    r = run_bench(home, "run", "bg", "quick", env={"BENCHSTONE_MAX_THREADS": "2"})
    assert r.code == 0, r.err
    assert [j["id"] for j in jobs(home, include_finished=False)] == [job["id"]]

    held.hold.unlink()
    assert wait_job(home, job["id"], finished)["state"] == "done"
    r = run_bench(home, "run", "bg", "speed", "-n", "1", env=one)
    assert r.code == 0, r.err


def test_background_required_dispatches_in_the_background_by_itself(home: Path, held: Held) -> None:
    # No --background: the manifest's background_required = true is enough (SPEC).
    for args in (("run", "bg", "heavy"), ("baseline", "establish", "bg", "heavy")):
        r = run_bench(home, *args)
        assert r.code == 0, r.err
        assert r.lines[0].startswith("dispatched 2 run(s) in the background  job="), r.out
        job_id = r.lines[0].split("job=")[1].split()[0]
        assert wait_job(home, job_id, finished)["state"] == "done"
    assert len(history(home, "heavy")["runs"]) == 4
    # --at-sha cannot run in the background, so it is still refused.
    r = run_bench(home, "baseline", "establish", "bg", "heavy", "--at-sha", "HEAD")
    assert r.code == 10 and "background_required = true" in r.err, r.err


def test_a_job_stops_when_head_moves_under_it(home: Path, held: Held) -> None:
    held.hold.touch()
    old = git(held.root, "rev-parse", "HEAD")
    job = dispatch(home, "run", "bg", "speed")
    deadline = time.monotonic() + DEADLINE
    while not held.started_pids():
        assert time.monotonic() < deadline, "the repetition never started"
        time.sleep(0.05)
    held.write_runner(2.0)
    new = commit_all(held.root, "moved on")
    held.hold.unlink()
    job = wait_job(home, job["id"], finished)
    assert job["state"] == "failed"
    assert f"HEAD moved from {old[:10]} to {new[:10]}" in job["message"]
    runs = history(home)["runs"]
    assert {run["git_sha"] for run in runs} == {old}
    assert job["progress"] == "1/2" and [run["id"] for run in runs] == job["run_ids"]


def test_status_on_an_empty_home_creates_nothing(tmp_path: Path) -> None:
    home = tmp_path / "never"
    r = run_bench(home, "status", "--all", "--json")
    assert r.code == 0 and json.loads(r.out) == {"all": True, "jobs": []}
    assert not home.exists()


def test_a_running_foreground_job_is_listed(home: Path, held: Held) -> None:
    held.hold.touch()
    proc = subprocess.Popen(
        [*bench_command(), "run", "bg", "speed"],
        env=dict(os.environ, BENCHSTONE_HOME=str(home)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + DEADLINE
        while not held.started_pids():
            assert time.monotonic() < deadline, "the repetition never started"
            time.sleep(0.05)
        (job,) = jobs(home, include_finished=False)
        assert (job["state"], job["background"], job["pid"]) == ("running", False, proc.pid)
        assert job["progress"] == "0/2"
        held.hold.unlink()
        assert proc.wait(timeout=DEADLINE) == 0
    finally:
        held.hold.unlink(missing_ok=True)
        proc.wait(timeout=DEADLINE)
    (job,) = jobs(home)
    assert job["state"] == "done" and job["progress"] == "2/2"


def test_a_terminated_worker_fails_its_job_and_ends_the_repetition(home: Path, held: Held) -> None:
    held.hold.touch()
    job = dispatch(home, "run", "bg", "speed")
    job = wait_job(home, job["id"], lambda j: j["state"] == "running")
    deadline = time.monotonic() + DEADLINE
    while not held.started_pids():
        assert time.monotonic() < deadline, "the repetition never started"
        time.sleep(0.05)
    os.kill(job["pid"], signal.SIGTERM)
    job = wait_job(home, job["id"], finished)
    assert (job["state"], job["message"]) == ("failed", "terminated by SIGTERM")
    assert job["progress"] == "0/2"
    assert len(held.started_pids()) == 1
    # Still held, so only the worker's clean-up can have ended it.
    assert held.hold.exists()
    assert live_processes_in(held.root) == []
    assert "Error: terminated by SIGTERM" in Path(job["log_path"]).read_text()
