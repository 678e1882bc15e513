"""The `sigma` policy: Welch's unequal-variance t test, reported as an equivalent z.

Dividing a mean difference by its standard error and reading the result as a normal z
ignores that the standard error is itself estimated from a handful of runs: at 3 runs a
side that promotes pure noise about 2.6 times as often as the threshold promises.
Referring the same ratio to Student's t with Welch-Satterthwaite degrees of freedom
keeps the promised rate at every sample size.
"""

from __future__ import annotations

import math

from ._evidence import Evidence
from ._samples import mean, variance
from ._student_t import t_isf, t_tails
from ._zscale import equivalent_z


def welch_df(var_b: float, n_b: int, var_c: float, n_c: int) -> float:
    """Welch-Satterthwaite degrees of freedom (at least one variance must be > 0)."""
    a = var_b / n_b
    c = var_c / n_c
    if a == 0.0:
        return float(n_c - 1)
    if c == 0.0:
        return float(n_b - 1)
    return (a + c) ** 2 / (a * a / (n_b - 1) + c * c / (n_c - 1))


def sigma_evidence(baseline: list[float], candidate: list[float], alpha: float) -> Evidence:
    """Welch's t on directed samples (at least 2 a side, not both constant)."""
    n_b, n_c = len(baseline), len(candidate)
    mean_b, mean_c = mean(baseline), mean(candidate)
    var_b, var_c = variance(baseline), variance(candidate)
    se = math.sqrt(var_b / n_b + var_c / n_c)
    df = welch_df(var_b, n_b, var_c, n_c)
    shift = mean_c - mean_b
    t = shift / se
    p_upper, p_lower = t_tails(t, df)
    half_width = t_isf(alpha, df) * se
    return Evidence(
        p_value=p_upper,
        p_lower=p_lower,
        statistic=equivalent_z(p_upper, p_lower),
        shift=shift,
        shift_ci=(shift - half_width, shift + half_width),
        centre=mean_b,
        centre_name="mean",
        test=f"Welch t={t:+.3g} on {df:.3g} df",
    )
