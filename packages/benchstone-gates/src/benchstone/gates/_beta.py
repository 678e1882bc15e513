"""The regularized incomplete beta function, the engine of the Student-t distribution.

Computed by the classic continued fraction (modified Lentz), on whichever side of the
symmetry I_x(a, b) = 1 - I_{1-x}(b, a) makes it converge fast. Callers pass ``y = 1 - x``
when they can form it without cancellation (the t distribution can), because in the
far tails that difference is the whole answer.
"""

from __future__ import annotations

import math

_EPS = 1e-16
_TINY = 1e-300
_MAX_TERMS = 100_000

# Bernoulli-derived coefficients of the Stirling series for ln Γ(x) - [(x - ½)ln x - x + ½ ln 2π].
_STIRLING = (
    1.0 / 12.0,
    -1.0 / 360.0,
    1.0 / 1260.0,
    -1.0 / 1680.0,
    1.0 / 1188.0,
    -691.0 / 360360.0,
    1.0 / 156.0,
)
_STIRLING_FROM = 10.0


def _stirling_correction(x: float) -> float:
    """ln Γ(x) minus its Stirling approximation, for x >= 10 (error below 1e-17)."""
    inv = 1.0 / x
    inv2 = inv * inv
    total = 0.0
    power = inv
    for c in _STIRLING:
        total += c * power
        power *= inv2
    return total


def log_beta(a: float, b: float) -> float:
    """ln B(a, b), without the cancellation of lgamma(a) - lgamma(a + b) for large a.

    Welch's degrees of freedom can be large, and a plain difference of lgammas there loses
    digits in proportion to a·ln a; the ratio Γ(a)/Γ(a+b) is instead taken from Stirling's
    series, where the large terms cancel analytically.
    """
    small, large = (a, b) if a <= b else (b, a)
    if large < _STIRLING_FROM:
        return math.lgamma(small) + math.lgamma(large) - math.lgamma(small + large)
    total = large + small
    ratio = (
        -(large - 0.5) * math.log1p(small / large)
        - small * math.log(total)
        + small
        + _stirling_correction(large)
        - _stirling_correction(total)
    )
    return math.lgamma(small) + ratio


def _continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b) (Numerical Recipes' betacf, modified Lentz)."""
    qab = a + b
    qap = a + 1.0
    qam = a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    if abs(d) < _TINY:
        d = _TINY
    d = 1.0 / d
    h = d
    for m in range(1, _MAX_TERMS + 1):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        if abs(d) < _TINY:
            d = _TINY
        c = 1.0 + aa / c
        if abs(c) < _TINY:
            c = _TINY
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        if abs(d) < _TINY:
            d = _TINY
        c = 1.0 + aa / c
        if abs(c) < _TINY:
            c = _TINY
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) <= _EPS:
            break
    return h


def _log(x: float, y: float) -> float:
    """ln x where y = 1 - x: through log1p when x is near 1, since a large exponent
    multiplies this logarithm and would magnify its rounding."""
    return math.log1p(-y) if y < 0.5 else math.log(x)


def _front(a: float, b: float, x: float, y: float) -> float:
    """x^a y^b / (a B(a, b)), in logs so extreme exponents underflow gracefully."""
    return math.exp(a * _log(x, y) + b * _log(y, x) - log_beta(a, b)) / a


def betainc(a: float, b: float, x: float, y: float | None = None) -> float:
    """Regularized incomplete beta I_x(a, b) for a, b > 0 and 0 <= x <= 1.

    ``y`` is 1 - x; pass it when it is known more precisely than ``1.0 - x``.
    """
    if y is None:
        y = 1.0 - x
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    if x < (a + 1.0) / (a + b + 2.0):
        return _front(a, b, x, y) * _continued_fraction(a, b, x)
    return 1.0 - _front(b, a, y, x) * _continued_fraction(b, a, y)
