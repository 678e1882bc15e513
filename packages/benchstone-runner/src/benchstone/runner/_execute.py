"""Run one benchmark command and measure it from the outside.

The project's own ``wall_clock_seconds`` is kept but never trusted: the numbers a gate may
read come from here, measured by the harness on the whole process tree (see
``docs/runner.md``, "Measurement"). After ``execute`` returns, nothing the command
started is still running, whether it exited, timed out or was interrupted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import math
import os
import resource
import signal as signals
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import psutil

from benchstone.runner import _seccomp
from benchstone.runner._affinity import pin_to
from benchstone.runner._errors import RunnerError
from benchstone.runner._exec_logs import CappedLog
from benchstone.runner._exec_watch import Watcher
from benchstone.runner._proc_tree import (
    ProcessTree,
    descendant_pids,
    existing_descendants,
    maxrss_bytes,
    subreaper,
)
from benchstone.runner._sandbox import ISOLATION_LANDLOCK, Sandbox, seal_harness
from benchstone.store import is_setting, seal_settings

_SHELL = "/bin/sh"
_PIPE_SIZE = 1 << 20
_DRAIN_PATIENCE = 2.0


@dataclass(frozen=True)
class Execution:
    """What one command did, as the harness saw it."""

    returncode: int | None
    signal: int | None
    timed_out: bool
    wall_seconds: float
    cpu_seconds: float | None
    peak_rss_bytes: int | None
    stdout_bytes: int
    stderr_bytes: int
    stdout_truncated: bool
    stderr_truncated: bool
    timeout_seconds: float | None = None
    isolation: str = "none"  # the sandbox level it ran at (runner/_sandbox.py)

    @property
    def failure(self) -> str | None:
        """One line saying why this is not a clean exit 0, or None when it is."""
        if self.timed_out:
            if self.timeout_seconds is None:
                return "timeout"
            return f"timeout after {self.timeout_seconds:g} s"
        if self.signal is not None:
            return f"killed by {_signal_name(self.signal)}"
        if self.returncode is None:
            return "killed by the harness"
        if self.returncode != 0:
            return f"exit code {self.returncode}"
        return None


def child_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a project's command: ``base`` without any BENCHSTONE_* variable.

    The harness's own settings (above all BENCHSTONE_HOME) point into the store; a project
    that could read them could find the reference data it is judged against.
    """
    source = os.environ if base is None else base
    return {key: value for key, value in source.items() if not is_setting(key)}


def seal_environment() -> dict[str, str]:
    """Remove every BENCHSTONE_* variable from the harness's own ``os.environ``; return them.

    Called once at a harness process's start, so nothing the harness starts or hands its
    environment to later learns where the store is; the harness keeps reading them
    (``benchstone.store.setting``). The store owns the settings; this is its rule, called.
    """
    return seal_settings()


def execute(
    command: str,
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    stdout_log: Path,
    stderr_log: Path,
    log_cap_bytes: int = 8 * 1024 * 1024,
    kill_grace: float = 5.0,
    on_start: Callable[[int], None] | None = None,
    sandbox: Sandbox | None = None,
    pass_fds: tuple[int, ...] = (),
    cpu_affinity: frozenset[int] | None = None,
) -> Execution:
    """Run ``command`` with ``/bin/sh -c`` in its own session and measure the process tree.

    With a ``sandbox`` (see runner/_sandbox.py) the shell runs sealed in namespaces and
    the call returns only when the last process of its tree has exited; without one it
    runs as the harness's child, unsealed (``isolation="none"``). With ``cpu_affinity``
    (validated by ``validate_affinity``) the child is pinned to those CPUs before exec,
    so the sandbox and everything the command starts inherit the pinning.

    stdout and stderr are pipes the harness drains into ``stdout_log`` / ``stderr_log``
    (0o600, capped at ``log_cap_bytes``). ``pass_fds`` stay open in the command (valgrind's
    log socket, runner/_instructions.py); every other descriptor of the harness is closed.
    At ``timeout`` seconds the group gets SIGTERM, ``kill_grace`` seconds later SIGKILL.
    Anything still running when the shell is gone (daemons included) gets the same
    treatment. On an exception while waiting (Ctrl-C)
    the tree is killed at once and the exception re-raised.
    """
    _check_arguments(
        command=command, cwd=cwd, timeout=timeout, log_cap_bytes=log_cap_bytes, grace=kill_grace
    )
    with contextlib.ExitStack() as stack:
        out_log = CappedLog(Path(stdout_log), log_cap_bytes)
        stack.callback(out_log.close)
        err_log = CappedLog(Path(stderr_log), log_cap_bytes)
        stack.callback(err_log.close)
        seal = sandbox or Sandbox(level="none")
        # The working directory stays visible over a private /tmp (a project under /tmp).
        seal = dataclasses.replace(seal, keep=(*seal.keep, Path(cwd)))
        isolation = seal.isolation  # RunnerError naming the fix when it cannot be had
        if seal.strict:
            seccomp_fd = stack.enter_context(_seccomp.program_fd())
            argv = seal.argv(command, seccomp_fd=seccomp_fd)
            pass_fds = (*pass_fds, seccomp_fd)
        else:
            argv = seal.argv(command)
        if isolation == ISOLATION_LANDLOCK:
            seal_harness()
        with subreaper():
            execution = _run(
                argv,
                preexec=_chain(pin_to(cpu_affinity) if cpu_affinity else None, seal.preexec()),
                wait_for_all=isolation == ISOLATION_LANDLOCK,
                cwd=Path(cwd),
                env=env,
                timeout=timeout,
                grace=kill_grace,
                logs=(out_log, err_log),
                on_start=on_start,
                pass_fds=pass_fds,
            )
    out_log.check()
    err_log.check()
    return dataclasses.replace(execution, isolation=isolation)


