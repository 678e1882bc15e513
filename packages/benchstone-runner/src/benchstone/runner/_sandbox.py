"""The sandbox one repetition runs in: what the code under test can see and outlive.

The code under test is an adversary running as the same user. Path isolation ("the
project never receives a path into the store") does not stop it from *looking*: it can
read the harness's environment through ``/proc/<ancestor>/environ``, open the store at
its default location, or import ``benchstone.store`` and append rows. So on Linux each
repetition runs under bubblewrap (``bwrap``, the namespace tool Flatpak uses) in new
user, mount, pid and ipc namespaces (and a new network namespace when the benchmark says
``network = false``):

- the store directory and every other harness path are covered by empty tmpfs mounts,
  wherever they live (under ``/tmp``, ``$HOME`` or the project);
- ``/proc`` is the namespace's own: no harness process is visible;
- run directories share one private parent (``runs_dir()``), hidden as a whole; the
  repetition's own run directory is mounted back, so no other run's config, result or
  artifact is reachable;
- ``/tmp`` is a private tmpfs (``TMPDIR=/tmp``): scratch space that dies with the run;
  the project tree (``keep``) is bound back when it lives there;
- the project's git directories (``protected``) and the harness's own installation
  (``installation_paths()``) are read-only, so nothing can be planted there for the next
  `bench` to run outside any sandbox (a git hook or fsmonitor, a ``.pth`` file);
- everything else (the project, toolchains, ``$HOME``) stays as it is: importing
  ``benchstone.store`` inside is harmless once there is no store to open.

Inside, a small reaper starts the command and waits until the *last* process of the
namespace has exited, so a main process that exits at once while a
detached child does the work cannot shorten the wall clock, and nothing outlives the run
(when pid 1 exits, the kernel kills whatever is left in the namespace).

The *strict* sandbox (a benchmark with a held-out corpus, ``held_out = true``) is for code
that reads data it must not take away: the whole filesystem is mounted read-only (the
project tree included), writable are only the run directory (config, result, artifact)
and a private ``/tmp`` that dies with the namespace; the corpus is bound read-only into
the run directory; the network is unshared and a seccomp filter refuses Unix and other
non-IP sockets (runner/_seccomp.py). It needs bubblewrap: the fallback level cannot give
read-only mounts, so a strict sandbox without bwrap is refused, never weakened.

Without bwrap (``auto``, or ``landlock`` asked for), the fallback is what the kernel
gives an unprivileged user: Landlock denies the hidden paths to the shell and everything
it starts (applied between fork and exec), the harness is ``PR_SET_DUMPABLE 0`` (and
Landlock forbids ptrace-class access out of its domain, so ``/proc/<harness>/environ``
stays closed), and the harness, a child subreaper, waits for the last process of the
tree itself. ``/tmp`` and ``/proc`` are then the host's.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchstone.runner import _landlock, _seccomp
from benchstone.runner._errors import RunnerError
from benchstone.runner._sandbox_levels import LEVELS

# What a row records: the isolation a repetition actually ran at.
ISOLATION_NAMESPACES = "namespaces"
ISOLATION_LANDLOCK = "landlock"  # the fallback without bwrap (runner/_landlock.py)
ISOLATION_NONE = "none"
ISOLATION_STRICT = "strict"  # namespaces, read-only tree, no network (held-out corpora)
_PR_SET_DUMPABLE = 4
_FIX = (
    '(Debian/Ubuntu: apt-get install bubblewrap) or set sandbox = "none" in '
    "bench/manifest.toml to run unsealed"
)

# The namespace's first process: run the command in a child shell, then wait until it
# is the only process left beside bwrap's init (pid 1, which reaps orphans), and exit
# with the command's status. Counting /proc entries with a glob forks nothing, so a run
# that leaves no orphans pays no extra process; one that does is polled every 20 ms.
_REAPER = (
    '/bin/sh -c "$1"; status=$?; '
    "while set -- /proc/[0-9]*; [ $# -gt 2 ]; do sleep 0.02; done; "
    'exit "$status"'
)


@dataclass(frozen=True)
class Sandbox:
    """How to confine one command: the paths to hide and those that stay writable."""

    level: str = "auto"  # manifest key `sandbox`
    hidden: tuple[Path, ...] = ()  # the store and other harness paths
    writable: tuple[Path, ...] = ()  # the run dir (under the hidden store), mounted back
    network: bool = True
    # The strict sandbox (held-out corpora): everything read-only but ``writable`` and a
    # private /tmp, no network, no Unix sockets; ``readonly`` binds (source, target).
    strict: bool = False
    readonly: tuple[tuple[Path, Path], ...] = ()
    # Paths under /tmp that stay visible over the private /tmp, such as a project tree that
    # lives there (read-only in the strict sandbox, as they are otherwise).
    keep: tuple[Path, ...] = ()
    # Mounted read-only over themselves: what the harness reads or runs after the code
    # under test has run (the project's git directories); the harness's own installation
    # is always added (``installation_paths``).
    protected: tuple[Path, ...] = ()

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise RunnerError(
                f"sandbox = {self.level!r} is not a sandbox level; use one of "
                + ", ".join(repr(level) for level in LEVELS)
            )

    @property
    def isolation(self) -> str:
        """The isolation this sandbox gives here; RunnerError when it cannot be had."""
        if self.strict:
            if self.level in ("none", "landlock") or bwrap_path() is None:
                raise RunnerError(
                    "a held-out corpus runs only in the strict sandbox (read-only tree, no "
                    f"network), which needs bubblewrap, not sandbox = {self.level!r}"
                    + ("" if bwrap_path() else " without `bwrap` on PATH")
                    + "; install it (Debian/Ubuntu: apt-get install bubblewrap) and keep "
                    'sandbox = "auto" or "bwrap"'
                )
            if not _seccomp.supported():
                _seccomp.program()  # the RunnerError naming the machine
            return ISOLATION_STRICT
        if self.level == "none":
            return ISOLATION_NONE
        if self.level != "landlock" and bwrap_path() is not None:
            return ISOLATION_NAMESPACES
        if self.level != "bwrap" and _landlock.abi_version() > 0:
            if not self.network:
                # Landlock cannot take a process off the network: refuse, never weaken.
                raise RunnerError(
                    "network = false needs bubblewrap (a network namespace); the Landlock "
                    f"fallback cannot take a repetition off the network; install it {_FIX}"
                    ", or set network = true"
                )
            return ISOLATION_LANDLOCK
        if self.level == "landlock":
            raise RunnerError(
                'sandbox = "landlock" needs a kernel with Landlock (Linux 5.13+, enabled in '
                f"the LSM list), and this one has none; install bubblewrap {_FIX}"
            )
        raise RunnerError(
            f"sandbox = {self.level!r} needs bubblewrap to seal the repetition, and "
            "`bwrap` is not on PATH or cannot create namespaces here"
            + (" (nor does the kernel offer Landlock)" if self.level == "auto" else "")
            + f"; install it {_FIX}"
        )

    def preexec(self) -> Callable[[], None] | None:
        """What the child runs between fork and exec: the Landlock confinement, or None.

        The grants (every sibling along the way to each hidden path) are computed here,
        in the harness, so the child only makes the syscalls.
        """
        if self.isolation != ISOLATION_LANDLOCK:
            return None
        grants = _landlock.grants(self.hidden, self.writable)
        abi = _landlock.abi_version()
        return functools.partial(_landlock.restrict_self, grants, abi)

    def argv(self, command: str, *, seccomp_fd: int | None = None) -> list[str]:
        """The argv that runs ``command`` with ``/bin/sh -c`` at this sandbox's level.

        The strict sandbox needs ``seccomp_fd``, a descriptor holding the socket filter
        (``_seccomp.program_fd()``), passed to the child.
        """
        if self.isolation in (ISOLATION_NONE, ISOLATION_LANDLOCK):
            return ["/bin/sh", "-c", command]
        bwrap = bwrap_path()
        assert bwrap is not None  # isolation checked it
        args = [bwrap, "--unshare-user", "--unshare-pid", "--unshare-ipc", "--die-with-parent"]
        if self.strict:
            if seccomp_fd is None:
                raise RunnerError("the strict sandbox needs its seccomp filter descriptor")
            args += ["--unshare-net", "--new-session", "--seccomp", str(seccomp_fd)]
            # Read-only everything; a fresh /dev (its /dev/shm private) and a private /tmp.
            args += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
            args += ["--tmpfs", "/tmp", "--setenv", "TMPDIR", "/tmp"]
            # The project tree (``keep``) and the harness's own interpreter stay visible,
            # read-only, when they live under /tmp (a CI clone's virtualenv does).
            for path in _outermost((*self.keep, *_interpreter_paths())):
                if path.is_relative_to("/tmp"):
                    args += ["--ro-bind", str(path), str(path)]
        else:
            args += ["--dev-bind", "/", "/", "--proc", "/proc"]
            if not self.network:
                args.append("--unshare-net")
            # A private /tmp: nothing another process left there, nor anything this run
            # leaves, outlives the namespace; what must stay (the project tree) is bound back.
            args += ["--tmpfs", "/tmp", "--setenv", "TMPDIR", "/tmp"]
            for path in _outermost(self.keep):
                if path.is_relative_to("/tmp"):
                    args += ["--bind", str(path), str(path)]
            # The harness's installation and the git directories it reads after the run,
            # read-only, so the code under test cannot plant what the next `bench` runs
            # outside any sandbox (a .pth file, a patched gate, a git hook or config).
            keep = [Path(p).resolve() for p in self.keep]
            for path in _outermost((*self.protected, *installation_paths())):
                if path.exists() and not any(k.is_relative_to(path) for k in keep):
                    args += ["--ro-bind", str(path), str(path)]
        for path in _outermost(self.hidden):
            if path.is_dir():
                args += ["--tmpfs", str(path)]
            elif path.exists():
                args += ["--ro-bind", "/dev/null", str(path)]
        # After the hiding: the run directory lives under the (hidden) store, and only this
        # repetition's own directory is mounted back.
        for path in _outermost(self.writable):
            args += ["--bind", str(path), str(path)]
        # Last: a read-only bind inside the (writable) run directory stays read-only.
        for source, target in self.readonly:
            args += ["--ro-bind", str(source), str(target)]
        return [*args, "--", "/bin/sh", "-c", _REAPER, "reaper", command]


def _interpreter_paths() -> tuple[Path, ...]:
    """The running interpreter's installation: the environment a Python runner uses."""
    return tuple(Path(p).resolve() for p in {sys.prefix, sys.exec_prefix, sys.base_prefix})


