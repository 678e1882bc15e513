"""A side-by-side window on Slurm: one job, one task, one ``--exclusive`` node.

The local window (api._sidebyside) interleaves the two arms on this host. On a cluster the
pairing only holds if both arms share the machine too, so the whole window is one array
task: its slots are every pair in ``pair_order`` (both arms of pair i with one seed), run
in that order by one node worker in one allocation, with the node to itself. The
``[slurm]`` keys ``repetitions_per_task`` and ``max_parallel`` spread independent
repetitions and therefore do not apply to a window.

The baseline arm needs a checkout of the baseline pointer's commit that the node can see:
a locked worktree (``open_locked_worktree``, the local arm's, made under another parent)
in the job's own spool directory, which the sandbox hides from the candidate arm like the
rest of the spool. It lives exactly as long as the job: removed when the last row is
ingested (finished or cancelled) and on every error path of the submission.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchstone.api._batch import DispatchPlan
from benchstone.api._job_process import plan_from_dict, plan_to_dict
from benchstone.api._node_spec import Slot
from benchstone.api._sidebyside import arm_plan, open_locked_worktree, pair_order
from benchstone.runner import Manifest, remove_worktree
from benchstone.store import LockEvent, Store


def window_layout(window: str, seeds: Sequence[int]) -> tuple[tuple[Slot, ...], ...]:
    """The one task of a window: pair i's two arms in ``pair_order(window, i)``, seed i."""
    return (
        tuple(
            Slot(pair, seed, arm)
            for pair, seed in enumerate(seeds)
            for arm in pair_order(window, pair)
        ),
    )


def prepare_baseline(
    store: Store,
    lock: LockEvent,
    manifest: Manifest,
    plan: DispatchPlan,
    *,
    root: Path,
    directory: Path,
) -> dict[str, Any]:
    """Make the baseline arm's worktree in the job's spool ``directory``; what the job
    record keeps of it (its path, and the plan its rows record)."""
    assert plan.baseline_sha is not None
    path, state = open_locked_worktree(store, lock, root, plan.baseline_sha, parent=directory)
    try:
        baseline = arm_plan(plan, path, state, manifest)
    except BaseException:
        remove_worktree(root, path)
        raise
    return {"baseline_root": str(path), "baseline_plan": plan_to_dict(baseline)}


def baseline_plan(info: Mapping[str, Any], source: str) -> DispatchPlan | None:
    """The baseline arm's plan a window job's record keeps, or None for another job."""
    data = info.get("baseline_plan")
    return None if data is None else plan_from_dict(data, source)


def remove_worktrees(info: Mapping[str, Any], root: Path) -> None:
    """Remove the worktrees a job made in the spool (a window's baseline arm, an --at-sha
    checkout), if still there; git forgets them in the job's ``repository``."""
    repository = Path(str(info.get("repository") or root))
    for key in ("baseline_root", "checkout_root"):
        path = info.get(key)
        if path and Path(str(path)).exists():
            remove_worktree(repository, Path(str(path)))
