"""CPU pinning for a benchmark's process tree (manifest key ``cpu_affinity``).

Why: on a shared host the scheduler moves a process between cores, and each move costs
cache warmth; pinning the tree to fixed CPUs (ideally isolated ones, see ``bench doctor``)
removes that source of spread. The set is validated against the CPUs this process may use
(``os.sched_getaffinity``, which honours cgroups and taskset, unlike the core count) and
applied in the child between fork and exec, so it is inherited by everything the command
starts and the harness itself stays unpinned.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from benchstone.runner._errors import RunnerError


def available_cpus() -> frozenset[int]:
    """The CPUs this process may run on."""
    return frozenset(os.sched_getaffinity(0))


def validate_affinity(cpus: Iterable[object], *, key: str = "cpu_affinity") -> frozenset[int]:
    """``cpus`` as a set of CPU numbers this host lets us use, or a RunnerError naming why not."""
    values = list(cpus)
    if not values:
        raise RunnerError(f"{key} = []: give at least one CPU number, e.g. [1]")
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, int) or v < 0]
    if bad:
        raise RunnerError(f"{key}: {bad[0]!r} is not a CPU number (a non-negative integer)")
    chosen = frozenset(int(v) for v in values)  # type: ignore[call-overload]
    allowed = available_cpus()
    missing = sorted(chosen - allowed)
    if missing:
        raise RunnerError(
            f"{key}: CPU {', '.join(map(str, missing))} is not available on this host; "
            f"allowed CPUs: {format_cpus(allowed)}"
        )
    return chosen


def pin_to(cpus: frozenset[int]) -> Callable[[], None]:
    """A ``preexec_fn`` that pins the calling (child) process to ``cpus`` before exec.

    Only ``os.sched_setaffinity`` runs in the child: it is async-signal-safe enough for
    the fork-exec window and allocates nothing that could deadlock. The set must already
    be validated.
    """
    frozen = tuple(sorted(cpus))

    def _pin() -> None:
        os.sched_setaffinity(0, frozen)

    return _pin


def format_cpus(cpus: Iterable[int]) -> str:
    """CPU numbers in the kernel's list format, e.g. ``0-3,6``."""
    ordered = sorted(set(cpus))
    ranges: list[str] = []
    start = prev = None
    for cpu in ordered:
        if prev is not None and cpu == prev + 1:
            prev = cpu
            continue
        if start is not None:
            ranges.append(f"{start}-{prev}" if start != prev else f"{start}")
        start = prev = cpu
    if start is not None:
        ranges.append(f"{start}-{prev}" if start != prev else f"{start}")
    return ",".join(ranges)
