"""OpenEvolve's ``combined_score`` from a benchstone verdict.

OpenEvolve ranks programs by one number; benchstone answers with a verdict whose kind
already carries the confidence (PROMOTE only when the improvement is significant at the
look's alpha and at least ``min_effect``). The score keeps that order first and the size
of the effect second, in disjoint bands, so a noisy lucky number can never outrank a
program that was shown to be better:

====================================  ==========================================
verdict                                combined_score
====================================  ==========================================
wrong, failed, timed out, no verdict   0
REJECT, significantly worse            0.10 + 0.05·s(effect)    in (0.05, 0.15)
REJECT, no significant improvement     0.30 + 0.05·s(effect)    in (0.25, 0.35)
NEEDS_MORE_DATA                        0.45 + 0.05·s(effect)    in (0.40, 0.50)
PROMOTE                                0.75 + 0.25·s(low)       in [0.75, 1.00)
====================================  ==========================================

``effect`` is the verdict's relative improvement (+ = better, whatever the metric's
direction); ``low`` is the lower end of its interval (at the level of the look's test),
floored at 0: between two PROMOTEs the one *surely* better by more ranks higher.
``s(x) = x / (|x| + 0.1)`` maps any effect monotonically into (-1, 1), half-way at a
10% improvement. "Wrong" means the correctness benchmark did not PASS; "failed" that a
repetition of the candidate errored (a program that crashes sometimes is not faster).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

_HALF = 0.1  # the effect at which s() is half-way to its limit


def squash(x: float) -> float:
    """``x / (|x| + 0.1)``: monotone, odd, into (-1, 1)."""
    return x / (abs(x) + _HALF)


def combined_score(verdict: Mapping[str, Any]) -> float:
    """The score of a performance verdict (``Verdict.to_dict()``), per the table above."""
    gate = verdict.get("gate") or {}
    kind = verdict.get("kind")
    effect = _finite(gate.get("effect"))
    if kind == "PROMOTE":
        interval = gate.get("effect_ci") or (None, None)
        low = _finite(interval[0]) if len(interval) == 2 else None
        sure = max(0.0, low if low is not None else (effect or 0.0))
        return 0.75 + 0.25 * squash(sure)
    if effect is None:
        effect = 0.0
    if kind == "NEEDS_MORE_DATA":
        return 0.45 + 0.05 * squash(effect)
    if kind == "REJECT":
        base = 0.10 if verdict.get("worse") else 0.30
        return base + 0.05 * squash(effect)
    return 0.0  # NO_BASELINE, STALE, or anything a performance gate should not say


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
