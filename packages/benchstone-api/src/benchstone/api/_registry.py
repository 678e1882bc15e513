"""Registering projects and listing what the harness knows about them."""

from __future__ import annotations

from pathlib import Path

from benchstone.api._context import load_project
from benchstone.api._errors import ApiError
from benchstone.api._lock import drift_error, record, require_lock, snapshot
from benchstone.api._types import BenchmarkInfo, ProjectInfo
from benchstone.runner import Manifest, RunnerError, check_corpus, load_manifest, require_corpus
from benchstone.store import LockEvent, Registration, Store


def register(path: str | Path, *, home: Path | None = None) -> ProjectInfo:
    """Register the project at ``path`` (reads PATH/bench/manifest.toml).

    The manifest must load and every pinned corpus must match before the project is
    accepted (SPEC: "the corpus must exist before bench register").
    """
    root = Path(path).expanduser().resolve()
    if not root.is_dir():
        raise ApiError(f"{root}: not a directory; pass the project's root folder")
    manifest = load_manifest(root)
    with Store.open(home) as store:
        for spec in manifest.benchmarks:
            require_corpus(root, spec, listings_dir=store.paths.listings)
        existing = store.project(manifest.project.name)
        if existing is not None and Path(existing.path) != root:
            raise ApiError(
                f"project '{manifest.project.name}' is already registered at {existing.path}; "
                f"`bench unregister {manifest.project.name}` first to move it to {root}"
            )
        _lock_evaluator(store, manifest.project.name, root, manifest)
        registration = store.register(manifest.project.name, str(root), manifest.hash)
        return _project_info(store, registration, manifest)


def _lock_evaluator(store: Store, project: str, root: Path, manifest: Manifest) -> None:
    """Lock the evaluator at first registration; an unchanged one appends nothing.

    A registered project whose evaluator changed is not silently re-locked: that is what
    `bench lock --reason` is for, so the change is a recorded decision.
    """
    current = store.lock(project)
    snap = snapshot(root, manifest)
    if current is None:
        record(store, project, snap, action="register", reason=None)
    elif current.digest != snap.digest:
        raise drift_error(store, current, snap)


def lock(project: str, *, reason: str, home: Path | None = None) -> LockEvent:
    """Accept the working copy's evaluator as the project's new lock (reason mandatory)."""
    if not reason or not reason.strip():
        raise ApiError('--reason is required: say why the evaluator changed (--reason "...")')
    with Store.open(home) as store:
        context = load_project(store, project)
        current = require_lock(store, context.name, context.root)
        snap = snapshot(context.root, context.manifest)
        if current.digest == snap.digest:
            raise ApiError(
                f"project '{context.name}': the evaluator is unchanged since lock {current.id}; "
                "nothing to lock"
            )
        return record(store, context.name, snap, action="lock", reason=reason.strip())


def lock_history(project: str, *, home: Path | None = None) -> list[LockEvent]:
    """Every lock event of ``project``, oldest first (the append-only history)."""
    with Store.open(home) as store:
        load_project(store, project)
        return list(store.lock_history(project))


def unregister(name: str, *, home: Path | None = None) -> None:
    """Forget a project's registration; its runs, baselines and references stay."""
    with Store.open(home) as store:
        if store.project(name) is None:
            raise ApiError(f"project '{name}' is not registered")
        store.unregister(name)


def list_projects(*, project: str | None = None, home: Path | None = None) -> list[ProjectInfo]:
    """Every registered project (or just ``project``) with its benchmarks' state."""
    with Store.open(home) as store:
        registrations = store.projects()
        if project is not None:
            registrations = [r for r in registrations if r.name == project]
            if not registrations:
                load_project(store, project)  # raises the helpful "did you mean" error
        infos = []
        for registration in registrations:
            try:
                manifest = load_manifest(registration.path)
            except RunnerError as exc:
                infos.append(_project_info(store, registration, None, error=str(exc)))
                continue
            infos.append(_project_info(store, registration, manifest))
        return infos


def _project_info(
    store: Store,
    registration: Registration,
    manifest: Manifest | None,
    *,
    error: str | None = None,
) -> ProjectInfo:
    """What `bench list` shows of one registration; ``manifest`` None when it fails to load."""
    root = Path(registration.path)
    return ProjectInfo(
        name=registration.name,
        path=registration.path,
        manifest_hash=manifest.hash if manifest else registration.manifest_hash,
        registered_at=registration.created_at,
        benchmarks=tuple(_benchmark_info(store, registration.name, root, manifest))
        if manifest
        else (),
        warnings=manifest.warnings if manifest else (),
        error=error,
    )


def _benchmark_info(
    store: Store, project: str, root: Path, manifest: Manifest
) -> list[BenchmarkInfo]:
    infos = []
    for spec in manifest.benchmarks:
        try:
            corpus = check_corpus(root, spec, listings_dir=store.paths.listings).state
        except RunnerError:
            corpus = "drift"
        infos.append(
            BenchmarkInfo(
                name=spec.name,
                tier=spec.tier,
                metric_direction=spec.metric_direction,
                gate_policy=spec.gate_policy,
                baseline=store.baseline(project, spec.name),
                corpus=corpus,
                run_count=store.count_runs(project, spec.name),
            )
        )
    return infos
