"""Which gate parameters are legal and what they imply, decided once for every caller.

compare() checks its arguments with ``check_options``; a manifest loader calls
``check_parameters`` so that a value compare() would refuse (``promotion_sigma = 40`` is
above MAX_THRESHOLD, where Φ(-z) stops being a usable double once looks halve it) is an
error when the manifest loads rather than on every later evaluate.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ._errors import GateError
from ._normal import norm_sf
from ._options import check_options


def mann_whitney_log_min_p(n_baseline: int, n_candidate: int) -> float:
    """log of the smallest exact one-sided Mann-Whitney p, 1 / C(m + n, m); in logs
    because it underflows a float near 540 runs a side."""
    total = n_baseline + n_candidate
    if total <= 1000:
        return -math.log(math.comb(total, n_baseline))
    return -(math.lgamma(total + 1) - math.lgamma(n_baseline + 1) - math.lgamma(n_candidate + 1))


def _threshold_log_alpha(threshold: float, look: int) -> float:
    """log Φ(-threshold) minus (look - 1)·log 2: the alpha that look may spend."""
    # norm_sf keeps the tail exact out to MAX_THRESHOLD, where NormalDist().cdf is already 0.
    return math.log(norm_sf(threshold)) - (look - 1) * math.log(2.0)


def mann_whitney_reachable(threshold: float, n_baseline: int, n_candidate: int, look: int) -> bool:
    """Whether the most extreme outcome can reach the alpha of ``look``."""
    return mann_whitney_log_min_p(n_baseline, n_candidate) <= _threshold_log_alpha(threshold, look)


def _fewest(reaches: Callable[[int], bool]) -> int:
    """The smallest n >= 1 with ``reaches(n)``, for a ``reaches`` monotone in n."""
    high = 1
    while not reaches(high):
        high *= 2
    low = high // 2
    while high - low > 1:
        middle = (low + high) // 2
        if reaches(middle):
            high = middle
        else:
            low = middle
    return high


def mann_whitney_runs_needed(threshold: float, look: int) -> int:
    """Fewest equal runs a side whose most extreme outcome reaches the alpha of ``look``."""
    return _fewest(lambda n: mann_whitney_reachable(threshold, n, n, look))


def mann_whitney_seeds_needed(threshold: float, max_candidate: int, look: int) -> int:
    """Fewest baseline runs that ``max_candidate`` candidate runs can beat at ``look``."""
    return _fewest(lambda n: mann_whitney_reachable(threshold, n, max_candidate, look))


def check_parameters(
    *,
    policy: object,
    threshold: object,
    min_effect: object,
    direction: object = "minimize",
    n_baseline: int | None = None,
    n_candidate: int | None = None,
    max_candidate: int | None = None,
) -> list[str]:
    """Raise GateError for an illegal parameter; return warnings for legal but weak ones.

    Candidate runs accumulate (every ``bench run`` adds some), baseline runs do not: a
    Mann-Whitney gate whose ``n_baseline`` seeds cannot reach the threshold at look 2
    (alpha halved) even against ``max_candidate`` runs can never PROMOTE on a re-look, so
    it is an error naming the seeds it needs (checked only when ``max_candidate`` is
    given). Too few runs a dispatch for look 1 or look 2 is a warning naming the runs a
    side that would do.
    """
    check_options(
        direction=direction,
        policy=policy,
        threshold=threshold,
        min_effect=min_effect,
        look=1,
        min_baseline=1,
        min_candidate=1,
        deterministic=False,
    )
    warnings: list[str] = []
    if policy != "mann_whitney" or n_baseline is None or n_candidate is None:
        return warnings
    z = float(threshold)  # type: ignore[arg-type]  # check_options proved it finite
    ceiling = max(max_candidate or 0, n_candidate)
    if max_candidate is not None and not mann_whitney_reachable(z, n_baseline, ceiling, 2):
        seeds = mann_whitney_seeds_needed(z, ceiling, 2)
        raise GateError(
            f"{n_baseline} baseline seed(s) can never reach the mann_whitney threshold {z:g} "
            f"once look 2 halves alpha, even against {ceiling} candidate runs; "
            f"list at least {seeds} baseline seeds"
        )
    if not mann_whitney_reachable(z, n_baseline, n_candidate, 1):
        warnings.append(
            f"mann_whitney threshold {z:g} cannot be reached with {n_baseline} baseline and "
            f"{n_candidate} candidate runs, so evaluate returns NEEDS_MORE_DATA until more "
            f"candidate runs are added; {mann_whitney_runs_needed(z, 1)} runs a side "
            "(baseline_seeds and repetitions) would reach it"
        )
    elif not mann_whitney_reachable(z, n_baseline, n_candidate, 2):
        warnings.append(
            f"mann_whitney threshold {z:g} is reachable at look 1 only: with {n_baseline} "
            f"baseline and {n_candidate} candidate runs a second look (alpha halved) can "
            f"never PROMOTE; {mann_whitney_runs_needed(z, 2)} runs a side would reach it at "
            "look 2"
        )
    return warnings
