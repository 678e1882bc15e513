"""`bench compare`: two arbitrary commits measured side by side, judged by the same gate.

"Did this commit help?" is not always a question about the baseline pointer. Both
commits are checked out in temporary worktrees with the locked evaluator written over
them (so the evaluator is the same, whatever each commit holds under ``bench/``), built by
``project.setup``, and run in one window in pairs of random order, exactly like a
side-by-side ``bench run``. REV_A is the window's baseline arm, REV_B its candidate arm.
The rows are ordinary runs: if REV_A is the pointer's commit and REV_B the checkout, a
later ``bench evaluate`` pools this window too. No look is recorded and no pointer moves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchstone.api._batch import DispatchPlan
from benchstone.api._context import load_project
from benchstone.api._errors import ApiError
from benchstone.api._evaluate import arms_verdict
from benchstone.api._job_files import JobFiles
from benchstone.api._job_process import tracked
from benchstone.api._jobs import admit_job, dispatch_summary
from benchstone.api._lock import require_lock
from benchstone.api._row_dicts import run_to_dict
from benchstone.api._seeds import plan_seeds
from benchstone.api._sidebyside import (
    BASELINE,
    CANDIDATE,
    Arm,
    arm_plan,
    build,
    locked_worktree,
    new_window,
    run_pairs,
)
from benchstone.api._types import DispatchReport
from benchstone.api._verdicts import Verdict
from benchstone.runner import load_manifest, require_corpus, resolve_sha
from benchstone.store import Run, Store


@dataclass(frozen=True)
class Comparison:
    """The rows of one `bench compare` window and the verdict on them."""

    project: str
    benchmark: str
    baseline_sha: str  # REV_A
    candidate_sha: str  # REV_B
    window: str
    meta_seed: int | None
    runs: tuple[Run, ...]  # both arms, in the order they ran
    verdict: Verdict

    @property
    def pairs(self) -> int:
        return len({r.repetition for r in self.runs})

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "benchmark": self.benchmark,
            "baseline_sha": self.baseline_sha,
            "candidate_sha": self.candidate_sha,
            "window": self.window,
            "meta_seed": self.meta_seed,
            "pairs": self.pairs,
            "runs": [run_to_dict(r) for r in self.runs],
            "verdict": self.verdict.to_dict(),
        }


def compare_commits(
    project: str,
    benchmark: str,
    rev_a: str,
    rev_b: str,
    *,
    n: int | None = None,
    home: Path | None = None,
    on_plan: Callable[[DispatchPlan], None] | None = None,
    on_run: Callable[[Run], None] | None = None,
) -> Comparison:
    """Measure REV_A (baseline arm) and REV_B (candidate arm) in one window of ``n`` pairs
    (default: the manifest's repetitions) and judge REV_B against REV_A."""
    with Store.open(home) as store:
        context = load_project(store, project)
        lock = require_lock(store, context.name, context.root)
        root = context.root
        sha_a, sha_b = resolve_sha(root, rev_a), resolve_sha(root, rev_b)
        with (
            locked_worktree(store, lock, root, sha_a) as (path_a, state_a),
            locked_worktree(store, lock, root, sha_b) as (path_b, state_b),
        ):
            manifest = load_manifest(path_b)  # the locked manifest, as in every arm
            spec = manifest.benchmark(benchmark)
            if spec.tier == "correctness":
                raise ApiError(
                    f"{context.name}/{spec.name} is a correctness benchmark: its runs are "
                    "judged against a frozen reference, not against another commit"
                )
            # Both arms read the corpus verified in the project's checkout (the pin is
            # the lock's); a corpus git does not track is not in a fresh worktree.
            corpus = require_corpus(root, spec, listings_dir=store.paths.listings)
            seeds, meta_seed = plan_seeds(
                seed_set="fresh",
                baseline_seeds=spec.baseline_seeds,
                repetitions=spec.repetitions,
                count=n,
                meta_seed=None,
            )
            template = DispatchPlan(
                project=context.name,
                benchmark=spec.name,
                git_sha=sha_b,
                git_dirty=False,
                diff_path=None,
                seeds=seeds,
                meta_seed=meta_seed,
                seed_set="fresh",
                corpus_digest=corpus.actual,
                lock_id=lock.id,
                expected_runtime_seconds=spec.expected_runtime_seconds,
                window=new_window(),
                baseline_sha=sha_a,
            )
            arms = {
                BASELINE: Arm(
                    BASELINE, path_a, arm_plan(template, path_a, state_a, manifest), (path_a,)
                ),
                CANDIDATE: Arm(
                    CANDIDATE, path_b, arm_plan(template, path_b, state_b, manifest), (path_b,)
                ),
            }
            record = admit_job(
                store,
                kind="run",
                spec=spec,
                plan=arms[CANDIDATE].plan,
                root=root,
                manifest_hash=manifest.hash,
                background=False,
                options={"compare": [sha_a, sha_b], "n": n},
            )
            with tracked(JobFiles(store.paths.jobs), record.id) as outcome:
                if on_plan is not None:
                    on_plan(arms[CANDIDATE].plan)
                build(store, manifest, spec, tuple(arms.values()), project_root=root)
                assert template.window is not None
                runs = run_pairs(
                    store,
                    manifest,
                    spec,
                    arms,
                    window=template.window,
                    seeds=seeds,
                    pairs=range(len(seeds)),
                    job_id=record.id,
                    on_run=on_run,
                    corpus_from=root,
                )
                outcome.message = dispatch_summary(
                    DispatchReport(
                        project=context.name,
                        benchmark=spec.name,
                        git_sha=sha_b,
                        git_dirty=False,
                        meta_seed=meta_seed,
                        seed_set="fresh",
                        runs=tuple(runs),
                    )
                )
                outcome.run_ids = tuple(r.id for r in runs)
        verdict = arms_verdict(
            context,
            spec,
            [r for r in runs if r.arm == BASELINE],
            [r for r in runs if r.arm == CANDIDATE],
            baseline_sha=sha_a,
            candidate_sha=sha_b,
            window=template.window,
        )
        return Comparison(
            project=context.name,
            benchmark=spec.name,
            baseline_sha=sha_a,
            candidate_sha=sha_b,
            window=template.window,
            meta_seed=meta_seed,
            runs=tuple(runs),
            verdict=verdict,
        )
