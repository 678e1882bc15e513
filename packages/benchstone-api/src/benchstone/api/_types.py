"""Typed results of the API calls: what a script gets back instead of printed lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from benchstone.api._exit_codes import exit_code_for
from benchstone.api._row_dicts import baseline_to_dict, reference_to_dict, run_to_dict
from benchstone.gates import Verdict as GateVerdict
from benchstone.store import BaselineEvent, ReferenceEvent, Run


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

    @property
    def ok_runs(self) -> tuple[Run, ...]:
        return tuple(r for r in self.runs if r.status == "ok")

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "benchmark": self.benchmark,
            "git_sha": self.git_sha,
            "git_dirty": self.git_dirty,
            "meta_seed": self.meta_seed,
            "seed_set": self.seed_set,
            "runs": [run_to_dict(r) for r in self.runs],
            "ok": len(self.ok_runs),
            "errors": len(self.runs) - len(self.ok_runs),
            "baseline": baseline_to_dict(self.baseline),
        }


@dataclass(frozen=True)
class Verdict:
    """A gate outcome with the context it was computed in.

    ``kind`` is what scripts branch on; ``gate`` carries the numbers; the rest says which
    runs were compared, at which SHAs, and which look this was.
    """

    kind: str
    reason: str
    project: str
    benchmark: str
    tier: str
    gate: GateVerdict
    candidate_sha: str
    baseline_sha: str | None = None
    baseline_event_id: int | None = None
    baseline_run_ids: tuple[int, ...] = ()
    candidate_run_ids: tuple[int, ...] = ()
    evaluation_id: int | None = None
    new_look: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)
    metric_source: str | None = None  # what the gate read (performance and quality)

    @property
    def worse(self) -> bool | None:
        """For a REJECT: True when the candidate is significantly worse (a regression),
        False when it is merely no significant improvement (True, too, when the correctness
        guard rejected wrong output); None for other kinds. A CI
        regression gate branches on this instead of parsing statistics."""
        if self.kind != "REJECT":
            return None
        if self.gate.kind != "REJECT":
            return True  # the correctness guard: faster but wrong output is a regression
        return getattr(self.gate, "worse", None)

    @property
    def interval_level(self) -> float | None:
        """The confidence level of ``gate.effect_ci`` (two-sided at twice the look's alpha,
        matching the one-sided test), or None when there is no interval."""
        gate = self.gate
        if gate.effect_ci is None or gate.alpha is None:
            return None
        level = getattr(gate, "interval_level", None)
        return level if level is not None else 1.0 - 2.0 * gate.alpha

    @property
    def exit_code(self) -> int:
        return exit_code_for(self.kind)

    @property
    def look(self) -> int:
        return self.gate.look

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "exit_code": self.exit_code,
            "reason": self.reason,
            "project": self.project,
            "benchmark": self.benchmark,
            "tier": self.tier,
            "candidate_sha": self.candidate_sha,
            "baseline_sha": self.baseline_sha,
            "baseline_event_id": self.baseline_event_id,
            "baseline_run_ids": list(self.baseline_run_ids),
            "candidate_run_ids": list(self.candidate_run_ids),
            "evaluation_id": self.evaluation_id,
            "new_look": self.new_look,
            "worse": self.worse,
            "metric_source": self.metric_source,
            "interval_level": self.interval_level,
            "notes": list(self.notes),
            "gate": self.gate.to_dict(),
        }


@dataclass(frozen=True)
class PromoteReport:
    """A moved baseline pointer and the verdict that allowed it."""

    verdict: Verdict
    baseline: BaselineEvent
    forced: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.to_dict(),
            "baseline": baseline_to_dict(self.baseline),
            "forced": self.forced,
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
