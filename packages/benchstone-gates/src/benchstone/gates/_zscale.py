"""The normal-z scale every stochastic policy reports on, and the alpha spent per look.

A threshold z stands for the one-sided rate alpha = Φ(-z). The k-th look at the same
candidate against the same baseline may spend only alpha·2^-(k-1); since
sum_k alpha·2^-(k-1) < 2·alpha, no number of re-runs can lift the chance of a false
PROMOTE above twice the nominal rate (union bound).
"""

from __future__ import annotations

import math

from ._normal import norm_isf, norm_sf

SMALLEST_P = math.ulp(0.0)  # p-values below this underflow; z saturates near 38.5
MAX_THRESHOLD = 37.0  # Φ(-37) ≈ 5.7e-300: still a normal double, with room for looks


def alpha_at_look(threshold: float, look: int) -> float:
    """Φ(-threshold)·2^-(look-1), floored at the smallest positive double."""
    return max(math.ldexp(norm_sf(threshold), -(look - 1)), SMALLEST_P)


def threshold_at_look(threshold: float, look: int, alpha: float) -> float:
    """The z matching ``alpha`` (the manifest's threshold itself at look 1)."""
    return threshold if look == 1 else norm_isf(alpha)


def equivalent_z(p_upper: float, p_lower: float) -> float:
    """The normal z with the same one-sided evidence, + for improvement.

    Improvement side: Φ⁻¹(1 - p_upper). Regression side: the mirror, -Φ⁻¹(1 - p_lower),
    so a discrete statistic's worst outcome is a finite negative z rather than -inf.
    Where neither tail is below one half (a discrete centre) the evidence is nil: 0.
    """
    if p_upper <= 0.5:
        return norm_isf(max(p_upper, SMALLEST_P))
    if p_lower < 0.5:
        return -norm_isf(max(p_lower, SMALLEST_P))
    return 0.0
