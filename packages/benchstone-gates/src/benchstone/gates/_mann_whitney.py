"""The Mann-Whitney U test: exact null distributions, the tie-corrected normal
approximation, and the Hodges-Lehmann shift with its distribution-free interval.

Every function here takes *directed* samples: values already signed so that larger is
better. U then counts the (baseline, candidate) pairs the candidate wins, a tie
counting one half; it is carried doubled (``u2 = 2U``) so it is always an integer.

Counts are exact Python integers, so the p-values are exact ratios of integers rounded
once to a float: no floating-point accumulation, however far in the tail.
"""

from __future__ import annotations

import math
import operator
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

from ._normal import norm_cdf, norm_isf, norm_sf

# Work budgets (elementary integer operations) above which the exact distributions give
# way to the normal approximation. At such sizes the approximation's error in the alpha
# region is far below the Monte Carlo noise of any benchmark, while the exact
# computation would take longer than a gate call should (~0.1 s at each budget).
_EXACT_BUDGET = 8_000_000
_TIED_EXACT_BUDGET = 4_000_000


@dataclass(frozen=True)
class RankTest:
    """One-sided Mann-Whitney result for "the candidate tends to be larger"."""

    u: float  # the candidate's U: pairs won, ties counting one half
    p_upper: float  # P(U >= u) under the null: the p-value for improvement
    p_lower: float  # P(U <= u) under the null: the p-value for regression
    method: str  # "exact", "exact permutation (ties)", "normal", "normal, tie-corrected"


def null_counts(m: int, n: int, upto: int | None = None) -> list[int]:
    """How many of the C(m+n, m) equally likely arrangements give U = 0, 1, ..., upto
    (default m·n).

    The generating function of these counts is the Gaussian binomial coefficient
    [m+n choose m]_q = prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i), built one factor at a
    time: multiplying by (1 - q^s) is one pass of subtractions, dividing by (1 - q^i)
    a running sum along each residue class mod i. Both only look at lower degrees, so
    stopping at ``upto`` is exact. Cost ~2·min(m,n)·upto integer operations.
    """
    small, large = (m, n) if m <= n else (n, m)
    cap = small * large if upto is None else max(0, min(upto, small * large))
    counts = [0] * (cap + 1)
    counts[0] = 1
    degree = 0
    for i in range(1, small + 1):
        s = large + i
        top = min(degree + s, cap)
        if s <= top:
            counts[s : top + 1] = map(operator.sub, counts[s : top + 1], counts[: top + 1 - s])
        for r in range(min(i, top + 1)):
            counts[r : top + 1 : i] = accumulate(counts[r : top + 1 : i])
        degree += large
    return counts


