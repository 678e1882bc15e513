"""`bench doctor`: what makes this host noisy for timings, and what to do about it."""

from __future__ import annotations

from benchstone.runner import DoctorReport
from benchstone.runner import doctor as _host_checks


def doctor(*, calibrate: bool = True) -> DoctorReport:
    """The host checks of benchstone.runner (governor, turbo, ASLR, load, sandbox,
    valgrind, a short calibration loop's spread), each with a verdict and advice.

    Read-only: it never changes the host.
    """
    return _host_checks(calibrate=calibrate)
