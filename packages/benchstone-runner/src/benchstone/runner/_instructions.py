"""Instruction counts: run a command under cachegrind and sum what the whole tree executed.

Why: a timing on a shared host moves with its neighbours; the number of instructions a
deterministic program retires does not (measured here: ~0.03 % run to run, a 3 % change
detected every time). ``metric_source = "instructions"`` gates on that count. Cachegrind
with ``--cache-sim=no`` counts only ``Ir`` (instructions read), which is the cheapest mode,
and ``--trace-children=yes`` follows ``fork`` and ``exec`` so a tree of processes is
counted in full.

Where the counts travel matters as much as how they are made. Cachegrind's output files
(``cachegrind.out.<pid>``) are written by the traced process itself, so they sit wherever
the code under test can write, and that code could overwrite them with a small count once
the rest of its tree has exited. So no count is read from a file: the output files go to
``/dev/null`` and each process's summary (``==PID== I refs: N``) is read from valgrind's
log, which goes to one end of a socket pair the harness holds. The other end is placed at a
descriptor inside the range valgrind reserves for itself (the top of ``RLIMIT_NOFILE``),
where valgrind refuses every system call of the client on it; a socket cannot be reopened
through ``/proc/self/fd`` (ENXIO), and valgrind does not run ``pidfd_getfd``. What the
code under test prints lands in its own stdout and stderr, never in this log.

Every program valgrind starts announces itself (``==PID== Command: ...``) before any of its
code runs, and reports its count when it exits. A program that is killed first, or that
replaces itself by ``exec`` after doing the work (valgrind drops the replaced image's
count), would make the total too low, so an announced program without its count makes the
repetition an error. What stays out of reach: a forked child (no new program, so no
announcement) killed before it exits, and a program that corrupts valgrind's counters in
its own address space; docs/security.md says so.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import shlex
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from benchstone.runner._errors import RunnerError

_VALGRIND = "valgrind"
#: The file-descriptor limit the traced tree runs with: valgrind keeps the top few for
#: itself, and the log's descriptor is the very last one.
FD_LIMIT = 4096
_CHUNK = 1 << 16
#: Only a line's start matters (pid, "Command:" or the count); a long argv is cut here.
_LINE_CAP = 4096
_LINE = re.compile(rb"==(\d+)== (.*)")
_REFS = re.compile(rb"I\s+refs:\s+([0-9][0-9,]*)\s*")
_JOIN_PATIENCE = 5.0


def require_valgrind() -> str:
    """The path of ``valgrind``, or a RunnerError saying which package provides it."""
    path = shutil.which(_VALGRIND)
    if path is None:
        raise RunnerError(
            'metric_source = "instructions" needs valgrind on PATH; install it '
            "(Debian/Ubuntu package valgrind: apt-get install valgrind)"
        )
    return path


@dataclass
class _Tally:
    """What valgrind's log said about one pid: programs announced, counts reported."""

    programs: int = 0
    counts: list[int] = field(default_factory=list)


