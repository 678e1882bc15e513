"""Calibration of benchstone's statistical gates, by simulation.

For n = 2, 3, 5, 10 runs a side and three noise shapes (normal; lognormal, sigma 0.5;
Pareto, alpha 3) it measures, with the shipped ``benchstone.gates.compare``:

- the false-PROMOTE rate on pure noise at a single look (threshold 2.0), for the
  ``sigma`` and ``mann_whitney`` policies, next to the naive gate (mean difference over
  sqrt(se_b² + se_c²) read as a normal z) that the SPEC describes;
- the false-PROMOTE rate when the candidate is re-run and re-evaluated up to 5 times,
  stopping at the first PROMOTE (ours: candidate runs pooled, look k at alpha·2^-(k-1);
  naive: a fresh batch judged alone each time, as an agent re-rolling would get);
- power at true improvements of 1 and 2 single-run standard deviations, with the exact
  power of the one-sided Welch test (normal noise, by numerical integration) beside it.

Stdlib only (``random.Random`` with a fixed seed per cell, so the table is reproducible
whatever the worker count). Needs benchstone-gates installed. Prints one markdown table.

    python benchmarks/gate_calibration.py [--trials 20000] [--workers 2]
    python benchmarks/gate_calibration.py --sequential [--trials 4000]

``--sequential`` instead calibrates ``bench run --until-decided``: the whole
group-sequential procedure (``sequential_plan`` + ``compare_stage``, pairs added stage by
stage until PROMOTE, REJECT or the budget) on A/A data and at real 10 % and 25 % changes.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from benchstone.gates import compare, compare_stage, sequential_plan
from benchstone.gates._beta import betainc
from benchstone.gates._normal import norm_sf
from benchstone.gates._student_t import t_isf

SEED = 20261127
SIZES = (2, 3, 5, 10)
NOISES = ("normal", "lognormal", "pareto")
THRESHOLD = 2.0
ALPHA = norm_sf(THRESHOLD)  # Φ(-2) ≈ 0.02275
LOOKS = 5
EFFECTS = (1.0, 2.0)  # in single-run standard deviations
POLICIES = ("sigma", "mann_whitney")
GATES = ("naive", *POLICIES)

# Standard deviation of one draw of each noise (for the power effect sizes).
NOISE_SD = {
    "normal": 1.0,
    "lognormal": math.sqrt((math.exp(0.25) - 1.0) * math.exp(0.25)),  # sigma = 0.5
    "pareto": math.sqrt(3.0 / ((3.0 - 1.0) ** 2 * (3.0 - 2.0))),  # alpha = 3, x_m = 1
}
SINGLE_LIMIT = {"normal": 1.15, "lognormal": 1.5, "pareto": 1.5}  # × Φ(-2)
RERUN_LIMIT = 2.0  # × Φ(-2)
POWER_TOLERANCE = 0.05


def draw(noise: str, rng, count: int, shift: float = 0.0) -> list[float]:
    """``count`` runs of a minimize-metric; ``shift`` > 0 makes them better (lower)."""
    if noise == "normal":
        return [rng.gauss(0.0, 1.0) - shift for _ in range(count)]
    if noise == "lognormal":
        return [rng.lognormvariate(0.0, 0.5) - shift for _ in range(count)]
    return [rng.paretovariate(3.0) - shift for _ in range(count)]


def _mean_and_variance(values: list[float]) -> tuple[float, float]:
    mean = math.fsum(values) / len(values)
    return mean, math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)


def naive_promotes(baseline: list[float], candidate: list[float]) -> bool:
    """SPEC's gate: (mean_b - mean_c) / sqrt(se_b² + se_c²) >= 2 read as a normal z."""
    mean_b, var_b = _mean_and_variance(baseline)
    mean_c, var_c = _mean_and_variance(candidate)
    se = math.sqrt(var_b / len(baseline) + var_c / len(candidate))
    return se > 0.0 and (mean_b - mean_c) / se >= THRESHOLD


def ours_promotes(policy: str, baseline: list[float], candidate: list[float], look: int) -> bool:
    verdict = compare(
        baseline, candidate, direction="minimize", policy=policy, threshold=THRESHOLD, look=look
    )
    return verdict.kind == "PROMOTE"


@dataclass(frozen=True)
class Cell:
    noise: str
    n: int
    trials: int


