"""executor = "slurm" end to end, against the real single-node cluster of ci/slurm/.

Each test drives the installed `bench` as a user would: the repetitions run as array tasks
on the node (sandboxed and measured by the node worker), and the rows reach the store only
through the submitting side's ingest.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from _slurm import DEADLINE, RUNNER, _history, _job, _until_done, _wait_slurm
from _support import (
    bench_command,
    commit_all,
    live_processes_in,
    python_manifest,
)

from benchstone.runner import task_states


def _background(bench, project: str, benchmark: str) -> dict:
    result = bench("run", project, benchmark, "--background", "--json")
    assert result.code == 0, result.err
    job = json.loads(result.out)["job"]
    assert job["executor"] == "slurm" and job["slurm_job"], job
    return job


def _submitted(home: Path, proc: subprocess.Popen) -> dict:
    """The job of a foreground `bench run` as soon as its record names the Slurm job.

    The record files are read directly, not through `bench status`: on a loaded machine
    a CLI call per look can take longer than the whole short job.
    """
    end = time.monotonic() + DEADLINE
    while True:
        assert time.monotonic() < end and proc.poll() is None, "no submission seen"
        for path in (home / "jobs").glob("*.json"):
            with contextlib.suppress(OSError, ValueError):
                record = json.loads(path.read_text())
                slurm_job = (record.get("slurm") or {}).get("slurm_job")
                if slurm_job:
                    return {"id": record["id"], "slurm_job": str(slurm_job)}
        time.sleep(0.02)


def test_a_run_of_four_repetitions_lands_four_rows_from_the_node(
    cluster_project, bench, slurm_cluster
) -> None:
    cluster_project()
    result = bench("run", "onslurm", "speed", timeout=DEADLINE)
    assert result.code == 0, result.err
    assert result.out.splitlines()[0].startswith("dispatched 4 run(s)")
    assert "4/4 repetition(s) recorded" in result.err  # the progress lines
    runs = _history(bench, "onslurm", "speed")
    assert len(runs) == 4
    assert sorted(r["repetition"] for r in runs) == [0, 1, 2, 3]
    assert {r["executor"] for r in runs} == {"slurm"}
    assert {r["status"] for r in runs} == {"ok"}
    assert {r["host"] for r in runs} == {slurm_cluster.node}
    assert len({r["bundle_id"] for r in runs}) == 4
    assert all(r["host_identity"] and r["fingerprint"] for r in runs)
    assert all(r["wall_clock"] is not None and r["wall_clock"] > 0 for r in runs)
    # The node sandboxed the repetitions as the local executor does.
    assert {r["isolation"] for r in runs} <= {"namespaces", "landlock"}
    for run in runs:
        assert Path(run["stderr_log"]).is_file()  # the node's log tail, kept in the store
    # A later status finds nothing more to ingest: each bundle became one row.
    bench("status", "--all")
    assert len(_history(bench, "onslurm", "speed")) == 4


def test_repetitions_of_one_task_share_one_exclusive_node(
    cluster_project, bench, tmp_path, slurm_cluster
) -> None:
    """The dispatch's task layout holds: four repetitions in one allocation, one node."""
    cluster_project(more="repetitions_per_task = 4\nexclusive = true")
    job = _background(bench, "onslurm", "speed")
    shown = subprocess.run(
        ["scontrol", "show", "job", job["slurm_job"]], capture_output=True, text=True, check=True
    ).stdout
    assert "OverSubscribe=NO" in shown and "NumNodes=1" in shown  # --exclusive --nodes=1
    _wait_slurm(job["slurm_job"], 1)
    assert _until_done(bench, job["id"])["state"] == "done"
    outputs = sorted(p.name for p in (tmp_path / "spool" / job["id"]).glob("slurm-*.out"))
    assert outputs == [f"slurm-{job['slurm_job']}_0.out"]  # one array task ran them all
    runs = _history(bench, "onslurm", "speed")
    assert sorted(r["repetition"] for r in runs) == [0, 1, 2, 3]
    assert {r["host"] for r in runs} == {slurm_cluster.node}
    assert {r["status"] for r in runs} == {"ok"}


def test_the_code_under_test_cannot_reach_the_spool(cluster_project, bench, tmp_path) -> None:
    """Attack: read the job's nonce from the spool the manifest names, plant a file there."""
    cluster_project()
    result = bench("run", "onslurm", "peek", timeout=DEADLINE)
    assert result.code == 0, result.err
    runs = _history(bench, "onslurm", "peek")
    assert [r["status"] for r in runs] == ["ok", "ok"]
    assert [r["metric"] for r in runs] == [0.0, 0.0]  # no nonce in sight
    assert list((tmp_path / "spool").glob("planted-*")) == []  # nothing reached the spool


