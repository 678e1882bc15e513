"""compare(): the verdict semantics other packages rely on."""

from __future__ import annotations

import json
import math
import random
import statistics
from fractions import Fraction

import pytest
from scipy import stats

from benchstone.gates import DIRECTIONS, POLICIES, GateError, Summary, Verdict, compare

ALPHA_2 = stats.norm.sf(2.0)

FASTER = [0.80, 0.82, 0.79, 0.81, 0.83]
SLOWER = [1.00, 1.03, 0.98, 1.01, 0.99]


# --- direction ---------------------------------------------------------------------------


@pytest.mark.parametrize("policy", POLICIES)
def test_direction_decides_which_way_is_better(policy: str) -> None:
    assert compare(SLOWER, FASTER, direction="minimize", policy=policy).kind == "PROMOTE"
    assert compare(SLOWER, FASTER, direction="maximize", policy=policy).kind == "REJECT"
    assert compare(FASTER, SLOWER, direction="maximize", policy=policy).kind == "PROMOTE"
    assert compare(FASTER, SLOWER, direction="minimize", policy=policy).kind == "REJECT"


@pytest.mark.parametrize("policy", POLICIES)
def test_statistic_and_effect_are_signed_so_positive_means_better(policy: str) -> None:
    better = compare(SLOWER, FASTER, direction="minimize", policy=policy)
    worse = compare(SLOWER, FASTER, direction="maximize", policy=policy)
    assert better.statistic is not None and better.statistic > 2.0
    assert worse.statistic is not None and worse.statistic < -2.0
    assert better.effect is not None and better.effect > 0.15
    assert worse.effect is not None and worse.effect < -0.15
    assert better.effect_ci is not None and better.effect_ci[0] > 0.0
    assert better.direction == "minimize" and worse.direction == "maximize"


def test_minimize_is_maximize_of_the_negated_metric() -> None:
    rng = random.Random(3)
    base = [rng.gauss(10, 1) for _ in range(6)]
    cand = [rng.gauss(9, 1) for _ in range(7)]
    for policy in POLICIES:
        low = compare(base, cand, direction="minimize", policy=policy)
        high = compare([-x for x in base], [-x for x in cand], direction="maximize", policy=policy)
        assert low.kind == high.kind
        assert low.statistic == pytest.approx(high.statistic, rel=1e-12)
        assert low.p_value == pytest.approx(high.p_value, rel=1e-12)
        assert low.effect == pytest.approx(high.effect, rel=1e-12)


# --- the sigma policy is Welch's t -------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_sigma_is_welchs_one_sided_t_test(seed: int) -> None:
    rng = random.Random(seed)
    base = [rng.gauss(5, rng.uniform(0.1, 2)) for _ in range(rng.randint(2, 9))]
    cand = [rng.gauss(5.5, rng.uniform(0.1, 2)) for _ in range(rng.randint(2, 9))]
    verdict = compare(base, cand, direction="maximize")
    welch = stats.ttest_ind(cand, base, equal_var=False, alternative="greater")
    assert verdict.p_value == pytest.approx(welch.pvalue, rel=1e-10)
    assert verdict.statistic == pytest.approx(stats.norm.isf(welch.pvalue), rel=1e-9, abs=1e-12)
    assert verdict.kind == ("PROMOTE" if welch.pvalue <= ALPHA_2 else "REJECT")
    # The effect interval is Welch's two-sided interval at 1 - 2·alpha, over |baseline mean|.
    interval = stats.ttest_ind(cand, base, equal_var=False).confidence_interval(1 - 2 * ALPHA_2)
    mean_b = abs(sum(base) / len(base))
    assert verdict.effect_ci == pytest.approx((interval.low / mean_b, interval.high / mean_b))
    assert verdict.effect == pytest.approx((sum(cand) / len(cand) - sum(base) / len(base)) / mean_b)


def test_sigma_is_calibrated_where_the_naive_gate_is_not() -> None:
    """Pure noise at 3 runs a side: the naive z-gate promotes ~2.6x too often; ours not."""
    rng = random.Random(20240601)
    trials, ours, naive = 3000, 0, 0
    for _ in range(trials):
        base = [rng.gauss(0, 1) for _ in range(3)]
        cand = [rng.gauss(0, 1) for _ in range(3)]
        ours += compare(base, cand, direction="maximize").kind == "PROMOTE"
        mb, mc = sum(base) / 3, sum(cand) / 3
        se = math.sqrt(statistics.variance(base) / 3 + statistics.variance(cand) / 3)
        naive += (mc - mb) / se >= 2.0
    # Binomial sd at p = 0.0228 over 3000 trials is 0.0027.
    assert ours / trials < ALPHA_2 + 0.009
    assert naive / trials > 2.0 * ALPHA_2


