"""Checking and summarising the numbers handed to a gate.

A NaN that slips into a mean poisons every comparison silently (every test against it
is False), so bad values are refused at the door with the index that holds them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from numbers import Real

from ._errors import GateError


def _as_number(value: object, label: str, index: int) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise GateError(
            f"{label}[{index}] is {value!r} ({type(value).__name__}); "
            "the gate takes real numbers only"
        )
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise GateError(
            f"{label}[{index}] is {number!r}; the gate takes finite numbers only "
            "(leave failed runs out of the sample)"
        )
    return number


def as_values(values: Iterable[float], label: str) -> list[float]:
    """The values as a list of finite floats, or a GateError naming the first bad one."""
    if isinstance(values, str | bytes | bytearray | Mapping) or not isinstance(values, Iterable):
        raise GateError(f"{label} must be a sequence of numbers, not {type(values).__name__}")
    out: list[float] = []
    for index, value in enumerate(values):
        if type(value) is float and math.isfinite(value):  # the common case, fast
            out.append(value)
        else:
            out.append(_as_number(value, label, index))
    return out


def common_exponent(*samples: list[float]) -> int:
    """The power of two e such that every value times 2^-e lies in [-1, 1].

    Scaling by a power of two is exact, changes no ratio the gate reports, and keeps
    sums, differences and variances of values near the float limits from overflowing
    (or, for subnormal values, from losing their digits).
    """
    largest = max((abs(v) for sample in samples for v in sample), default=0.0)
    return math.frexp(largest)[1] if largest > 0.0 else 0


def scaled(values: list[float], exponent: int, sign: float = 1.0) -> list[float]:
    """values · sign · 2^-exponent."""
    return [math.ldexp(sign * v, -exponent) for v in values]


def mean(values: list[float]) -> float:
    return math.fsum(values) / len(values)


def variance(values: list[float]) -> float:
    """Sample variance (n - 1 denominator), two-pass for accuracy; 0 for one value."""
    if len(values) < 2:
        return 0.0
    centre = mean(values)
    return math.fsum((v - centre) ** 2 for v in values) / (len(values) - 1)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return 0.5 * ordered[mid - 1] + 0.5 * ordered[mid]


def is_constant(values: list[float]) -> bool:
    return all(v == values[0] for v in values)
