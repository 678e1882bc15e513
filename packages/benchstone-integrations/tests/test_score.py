"""combined_score: verdict order first, effect second, in the documented bands."""

from __future__ import annotations

import math

import pytest

from benchstone.integrations.openevolve import combined_score
from benchstone.integrations.openevolve._score import squash


def verdict(kind, effect=None, low=None, worse=False):
    ci = None if low is None else [low, (effect or 0.0) * 2 - low]
    return {"kind": kind, "worse": worse, "gate": {"effect": effect, "effect_ci": ci}}


def test_bands_keep_the_verdict_order_whatever_the_effect():
    promote = [combined_score(verdict("PROMOTE", e, low=e / 10)) for e in (0.001, 0.5, 50.0)]
    more = [combined_score(verdict("NEEDS_MORE_DATA", e)) for e in (-5.0, 0.0, 5.0)]
    flat = [combined_score(verdict("REJECT", e)) for e in (-5.0, 0.0, 5.0)]
    worse = [combined_score(verdict("REJECT", e, worse=True)) for e in (-50.0, -0.1, 0.0)]
    assert min(promote) >= 0.75 > 0.5 > max(more)
    assert min(more) > 0.4 > 0.35 > max(flat)
    assert min(flat) > 0.25 > 0.15 > max(worse)
    assert min(worse) > 0.0
    assert all(score < 1.0 for score in promote)


def test_promote_ranks_by_the_improvement_it_is_sure_of():
    sure_small = combined_score(verdict("PROMOTE", 0.12, low=0.10))
    noisy_big = combined_score(verdict("PROMOTE", 0.20, low=0.05))
    assert sure_small > noisy_big
    assert combined_score(verdict("PROMOTE", 0.3, low=0.2)) > sure_small
    # No interval: the effect itself; a low end below 0 counts as no sure improvement.
    assert combined_score(verdict("PROMOTE", 0.2)) == pytest.approx(0.75 + 0.25 * squash(0.2))
    assert combined_score(verdict("PROMOTE", 0.2, low=-0.1)) == 0.75


def test_within_a_band_more_improvement_scores_more():
    for kind, worse in (("NEEDS_MORE_DATA", False), ("REJECT", False), ("REJECT", True)):
        scores = [combined_score(verdict(kind, e, worse=worse)) for e in (-0.5, -0.1, 0, 0.1)]
        assert scores == sorted(scores) and len(set(scores)) == 4


@pytest.mark.parametrize("kind", ["NO_BASELINE", "STALE", "PASS", "FAIL", "NO_REFERENCE", None])
def test_verdicts_a_performance_gate_cannot_rank_score_zero(kind):
    assert combined_score(verdict(kind, 0.5)) == 0.0


def test_missing_or_non_finite_numbers_do_not_break_the_score():
    assert combined_score({"kind": "NEEDS_MORE_DATA", "gate": {}}) == 0.45
    assert combined_score(verdict("REJECT", math.nan)) == 0.30
    assert combined_score({"kind": "PROMOTE"}) == 0.75


def test_squash_is_odd_bounded_and_half_way_at_ten_percent():
    assert squash(0.1) == pytest.approx(0.5)
    assert squash(-0.1) == pytest.approx(-0.5)
    assert -1 < squash(-1e9) < squash(0) == 0 < squash(1e9) < 1
