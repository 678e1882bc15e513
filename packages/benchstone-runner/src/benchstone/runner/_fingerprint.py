"""The host fingerprint stored on every row: what makes timings comparable, and what was so.

Why two halves: a timing taken on another CPU model, kernel or Python is a different
experiment, so the gate refuses to compare rows whose ``identity`` differs. The
``conditions`` (governor, turbo, load, ASLR) explain noise but change from minute to minute
on the same machine; they are recorded for a reader and never split a comparison.

It is called once per repetition, so what cannot change inside a process (CPU model,
kernel, Python, hostname) is read once; the conditions are read fresh every time.
Everything is read defensively: in a container most of /sys may be missing, which yields
``"unknown"``, never an exception.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

UNKNOWN = "unknown"
_CPU0 = Path("/sys/devices/system/cpu/cpu0/cpufreq")


@dataclass(frozen=True)
class Fingerprint:
    """``identity`` splits comparisons; ``conditions`` are only recorded."""

    identity: dict[str, str]
    conditions: dict[str, str]

    @property
    def identity_digest(self) -> str:
        """16 hex digits of the identity: equal exactly when the identities are equal."""
        return identity_digest(self.identity)

    def to_dict(self) -> dict[str, Any]:
        return {
            "identity": dict(self.identity),
            "identity_digest": self.identity_digest,
            "conditions": dict(self.conditions),
        }


def host_fingerprint() -> Fingerprint:
    """This host's fingerprint now: the cached identity and freshly read conditions."""
    return Fingerprint(identity=dict(_identity()), conditions=conditions())


def identity_digest(identity: dict[str, str]) -> str:
    """A stable short digest of an identity mapping (key order does not matter)."""
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def identity_difference(a: dict[str, Any], b: dict[str, Any]) -> str | None:
    """One line naming what differs between two identities, or None when they match.

    Accepts either bare identities or ``Fingerprint.to_dict()`` output, so a gate can pass
    the stored rows' fingerprints as they are.
    """
    left, right = _identity_of(a), _identity_of(b)
    parts = [
        f"{key}: {left.get(key, '(absent)')} vs {right.get(key, '(absent)')}"
        for key in sorted({*left, *right})
        if left.get(key) != right.get(key)
    ]
    return "; ".join(parts) if parts else None


def _identity_of(value: dict[str, Any]) -> dict[str, Any]:
    inner = value.get("identity")
    return inner if isinstance(inner, dict) else value


@functools.cache
def _identity() -> tuple[tuple[str, str], ...]:
    uname = platform.uname()
    identity = {
        "cpu_model": cpu_model(),
        "cpu_count": str(os.cpu_count() or UNKNOWN),
        "machine": uname.machine or UNKNOWN,
        "kernel": uname.release or UNKNOWN,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "hostname": socket.gethostname() or UNKNOWN,
    }
    return tuple(identity.items())


def conditions() -> dict[str, str]:
    """The conditions of this moment: governor, turbo, load average, ASLR."""
    return {
        "governor": read_text(_CPU0 / "scaling_governor"),
        "turbo": turbo_state(),
        "load_average": _load_average(),
        "aslr": aslr_setting(),
    }


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else platform.processor(), else unknown."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                key, sep, value = line.partition(":")
                named = key.strip() in ("model name", "Model", "cpu model", "Processor")
                if sep and named and value.strip():
                    return " ".join(value.split())
    except OSError:
        pass
    return platform.processor() or UNKNOWN


def turbo_state() -> str:
    """``on``/``off`` from intel_pstate's no_turbo or cpufreq's boost, else unknown."""
    no_turbo = read_text(Path("/sys/devices/system/cpu/intel_pstate/no_turbo"))
    if no_turbo in ("0", "1"):
        return "off" if no_turbo == "1" else "on"
    boost = read_text(Path("/sys/devices/system/cpu/cpufreq/boost"))
    if boost in ("0", "1"):
        return "on" if boost == "1" else "off"
    return UNKNOWN


def aslr_setting() -> str:
    """``/proc/sys/kernel/randomize_va_space``: 0 off, 1 partial, 2 full (the default)."""
    return read_text(Path("/proc/sys/kernel/randomize_va_space"))


def _load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return UNKNOWN
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def read_text(path: Path) -> str:
    """A small sysfs/procfs file's first line, stripped, or ``unknown`` when unreadable."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            value = handle.readline(4096).strip()
    except OSError:
        return UNKNOWN
    return value or UNKNOWN
