"""BenchstoneEvaluator called directly, as an evaluator.py's functions are."""

from __future__ import annotations

import pytest
from openevolve.evaluation_result import EvaluationResult

from benchstone.integrations.openevolve import BenchstoneEvaluator, IntegrationError


def judge(sorting, **options) -> BenchstoneEvaluator:
    return BenchstoneEvaluator(
        "sorting",
        "solution.py",
        "sorts_correctly",
        "sort_speed",
        home=sorting.home,
        work_dir=options.pop("work_dir", sorting.work_dir),
        **options,
    )


def test_stage_two_alone_scores_the_verdict_with_its_reason(sorting, tmp_path, candidates):
    path = tmp_path / "fast.py"
    path.write_text(candidates.fast)
    result = judge(sorting, repetitions=3).evaluate_stage2(str(path))
    assert isinstance(result, EvaluationResult)
    assert result.metrics["verdict"] == result.artifacts["verdict"]
    # PROMOTE, or NEEDS_MORE_DATA when the correctness guard finds no PASS at this commit
    # (stage 1 did not run here unless another test committed the same program).
    assert result.metrics["combined_score"] > 0.4
    assert "correct" not in result.metrics
    assert result.artifacts["reason"] and result.artifacts["candidate_sha"]


def test_an_unexpected_failure_is_a_zero_score_never_an_exception(sorting, tmp_path, candidates):
    """OpenEvolve keeps stage 1's metrics when stage 2 raises; so stage 2 must not raise."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    path = tmp_path / "fast.py"
    path.write_text(candidates.fast)
    result = judge(sorting, work_dir=blocker).evaluate_stage2(str(path))
    assert result.metrics == {"combined_score": 0.0}
    assert result.artifacts["error"].startswith("FileExistsError")


def test_a_missing_program_file_scores_zero(sorting, tmp_path):
    result = judge(sorting).evaluate(str(tmp_path / "gone.py"))
    assert result.metrics["combined_score"] == 0.0
    assert "cannot copy the candidate" in result.artifacts["error"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timeout_seconds": 0}, "timeout_seconds 0 must be a positive"),
        ({"kill_grace_seconds": -1}, "kill_grace_seconds -1 must be >= 0"),
        ({"repetitions": 0}, "repetitions 0 must be a whole number >= 1"),
        ({"repetitions": 2.5}, "repetitions 2.5 must be a whole number >= 1"),
    ],
)
def test_bad_numbers_are_refused_when_built(sorting, options, message):
    with pytest.raises(IntegrationError, match=message):
        judge(sorting, **options)


def test_a_work_dir_inside_the_store_is_refused(sorting):
    with pytest.raises(IntegrationError, match="lies inside the benchstone store"):
        judge(sorting, work_dir=sorting.home / "slots")


def test_concurrent_evaluations_use_their_own_slots(sorting, tmp_path, candidates):
    """Two OpenEvolve workers at once: two worktrees, each its own candidate's verdict."""
    from concurrent.futures import ThreadPoolExecutor

    evaluator = judge(sorting)
    paths = []
    for name in ("fast", "wrong"):
        path = tmp_path / f"{name}.py"
        path.write_text(getattr(candidates, name))
        paths.append(str(path))
    with ThreadPoolExecutor(max_workers=2) as pool:
        fast, wrong = pool.map(evaluator.evaluate, paths)
    assert fast.metrics["correct"] == 1.0 and fast.metrics["combined_score"] > 0.4
    assert wrong.metrics["combined_score"] == 0.0 and wrong.metrics["correct"] == 0.0
    assert fast.artifacts["candidate_sha"] != wrong.artifacts["candidate_sha"]
    assert sorted(p.name for p in sorting.work_dir.glob("slot-?")) == ["slot-0", "slot-1"]