def test_a_killed_submitter_loses_nothing(cluster_project, bench, home) -> None:
    cluster_project()
    env = dict(os.environ, BENCHSTONE_HOME=str(home))
    proc = subprocess.Popen(
        [*bench_command(), "run", "onslurm", "speed", "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        job = _submitted(home, proc)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    _wait_slurm(job["slurm_job"], 4)
    done = _until_done(bench, job["id"])  # the next look ingests what the cluster finished
    assert done["state"] == "done", done
    runs = _history(bench, "onslurm", "speed")
    assert sorted(r["repetition"] for r in runs) == [0, 1, 2, 3]
    assert {r["status"] for r in runs} == {"ok"}
    assert {r["job_id"] for r in runs} == {job["id"]}


def test_a_submitter_killed_before_it_wrote_the_slurm_id_down_loses_nothing(
    cluster_project, bench, home
) -> None:
    """The record lacks the Slurm id (killed just after sbatch): found again by job name."""
    cluster_project()
    job = _background(bench, "onslurm", "speed")
    path = home / "jobs" / f"{job['id']}.json"
    record = json.loads(path.read_text())
    record["slurm"]["slurm_job"] = None
    path.write_text(json.dumps(record))
    _wait_slurm(job["slurm_job"], 4)
    done = _until_done(bench, job["id"])
    assert done["state"] == "done" and done["slurm_job"] == job["slurm_job"], done
    runs = _history(bench, "onslurm", "speed")
    assert sorted(r["repetition"] for r in runs) == [0, 1, 2, 3]
    assert {r["status"] for r in runs} == {"ok"}


def test_a_task_that_fails_on_the_node_is_an_error_row_with_its_stderr(
    cluster_project, bench, tmp_path
) -> None:
    """The node worker cannot read the job's nonce: the task fails before any bundle."""
    cluster_project(extra_args='["--hold"]')
    job = _background(bench, "onslurm", "speed")
    (tmp_path / "spool" / job["id"] / "nonce").unlink()
    subprocess.run(["scontrol", "release", job["slurm_job"]], check=True, capture_output=True)
    _wait_slurm(job["slurm_job"], 4)
    done = _until_done(bench, job["id"])
    assert done["state"] == "done", done
    runs = _history(bench, "onslurm", "speed")
    assert len(runs) == 4 and {r["status"] for r in runs} == {"error"}
    for run in runs:
        assert f"slurm task {job['slurm_job']}_" in run["message"]
        assert "failed without a bundle" in run["message"]
        assert "cannot read the job's nonce" in run["message"]  # the stderr tail
        assert "cannot read the job's nonce" in Path(run["stderr_log"]).read_text()


def test_an_evaluator_edited_after_submission_runs_nothing(
    cluster_project, bench, tmp_path
) -> None:
    """Attack: while the job waits, edit a locked evaluator file git does not see."""
    root = cluster_project(extra_args='["--hold"]')
    job = _background(bench, "onslurm", "speed")
    (root / "bench" / "tuning.txt").write_text("0.5\n")  # git-ignored: the tree stays clean
    subprocess.run(["scontrol", "release", job["slurm_job"]], check=True, capture_output=True)
    _wait_slurm(job["slurm_job"], 4)
    assert _until_done(bench, job["id"])["state"] == "done"
    runs = _history(bench, "onslurm", "speed")
    assert len(runs) == 4 and {r["status"] for r in runs} == {"error"}
    for run in runs:
        assert "the evaluator is not the locked one any more" in run["message"]
        assert "(changed: bench/tuning.txt)" in run["message"]
        assert run["metric"] is None and run["wall_clock"] is None


def test_torn_and_foreign_bundles_are_error_rows(cluster_project, bench, tmp_path) -> None:
    cluster_project()
    job = _background(bench, "onslurm", "speed")
    _wait_slurm(job["slurm_job"], 4)  # nothing ingested yet: the submitter returned
    spool = tmp_path / "spool" / job["id"]
    torn = spool / "rep1.bundle" / "stdout.tail"
    torn.write_bytes(torn.read_bytes() + b"appended after the seal")
    shutil.copytree(spool / "rep2.bundle", spool / "rep7.bundle")
    done = _until_done(bench, job["id"])
    assert done["state"] == "done", done
    runs = {r["bundle_id"]: r for r in _history(bench, "onslurm", "speed")}
    assert len(runs) == 5
    rep1 = runs[f"{job['id']}/rep1"]
    assert rep1["status"] == "error" and "bundle rejected" in rep1["message"]
    assert "torn bundle: stdout.tail" in rep1["message"]
    rep7 = runs[f"{job['id']}/rep7"]
    assert rep7["status"] == "error" and "foreign bundle" in rep7["message"]
    assert rep7["repetition"] is None
    assert [runs[f"{job['id']}/rep{i}"]["status"] for i in (0, 2, 3)] == ["ok"] * 3
    bench("status")
    assert len(_history(bench, "onslurm", "speed")) == 5  # still once each


def test_sigterm_leaves_the_job_on_the_cluster_and_cancel_stops_it(
    cluster_project, bench, home
) -> None:
    cluster_project()
    env = dict(os.environ, BENCHSTONE_HOME=str(home))
    proc = subprocess.Popen(
        [*bench_command(), "run", "onslurm", "slow"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        job = _submitted(home, proc)
        _wait_slurm(job["slurm_job"], 4, finished=False)  # at least one task is running
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM
    assert "Error: terminated by SIGTERM" in err
    assert f"job {job['id']} (slurm job {job['slurm_job']}) goes on on the cluster" in err
    assert _job(bench, job["id"])["state"] == "running"  # the array was not touched
    result = bench("cancel", job["id"], timeout=DEADLINE)
    assert result.code == 0, result.err
    assert f"cancelled job {job['id']} (slurm job {job['slurm_job']})" in result.out
    assert all(s.finished for s in task_states(job["slurm_job"], 4).values())
    done = _job(bench, job["id"])
    assert done["state"] == "done" and "(cancelled)" in done["message"], done
    runs = _history(bench, "onslurm", "slow")
    assert len(runs) == 4 and {r["status"] for r in runs} == {"error"}
    assert all("cancelled without a bundle" in r["message"] for r in runs)
    again = bench("cancel", job["id"])
    assert again.code == 10 and "already done" in again.err


def test_the_demo_project_on_slurm_gives_a_verdict_and_verifies(
    slurm_cluster, bench, tmp_path
) -> None:
    from benchstone.cli._demo import BENCHMARK, PROJECT, _commit_cost, _make_project

    root = tmp_path / PROJECT
    _make_project(root)
    with (root / "bench" / "manifest.toml").open("a") as manifest:
        manifest.write(
            f'\n[slurm]\nspool = "{tmp_path / "spool"}"\npartition = "bench"\npoll_seconds = 0.3\n'
        )
    commit_all(root, "run on the cluster")
    assert bench("register", str(root)).code == 0
    established = bench(
        "baseline", "establish", PROJECT, BENCHMARK, "--executor", "slurm", timeout=DEADLINE
    )
    assert established.code == 0, established.err
    assert "baseline set:" in established.out
    _commit_cost(root, 0.95, "faster inner loop")
    ran = bench("run", PROJECT, BENCHMARK, "--executor", "slurm", timeout=DEADLINE)
    assert ran.code == 0, ran.err
    verdict = bench("evaluate", PROJECT, BENCHMARK)
    assert verdict.out.startswith("verdict: PROMOTE"), verdict.out + verdict.err
    assert verdict.code == 0
    runs = _history(bench, PROJECT, BENCHMARK)
    # 5 established, then one window of 5 pairs (tests/test_slurm_window.py).
    assert len(runs) == 15 and {r["executor"] for r in runs} == {"slurm"}
    assert len([r for r in runs if r["window"] is not None]) == 10
    verified = bench("verify")
    assert verified.code == 0, verified.out + verified.err


def test_cancel_ends_a_local_background_job(make_python_project, bench) -> None:
    root = make_python_project("localcancel")
    (root / "bench" / "runner.py").write_text(RUNNER)
    manifest = python_manifest(
        "localcancel",
        benchmarks='\n[[benchmarks]]\nname = "slow"\ntier = "performance"\n'
        'metric_direction = "minimize"\nrepetitions = 2\n',
    )
    (root / "bench" / "manifest.toml").write_text(manifest)
    commit_all(root, "slow")
    assert bench("register", str(root)).code == 0
    started = bench("run", "localcancel", "slow", "--background", "--json")
    assert started.code == 0, started.err
    job_id = json.loads(started.out)["job"]["id"]
    end = time.monotonic() + DEADLINE
    while _job(bench, job_id)["state"] != "running":
        assert time.monotonic() < end
        time.sleep(0.1)
    result = bench("cancel", job_id, timeout=DEADLINE)
    assert result.code == 0, result.err
    job = _job(bench, job_id)
    assert job["state"] == "failed" and "SIGTERM" in job["message"], job
    assert live_processes_in(root) == []  # the repetition's tree went with the worker
