"""Per-worker git worktrees: where each candidate program becomes a commit.

benchstone measures commits and refuses dirty trees, so a candidate has to be committed
before it can be run, and the user's own checkout must not be touched while OpenEvolve
works. Each evaluation takes a *slot*: a directory under the adapter's work dir holding
one ``git worktree`` of the registered project, guarded by an ``flock`` on a sibling lock
file. Slots are reused (a worker process takes the first free one, so it finds its own
slot again), reset to the project's HEAD before each candidate, and a second evaluation
running at the same time — another OpenEvolve worker, or another thread — takes another.

The commit is deterministic (parent, tree, identity, dates and message fixed), so the
same program on the same HEAD is the same SHA: cascade stage 2 finds the correctness runs
stage 1 made, and a program OpenEvolve proposes twice pools its runs (and spends looks)
as one candidate, as benchstone intends.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath

from benchstone.integrations.openevolve._errors import IntegrationError
from benchstone.runner import git_environment

_IDENTITY = ("benchstone-openevolve", "benchstone-openevolve@localhost")
_MESSAGE = (
    "openevolve candidate\n\nCommitted by benchstone.integrations.openevolve for one evaluation.\n"
)
# Settings that would make a commit depend on the user's configuration or run their code.
_CONFIG = (
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "commit.gpgSign=false",
    "-c",
    "core.autocrlf=false",
)


def checked_path(value: str) -> PurePosixPath:
    """The candidate file's path inside the project, checked: relative, no ``..``."""
    path = PurePosixPath(value)
    if not value or path.is_absolute() or ".." in path.parts or path == PurePosixPath("."):
        raise IntegrationError(
            f"candidate_path {value!r} must be a file path relative to the project root "
            "(e.g. 'src/solver.py'), without '..'"
        )
    return path


@contextlib.contextmanager
def slot(root: Path, work_dir: Path) -> Iterator[Path]:
    """A free worktree of the project at ``root``, reset to its HEAD, held until exit.

    The path given is the project's root inside the worktree (the worktree itself unless
    the project is a subdirectory of its repository).
    """
    work_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    index = 0
    while True:
        fd = os.open(work_dir / f"slot-{index}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            index += 1
            continue
        try:
            path = work_dir / f"slot-{index}"
            _reset(root, path)
            # A project may be a subdirectory of its repository: the same one, in the slot.
            yield path / _git(root, ["rev-parse", "--show-prefix"]).strip()
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        return


def commit_candidate(checkout: Path, relative: PurePosixPath, program: Path) -> str:
    """Write ``program`` at ``relative`` in the worktree and commit it; the commit's SHA.

    An unchanged program is committed too (an empty commit): the candidate is always a
    commit of its own on top of HEAD.
    """
    target = checkout / relative
    if target.is_symlink() or target.is_dir():
        raise IntegrationError(
            f"candidate_path {relative} is a {'symlink' if target.is_symlink() else 'directory'} "
            "in the project; name the regular file OpenEvolve evolves"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copyfile(program, target)
    except OSError as exc:
        raise IntegrationError(f"cannot copy the candidate {program}: {exc.strerror}") from None
    date = _git(checkout, ["show", "-s", "--format=%cI", "HEAD"]).strip()
    name, email = _IDENTITY
    env = {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
        "GIT_COMMITTER_DATE": date,
    }
    _git(checkout, ["add", "--force", "--", relative.as_posix()])
    _git(
        checkout,
        ["commit", "--quiet", "--allow-empty", "--no-verify", "--cleanup=verbatim", "-F", "-"],
        env=env,
        stdin=_MESSAGE,
    )
    return _git(checkout, ["rev-parse", "HEAD"]).strip()


def _reset(root: Path, path: Path) -> None:
    """Make ``path`` a clean detached worktree of ``root``'s HEAD, creating it if needed."""
    head = _git(root, ["rev-parse", "--verify", "HEAD^{commit}"]).strip()
    if _is_worktree_of(root, path):
        _git(path, ["checkout", "--quiet", "--detach", "--force", head])
        _git(path, ["reset", "--quiet", "--hard", head])
        _git(path, ["clean", "-ffdxq"])
        return
    if path.exists() or path.is_symlink():
        # Left by a crash, or the repository was re-created: start this slot afresh.
        shutil.rmtree(path, ignore_errors=True)
        with contextlib.suppress(IntegrationError):
            _git(root, ["worktree", "prune"])
    _git(root, ["worktree", "add", "--quiet", "--detach", "--force", str(path), head])


def _is_worktree_of(root: Path, path: Path) -> bool:
    if not (path / ".git").is_file():
        return False
    try:
        mine = _git(path, ["rev-parse", "--path-format=absolute", "--git-common-dir"])
        theirs = _git(root, ["rev-parse", "--path-format=absolute", "--git-common-dir"])
    except IntegrationError:
        return False
    return Path(mine.strip()).resolve() == Path(theirs.strip()).resolve()


def _git(
    cwd: Path, args: Sequence[str], *, env: dict[str, str] | None = None, stdin: str | None = None
) -> str:
    """One git command in ``cwd``; its stdout, or IntegrationError with git's reason.

    The environment is the runner's (:func:`benchstone.runner.git_environment`: no GIT_DIR
    or GIT_INDEX_FILE pointing git at another repository than ``cwd``'s).
    """
    full = git_environment()
    full.update(GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    full.update(env or {})
    try:
        done = subprocess.run(
            ["git", *_CONFIG, *args],
            cwd=cwd,
            env=full,
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        raise IntegrationError(f"{cwd}: cannot run git ({exc.strerror}); install git") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        reason = lines[-1].removeprefix("fatal: ").removeprefix("error: ") if lines else ""
        raise IntegrationError(f"{cwd}: git {args[0]} failed: {reason or done.returncode}")
    return done.stdout
