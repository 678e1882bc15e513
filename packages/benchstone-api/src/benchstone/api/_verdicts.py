"""The verdict of `bench evaluate` and the report of `bench promote`, as typed results.

Apart from ``_types`` so that the hottest command of an agent loop builds only the two
result types it returns.
"""

from __future__ import annotations

from typing import Any

from benchstone.api._exit_codes import exit_code_for
from benchstone.api._row_dicts import baseline_to_dict
from benchstone.gates import Verdict as GateVerdict
from benchstone.store import BaselineEvent, Record


class Verdict(Record):
    """A gate outcome with the context it was computed in.

    ``kind`` is what scripts branch on; ``gate`` carries the numbers; the rest says which
    runs were compared, at which SHAs, and which look this was.
    """

    kind: str
    reason: str
    project: str
    benchmark: str
    tier: str
    gate: GateVerdict
    candidate_sha: str
    baseline_sha: str | None = None
    baseline_event_id: int | None = None
    baseline_run_ids: tuple[int, ...] = ()
    candidate_run_ids: tuple[int, ...] = ()
    evaluation_id: int | None = None
    new_look: bool = False
    notes: tuple[str, ...] = ()
    metric_source: str | None = None  # what the gate read (performance and quality)
    # "side_by_side": the baseline is the re-measured arm of these windows; "stored": the
    # pointer's runs. None for correctness verdicts.
    measurement: str | None = None
    windows: tuple[str, ...] = ()
    # The --until-decided stage that judged these runs (api._windows.SequentialStage).
    sequential: dict[str, Any] | None = None

    @property
    def worse(self) -> bool | None:
        """For a REJECT: True when the candidate is significantly worse (a regression),
        False when it is merely no significant improvement (True, too, when the correctness
        guard rejected wrong output); None for other kinds. A CI
        regression gate branches on this instead of parsing statistics."""
        if self.kind != "REJECT":
            return None
        if self.gate.kind != "REJECT":
            return True  # the correctness guard: faster but wrong output is a regression
        return getattr(self.gate, "worse", None)

    @property
    def interval_level(self) -> float | None:
        """The confidence level of ``gate.effect_ci`` (two-sided at twice the look's alpha,
        matching the one-sided test), or None when there is no interval."""
        gate = self.gate
        if gate.effect_ci is None or gate.alpha is None:
            return None
        level = getattr(gate, "interval_level", None)
        return level if level is not None else 1.0 - 2.0 * gate.alpha

    @property
    def exit_code(self) -> int:
        return exit_code_for(self.kind)

    @property
    def look(self) -> int:
        return self.gate.look

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "exit_code": self.exit_code,
            "reason": self.reason,
            "project": self.project,
            "benchmark": self.benchmark,
            "tier": self.tier,
            "candidate_sha": self.candidate_sha,
            "baseline_sha": self.baseline_sha,
            "baseline_event_id": self.baseline_event_id,
            "baseline_run_ids": list(self.baseline_run_ids),
            "candidate_run_ids": list(self.candidate_run_ids),
            "evaluation_id": self.evaluation_id,
            "new_look": self.new_look,
            "worse": self.worse,
            "metric_source": self.metric_source,
            "interval_level": self.interval_level,
            "notes": list(self.notes),
            "measurement": self.measurement,
            "windows": list(self.windows),
            "sequential": self.sequential,
            "gate": self.gate.to_dict(),
        }


class PromoteReport(Record):
    """A moved baseline pointer and the verdict that allowed it."""

    verdict: Verdict
    baseline: BaselineEvent
    forced: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.to_dict(),
            "baseline": baseline_to_dict(self.baseline),
            "forced": self.forced,
        }


class Decision(Record):
    """How an ``--until-decided`` procedure ended: its last verdict and what it took.

    ``pairs`` pairs ran (``repetitions`` = 2 x pairs) out of at most ``max_pairs``;
    the verdict is the one of stage ``stage`` of ``stages``.
    """

    verdict: Verdict
    pairs: int
    stage: int
    stages: int
    max_pairs: int
    stage_pairs: tuple[int, ...]

    @property
    def repetitions(self) -> int:
        return 2 * self.pairs

    @property
    def decided(self) -> bool:
        return self.verdict.kind in ("PROMOTE", "REJECT")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.verdict.kind,
            "decided": self.decided,
            "pairs": self.pairs,
            "repetitions": self.repetitions,
            "stage": self.stage,
            "stages": self.stages,
            "max_pairs": self.max_pairs,
            "stage_pairs": list(self.stage_pairs),
            "verdict": self.verdict.to_dict(),
        }
