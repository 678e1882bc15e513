from __future__ import annotations

import pytest

from benchstone.api import ApiError
from benchstone.api._seeds import fresh_seeds, new_meta_seed, plan_seeds


def test_fresh_seeds_are_deterministic_distinct_and_31_bit():
    seeds = fresh_seeds(4427, 50)
    assert seeds == fresh_seeds(4427, 50)
    assert len(set(seeds)) == 50
    assert all(0 <= s < 2**31 for s in seeds)
    assert fresh_seeds(4427, 3) == seeds[:3]
    assert fresh_seeds(4428, 3) != seeds[:3]


def test_meta_seed_range():
    for _ in range(100):
        assert 0 <= new_meta_seed() < 2**63
    fresh_seeds(2**63 - 1, 1)
    with pytest.raises(ApiError, match="out of range"):
        fresh_seeds(2**63, 1)
    with pytest.raises(ApiError, match="integer"):
        fresh_seeds(True, 1)


def test_plan_baseline_uses_manifest_seeds():
    assert plan_seeds(
        seed_set="baseline", baseline_seeds=(7, 8, 9), repetitions=5, count=None, meta_seed=None
    ) == ((7, 8, 9), None)
    assert plan_seeds(
        seed_set="baseline", baseline_seeds=(7, 8, 9), repetitions=5, count=2, meta_seed=None
    ) == ((7, 8), None)
    with pytest.raises(ApiError, match="more baseline seeds"):
        plan_seeds(seed_set="baseline", baseline_seeds=(7,), repetitions=5, count=2, meta_seed=None)
    with pytest.raises(ApiError, match="fresh seed set only"):
        plan_seeds(seed_set="baseline", baseline_seeds=(7,), repetitions=5, count=None, meta_seed=3)


def test_plan_fresh_uses_repetitions_and_meta_seed():
    seeds, meta = plan_seeds(
        seed_set="fresh", baseline_seeds=(1, 2), repetitions=4, count=None, meta_seed=99
    )
    assert meta == 99 and seeds == fresh_seeds(99, 4)
    seeds, meta = plan_seeds(
        seed_set="fresh", baseline_seeds=(1, 2), repetitions=4, count=6, meta_seed=None
    )
    assert len(seeds) == 6 and 0 <= meta < 2**63
    with pytest.raises(ApiError, match="at least 1"):
        plan_seeds(seed_set="fresh", baseline_seeds=(), repetitions=4, count=0, meta_seed=None)
    with pytest.raises(ApiError, match="unknown"):
        plan_seeds(seed_set="lucky", baseline_seeds=(), repetitions=4, count=1, meta_seed=None)
