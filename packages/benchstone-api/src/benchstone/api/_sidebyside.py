"""Side-by-side measurement: both commits timed in one window, in pairs of random order.

A stored baseline was timed in another session, on a machine that has drifted since (a
neighbour, the governor, the page cache), and the gate's arithmetic cannot see through
that: it assumes independent repetitions. So for host timings the baseline pointer's
commit is measured again, *now*, next to the candidate: a temporary git worktree of it
(under the hidden runs directory, out of the candidate's reach) with the locked evaluator
written over it, and the two arms interleaved one pair at a time. Which arm runs first in
a pair is a coin seeded by the window id and the pair index, so slow drift within the
window cancels out and the order can be recomputed from the rows (``pair_order``).
Both arms of pair i use the same seed and read the same verified corpus.
"""

from __future__ import annotations

import contextlib
import random
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from benchstone.api._batch import DispatchPlan, _run_repetition, run_warmups
from benchstone.api._errors import ApiError
from benchstone.api._lock import content_digest, materialize, require_lock
from benchstone.api._setup import run_setup
from benchstone.runner import (
    BenchmarkSpec,
    GitState,
    Manifest,
    RunnerError,
    add_worktree,
    git_state,
    manifest_affinity,
    remove_worktree,
    runs_dir,
    tracked_digest,
)
from benchstone.store import LockEvent, Run, Store

BASELINE, CANDIDATE = "baseline", "candidate"
WINDOW_PREFIX = "w"


def new_window() -> str:
    """A fresh window id: ``w`` and 16 hex digits of a random 64-bit seed (the OS CSPRNG,
    so code under test cannot predict which arm runs first)."""
    return f"{WINDOW_PREFIX}{secrets.randbits(64):016x}"


def pair_order(window: str, pair: int) -> tuple[str, str]:
    """The arms of pair ``pair`` (0-based) of ``window``, in the order they run.

    A fair coin per pair, from a generator seeded by the window id and the pair index
    (``random.Random`` hashes a string seed with SHA-512: the same in every process), so
    the rows of a window say, with their ids, whether the harness followed it.
    """
    coin = random.Random(f"benchstone-pair-order-v1:{window}:{pair}").random()
    return (BASELINE, CANDIDATE) if coin < 0.5 else (CANDIDATE, BASELINE)


@dataclass(frozen=True)
class Arm:
    """One side of a window: which checkout runs, and the provenance its rows record."""

    name: str  # baseline | candidate
    root: Path
    plan: DispatchPlan
    # Hidden harness paths this arm's repetitions must reach: its own worktree.
    reachable: tuple[Path, ...] = ()
    # Its warmup_repetitions, run once per window before the first pair (api._batch).
    warmups: tuple[Run, ...] = ()


@contextlib.contextmanager
def locked_worktree(
    store: Store, lock: LockEvent, root: Path, sha: str, *, hidden: bool = True
) -> Iterator[tuple[Path, GitState]]:
    """A temporary worktree of ``sha`` with the locked evaluator written over it, and the
    commit's git state read before that (the lock's files are not the commit's changes).

    ``hidden``: under the runs directory, which every sealed repetition has hidden, so
    only the repetitions that measure it get it mounted back (a side-by-side arm must be
    out of the other arm's reach). Removed on every way out; messages naming a path
    inside it name ``<root>@<sha>`` instead, since that path is gone when they are read.
    """
    path, state = open_locked_worktree(
        store, lock, root, sha, parent=runs_dir() if hidden else None
    )
    try:
        with _named_after(root, sha, path):
            yield path, state
    finally:
        remove_worktree(root, path)


def open_locked_worktree(
    store: Store, lock: LockEvent, root: Path, sha: str, *, parent: Path | None
) -> tuple[Path, GitState]:
    """:func:`locked_worktree` that outlives the call: made under ``parent`` (a Slurm
    job's spool directory, the one place its node can see), removed by the caller with
    ``remove_worktree`` — here only when it cannot be made whole."""
    path = add_worktree(root, sha, parent=parent)
    try:
        with _named_after(root, sha, path):
            state = git_state(path)
            materialize(store, lock, path)
    except BaseException:
        remove_worktree(root, path)
        raise
    return path, state


