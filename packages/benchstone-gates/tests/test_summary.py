"""Summary.of: the per-side numbers every verdict shows."""

from __future__ import annotations

import math
import statistics
from fractions import Fraction

import pytest

from benchstone.gates import GateError, Summary


def test_summary_matches_the_statistics_module() -> None:
    values = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0]
    summary = Summary.of(values)
    assert summary == Summary(
        n=6,
        mean=pytest.approx(statistics.fmean(values)),
        median=statistics.median(values),
        stdev=pytest.approx(statistics.stdev(values)),
        min=1.0,
        max=9.0,
    )


def test_single_value_has_no_spread() -> None:
    assert Summary.of([2.5]) == Summary(n=1, mean=2.5, median=2.5, stdev=None, min=2.5, max=2.5)


def test_summary_is_exact_where_naive_sums_are_not() -> None:
    summary = Summary.of([1e16, 1.0, -1e16, 1.0])
    assert summary.mean == 0.5
    huge = Summary.of([1.7e308, 1.7e308, 1.6e308])
    exact_mean = float(sum(Fraction(v) for v in (1.7e308, 1.7e308, 1.6e308)) / 3)
    assert math.isclose(huge.mean, exact_mean, rel_tol=1e-15)
    assert huge.stdev is not None and math.isfinite(huge.stdev)
    wide = Summary.of([-1.7e308, 1.7e308])
    assert wide.stdev is None  # 2.4e308 does not fit a double
    assert wide.mean == 0.0


def test_to_dict_keys() -> None:
    assert list(Summary.of([1.0, 2.0]).to_dict()) == ["n", "mean", "median", "stdev", "min", "max"]


def test_bad_values() -> None:
    with pytest.raises(GateError, match="values is empty"):
        Summary.of([])
    with pytest.raises(GateError, match=r"values\[2\] is nan"):
        Summary.of([1.0, 2.0, math.nan])
