"""`bench baseline establish --at-sha`: an older commit's code, the locked evaluator, no
leftovers.

The runner writes the directory it ran in to CWD_FILE, so each test can check that the
temporary worktree is gone afterwards, whatever way the command ended. The code under
test (code.txt: mode and level) lives outside the locked bench/; the evaluator that runs
at an older commit is the lock's, not the one that commit had.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from _support import (
    PROTOCOL_ARGS,
    Result,
    bench_command,
    commit_all,
    git,
    live_processes_in,
)

DEADLINE = 60.0

RUNNER = """\
import json, os, sys, time
args = dict(a.split("=", 1) for a in sys.argv[1:])
config = json.load(open(args["--config"]))
with open({cwd_file!r}, "a") as f:
    f.write("%s %d\\n" % (os.getcwd(), os.getpid()))
mode, level = open("code.txt").read().split()
if mode == "fail":
    sys.exit(3)
if mode == "block":
    deadline = time.time() + 60
    while time.time() < deadline:
        time.sleep(0.02)
metric = float(level) + config["seed"] / 1000
open(args["--output"], "w").write(json.dumps({{
    "status": "ok", "metric": metric, "metadata": {{"cwd": os.getcwd()}}}}))
"""

MANIFEST = """\
[project]
name = "hist"
invocation = "{python} bench/runner.py {args}"

[[benchmarks]]
name = "{benchmark}"
tier = "performance"
metric_direction = "minimize"
repetitions = {reps}
baseline_seeds = {seeds}
"""


class History:
    """A project with a commit history; ``commit`` returns the new commit's sha."""

    def __init__(self, root: Path, cwd_file: Path) -> None:
        self.root = root
        self.cwd_file = cwd_file

    def commit(
        self,
        *,
        seeds: list[int],
        mode: str = "ok",
        level: float = 1.0,
        benchmark: str = "speed",
    ) -> str:
        (self.root / "bench").mkdir(parents=True, exist_ok=True)
        (self.root / "bench" / "manifest.toml").write_text(
            MANIFEST.format(
                python=sys.executable,
                args=PROTOCOL_ARGS,
                benchmark=benchmark,
                reps=len(seeds),
                seeds=seeds,
            )
        )
        (self.root / "bench" / "runner.py").write_text(RUNNER.format(cwd_file=str(self.cwd_file)))
        (self.root / "code.txt").write_text(f"{mode} {level}\n")
        if not (self.root / ".git").exists():
            git(self.root, "init", "-q", "-b", "main")
        return commit_all(self.root, f"{benchmark} {seeds} {mode}")

    def ran_in(self) -> list[tuple[str, int]]:
        if not self.cwd_file.exists():
            return []
        pairs = [line.rsplit(" ", 1) for line in self.cwd_file.read_text().splitlines()]
        return [(path, int(pid)) for path, pid in pairs]

    def worktrees(self) -> list[str]:
        listing = git(self.root, "worktree", "list", "--porcelain")
        return [
            line.split(" ", 1)[1] for line in listing.splitlines() if line.startswith("worktree")
        ]


@pytest.fixture
def project(tmp_path: Path) -> History:
    return History(tmp_path / "hist", tmp_path / "cwd.txt")