@contextlib.contextmanager
def _named_after(root: Path, sha: str, path: Path) -> Iterator[None]:
    """Errors naming the temporary ``path`` name ``<root>@<sha>`` instead."""
    try:
        yield
    except (ApiError, RunnerError) as exc:
        text = str(exc).replace(str(path), f"{root}@{sha[:10]}")
        if text == str(exc):
            raise
        raise type(exc)(text) from None


def arm_plan(
    template: DispatchPlan, root: Path, state: GitState, manifest: Manifest
) -> DispatchPlan:
    """The plan of an arm measured in the worktree ``root``: ``template``'s seeds, corpus
    and window, with that commit's provenance."""
    tracked = tracked_digest(root, manifest.project.tracked_paths)
    return replace(
        template,
        git_sha=state.sha,
        git_dirty=False,
        diff_path=None,
        tracked_digest=tracked,
        content_digest=content_digest(root, state.sha, dirty=False, tracked=tracked),
    )


@contextlib.contextmanager
def window_arms(
    store: Store, manifest: Manifest, spec: BenchmarkSpec, plan: DispatchPlan, *, root: Path
) -> Iterator[dict[str, Arm]]:
    """The candidate arm (the checkout at ``root``, as planned) and the baseline arm (a
    locked worktree of ``plan.baseline_sha``), each built by ``project.setup`` once."""
    if plan.window is None or plan.baseline_sha is None:
        raise ApiError(f"{plan.project}/{plan.benchmark}: this dispatch is not side by side")
    lock = require_lock(store, plan.project, root)
    with locked_worktree(store, lock, root, plan.baseline_sha) as (path, state):
        baseline = Arm(BASELINE, path, arm_plan(plan, path, state, manifest), (path,))
        candidate = Arm(CANDIDATE, root, plan)
        build(store, manifest, spec, (candidate, baseline), project_root=root)
        arms = {BASELINE: baseline, CANDIDATE: candidate}
        cpus = manifest_affinity(manifest, spec)
        for name, arm in arms.items():
            warmed = run_warmups(
                store,
                manifest,
                spec,
                arm.plan,
                root=arm.root,
                cpus=cpus,
                window=plan.window,
                arm=name,
                corpus_from=root,
                reachable=arm.reachable,
            )
            arms[name] = replace(arm, warmups=warmed)
        yield arms


def build(
    store: Store,
    manifest: Manifest,
    spec: BenchmarkSpec,
    arms: Sequence[Arm],
    *,
    project_root: Path,
) -> None:
    """``project.setup`` in each arm's checkout, before the window's first repetition."""
    for arm in arms:
        where = (
            str(arm.root) if arm.root == project_root else f"{project_root}@{arm.plan.git_sha[:10]}"
        )
        run_setup(
            store,
            manifest,
            project=arm.plan.project,
            benchmark=spec.name,
            root=arm.root,
            label=arm.name,
            where=where,
            reachable=arm.reachable,
        )


def run_pairs(
    store: Store,
    manifest: Manifest,
    spec: BenchmarkSpec,
    arms: dict[str, Arm],
    *,
    window: str,
    seeds: Sequence[int],
    pairs: range,
    job_id: str | None = None,
    on_run: Callable[[Run], None] | None = None,
    corpus_from: Path | None = None,
) -> list[Run]:
    """Run pairs ``pairs`` of ``window`` (indices into ``seeds``), each in its coin's order;
    one row per repetition, committed as it ends. ``repetition_total`` is the planned pairs."""
    runs = []
    cpus = manifest_affinity(manifest, spec)
    for index in pairs:
        for name in pair_order(window, index):
            arm = arms[name]
            run = _run_repetition(
                store,
                manifest,
                spec,
                arm.plan,
                root=arm.root,
                seed=seeds[index],
                index=index,
                total=len(seeds),
                job_id=job_id,
                window=window,
                arm=name,
                corpus_from=corpus_from,
                reachable=arm.reachable,
                cpus=cpus,
            )
            runs.append(run)
            if on_run is not None:
                on_run(run)
    return runs
