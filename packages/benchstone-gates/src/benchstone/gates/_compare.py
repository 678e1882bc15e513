"""`compare`: one call from two samples of runs to a verdict.

The order of the checks is the contract: no baseline, then too few runs, then the
deterministic rule, then two constant sides, then the policy's test. Everything after
the floors works on *directed* samples (multiplied by -1 for minimize, so larger is
always better) divided by one common power of two (so nothing overflows and no ratio
changes).
"""

from __future__ import annotations

from collections.abc import Iterable

from ._context import Context
from ._deterministic import deterministic_verdict
from ._effect import meets_min_effect, min_effect_clause, relative, relative_interval
from ._evidence import Evidence
from ._mann_whitney import hodges_lehmann, minimum_p, runs_needed
from ._options import check_options
from ._rank import rank_evidence
from ._samples import as_values, common_exponent, is_constant, median, scaled
from ._summary import Summary
from ._text import NO_GAIN, WORSE, number, percent, probability, runs
from ._verdict import Verdict
from ._welch import sigma_evidence
from ._zscale import alpha_at_look, threshold_at_look

_POLICY_LABEL = {"sigma": "sigma (Welch t)", "mann_whitney": "Mann-Whitney"}


def compare(
    baseline: Iterable[float],
    candidate: Iterable[float],
    *,
    direction: str,
    policy: str = "sigma",
    threshold: float = 2.0,
    min_effect: float = 0.0,
    look: int = 1,
    min_baseline: int = 2,
    min_candidate: int = 2,
    deterministic: bool = False,
) -> Verdict:
    """PROMOTE only when the candidate is better beyond what noise explains at this look.

    ``baseline`` and ``candidate`` are the metric values of the ok runs (all candidate
    runs at the SHA, pooled); ``look`` is how many times this candidate has now been
    evaluated against this baseline pointer, counting this one.
    """
    check_options(
        direction=direction,
        policy=policy,
        threshold=threshold,
        min_effect=min_effect,
        look=look,
        min_baseline=min_baseline,
        min_candidate=min_candidate,
        deterministic=deterministic,
    )
    base = as_values(baseline, "baseline")
    cand = as_values(candidate, "candidate")
    nominal = float(threshold)
    wanted = float(min_effect)
    alpha = alpha_at_look(nominal, look)
    context = Context(
        policy="deterministic" if deterministic else policy,
        direction=direction,
        look=look,
        baseline=Summary.of_checked(base) if base else None,
        candidate=Summary.of_checked(cand) if cand else None,
        threshold=None if deterministic else threshold_at_look(nominal, look, alpha),
        nominal_threshold=None if deterministic else nominal,
        alpha=None if deterministic else alpha,
    )

    if not base:
        return context.verdict(
            "NO_BASELINE", "there are no baseline runs to compare with; establish a baseline first"
        )
    need_b, need_c = (1, 1) if deterministic else (max(min_baseline, 2), max(min_candidate, 2))
    if len(base) < need_b or len(cand) < need_c:
        label = "deterministic" if deterministic else _POLICY_LABEL[policy]
        return context.verdict(
            "NEEDS_MORE_DATA",
            f"the {label} gate needs at least {runs(need_b)} of baseline and "
            f"{runs(need_c)} of candidate; it has {len(base)} and {len(cand)}",
        )

    sign = 1.0 if direction == "maximize" else -1.0
    exponent = common_exponent(base, cand)
    b = scaled(base, exponent, sign)
    c = scaled(cand, exponent, sign)

    if deterministic:
        return deterministic_verdict(context, b, c, base, cand, min_effect=wanted)
    if is_constant(base) and is_constant(cand):
        return _constant_verdict(context, b[0], c[0], base[0], cand[0], min_effect=wanted)
    if policy == "mann_whitney":
        smallest = minimum_p(len(b), len(c))
        if smallest > alpha:
            return _unreachable_verdict(context, b, c, smallest)
        evidence = rank_evidence(b, c, alpha)
    else:
        evidence = sigma_evidence(b, c, alpha)
    return _stochastic_verdict(context, evidence, min_effect=wanted)