def run_cell(cell: Cell) -> dict[tuple[str, str], float]:
    """Every rate of one (noise, n) cell: {(measure, gate): rate}."""
    import random

    rng = random.Random(f"{SEED}-{cell.noise}-{cell.n}")
    n, trials, noise = cell.n, cell.trials, cell.noise
    hits: dict[tuple[str, str], int] = {}

    def count(measure: str, gate: str, hit: bool) -> None:
        hits[(measure, gate)] = hits.get((measure, gate), 0) + hit

    for _ in range(trials):  # single look, pure noise
        base, cand = draw(noise, rng, n), draw(noise, rng, n)
        count("single", "naive", naive_promotes(base, cand))
        for policy in POLICIES:
            count("single", policy, ours_promotes(policy, base, cand, 1))

    for _ in range(trials):  # re-run up to LOOKS times, stop at the first PROMOTE
        base = draw(noise, rng, n)
        batches = [draw(noise, rng, n) for _ in range(LOOKS)]
        count("rerun", "naive", any(naive_promotes(base, batch) for batch in batches))
        for policy in POLICIES:
            pooled: list[float] = []
            promoted = False
            for look, batch in enumerate(batches, start=1):
                pooled += batch
                if ours_promotes(policy, base, pooled, look):
                    promoted = True
                    break
            count("rerun", policy, promoted)

    for effect in EFFECTS:  # power, single look
        shift = effect * NOISE_SD[noise]
        measure = f"power{effect:g}"
        for _ in range(trials):
            base, cand = draw(noise, rng, n), draw(noise, rng, n, shift)
            count(measure, "naive", naive_promotes(base, cand))
            for policy in POLICIES:
                count(measure, policy, ours_promotes(policy, base, cand, 1))
    return {key: value / trials for key, value in hits.items()}


def exact_welch_power(n: int, effect: float, alpha: float = ALPHA) -> float:
    """Rejection rate of the one-sided Welch test, n a side, normal noise of sd 1, true
    improvement ``effect`` (effect 0: its exact false-PROMOTE rate).

    With S = s_b² + s_c² and R = s_b²/S, (n-1)·S ~ χ²(k), k = 2(n-1), and
    R ~ Beta(a, a), a = (n-1)/2, independently. Welch's df depends on R alone,
    df = (n-1)/(R² + (1-R)²), and the test rejects when D >= c(R)·sqrt(S/n) with
    D ~ N(effect, 2/n) and c(R) = t_isf(alpha, df(R)). So, with V = sqrt((n-1)·S) (a χ
    variable with k degrees of freedom),
        rate = E_R E_V Φ̄(c(R)·V / sqrt(2(n-1)) - effect·sqrt(n/2)).
    R = sin²θ makes the Beta weight smooth on (0, π/2) and V removes the square root at
    S = 0, so a midpoint sum over θ and Simpson over V converge to ~1e-6 on this grid.
    """
    a = (n - 1) / 2.0
    k = 2 * (n - 1)
    log_beta_aa = 2.0 * math.lgamma(a) - math.lgamma(2.0 * a)
    log_chi_norm = math.log(2.0) - (k / 2.0) * math.log(2.0) - math.lgamma(k / 2.0)
    v_max = math.sqrt(k + 40.0 * math.sqrt(2.0 * k) + 40.0)
    v_steps, theta_steps = 1200, 300
    h = v_max / v_steps
    shift = effect * math.sqrt(n / 2.0)
    scale = 1.0 / math.sqrt(2.0 * (n - 1))
    total = 0.0
    for i in range(theta_steps):
        theta = (i + 0.5) * (math.pi / 2.0) / theta_steps
        r = math.sin(theta) ** 2
        log_sin_cos = math.log(math.sin(theta)) + math.log(math.cos(theta))
        weight = 2.0 * math.exp((2.0 * a - 1.0) * log_sin_cos - log_beta_aa)
        c = t_isf(alpha, (n - 1) / (r * r + (1.0 - r) ** 2))
        inner = 0.0
        for j in range(1, v_steps + 1):  # the V = 0 end contributes nothing for k >= 2
            v = j * h
            density = math.exp(log_chi_norm + (k - 1) * math.log(v) - 0.5 * v * v)
            coefficient = 1 if j == v_steps else (4 if j % 2 else 2)
            inner += coefficient * density * norm_sf(c * v * scale - shift)
        total += weight * inner * h / 3.0
    return total * (math.pi / 2.0) / theta_steps


def format_rate(value: float) -> str:
    return f"{value:.4f}"


