"""The sequential stopping rule: its boundaries, its alpha, and its behaviour on noise."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from scipy import stats

from benchstone.gates import GateError, compare, compare_stage, sequential_plan
from benchstone.gates._normal import norm_sf

ALPHA = norm_sf(2.0)


def run_procedure(plan, draw, rng, *, policy="sigma", min_effect=0.0):
    """The harness's loop: add pairs stage by stage until the verdict is not 'continue'."""
    base: list[float] = []
    cand: list[float] = []
    for stage, pairs in enumerate(plan.stage_pairs, start=1):
        while len(base) < pairs:
            b, c = draw(rng)
            base.append(b)
            cand.append(c)
        verdict = compare_stage(
            base,
            cand,
            plan=plan,
            stage=stage,
            direction="maximize",
            policy=policy,
            min_effect=min_effect,
        )
        if verdict.kind != "NEEDS_MORE_DATA" or stage == plan.stages:
            return verdict, pairs
        assert verdict.reason.startswith("continue: ")
    raise AssertionError("unreachable")


def clopper_pearson_lower(hits: int, trials: int, level: float = 0.999) -> float:
    return 0.0 if hits == 0 else stats.beta.ppf((1 - level) / 2, hits, trials - hits + 1)


def test_spending_sums_to_alpha_and_the_last_stage_spends_the_rest() -> None:
    plan = sequential_plan(threshold=2.0, max_pairs=20, min_pairs=4, batch=4)
    assert plan.stage_pairs == (4, 8, 12, 16, 20)
    assert math.isclose(sum(plan.stage_alphas), ALPHA, rel_tol=1e-12)
    assert plan.stage_alphas[-1] == pytest.approx(ALPHA - sum(plan.stage_alphas[:-1]), rel=1e-12)
    # O'Brien-Fleming-type: equal increments of information, boundaries fall stage by stage.
    z = plan.stage_thresholds
    assert all(a is not None for a in z)
    assert all(earlier > later for earlier, later in itertools.pairwise(z))
    assert all(a > 0 for a in plan.stage_alphas)


def test_looks_scale_the_whole_budget() -> None:
    first = sequential_plan(threshold=2.0, max_pairs=12, min_pairs=3, batch=3)
    third = sequential_plan(threshold=2.0, look=3, max_pairs=12, min_pairs=3, batch=3)
    assert math.isclose(sum(third.stage_alphas), ALPHA / 4, rel_tol=1e-12)
    assert all(t >= f for t, f in zip(third.stage_thresholds, first.stage_thresholds, strict=True))


def test_a_single_stage_plan_is_the_fixed_sample_gate() -> None:
    plan = sequential_plan(threshold=2.0, max_pairs=5, min_pairs=5)
    assert plan.stage_pairs == (5,) and plan.stage_thresholds[0] == pytest.approx(2.0)


def test_bad_plans_and_stages_are_one_line_errors() -> None:
    with pytest.raises(GateError, match="max_pairs 1 must be an integer >= 2"):
        sequential_plan(threshold=2.0, max_pairs=1)
    with pytest.raises(GateError, match="threshold 0 must be > 0"):
        sequential_plan(threshold=0, max_pairs=5)
    plan = sequential_plan(threshold=2.0, max_pairs=6, min_pairs=3, batch=3)
    with pytest.raises(GateError, match="stage 3 must be an integer from 1 to 2"):
        compare_stage([1.0], [1.0], plan=plan, stage=3, direction="minimize")
    with pytest.raises(GateError, match="baseline has 4 runs but stage 1"):
        compare_stage([1.0, 2, 3, 4], [1.0], plan=plan, stage=1, direction="minimize")


def _normal(shift):
    return lambda rng: (rng.gauss(100.0, 1.0), rng.gauss(100.0 + shift, 1.0))


def _heavy(shift):
    # Pareto (alpha 3) noise: rare huge runs, a mean that the t test struggles with.
    return lambda rng: (100.0 * rng.paretovariate(3.0), (100.0 + shift) * rng.paretovariate(3.0))