# --- mann_whitney ------------------------------------------------------------------------


def test_mann_whitney_p_is_the_exact_one_sided_p() -> None:
    base = [3.1, 2.9, 3.3, 3.0, 3.2]
    cand = [2.5, 2.7, 3.05, 2.6, 2.8, 2.4]
    verdict = compare(base, cand, direction="minimize", policy="mann_whitney")
    theirs = stats.mannwhitneyu(cand, base, alternative="less", method="exact")
    assert verdict.p_value == pytest.approx(theirs.pvalue, rel=1e-12)
    assert verdict.kind == "PROMOTE"
    assert verdict.policy == "mann_whitney"
    assert "Mann-Whitney" in verdict.reason and "exact" in verdict.reason


def test_mann_whitney_unreachable_threshold_needs_more_data_with_the_run_count() -> None:
    verdict = compare([1.0, 1.1, 1.2], [0.5, 0.6, 0.7], direction="minimize", policy="mann_whitney")
    assert verdict.kind == "NEEDS_MORE_DATA"
    assert "4 runs a side" in verdict.reason
    assert "0.05 > alpha" in verdict.reason
    assert verdict.effect is not None and verdict.effect > 0
    # sigma sees the same data as a clear improvement: the floor is the rank test's.
    assert compare([1.0, 1.1, 1.2], [0.5, 0.6, 0.7], direction="minimize").kind == "PROMOTE"


def test_mann_whitney_with_ties_uses_the_permutation_distribution() -> None:
    base = [3.0, 3.0, 4.0, 4.0, 5.0]
    cand = [1.0, 2.0, 2.0, 3.0, 3.0]
    verdict = compare(base, cand, direction="minimize", policy="mann_whitney")
    assert "exact permutation (ties)" in verdict.reason
    assert verdict.p_value is not None and 0 < verdict.p_value < 0.05


def test_mann_whitney_effect_is_hodges_lehmann_over_the_baseline_median() -> None:
    base = [10.0, 11.0, 12.0, 13.0, 50.0]
    cand = [20.0, 21.0, 22.0, 23.0, 24.0]
    verdict = compare(base, cand, direction="maximize", policy="mann_whitney")
    differences = sorted(c - b for c in cand for b in base)
    assert verdict.effect == pytest.approx(differences[12] / 12.0)
    assert verdict.effect_ci is not None
    assert verdict.effect_ci[0] <= verdict.effect <= verdict.effect_ci[1]


# --- floors and missing data -------------------------------------------------------------


def test_empty_baseline_is_no_baseline() -> None:
    verdict = compare([], [1.0, 2.0], direction="minimize")
    assert verdict.kind == "NO_BASELINE"
    assert verdict.baseline is None
    assert verdict.candidate == Summary.of([1.0, 2.0])


@pytest.mark.parametrize(
    ("base", "cand", "kwargs", "counts"),
    [
        ([1.0], [1.0, 2.0], {}, "it has 1 and 2"),
        ([1.0, 2.0], [1.0], {}, "it has 2 and 1"),
        ([1.0, 2.0], [], {}, "it has 2 and 0"),
        ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], {"min_candidate": 5}, "it has 3 and 3"),
        ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], {"min_baseline": 4}, "it has 3 and 3"),
        ([1.0, 2.0], [1.0], {"min_candidate": 1}, "it has 2 and 1"),  # floor is never < 2
    ],
)
def test_floors_return_needs_more_data_naming_the_counts(
    base: list[float], cand: list[float], kwargs: dict[str, int], counts: str
) -> None:
    verdict = compare(base, cand, direction="minimize", **kwargs)
    assert verdict.kind == "NEEDS_MORE_DATA"
    assert counts in verdict.reason
    assert "needs at least" in verdict.reason


def test_floor_uses_the_manifest_minimum() -> None:
    verdict = compare([1.0] * 3, [0.5, 0.6, 0.4], direction="minimize", min_baseline=5)
    assert "5 runs of baseline" in verdict.reason