def _chain(*steps: Callable[[], None] | None) -> Callable[[], None] | None:
    """One ``preexec_fn`` running ``steps`` in order (None entries skipped), or None.

    Why a chain: pinning and sealing are independent choices of the manifest, and
    ``subprocess`` takes a single ``preexec_fn``. Pinning runs first, while the child is
    still unconfined.
    """
    chosen = tuple(step for step in steps if step is not None)
    if not chosen:
        return None
    if len(chosen) == 1:
        return chosen[0]

    def _all() -> None:
        for step in chosen:
            step()

    return _all


def _run(
    argv: list[str],
    *,
    preexec: Callable[[], None] | None,
    wait_for_all: bool,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    grace: float,
    logs: tuple[CappedLog, CappedLog],
    on_start: Callable[[int], None] | None,
    pass_fds: tuple[int, ...] = (),
) -> Execution:
    read_ends: list[int] = []
    write_ends: list[int] = []
    preexisting: frozenset[psutil.Process] | None = None
    try:
        for _stream in ("stdout", "stderr"):
            read_end, write_end = _pipe()
            read_ends.append(read_end)
            write_ends.append(write_end)
        preexisting = existing_descendants()
        started = time.monotonic()
        shell = subprocess.Popen(
            argv,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=write_ends[0],
            stderr=write_ends[1],
            start_new_session=True,
            close_fds=True,
            pass_fds=pass_fds,
            preexec_fn=preexec,
        )
    except BaseException as exc:
        for fd in read_ends:
            os.close(fd)
        if preexisting is not None and not isinstance(exc, OSError):
            _end_unclaimed(preexisting)
        if isinstance(exc, OSError):
            raise RunnerError(
                f"{cwd}: cannot start {_SHELL} for the command ({exc.strerror}); the project "
                "directory must exist and the shell must be executable"
            ) from None
        raise
    finally:
        # The child has its copies; the harness keeps only the read ends, so EOF comes
        # when the last process of the tree lets go of its stdout/stderr.
        for fd in write_ends:
            os.close(fd)
    out_read, err_read = read_ends
    tree: ProcessTree | None = None
    watcher: Watcher | None = None
    reaped = False
    try:
        tree = ProcessTree(shell.pid, preexisting)
        # The shell's ru_maxrss starts at the harness's own high-water mark (Linux records
        # the old address space's peak at exec), so it only says something above that mark.
        inherited_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        watcher = Watcher(
            tree,
            [(out_read, logs[0]), (err_read, logs[1])],
            deadline=started + timeout,
            grace=grace,
        )
        watcher.start()
        if on_start is not None:
            on_start(shell.pid)
        _pid, status, usage = os.wait4(shell.pid, 0)
        ended = time.monotonic()
        reaped = True
        # The Popen object must not try to reap the pid again later.
        shell.returncode = os.waitstatus_to_exitcode(status)
        timed_out, term_sent_at = watcher.stop()  # from here on only this thread
        # A shell that exited on its own just before the deadline fired did not time out.
        timed_out = timed_out and term_sent_at is not None and term_sent_at <= ended
        tree.root_reaped()
        if wait_for_all and not timed_out:
            # The run is its whole tree (the bwrap reaper does this inside the namespace;
            # in the fallback the harness, a subreaper, does): it ends with its last process.
            timed_out = not tree.drain(until=started + timeout)
            ended = time.monotonic()
        tree.settle(term_sent_at=term_sent_at, grace=grace)
        watcher.finish(_DRAIN_PATIENCE)
        if watcher.failure is not None:
            raise watcher.failure
    except BaseException:
        _abort(shell, tree, watcher, reaped=reaped, pipes=(out_read, err_read), known=preexisting)
        raise

    exit_code = os.waitstatus_to_exitcode(status)
    killed_by = -exit_code if exit_code < 0 else None
    return Execution(
        returncode=None if timed_out or killed_by is not None else exit_code,
        signal=killed_by,
        timed_out=timed_out,
        wall_seconds=ended - started,
        cpu_seconds=usage.ru_utime + usage.ru_stime + tree.extra_cpu,
        peak_rss_bytes=max(
            tree.peak_rss,
            maxrss_bytes(usage.ru_maxrss) if usage.ru_maxrss > inherited_rss else 0,
        ),
        stdout_bytes=logs[0].total,
        stderr_bytes=logs[1].total,
        stdout_truncated=logs[0].truncated,
        stderr_truncated=logs[1].truncated,
        timeout_seconds=timeout if math.isfinite(timeout) else None,
    )


