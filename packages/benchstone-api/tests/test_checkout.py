"""run/evaluate against a git worktree of the project (``checkout=``), not its root."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from benchstone import api


def _worktree(project, path: Path, *, level: float) -> str:
    """A detached worktree of the project's HEAD with one commit changing level.txt."""
    project.git("worktree", "add", "--detach", "-q", str(path), "HEAD")
    (path / "level.txt").write_text(str(level))
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-qam", "cand"],
        cwd=path,
        check=True,
    )
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=path, check=True, capture_output=True, text=True
    ).stdout.strip()


def test_a_worktree_is_measured_and_judged_without_touching_the_root(project, home, tmp_path):
    api.register(project.root)
    api.establish_baseline("proj", "plain")
    root_sha = project.git("rev-parse", "HEAD")
    candidate = _worktree(project, tmp_path / "wt", level=0.8)

    report = api.run("proj", "plain", checkout=tmp_path / "wt")
    assert report.git_sha == candidate != root_sha
    assert {r.git_sha for r in report.runs} == {candidate}
    verdict = api.evaluate("proj", "plain", checkout=tmp_path / "wt")
    assert verdict.kind == "PROMOTE" and verdict.candidate_sha == candidate
    # The registered root is still at its own commit, clean, with only the baseline runs.
    assert project.git("rev-parse", "HEAD") == root_sha
    assert project.git("status", "--porcelain") == ""
    assert api.evaluate("proj", "plain").kind == "NEEDS_MORE_DATA"


def test_a_dirty_worktree_is_refused_like_the_root(project, home, tmp_path):
    api.register(project.root)
    _worktree(project, tmp_path / "wt", level=0.8)
    (tmp_path / "wt" / "level.txt").write_text("0.5")
    with pytest.raises(api.ApiError, match="uncommitted changes"):
        api.run("proj", "plain", checkout=tmp_path / "wt")


def test_a_clone_or_a_missing_directory_is_not_a_checkout_of_the_project(project, home, tmp_path):
    api.register(project.root)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(project.root), str(clone)], check=True)
    with pytest.raises(api.ApiError, match="is not a git worktree of project 'proj'"):
        api.run("proj", "plain", checkout=clone)
    with pytest.raises(api.ApiError, match="is not a git worktree of project 'proj'"):
        api.evaluate("proj", "plain", checkout=clone)
    with pytest.raises(api.ApiError, match="is not a directory"):
        api.run("proj", "plain", checkout=tmp_path / "nowhere")
    plain = tmp_path / "plain"
    plain.mkdir()
    # Outside any repository, or (a CI clone's temp dir) inside another one: refused either way.
    with pytest.raises(
        api.ApiError, match=r"not a git repository|is not a git worktree of project 'proj'"
    ):
        api.run("proj", "plain", checkout=plain)


def test_a_background_job_measures_the_worktree_it_was_given(project, home, tmp_path):
    api.register(project.root)
    candidate = _worktree(project, tmp_path / "wt", level=0.8)
    dispatched = api.run("proj", "plain", checkout=tmp_path / "wt", background=True)
    assert dispatched.git_sha == candidate
    deadline = time.monotonic() + 120
    info = api.job(dispatched.job.id)
    while not info.finished and time.monotonic() < deadline:
        time.sleep(0.2)
        info = api.job(dispatched.job.id)
    assert info.state == "done", info.message
    runs = api.history("proj", "plain")
    assert len(runs) == 3 and {r.git_sha for r in runs} == {candidate}