# --- NaN never reaches the gate, and other bad arguments --------------------------------


@pytest.mark.parametrize(
    ("base", "cand", "message"),
    [
        ([1.0, math.nan], [1.0, 2.0], r"baseline\[1\] is nan"),
        ([1.0, 2.0], [math.inf, 2.0], r"candidate\[0\] is inf"),
        ([1.0, 2.0], [1.0, -math.inf], r"candidate\[1\] is -inf"),
        ([True, 2.0], [1.0, 2.0], r"baseline\[0\] is True \(bool\)"),
        ([1.0, None], [1.0, 2.0], r"baseline\[1\] is None"),
        ([1.0, "2"], [1.0, 2.0], r"baseline\[1\] is '2'"),
        ("12", [1.0, 2.0], "baseline must be a sequence of numbers, not str"),
        ([1.0, 2.0], 3.0, "candidate must be a sequence of numbers, not float"),
    ],
)
def test_bad_samples_raise_gate_error(base: object, cand: object, message: str) -> None:
    with pytest.raises(GateError, match=message):
        compare(base, cand, direction="minimize")  # type: ignore[arg-type]


def test_nan_is_refused_even_where_the_sample_would_be_too_small_anyway() -> None:
    with pytest.raises(GateError, match="nan"):
        compare([math.nan], [], direction="maximize")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"direction": "up"}, "direction 'up' is not one of 'minimize', 'maximize'"),
        ({"policy": "t"}, "policy 't' is not one of 'sigma', 'mann_whitney'"),
        ({"threshold": 0.0}, "threshold 0.0 must be a number > 0"),
        ({"threshold": -1}, "threshold -1 must be"),
        ({"threshold": math.nan}, "threshold nan must be"),
        ({"threshold": 40.0}, "<= 37"),
        ({"threshold": True}, "threshold True"),
        ({"min_effect": -0.01}, "min_effect -0.01 must be a finite number >= 0"),
        ({"min_effect": math.inf}, "min_effect inf"),
        ({"look": 0}, "look 0 must be an integer >= 1"),
        ({"look": 1.0}, "look 1.0 must be an integer"),
        ({"look": True}, "look True"),
        ({"min_baseline": 0}, "min_baseline 0 must be an integer >= 1"),
        ({"min_candidate": "2"}, "min_candidate '2'"),
        ({"deterministic": 1}, "deterministic 1 must be True or False"),
    ],
)
def test_bad_options_raise_one_line_gate_errors(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"direction": "minimize", **kwargs}
    with pytest.raises(GateError, match=message) as caught:
        compare([1.0, 2.0], [1.0, 2.0], **arguments)  # type: ignore[arg-type]
    assert "\n" not in str(caught.value)


def test_any_real_numbers_and_iterables_are_accepted() -> None:
    verdict = compare(
        (x for x in [1, 2, 3]), [Fraction(1, 2), 0.25, 0.75], direction="minimize", threshold=1
    )
    assert verdict.kind in ("PROMOTE", "REJECT")
    assert verdict.baseline == Summary.of([1.0, 2.0, 3.0])


# --- pooled candidates and looks ---------------------------------------------------------


def test_pooling_more_candidate_runs_resolves_an_unreachable_rank_test() -> None:
    # Each re-run adds 3 candidate runs; the verdict always sees all of them.
    base = [1.00, 1.02, 0.98]
    batches = [[0.90, 0.91, 0.89], [0.92, 0.90, 0.88], [0.905, 0.915, 0.895]]
    pooled: list[float] = []
    kinds = []
    for look, batch in enumerate(batches, start=1):
        pooled += batch
        verdict = compare(base, pooled, direction="minimize", policy="mann_whitney", look=look)
        kinds.append(verdict.kind)
    # look 1: 1/C(6,3) = 0.05 > 0.0228; look 2: 1/C(9,3) = 0.0119 > 0.0114;
    # look 3: 1/C(12,3) = 0.0045 <= 0.0057.
    assert kinds == ["NEEDS_MORE_DATA", "NEEDS_MORE_DATA", "PROMOTE"]
    assert verdict.candidate is not None and verdict.candidate.n == 9
    assert verdict.p_value == pytest.approx(1 / 220)


