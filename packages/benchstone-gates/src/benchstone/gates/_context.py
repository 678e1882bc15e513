"""The fields every verdict of one `compare` call shares, in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._summary import Summary
from ._verdict import Verdict


@dataclass(frozen=True)
class Context:
    policy: str
    direction: str
    look: int
    baseline: Summary | None
    candidate: Summary | None
    threshold: float | None = None  # the z at this look
    nominal_threshold: float | None = None
    alpha: float | None = None  # the one-sided rate at this look

    def verdict(self, kind: str, reason: str, **evidence: Any) -> Verdict:
        return Verdict(
            kind=kind,
            reason=reason,
            policy=self.policy,
            direction=self.direction,
            threshold=self.threshold,
            nominal_threshold=self.nominal_threshold,
            alpha=self.alpha,
            look=self.look,
            baseline=self.baseline,
            candidate=self.candidate,
            **evidence,
        )
