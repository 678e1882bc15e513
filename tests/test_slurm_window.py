"""Side-by-side windows on the real single-node Slurm cluster (issue 14 part 3).

The baseline and candidate repetitions of a window run as one array task on one
``--exclusive`` node, in ``pair_order``, the baseline arm in a locked worktree of the
baseline pointer's commit inside the job's spool directory; the rows come back through
ingest exactly like a local window's. Also the Slurm refusals and checks the executor
shares with the local one: held-out corpora stay local, ``output_reference`` is checked
when a bundle is ingested.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from _slurm import DEADLINE, _history, _until_done, _wait_slurm
from _support import commit_all, git, python_manifest

from benchstone.api._sidebyside import pair_order


def _spool_leftovers(spool: Path, job_id: str) -> list[str]:
    """The directories of the job's spool directory that are not bundles (a worktree)."""
    directory = spool / job_id
    return sorted(p.name for p in directory.iterdir() if p.is_dir() and p.suffix != ".bundle")


def test_a_side_by_side_run_on_slurm_is_one_window_on_one_node_in_pair_order(
    slurm_cluster, bench, tmp_path
) -> None:
    from benchstone.cli._demo import BENCHMARK, PROJECT, _commit_cost, _make_project

    root = tmp_path / PROJECT
    spool = tmp_path / "spool"
    _make_project(root)
    with (root / "bench" / "manifest.toml").open("a") as manifest:
        manifest.write(f'\n[slurm]\nspool = "{spool}"\npartition = "bench"\npoll_seconds = 0.3\n')
    commit_all(root, "run on the cluster")
    assert bench("register", str(root)).code == 0
    established = bench(
        "baseline", "establish", PROJECT, BENCHMARK, "--executor", "slurm", timeout=DEADLINE
    )
    assert established.code == 0, established.err
    baseline_sha = git(root, "rev-parse", "HEAD")
    _commit_cost(root, 0.95, "faster inner loop")
    candidate_sha = git(root, "rev-parse", "HEAD")

    ran = bench("run", PROJECT, BENCHMARK, "--executor", "slurm", "--json", timeout=DEADLINE)
    assert ran.code == 0, ran.err
    document = json.loads(ran.out)
    window = document["window"]
    assert window and document["baseline_sha"] == baseline_sha

    rows = sorted(
        (r for r in _history(bench, PROJECT, BENCHMARK) if r["window"] is not None),
        key=lambda r: r["id"],
    )
    assert len(rows) == 10 and {r["window"] for r in rows} == {window}
    assert {r["status"] for r in rows} == {"ok"} and {r["executor"] for r in rows} == {"slurm"}
    assert {r["host"] for r in rows} == {slurm_cluster.node}  # one node for the window
    assert len({r["job_id"] for r in rows}) == 1
    # Row ids and start times follow the order pair_order prescribes, both arms of a
    # pair with one seed.
    assert [(r["repetition"], r["arm"]) for r in rows] == [
        (pair, arm) for pair in range(5) for arm in pair_order(window, pair)
    ]
    assert [r["started_at"] for r in rows] == sorted(r["started_at"] for r in rows)
    for pair in range(5):
        assert len({r["seed"] for r in rows if r["repetition"] == pair}) == 1
    by_arm = {arm: [r for r in rows if r["arm"] == arm] for arm in ("baseline", "candidate")}
    assert {r["git_sha"] for r in by_arm["baseline"]} == {baseline_sha}
    assert {r["git_sha"] for r in by_arm["candidate"]} == {candidate_sha}
    assert {r["git_dirty"] for r in rows} == {False}
    assert {r["isolation"] for r in rows} <= {"namespaces", "landlock"}

    # The baseline worktree is gone from the spool, and git forgot it.
    assert _spool_leftovers(spool, rows[0]["job_id"]) == []
    assert git(root, "worktree", "list").count("\n") == 0

    verdict = bench("evaluate", PROJECT, BENCHMARK, "--json")
    assert verdict.code == 0, verdict.out + verdict.err
    decided = json.loads(verdict.out)
    assert decided["kind"] == "PROMOTE" and decided["windows"] == [window]
    assert not any("cluster" in note for note in decided.get("notes", []))
    verified = bench("verify")
    assert verified.code == 0, verified.out + verified.err


