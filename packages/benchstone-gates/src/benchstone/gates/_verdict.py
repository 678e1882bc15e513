"""The verdict: what a gate decided, and every number it decided with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._errors import GateError
from ._summary import Summary

VERDICT_KINDS = (
    "PROMOTE",
    "REJECT",
    "NEEDS_MORE_DATA",
    "NO_BASELINE",
    "PASS",
    "FAIL",
    "NO_REFERENCE",
    "STALE",
)


@dataclass(frozen=True)
class Verdict:
    """A categorical outcome for a script, with the evidence for a person.

    ``statistic`` is an equivalent normal z signed so that + means improvement, and
    ``threshold`` the z it had to reach at this look; ``nominal_threshold`` is the
    manifest's value (the look-1 threshold). ``effect`` is the relative change of the
    centre (+ = better) and ``effect_ci`` its interval at the gate's level. ``worse`` is
    True only on a REJECT whose candidate is significantly worse (the regression tail of
    the same test at the same alpha); a REJECT with ``worse`` False is merely "no
    significant improvement".
    """

    kind: str
    reason: str
    policy: str | None = None
    direction: str | None = None
    statistic: float | None = None
    threshold: float | None = None
    nominal_threshold: float | None = None
    p_value: float | None = None
    alpha: float | None = None
    effect: float | None = None
    effect_ci: tuple[float, float] | None = None
    look: int = 1
    baseline: Summary | None = None
    candidate: Summary | None = None
    reference_digest: str | None = None
    candidate_digest: str | None = None
    worse: bool = False

    def __post_init__(self) -> None:
        if self.kind not in VERDICT_KINDS:
            raise GateError(f"verdict kind {self.kind!r} is not one of {', '.join(VERDICT_KINDS)}")
        if self.effect_ci is not None:
            low, high = self.effect_ci
            object.__setattr__(self, "effect_ci", (float(low), float(high)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the same keys in the same order for every kind."""
        return {
            "kind": self.kind,
            "reason": self.reason,
            "policy": self.policy,
            "direction": self.direction,
            "statistic": self.statistic,
            "threshold": self.threshold,
            "nominal_threshold": self.nominal_threshold,
            "p_value": self.p_value,
            "alpha": self.alpha,
            "effect": self.effect,
            "effect_ci": list(self.effect_ci) if self.effect_ci is not None else None,
            "look": self.look,
            "baseline": self.baseline.to_dict() if self.baseline is not None else None,
            "candidate": self.candidate.to_dict() if self.candidate is not None else None,
            "reference_digest": self.reference_digest,
            "candidate_digest": self.candidate_digest,
            "worse": self.worse,
        }
