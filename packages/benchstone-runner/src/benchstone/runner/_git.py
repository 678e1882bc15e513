"""Git provenance: which commit a run measured, whether the tree matched it, and how.

Every run row names a commit; a dirty tree means the commit does not describe the code
that ran, so the diff is kept with the row. ``worktree`` lets a baseline be measured at an
older commit without touching the user's checkout.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from benchstone.runner._errors import RunnerError
from benchstone.store import Record

# Variables that would point git at another repository or index than ``root``'s own
# (set, for instance, when the harness is started from inside a git hook).
_REDIRECTING = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
)


# Settings git would otherwise take from the repository's own config (which the code under
# test may have written: ``.git`` is the project's) and run as programs *outside* any
# sandbox, in the harness's own git calls: an fsmonitor hook on every ``git status``, hooks
# on ``git worktree add``. Given as command-scope config (GIT_CONFIG_COUNT), which every
# other scope yields to.
_HARDENING = (("core.fsmonitor", "false"), ("core.hooksPath", "/dev/null"))


def git_environment() -> dict[str, str]:
    """The harness's environment for a git command about a given directory.

    Without the variables that would point git at another repository or index than the
    directory's own (GIT_DIR, GIT_INDEX_FILE, ... as set inside a git hook), and with the
    settings that would run a program of the repository's choosing turned off
    (``_HARDENING``); the user's git configuration and ceiling directories stay.
    """
    env = {key: value for key, value in os.environ.items() if key not in _REDIRECTING}
    try:
        count = max(int(env.get("GIT_CONFIG_COUNT", "0")), 0)
    except ValueError:
        count = 0
    for offset, (key, value) in enumerate(_HARDENING):
        env[f"GIT_CONFIG_KEY_{count + offset}"] = key
        env[f"GIT_CONFIG_VALUE_{count + offset}"] = value
    env["GIT_CONFIG_COUNT"] = str(count + len(_HARDENING))
    return env


def git_dirs(root: Path) -> tuple[Path, ...]:
    """The git directories a checkout at ``root`` uses: its own and the shared one.

    A sandbox mounts them read-only, so the code under test cannot rewrite the history,
    index or configuration the harness reads after it. Read from ``.git`` itself (a
    directory, or a worktree's ``gitdir:`` file and its ``commondir``), without running
    git: a repetition pays nothing for it. Empty when ``root`` is no checkout.
    """
    dot = Path(root) / ".git"
    if dot.is_dir() and not dot.is_symlink():
        return (dot.resolve(),)
    try:
        text = dot.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ()
    if not text.startswith("gitdir:"):
        return ()
    own = (Path(root) / text.removeprefix("gitdir:").strip()).resolve()
    found = [own] if own.is_dir() else []
    try:
        common = (own / (own / "commondir").read_text().strip()).resolve()
    except OSError:
        common = None
    if common is not None and common.is_dir():
        found.append(common)
    return tuple(dict.fromkeys(found))


def tree_hash(root: Path, sha: str) -> str:
    """The hash of the tree of commit ``sha``: the code a commit holds, whatever its message."""
    return _git(root, ["rev-parse", "--verify", f"{sha}^{{tree}}"]).decode().strip()


class GitState(Record):
    """The commit checked out at a project root, and whether the tree differs from it."""

    sha: str
    dirty: bool
    branch: str | None


def git_state(root: Path) -> GitState:
    """HEAD's full sha, dirtiness (tracked changes or untracked, non-ignored files), branch.

    One ``git status --porcelain=v2 --branch`` call answers all three, so a run pays for a
    single git process.
    """
    out = _git(root, ["status", "--porcelain=v2", "--branch", "-z", "--untracked-files=normal"])
    sha = branch = None
    dirty = False
    for record in out.split(b"\0"):
        if record.startswith(b"# branch.oid "):
            sha = record[len(b"# branch.oid ") :].decode()
        elif record.startswith(b"# branch.head "):
            head = record[len(b"# branch.head ") :].decode(errors="replace")
            branch = None if head == "(detached)" else head
        elif record and not record.startswith(b"#"):
            dirty = True
    if sha is None or sha == "(initial)":
        raise RunnerError(
            f"{root}: the git repository has no commit yet; commit the project first "
            "(a run is identified by the commit it measured)"
        )
    return GitState(sha=sha, dirty=dirty, branch=branch)


def git_diff(root: Path) -> bytes:
    """The working tree against HEAD as one binary-safe patch, untracked files included.

    Untracked files are added as intent-to-add entries to a *throwaway copy* of the index,
    so ``git diff HEAD`` shows their contents as new files while the user's index and
    object store stay untouched. The patch applies with ``git apply`` on a checkout of HEAD.
    """
    git_state(root)  # a clear error for "not a repository" / "no commit" first
    top_text, index_text, objects_text = (
        _git(root, ["rev-parse", "--show-toplevel", "--git-path", "index", "--git-path", "objects"])
        .decode()
        .splitlines()
    )
    top = Path(top_text)
    index = Path(root) / index_text  # --git-path answers relative to ``root`` (or absolute)
    with tempfile.TemporaryDirectory(prefix="benchstone-index-") as scratch:
        # Whatever git writes on the way (the empty blob of an intent-to-add entry) lands
        # in the scratch object directory; the repository's own objects are only read.
        env = {
            "GIT_INDEX_FILE": str(Path(scratch) / "index"),
            "GIT_OBJECT_DIRECTORY": str(Path(scratch) / "objects"),
            "GIT_ALTERNATE_OBJECT_DIRECTORIES": str((Path(root) / objects_text).resolve()),
        }
        Path(env["GIT_OBJECT_DIRECTORY"]).mkdir()
        if index.is_file():
            # copy2 keeps the index's mtime: git trusts an entry's cached stat only when
            # the file is older than the index, so a fresh mtime on the copy would hide an
            # edit of the same size made in the same second as the last `git add`.
            shutil.copy2(index, env["GIT_INDEX_FILE"])
        else:
            _git(top, ["read-tree", "HEAD"], env=env)
        untracked = _git(top, ["ls-files", "--others", "--exclude-standard", "-z"], env=env)
        if untracked:
            _git(
                top,
                ["add", "--intent-to-add", "--pathspec-from-file=-", "--pathspec-file-nul"],
                env=env,
                stdin=untracked,
            )
        return _git(
            top,
            [
                "diff",
                "--binary",
                "--full-index",
                "--no-color",
                "--no-ext-diff",
                "--no-textconv",
                "--no-renames",
                "--src-prefix=a/",
                "--dst-prefix=b/",
                "HEAD",
            ],
            env=env,
        )


def resolve_sha(root: Path, rev: str) -> str:
    """The full sha of the commit ``rev`` names (a short sha, a branch, a tag, HEAD~2)."""
    if not rev or rev.startswith("-") or "\0" in rev:
        raise RunnerError(f"{root}: {rev!r} is not a revision; give a commit sha, branch or tag")
    try:
        out = _git(root, ["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"])
    except RunnerError:
        git_state(root)  # a repository-level problem gets its own message
        raise RunnerError(
            f"{root}: revision {rev!r} does not name a commit in this repository; "
            "give a commit sha, branch or tag (see `git log`)"
        ) from None
    return out.decode().strip()


def git_common_dir(root: Path) -> Path:
    """The repository's shared git directory (objects, refs), as an absolute path.

    A checkout and every ``git worktree`` of it answer the same directory, and nothing
    else does: it is how a worktree is recognised as a checkout of a registered project
    rather than of some other repository.
    """
    git_state(root)  # a clear error for "not a repository" / "no commit" first
    out = _git(root, ["rev-parse", "--path-format=absolute", "--git-common-dir"])
    return Path(out.decode().strip()).resolve()


@contextlib.contextmanager
def worktree(root: Path, sha: str, *, parent: Path | None = None) -> Iterator[Path]:
    """A temporary detached checkout of ``sha``; always removed, whatever happens inside.

    ``parent`` is where its temporary directory goes (default: the system's temp dir); the
    side-by-side baseline arm puts it under the hidden runs directory, so the candidate's
    code cannot reach the baseline's checkout. Removal runs on normal exit, on an exception
    and on KeyboardInterrupt: first
    ``git worktree remove --force`` (so git forgets it), then ``git worktree prune``, and
    the directory is deleted outright in case git could not.
    """
    path = add_worktree(root, sha, parent=parent)
    try:
        yield path
    finally:
        remove_worktree(root, path)


def add_worktree(root: Path, sha: str, *, parent: Path | None = None) -> Path:
    """A detached checkout of ``sha`` in a fresh directory under ``parent``; its path.

    The caller removes it with :func:`remove_worktree`. For a checkout that outlives the
    process that made it (a Slurm job's baseline arm, in the job's spool directory);
    everything else uses :func:`worktree`, which removes it on every way out.
    """
    full = resolve_sha(root, sha)
    holder = Path(tempfile.mkdtemp(prefix="benchstone-worktree-", dir=parent))
    path = holder / "tree"
    try:
        _git(root, ["worktree", "add", "--detach", "--quiet", str(path), full])
    except BaseException:
        _remove_worktree(root, path, holder)
        raise
    return path


def remove_worktree(root: Path, path: Path) -> None:
    """Remove a checkout made by :func:`add_worktree` (git forgets it); idempotent."""
    _remove_worktree(root, Path(path), Path(path).parent)


def _remove_worktree(root: Path, path: Path, parent: Path) -> None:
    with contextlib.suppress(RunnerError):
        _git(root, ["worktree", "remove", "--force", "--force", str(path)])
    with contextlib.suppress(RunnerError):
        _git(root, ["worktree", "prune"])
    shutil.rmtree(parent, ignore_errors=True)


def _git(
    root: Path,
    args: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    stdin: bytes | None = None,
) -> bytes:
    """Run one git command in ``root``; its stdout, or RunnerError with git's own reason."""
    if not Path(root).is_dir():
        raise RunnerError(f"{root}: not a git repository (the directory does not exist)")
    full_env = git_environment()
    full_env.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_OPTIONAL_LOCKS="0",
        LC_ALL="C",
        LANGUAGE="C",
    )
    if env:
        full_env.update(env)
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=root,
            env=full_env,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        raise RunnerError(
            f"{root}: cannot read git state: the `git` executable is not on PATH; install git"
        ) from None
    except OSError as exc:
        raise RunnerError(f"{root}: cannot run git ({exc.strerror})") from None
    if done.returncode != 0:
        raise RunnerError(f"{root}: {_reason(done.stderr, args)}")
    return done.stdout


def _reason(stderr: bytes, args: Sequence[str]) -> str:
    """git's complaint on one line, phrased for the user."""
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    text = next((line for line in lines if line.startswith(("fatal:", "error:"))), "")
    text = text or (lines[-1] if lines else f"git {args[0]} failed")
    if "not a git repository" in text:
        return "not a git repository (run `git init` and commit the project, or give its root)"
    for prefix in ("fatal: ", "error: "):
        text = text.removeprefix(prefix)
    return f"git {args[0]} failed: {text}"
