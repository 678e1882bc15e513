"""The per-side description every verdict carries."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ._errors import GateError
from ._samples import as_values, common_exponent, mean, median, scaled, variance


def _ldexp_or_none(value: float, exponent: int) -> float | None:
    """value · 2^exponent, or None where that exceeds a double (a spread of values
    near ±1.8e308 can)."""
    try:
        return math.ldexp(value, exponent)
    except OverflowError:
        return None


@dataclass(frozen=True)
class Summary:
    """n, centre and spread of one side, so a reader can judge a verdict without the
    raw runs. ``stdev`` is the sample standard deviation, None below two values (or in
    the freak case where it exceeds the largest double)."""

    n: int
    mean: float
    median: float
    stdev: float | None
    min: float
    max: float

    @classmethod
    def of(cls, values: Iterable[float]) -> Summary:
        numbers = as_values(values, "values")
        if not numbers:
            raise GateError("values is empty; a summary needs at least one number")
        return cls.of_checked(numbers)

    @classmethod
    def of_checked(cls, numbers: list[float]) -> Summary:
        """Summary of values already through ``as_values`` (non-empty, finite)."""
        exponent = common_exponent(numbers)
        unit = scaled(numbers, exponent)
        stdev = _ldexp_or_none(math.sqrt(variance(unit)), exponent) if len(unit) > 1 else None
        return cls(
            n=len(numbers),
            mean=math.ldexp(mean(unit), exponent),
            median=math.ldexp(median(unit), exponent),
            stdev=stdev,
            min=min(numbers),
            max=max(numbers),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "mean": self.mean,
            "median": self.median,
            "stdev": self.stdev,
            "min": self.min,
            "max": self.max,
        }