def test_each_look_halves_alpha_and_raises_the_threshold() -> None:
    base = [1.00, 1.05, 0.97, 1.02]
    cand = [0.94, 0.96, 0.92, 0.95]  # equivalent z = 2.34: passes looks 1-2 only
    verdicts = [compare(base, cand, direction="minimize", look=k) for k in (1, 2, 3, 4)]
    assert [v.look for v in verdicts] == [1, 2, 3, 4]
    for k, verdict in enumerate(verdicts, start=1):
        assert verdict.alpha == pytest.approx(ALPHA_2 / 2 ** (k - 1), rel=1e-12)
        assert verdict.threshold == pytest.approx(stats.norm.isf(ALPHA_2 / 2 ** (k - 1)))
        assert verdict.nominal_threshold == 2.0
        assert f"at look {k}" in verdict.reason
    assert verdicts[0].threshold == 2.0
    # Same data, same statistic; only the bar moves.
    assert len({v.statistic for v in verdicts}) == 1
    assert [v.kind for v in verdicts] == ["PROMOTE", "PROMOTE", "REJECT", "REJECT"]
    # The interval widens with the level: 1 - 2·alpha_k.
    widths = [v.effect_ci[1] - v.effect_ci[0] for v in verdicts if v.effect_ci]
    assert widths == sorted(widths)


def test_very_late_looks_saturate_instead_of_failing() -> None:
    verdict = compare([1.0, 1.1], [0.5, 0.6], direction="minimize", look=5000)
    assert verdict.kind == "REJECT"
    assert verdict.alpha is not None and verdict.alpha > 0.0
    assert verdict.threshold is not None and math.isfinite(verdict.threshold)


# --- min_effect --------------------------------------------------------------------------


def test_min_effect_needs_the_estimated_improvement_too() -> None:
    base = [100.0, 100.5, 99.5, 100.2, 99.8]
    cand = [98.0, 98.4, 97.6, 98.1, 97.9]  # ~2% faster, clearly significant
    assert compare(base, cand, direction="minimize", min_effect=0.01).kind == "PROMOTE"
    small = compare(base, cand, direction="minimize", min_effect=0.05)
    assert small.kind == "REJECT"
    assert "significant but below min_effect" in small.reason
    assert "< min_effect 5.00%" in small.reason


def test_baseline_centre_zero_leaves_the_effect_undefined() -> None:
    base = [-1.0, 1.0, 0.5, -0.5]
    cand = [3.0, 4.0, 3.5, 4.5]
    verdict = compare(base, cand, direction="maximize")
    assert verdict.effect is None and verdict.effect_ci is None
    assert verdict.kind == "PROMOTE"
    assert "baseline mean is 0" in verdict.reason
    strict = compare(base, cand, direction="maximize", min_effect=0.01)
    assert strict.kind == "REJECT"
    assert "cannot be met" in strict.reason


# --- zero variance -----------------------------------------------------------------------


@pytest.mark.parametrize("policy", POLICIES)
def test_identical_constant_sides_are_no_difference(policy: str) -> None:
    verdict = compare([5.0, 5.0, 5.0], [5.0, 5.0], direction="minimize", policy=policy)
    assert verdict.kind == "REJECT"
    assert verdict.reason.startswith("no significant improvement (no difference)")
    assert verdict.effect == 0.0


@pytest.mark.parametrize("policy", POLICIES)
def test_different_constant_sides_are_certain(policy: str) -> None:
    better = compare([5.0, 5.0], [4.0, 4.0], direction="minimize", policy=policy)
    assert better.kind == "PROMOTE"
    assert better.effect == pytest.approx(0.2)
    assert better.effect_ci == (pytest.approx(0.2), pytest.approx(0.2))
    worse = compare([5.0, 5.0], [4.0, 4.0], direction="maximize", policy=policy)
    assert worse.kind == "REJECT"
    too_small = compare([5.0, 5.0], [4.0, 4.0], direction="minimize", min_effect=0.25)
    assert too_small.kind == "REJECT"
    assert "below min_effect" in too_small.reason


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # scipy's note on the constant side
def test_one_constant_side_is_an_ordinary_welch_test() -> None:
    verdict = compare([5.0, 5.0, 5.0], [4.0, 4.2, 3.9], direction="minimize")
    welch = stats.ttest_ind([4.0, 4.2, 3.9], [5.0, 5.0, 5.0], equal_var=False, alternative="less")
    assert verdict.p_value == pytest.approx(welch.pvalue, rel=1e-10)


