"""A REJECT says which it is: significantly worse, or no significant improvement."""

from __future__ import annotations

import random

import pytest
from scipy import stats

from benchstone.gates import compare
from benchstone.gates._normal import norm_sf


def _noise(seed: int, centre: float, count: int = 8) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(centre, 1.0) for _ in range(count)]


@pytest.mark.parametrize("policy", ["sigma", "mann_whitney"])
def test_clearly_worse_is_a_regression(policy: str) -> None:
    base = _noise(1, 100.0)
    slower = _noise(2, 110.0)  # minimize: 10 sigma slower
    verdict = compare(base, slower, direction="minimize", policy=policy)
    assert verdict.kind == "REJECT" and verdict.worse is True
    assert verdict.reason.startswith("significantly worse: ")
    assert verdict.to_dict()["worse"] is True


@pytest.mark.parametrize("policy", ["sigma", "mann_whitney"])
def test_same_is_no_significant_improvement(policy: str) -> None:
    base = [100.0, 101.0, 99.0, 100.5, 99.5, 100.2]
    same = [100.1, 100.9, 99.1, 100.4, 99.6, 100.3]
    verdict = compare(base, same, direction="minimize", policy=policy)
    assert verdict.kind == "REJECT" and verdict.worse is False
    assert verdict.reason.startswith("no significant improvement: ")


def test_promote_and_other_kinds_are_never_worse() -> None:
    better = compare([10.0, 10.1, 9.9, 10.05], [8.0, 8.1, 7.9, 8.05], direction="minimize")
    assert better.kind == "PROMOTE" and better.worse is False
    assert compare([], [1.0, 2.0], direction="minimize").worse is False


def test_worse_uses_the_looks_alpha() -> None:
    # One-sided regression p between alpha/2 (look 2) and alpha (look 1).
    base = [10.0, 10.2, 9.8, 10.1, 9.9]
    for shift in [x / 100 for x in range(1, 100)]:
        cand = [v + shift for v in base[::-1]]
        p_lower = stats.ttest_ind(cand, base, equal_var=False, alternative="greater").pvalue
        if norm_sf(2.0) / 2 < p_lower <= norm_sf(2.0):
            break
    else:
        pytest.fail("no shift found between the two looks' alphas")
    at_one = compare(base, cand, direction="minimize", look=1)
    at_two = compare(base, cand, direction="minimize", look=2)
    assert at_one.worse is True and at_two.worse is False
    assert at_two.reason.startswith("no significant improvement")


@pytest.mark.parametrize("seed", range(40))
def test_regression_side_matches_scipy(seed: int) -> None:
    """worse iff scipy's one-sided p for "candidate worse" <= alpha, for both policies."""
    rng = random.Random(seed)
    n_b, n_c = rng.randint(3, 9), rng.randint(3, 9)
    base = [rng.gauss(0.0, 1.0) for _ in range(n_b)]
    cand = [
        rng.gauss(rng.choice([0.0, -1.0, -2.5, 1.0]), rng.choice([0.5, 1.0, 2.0]))
        for _ in range(n_c)
    ]
    alpha = norm_sf(2.0)
    # maximize: "worse" is the candidate smaller.
    welch = stats.ttest_ind(cand, base, equal_var=False, alternative="less").pvalue
    verdict = compare(base, cand, direction="maximize", policy="sigma")
    if verdict.kind == "REJECT":
        assert verdict.worse is bool(welch <= alpha), (welch, verdict.reason)
    ranks = stats.mannwhitneyu(cand, base, alternative="less", method="exact").pvalue
    verdict = compare(base, cand, direction="maximize", policy="mann_whitney")
    if verdict.kind == "REJECT":
        assert verdict.worse is bool(ranks <= alpha), (ranks, verdict.reason)


def test_deterministic_worse_needs_every_run_worse_by_min_effect() -> None:
    worse = compare([10.0], [11.0], direction="minimize", deterministic=True)
    assert worse.kind == "REJECT" and worse.worse is True
    assert worse.reason.startswith("significantly worse (strictly worse)")
    slight = compare([10.0], [10.05], direction="minimize", deterministic=True, min_effect=0.01)
    assert slight.kind == "REJECT" and slight.worse is False
    assert slight.reason.startswith("no significant improvement")
    overlap = compare([10.0, 12.0], [11.0, 13.0], direction="minimize", deterministic=True)
    assert overlap.worse is False


def test_constant_sides_worse_is_certain() -> None:
    verdict = compare([5.0, 5.0], [6.0, 6.0], direction="minimize")
    assert verdict.kind == "REJECT" and verdict.worse is True
    assert verdict.reason.startswith("significantly worse")