def _abort(
    shell: subprocess.Popen[bytes],
    tree: ProcessTree | None,
    watcher: Watcher | None,
    *,
    reaped: bool,
    pipes: tuple[int, int],
    known: frozenset[psutil.Process],
) -> None:
    """Kill everything at once (no grace: the user asked to stop), reap, close the pipes."""
    started = watcher is not None and watcher.ident is not None
    if watcher is not None:
        watcher.stop()
    if tree is None:
        tree = ProcessTree(shell.pid, known)
    tree.signal(signals.SIGKILL)
    if not reaped:
        with contextlib.suppress(ChildProcessError):
            _pid, status, _usage = os.wait4(shell.pid, 0)
            shell.returncode = os.waitstatus_to_exitcode(status)
        tree.root_reaped()
    tree.settle(term_sent_at=time.monotonic(), grace=0.0)
    if watcher is not None and started:
        watcher.finish(_DRAIN_PATIENCE)
    else:
        for fd in pipes:
            with contextlib.suppress(OSError):
                os.close(fd)


def _end_unclaimed(known: frozenset[psutil.Process]) -> None:
    """Kill and reap the shell of an interrupted ``Popen``, whose pid the harness never got.

    Why: a Ctrl-C can land after ``Popen`` forked but before it returned, so the
    exception comes with the command already running and no object to end it by. The
    harness runs one command at a time, so its one new direct child is that shell.
    """
    me = os.getpid()
    for pid in descendant_pids(me):
        try:
            proc = psutil.Process(pid)
            if proc in known or proc.ppid() != me:
                continue
        except psutil.Error:
            continue
        tree = ProcessTree(pid, known)
        tree.signal(signals.SIGKILL)
        # Before its setsid the shell is not yet a group leader: kill it by pid as well.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signals.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.wait4(pid, 0)
        tree.root_reaped()
        tree.settle(term_sent_at=time.monotonic(), grace=0.0)


def _pipe() -> tuple[int, int]:
    """A close-on-exec pipe, enlarged so a fast writer needs fewer wake-ups of the reader."""
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    setsize = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setsize is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(write_end, setsize, _PIPE_SIZE)
    return read_end, write_end


def _check_arguments(
    *, command: str, cwd: Path, timeout: float, log_cap_bytes: int, grace: float
) -> None:
    if "\0" in command:
        raise RunnerError(f"command {command!r} contains a NUL byte; a shell command cannot")
    if not (isinstance(timeout, int | float) and timeout > 0) or math.isnan(timeout):
        raise RunnerError(f"timeout {timeout!r} is not valid; give a positive number of seconds")
    if not (isinstance(grace, int | float) and grace >= 0 and math.isfinite(grace)):
        raise RunnerError(f"kill_grace {grace!r} is not valid; give a number of seconds >= 0")
    if not isinstance(log_cap_bytes, int) or isinstance(log_cap_bytes, bool) or log_cap_bytes < 0:
        raise RunnerError(f"log_cap_bytes {log_cap_bytes!r} is not valid; give a byte count >= 0")
    if not Path(cwd).is_dir():
        raise RunnerError(f"{cwd}: the working directory does not exist or is not a directory")


def _signal_name(number: int) -> str:
    try:
        return signals.Signals(number).name
    except ValueError:
        return f"signal {number}"
