"""What a stochastic policy hands back to the verdict logic: one shape for both."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Evidence:
    """A policy's findings on directed, scaled samples (larger = better).

    ``shift`` and ``shift_ci`` are in the same scaled units as ``centre``, the baseline
    centre the relative effect is measured against; only their ratios leave the gate.
    """

    p_value: float  # one-sided, for "the candidate is better"
    p_lower: float  # one-sided, for "the candidate is worse" (the regression tail)
    statistic: float  # equivalent normal z, + = better
    shift: float
    shift_ci: tuple[float, float] | None
    centre: float
    centre_name: str  # "mean" | "median", for the reason text
    test: str  # the test and its raw statistic, for the reason text
