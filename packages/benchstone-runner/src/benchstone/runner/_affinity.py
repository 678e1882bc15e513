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
from typing import TYPE_CHECKING

from benchstone.runner._errors import RunnerError

if TYPE_CHECKING:  # execute imports this module; it needs no manifest parser
    from benchstone.runner._manifest import BenchmarkSpec, Manifest


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


def manifest_affinity(manifest: Manifest, spec: BenchmarkSpec) -> frozenset[int] | None:
    """The CPUs ``spec``'s repetitions are pinned to on this host, or None (not pinned).

    The benchmark's ``cpu_affinity`` wins over the ``[project]`` one. The manifest loader
    checked only the shape, since the same manifest is read on hosts with other CPUs;
    here, where the repetitions will run, a CPU this process may not use is an error
    naming the manifest and the key that asked for it.
    """
    if spec.cpu_affinity is not None:
        where, cpus = f"benchmark {spec.name!r}: key 'cpu_affinity'", spec.cpu_affinity
    elif manifest.project.cpu_affinity is not None:
        where, cpus = "[project] key 'cpu_affinity'", manifest.project.cpu_affinity
    else:
        return None
    return validate_affinity(cpus, key=f"{manifest.path}: {where} = {list(cpus)}")


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
