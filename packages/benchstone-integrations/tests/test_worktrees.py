"""Worktree slots of a real repository: reuse, reset, concurrency, deterministic commits."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from benchstone.integrations.openevolve import IntegrationError
from benchstone.integrations.openevolve._worktrees import checked_path, commit_candidate, slot


@pytest.fixture
def repo(tmp_path: Path, git: Callable[..., str]) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "solution.py").write_text("x = 1\n")
    (root / ".gitignore").write_text("*.log\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "first")
    return root


def _program(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "candidate.py"
    path.write_text(text)
    return path


def test_a_candidate_is_committed_on_head_leaving_the_checkout_alone(repo, tmp_path, git):
    head = git(repo, "rev-parse", "HEAD")
    with slot(repo, tmp_path / "work") as checkout:
        sha = commit_candidate(checkout, checked_path("solution.py"), _program(tmp_path, "x=2\n"))
        assert git(checkout, "rev-parse", "HEAD^") == head
        assert git(checkout, "status", "--porcelain") == ""
        assert git(checkout, "show", f"{sha}:solution.py") == "x=2"
    assert git(repo, "rev-parse", "HEAD") == head
    assert (repo / "solution.py").read_text() == "x = 1\n"
    assert git(repo, "status", "--porcelain") == ""


def test_the_same_program_on_the_same_head_is_the_same_commit(repo, tmp_path):
    program = _program(tmp_path, "x = 3\n")
    with slot(repo, tmp_path / "work") as checkout:
        first = commit_candidate(checkout, checked_path("solution.py"), program)
    with slot(repo, tmp_path / "work") as checkout:
        again = commit_candidate(checkout, checked_path("solution.py"), program)
    assert first == again
    with slot(repo, tmp_path / "work") as checkout:
        other = commit_candidate(checkout, checked_path("solution.py"), _program(tmp_path, "y\n"))
    assert other != first


def test_a_slot_is_reused_and_reset_to_head_before_each_candidate(repo, tmp_path, git):
    work = tmp_path / "work"
    with slot(repo, work) as checkout:
        commit_candidate(checkout, checked_path("solution.py"), _program(tmp_path, "x = 9\n"))
        (checkout / "junk.txt").write_text("left behind")
        (checkout / "debug.log").write_text("ignored, still removed")
        (checkout / ".gitignore").write_text("changed\n")
        first = checkout
    # The user moves HEAD on: the next candidate starts from the new HEAD.
    (repo / "README").write_text("new\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "second")
    with slot(repo, work) as checkout:
        assert checkout == first
        assert git(checkout, "rev-parse", "HEAD") == git(repo, "rev-parse", "HEAD")
        assert not (checkout / "junk.txt").exists() and not (checkout / "debug.log").exists()
        assert (checkout / ".gitignore").read_text() == "*.log\n"
        assert (checkout / "solution.py").read_text() == "x = 1\n"


def test_concurrent_evaluations_take_different_slots(repo, tmp_path, git):
    work = tmp_path / "work"
    with slot(repo, work) as one, slot(repo, work) as two:
        assert one != two
        assert git(one, "rev-parse", "HEAD") == git(two, "rev-parse", "HEAD")
    with slot(repo, work) as again:
        assert again == one


def test_a_slot_left_broken_is_rebuilt(repo, tmp_path, git):
    work = tmp_path / "work"
    with slot(repo, work) as checkout:
        pass
    subprocess.run(["rm", "-rf", str(checkout / ".git")], check=True)
    (checkout / "stray").write_text("x")
    with slot(repo, work) as rebuilt:
        assert rebuilt == checkout
        assert git(rebuilt, "rev-parse", "HEAD") == git(repo, "rev-parse", "HEAD")
        assert not (rebuilt / "stray").exists()


def test_a_new_file_can_be_the_candidate(repo, tmp_path, git):
    with slot(repo, tmp_path / "work") as checkout:
        sha = commit_candidate(checkout, checked_path("src/new.py"), _program(tmp_path, "z\n"))
        assert git(checkout, "show", f"{sha}:src/new.py") == "z"


@pytest.mark.parametrize("bad", ["", "/etc/passwd", "../outside.py", "a/../../b.py", "."])
def test_candidate_paths_must_stay_inside_the_project(bad):
    with pytest.raises(IntegrationError, match="relative to the project root"):
        checked_path(bad)


def test_a_directory_is_not_a_candidate_file(repo, tmp_path, git):
    (repo / "pkg").mkdir()
    (repo / "pkg" / "m.py").write_text("")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "pkg")
    with slot(repo, tmp_path / "work") as checkout, pytest.raises(IntegrationError, match="dir"):
        commit_candidate(checkout, checked_path("pkg"), _program(tmp_path, "x\n"))


def test_a_path_that_is_not_a_repository_is_one_error(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(IntegrationError, match="git rev-parse failed"), slot(plain, tmp_path / "w"):
        pass


def test_a_project_in_a_subdirectory_gets_the_same_subdirectory_of_the_slot(tmp_path, git):
    top = tmp_path / "mono"
    (top / "sub").mkdir(parents=True)
    git(top, "init", "-q", "-b", "main")
    (top / "sub" / "solution.py").write_text("x = 1\n")
    (top / "other.txt").write_text("outside the project\n")
    git(top, "add", "-A")
    git(top, "commit", "-q", "-m", "first")
    with slot(top / "sub", tmp_path / "work") as checkout:
        assert checkout.name == "sub" and (checkout.parent / "other.txt").is_file()
        sha = commit_candidate(checkout, checked_path("solution.py"), _program(tmp_path, "y\n"))
        assert git(checkout, "show", f"{sha}:sub/solution.py") == "y"


def test_a_git_dir_in_the_environment_does_not_redirect_the_commit(
    repo, tmp_path, monkeypatch, git
):
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git" / "index"))
    with slot(repo, tmp_path / "work") as checkout:
        sha = commit_candidate(checkout, checked_path("solution.py"), _program(tmp_path, "q\n"))
    monkeypatch.delenv("GIT_DIR")
    monkeypatch.delenv("GIT_INDEX_FILE")
    assert git(repo, "cat-file", "-t", sha) == "commit"
