"""Relative effects: a shift divided by the magnitude of the baseline centre."""

from __future__ import annotations

import math


def relative(shift: float, centre: float) -> float | None:
    """shift / |centre|, or None when the baseline centre is 0 (or so near it that the
    ratio overflows): a relative change from nothing has no size."""
    if centre == 0.0:
        return None
    value = shift / abs(centre)
    return value if math.isfinite(value) else None


def relative_interval(
    interval: tuple[float, float] | None, centre: float
) -> tuple[float, float] | None:
    if interval is None:
        return None
    low, high = relative(interval[0], centre), relative(interval[1], centre)
    if low is None or high is None:
        return None
    return low, high


def meets_min_effect(effect: float | None, min_effect: float) -> bool:
    """An undefined effect can satisfy only a zero min_effect."""
    if effect is None:
        return min_effect == 0.0
    return effect >= min_effect


def min_effect_clause(effect: float | None, min_effect: float, centre_name: str) -> str:
    """The part of a reason that says how the effect stands against min_effect."""
    if effect is None:
        if min_effect == 0.0:
            return f"the relative effect is undefined (the baseline {centre_name} is 0)"
        return (
            f"the relative effect is undefined (the baseline {centre_name} is 0), "
            f"so min_effect {min_effect:.2%} cannot be met"
        )
    if min_effect == 0.0:
        return ""
    sign = ">=" if effect >= min_effect else "<"
    return f" {sign} min_effect {min_effect:.2%}"
