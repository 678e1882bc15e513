"""Correctness references: freezing the bytes a benchmark must keep producing.

A reference is the content-addressed artifact of one stored run, never a file the project
hands over at freeze time: the bytes were digested and copied into the store when the run
finished, out of the project's reach. Freezing is once; changing a reference afterwards is
a replacement that must say why, and every freeze and replacement stays in the history.
"""

from __future__ import annotations

from pathlib import Path

from benchstone.api._context import ProjectContext, load_project
from benchstone.api._errors import ApiError
from benchstone.api._types import ReferenceReport
from benchstone.hasher import HasherError
from benchstone.hasher import digest as hash_file
from benchstone.runner import BenchmarkSpec, git_state
from benchstone.store import ReferenceEvent, Run, Store, validate_name


def freeze_reference(
    project: str,
    benchmark: str,
    *,
    from_run: int | None = None,
    notes: str | None = None,
    home: Path | None = None,
) -> ReferenceReport:
    """Freeze the first reference of a correctness benchmark.

    The source is run ``from_run``, or else the latest ok run at the project's current
    HEAD made on a clean tree. Refused when a reference already exists: changing one is
    ``replace_reference``, which needs a reason.
    """
    with Store.open(home) as store:
        context = load_project(store, project)
        spec = _correctness_spec(context, benchmark)
        current = store.reference(context.name, spec.name)
        if current is not None:
            raise ApiError(
                f"{context.name}/{spec.name} already has a reference ({current.digest}, "
                f"{_describe_event(current)}); change it with `bench replace-reference "
                f'{context.name} {spec.name} --reason "..."`'
            )
        run = _source_run(store, context, spec, from_run)
        event = store.set_reference(
            context.name,
            spec.name,
            digest=run.artifact_digest or "",
            run_id=run.id,
            action="freeze",
            notes=notes,
        )
        return ReferenceReport(project=context.name, benchmark=spec.name, event=event, run=run)


def replace_reference(
    project: str,
    benchmark: str,
    *,
    reason: str,
    from_run: int | None = None,
    notes: str | None = None,
    home: Path | None = None,
) -> ReferenceReport:
    """Replace a frozen reference; ``reason`` is mandatory and kept in the history.

    The source run is chosen as for ``freeze_reference``. A replacement by the very same
    bytes is refused: it would add a history entry that changes nothing.
    """
    if not isinstance(reason, str) or not reason.strip():
        raise ApiError(
            f"replacing the reference of {project}/{benchmark} needs a reason: pass "
            '--reason "why the expected output changed" (it is kept in the reference history)'
        )
    with Store.open(home) as store:
        context = load_project(store, project)
        spec = _correctness_spec(context, benchmark)
        previous = store.reference(context.name, spec.name)
        if previous is None:
            raise ApiError(
                f"{context.name}/{spec.name} has no reference to replace; freeze the first one "
                f"with `bench freeze-reference {context.name} {spec.name}`"
            )
        run = _source_run(store, context, spec, from_run)
        if run.artifact_digest == previous.digest:
            raise ApiError(
                f"run {run.id} produced exactly the current reference of "
                f"{context.name}/{spec.name} ({previous.digest}); nothing to replace"
            )
        event = store.set_reference(
            context.name,
            spec.name,
            digest=run.artifact_digest or "",
            run_id=run.id,
            action="replace",
            reason=reason.strip(),
            notes=notes,
        )
        return ReferenceReport(
            project=context.name, benchmark=spec.name, event=event, run=run, previous=previous
        )


def reference(project: str, benchmark: str, *, home: Path | None = None) -> ReferenceEvent | None:
    """The current reference (the latest freeze or replacement), or None."""
    validate_name("project", project)
    validate_name("benchmark", benchmark)
    with Store.open(home) as store:
        return store.reference(project, benchmark)


def reference_history(
    project: str, benchmark: str, *, home: Path | None = None
) -> list[ReferenceEvent]:
    """Every freeze and replacement, oldest first (read-only; works when unregistered)."""
    validate_name("project", project)
    validate_name("benchmark", benchmark)
    with Store.open(home) as store:
        return store.reference_history(project, benchmark)


