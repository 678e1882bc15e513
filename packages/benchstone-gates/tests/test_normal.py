"""The normal distribution functions against scipy, into the far tails."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from benchstone.gates._normal import norm_cdf, norm_isf, norm_ppf, norm_sf

XS = [-38.0, -37.5, -30.0, -20.0, -10.0, -8.0, -5.0, -3.0, -2.0, -1.0, -0.5, -1e-3]
XS += [0.0] + [-x for x in XS]
PS = [1e-320, 1e-300, 1e-100, 1e-30, 1e-12, 1e-6, 1e-3, 0.0125, 0.02275, 0.05, 0.074]
PS += [0.075, 0.2, 0.425, 0.5, 0.6, 0.925, 0.95, 0.999, 1 - 1e-9]


def close(actual: float, expected: float, rel: float) -> bool:
    return math.isclose(actual, expected, rel_tol=rel, abs_tol=1e-300)


@pytest.mark.parametrize("x", XS)
def test_cdf_and_sf_match_scipy(x: float) -> None:
    # erfc's argument x/√2 is rounded once, which costs up to ~2x²·eps in the far tail.
    assert close(norm_cdf(x), stats.norm.cdf(x), 1e-12)
    assert close(norm_sf(x), stats.norm.sf(x), 1e-12)


@pytest.mark.parametrize("p", PS)
def test_quantiles_match_scipy(p: float) -> None:
    assert close(norm_ppf(p), stats.norm.ppf(p), 1e-14)
    assert close(norm_isf(p), stats.norm.isf(p), 1e-14)


def test_quantile_inverts_the_cdf() -> None:
    for x in (-9.0, -2.0, 0.3, 1.0, 2.0):
        assert math.isclose(norm_ppf(norm_cdf(x)), x, rel_tol=1e-12)
    assert math.isclose(norm_isf(norm_sf(9.0)), 9.0, rel_tol=1e-13)


def test_quantile_ends_and_domain() -> None:
    assert norm_ppf(0.0) == -math.inf
    assert norm_ppf(1.0) == math.inf
    assert norm_ppf(0.5) == 0.0
    with pytest.raises(ValueError, match="outside"):
        norm_ppf(1.5)
