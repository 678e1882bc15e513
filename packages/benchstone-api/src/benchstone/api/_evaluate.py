"""Verdicts (`bench evaluate`) and moving the baseline pointer (`bench promote`).

Evaluate is read-only with respect to results: it appends only an evaluation row, which is
how looks are counted. Look k at one candidate SHA against one baseline pointer spends
alpha * 2^-(k-1), so re-running a candidate until it passes cannot buy a PROMOTE. All ok
candidate runs at the SHA are pooled: there is no choosing the lucky batch. Re-evaluating
the very same runs is not a new look and returns the same verdict.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchstone.api._context import ProjectContext, load_project
from benchstone.api._errors import ApiError, PromotionRefused
from benchstone.api._failures import why
from benchstone.api._hosts import host_refusal
from benchstone.api._lock import content_digest
from benchstone.api._values import gateable, gated_value
from benchstone.api._verdicts import PromoteReport, Verdict
from benchstone.api._windows import SequentialStage, cross_check, window_rows
from benchstone.gates import Verdict as GateVerdict
from benchstone.gates import check_artifact, compare, compare_stage
from benchstone.runner import BenchmarkSpec, check_freshness, git_state
from benchstone.store import NewEvaluation, Run, Store

# Verdicts the statistics decided: each distinct candidate run set judged so is one look.
COUNTED_KINDS = ("PROMOTE", "REJECT")


def evaluate(
    project: str,
    benchmark: str,
    *,
    allow_dirty: bool = False,
    checkout: str | Path | None = None,
    home: Path | None = None,
) -> Verdict:
    """The verdict for the project's current SHA against the benchmark's baseline.

    STALE, before any gate, when the runs no longer describe the disk: a dirty tree, a
    drifted corpus, or tracked_paths content other than the candidate runs' (performance
    and quality only; ``allow_dirty`` skips the check). ``checkout`` judges the HEAD of
    that git worktree of the project instead of the registered root's (see :func:`run`).
    """
    with Store.open(home) as store:
        context = load_project(store, project, checkout=checkout)
        spec = context.benchmark(benchmark)
        state = git_state(context.root)
        return _verdict(store, context, spec, state.sha, allow_dirty=allow_dirty, dirty=state.dirty)


def promote(
    project: str,
    benchmark: str,
    *,
    force: bool = False,
    notes: str | None = None,
    meta_seed: int | None = None,
    allow_dirty: bool = False,
    home: Path | None = None,
) -> PromoteReport:
    """Move the baseline pointer to the current SHA's pooled candidate runs.

    The verdict that must be PROMOTE is always the pooled one; ``meta_seed`` only narrows
    which of those runs the new pointer names. ``force`` moves it whatever the verdict says
    (the event records that it was forced).
    """
    with Store.open(home) as store:
        context = load_project(store, project)
        spec = context.benchmark(benchmark)
        if spec.tier == "correctness":
            raise ApiError(
                f"{project}/{benchmark} is a correctness benchmark: it has a reference, not a "
                "baseline; use `bench replace-reference` to change it"
            )
        state = git_state(context.root)
        sha = state.sha
        verdict = _verdict(store, context, spec, sha, allow_dirty=allow_dirty, dirty=state.dirty)
        if verdict.kind != "PROMOTE" and not force:
            raise PromotionRefused(
                f"refusing to promote {project}/{benchmark}: verdict {verdict.kind} "
                f"({verdict.reason})",
                verdict.kind,
                override="; pass --force to move the baseline anyway",
            )
        runs = store.runs(project, benchmark, ids=verdict.candidate_run_ids)
        if meta_seed is not None:
            runs = [r for r in runs if r.meta_seed == meta_seed]
            if not runs:
                raise ApiError(
                    f"no candidate runs of {project}/{benchmark} at {sha[:10]} have "
                    f"meta_seed {meta_seed}"
                )
        if not runs:
            raise ApiError(
                f"{project}/{benchmark}: no ok candidate runs at {sha[:10]} to promote; "
                "run `bench run` first"
            )
        seeds = sorted({r.meta_seed for r in runs if r.meta_seed is not None})
        event = store.set_baseline(
            project,
            benchmark,
            git_sha=sha,
            meta_seed=seeds[0] if len(seeds) == 1 else None,
            run_ids=tuple(sorted(r.id for r in runs)),
            action="promote",
            notes=notes,
            forced=force and verdict.kind != "PROMOTE",
        )
        return PromoteReport(verdict=verdict, baseline=event, forced=event.forced)


def _verdict(
    store: Store,
    context: ProjectContext,
    spec: BenchmarkSpec,
    sha: str,
    *,
    allow_dirty: bool,
    dirty: bool = False,
    windows: tuple[str, ...] | None = None,
    sequential: SequentialStage | None = None,
) -> Verdict:
    if spec.tier == "correctness":
        return _correctness_verdict(store, context, spec, sha, allow_dirty=allow_dirty)
    verdict = _statistical_verdict(
        store,
        context,
        spec,
        sha,
        allow_dirty=allow_dirty,
        dirty=dirty,
        windows=windows,
        sequential=sequential,
    )
    if verdict.kind == "PROMOTE" and spec.requires_correctness:
        verdict = _guard_correctness(store, context, spec, sha, verdict, allow_dirty=allow_dirty)
    return _record_look(store, context, spec, _note_unsealed(store, verdict))


def _note_unsealed(store: Store, verdict: Verdict) -> Verdict:
    """Say so when a compared run ran unsealed (``sandbox = "none"``, or rows from before
    isolation was recorded): its code could have reached the store, so the verdict rests
    on trusting it."""
    ids = (*verdict.baseline_run_ids, *verdict.candidate_run_ids)
    if not ids:
        return verdict
    runs = store.runs(verdict.project, verdict.benchmark, ids=ids, newest_first=False)
    unsealed = [r for r in runs if r.isolation in (None, "none")]
    if not unsealed:
        return verdict
    note = (
        f"{len(unsealed)} of the {len(runs)} compared run(s) ran unsealed (isolation none): "
        "the code under test could reach the store; install bubblewrap and keep "
        'sandbox = "auto" for a verdict it cannot bend'
    )
    return verdict.replace(notes=(*verdict.notes, note))


def window_verdict(
    store: Store,
    context: ProjectContext,
    spec: BenchmarkSpec,
    sha: str,
    *,
    window: str,
    sequential: SequentialStage,
    allow_dirty: bool,
    dirty: bool,
) -> Verdict:
    """The verdict on one window alone at a stage of an ``--until-decided`` procedure;
    recorded as a look when it is decided, like any evaluation."""
    return _verdict(
        store,
        context,
        spec,
        sha,
        allow_dirty=allow_dirty,
        dirty=dirty,
        windows=(window,),
        sequential=sequential,
    )


def arms_verdict(
    context: ProjectContext,
    spec: BenchmarkSpec,
    baseline: list[Run],
    candidate: list[Run],
    *,
    baseline_sha: str,
    candidate_sha: str,
    window: str,
) -> Verdict:
    """The gate on one window's two arms, for `bench compare` (no baseline pointer is
    involved, so no look is recorded: the answer moves nothing)."""
    source = spec.metric_source
    candidates = [r for r in candidate if _eligible(r, source, allow_dirty=True)]
    base = [r for r in baseline if gateable(r, source)]
    gate = compare(
        [gated_value(r, source) for r in base],
        [gated_value(r, source) for r in candidates],
        direction=spec.metric_direction,
        policy=spec.gate_policy,
        threshold=spec.gate_threshold,
        min_effect=spec.min_effect,
        deterministic=spec.deterministic,
    )
    reason = gate.reason
    if gate.kind in ("NEEDS_MORE_DATA", "NO_BASELINE"):
        failed = _failure_reason(candidate, candidates, allow_dirty=True) or (
            _failure_reason(baseline, base, allow_dirty=True, label="baseline")
        )
        reason = failed or reason
    return Verdict(
        kind=gate.kind,
        reason=reason,
        gate=gate,
        project=context.name,
        benchmark=spec.name,
        tier=spec.tier,
        candidate_sha=candidate_sha,
        baseline_sha=baseline_sha,
        baseline_run_ids=tuple(sorted(r.id for r in base)),
        candidate_run_ids=tuple(sorted(r.id for r in candidates)),
        metric_source=source,
        measurement="side_by_side",
        windows=(window,),
    )


def _eligible(run: Run, metric_source: str, *, allow_dirty: bool) -> bool:
    return gateable(run, metric_source) and (allow_dirty or not run.git_dirty)


def _statistical_verdict(
    store: Store,
    context: ProjectContext,
    spec: BenchmarkSpec,
    sha: str,
    *,
    allow_dirty: bool,
    dirty: bool = False,
    windows: tuple[str, ...] | None = None,
    sequential: SequentialStage | None = None,
) -> Verdict:
    project, benchmark = context.name, spec.name
    source = spec.metric_source
    pointer = store.baseline(project, benchmark)
    side_by_side = spec.measurement == "side_by_side" and pointer is not None
    rows = None
    if side_by_side:
        assert pointer is not None
        rows = window_rows(
            store, project, benchmark, candidate_sha=sha, baseline_sha=pointer.git_sha, only=windows
        )
        at_sha = list(rows.candidate)
    if rows is None:
        at_sha = [
            r
            for r in store.runs(project, benchmark, git_sha=sha, newest_first=False)
            if r.git_sha == sha
            and not r.warmup
            and (pointer is None or r.id not in pointer.run_ids)
        ]
    candidates = [r for r in at_sha if _eligible(r, source, allow_dirty=allow_dirty)]
    candidate_ids = tuple(sorted(r.id for r in candidates))
    common = {
        "project": project,
        "benchmark": benchmark,
        "tier": spec.tier,
        "candidate_sha": sha,
        "candidate_run_ids": candidate_ids,
        "metric_source": source,
        "measurement": "side_by_side" if side_by_side else "stored",
        "windows": rows.windows if rows is not None else (),
    }
    options = {
        "direction": spec.metric_direction,
        "policy": spec.gate_policy,
        "threshold": spec.gate_threshold,
        "min_effect": spec.min_effect,
        "deterministic": spec.deterministic,
    }
    if not allow_dirty:
        stale = _stale_verdict(store, context, spec, candidates, dirty=dirty, common=common)
        if stale is not None:
            return stale
    failed = _failure_reason(at_sha, candidates, allow_dirty=allow_dirty)
    if pointer is None:
        gate = compare([], [gated_value(r, source) for r in candidates], **options)
        reason = failed if failed and gate.kind == "NEEDS_MORE_DATA" else gate.reason
        return Verdict(kind=gate.kind, reason=reason, gate=gate, **common)
    stored = [
        r
        for r in store.runs(project, benchmark, ids=pointer.run_ids, newest_first=False)
        if gateable(r, source)
    ]
    baseline_runs = (
        [r for r in rows.baseline if gateable(r, source)] if rows is not None else stored
    )
    pointer_context = {
        "baseline_sha": pointer.git_sha,
        "baseline_event_id": pointer.id,
        "baseline_run_ids": tuple(sorted(r.id for r in baseline_runs)),
    }
    if rows is not None and not rows.windows:
        # Nothing re-measured yet: the baseline named is the pointer's stored runs.
        pointer_context["baseline_run_ids"] = tuple(sorted(r.id for r in stored))
        reason = _no_window_reason(store, context, spec, sha, pointer.git_sha)
        gate = GateVerdict(kind="NEEDS_MORE_DATA", reason=reason, policy=spec.gate_policy)
        return Verdict(kind=gate.kind, reason=reason, gate=gate, **common, **pointer_context)
    if not baseline_runs:
        reason = (
            f"none of the {len(pointer.run_ids)} baseline run(s) at "
            f"{pointer.git_sha[:10]} holds a {source} measurement; establish a new baseline"
            if rows is None
            else f"none of the {len(rows.baseline)} baseline arm run(s) at "
            f"{pointer.git_sha[:10]} in window(s) {', '.join(rows.windows)} succeeded "
            f"({why(list(rows.baseline))}); fix the runner at that commit or establish a "
            "new baseline"
        )
        kind = "NO_BASELINE" if rows is None else "NEEDS_MORE_DATA"
        if rows is not None and failed:
            reason = f"{failed}; the baseline arm failed too ({why(list(rows.baseline))})"
        gate = GateVerdict(kind=kind, reason=reason, policy=spec.gate_policy)
        return Verdict(kind=gate.kind, reason=reason, gate=gate, **common, **pointer_context)
    changed = _procedure_change(store, context, baseline_runs)
    if changed is not None:
        changed = f"{changed}; {failed}" if failed else changed
        gate = GateVerdict(kind="NO_BASELINE", reason=changed, policy=spec.gate_policy)
        return Verdict(kind=gate.kind, reason=changed, gate=gate, **common, **pointer_context)
    hosts = host_refusal(project, spec, baseline_runs, candidates)
    if hosts is not None:
        gate = GateVerdict(
            kind="NEEDS_MORE_DATA",
            reason=hosts,
            policy=spec.gate_policy,
            direction=spec.metric_direction,
        )
        return Verdict(kind=gate.kind, reason=hosts, gate=gate, **common, **pointer_context)
    content = _content(context, candidates, sha)
    previous = store.evaluations(
        project, benchmark, baseline_event_id=pointer.id, content_digest=content
    )
    same = next((e for e in previous if tuple(sorted(e.run_ids)) == candidate_ids), None)
    look = same.look if same is not None else 1 + len({tuple(sorted(e.run_ids)) for e in previous})
    if same is not None and sequential is None:
        # The same runs judged by an --until-decided procedure: the same rule again, or
        # evaluating its runs afterwards would test them at the full alpha a second time.
        sequential = SequentialStage.from_details(same.details)
    base_values = [gated_value(r, source) for r in baseline_runs]
    cand_values = [gated_value(r, source) for r in candidates]
    if sequential is not None:
        gate = compare_stage(
            base_values,
            cand_values,
            plan=sequential.plan(threshold=spec.gate_threshold, look=look),
            stage=sequential.stage,
            direction=spec.metric_direction,
            policy=spec.gate_policy,
            min_effect=spec.min_effect,
        )
    else:
        gate = compare(base_values, cand_values, look=look, **options)
    notes: tuple[str, ...] = ()
    if rows is not None:
        note = cross_check(spec, stored, baseline_runs, baseline_sha=pointer.git_sha)
        notes = (note,) if note else ()
    return Verdict(
        kind=gate.kind,
        reason=failed if failed and gate.kind == "NEEDS_MORE_DATA" else gate.reason,
        gate=gate,
        evaluation_id=same.id if same is not None else None,
        new_look=same is None and gate.kind in COUNTED_KINDS,
        notes=notes,
        sequential=sequential.to_dict() if sequential is not None else None,
        **common,
        **pointer_context,
    )


def _no_window_reason(
    store: Store, context: ProjectContext, spec: BenchmarkSpec, sha: str, baseline_sha: str
) -> str:
    """NEEDS_MORE_DATA for a side-by-side benchmark without a window: what to run."""
    stored = [
        r
        for r in store.runs(context.name, spec.name, git_sha=sha, newest_first=False)
        if r.git_sha == sha and r.window is None and r.status == "ok"
    ]
    ignored = (
        f"; the {len(stored)} run(s) at {sha[:10]} measured without a window are not compared"
        if stored
        else ""
    )
    return (
        f'{spec.name} is measured side by side (measurement = "side_by_side"), and no window '
        f"measured {sha[:10]} together with the baseline {baseline_sha[:10]}{ignored}; run "
        f"`bench run {context.name} {spec.name}` (it re-measures the baseline next to the "
        "candidate)"
    )


def _content(context: ProjectContext, candidates: list[Run], sha: str) -> str:
    """The candidate code's content, the look counter's key (api._lock.content_digest).

    The runs say what they measured; runs from before content digests were recorded fall
    back to the commit's tree, so an empty commit still counts as the same code.
    """
    recorded = {r.content_digest for r in candidates if r.content_digest}
    if len(recorded) == 1:
        return recorded.pop()
    return content_digest(context.root, sha, dirty=False, tracked=None)


def _procedure_change(store: Store, context: ProjectContext, baseline: list[Run]) -> str | None:
    """Why the baseline cannot be compared: it was measured by another procedure.

    A lock that changed evaluator files or measurement keys makes old numbers a different
    quantity; one that changed only judging keys (thresholds, policy, metric_source)
    applies to them. Rows from before locks existed carry no lock and are compared.
    """
    current = store.lock(context.name)
    if current is None:
        return None
    for run in baseline:
        if run.lock_id is None or run.lock_id == current.id:
            continue
        event = store.lock_event(run.lock_id)
        if event is not None and event.procedure_digest != current.procedure_digest:
            return (
                f"the baseline runs were measured under lock {event.id}, whose procedure "
                f"(evaluator files or measurement keys) differs from the current lock "
                f"{current.id}; establish a new baseline (`bench baseline establish "
                f"{context.name} {run.benchmark}`)"
            )
    return None


def _failure_reason(
    at_sha: list[Run], candidates: list[Run], *, allow_dirty: bool, label: str = "candidate"
) -> str | None:
    """When no candidate run can be gated because they all failed: how many, and why.

    A bare NEEDS_MORE_DATA after five crashed repetitions sends people to run a sixth.
    """
    if candidates:
        return None
    failed = [r for r in at_sha if r.status != "ok" and (allow_dirty or not r.git_dirty)]
    if not failed:
        return None
    return (
        f"all {len(failed)} {label} run(s) at {failed[0].git_sha[:10]} failed "
        f"({why(failed)}); fix the runner "
        "and `bench run` again (`bench history --json` names each run's stderr_log)"
    )


def _record_look(
    store: Store, context: ProjectContext, spec: BenchmarkSpec, verdict: Verdict
) -> Verdict:
    """Append the evaluation row that makes this look count.

    Only verdicts the gate actually decided (PROMOTE / REJECT) spend alpha. The row's kind
    is the verdict returned (after the correctness guard), ``details.gate_kind`` what the
    statistics alone said. The same runs evaluated again are the same look; a row is
    appended again only if the returned kind changed (e.g. a correctness run arrived).
    """
    gate = verdict.gate
    if gate.kind not in COUNTED_KINDS or verdict.baseline_event_id is None:
        return verdict
    ids = tuple(sorted(verdict.candidate_run_ids))
    candidates = store.runs(verdict.project, verdict.benchmark, ids=ids, newest_first=False)
    content = _content(context, candidates, verdict.candidate_sha)
    previous = store.evaluations(
        verdict.project,
        verdict.benchmark,
        baseline_event_id=verdict.baseline_event_id,
        content_digest=content,
    )
    for row in previous:
        if tuple(sorted(row.run_ids)) == ids and row.kind == verdict.kind:
            return verdict.replace(evaluation_id=row.id)
    evaluation = store.append_evaluation(
        NewEvaluation(
            project=verdict.project,
            benchmark=verdict.benchmark,
            baseline_event_id=verdict.baseline_event_id,
            candidate_sha=verdict.candidate_sha,
            content_digest=content,
            run_ids=ids,
            policy=gate.policy or spec.gate_policy,
            statistic=gate.statistic,
            p_value=gate.p_value,
            threshold=gate.threshold,
            look=gate.look,
            kind=verdict.kind,
            reason=verdict.reason,
            details=_details(verdict),
        )
    )
    return verdict.replace(evaluation_id=evaluation.id)


def _details(verdict: Verdict) -> dict[str, Any]:
    """What an evaluation row keeps beyond its columns: the gate's numbers, what the
    statistics alone said, and for side by side the windows and any sequential stage."""
    gate = verdict.gate
    details: dict[str, Any] = dict(gate.to_dict(), gate_kind=gate.kind)
    if verdict.measurement == "side_by_side":
        details["measurement"] = verdict.measurement
        details["windows"] = list(verdict.windows)
    if verdict.sequential is not None:
        details["sequential"] = dict(verdict.sequential)
    return details


def _stale_verdict(
    store: Store,
    context: ProjectContext,
    spec: BenchmarkSpec,
    candidates: list[Run],
    *,
    dirty: bool,
    common: dict[str, Any],
) -> Verdict | None:
    """STALE when the candidate runs no longer describe what is on disk (not a look).

    Checked before any gate: a verdict on runs of code that is not there any more would be
    about nothing. ``--allow-dirty`` skips this whole check.
    """
    freshness = check_freshness(
        context.root,
        context.manifest,
        spec,
        dirty=dirty,
        runs=candidates,
        listings_dir=store.paths.listings,
    )
    if not freshness.stale:
        return None
    gate = GateVerdict(
        kind="STALE",
        reason=freshness.reason,
        policy=spec.gate_policy,
        direction=spec.metric_direction,
    )
    return Verdict(kind="STALE", reason=freshness.reason, gate=gate, **common)


def _correctness_verdict(
    store: Store,
    context: ProjectContext,
    spec: BenchmarkSpec,
    sha: str,
    *,
    allow_dirty: bool,
) -> Verdict:
    """PASS only when every ok run at the SHA produced exactly the reference bytes."""
    project, benchmark = context.name, spec.name
    reference = store.reference(project, benchmark)
    runs = [
        r
        for r in store.runs(project, benchmark, git_sha=sha, newest_first=False)
        if r.git_sha == sha
        and r.status == "ok"
        and not r.warmup
        and r.artifact_digest
        and (allow_dirty or not r.git_dirty)
    ]
    reference_digest = reference.digest if reference else None
    digests = sorted({r.artifact_digest for r in runs})
    mismatched = [d for d in digests if d != reference_digest]
    candidate_digest = (mismatched or digests or [None])[0]
    gate = check_artifact(reference_digest, candidate_digest)
    return Verdict(
        kind=gate.kind,
        reason=gate.reason,
        gate=gate,
        project=project,
        benchmark=benchmark,
        tier=spec.tier,
        candidate_sha=sha,
        baseline_sha=None,
        candidate_run_ids=tuple(r.id for r in runs),
    )


def _guard_correctness(
    store: Store,
    context: ProjectContext,
    spec: BenchmarkSpec,
    sha: str,
    verdict: Verdict,
    *,
    allow_dirty: bool,
) -> Verdict:
    """A faster program that produces wrong output is never promoted."""
    for name in spec.requires_correctness:
        guard_spec = context.benchmark(name)
        guard = _correctness_verdict(store, context, guard_spec, sha, allow_dirty=allow_dirty)
        if guard.kind == "PASS":
            continue
        if guard.kind == "FAIL":
            kind = "REJECT"
            reason = (
                f"correctness benchmark '{name}' FAILs at {sha[:10]} ({guard.reason}); "
                f"{spec.name} would otherwise PROMOTE"
            )
        else:
            kind = "NEEDS_MORE_DATA"
            reason = (
                f"correctness benchmark '{name}' has no PASS at {sha[:10]} ({guard.kind}: "
                f"{guard.reason}); run it, then evaluate again"
            )
        # The gate keeps what the statistics said; the verdict is what the guard decided.
        return verdict.replace(kind=kind, reason=reason)
    return verdict
