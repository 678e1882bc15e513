"""Repetitions until decided: a group-sequential stopping rule over pairs of runs.

The harness measures baseline and candidate side by side, one pair per repetition, and
asks the gate after each *stage* (a batch of pairs). Every stage is a look at the same
data, so each may spend only part of the one-sided alpha: the Lan-DeMets
O'Brien-Fleming-type spending function f(t) = 2·Φ(-Φ⁻¹(1-α/2)/√t), t = n_k/N_max the
information fraction, gives the cumulative alpha allowed by stage k, and stage k tests at
α_k = f(t_k) - (alpha already spent). By the union bound the chance that pure noise
PROMOTEs at any stage is at most Σ α_k = f(1) = α, whatever the correlation of the
stages' statistics and however discrete the test (Mann-Whitney included): each stage's
test is a valid level-α_k test on its own. The last stage spends exactly what is left.

Early REJECT (futility) only ever ends a procedure that might still have PROMOTEd, so it
can only lower the false-PROMOTE rate: it fires when the candidate is significantly worse
at the plan's alpha, or when min_effect > 0 and the improvement's upper confidence bound
(at the plan's level) is below it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass

from ._compare import compare
from ._errors import GateError
from ._normal import norm_isf, norm_sf
from ._text import probability
from ._verdict import Verdict
from ._zscale import MAX_THRESHOLD, alpha_at_look

_SMALLEST_STAGE_ALPHA = norm_sf(MAX_THRESHOLD)  # below this a stage cannot PROMOTE


def obrien_fleming_spent(alpha: float, fraction: float) -> float:
    """Cumulative one-sided alpha the O'Brien-Fleming-type spending function allows at
    information fraction ``fraction`` (0 < fraction <= 1); exactly ``alpha`` at 1."""
    if fraction >= 1.0:
        return alpha
    return min(alpha, 2.0 * norm_sf(norm_isf(alpha / 2.0) / math.sqrt(fraction)))


@dataclass(frozen=True)
class SequentialPlan:
    """The stages of one ``--until-decided`` procedure and the alpha each may spend.

    ``stage_pairs[k-1]`` is the cumulative number of pairs at stage k; ``stage_alphas``
    the one-sided rate stage k tests at (0 where the spending function allows less than
    a double can carry: that stage can only continue or stop early with REJECT), and
    ``stage_thresholds`` the matching normal z (None for those stages). The alphas sum to
    ``alpha``, the threshold's Φ(-z) at this ``look``.
    """

    threshold: float
    look: int
    alpha: float
    max_pairs: int
    min_pairs: int
    batch: int
    stage_pairs: tuple[int, ...]
    stage_alphas: tuple[float, ...]
    stage_thresholds: tuple[float | None, ...]

    @property
    def stages(self) -> int:
        return len(self.stage_pairs)

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def _count(name: str, value: object, least: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise GateError(f"{name} {value!r} must be an integer >= {least}")
    return value


def sequential_plan(
    *, threshold: float, look: int = 1, max_pairs: int, min_pairs: int = 2, batch: int = 1
) -> SequentialPlan:
    """Stages at min_pairs, min_pairs+batch, ... up to max_pairs (the last one clipped)."""
    if not isinstance(threshold, (int, float)) or isinstance(threshold, bool):
        raise GateError(f"threshold {threshold!r} must be a number (a one-sided normal z)")
    if not 0.0 < float(threshold) <= MAX_THRESHOLD:
        raise GateError(f"threshold {threshold!r} must be > 0 and <= {MAX_THRESHOLD:g}")
    look = _count("look", look, 1)
    min_pairs = _count("min_pairs", min_pairs, 2)
    max_pairs = _count("max_pairs", max_pairs, min_pairs)
    batch = _count("batch", batch, 1)
    alpha = alpha_at_look(float(threshold), look)
    pairs = [*range(min_pairs, max_pairs, batch), max_pairs]
    alphas: list[float] = []
    spent = 0.0
    for index, n in enumerate(pairs):
        if index == len(pairs) - 1:
            share = alpha - spent  # the last stage spends exactly what is left
        else:
            share = obrien_fleming_spent(alpha, n / max_pairs) - spent
        share = share if share >= _SMALLEST_STAGE_ALPHA else 0.0
        alphas.append(share)
        spent += share
    return SequentialPlan(
        threshold=float(threshold),
        look=look,
        alpha=alpha,
        max_pairs=max_pairs,
        min_pairs=min_pairs,
        batch=batch,
        stage_pairs=tuple(pairs),
        stage_alphas=tuple(alphas),
        stage_thresholds=tuple(norm_isf(a) if a > 0.0 else None for a in alphas),
    )


def compare_stage(
    baseline: Iterable[float],
    candidate: Iterable[float],
    *,
    plan: SequentialPlan,
    stage: int,
    direction: str,
    policy: str = "sigma",
    min_effect: float = 0.0,
) -> Verdict:
    """The verdict after stage ``stage`` (1-based) of ``plan``.

    PROMOTE when the stage's boundary is crossed; REJECT when futile (see the module) or
    when the budget is spent; otherwise NEEDS_MORE_DATA whose reason begins "continue".
    Either side may have fewer runs than the stage's pairs (failed repetitions): a test
    on fewer runs is still valid at its level. More would be data from a later stage.
    """
    if not isinstance(plan, SequentialPlan):
        raise GateError(f"plan {plan!r} must be a SequentialPlan (from sequential_plan)")
    if not isinstance(stage, int) or isinstance(stage, bool) or not 1 <= stage <= plan.stages:
        raise GateError(f"stage {stage!r} must be an integer from 1 to {plan.stages}")
    base, cand = list(baseline), list(candidate)
    pairs = plan.stage_pairs[stage - 1]
    for name, values in (("baseline", base), ("candidate", cand)):
        if len(values) > pairs:
            raise GateError(
                f"{name} has {len(values)} runs but stage {stage} of the plan has {pairs} pairs"
            )
    stage_alpha = plan.stage_alphas[stage - 1]
    boundary = plan.stage_thresholds[stage - 1]
    common = {"direction": direction, "policy": policy, "min_effect": min_effect}
    overall = compare(base, cand, threshold=norm_isf(plan.alpha), **common)
    at_stage = (
        compare(base, cand, threshold=boundary, **common) if boundary is not None else overall
    )
    last = stage == plan.stages
    where = (
        f"stage {stage} of {plan.stages} ({pairs} pairs, "
        + (
            f"boundary z={boundary:.2f}, stage alpha {probability(stage_alpha)}"
            if boundary is not None
            else "no alpha to spend at this stage"
        )
        + f" of {probability(plan.alpha)})"
    )
    fields = {"look": plan.look, "nominal_threshold": plan.threshold}
    if boundary is not None and at_stage.kind == "PROMOTE":
        return dataclasses.replace(at_stage, reason=f"{where}: {at_stage.reason}", **fields)
    upper = overall.effect_ci[1] if overall.effect_ci is not None else None
    futile = overall.worse or (min_effect > 0.0 and upper is not None and upper < min_effect)
    if overall.kind == "REJECT" and futile and not last:
        why = "early REJECT" if overall.worse else "early REJECT, upper bound below min_effect"
        return dataclasses.replace(overall, reason=f"{overall.reason} ({why} at {where})", **fields)
    if not last:
        more = plan.stage_pairs[stage] - pairs
        return dataclasses.replace(
            at_stage,
            kind="NEEDS_MORE_DATA",
            worse=False,
            reason=f"continue: not decided at {where}; add {more} pairs ({at_stage.reason})",
            **fields,
        )
    # The budget is spent: a regression at the plan's alpha is said so; otherwise the
    # last stage's own verdict (REJECT, or NEEDS_MORE_DATA if no test was possible).
    final = overall if overall.kind == "REJECT" and overall.worse else at_stage
    return dataclasses.replace(final, reason=f"{final.reason} (budget spent at {where})", **fields)
