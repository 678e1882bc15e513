"""The process tree of one command: finding it, measuring it, and ending it.

A benchmark command may fork helpers, and a helper may ``setsid`` or double-fork to
leave the command's process group. The harness must still (a) charge their CPU and
memory to the run and (b) make sure none of them outlives the run. Three mechanisms
cover each other:

- the command's own process group (``killpg`` reaches every member, found or not);
- periodic sampling of the harness's descendants, so a helper seen once stays tracked
  even after it leaves the group or is re-parented away;
- on Linux, the harness is a *child subreaper* while the command runs, so an orphaned
  helper is re-parented to the harness instead of init: it stays a descendant, is found
  by the next scan, and is reaped by the harness with its exact resource usage.

Descendants of the harness that existed before the command started are never touched.
Children that other threads of the harness start while a command runs would be taken for
the command's: ``execute`` is meant to run one command at a time per process, as the
repetition loop does.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time
from collections.abc import Iterator

import psutil

SAMPLE_INTERVAL = 0.05
_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37
_KILL_ROUND = 0.5
_CONFIRM_GONE = 0.005
_KILL_GIVE_UP = 10.0


@contextlib.contextmanager
def subreaper() -> Iterator[bool]:
    """Make this process a child subreaper for the duration; yield whether it is one.

    The previous setting is restored afterwards, so a caller that was already a
    subreaper (an init, a supervisor) keeps being one.
    """
    libc = _libc()
    if libc is None:
        yield False
        return
    if is_subreaper():
        yield True
        return
    enabled = libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    try:
        yield enabled
    finally:
        if enabled:
            libc.prctl(_PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def is_subreaper() -> bool:
    """Whether this process is a child subreaper now (orphans of its tree come to it)."""
    libc = _libc()
    current = ctypes.c_int(0)
    if libc is None or libc.prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(current), 0, 0, 0):
        return False
    return bool(current.value)


def _libc() -> ctypes.CDLL | None:
    """The C library, for ``prctl``; None off Linux or where it cannot be loaded."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl  # noqa: B018 - an AttributeError here means no prctl
    except (OSError, AttributeError):
        return None
    return libc