@dataclass(frozen=True)
class Row:
    measure: str  # key into a cell's rates
    label: str
    target: str
    passed: bool | None  # None: no target on this row


def rows_for(noise: str, n: int, rates: dict[tuple[str, str], float], exact: dict) -> list[Row]:
    """The four rows of one cell, each with its target (if any) judged."""
    ours = [rates[(measure, policy)] for measure in ("single",) for policy in POLICIES]
    limit = SINGLE_LIMIT[noise] * ALPHA
    target = f"≤ {SINGLE_LIMIT[noise]:g}·Φ(−2) = {limit:.4f}"
    if noise == "normal":
        target += f" (exact Welch {exact[(n, 0.0)]:.4f})"
    rows = [Row("single", "false PROMOTE, 1 look", target, all(v <= limit for v in ours))]

    ours = [rates[("rerun", policy)] for policy in POLICIES]
    limit = RERUN_LIMIT * ALPHA
    rows.append(
        Row(
            "rerun",
            f"false PROMOTE, ≤ {LOOKS} re-runs",
            f"≤ {RERUN_LIMIT:g}·Φ(−2) = {limit:.4f}",
            all(v <= limit for v in ours),
        )
    )
    for effect in EFFECTS:
        measure = f"power{effect:g}"
        label = f"power at {effect:g} sd"
        if noise != "normal":
            rows.append(Row(measure, label, "—", None))
        elif n == 5 and effect == 2.0:
            reference = exact[(n, effect)]
            rows.append(
                Row(
                    measure,
                    label,
                    f"sigma within ±{POWER_TOLERANCE:g} of exact Welch {reference:.4f}",
                    abs(rates[(measure, "sigma")] - reference) <= POWER_TOLERANCE,
                )
            )
        else:
            rows.append(Row(measure, label, f"(exact Welch {exact[(n, effect)]:.4f})", None))
    return rows


def build_table(results: dict[tuple[str, int], dict[tuple[str, str], float]]) -> list[str]:
    exact = {(n, e): exact_welch_power(n, e) for n in SIZES for e in (0.0, *EFFECTS)}
    lines = [
        "| noise | n | measure | naive (ref) | sigma | mann_whitney "
        "| target (sigma and mann_whitney) | pass |",
        "|---|---:|---|---:|---:|---:|---|:---:|",
    ]
    missed = 0
    for noise in NOISES:
        for n in SIZES:
            rates = results[(noise, n)]
            for row in rows_for(noise, n, rates, exact):
                measured = " | ".join(format_rate(rates[(row.measure, gate)]) for gate in GATES)
                mark = "—" if row.passed is None else ("✓" if row.passed else "✗")
                missed += row.passed is False
                lines.append(
                    f"| {noise} | {n} | {row.label} | {measured} | {row.target} | {mark} |"
                )
    lines.append("")
    lines.append(f"{missed} target(s) missed.")
    return lines


SEQUENTIAL_MAX_PAIRS = 20
SEQUENTIAL_MIN_PAIRS = 4
SEQUENTIAL_BATCH = 4
SEQUENTIAL_EFFECTS = (0.10, 0.25)  # relative improvements of the mean


def _sequential_draw(noise: str, rng, improvement: float) -> tuple[float, float]:
    """One side-by-side pair of a minimize-metric centred near 1 (cv ~0.5 for lognormal
    and pareto, 0.2 for normal); the candidate is ``improvement`` faster."""
    if noise == "normal":
        base, cand = rng.gauss(1.0, 0.2), rng.gauss(1.0, 0.2)
    elif noise == "lognormal":
        base, cand = rng.lognormvariate(0.0, 0.5), rng.lognormvariate(0.0, 0.5)
    else:
        base, cand = rng.paretovariate(3.0), rng.paretovariate(3.0)
    return base, cand * (1.0 - improvement)


def sequential_trial(policy: str, noise: str, rng, improvement: float) -> tuple[str, int]:
    """One --until-decided procedure: (final kind, pairs used)."""
    plan = sequential_plan(
        threshold=THRESHOLD,
        max_pairs=SEQUENTIAL_MAX_PAIRS,
        min_pairs=SEQUENTIAL_MIN_PAIRS,
        batch=SEQUENTIAL_BATCH,
    )
    base: list[float] = []
    cand: list[float] = []
    for stage, pairs in enumerate(plan.stage_pairs, start=1):
        while len(base) < pairs:
            b, c = _sequential_draw(noise, rng, improvement)
            base.append(b)
            cand.append(c)
        verdict = compare_stage(
            base, cand, plan=plan, stage=stage, direction="minimize", policy=policy
        )
        if verdict.kind != "NEEDS_MORE_DATA":
            return verdict.kind, pairs
    return "NEEDS_MORE_DATA", plan.max_pairs


