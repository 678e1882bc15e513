"""The exact Mann-Whitney distributions against scipy and against brute force."""

from __future__ import annotations

import itertools
import math
import random
import statistics

import pytest
from scipy import stats

from benchstone.gates._mann_whitney import (
    UntiedNull,
    hodges_lehmann,
    mann_whitney,
    minimum_p,
    null_counts,
    runs_needed,
    tied_null_counts,
)


def brute_force(baseline: list[float], candidate: list[float]) -> tuple[float, float, float]:
    """(U, P(U >= u), P(U <= u)) by enumerating every relabelling of the pooled values."""
    pooled = baseline + candidate
    m = len(candidate)

    def u_of(cand: list[float], base: list[float]) -> float:
        return sum((c > b) + 0.5 * (c == b) for c in cand for b in base)

    observed = u_of(candidate, baseline)
    upper = lower = total = 0
    for chosen in itertools.combinations(range(len(pooled)), m):
        picked = set(chosen)
        cand = [pooled[i] for i in chosen]
        base = [pooled[i] for i in range(len(pooled)) if i not in picked]
        u = u_of(cand, base)
        total += 1
        upper += u >= observed
        lower += u <= observed
    return observed, upper / total, lower / total


@pytest.mark.parametrize("seed", range(6))
def test_exact_p_matches_scipy_exact(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(40):
        m, n = rng.randint(1, 14), rng.randint(1, 14)
        shift = rng.choice([0.0, 0.4, 1.5])
        baseline = [rng.gauss(0, 1) for _ in range(n)]
        candidate = [rng.gauss(shift, 1) for _ in range(m)]
        result = mann_whitney(baseline, candidate)
        greater = stats.mannwhitneyu(candidate, baseline, alternative="greater", method="exact")
        less = stats.mannwhitneyu(candidate, baseline, alternative="less", method="exact")
        assert result.method == "exact"
        assert result.u == greater.statistic
        assert math.isclose(result.p_upper, greater.pvalue, rel_tol=1e-12)
        assert math.isclose(result.p_lower, less.pvalue, rel_tol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_exact_p_matches_brute_force_without_ties(seed: int) -> None:
    rng = random.Random(100 + seed)
    for _ in range(15):
        m, n = rng.randint(1, 6), rng.randint(1, 6)
        values = rng.sample(range(1000), m + n)
        baseline, candidate = values[:n], values[n:]
        result = mann_whitney(baseline, candidate)
        u, upper, lower = brute_force(baseline, candidate)
        assert result.u == u
        assert math.isclose(result.p_upper, upper, rel_tol=1e-15)
        assert math.isclose(result.p_lower, lower, rel_tol=1e-15)


@pytest.mark.parametrize("seed", range(4))
def test_tied_permutation_p_matches_brute_force(seed: int) -> None:
    rng = random.Random(200 + seed)
    for _ in range(20):
        m, n = rng.randint(1, 6), rng.randint(1, 6)
        baseline = [float(rng.randint(0, 3)) for _ in range(n)]
        candidate = [float(rng.randint(0, 4)) for _ in range(m)]
        result = mann_whitney(baseline, candidate)
        u, upper, lower = brute_force(baseline, candidate)
        assert result.u == u
        assert math.isclose(result.p_upper, upper, rel_tol=1e-15)
        assert math.isclose(result.p_lower, lower, rel_tol=1e-15)
        if len(set(baseline + candidate)) < m + n:
            assert result.method == "exact permutation (ties)"


def test_large_tied_samples_use_the_tie_corrected_normal_like_scipy() -> None:
    rng = random.Random(7)
    baseline = [float(rng.randint(0, 9)) for _ in range(120)]
    candidate = [float(rng.randint(1, 10)) for _ in range(130)]
    result = mann_whitney(baseline, candidate)
    assert result.method == "normal, tie-corrected"
    for alternative, ours in (("greater", result.p_upper), ("less", result.p_lower)):
        theirs = stats.mannwhitneyu(
            candidate, baseline, alternative=alternative, method="asymptotic", use_continuity=True
        )
        assert math.isclose(ours, theirs.pvalue, rel_tol=1e-9)


def test_large_samples_without_ties_fall_back_to_the_normal_like_scipy() -> None:
    rng = random.Random(8)
    baseline = [rng.gauss(0, 1) for _ in range(300)]
    candidate = [rng.gauss(0.2, 1) for _ in range(300)]
    result = mann_whitney(baseline, candidate)
    assert result.method == "normal"
    theirs = stats.mannwhitneyu(candidate, baseline, alternative="greater", method="asymptotic")
    assert math.isclose(result.p_upper, theirs.pvalue, rel_tol=1e-9)


@pytest.mark.parametrize(("m", "n"), [(1, 1), (2, 5), (7, 7), (10, 50), (31, 17)])
def test_null_counts_are_a_symmetric_distribution_over_all_arrangements(m: int, n: int) -> None:
    counts = null_counts(m, n)
    assert len(counts) == m * n + 1
    assert sum(counts) == math.comb(m + n, m)
    assert counts == counts[::-1]
    assert min(counts) >= 1
    assert null_counts(n, m) == counts


@pytest.mark.parametrize(("m", "n"), [(1, 4), (3, 3), (6, 11), (12, 9)])
def test_truncated_counts_and_the_half_distribution_agree_with_the_full_one(m: int, n: int) -> None:
    full = null_counts(m, n)
    for upto in (0, 1, m * n // 3, m * n // 2, m * n):
        assert null_counts(m, n, upto=upto) == full[: upto + 1]
    null = UntiedNull.build(m, n)
    assert null is not None
    running = 0
    for u, count in enumerate(full):
        running += count
        assert null.at_most(u) == running
    assert null.at_most(-1) == 0
    assert null.at_most(m * n + 3) == math.comb(m + n, m)


def test_tied_counts_reduce_to_the_untied_distribution_without_ties() -> None:
    m, n = 5, 6
    tied = tied_null_counts([1] * (m + n), m, n)
    untied = null_counts(m, n)
    assert tied == {2 * u: count for u, count in enumerate(untied)}


def test_minimum_p_and_runs_needed() -> None:
    assert minimum_p(3, 3) == 1 / 20
    assert minimum_p(2, 2) == 1 / 6
    alpha = stats.norm.sf(2.0)
    assert runs_needed(alpha, 2) == (4, 8)  # C(8,4)=70 >= 44; C(10,2)=45 >= 44
    assert runs_needed(alpha, 4) == (4, 4)
    assert runs_needed(alpha / 2, 4) == (5, 5)


def test_hodges_lehmann_matches_brute_force_and_moses_interval() -> None:
    rng = random.Random(11)
    baseline = [rng.gauss(0, 1) for _ in range(7)]
    candidate = [rng.gauss(1, 1) for _ in range(9)]
    alpha = 0.025
    estimate, interval = hodges_lehmann(baseline, candidate, alpha)
    differences = sorted(c - b for c in candidate for b in baseline)
    assert estimate == statistics.median(differences)
    assert interval is not None
    # k is the largest rank with P(U <= k-1) <= alpha, from the exact null distribution.
    counts = null_counts(9, 7)
    total = math.comb(16, 7)
    k = max(j for j in range(len(counts) + 1) if sum(counts[:j]) <= alpha * total)
    assert interval == (differences[k - 1], differences[len(differences) - k])
    assert sum(counts[:k]) / total <= alpha < sum(counts[: k + 1]) / total


def test_hodges_lehmann_interval_is_none_when_sizes_are_too_small() -> None:
    estimate, interval = hodges_lehmann([1.0, 2.0], [3.0, 4.0], 0.02275)
    assert estimate == 2.0  # median of the differences 1, 2, 2, 3
    assert interval is None