def _constant_verdict(
    context: Context, b: float, c: float, base_value: float, cand_value: float, *, min_effect: float
) -> Verdict:
    """Both sides without any spread: there is no noise to test against, so the
    difference (or its absence) is certain; no variance is divided by."""
    shift = c - b
    effect = relative(shift, b)
    interval = (effect, effect) if effect is not None else None
    if shift == 0.0:
        return context.verdict(
            "REJECT",
            f"{NO_GAIN} (no difference): every baseline and candidate run is {number(base_value)}",
            effect=effect,
            effect_ci=interval,
        )
    better = shift > 0.0
    size = f"a {percent(effect)}" if effect is not None else "an"
    facts = (
        f"every baseline run is {number(base_value)} and every candidate run is "
        f"{number(cand_value)} (no spread on either side), "
        f"{size} {'improvement' if better else 'regression'}"
    )
    clause = min_effect_clause(effect, min_effect, "value")
    if better and meets_min_effect(effect, min_effect):
        kind, lead = "PROMOTE", "certainly better"
    elif better:
        kind, lead = "REJECT", f"{NO_GAIN} (better but below min_effect)"
    else:
        kind, lead = "REJECT", f"{WORSE} (certainly: no noise to explain it)"
    return context.verdict(
        kind,
        f"{lead}: {facts}{_attach(clause)}",
        effect=effect,
        effect_ci=interval,
        worse=not better,
    )


def _attach(clause: str) -> str:
    """Join a min_effect clause: comparisons read on (" >= ..."), sentences after ";"."""
    if not clause or clause.startswith(" "):
        return clause
    return f"; {clause}"


def _unreachable_verdict(
    context: Context, b: list[float], c: list[float], smallest: float
) -> Verdict:
    """NEEDS_MORE_DATA when no arrangement of this many runs could reach alpha."""
    alpha = context.alpha
    assert alpha is not None
    per_side, candidates = runs_needed(alpha, len(b))
    shift, _ = hodges_lehmann(b, c, alpha)
    effect = relative(shift, median(b))
    so_far = (
        f"; the Hodges-Lehmann effect so far is {percent(effect)}" if effect is not None else ""
    )
    return context.verdict(
        "NEEDS_MORE_DATA",
        f"with {len(b)} baseline and {len(c)} candidate runs the smallest possible one-sided "
        f"Mann-Whitney p is {probability(smallest)} > alpha {probability(alpha)} at look "
        f"{context.look}, so no result could PROMOTE; it takes {per_side} runs a side (or "
        f"{candidates} candidate runs against these {len(b)} baseline runs){so_far}",
        effect=effect,
    )


def _stochastic_verdict(context: Context, evidence: Evidence, *, min_effect: float) -> Verdict:
    alpha, z_k = context.alpha, context.threshold
    assert alpha is not None and z_k is not None
    significant = evidence.p_value <= alpha
    # The regression tail of the same test at the same alpha: with the PROMOTE tail it
    # makes the two-sided test whose each side is alpha (both cannot hold for alpha < 1/2).
    worse = evidence.p_lower <= alpha
    effect = relative(evidence.shift, evidence.centre)
    interval = relative_interval(evidence.shift_ci, evidence.centre)
    if worse:
        test_text = (
            f"{evidence.test}, regression-side p={probability(evidence.p_lower)} "
            f"<= alpha {probability(alpha)} "
            f"(z={evidence.statistic:+.2f} vs -{z_k:.2f} at look {context.look})"
        )
    else:
        test_text = (
            f"{evidence.test}, one-sided p={probability(evidence.p_value)} "
            f"{'<=' if significant else '>'} alpha {probability(alpha)} "
            f"(z={evidence.statistic:+.2f} vs {z_k:.2f} at look {context.look})"
        )
    effect_text = ""
    if effect is not None:
        effect_text = f"effect {percent(effect)}"
        if interval is not None:
            level = 1.0 - 2.0 * alpha
            effect_text += f" ({level:.1%} CI {percent(interval[0])} to {percent(interval[1])})"
    clause = min_effect_clause(effect, min_effect, evidence.centre_name)
    effect_text = effect_text + clause if effect_text else clause
    if significant and meets_min_effect(effect, min_effect):
        kind, lead = "PROMOTE", "candidate is better"
    elif significant and effect is None:
        kind, lead = "REJECT", f"{NO_GAIN} (significant but of undefined size)"
    elif significant:
        kind, lead = "REJECT", f"{NO_GAIN} (significant but below min_effect)"
    elif worse:
        kind, lead = "REJECT", WORSE
    else:
        kind, lead = "REJECT", NO_GAIN
    return context.verdict(
        kind,
        f"{lead}: {test_text}; {effect_text}",
        statistic=evidence.statistic,
        p_value=evidence.p_value,
        effect=effect,
        effect_ci=interval,
        worse=worse,
    )
