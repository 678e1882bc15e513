"""Checking a gate's keyword arguments, each failure one line naming the value."""

from __future__ import annotations

import math
from numbers import Real

from ._errors import GateError
from ._zscale import MAX_THRESHOLD

DIRECTIONS = ("minimize", "maximize")
POLICIES = ("sigma", "mann_whitney")


def _finite(value: object) -> float | None:
    """The value as a finite float, or None (bools are not numbers here)."""
    if isinstance(value, Real) and not isinstance(value, bool):
        number = float(value)
        if math.isfinite(number):
            return number
    return None


def _count_at_least_one(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def check_options(
    *,
    direction: object,
    policy: object,
    threshold: object,
    min_effect: object,
    look: object,
    min_baseline: object,
    min_candidate: object,
    deterministic: object,
) -> None:
    if not isinstance(direction, str) or direction not in DIRECTIONS:
        raise GateError(f"direction {direction!r} is not one of 'minimize', 'maximize'")
    if not isinstance(policy, str) or policy not in POLICIES:
        raise GateError(f"policy {policy!r} is not one of 'sigma', 'mann_whitney'")
    z = _finite(threshold)
    if z is None or not 0.0 < z <= MAX_THRESHOLD:
        raise GateError(
            f"threshold {threshold!r} must be a number > 0 and <= {MAX_THRESHOLD:g} "
            "(a one-sided normal z, e.g. 2.0)"
        )
    effect = _finite(min_effect)
    if effect is None or effect < 0.0:
        raise GateError(
            f"min_effect {min_effect!r} must be a finite number >= 0 "
            "(a relative improvement, e.g. 0.01 for 1%)"
        )
    if not _count_at_least_one(look):
        raise GateError(
            f"look {look!r} must be an integer >= 1 "
            "(1 for the first evaluation of this candidate against this baseline)"
        )
    for name, value in (("min_baseline", min_baseline), ("min_candidate", min_candidate)):
        if not _count_at_least_one(value):
            raise GateError(f"{name} {value!r} must be an integer >= 1 (runs per side)")
    if not isinstance(deterministic, bool):
        raise GateError(f"deterministic {deterministic!r} must be True or False")
