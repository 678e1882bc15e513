"""``bench doctor``: what makes this host noisy for timings, and what to do about it.

Why: a gate's false-PROMOTE rate is calibrated for independent repetitions, and a host
with a ``powersave`` governor, turbo boost, busy neighbours or no isolated CPUs breaks that
quietly. pyperf's ``system check`` is the anchor for what to look at; the advice here also
names benchstone's own remedies (``measurement = "side_by_side"``, the manifest's
``cpu_affinity``, ``metric_source = "instructions"``) because on a shared CI host they are
the ones that work without root: side by side, drift and neighbours hit both arms alike;
instruction counts do not see them at all. Every file is read defensively: missing in a
container means ``unknown``, never an exception. The short calibration loop is the ground
truth the settings only predict: its relative spread is what a timing on this host will
wobble by.
"""

from __future__ import annotations

import os
import shutil
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from benchstone.runner._fingerprint import UNKNOWN, read_text

Verdict = Literal["ok", "warn"]

#: Relative spread (stdev / mean) of the calibration loop above which timings are noisy.
SPREAD_WARN = 0.03
#: One-minute load per usable CPU above which neighbours compete with a benchmark.
LOAD_WARN = 0.5
_CALIBRATION_ROUNDS = 20
_CALIBRATION_SECONDS = 0.005
_SIDE_BY_SIDE = 'measurement = "side_by_side" (the default for host timings)'
_INSTRUCTIONS = 'metric_source = "instructions" (immune to neighbours)'
_PIN = "cpu_affinity = [N] in the manifest"
_REMEDIES = f"{_SIDE_BY_SIDE} or {_INSTRUCTIONS}"


@dataclass(frozen=True)
class Check:
    """One line of the report: what was looked at, what it is, and what to do."""

    name: str
    value: str
    verdict: Verdict
    advice: str = ""

    def to_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "value": self.value,
            "verdict": self.verdict,
            "advice": self.advice,
        }


@dataclass(frozen=True)
class DoctorReport:
    checks: tuple[Check, ...]

    @property
    def warnings(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.verdict == "warn")

    def to_dict(self) -> dict[str, object]:
        return {"checks": [c.to_dict() for c in self.checks], "warnings": len(self.warnings)}

    def render(self) -> str:
        """The text ``bench doctor`` prints: one line per check, advice indented below."""
        width = max(len(c.name) for c in self.checks)
        lines = []
        for check in self.checks:
            lines.append(f"{check.verdict:<4}  {check.name:<{width}}  {check.value}")
            if check.advice:
                lines.append(f"{'':<4}  {'':<{width}}  -> {check.advice}")
        count = len(self.warnings)
        lines.append(f"{count} warning{'s' if count != 1 else ''}" if count else "no warnings")
        return "\n".join(lines)


def doctor(*, root: Path = Path("/"), calibrate: bool = True) -> DoctorReport:
    """Look at this host (``root`` lets a test point it at a fake /sys and /proc tree)."""
    usable = len(os.sched_getaffinity(0))
    checks = [
        cpu_count_check(usable),
        governor_check(root),
        turbo_check(root),
        aslr_check(root),
        load_check(_load_one(), usable),
        isolated_check(root),
        tool_check("bwrap", "bubblewrap", 'sandbox = "bwrap" (and "auto" before Landlock)'),
        tool_check("valgrind", "valgrind", 'metric_source = "instructions"'),
    ]
    if calibrate:
        checks.append(spread_check("calibration wall spread", _calibration(time.perf_counter)))
        checks.append(spread_check("calibration cpu spread", _calibration(time.process_time)))
    return DoctorReport(tuple(checks))


def cpu_count_check(usable: int) -> Check:
    total = os.cpu_count() or usable
    value = f"{usable} usable of {total} logical"
    if usable < 2:
        return Check(
            "cpu count",
            value,
            "warn",
            f"one CPU: the harness, the benchmark and every neighbour share it; use {_REMEDIES}",
        )
    return Check("cpu count", value, "ok")


def governor_check(root: Path) -> Check:
    cpus = sorted((root / "sys/devices/system/cpu").glob("cpu[0-9]*/cpufreq/scaling_governor"))
    governors = sorted({read_text(path) for path in cpus} - {UNKNOWN})
    if not governors:
        return Check(
            "cpu governor",
            UNKNOWN,
            "warn",
            f"not readable here (container or VM: the host sets the frequency); use {_REMEDIES}",
        )
    value = ", ".join(governors)
    if governors != ["performance"]:
        return Check(
            "cpu governor",
            value,
            "warn",
            "the frequency follows load; as root: cpupower frequency-set -g performance "
            "(what pyperf system tune does)",
        )
    return Check("cpu governor", value, "ok")