def _window_in_background(bench, root: Path, project: str, *, establish: str = "slurm") -> dict:
    """Establish ``speed`` (on ``establish``), commit, and start a window in the background."""
    established = bench(
        "baseline", "establish", project, "speed", "--executor", establish, timeout=DEADLINE
    )
    assert established.code == 0, established.err
    (root / "NOTES").write_text("a candidate commit\n")
    commit_all(root, "candidate")
    result = bench("run", project, "speed", "--background", "--json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["window"], document
    return document


def test_a_baseline_bundle_relabelled_as_the_candidate_is_refused(
    cluster_project, bench, tmp_path
) -> None:
    """Attack: after the node sealed the window, pass pair 0's baseline measurement off as
    its candidate — move the bundle onto the candidate's name and rewrite its manifest's
    name and arm label. The seal covers both, so the bundle is rejected."""
    root = cluster_project()
    document = _window_in_background(bench, root, "onslurm")
    job = document["job"]
    _wait_slurm(job["slurm_job"], 1)
    directory = tmp_path / "spool" / job["id"]
    # Until ingest the baseline arm's locked worktree lives in the job's spool directory.
    (holder,) = _spool_leftovers(tmp_path / "spool", job["id"])
    assert holder.startswith("benchstone-worktree-")
    assert (directory / holder / "tree" / "bench" / "tuning.txt").read_text() == "1.0\n"
    baseline, candidate = (directory / f"rep0-{arm}.bundle" for arm in ("baseline", "candidate"))
    manifest = json.loads((baseline / "manifest.json").read_text())
    assert manifest["labels"] == {"window": document["window"], "arm": "baseline"}
    shutil.rmtree(candidate)
    manifest["name"] = "rep0-candidate"
    manifest["labels"]["arm"] = "candidate"
    (baseline / "manifest.json").write_text(json.dumps(manifest))
    baseline.rename(candidate)

    assert _until_done(bench, job["id"])["state"] == "done"
    rows = [r for r in _history(bench, "onslurm", "speed") if r["window"] == document["window"]]
    pair0 = {r["arm"]: r for r in rows if r["repetition"] == 0}
    assert pair0["candidate"]["status"] == "error"
    assert "bundle rejected" in pair0["candidate"]["message"]
    assert "does not match its seal" in pair0["candidate"]["message"]
    assert pair0["baseline"]["status"] == "error"  # its bundle is gone: no bundle, no row
    assert "without a bundle for repetition 0 (baseline arm)" in pair0["baseline"]["message"]
    others = [r for r in rows if r["repetition"] != 0]
    assert len(others) == 6 and {r["status"] for r in others} == {"ok"}
    assert _spool_leftovers(tmp_path / "spool", job["id"]) == []


def test_a_window_whose_task_fails_is_error_rows_with_its_stderr_and_no_worktree_left(
    cluster_project, bench, tmp_path
) -> None:
    """The node worker cannot read the job's nonce: every slot of the window is an error
    row quoting the task's stderr, and the baseline worktree still goes."""
    root = cluster_project(extra_args='["--hold"]')
    document = _window_in_background(bench, root, "onslurm", establish="local")
    job = document["job"]
    assert len(_spool_leftovers(tmp_path / "spool", job["id"])) == 1  # the worktree
    (tmp_path / "spool" / job["id"] / "nonce").unlink()
    subprocess.run(["scontrol", "release", job["slurm_job"]], check=True, capture_output=True)
    _wait_slurm(job["slurm_job"], 1)
    assert _until_done(bench, job["id"])["state"] == "done"
    rows = [r for r in _history(bench, "onslurm", "speed") if r["job_id"] == job["id"]]
    assert len(rows) == 8 and {r["status"] for r in rows} == {"error"}
    assert {r["window"] for r in rows} == {document["window"]}
    for row in rows:
        assert "cannot read the job's nonce" in row["message"], row["message"]
        assert f"repetition {row['repetition']} ({row['arm']} arm)" in row["message"]
    assert _spool_leftovers(tmp_path / "spool", job["id"]) == []
    assert git(root, "worktree", "list").count("\n") == 0


def test_a_baseline_worktree_moved_while_the_job_waits_runs_nothing(
    cluster_project, bench, tmp_path
) -> None:
    """Attack: check another commit out in the spool's baseline worktree before the node
    starts, so "baseline" rows would measure the candidate's code."""
    root = cluster_project(extra_args='["--hold"]')
    document = _window_in_background(bench, root, "onslurm", establish="local")
    job = document["job"]
    (holder,) = _spool_leftovers(tmp_path / "spool", job["id"])
    tree = tmp_path / "spool" / job["id"] / holder / "tree"
    git(tree, "checkout", "--quiet", "--detach", git(root, "rev-parse", "HEAD"))
    subprocess.run(["scontrol", "release", job["slurm_job"]], check=True, capture_output=True)
    _wait_slurm(job["slurm_job"], 1)
    assert _until_done(bench, job["id"])["state"] == "done"
    rows = [r for r in _history(bench, "onslurm", "speed") if r["job_id"] == job["id"]]
    assert len(rows) == 8 and {r["status"] for r in rows} == {"error"}
    assert all("the baseline worktree is at" in r["message"] for r in rows), rows[0]["message"]
    assert all(r["wall_clock"] is None for r in rows)
    assert _spool_leftovers(tmp_path / "spool", job["id"]) == []


def test_a_window_sbatch_refuses_leaves_no_baseline_worktree(
    cluster_project, bench, tmp_path
) -> None:
    root = cluster_project(extra_args='["--no-such-sbatch-option"]')
    established = bench("baseline", "establish", "onslurm", "speed", "--executor", "local")
    assert established.code == 0, established.err
    (root / "NOTES").write_text("a candidate commit\n")
    commit_all(root, "candidate")
    r = bench("run", "onslurm", "speed", timeout=DEADLINE)
    assert r.code != 0 and r.err.startswith("Error: "), r.err
    assert "sbatch" in r.err
    (job_dir,) = (tmp_path / "spool").iterdir()
    assert _spool_leftovers(tmp_path / "spool", job_dir.name) == []
    assert git(root, "worktree", "list").count("\n") == 0


def test_a_held_out_benchmark_is_refused_on_slurm(slurm_cluster, bench, tmp_path) -> None:
    from _support import create_python_project
    from test_held_out import BENCHMARKS

    root = create_python_project(
        tmp_path,
        "heldslurm",
        manifest=python_manifest("heldslurm", benchmarks=BENCHMARKS)
        + f'\n[slurm]\nspool = "{tmp_path / "spool"}"\npartition = "bench"\n',
    )
    assert bench("register", str(root)).code == 0
    r = bench("run", "heldslurm", "held", "--executor", "slurm")
    assert r.code != 0
    assert r.err.startswith("Error: ") and len(r.err.strip().splitlines()) == 1, r.err
    assert "benchmark 'held' is held out" in r.err and "--executor local" in r.err
    assert not (tmp_path / "spool").exists()  # nothing was submitted


def test_output_reference_is_checked_when_a_slurm_bundle_is_ingested(
    slurm_cluster, bench, make_python_project, tmp_path
) -> None:
    """The timed-run attack of test_output_reference, on the cluster: the node measures,
    the ingest compares the bundle's artifact with the frozen reference."""
    from test_output_reference import BENCHMARKS, HONEST, RUNNER, SKIPPING

    slurm = f'\n[slurm]\nspool = "{tmp_path / "spool"}"\npartition = "bench"\npoll_seconds = 0.3\n'
    root = make_python_project(
        "refslurm",
        manifest=python_manifest("refslurm", benchmarks=BENCHMARKS) + slurm,
        files={"bench/runner.py": RUNNER, "solver.py": HONEST},
    )
    assert bench("register", str(root)).code == 0
    assert bench("run", "refslurm", "output").code == 0
    assert bench("freeze-reference", "refslurm", "output").code == 0
    honest = bench("run", "refslurm", "speed", "--executor", "slurm", timeout=DEADLINE)
    assert honest.code == 0, honest.err
    assert {r["status"] for r in _history(bench, "refslurm", "speed")} == {"ok"}

    (root / "solver.py").write_text(SKIPPING)
    commit_all(root, "skip the work when timed")
    r = bench("run", "refslurm", "speed", "--executor", "slurm", timeout=DEADLINE)
    assert r.code != 0 and "all 4 repetition(s) of refslurm/speed failed" in r.err, r.err
    r = bench("run", "refslurm", "unchecked", "--executor", "slurm", timeout=DEADLINE)
    assert r.code == 0, r.err
    sha = git(root, "rev-parse", "HEAD")
    skipped = [r for r in _history(bench, "refslurm", "speed") if r["git_sha"] == sha]
    assert len(skipped) == 4 and {r["status"] for r in skipped} == {"error"}
    assert {r["executor"] for r in skipped} == {"slurm"}
    assert all(
        r["message"].startswith("output differs from the reference of output") for r in skipped
    )
    # The control: without output_reference the same bundles are ok rows.
    unchecked = [r for r in _history(bench, "refslurm", "unchecked") if r["git_sha"] == sha]
    assert len(unchecked) == 4 and {r["status"] for r in unchecked} == {"ok"}


def test_establish_at_sha_on_slurm_runs_a_spool_worktree_and_removes_it(
    cluster_project, bench, tmp_path
) -> None:
    """--at-sha on the cluster: the commit's locked worktree is made in the spool (the
    only place the node sees), measured there, and gone once the job is ingested."""
    root = cluster_project()
    old = git(root, "rev-parse", "HEAD")
    (root / "NOTES").write_text("a later commit\n")
    commit_all(root, "later")
    r = bench("baseline", "establish", "onslurm", "speed", "--at-sha", old[:8], timeout=DEADLINE)
    assert r.code == 0, r.err
    assert "baseline set: onslurm/speed -> " + old[:10] in r.out, r.out
    runs = _history(bench, "onslurm", "speed")
    assert len(runs) == 4 and {r["git_sha"] for r in runs} == {old}
    assert {r["status"] for r in runs} == {"ok"} and {r["executor"] for r in runs} == {"slurm"}
    assert {r["git_dirty"] for r in runs} == {False}
    spool = tmp_path / "spool"
    assert not list(spool.glob("benchstone-worktree-*"))  # removed with the job
    assert git(root, "worktree", "list").count("\n") == 0
    # The pointer's commit then is a window's baseline arm, measured next to HEAD.
    ran = bench("run", "onslurm", "speed", "--json", timeout=DEADLINE)
    assert ran.code == 0, ran.err
    window = json.loads(ran.out)["window"]
    rows = [r for r in _history(bench, "onslurm", "speed") if r["window"] == window]
    assert {r["git_sha"] for r in rows if r["arm"] == "baseline"} == {old}
    assert len(rows) == 8 and {r["status"] for r in rows} == {"ok"}


def test_setup_builds_both_checkouts_of_a_slurm_window(cluster_project, bench) -> None:
    """``project.setup`` runs on the submit host in the candidate's checkout and in the
    spool's baseline worktree before the window is submitted: the ``built`` benchmark
    reads a file only setup makes, in both arms."""
    root = cluster_project("built", setup='sh -c "echo built > build.txt"')
    (root / "build.txt").write_text("by hand\n")  # a stored establish runs no setup
    established = bench("baseline", "establish", "built", "built", timeout=DEADLINE)
    assert established.code == 0, established.err
    (root / "build.txt").unlink()
    (root / "NOTES").write_text("a candidate commit\n")
    commit_all(root, "candidate")
    ran = bench("run", "built", "built", "--json", timeout=DEADLINE)
    assert ran.code == 0, ran.out + ran.err
    window = json.loads(ran.out)["window"]
    rows = [r for r in _history(bench, "built", "built") if r["window"] == window]
    assert len(rows) == 4 and {r["status"] for r in rows} == {"ok"}, rows
    assert {r["arm"] for r in rows} == {"baseline", "candidate"}
    assert {r["metric"] for r in rows} == {6.0}  # "built\n": setup's file, in both arms
    assert (root / "build.txt").read_text() == "built\n"
    assert git(root, "worktree", "list").count("\n") == 0
