"""The repetition loop: one dispatch of a benchmark, one appended row per repetition.

Order of events is what makes the result trustworthy:
1. provenance first (git SHA, dirty refusal, the dirty diff saved 0o600);
2. the corpus verified against its pin before anything runs;
3. each repetition in a private temp dir the project can write, nothing else of ours in
   reach: no store path in its arguments, environment or file descriptors;
4. each row committed as soon as its repetition ends (a killed dispatch keeps the
   repetitions that finished), never holding a database transaction across the subprocess.

``warmup_repetitions`` run first, exactly like measured ones, and are stored with
``warmup`` set: the first runs of a command pay for cold caches, imports and the page
cache, and pyperf's lesson is to keep them (a reader can see the warm-up effect) but
never let a gate read them (``api._values.gateable``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchstone.api._errors import ApiError
from benchstone.api._held_out import held_out_digest
from benchstone.api._job_files import now_utc
from benchstone.api._lock import content_digest
from benchstone.api._repetition import (
    check_output,
    execute_repetition,
    private_dir,
    repetition_row,
    unfrozen,
)
from benchstone.api._seeds import plan_seeds
from benchstone.runner import (
    BenchmarkSpec,
    GitState,
    Manifest,
    git_diff,
    git_state,
    harness_paths,
    manifest_affinity,
    require_corpus,
    tracked_digest,
)
from benchstone.store import Run, Store


@dataclass(frozen=True)
class DispatchPlan:
    """What a dispatch will do, known before the first repetition starts."""

    project: str
    benchmark: str
    git_sha: str
    git_dirty: bool
    diff_path: str | None
    seeds: tuple[int, ...]
    meta_seed: int | None
    seed_set: str
    corpus_digest: str | None
    # The content of project.tracked_paths before the first repetition (see _fresh).
    tracked_digest: str | None = None
    # The lock whose evaluator runs, and the measured code's content (see api._lock).
    lock_id: int | None = None
    content_digest: str | None = None
    # From the manifest, for progress displays that estimate the time left.
    expected_runtime_seconds: float | None = None
    # Side by side (api._sidebyside): the window the pairs run in and the baseline
    # pointer's commit measured as its baseline arm; None for a stored dispatch.
    window: str | None = None
    baseline_sha: str | None = None

    @property
    def repetitions(self) -> int:
        """Repetitions this plan runs: one per seed, two (a pair) side by side."""
        return len(self.seeds) * (2 if self.window is not None else 1)


@dataclass(frozen=True)
class Dispatch:
    """A finished dispatch: its plan, its measured rows in repetition order, and the
    warmup rows that ran before them."""

    plan: DispatchPlan
    runs: tuple[Run, ...]
    warmups: tuple[Run, ...] = ()

    @property
    def ok_runs(self) -> tuple[Run, ...]:
        return tuple(run for run in self.runs if run.status == "ok")


def plan_dispatch(
    store: Store,
    manifest: Manifest,
    spec: BenchmarkSpec,
    *,
    root: Path,
    project: str,
    seed_set: str,
    count: int | None = None,
    meta_seed: int | None = None,
    allow_dirty: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
    lock_id: int | None = None,
    state: GitState | None = None,
) -> DispatchPlan:
    """Check provenance and corpus and choose the seeds; raises ApiError to refuse.

    ``state`` is the commit's git state read before the locked evaluator was written over
    an ``--at-sha`` worktree (those files are the lock's, not the commit's changes).
    """
    state = state if state is not None else git_state(root)
    diff_path = None
    if state.dirty:
        if not allow_dirty:
            raise ApiError(
                f"{root}: the git working tree has uncommitted changes; commit them",
                override=", or pass --allow-dirty to run anyway (the diff is then recorded "
                "with the runs)",
            )
        diff_path = str(_save_diff(store, project, spec.name, state.sha, git_diff(root)))
    manifest_affinity(manifest, spec)  # a CPU this host lacks is refused before any work
    if (
        spec.output_reference is not None
        and store.reference(project, spec.output_reference) is None
    ):
        raise ApiError(unfrozen(project, spec.output_reference))
    if spec.held_out:
        corpus_digest: str | None = held_out_digest(store, project, spec)
    else:
        corpus = require_corpus(root, spec, listings_dir=store.paths.listings, progress=progress)
        corpus_digest = corpus.actual
    tracked = tracked_digest(root, manifest.project.tracked_paths)
    seeds, chosen_meta_seed = plan_seeds(
        seed_set=seed_set,
        baseline_seeds=spec.baseline_seeds,
        repetitions=spec.repetitions,
        count=count,
        meta_seed=meta_seed,
    )
    return DispatchPlan(
        project=project,
        benchmark=spec.name,
        git_sha=state.sha,
        git_dirty=state.dirty,
        diff_path=diff_path,
        seeds=seeds,
        meta_seed=chosen_meta_seed,
        seed_set=seed_set,
        corpus_digest=corpus_digest,
        tracked_digest=tracked,
        lock_id=lock_id,
        content_digest=content_digest(root, state.sha, dirty=state.dirty, tracked=tracked),
        expected_runtime_seconds=spec.expected_runtime_seconds,
    )


def run_dispatch(
    store: Store,
    manifest: Manifest,
    spec: BenchmarkSpec,
    plan: DispatchPlan,
    *,
    root: Path,
    job_id: str | None = None,
    on_run: Callable[[Run], None] | None = None,
) -> Dispatch:
    """Run the warmups, then every repetition of ``plan``; append one row each.

    ``on_run`` sees the measured repetitions only (progress counts what the plan promised).
    """
    cpus = manifest_affinity(manifest, spec)
    warmups = run_warmups(store, manifest, spec, plan, root=root, job_id=job_id, cpus=cpus)
    runs = []
    for run in _each(store, manifest, spec, plan, plan.seeds, root=root, job_id=job_id, cpus=cpus):
        runs.append(run)
        if on_run is not None:
            on_run(run)
    return Dispatch(plan=plan, runs=tuple(runs), warmups=warmups)


def run_warmups(
    store: Store,
    manifest: Manifest,
    spec: BenchmarkSpec,
    plan: DispatchPlan,
    *,
    root: Path,
    job_id: str | None = None,
    cpus: frozenset[int] | None = None,
    **where: Any,
) -> tuple[Run, ...]:
    """The benchmark's ``warmup_repetitions``, each stored as a warmup row.

    A warmup uses the plan's seeds in turn, so it exercises what the measured repetitions
    will; its row is marked ``warmup`` and no gate, count or report reads it as a value.
    ``where`` places it like the repetitions it precedes (a side-by-side arm's ``window``,
    ``arm``, ``corpus_from`` and ``reachable``).
    """
    count = spec.warmup_repetitions if plan.seeds else 0
    seeds = tuple(plan.seeds[index % len(plan.seeds)] for index in range(count))
    return tuple(
        _each(
            store,
            manifest,
            spec,
            plan,
            seeds,
            root=root,
            job_id=job_id,
            cpus=cpus,
            warmup=True,
            **where,
        )
    )


def _each(
    store: Store,
    manifest: Manifest,
    spec: BenchmarkSpec,
    plan: DispatchPlan,
    seeds: tuple[int, ...],
    **options: Any,
) -> Iterator[Run]:
    """One repetition per seed, in order, each row appended before the next starts."""
    for index, seed in enumerate(seeds):
        yield _run_repetition(
            store, manifest, spec, plan, seed=seed, index=index, total=len(seeds), **options
        )


def _run_repetition(
    store: Store,
    manifest: Manifest,
    spec: BenchmarkSpec,
    plan: DispatchPlan,
    *,
    root: Path,
    seed: int,
    index: int,
    total: int,
    job_id: str | None,
    window: str | None = None,
    arm: str | None = None,
    corpus_from: Path | None = None,
    reachable: tuple[Path, ...] = (),
    cpus: frozenset[int] | None = None,
    warmup: bool = False,
) -> Run:
    """The local executor: execute here, then store the artifact and append the row.

    A side-by-side arm passes its ``window`` and ``arm``; ``corpus_from`` is the checkout
    whose (verified) corpus both arms read, and ``reachable`` the hidden harness paths this
    repetition may use (the baseline arm's own worktree lives under the runs directory).
    """
    holding = Path(tempfile.mkdtemp(prefix="artifact-", dir=private_dir(store.paths.tmp)))
    try:
        held_out = None
        if spec.held_out:
            assert plan.corpus_digest is not None  # plan_dispatch checked it
            held_out = store.corpus_path(plan.corpus_digest)
        rep = execute_repetition(
            manifest,
            spec,
            root=root,
            seed=seed,
            index=index,
            total=total,
            logs=store.paths.logs(plan.project, spec.name),
            hidden=harness_paths(store.paths.home),
            holding=holding,
            held_out_corpus=held_out,
            corpus_from=corpus_from,
            reachable=reachable,
            cpus=cpus,
        )
        digest = store.put_artifact(rep.artifact) if rep.artifact is not None else None
        rep = check_output(store, plan.project, spec.output_reference, digest, rep)
        row = repetition_row(
            rep,
            plan,
            metric_source=spec.metric_source,
            manifest_hash=manifest.hash,
            job_id=job_id,
            executor="local",
            artifact_digest=digest,
            window=window,
            arm=arm,
            warmup=warmup,
        )
        return store.append_run(row)
    finally:
        shutil.rmtree(holding, ignore_errors=True)


def _save_diff(store: Store, project: str, benchmark: str, sha: str, diff: bytes) -> Path:
    """Write the dirty diff 0o600 next to the runs it explains (created exclusively)."""
    directory = private_dir(store.paths.diffs(project, benchmark))
    stamp = now_utc().replace(":", "").replace("-", "")
    path = directory / f"{stamp}-{sha[:12]}-{os.getpid()}.diff"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(diff)
    return path
