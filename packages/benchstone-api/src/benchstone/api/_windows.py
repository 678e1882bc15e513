"""Reading side-by-side windows back: which rows a verdict compares, and the cross-check.

A side-by-side verdict compares, window by window, the candidate arm at the commit being
evaluated with the baseline arm at the baseline pointer's commit, pooled over every such
window at that code. Rows measured in other sessions (the stored baseline, candidate runs
made without a window) are not compared: they saw another machine. The stored baseline
stays useful as a cross-check: when it and its re-measurement differ beyond noise, the
machine has changed, and the verdict says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from benchstone.api._values import gateable, gated_value
from benchstone.gates import SequentialPlan, compare, sequential_plan
from benchstone.runner import BenchmarkSpec
from benchstone.store import Record, Run, Store

BASELINE, CANDIDATE = "baseline", "candidate"
#: The cross-check is a note, not a decision: the default gate's 2 sigma, in both tails.
CROSS_CHECK_THRESHOLD = 2.0


class WindowRows(Record):
    """The rows of the windows a side-by-side verdict pools, by arm, in id order."""

    windows: tuple[str, ...]
    candidate: tuple[Run, ...]  # candidate arm rows at the evaluated commit, any status
    baseline: tuple[Run, ...]  # baseline arm rows at the pointer's commit, any status


def window_rows(
    store: Store,
    project: str,
    benchmark: str,
    *,
    candidate_sha: str,
    baseline_sha: str,
    only: Iterable[str] | None = None,
) -> WindowRows:
    """Every window whose candidate arm measured ``candidate_sha`` and whose baseline arm
    measured ``baseline_sha`` (``only``: just these windows). Warmups are left out."""
    wanted = None if only is None else set(only)
    at_sha = [
        r
        for r in store.runs(project, benchmark, git_sha=candidate_sha, newest_first=False)
        if r.git_sha == candidate_sha
        and r.arm == CANDIDATE
        and r.window is not None
        and (wanted is None or r.window in wanted)
    ]
    windows: list[str] = []
    candidate: list[Run] = []
    baseline: list[Run] = []
    for window in dict.fromkeys(r.window for r in at_sha):
        rows = store.runs(project, benchmark, window=window, newest_first=False)
        arm = [r for r in rows if r.arm == BASELINE and r.git_sha == baseline_sha]
        if not arm:
            continue  # measured against another baseline commit
        windows.append(window)
        baseline.extend(r for r in arm if not r.warmup)
        candidate.extend(r for r in at_sha if r.window == window and not r.warmup)
    return WindowRows(tuple(windows), tuple(candidate), tuple(baseline))


def cross_check(
    spec: BenchmarkSpec, stored: list[Run], remeasured: list[Run], *, baseline_sha: str
) -> str | None:
    """A note when the stored baseline and its re-measurement differ beyond noise.

    The benchmark's gate at 2 sigma, both tails: "better" or "significantly worse" means
    the same commit measures differently now. The verdict does not depend on it (it
    compares same-window runs); it tells the user the host changed.
    """
    source = spec.metric_source
    old = [gated_value(r, source) for r in stored if gateable(r, source)]
    new = [gated_value(r, source) for r in remeasured if gateable(r, source)]
    if len(old) < 2 or len(new) < 2:
        return None
    check = compare(
        old,
        new,
        direction=spec.metric_direction or "minimize",
        policy=spec.gate_policy,
        threshold=CROSS_CHECK_THRESHOLD,
    )
    if check.kind != "PROMOTE" and not check.worse:
        return None
    assert check.baseline is not None and check.candidate is not None
    return (
        f"the stored baseline at {baseline_sha[:10]} (n={check.baseline.n}, "
        f"mean={check.baseline.mean:.6g}) and its re-measurement side by side "
        f"(n={check.candidate.n}, mean={check.candidate.mean:.6g}) differ beyond noise "
        f"(z={check.statistic:+.2f}): this host measures that commit differently now than "
        "when the baseline was stored; the verdict compares same-window runs only"
    )


class SequentialStage(Record):
    """Stage ``stage`` of an ``--until-decided`` procedure, as the evaluation records it
    (so that judging the same runs again reproduces the same verdict)."""

    min_pairs: int
    batch: int
    max_pairs: int
    stage: int

    def plan(self, *, threshold: float, look: int) -> SequentialPlan:
        return sequential_plan(
            threshold=threshold,
            look=look,
            max_pairs=self.max_pairs,
            min_pairs=self.min_pairs,
            batch=self.batch,
        )

    @classmethod
    def from_details(cls, details: Mapping[str, Any]) -> SequentialStage | None:
        """The stage an evaluation row's ``details`` recorded, or None for a fixed test."""
        data = details.get("sequential")
        if not isinstance(data, Mapping):
            return None
        try:
            return cls(
                **{key: int(data[key]) for key in ("min_pairs", "batch", "max_pairs", "stage")}
            )
        except (KeyError, TypeError, ValueError):
            return None