@functools.cache
def installation_paths() -> tuple[Path, ...]:
    """Where the harness's own code lives: its virtualenv (interpreter, scripts and
    site-packages) and every directory a ``benchstone`` package is imported from.

    A sandbox mounts them read-only: the code under test may import ``benchstone`` (it is
    harmless without a store to open) but not change what the next `bench` will run.
    """
    import benchstone

    paths = [Path(p).resolve().parent for p in benchstone.__path__]
    if sys.prefix != sys.base_prefix:  # a virtualenv: all of it is the harness's
        paths.append(Path(sys.prefix).resolve())
    script = shutil.which("bench")
    if script is not None:
        paths.append(Path(script).resolve().parent)
    # A system-wide or --user installation: its site directory, not /usr itself.
    return tuple(p for p in dict.fromkeys(paths) if p != Path("/usr") and len(p.parts) > 2)


def seal_harness() -> None:
    """Make the harness undumpable (``PR_SET_DUMPABLE 0``): a process of the same user can
    then no longer read its ``/proc/PID/environ``, ``fd`` or ``mem``, nor ptrace it.

    The Landlock level relies on it (and on Landlock's own ptrace scoping); under bwrap no
    harness process is visible at all. Idempotent; a no-op off Linux.
    """
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def harness_paths(home: Path) -> tuple[Path, ...]:
    """The paths a sandbox hides: the store in use, the default store location, and the
    parent of every run directory.

    The default location matters even when ``$BENCHSTONE_HOME`` points elsewhere: the
    user's everyday store lives there, and a benchmark must not reach that one either.
    Run directories share one private parent (``runs_dir()``), hidden as a whole, so a
    repetition sees its own run directory (mounted back) and no other run's files.
    """
    paths = [Path(home)]
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local/share")
    paths.append(Path(data) / "benchstone")
    paths.append(runs_dir())
    return tuple(dict.fromkeys(p.resolve() for p in paths))


def runs_dir() -> Path:
    """The private (0o700) parent of run directories: outside the store, so no path a
    project is given names the store, and one per user, so users do not share it."""
    path = Path(tempfile.gettempdir()) / f"benchstone-runs-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    if path.is_symlink() or path.stat().st_uid != os.getuid():
        raise RunnerError(f"{path}: not a directory of this user; remove it and run again")
    return path


def _outermost(paths: Sequence[Path]) -> list[Path]:
    """Resolved paths without those inside another one of the list, parents first."""
    resolved = sorted({Path(p).resolve() for p in paths}, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in resolved:
        if not any(path.is_relative_to(parent) for parent in kept):
            kept.append(path)
    return kept


@functools.cache
def bwrap_path() -> str | None:
    """``bwrap`` if it is installed *and* can create the namespaces here, else None.

    Probed once per process: some kernels and containers forbid unprivileged user
    namespaces, and a bwrap that cannot start is no sandbox.
    """
    found = shutil.which("bwrap")
    if found is None:
        return None
    probe = subprocess.run(
        [found, "--unshare-user", "--unshare-pid", "--dev-bind", "/", "/", "--", "/bin/true"],
        capture_output=True,
        check=False,
    )
    return found if probe.returncode == 0 else None