def _correctness_spec(context: ProjectContext, benchmark: str) -> BenchmarkSpec:
    spec = context.benchmark(benchmark)
    if spec.tier != "correctness":
        raise ApiError(
            f"{context.name}/{spec.name} is a {spec.tier} benchmark; only correctness "
            'benchmarks (tier = "correctness") have a reference: its baseline is set with '
            "`bench baseline establish` and moved with `bench promote`"
        )
    return spec


def _source_run(
    store: Store, context: ProjectContext, spec: BenchmarkSpec, from_run: int | None
) -> Run:
    run = (
        _chosen_run(store, context, spec, from_run)
        if from_run is not None
        else _latest_run_at_head(store, context, spec)
    )
    _check_blob(store, run)
    return run


def _chosen_run(store: Store, context: ProjectContext, spec: BenchmarkSpec, run_id: int) -> Run:
    run = store.run(run_id)
    where = f"--from-run {run_id}"
    if run is None:
        raise ApiError(f"{where}: there is no run {run_id}; see `bench history` for run ids")
    if (run.project, run.benchmark) != (context.name, spec.name):
        raise ApiError(
            f"{where}: run {run_id} belongs to {run.project}/{run.benchmark}, not "
            f"{context.name}/{spec.name}; pick a run of this benchmark"
        )
    if run.status != "ok":
        raise ApiError(
            f"{where}: run {run_id} failed ({run.message}); only an ok run's output can be "
            "a reference"
        )
    if not run.artifact_digest:
        raise ApiError(f"{where}: run {run_id} has no artifact; pick a run that wrote one")
    return run


def _latest_run_at_head(store: Store, context: ProjectContext, spec: BenchmarkSpec) -> Run:
    """The newest clean ok run at HEAD, provided every such run produced the same bytes."""
    sha = git_state(context.root).sha
    at_head = [
        r
        for r in store.runs(context.name, spec.name, git_sha=sha)
        if r.git_sha == sha and r.status == "ok" and r.artifact_digest
    ]
    clean = [r for r in at_head if not r.git_dirty]
    if not clean:
        dirty_note = (
            f" (only runs made on a dirty tree, e.g. run {at_head[0].id}; commit, run again, or "
            "pick one with --from-run ID)"
            if at_head
            else ""
        )
        raise ApiError(
            f"{context.name}/{spec.name}: no ok run with an artifact at the current HEAD "
            f"{sha[:10]}{dirty_note}; run `bench run {context.name} {spec.name}` first, then "
            "freeze its output"
        )
    first_by_digest: dict[str | None, Run] = {}
    for r in sorted(clean, key=lambda r: r.id):
        first_by_digest.setdefault(r.artifact_digest, r)
    if len(first_by_digest) > 1:
        examples = ", ".join(f"run {r.id} -> {d}" for d, r in first_by_digest.items())
        raise ApiError(
            f"{context.name}/{spec.name}: runs at {sha[:10]} produced different artifacts "
            f"({examples}), so the output is not byte-deterministic; make it so, or pick one "
            "with --from-run ID"
        )
    return clean[0]


def _check_blob(store: Store, run: Run) -> None:
    """Refuse to freeze bytes that no longer match the digest they were stored under."""
    digest = run.artifact_digest or ""
    path = store.artifact_path(digest)
    try:
        actual = hash_file(path, "sha256")
    except HasherError:
        raise ApiError(
            f"the artifact of run {run.id} ({digest}) cannot be read from the store at {path}; "
            "run `bench verify`"
        ) from None
    if actual != digest:
        raise ApiError(
            f"the stored artifact of run {run.id} at {path} no longer matches its digest "
            f"({digest}, now {actual}); the store was tampered with: run `bench verify`"
        )


def _describe_event(event: ReferenceEvent) -> str:
    verb = "frozen" if event.action == "freeze" else "replaced"
    source = f" from run {event.run_id}" if event.run_id is not None else ""
    return f"{verb} {event.created_at}{source}"
