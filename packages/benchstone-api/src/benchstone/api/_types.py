"""Typed results of the API calls: what a script gets back instead of printed lines.

The verdict types live in ``_verdicts`` (what `bench evaluate` needs, and nothing else).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from benchstone.api._row_dicts import baseline_to_dict, reference_to_dict, run_to_dict
from benchstone.store import BaselineEvent, ReferenceEvent, Run

if TYPE_CHECKING:  # the verdict types import the gates; a dispatch report need not
    from benchstone.api._verdicts import Decision


@dataclass(frozen=True)
class BenchmarkInfo:
    """One benchmark of a registered project, as `bench list` shows it."""

    name: str
    tier: str
    metric_direction: str | None
    gate_policy: str
    baseline: BaselineEvent | None
    corpus: str  # n/a | unpinned | ok | drift | missing
    run_count: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tier": self.tier,
            "metric_direction": self.metric_direction,
            "gate_policy": self.gate_policy,
            "baseline": baseline_to_dict(self.baseline),
            "corpus": self.corpus,
            "run_count": self.run_count,
        }


@dataclass(frozen=True)
class ProjectInfo:
    """A registered project: where it lives, its manifest hash, its benchmarks."""

    name: str
    path: str
    manifest_hash: str
    registered_at: str
    benchmarks: tuple[BenchmarkInfo, ...] = ()
    warnings: tuple[str, ...] = ()
    error: str | None = None  # the manifest no longer loads, say why

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "manifest_hash": self.manifest_hash,
            "registered_at": self.registered_at,
            "benchmarks": [b.to_dict() for b in self.benchmarks],
            "warnings": list(self.warnings),
            "error": self.error,
        }


@dataclass(frozen=True)
class DispatchReport:
    """One `bench run` / `bench baseline establish`: the plan and the rows appended."""

    project: str
    benchmark: str
    git_sha: str
    git_dirty: bool
    meta_seed: int | None
    seed_set: str
    runs: tuple[Run, ...]
    baseline: BaselineEvent | None = None  # set by establish_baseline
    # Side by side: the window both arms ran in and the baseline arm's commit; ``runs``
    # then holds both arms' rows in the order they ran.
    window: str | None = None
    baseline_sha: str | None = None
    decision: Decision | None = None  # set by --until-decided
    warmups: tuple[Run, ...] = ()  # warmup_repetitions, stored before ``runs``, never gated

    @property
    def ok_runs(self) -> tuple[Run, ...]:
        return tuple(r for r in self.runs if r.status == "ok")

    @property
    def measurement(self) -> str:
        return "side_by_side" if self.window is not None else "stored"

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "benchmark": self.benchmark,
            "git_sha": self.git_sha,
            "git_dirty": self.git_dirty,
            "meta_seed": self.meta_seed,
            "seed_set": self.seed_set,
            "measurement": self.measurement,
            "window": self.window,
            "baseline_sha": self.baseline_sha,
            "runs": [run_to_dict(r) for r in self.runs],
            "ok": len(self.ok_runs),
            "errors": len(self.runs) - len(self.ok_runs),
            "baseline": baseline_to_dict(self.baseline),
            "until_decided": self.decision.to_dict() if self.decision is not None else None,
            "warmups": [run_to_dict(r) for r in self.warmups],
        }


@dataclass(frozen=True)
class ReferenceReport:
    """A frozen or replaced correctness reference and the run whose bytes it holds.

    ``previous`` is the reference a replacement superseded (None for a freeze), so a script
    can log "old -> new" without a second query.
    """

    project: str
    benchmark: str
    event: ReferenceEvent
    run: Run
    previous: ReferenceEvent | None = None

    @property
    def digest(self) -> str:
        return self.event.digest

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "benchmark": self.benchmark,
            "action": self.event.action,
            "digest": self.event.digest,
            "previous_digest": self.previous.digest if self.previous else None,
            "run_id": self.run.id,
            "git_sha": self.run.git_sha,
            "git_dirty": self.run.git_dirty,
            "reason": self.event.reason,
            "notes": self.event.notes,
            "created_at": self.event.created_at,
            "event": reference_to_dict(self.event),
            "previous": reference_to_dict(self.previous),
        }


@dataclass(frozen=True)
class ScaffoldReport:
    """What `bench init` wrote: the files, the benchmarks they declare, what to do next."""

    project: str
    root: str
    runner: str  # "python" | "shell"
    files: tuple[str, ...]  # paths relative to root, in the order they were written
    benchmarks: tuple[str, ...]
    next_steps: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "root": self.root,
            "runner": self.runner,
            "files": list(self.files),
            "benchmarks": list(self.benchmarks),
            "next_steps": list(self.next_steps),
        }
