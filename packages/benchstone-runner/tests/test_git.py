"""Git provenance against real repositories made in temporary directories."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from _support import commit_all, git

from benchstone.runner._errors import RunnerError
from benchstone.runner._git import (
    GitState,
    git_common_dir,
    git_diff,
    git_state,
    resolve_sha,
    worktree,
)

Git = Callable[..., str]


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user or system git config, a fixed identity, and no repository above tmp_path.

    (Repositories and plain directories are made *below* tmp_path: git stops before
    climbing into a ceiling directory, not at it.)
    """
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Bench Tester")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "bench@example.com")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    (root / "bench").mkdir()
    (root / "bench" / "runner.py").write_text("print('v1')\n")
    (root / ".gitignore").write_text("*.log\n")
    commit_all(root, "first")
    return root


# --- git_state --------------------------------------------------------------------


def test_clean_repository(repo: Path) -> None:
    state = git_state(repo)
    assert state == GitState(sha=git(repo, "rev-parse", "HEAD"), dirty=False, branch="main")
    assert len(state.sha) == 40


def test_detached_head_has_no_branch(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    assert git_state(repo).branch is None


def test_tracked_change_is_dirty(repo: Path) -> None:
    (repo / "bench" / "runner.py").write_text("print('v2')\n")
    assert git_state(repo).dirty


def test_staged_change_is_dirty(repo: Path) -> None:
    (repo / "bench" / "runner.py").write_text("print('v2')\n")
    git(repo, "add", "-A")
    assert git_state(repo).dirty


def test_untracked_file_is_dirty_but_ignored_file_is_not(repo: Path) -> None:
    (repo / "run.log").write_text("ignored\n")
    assert not git_state(repo).dirty
    (repo / "notes.txt").write_text("untracked\n")
    assert git_state(repo).dirty


def test_subdirectory_of_a_repository(repo: Path) -> None:
    assert git_state(repo / "bench").sha == git(repo, "rev-parse", "HEAD")


def test_not_a_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(RunnerError) as caught:
        git_state(plain)
    message = str(caught.value)
    assert message.startswith(f"{plain}: not a git repository")
    assert "\n" not in message


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(RunnerError, match="not a git repository"):
        git_state(tmp_path / "absent")


def test_repository_without_a_commit(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    subprocess.run(["git", "init", "-q", str(empty)], check=True)
    (empty / "file.txt").write_text("x\n")
    with pytest.raises(RunnerError, match="no commit") as caught:
        git_state(empty)
    assert str(caught.value).startswith(f"{empty}: ")


def test_git_not_installed(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nothing = tmp_path / "empty-path"
    nothing.mkdir()
    monkeypatch.setenv("PATH", str(nothing))
    with pytest.raises(RunnerError, match="`git` executable is not on PATH"):
        git_state(repo)


# --- git_diff ---------------------------------------------------------------------


def test_clean_repository_has_an_empty_diff(repo: Path) -> None:
    assert git_diff(repo) == b""


def test_diff_covers_tracked_untracked_and_binary_files(repo: Path, tmp_path: Path) -> None:
    (repo / "bench" / "runner.py").write_text("print('v2')\n")
    (repo / "bench" / "new_helper.py").write_text("HELPER = 1\n")
    (repo / "data.bin").write_bytes(bytes(range(256)) * 4)
    (repo / "run.log").write_text("ignored\n")
    status_before = git(repo, "status", "--porcelain")
    objects_before = git(repo, "count-objects")

    diff = git_diff(repo)

    assert b"+print('v2')" in diff
    assert b"+HELPER = 1" in diff
    assert b"diff --git a/data.bin b/data.bin" in diff
    assert b"GIT binary patch" in diff
    assert b"run.log" not in diff
    # The user's index and object store are untouched.
    assert git(repo, "status", "--porcelain") == status_before
    assert git(repo, "count-objects") == objects_before

    # The patch rebuilds the working tree from a clean checkout of HEAD.
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    subprocess.run(["git", "apply", "-"], cwd=clone, input=diff, check=True)
    for name in ("bench/runner.py", "bench/new_helper.py", "data.bin"):
        assert (clone / name).read_bytes() == (repo / name).read_bytes()


def test_diff_includes_a_deleted_file(repo: Path) -> None:
    (repo / "bench" / "runner.py").unlink()
    assert b"deleted file mode" in git_diff(repo)


def test_diff_of_a_non_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(RunnerError, match="not a git repository"):
        git_diff(plain)


# --- resolve_sha ------------------------------------------------------------------


def test_resolve_short_sha_branch_and_relative_rev(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD")
    (repo / "bench" / "runner.py").write_text("print('v2')\n")
    second = commit_all(repo, "second")
    assert resolve_sha(repo, first[:8]) == first
    assert resolve_sha(repo, "main") == second
    assert resolve_sha(repo, "HEAD~1") == first


@pytest.mark.parametrize("rev", ["no-such-branch", "deadbeefdeadbeef", "-n", ""])
def test_resolve_bad_revision_names_it(repo: Path, rev: str) -> None:
    with pytest.raises(RunnerError) as caught:
        resolve_sha(repo, rev)
    message = str(caught.value)
    assert repr(rev) in message
    assert "\n" not in message


# --- worktree ---------------------------------------------------------------------


def test_worktree_at_an_older_commit(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD")
    (repo / "bench" / "runner.py").write_text("print('v2')\n")
    commit_all(repo, "second")
    (repo / "bench" / "runner.py").write_text("print('uncommitted')\n")

    with worktree(repo, first[:10]) as path:
        assert (path / "bench" / "runner.py").read_text() == "print('v1')\n"
        assert git(path, "rev-parse", "HEAD") == first
        assert str(path) in git(repo, "worktree", "list")

    assert not path.exists()
    assert not path.parent.exists()
    assert str(path) not in git(repo, "worktree", "list")
    # The user's checkout was not disturbed.
    assert (repo / "bench" / "runner.py").read_text() == "print('uncommitted')\n"


@pytest.mark.parametrize("error", [ValueError, KeyboardInterrupt])
def test_worktree_is_removed_when_the_body_raises(repo: Path, error: type[BaseException]) -> None:
    seen: list[Path] = []
    with pytest.raises(error), worktree(repo, "HEAD") as path:
        seen.append(path)
        (path / "scratch.txt").write_text("made inside\n")
        raise error("stop")
    assert not seen[0].exists()
    assert str(seen[0]) not in git(repo, "worktree", "list")


def test_worktree_of_a_bad_revision(repo: Path) -> None:
    with pytest.raises(RunnerError, match="nope"), worktree(repo, "nope"):
        pass
    assert len(git(repo, "worktree", "list").splitlines()) == 1


def test_diff_sees_a_same_size_edit_made_in_the_second_of_the_commit(repo: Path) -> None:
    # git trusts an index entry's cached stat when the file is older than the index file;
    # an edit of the same size within the second of the last `git add` is caught only by
    # comparing against the index's own mtime, which the throwaway copy must keep. The
    # timestamps are set by hand (ctime cannot be, so the repo ignores it) to make the
    # "same second" case certain instead of a race.
    import os

    git(repo, "config", "core.trustctime", "false")
    path, index = repo / "level.txt", repo / ".git" / "index"
    past = 1_700_000_000
    path.write_text("1.0 0.01\n")
    os.utime(path, (past, past))
    git(repo, "add", "level.txt")
    git(repo, "commit", "-q", "-m", "level")
    path.write_text("1.0 0.02\n")
    os.utime(path, (past, past))
    os.utime(index, (past, past))
    assert b"+1.0 0.02" in git_diff(repo)


# --- git_common_dir ---------------------------------------------------------------


def test_a_worktree_shares_the_common_dir_of_its_repository(repo: Path, tmp_path: Path) -> None:
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "--detach", "-q", str(linked), "HEAD")
    assert git_common_dir(linked) == git_common_dir(repo) == (repo / ".git").resolve()
    assert git_common_dir(repo / "bench") == git_common_dir(repo)


def test_a_clone_has_its_own_common_dir(repo: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    assert git_common_dir(clone) != git_common_dir(repo)


def test_common_dir_of_a_non_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(RunnerError, match="not a git repository"):
        git_common_dir(plain)


def test_git_environment_drops_only_what_redirects_git(monkeypatch: pytest.MonkeyPatch) -> None:
    from benchstone.runner import git_environment

    monkeypatch.setenv("GIT_DIR", "/elsewhere/.git")
    monkeypatch.setenv("GIT_INDEX_FILE", "/elsewhere/index")
    env = git_environment()
    assert "GIT_DIR" not in env and "GIT_INDEX_FILE" not in env
    # The user's configuration and the ceiling (set by the autouse fixture) stay.
    assert env["GIT_CONFIG_GLOBAL"] == "/dev/null" and "GIT_CEILING_DIRECTORIES" in env