def clopper_pearson(hits: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Exact binomial interval, by bisection on the regularized incomplete beta."""

    def quantile(q: float, a: float, b: float) -> float:
        low, high = 0.0, 1.0
        for _ in range(60):
            mid = (low + high) / 2.0
            low, high = (mid, high) if betainc(a, b, mid) < q else (low, mid)
        return (low + high) / 2.0

    tail = (1.0 - level) / 2.0
    lower = 0.0 if hits == 0 else quantile(tail, hits, trials - hits + 1)
    upper = 1.0 if hits == trials else quantile(1.0 - tail, hits + 1, trials - hits)
    return lower, upper


def sequential_cell(cell: tuple[str, str, int]) -> list[str]:
    import random

    policy, noise, trials = cell
    rng = random.Random(f"{SEED}-sequential-{policy}-{noise}")
    aa = [sequential_trial(policy, noise, rng, 0.0) for _ in range(trials)]
    promotes = sum(kind == "PROMOTE" for kind, _ in aa)
    low, high = clopper_pearson(promotes, trials)
    mean_pairs = sum(pairs for _, pairs in aa) / trials
    power = []
    for effect in SEQUENTIAL_EFFECTS:
        runs = [sequential_trial(policy, noise, rng, effect) for _ in range(trials // 4)]
        hits = sum(kind == "PROMOTE" for kind, _ in runs)
        pairs = sum(n for _, n in runs) / len(runs)
        power.append(f"{hits / len(runs):.3f} ({pairs:.1f} pairs)")
    ok = low <= ALPHA
    return [
        policy,
        noise,
        f"{ALPHA:.4f}",
        f"{promotes / trials:.4f} [{low:.4f}, {high:.4f}]",
        f"{mean_pairs:.1f}",
        *power,
        "yes" if ok else "**no**",
    ]


def sequential_main(trials: int, workers: int) -> int:
    started = time.perf_counter()
    cells = [(policy, noise, trials) for policy in POLICIES for noise in NOISES]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        rows = list(pool.map(sequential_cell, cells))
    elapsed = time.perf_counter() - started
    print(
        f"Sequential (--until-decided) calibration: {trials} A/A procedures per row "
        f"({trials // 4} per effect), stages at {SEQUENTIAL_MIN_PAIRS}, "
        f"{SEQUENTIAL_MIN_PAIRS + SEQUENTIAL_BATCH}, ... {SEQUENTIAL_MAX_PAIRS} pairs, "
        f"threshold {THRESHOLD:g}, seed {SEED}, {elapsed:.0f} s."
    )
    print()
    header = [
        "policy", "noise", "nominal alpha", "false PROMOTE [95% CP]", "mean pairs (A/A)",
        "power at 10%", "power at 25%", "<= alpha",
    ]  # fmt: skip
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0 if all(row[-1] == "yes" for row in rows) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20_000, help="trials per cell and measure")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument(
        "--sequential", action="store_true", help="calibrate the --until-decided procedure"
    )
    args = parser.parse_args(argv)
    if args.trials < 1 or args.workers < 1:
        parser.error("--trials and --workers must be >= 1")
    if args.sequential:
        return sequential_main(args.trials, args.workers)
    started = time.perf_counter()
    cells = [Cell(noise, n, args.trials) for noise in NOISES for n in SIZES]
    # Biggest cells first, so the two workers finish together.
    order = sorted(cells, key=lambda cell: -cell.n)
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        outcomes = dict(zip(order, pool.map(run_cell, order), strict=True))
    results = {(cell.noise, cell.n): outcomes[cell] for cell in cells}
    lines = build_table(results)
    elapsed = time.perf_counter() - started
    print(
        f"Gate calibration: {args.trials} trials per cell and measure, seed {SEED}, "
        f"threshold {THRESHOLD:g} (Φ(−2) = {ALPHA:.5f}), minimize, {args.workers} worker(s), "
        f"{elapsed:.0f} s."
    )
    print()
    print("\n".join(lines))
    return 0 if lines[-1].startswith("0 ") else 1


if __name__ == "__main__":
    sys.exit(main())
