"""Instruction counts: run a command under cachegrind and sum what the whole tree executed.

Why: a timing on a shared host moves with its neighbours; the number of instructions a
deterministic program retires does not (measured here: ~0.03 % run to run, a 3 % change
detected every time). ``metric_source = "instructions"`` gates on that count. Cachegrind
with ``--cache-sim=no`` counts only ``Ir`` (instructions read), which is the cheapest mode,
and ``--trace-children=yes`` follows ``fork`` and ``exec`` so a tree of processes is
counted in full: every process writes its own ``cachegrind.out.<pid>``.
"""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

from benchstone.runner._errors import RunnerError

_VALGRIND = "valgrind"
_OUT_PATTERN = "cachegrind.out.%p"
_LOG_PATTERN = "valgrind.%p.log"
_OUT_GLOB = "cachegrind.out.*"


def require_valgrind() -> str:
    """The path of ``valgrind``, or a RunnerError saying which package provides it."""
    path = shutil.which(_VALGRIND)
    if path is None:
        raise RunnerError(
            'metric_source = "instructions" needs valgrind on PATH; install it '
            "(Debian/Ubuntu package valgrind: apt-get install valgrind)"
        )
    return path


def instrument(
    command: str, out_dir: Path, *, valgrind: str = _VALGRIND, shell: str = "/bin/sh"
) -> str:
    """The shell command that runs ``command`` under cachegrind, one output file per process.

    The result is itself a shell command (``execute`` runs it with ``sh -c``): valgrind runs
    ``shell -c <command>`` so pipes, redirections and ``&&`` in the project's command keep
    their meaning, and every process the shell starts (forks and the programs they exec) is
    traced. ``%p`` in the file names is expanded by valgrind to each process's pid, so a tree
    never overwrites its own counts. Valgrind's own chatter goes to per-process log files in
    ``out_dir`` instead of the command's stderr, which stays the project's.
    """
    out_dir = Path(out_dir)
    argv = [
        valgrind,
        "--tool=cachegrind",
        "--cache-sim=no",
        "--trace-children=yes",
        f"--cachegrind-out-file={out_dir / _OUT_PATTERN}",
        f"--log-file={out_dir / _LOG_PATTERN}",
        "--",
        shell,
        "-c",
        command,
    ]
    return shlex.join(argv)


def total_instructions(out_dir: Path) -> int:
    """The summed ``Ir`` of every ``cachegrind.out.*`` in ``out_dir`` (the whole process tree).

    Files are read line by line (a cachegrind file of a large program is megabytes of
    per-line counts; only ``events:`` and ``summary:`` matter). A directory without any
    output file, or a file without a well-formed summary, is an error: a count that silently
    misses a process would gate on a wrong number.
    """
    out_dir = Path(out_dir)
    files = sorted(out_dir.glob(_OUT_GLOB))
    if not files:
        raise RunnerError(
            f"{out_dir}: no cachegrind.out.* file; the command did not run under valgrind "
            f"(see {out_dir}/valgrind.*.log)"
        )
    return sum(_file_instructions(path) for path in files)


def _file_instructions(path: Path) -> int:
    """The ``Ir`` of one cachegrind output file, from its ``events:`` and ``summary:`` lines."""
    events: list[str] | None = None
    try:
        with path.open("r", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("events:"):
                    events = line[len("events:") :].split()
                elif line.startswith("summary:"):
                    return _ir_of(path, events, line[len("summary:") :].split())
    except OSError as exc:
        raise RunnerError(f"{path}: cannot read cachegrind output ({exc.strerror})") from exc
    raise RunnerError(
        f"{path}: no 'summary:' line; the process was killed before valgrind wrote its counts"
    )


def _ir_of(path: Path, events: list[str] | None, values: list[str]) -> int:
    if events is None or "Ir" not in events:
        raise RunnerError(
            f"{path}: no 'events:' line naming Ir before the summary; not cachegrind output"
        )
    index = events.index("Ir")
    try:
        count = int(values[index])
    except (IndexError, ValueError):
        raise RunnerError(
            f"{path}: summary {' '.join(values)!r} has no integer Ir count at position {index + 1}"
        ) from None
    if count < 0:
        raise RunnerError(f"{path}: negative Ir count {count}")
    return count
