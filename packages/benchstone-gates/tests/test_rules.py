"""check_parameters: the one place a gate's parameters are judged legal."""

from __future__ import annotations

import math

import pytest

from benchstone.gates import GateError, check_parameters, compare
from benchstone.gates._rules import mann_whitney_log_min_p, mann_whitney_runs_needed


def test_threshold_above_range_is_refused_by_both_check_parameters_and_compare() -> None:
    with pytest.raises(GateError, match=r"threshold 40 must be a number > 0 and <= 37"):
        check_parameters(policy="sigma", threshold=40, min_effect=0.0)
    with pytest.raises(GateError, match=r"threshold 40 must be a number > 0 and <= 37"):
        compare([1.0, 1.1, 1.2], [0.9, 0.8, 0.85], direction="minimize", threshold=40)


@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [
        ("policy", "bayes", "policy 'bayes' is not one of"),
        ("threshold", 0, "threshold 0 must be"),
        ("threshold", math.inf, "threshold inf must be"),
        ("min_effect", -0.1, "min_effect -0.1 must be"),
        ("direction", "up", "direction 'up' is not one of"),
    ],
)
def test_illegal_values_name_the_parameter(key: str, value: object, needle: str) -> None:
    arguments: dict[str, object] = {"policy": "sigma", "threshold": 2.0, "min_effect": 0.0}
    arguments[key] = value
    with pytest.raises(GateError, match=needle):
        check_parameters(**arguments)  # type: ignore[arg-type]


def test_mann_whitney_seeds_that_never_reach_look_two_are_an_error() -> None:
    arguments = {"policy": "mann_whitney", "threshold": 6.0, "min_effect": 0.0}
    with pytest.raises(GateError, match=r"list at least 2 baseline seeds"):
        check_parameters(**arguments, n_baseline=1, n_candidate=10, max_candidate=100_000)
    # Two seeds: 1/C(100002, 2) ≈ 2e-10 <= Φ(-6)/2 ≈ 4.9e-10, reachable with enough runs.
    notes = check_parameters(**arguments, n_baseline=2, n_candidate=10, max_candidate=100_000)
    assert len(notes) == 1 and "cannot be reached with 2 baseline and 10 candidate" in notes[0]


def test_mann_whitney_reachable_at_look_one_only_warns() -> None:
    notes = check_parameters(
        policy="mann_whitney", threshold=2.0, min_effect=0.0, n_baseline=4, n_candidate=4
    )
    assert len(notes) == 1 and "reachable at look 1 only" in notes[0]
    assert (
        check_parameters(
            policy="mann_whitney", threshold=2.0, min_effect=0.0, n_baseline=5, n_candidate=5
        )
        == []
    )


@pytest.mark.parametrize(("n_b", "n_c"), [(1, 1), (2, 2), (3, 3), (2, 10), (5, 7), (600, 600)])
def test_mann_whitney_log_min_p_is_one_arrangement_in_all(n_b: int, n_c: int) -> None:
    expected = -math.log(math.comb(n_b + n_c, n_b)) if n_b < 600 else None
    got = mann_whitney_log_min_p(n_b, n_c)
    if expected is None:
        assert got == pytest.approx(-math.log(math.comb(1200, 600)), rel=1e-9)
    else:
        assert got == pytest.approx(expected, rel=1e-12)


def test_runs_needed_grows_with_the_threshold() -> None:
    needs = [mann_whitney_runs_needed(z, 1) for z in (1.0, 2.0, 3.0, 5.0, 10.0, 37.0)]
    assert needs == sorted(needs) and needs[0] < needs[-1]
