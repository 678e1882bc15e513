"""Student's t distribution for real (non-integer) degrees of freedom.

Welch's test gives fractional degrees of freedom, and the gate reads p-values deep in
the tail (the k-th look spends alpha·2^-(k-1)), so both tails are computed directly
from the regularized incomplete beta function rather than as one minus the other.
"""

from __future__ import annotations

import math

from ._beta import betainc, log_beta
from ._normal import norm_isf, norm_sf

_MAX_NEWTON = 200
_STEP_TOL = 1e-8
_BRACKET_TOL = 4e-16
_HILL_FROM_DF = 2e4


def _tail_arguments(t: float, df: float) -> tuple[float, float]:
    """x = df / (df + t²) and y = t² / (df + t²), each formed without cancellation."""
    t2 = t * t
    if t2 <= df:
        denominator = df + t2
        return df / denominator, t2 / denominator
    r = df / t / t  # never overflows, even for |t| near the largest double
    return r / (1.0 + r), 1.0 / (1.0 + r)


def _hill_upper_tail(t: float, df: float) -> float:
    """P(T > |t|) for large df by Hill's normalizing transformation (CACM Algorithm 395).

    The incomplete-beta continued fraction loses digits as df/2 grows (its terms crowd
    around 1 and rounding accumulates: ~1e-11 relative at df = 1e6); Hill's expansion
    error falls as 1/df³ instead, and against 50-digit arithmetic it stays below 1e-12
    relative from df = 2e4 upward, into the far tail.
    """
    a = df - 0.5
    b = 48.0 * a * a
    y = a * math.log1p(t * t / df)
    z = (
        ((((-0.4 * y - 3.3) * y - 24.0) * y - 85.5) / (0.8 * y * y + 100.0 + b) + y + 3.0) / b + 1.0
    ) * math.sqrt(y)
    return norm_sf(z)


def _upper_tail(t: float, df: float) -> float:
    """P(T > |t|) for the magnitude of t: half the two-sided tail."""
    if df >= _HILL_FROM_DF:
        return _hill_upper_tail(t, df)
    x, y = _tail_arguments(t, df)
    if x == 0.0:
        if math.isinf(t):
            return 0.0
        # x underflowed although x^(df/2) may not: the series' leading term, in logs
        # (exact to double precision here, as the rest of the series is O(x)).
        a = 0.5 * df
        log_x = math.log(df) - 2.0 * math.log(abs(t))
        return 0.5 * math.exp(a * log_x - log_beta(a, 0.5)) / a
    return 0.5 * betainc(0.5 * df, 0.5, x, y)


def t_sf(t: float, df: float) -> float:
    """P(T > t)."""
    if math.isnan(t) or df <= 0.0:
        raise ValueError(f"t {t!r} with df {df!r} is outside the domain (df must be > 0)")
    if t == 0.0:
        return 0.5
    if t > 0.0:
        return _upper_tail(t, df)
    return 1.0 - _upper_tail(t, df)


def t_cdf(t: float, df: float) -> float:
    """P(T <= t), by symmetry from the upper tail so the lower tail stays accurate."""
    return t_sf(-t, df)


def t_tails(t: float, df: float) -> tuple[float, float]:
    """(P(T > t), P(T <= t)) from one evaluation: the smaller is computed, the larger
    (at least one half) is its complement, which loses nothing."""
    if math.isnan(t) or df <= 0.0:
        raise ValueError(f"t {t!r} with df {df!r} is outside the domain (df must be > 0)")
    if t == 0.0:
        return 0.5, 0.5
    small = _upper_tail(t, df)
    return (small, 1.0 - small) if t > 0.0 else (1.0 - small, small)


def t_logpdf(t: float, df: float) -> float:
    """ln of the density of T at t (in logs: far-tail densities underflow a double)."""
    return -0.5 * (df + 1.0) * math.log1p(t * t / df) - 0.5 * math.log(df) - log_beta(0.5 * df, 0.5)


def t_pdf(t: float, df: float) -> float:
    """Density of T at t."""
    return math.exp(t_logpdf(t, df))


def _initial_guess(q: float, df: float) -> float:
    """A starting point for Newton's method, within ~20% everywhere: the Cornish-Fisher
    expansion while z²/df is small, else the power-law tail P(T > t) ≈ K·t^-df."""
    z = norm_isf(q)
    z2 = z * z
    if z2 < 3.0 * df:
        return (
            z
            + z * (z2 + 1.0) / (4.0 * df)
            + z * ((5.0 * z2 + 16.0) * z2 + 3.0) / (96.0 * df * df)
            + z * (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) / (384.0 * df**3)
        )
    log_k = 0.5 * (df - 1.0) * math.log(df) - log_beta(0.5 * df, 0.5) - math.log(df)
    log_tail = (log_k - math.log(q)) / df
    return math.exp(min(log_tail, 700.0))


def _upper_quantile(q: float, df: float) -> float:
    """The t >= 0 with P(T > t) = q, for 0 < q <= 0.5.

    Newton's method on ln P(T > t), whose slope -pdf/sf stays well scaled in the tail;
    a bracket [lo, hi] is kept so a step that overshoots falls back to bisection.
    Convergence is quadratic: once a step is below 1e-8 relative, the error left after
    it is of order its square, below what P(T > t) itself resolves.
    """
    if q >= 0.5:
        return 0.0
    if df == 1.0:
        return 1.0 / math.tan(math.pi * q)
    if df == 2.0:
        return (1.0 - 2.0 * q) / math.sqrt(2.0 * q * (1.0 - q))
    log_q = math.log(q)
    lo, hi = 0.0, math.inf
    t = _initial_guess(q, df)
    for _ in range(_MAX_NEWTON):
        sf = _upper_tail(t, df)
        if sf == q:
            return t
        if sf > q:
            lo = t
        else:
            hi = t
        if sf == 0.0:
            t = 0.5 * (lo + hi)
            continue
        log_sf = math.log(sf)
        step = (log_sf - log_q) * math.exp(log_sf - t_logpdf(t, df))
        if abs(step) <= _STEP_TOL * t:
            return t + step
        candidate = t + step
        if not lo < candidate < hi:
            candidate = 0.5 * (lo + hi) if math.isfinite(hi) else 2.0 * t
        if hi - lo <= _BRACKET_TOL * t:
            return candidate
        t = candidate
    return t


def t_isf(q: float, df: float) -> float:
    """The t with P(T > t) = q."""
    if not 0.0 <= q <= 1.0 or df <= 0.0:
        raise ValueError(f"probability {q!r} with df {df!r} is outside the domain")
    if q == 0.0:
        return math.inf
    if q == 1.0:
        return -math.inf
    if q <= 0.5:
        return _upper_quantile(q, df)
    return -_upper_quantile(1.0 - q, df)


def t_ppf(p: float, df: float) -> float:
    """The t with P(T <= t) = p."""
    return -t_isf(p, df)
