"""benchstone.integrations.openevolve: benchstone verdicts as OpenEvolve's evaluator.

OpenEvolve proposes programs and keeps the best-scoring ones; a noisy single timing makes
it keep lucky programs, and an evaluator that hangs stalls a worker. This evaluator
commits each candidate in a worktree of a registered benchstone project, runs the
correctness benchmark (cascade stage 1), then the performance benchmark against the
baseline (stage 2), and turns the verdict into ``combined_score`` (see
:func:`combined_score`), with the verdict's reason as an artifact. Each evaluation is
bounded by its own timeout, after which the measurement is killed.

In an OpenEvolve ``evaluator.py``::

    from benchstone.integrations.openevolve import BenchstoneEvaluator

    _judge = BenchstoneEvaluator("sorting", "solution.py", "sorts_correctly", "sort_speed")
    evaluate, evaluate_stage1, evaluate_stage2 = (
        _judge.evaluate, _judge.evaluate_stage1, _judge.evaluate_stage2
    )
"""

from __future__ import annotations

from benchstone.integrations.openevolve._adapter import (
    DEFAULT_TIMEOUT,
    BenchstoneEvaluator,
    evaluate,
)
from benchstone.integrations.openevolve._errors import IntegrationError
from benchstone.integrations.openevolve._score import combined_score

__all__ = [
    "DEFAULT_TIMEOUT",
    "BenchstoneEvaluator",
    "IntegrationError",
    "combined_score",
    "evaluate",
]