# --- deterministic -----------------------------------------------------------------------


def test_deterministic_needs_one_run_a_side_and_strict_improvement() -> None:
    verdict = compare([10.0], [9.0], direction="minimize", deterministic=True)
    assert verdict.kind == "PROMOTE"
    assert verdict.policy == "deterministic"
    assert verdict.effect == pytest.approx(0.1)
    assert verdict.statistic is None and verdict.p_value is None and verdict.alpha is None
    assert compare([10.0], [10.0], direction="minimize", deterministic=True).kind == "REJECT"
    assert compare([10.0], [11.0], direction="minimize", deterministic=True).kind == "REJECT"
    assert compare([10.0], [11.0], direction="maximize", deterministic=True).kind == "PROMOTE"


def test_deterministic_min_effect_and_floors() -> None:
    assert compare(
        [10.0], [9.5], direction="minimize", deterministic=True, min_effect=0.1
    ).kind == ("REJECT")
    assert compare(
        [10.0], [8.9], direction="minimize", deterministic=True, min_effect=0.1
    ).kind == ("PROMOTE")
    assert compare([10.0], [], direction="minimize", deterministic=True).kind == "NEEDS_MORE_DATA"
    assert compare([], [1.0], direction="minimize", deterministic=True).kind == "NO_BASELINE"


def test_deterministic_runs_that_vary_compare_worst_against_best() -> None:
    verdict = compare([10.0, 10.2], [9.0, 10.1], direction="minimize", deterministic=True)
    assert verdict.kind == "REJECT"  # the worst candidate run (10.1) loses to 10.0
    assert "vary" in verdict.reason
    assert verdict.effect_ci is not None
    assert verdict.effect_ci[0] < 0.0 < verdict.effect_ci[1]


# --- the verdict record ------------------------------------------------------------------


def test_verdict_to_dict_is_json_ready_and_complete() -> None:
    verdict = compare(SLOWER, FASTER, direction="minimize", look=2, min_effect=0.01)
    data = verdict.to_dict()
    assert list(data) == [
        "kind", "reason", "policy", "direction", "statistic", "threshold",
        "nominal_threshold", "p_value", "alpha", "effect", "effect_ci", "look",
        "baseline", "candidate", "reference_digest", "candidate_digest", "worse",
    ]  # fmt: skip
    text = json.dumps(data, allow_nan=False)
    back = json.loads(text)
    assert back["baseline"] == {
        "n": 5, "mean": pytest.approx(1.002), "median": 1.0,
        "stdev": pytest.approx(stats.tstd(SLOWER)), "min": 0.98, "max": 1.03,
    }  # fmt: skip
    assert back["look"] == 2
    assert back["effect_ci"] == list(verdict.effect_ci)  # type: ignore[arg-type]


def test_reason_is_one_sentence_with_the_numbers() -> None:
    verdict = compare(SLOWER, FASTER, direction="minimize")
    assert "\n" not in verdict.reason
    for fragment in ("Welch t=", "df", "p=", "alpha", "z=+", "look 1", "effect +", "CI"):
        assert fragment in verdict.reason


def test_values_near_the_float_limits_do_not_overflow() -> None:
    base = [1.5e308, 1.6e308, 1.55e308]
    cand = [1.0e308, 1.05e308, 0.95e308]
    for policy in POLICIES:
        verdict = compare(base, cand, direction="minimize", policy=policy, threshold=1.0)
        assert verdict.kind == "PROMOTE"
        json.dumps(verdict.to_dict(), allow_nan=False)
    tiny = compare([3e-320, 4e-320, 3.5e-320], [1e-320, 1.5e-320, 2e-320], direction="minimize")
    assert tiny.kind == "PROMOTE"


def test_verdict_rejects_unknown_kinds() -> None:
    with pytest.raises(GateError, match="verdict kind 'MAYBE'"):
        Verdict(kind="MAYBE", reason="x")
    assert Verdict(kind="STALE", reason="tree changed").to_dict()["kind"] == "STALE"


def test_public_constants() -> None:
    assert DIRECTIONS == ("minimize", "maximize")
    assert POLICIES == ("sigma", "mann_whitney")


def test_integers_beyond_a_double_are_refused() -> None:
    with pytest.raises(GateError, match=r"baseline\[1\] is inf"):
        compare([1, 10**400], [1, 2], direction="minimize")