@dataclass(frozen=True)
class UntiedNull:
    """The exact null distribution of U without ties, as cumulative counts of its lower
    half; the upper half follows from the symmetry P(U = u) = P(U = m·n - u)."""

    pairs: int  # m·n
    total: int  # C(m+n, m): the number of equally likely arrangements
    lower: list[int]  # lower[u] = arrangements with U <= u, for u <= m·n // 2

    @classmethod
    def build(cls, m: int, n: int) -> UntiedNull | None:
        """None where the exact computation is over budget."""
        pairs = m * n
        if 2 * min(m, n) * (pairs // 2 + 1) > _EXACT_BUDGET:
            return None
        counts = null_counts(m, n, upto=pairs // 2)
        return cls(pairs=pairs, total=math.comb(m + n, m), lower=list(accumulate(counts)))

    def at_most(self, u: int) -> int:
        """Arrangements with U <= u."""
        if u < 0:
            return 0
        if u >= self.pairs:
            return self.total
        if u < len(self.lower):
            return self.lower[u]
        return self.total - self.lower[self.pairs - u - 1]

    def tails(self, u: int) -> tuple[float, float]:
        """(P(U >= u), P(U <= u)), each an exact ratio rounded once."""
        return (self.total - self.at_most(u - 1)) / self.total, self.at_most(u) / self.total

    def interval_rank(self, alpha: float) -> int:
        """The largest k with P(U <= k - 1) <= alpha (0 when even U = 0 is too likely),
        in exact arithmetic: alpha is a binary fraction num/den."""
        num, den = alpha.as_integer_ratio()
        return bisect_right(self.lower, num * self.total // den)


def _tied_cost(groups: Sequence[int], m: int, n: int) -> int:
    return len(groups) * (min(m, n) + 1) * (2 * m * n + 1)


def doubled_u(baseline: Sequence[float], candidate: Sequence[float]) -> tuple[int, list[int]]:
    """(2U for the candidate, the sizes of the tie groups in ascending value order).

    Midranks make ties count one half; doubling every midrank keeps the sums integral.
    """
    labelled = sorted([(v, 0) for v in baseline] + [(v, 1) for v in candidate])
    groups: list[int] = []
    doubled_rank_sum = 0
    i = 0
    total = len(labelled)
    while i < total:
        j = i
        while j + 1 < total and labelled[j + 1][0] == labelled[i][0]:
            j += 1
        size = j - i + 1
        doubled_midrank = 2 * i + size + 1
        doubled_rank_sum += doubled_midrank * sum(label for _, label in labelled[i : j + 1])
        groups.append(size)
        i = j + 1
    nc = len(candidate)
    return doubled_rank_sum - nc * (nc + 1), groups


def tied_null_counts(groups: Sequence[int], m: int, n: int) -> dict[int, int]:
    """The exact permutation distribution of 2U given the tie groups.

    Under the null every choice of which m of the m+n values are the candidate's is
    equally likely. Walking the groups in ascending order, choosing c candidates out of
    a group of t adds 2·c·(baseline values already passed) + c·(t - c) to 2U (wins over
    all smaller baseline values, half-wins within the group), in C(t, c) ways.
    """
    states: list[dict[int, int]] = [{} for _ in range(m + 1)]
    states[0][0] = 1
    passed = 0
    for t in groups:
        nxt: list[dict[int, int]] = [{} for _ in range(m + 1)]
        for k, dist in enumerate(states):
            if not dist:
                continue
            baseline_passed = passed - k
            lowest = max(0, t - (n - baseline_passed))
            for c in range(lowest, min(t, m - k) + 1):
                ways = math.comb(t, c)
                shift = 2 * c * baseline_passed + c * (t - c)
                target = nxt[k + c]
                for u2, count in dist.items():
                    key = u2 + shift
                    target[key] = target.get(key, 0) + count * ways
        states = nxt
        passed += t
    return states[m]


def _tied_tails(counts: dict[int, int], u2: int) -> tuple[float, float]:
    """(P(2U >= u2), P(2U <= u2)) from counts indexed by 2U."""
    upper = lower = total = 0
    for value, count in counts.items():
        total += count
        if value >= u2:
            upper += count
        if value <= u2:
            lower += count
    return upper / total, lower / total


def _normal_tails(u: float, m: int, n: int, groups: Sequence[int]) -> tuple[float, float]:
    """Tie-corrected normal approximation with continuity correction."""
    big_n = m + n
    tie_term = sum(t * t * t - t for t in groups) / (big_n * (big_n - 1))
    variance = m * n / 12.0 * ((big_n + 1) - tie_term)
    if variance <= 0.0:
        return 1.0, 1.0
    sd = math.sqrt(variance)
    centre = m * n / 2.0
    return norm_sf((u - centre - 0.5) / sd), norm_cdf((u - centre + 0.5) / sd)


def mann_whitney(
    baseline: Sequence[float], candidate: Sequence[float], null: UntiedNull | None = None
) -> RankTest:
    """One-sided test that the candidate's values tend to exceed the baseline's.

    ``null``, if given, is ``UntiedNull.build(len(candidate), len(baseline))``, built
    once by a caller that also needs it for the interval.
    """
    n, m = len(baseline), len(candidate)
    u2, groups = doubled_u(baseline, candidate)
    tied = any(t > 1 for t in groups)
    if not tied and null is None:
        null = UntiedNull.build(m, n)
    if not tied and null is not None:
        upper, lower = null.tails(u2 // 2)
        method = "exact"
    elif tied and _tied_cost(groups, m, n) <= _TIED_EXACT_BUDGET:
        upper, lower = _tied_tails(tied_null_counts(groups, m, n), u2)
        method = "exact permutation (ties)"
    else:
        upper, lower = _normal_tails(u2 / 2.0, m, n, groups)
        method = "normal, tie-corrected" if tied else "normal"
    return RankTest(u=u2 / 2.0, p_upper=upper, p_lower=lower, method=method)


def minimum_p(n_baseline: int, n_candidate: int) -> float:
    """The smallest one-sided p any data can give: every candidate value beats every
    baseline value, one arrangement in C(m+n, m)."""
    return 1.0 / math.comb(n_baseline + n_candidate, n_candidate)


def runs_needed(alpha: float, n_baseline: int) -> tuple[int, int]:
    """(runs a side, candidate runs against the current baseline) that make
    ``minimum_p <= alpha`` possible."""
    per_side = 1
    while minimum_p(per_side, per_side) > alpha:
        per_side += 1
    candidates = 1
    while minimum_p(n_baseline, candidates) > alpha:
        candidates += 1
    return per_side, candidates


def _median_sorted(values: Sequence[float]) -> float:
    size = len(values)
    mid = size // 2
    if size % 2:
        return values[mid]
    return 0.5 * (values[mid - 1] + values[mid])


def _interval_rank(m: int, n: int, alpha: float, null: UntiedNull | None) -> int:
    """The largest k with P(U <= k - 1) <= alpha, exact where affordable."""
    if null is None:
        null = UntiedNull.build(m, n)
    if null is not None:
        return null.interval_rank(alpha)
    sd = math.sqrt(m * n * (m + n + 1) / 12.0)
    return max(0, math.floor(m * n / 2.0 + 0.5 - norm_isf(alpha) * sd))


def hodges_lehmann(
    baseline: Sequence[float],
    candidate: Sequence[float],
    alpha: float,
    null: UntiedNull | None = None,
) -> tuple[float, tuple[float, float] | None]:
    """The Hodges-Lehmann shift (median of all candidate - baseline differences) and its
    distribution-free interval with alpha in each tail (Moses' construction: the k-th
    smallest and k-th largest differences, k from the null distribution of U).

    The interval is None when the sample sizes are too small for any interval at this
    alpha; it then covers the whole line.
    """
    differences = sorted(c - b for c in candidate for b in baseline)
    estimate = _median_sorted(differences)
    k = _interval_rank(len(candidate), len(baseline), alpha, null)
    if k < 1:
        return estimate, None
    return estimate, (differences[k - 1], differences[len(differences) - k])
