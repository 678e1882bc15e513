"""The rule for benchmarks declared deterministic: no statistics, one run a side.

A deterministic benchmark gives the same number every time, so one run a side settles
it: PROMOTE iff the candidate is strictly better by at least min_effect. If a side does
vary after all, the rule stays conservative instead of guessing: the candidate's worst
run must beat the baseline's best, and the interval reported is the range of relative
changes over all (baseline, candidate) pairs.
"""

from __future__ import annotations

from ._context import Context
from ._effect import meets_min_effect, min_effect_clause, relative
from ._samples import is_constant, mean
from ._text import NO_GAIN, WORSE, number, percent
from ._verdict import Verdict


def deterministic_verdict(
    context: Context,
    b: list[float],
    c: list[float],
    base: list[float],
    cand: list[float],
    *,
    min_effect: float,
) -> Verdict:
    """``b``/``c`` directed and scaled (larger = better); ``base``/``cand`` as given."""
    centre = mean(b)
    worst_pair = min(c) - max(b)
    best_pair = max(c) - min(b)
    effect = relative(mean(c) - centre, centre)
    low, high = relative(worst_pair, centre), relative(best_pair, centre)
    interval = (low, high) if low is not None and high is not None else None

    varies = not (is_constant(base) and is_constant(cand))
    if varies:
        facts = (
            f"the runs vary although the benchmark is declared deterministic (baseline "
            f"{number(min(base))}..{number(max(base))}, candidate "
            f"{number(min(cand))}..{number(max(cand))}), so the candidate's worst run is "
            "held against the baseline's best"
        )
    else:
        facts = f"candidate {number(cand[0])} against baseline {number(base[0])}"
    clause = min_effect_clause(low, min_effect, "value")
    size = f", a change of {percent(low)}" if low is not None else ""
    # Worse mirrors better: even the candidate's best run loses to the baseline's worst,
    # by at least min_effect.
    worse = best_pair < 0.0 and (min_effect == 0.0 or (high is not None and -high >= min_effect))
    if worst_pair > 0.0 and meets_min_effect(low, min_effect):
        kind, lead = "PROMOTE", "strictly better"
    elif worst_pair > 0.0:
        kind, lead = "REJECT", f"{NO_GAIN} (better but not by min_effect)"
    elif worst_pair == 0.0 and best_pair == 0.0:
        kind, lead = "REJECT", f"{NO_GAIN} (no difference)"
    elif worse:
        kind, lead = "REJECT", f"{WORSE} (strictly worse)"
    else:
        kind, lead = "REJECT", f"{NO_GAIN} (not strictly better)"
    if clause and not clause.startswith(" "):
        clause = f"; {clause}"
    return context.verdict(
        kind,
        f"{lead} ({context.direction}): {facts}{size}{clause}",
        effect=effect,
        effect_ci=interval,
        worse=worse,
    )