@pytest.fixture
def run_bench(home: Path) -> Callable[..., Result]:
    def run(*args: str) -> Result:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BENCHSTONE_")}
        env["BENCHSTONE_HOME"] = str(home)
        proc = subprocess.run(
            [*bench_command(), *args], capture_output=True, text=True, env=env, timeout=120
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


def _assert_no_leftovers(project: History) -> None:
    assert project.worktrees() == [str(project.root)]
    for path, _pid in project.ran_in():
        assert path != str(project.root)
        assert not Path(path).exists(), f"worktree {path} was left behind"


def test_establish_at_an_older_commit_runs_its_code_under_the_lock(
    project: History, run_bench
) -> None:
    old = project.commit(seeds=[7, 8])
    head = project.commit(seeds=[1, 2, 3, 4], level=2.0)
    locked_manifest = (project.root / "bench" / "manifest.toml").read_bytes()
    assert run_bench("register", str(project.root)).code == 0

    r = run_bench("baseline", "establish", "hist", "speed", "--at-sha", old[:8])
    assert r.code == 0, r.err
    assert r.lines[0] == f"dispatched 4 run(s)  git_sha={old[:10]}  dirty=False  meta_seed=None"
    assert r.lines[-1] == f"baseline set: hist/speed -> {old[:10]} (4 run(s))"

    document = json.loads(run_bench("history", "hist", "speed", "--json").out)
    runs = document["runs"]
    assert sorted(run["seed"] for run in runs) == [1, 2, 3, 4]  # the locked manifest's seeds
    assert {run["git_sha"] for run in runs} == {old}
    assert {run["git_dirty"] for run in runs} == {False}
    assert {run["metric"] for run in runs} == {1.001, 1.002, 1.003, 1.004}  # the old code ran
    manifest_hash = "sha256:" + hashlib.sha256(locked_manifest).hexdigest()
    assert {run["manifest_hash"] for run in runs} == {manifest_hash}
    assert document["baseline"]["git_sha"] == old
    assert sorted(document["baseline"]["run_ids"]) == sorted(run["id"] for run in runs)

    # The user's checkout was not touched, and the worktree is gone.
    assert git(project.root, "rev-parse", "HEAD") == head
    assert git(project.root, "status", "--porcelain") == ""
    assert len(project.ran_in()) == 4
    _assert_no_leftovers(project)

    # The job record says where it ran.
    status = json.loads(run_bench("status", "--all", "--json").out)
    (job,) = status["jobs"]
    assert (job["state"], job["at_sha"], job["git_sha"]) == ("done", old, old)


def test_the_worktree_is_removed_when_every_run_fails(project: History, run_bench) -> None:
    broken = project.commit(seeds=[1, 2], mode="fail")
    project.commit(seeds=[1, 2])
    assert run_bench("register", str(project.root)).code == 0
    r = run_bench("baseline", "establish", "hist", "speed", "--at-sha", broken)
    assert r.code == 10
    assert "none of the 2 baseline repetition(s) succeeded" in r.err
    assert len(project.ran_in()) == 2
    _assert_no_leftovers(project)
    assert json.loads(run_bench("history", "hist", "speed", "--json").out)["baseline"] is None


def test_refusals_before_any_worktree(project: History, run_bench) -> None:
    old = project.commit(seeds=[1, 2])
    project.commit(seeds=[1, 2, 3])
    assert run_bench("register", str(project.root)).code == 0
    r = run_bench("baseline", "establish", "hist", "speed", "--at-sha", old, "--background")
    assert r.code == 10
    assert "--at-sha" in r.err and "cannot run in the background" in r.err
    r = run_bench("baseline", "establish", "hist", "speed", "--at-sha", "no-such-rev")
    assert r.code == 10 and "'no-such-rev' does not name a commit" in r.err
    assert project.ran_in() == []
    _assert_no_leftovers(project)
    assert json.loads(run_bench("status", "--all", "--json").out)["jobs"] == []


def test_ctrl_c_removes_the_worktree_and_ends_the_run(
    project: History, home: Path, run_bench
) -> None:
    blocking = project.commit(seeds=[1, 2], mode="block")
    project.commit(seeds=[1, 2])
    assert run_bench("register", str(project.root)).code == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCHSTONE_")}
    env["BENCHSTONE_HOME"] = str(home)
    proc = subprocess.Popen(
        [*bench_command(), "baseline", "establish", "hist", "speed", "--at-sha", blocking],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + DEADLINE
        while not project.ran_in():
            assert time.monotonic() < deadline, "the repetition never started"
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGINT)
        _out, err = proc.communicate(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert "Error: interrupted" in err
    ((path, _runner_pid),) = project.ran_in()  # a pid of the sandbox's own namespace
    assert live_processes_in(Path(path)) == []
    _assert_no_leftovers(project)
    (job,) = json.loads(run_bench("status", "--all", "--json").out)["jobs"]
    assert (job["state"], job["message"]) == ("failed", "interrupted (Ctrl-C)")