class InstructionLog:
    """Valgrind's log for one repetition, read by the harness over a socket it holds.

    Use as a context manager: ``instrument`` the command, hand ``pass_fds`` to
    ``execute``, then ``total()`` once the run has ended.
    """

    def __init__(self) -> None:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        self.limit = FD_LIMIT if hard == resource.RLIM_INFINITY else min(FD_LIMIT, hard)
        self.fd = self.limit - 1
        if soft != resource.RLIM_INFINITY and soft < self.limit:
            # The harness must be able to hold the descriptor it places there.
            resource.setrlimit(resource.RLIMIT_NOFILE, (self.limit, hard))
        with contextlib.suppress(OSError):
            os.fstat(self.fd)
            raise RunnerError(
                f"file descriptor {self.fd} is already open in the harness; it is where "
                "valgrind's log goes (the top of RLIMIT_NOFILE): close it before running"
            )
        self._reader, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            os.dup2(child.fileno(), self.fd, inheritable=True)
        finally:
            child.close()
        self._open = True
        self._tallies: dict[int, _Tally] = {}
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._read, name="valgrind-log", daemon=True)
        self._thread.start()

    @property
    def pass_fds(self) -> tuple[int, ...]:
        return (self.fd,)

    def instrument(self, command: str, *, valgrind: str = _VALGRIND, shell: str = "/bin/sh") -> str:
        """The shell command that runs ``command`` under cachegrind, logging to this socket.

        Valgrind runs ``shell -c <command>`` so pipes, redirections and ``&&`` keep their
        meaning; ``exit $?`` after it keeps a shell that would ``exec`` a lone command
        (bash does) from replacing its own counted image. Valgrind's chatter goes to the
        log, the command's stderr stays the project's.
        """
        argv = [
            valgrind,
            "--tool=cachegrind",
            "--cache-sim=no",
            "--trace-children=yes",
            "--cachegrind-out-file=/dev/null",
            f"--log-fd={self.fd}",
            "--",
            shell,
            "-c",
            f"{command}\nexit $?",
        ]
        return f"ulimit -n {self.limit} && exec {shlex.join(argv)}"

    def total(self) -> int:
        """The summed ``Ir`` of every program of the tree; RunnerError when one is missing.

        Call after the run has ended: the harness lets go of its copy of the log's write
        end, and the log ends when the last process holding it has exited.
        """
        self._close_write_end()
        self._thread.join(_JOIN_PATIENCE)
        if self._thread.is_alive():
            # Only possible unsealed (sandbox = "none"): a survivor still holds the log.
            self._reader.shutdown(socket.SHUT_RDWR)
            self._thread.join()
            raise RunnerError(
                "a process of the run outlived it and still holds valgrind's log, so its "
                'count is unknown; run sealed (sandbox = "auto") so the tree ends with the run'
            )
        if self._failure is not None:
            raise RunnerError(f"valgrind's log could not be read: {self._failure}")
        if not any(tally.programs for tally in self._tallies.values()):
            raise RunnerError(
                "valgrind reported no program: the command did not run under valgrind "
                "(see the stderr log)"
            )
        for pid, tally in sorted(self._tallies.items()):
            if len(tally.counts) < tally.programs:
                raise RunnerError(
                    f"process {pid} started {tally.programs} program(s) under valgrind and "
                    f"reported {len(tally.counts)} count(s): a program replaced by exec, or "
                    "killed before it exited, goes uncounted, so the total would be too low "
                    "(run the next program as a child instead of exec)"
                )
        return sum(sum(tally.counts) for tally in self._tallies.values())

    def close(self) -> None:
        self._close_write_end()
        if self._thread.is_alive():
            with contextlib.suppress(OSError):
                self._reader.shutdown(socket.SHUT_RDWR)
            self._thread.join()
        self._reader.close()

    def __enter__(self) -> InstructionLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _close_write_end(self) -> None:
        if self._open:
            self._open = False
            os.close(self.fd)

    def _read(self) -> None:
        """Drain the socket as it fills (a full buffer would stall every traced process)."""
        try:
            for line in _lines(self._reader):
                self._note(line)
        except BaseException as exc:  # reported by total(), never lost in the thread
            self._failure = exc

    def _note(self, line: bytes) -> None:
        match = _LINE.fullmatch(line)
        if match is None:
            return
        rest = match.group(2)
        if rest.startswith(b"Command: "):
            self._tally(match.group(1)).programs += 1
            return
        refs = _REFS.fullmatch(rest)
        if refs is not None:
            self._tally(match.group(1)).counts.append(int(refs.group(1).replace(b",", b"")))

    def _tally(self, pid: bytes) -> _Tally:
        return self._tallies.setdefault(int(pid), _Tally())


def _lines(sock: socket.socket) -> Iterator[bytes]:
    """The socket's lines until EOF, each cut at ``_LINE_CAP`` bytes (memory stays bounded)."""
    pending = b""
    dropping = False
    while chunk := sock.recv(_CHUNK):
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            if not dropping:
                yield line[:_LINE_CAP]
            dropping = False
        if len(pending) > _LINE_CAP:
            if not dropping:
                yield pending[:_LINE_CAP]
            dropping = True
            pending = b""
    if pending and not dropping:
        yield pending[:_LINE_CAP]
