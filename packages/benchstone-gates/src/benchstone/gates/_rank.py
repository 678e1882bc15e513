"""The `mann_whitney` policy: exact rank test, Hodges-Lehmann effect.

Rank-based, so one wild run (a heavy-tailed metric, a noisy neighbour) moves the
verdict by at most one rank; the effect is the Hodges-Lehmann shift for the same reason.
"""

from __future__ import annotations

from ._evidence import Evidence
from ._mann_whitney import UntiedNull, hodges_lehmann, mann_whitney
from ._samples import median
from ._zscale import equivalent_z


def rank_evidence(baseline: list[float], candidate: list[float], alpha: float) -> Evidence:
    """Mann-Whitney on directed samples (sizes already known to reach ``alpha``)."""
    null = UntiedNull.build(len(candidate), len(baseline))
    test = mann_whitney(baseline, candidate, null)
    shift, interval = hodges_lehmann(baseline, candidate, alpha, null)
    pairs = len(baseline) * len(candidate)
    return Evidence(
        p_value=test.p_upper,
        p_lower=test.p_lower,
        statistic=equivalent_z(test.p_upper, test.p_lower),
        shift=shift,
        shift_ci=interval,
        centre=median(baseline),
        centre_name="median",
        test=f"Mann-Whitney U={test.u:g} of {pairs} ({test.method})",
    )