def descendant_pids(pid: int) -> set[int]:
    """Every live descendant of ``pid``.

    On Linux this walks ``/proc/PID/task/TID/children`` from ``pid`` down, which costs in
    proportion to the tree rather than to the number of processes on the host (a
    ``psutil`` scan reads every process's stat file, which on a busy host would perturb
    the very benchmark being measured).
    """
    if not os.path.exists(f"/proc/{pid}/task/{pid}/children"):
        try:
            return {child.pid for child in psutil.Process(pid).children(recursive=True)}
        except psutil.Error:
            return set()
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in _children_of(stack.pop()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _children_of(pid: int) -> list[int]:
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    children: list[int] = []
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as handle:
                children.extend(int(field) for field in handle.read().split())
        except (OSError, ValueError):
            continue
    return children


def existing_descendants() -> frozenset[psutil.Process]:
    """The harness's descendants before the command starts: never the command's."""
    found = []
    for pid in descendant_pids(os.getpid()):
        with contextlib.suppress(psutil.Error):
            found.append(psutil.Process(pid))
    return frozenset(found)


class ProcessTree:
    """The processes one command started, with what they used.

    Not thread-safe: the caller serialises ``sample``/``signal`` (the watcher thread,
    while the command runs) with ``settle`` (the main thread, after the shell is reaped).
    """

    def __init__(self, root: int, preexisting: frozenset[psutil.Process]) -> None:
        self.root = root
        self._me = os.getpid()
        self._preexisting = preexisting
        self._tracked: dict[int, psutil.Process] = {}
        self._root_reaped = False
        self.peak_rss = 0
        self.extra_cpu = 0.0
        self._cpu: dict[int, float] = {}

    def sample(self) -> None:
        """Add the tree's current summed RSS to the peak (and refresh the tracked set)."""
        total = 0
        for proc in self._members():
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                continue
        self.peak_rss = max(self.peak_rss, total)

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the command's group and to every tracked escapee."""
        members = self._members()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.root, signum)
        for proc in members:
            if proc.pid == self.root:
                continue
            with contextlib.suppress(psutil.Error):
                proc.send_signal(signum)

    def root_reaped(self) -> None:
        """The shell was reaped by the caller: its pid may now be reused, forget it."""
        self._root_reaped = True
        self._tracked.pop(self.root, None)

    def settle(self, *, term_sent_at: float | None, grace: float) -> None:
        """End whatever the command left behind, and charge what it used to the run.

        Called after the shell is reaped. Survivors get SIGTERM (unless a timeout already
        sent it at ``term_sent_at``), ``grace`` seconds to go, then SIGKILL. The CPU of a
        survivor is its rusage when the harness reaps it (it was re-parented here), else
        its last sampled CPU time.
        """
        cpu = self._cpu
        if not self._poll(cpu):
            self._charge(cpu)
            return
        if term_sent_at is None:
            self.signal(signal.SIGTERM)
            term_sent_at = time.monotonic()
        if self._wait_gone(cpu, until=term_sent_at + grace):
            self._charge(cpu)
            return
        give_up = time.monotonic() + _KILL_GIVE_UP
        while time.monotonic() < give_up:
            self.signal(signal.SIGKILL)
            if self._wait_gone(cpu, until=min(give_up, time.monotonic() + _KILL_ROUND)):
                break
        self._charge(cpu)

    def drain(self, *, until: float) -> bool:
        """Wait (reaping) until nothing of the tree is left; False if ``until`` came first.

        What the reaped processes used is kept for ``settle``, which charges it. "Nothing
        left" must hold twice, a moment apart: a fork-and-exit chain can slip between one
        scan's reads, never between two scans.
        """
        while self._wait_gone(self._cpu, until=until):
            time.sleep(_CONFIRM_GONE)
            if not self._poll(self._cpu):
                return True
        return False

    def _charge(self, cpu: dict[int, float]) -> None:
        self.extra_cpu += sum(cpu.values())
        cpu.clear()

    def _wait_gone(self, cpu: dict[int, float], *, until: float) -> bool:
        """Poll (with a short, growing pause) until nothing is left or ``until`` passes."""
        pause = 0.001
        while self._poll(cpu):
            now = time.monotonic()
            if now >= until:
                return False
            time.sleep(min(pause, until - now))
            pause = min(pause * 2, 0.05)
        return True

    def _poll(self, cpu: dict[int, float]) -> bool:
        """Reap what can be reaped, note survivors' CPU; True while anything is left."""
        members = self._members()
        live = {proc.pid for proc in members}
        alive = False
        for proc in members:
            if proc.pid == self.root:
                continue
            if self._reap(proc.pid, cpu):
                continue
            try:
                with proc.oneshot():
                    if proc.status() == psutil.STATUS_ZOMBIE:
                        parent = proc.ppid()
                        # It died after the wait above: the harness's own, reap it now.
                        if parent == self._me and self._reap(proc.pid, cpu):
                            continue
                        # Dead. Someone else's to reap: wait only if that is a member of
                        # the tree still being ended (not an init that never reaps).
                        alive = alive or parent in live
                        continue
                    times = proc.cpu_times()
            except psutil.Error:
                self._tracked.pop(proc.pid, None)
                continue
            cpu[proc.pid] = times.user + times.system + times.children_user + times.children_system
            alive = True
        return alive or self._group_alive(cpu)

    def _reap(self, target: int, cpu: dict[int, float]) -> bool:
        """Reap one ended child of the harness (``target`` as for ``wait4``: a pid, or
        ``-pgid`` for any of a group); note what it used. False when none has ended."""
        try:
            pid, _status, usage = os.wait4(target, os.WNOHANG)
        except ChildProcessError:
            return False
        if not pid:
            return False
        cpu[pid] = usage.ru_utime + usage.ru_stime
        self.peak_rss = max(self.peak_rss, maxrss_bytes(usage.ru_maxrss))
        self._tracked.pop(pid, None)
        return True

    def _group_alive(self, cpu: dict[int, float]) -> bool:
        """Whether the command's process group still has a running (non-zombie) member.

        Why not a scan alone: a fork chain (each process forks and exits) can slip
        between the reads of any scan. ``killpg(pgid, 0)`` asks the kernel in one step,
        but zombies count there too, so the group's dead members that are the harness's
        own (every orphan is, while it is a subreaper) are reaped first. What then
        still answers is a live member, or a zombie whose parent is a live member.
        """
        if self._root_reaped:
            self._reap_group(cpu)
        try:
            os.killpg(self.root, 0)
        except (ProcessLookupError, PermissionError):
            return False
        if self._root_reaped and is_subreaper():
            return True
        # Zombies may be left waiting on a parent that does not reap (a container's
        # init): look. This scan of every pid is paid only when the group is not empty.
        for pid in psutil.pids():
            try:
                if os.getpgid(pid) != self.root:
                    continue
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    return True
            except (OSError, psutil.Error):
                continue
        return False

    def _reap_group(self, cpu: dict[int, float]) -> None:
        """Reap every ended child of the harness in the command's group, noting its use.

        Only once the shell is reaped: before that, the shell is its caller's to wait for.
        """
        while self._reap(-self.root, cpu):
            pass

    def _members(self) -> list[psutil.Process]:
        """The tree now: the harness's new descendants plus escapees seen before."""
        current = descendant_pids(self._me)
        members: list[psutil.Process] = []
        for pid in current:
            proc = self._tracked.get(pid)
            if proc is None:
                if self._root_reaped and pid == self.root:
                    continue
                try:
                    proc = psutil.Process(pid)
                except psutil.Error:
                    continue
                if proc in self._preexisting:
                    continue
                self._tracked[pid] = proc
            members.append(proc)
        for pid, proc in list(self._tracked.items()):
            if pid in current:
                continue
            if proc.is_running():
                members.append(proc)
            else:
                del self._tracked[pid]
        return members


def maxrss_bytes(ru_maxrss: int) -> int:
    """``ru_maxrss`` is in KiB on Linux and the BSDs, in bytes on macOS."""
    return ru_maxrss if sys.platform == "darwin" else ru_maxrss * 1024
