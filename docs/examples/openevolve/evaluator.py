"""OpenEvolve evaluator for the sorting example: benchstone verdicts as scores.

Stage 1 runs `sorts_correctly` (a wrong program scores 0 and stops there), stage 2 runs
`sort_speed` against its baseline and scores the verdict. Each evaluation is killed after
timeout_seconds, below OpenEvolve's evaluator.timeout in config.yaml.
"""

from benchstone.integrations.openevolve import BenchstoneEvaluator

_judge = BenchstoneEvaluator(
    project="sorting",
    candidate_path="solution.py",
    correctness="sorts_correctly",
    performance="sort_speed",
    timeout_seconds=120,
)

evaluate = _judge.evaluate
evaluate_stage1 = _judge.evaluate_stage1
evaluate_stage2 = _judge.evaluate_stage2
