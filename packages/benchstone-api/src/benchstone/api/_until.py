"""``bench run --until-decided``: add pairs until the gate decides or the budget is spent.

The stopping rule is the gates' group-sequential design (``sequential_plan`` /
``compare_stage``, docs/gates.md "Repetitions until decided"): stages at the manifest's
repetitions, then every further ``repetitions`` pairs up to ``max_pairs``, each stage
testing at its share of the alpha an O'Brien-Fleming-type spending function allows, so
that the whole procedure promotes pure noise with probability at most the gate's alpha at
this look. The procedure is one look: each stage's verdict goes through the ordinary
evaluation path, which records the decided one (with its stage, so that evaluating the
same runs later applies the same rule instead of a fresh full-alpha test).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from benchstone.api._batch import DispatchPlan
from benchstone.api._context import ProjectContext
from benchstone.api._errors import ApiError
from benchstone.api._evaluate import window_verdict
from benchstone.api._sidebyside import run_pairs, window_arms
from benchstone.api._verdicts import Decision
from benchstone.api._windows import SequentialStage
from benchstone.gates import sequential_plan
from benchstone.runner import BenchmarkSpec, Manifest
from benchstone.store import Run, Store

#: Without --max-repetitions, the budget is this many times the manifest's repetitions.
DEFAULT_BUDGET_FACTOR = 4
#: The gate's floor: fewer pairs than this can never be decided.
MIN_PAIRS = 2


@dataclass(frozen=True)
class Stages:
    """The stage sizes of one procedure, in pairs."""

    min_pairs: int
    batch: int
    max_pairs: int

    def at(self, stage: int) -> SequentialStage:
        return SequentialStage(self.min_pairs, self.batch, self.max_pairs, stage)

    @property
    def stage_pairs(self) -> tuple[int, ...]:
        # The stage sizes do not depend on the look (only their alphas do).
        plan = sequential_plan(
            threshold=1.0, max_pairs=self.max_pairs, min_pairs=self.min_pairs, batch=self.batch
        )
        return plan.stage_pairs


def plan_stages(
    spec: BenchmarkSpec, project: str, *, n: int | None, max_repetitions: int | None
) -> Stages:
    """Stages of ``n`` (default: the manifest's repetitions) pairs, up to
    ``max_repetitions`` pairs (default: four stages); refuses what cannot be decided."""
    if not spec.is_stochastic:
        raise ApiError(
            f"{project}/{spec.name}: --until-decided applies to performance and quality "
            f"benchmarks whose runs vary; this one is {spec.tier}"
            + (" and deterministic" if spec.deterministic else "")
        )
    if spec.measurement != "side_by_side":
        raise ApiError(
            f'{project}/{spec.name} sets measurement = "stored": --until-decided adds pairs '
            'measured side by side; remove the key (or set it to "side_by_side") to use it'
        )
    step = spec.repetitions if n is None else n
    if step < MIN_PAIRS:
        raise ApiError(f"-n {step} is below the gate's floor of {MIN_PAIRS} pairs a stage")
    budget = DEFAULT_BUDGET_FACTOR * step if max_repetitions is None else max_repetitions
    if budget < MIN_PAIRS:
        raise ApiError(
            f"--max-repetitions {budget} is below the gate's floor of {MIN_PAIRS} pairs; "
            f"give at least {MIN_PAIRS}"
        )
    first = min(step, budget)
    return Stages(min_pairs=first, batch=first, max_pairs=budget)


def run_until_decided(
    store: Store,
    context: ProjectContext,
    manifest: Manifest,
    spec: BenchmarkSpec,
    plan: DispatchPlan,
    stages: Stages,
    *,
    root: Path,
    allow_dirty: bool,
    job_id: str | None = None,
    on_run=None,
) -> tuple[list[Run], Decision]:
    """Run the window stage by stage; stop at the first decided verdict, at the last
    stage, or when an arm has no ok run (more pairs would not fix a broken runner)."""
    if plan.window is None:
        raise ApiError(
            f"{plan.project}/{plan.benchmark}: --until-decided needs a side-by-side plan"
        )
    sizes = stages.stage_pairs
    runs: list[Run] = []
    done = 0
    with window_arms(store, manifest, spec, plan, root=root) as arms:
        for number, pairs in enumerate(sizes, start=1):
            runs += run_pairs(
                store,
                manifest,
                spec,
                arms,
                window=plan.window,
                seeds=plan.seeds,
                pairs=range(done, pairs),
                job_id=job_id,
                on_run=on_run,
                corpus_from=root,
            )
            done = pairs
            verdict = window_verdict(
                store,
                context,
                spec,
                plan.git_sha,
                window=plan.window,
                sequential=stages.at(number),
                allow_dirty=allow_dirty,
                dirty=plan.git_dirty,
            )
            broken = {r.arm for r in runs if r.status == "ok"} != {"baseline", "candidate"}
            if verdict.kind != "NEEDS_MORE_DATA" or number == len(sizes) or broken:
                break
    decision = Decision(
        verdict=verdict,
        pairs=done,
        stage=number,
        stages=len(sizes),
        max_pairs=stages.max_pairs,
        stage_pairs=sizes,
    )
    return runs, decision