@pytest.mark.parametrize(
    ("name", "draw", "policy"),
    [
        ("normal", _normal(0.0), "sigma"),
        ("pareto", _heavy(0.0), "sigma"),
        ("pareto", _heavy(0.0), "mann_whitney"),
    ],
)
def test_false_promote_rate_over_all_stages_is_at_most_alpha(name, draw, policy) -> None:
    plan = sequential_plan(threshold=2.0, max_pairs=16, min_pairs=4, batch=4)
    rng = random.Random(f"aa-{name}-{policy}")
    trials = 1500
    promotes = sum(
        run_procedure(plan, draw, rng, policy=policy)[0].kind == "PROMOTE" for _ in range(trials)
    )
    # The observed rate may not be significantly above alpha (99.9% Clopper-Pearson).
    assert clopper_pearson_lower(promotes, trials) <= ALPHA, promotes


def test_spending_is_what_keeps_the_rate_naive_repeated_tests_inflate() -> None:
    """On the same simulated data, testing at the full alpha after every stage (no
    spending) promotes noise far more often than alpha; the plan does not."""
    plan = sequential_plan(threshold=2.0, max_pairs=16, min_pairs=2, batch=2)
    rng = random.Random("naive")
    trials, ours, naive = 1000, 0, 0
    for _ in range(trials):
        pairs = [_normal(0.0)(rng) for _ in range(16)]
        feed = iter(pairs)
        ours += run_procedure(plan, lambda _rng, feed=feed: next(feed), rng)[0].kind == "PROMOTE"
        base, cand = [b for b, _ in pairs], [c for _, c in pairs]
        naive += any(
            compare(base[:n], cand[:n], direction="maximize").kind == "PROMOTE"
            for n in plan.stage_pairs
        )
    assert naive > 2 * ALPHA * trials  # the naive rule is broken ...
    assert clopper_pearson_lower(ours, trials) <= ALPHA  # ... the plan is not


def test_power_on_a_real_improvement_and_it_stops_early() -> None:
    plan = sequential_plan(threshold=2.0, max_pairs=20, min_pairs=4, batch=4)
    rng = random.Random("power")
    results = [run_procedure(plan, _normal(1.5), rng) for _ in range(200)]
    promoted = sum(v.kind == "PROMOTE" for v, _ in results)
    assert promoted >= 0.9 * len(results)
    assert sum(n for _, n in results) / len(results) < 20  # stops before the budget on average
    first = next(v for v, _ in results if v.kind == "PROMOTE")
    assert first.reason.startswith("stage ") and "boundary z=" in first.reason


def test_a_clear_regression_stops_early_with_worse() -> None:
    plan = sequential_plan(threshold=2.0, max_pairs=20, min_pairs=4, batch=4)
    verdict, pairs = run_procedure(plan, _normal(-3.0), random.Random("regress"))
    assert verdict.kind == "REJECT" and verdict.worse is True and pairs < 20
    assert verdict.reason.startswith("significantly worse") and "early REJECT" in verdict.reason


def test_futility_on_min_effect_rejects_early_without_promoting() -> None:
    plan = sequential_plan(threshold=2.0, max_pairs=40, min_pairs=8, batch=8)
    # A tiny real gain (0.01%) far below min_effect 5%: the upper bound falls below it.
    verdict, pairs = run_procedure(plan, _normal(0.01), random.Random("futile"), min_effect=0.05)
    assert verdict.kind == "REJECT" and verdict.worse is False and pairs < 40
    assert "upper bound below min_effect" in verdict.reason
    assert verdict.reason.startswith("no significant improvement")


def test_budget_spent_is_the_final_verdict() -> None:
    plan = sequential_plan(threshold=2.0, max_pairs=6, min_pairs=3, batch=3)
    same = [100.0, 101.0, 99.0, 100.5, 99.5, 100.2]
    verdict = compare_stage(same, same[::-1], plan=plan, stage=2, direction="minimize")
    assert verdict.kind == "REJECT" and "budget spent at stage 2 of 2" in verdict.reason