def turbo_check(root: Path) -> Check:
    no_turbo = read_text(root / "sys/devices/system/cpu/intel_pstate/no_turbo")
    boost = read_text(root / "sys/devices/system/cpu/cpufreq/boost")
    if no_turbo in ("0", "1"):
        state, knob = ("off" if no_turbo == "1" else "on"), "intel_pstate/no_turbo"
        fix = "echo 1 > /sys/devices/system/cpu/intel_pstate/no_turbo"
    elif boost in ("0", "1"):
        state, knob = ("on" if boost == "1" else "off"), "cpufreq/boost"
        fix = "echo 0 > /sys/devices/system/cpu/cpufreq/boost"
    else:
        return Check(
            "turbo boost",
            UNKNOWN,
            "warn",
            f"not readable here; the clock may change with temperature; use {_REMEDIES}",
        )
    if state == "on":
        return Check(
            "turbo boost",
            f"on ({knob})",
            "warn",
            f"the clock depends on temperature and neighbours; as root: {fix}",
        )
    return Check("turbo boost", f"off ({knob})", "ok")


def aslr_check(root: Path) -> Check:
    value = read_text(root / "proc/sys/kernel/randomize_va_space")
    names = {"0": "disabled", "1": "partial", "2": "full"}
    if value == "2":
        return Check("aslr", "full (2)", "ok")
    if value in names:
        return Check(
            "aslr",
            f"{names[value]} ({value})",
            "warn",
            "every repetition gets the same memory layout, so a lucky or unlucky layout is "
            "baked into every number; as root: sysctl kernel.randomize_va_space=2",
        )
    return Check("aslr", UNKNOWN, "warn", "not readable here; repetitions may share one layout")


def load_check(load_one: float | None, usable: int) -> Check:
    if load_one is None:
        return Check("load average", UNKNOWN, "warn", f"not readable; use {_REMEDIES}")
    value = f"{load_one:.2f} over {usable} CPU{'s' if usable != 1 else ''}"
    if load_one / max(usable, 1) > LOAD_WARN:
        return Check(
            "load average",
            value,
            "warn",
            f"neighbours are busy; wait for quiet, pin with {_PIN}, or use {_REMEDIES}",
        )
    return Check("load average", value, "ok")


def isolated_check(root: Path) -> Check:
    cpu_dir = root / "sys/devices/system/cpu"
    isolated = _cpu_list(cpu_dir / "isolated")
    nohz = _cpu_list(cpu_dir / "nohz_full")
    value = f"isolated: {isolated}; nohz_full: {nohz}"
    if isolated in ("none", UNKNOWN):
        return Check(
            "isolated cpus",
            value,
            "warn",
            "no CPU is kept free of other work; boot with isolcpus=N nohz_full=N rcu_nocbs=N "
            f"and pin runs there with {_PIN}",
        )
    return Check("isolated cpus", value, "ok", f"pin runs to CPUs in {isolated} with {_PIN}")


def tool_check(program: str, package: str, needed_for: str) -> Check:
    path = shutil.which(program)
    if path is None:
        return Check(
            program,
            "not installed",
            "warn",
            f"{needed_for} needs it: apt-get install {package} (Debian/Ubuntu package {package})",
        )
    return Check(program, path, "ok")


def spread_check(name: str, samples: Sequence[float]) -> Check:
    """Relative spread (stdev / mean, and max-min / median) of a calibration's timings."""
    if len(samples) < 2 or statistics.fmean(samples) <= 0:
        return Check(name, UNKNOWN, "warn", "the clock did not advance; timings are meaningless")
    cv = statistics.stdev(samples) / statistics.fmean(samples)
    span = (max(samples) - min(samples)) / statistics.median(samples)
    value = f"{cv:.1%} stdev/mean, {span:.1%} max-min over {len(samples)} rounds"
    if cv > SPREAD_WARN:
        return Check(
            name,
            value,
            "warn",
            "timings here wobble more than the changes worth gating; use "
            f"{_SIDE_BY_SIDE}, {_INSTRUCTIONS}, more repetitions, or {_PIN}",
        )
    return Check(name, value, "ok")


def _calibration(clock: Callable[[], float]) -> list[float]:
    """``_CALIBRATION_ROUNDS`` timings of a pure-Python loop sized to ~5 ms on this host."""
    size = 1000
    while True:
        start = time.perf_counter()
        _spin(size)
        if time.perf_counter() - start >= _CALIBRATION_SECONDS or size > 10**8:
            break
        size *= 2
    samples = []
    for _ in range(_CALIBRATION_ROUNDS):
        start = clock()
        _spin(size)
        samples.append(clock() - start)
    return samples


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def _load_one() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def _cpu_list(path: Path) -> str:
    """A sysfs CPU list; the file exists but is empty when no CPU is in the set."""
    text = read_text(path)
    if text == UNKNOWN:
        return "none" if path.is_file() else UNKNOWN
    return text
