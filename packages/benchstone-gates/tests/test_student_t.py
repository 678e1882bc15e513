"""Student's t (and the incomplete beta under it) against scipy on a grid.

Fractional degrees of freedom matter: Welch's test produces them. Large df switch to
Hill's expansion at 2e4, so the grid straddles that point.
"""

from __future__ import annotations

import math

import pytest
from scipy import special, stats

from benchstone.gates._beta import betainc, log_beta
from benchstone.gates._student_t import t_cdf, t_isf, t_pdf, t_ppf, t_sf

DFS = [1.0, 1.3, 1.5, 2.0, 2.5, 3.0, 4.7, 5.0, 8.0, 10.0, 29.3, 100.0, 1000.0]
DFS += [19_999.0, 20_001.0, 1e5, 1e7]
TS = [0.001, 0.3, 0.5, 1.0, 2.0, 2.5, 3.0, 5.0, 8.0, 13.0, 20.0, 37.0, 60.0, 1e3, 1e6]
QS = [1e-100, 1e-20, 1e-10, 1e-6, 1e-4, 1e-3, 0.0057, 0.0114, 0.02275, 0.05, 0.1, 0.3, 0.49]
REL = 1e-10


def close(actual: float, expected: float, rel: float = REL) -> bool:
    return math.isclose(actual, expected, rel_tol=rel, abs_tol=0.0)


@pytest.mark.parametrize("df", DFS)
def test_tails_match_scipy(df: float) -> None:
    for t in TS:
        expected = stats.t.sf(t, df)
        if expected < 1e-300:
            continue
        assert close(t_sf(t, df), expected), (t, df)
        assert close(t_cdf(-t, df), expected), (t, df)
        assert close(t_cdf(t, df), stats.t.cdf(t, df)), (t, df)
        assert close(t_sf(-t, df), stats.t.cdf(t, df)), (t, df)


@pytest.mark.parametrize("df", DFS)
def test_quantiles_match_scipy(df: float) -> None:
    for q in QS:
        expected = stats.t.isf(q, df)
        if expected > 1e150:  # beyond scipy's own range
            continue
        assert close(t_isf(q, df), expected), (q, df)
        assert close(t_ppf(q, df), -expected), (q, df)
        assert close(t_isf(1.0 - q, df), stats.t.isf(1.0 - q, df), 1e-9), (q, df)


@pytest.mark.parametrize("df", [1.0, 2.0, 3.7, 40.0, 5e4])
def test_quantile_inverts_the_tail(df: float) -> None:
    for q in (1e-200, 1e-12, 0.02275, 0.4):
        assert close(t_sf(t_isf(q, df), df), q, 1e-11), (q, df)


def test_density_matches_scipy() -> None:
    # (scipy's own density drifts by ~1e-12 at df = 1e4, so the grid stops below.)
    for df in (1.0, 2.5, 30.0, 900.0):
        for t in (0.0, 0.7, 3.0, 30.0):
            assert close(t_pdf(t, df), stats.t.pdf(t, df), 1e-12)


def test_centre_and_ends() -> None:
    assert t_sf(0.0, 3.0) == 0.5
    assert t_isf(0.5, 7.0) == 0.0
    assert t_isf(0.0, 3.0) == math.inf
    assert t_isf(1.0, 3.0) == -math.inf
    assert t_sf(math.inf, 3.0) == 0.0
    assert t_sf(-math.inf, 3.0) == 1.0


def test_extreme_t_does_not_lose_the_tail() -> None:
    # t² overflows a double here, yet P(T > t) = O(t^-df) is a perfectly good number.
    value = t_sf(1e200, 0.5)
    expected = math.exp(0.25 * (math.log(0.5) - 400 * math.log(10)) - log_beta(0.25, 0.5)) / 0.25
    assert value > 0.0
    assert close(value, 0.5 * expected, 1e-12)


def test_domain_errors() -> None:
    with pytest.raises(ValueError, match="df"):
        t_sf(1.0, 0.0)
    with pytest.raises(ValueError, match="outside"):
        t_isf(1.5, 3.0)


@pytest.mark.parametrize("a", [0.25, 0.5, 1.0, 2.5, 10.0, 150.0])
@pytest.mark.parametrize("b", [0.5, 1.0, 3.0, 40.0])
def test_incomplete_beta_matches_scipy(a: float, b: float) -> None:
    for x in (1e-12, 1e-4, 0.01, 0.2, 0.5, 0.8, 0.99, 1 - 1e-9):
        expected = special.betainc(a, b, x)
        if expected < 1e-300:
            continue
        assert close(betainc(a, b, x), expected, 1e-11), (a, b, x)
    assert betainc(a, b, 0.0) == 0.0
    assert betainc(a, b, 1.0) == 1.0


def _exact_log_beta_half(n: int) -> float:
    """ln B(1/2, n) = ln(4^n n! (n-1)! / (2n)!), from exact integers."""
    return math.log(4**n * math.factorial(n) * math.factorial(n - 1)) - math.log(
        math.factorial(2 * n)
    )


def _exact_log_beta(a: int, b: int) -> float:
    """ln B(a, b) = ln((a-1)! (b-1)! / (a+b-1)!), from exact integers."""
    return math.log(math.factorial(a - 1) * math.factorial(b - 1)) - math.log(
        math.factorial(a + b - 1)
    )


@pytest.mark.parametrize("n", [1, 3, 9, 10, 11, 57, 1000, 25_000])
def test_log_beta_of_a_half_is_exact_for_large_arguments(n: int) -> None:
    # The t distribution's normalising constant; scipy's betaln itself drifts (~1e-11)
    # out here, so the reference is exact integer arithmetic.
    assert math.isclose(log_beta(0.5, float(n)), _exact_log_beta_half(n), abs_tol=2e-15)
    assert math.isclose(log_beta(float(n), 0.5), _exact_log_beta_half(n), abs_tol=2e-15)


@pytest.mark.parametrize(("a", "b"), [(1, 1), (3, 7), (12, 5), (40, 2000), (700, 900)])
def test_log_beta_of_integers_is_exact(a: int, b: int) -> None:
    expected = _exact_log_beta(a, b)
    assert math.isclose(log_beta(float(a), float(b)), expected, rel_tol=1e-13, abs_tol=1e-13)
