"""The locked evaluator: what `bench register` freezes and every run executes.

The evaluator (``bench/manifest.toml`` and the files under ``project.evaluator_paths``)
decides how numbers are measured and judged, so code under test that could edit it could
bend the referee. Registration snapshots it into the store, content-addressed; a run
refuses when the working copy differs from the lock, and an ``--at-sha`` worktree gets the
locked files written over it, so an older commit is measured by today's evaluator.

The snapshot reads the *working copy* (not git's HEAD): the lock is what the user chose to
register, committed or not, and a file git ignores is still part of the evaluator if it
lies under an evaluator path. Byte-code caches are not evaluator files (Python writes them
as it runs). A symlink under an evaluator path is refused: its target is outside the lock's
reach, so an edit of the target would change the evaluator without drift.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, Final

from benchstone.api._errors import ApiError
from benchstone.hasher import HasherError
from benchstone.hasher import digest as hash_file
from benchstone.runner import JUDGEMENT_KEYS, Manifest, RunnerError, tree_hash
from benchstone.store import LockEvent, Record, Store

MANIFEST_PATH: Final = "bench/manifest.toml"
_SKIPPED_DIRS: Final = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"})
_SKIPPED_SUFFIXES: Final = (".pyc", ".pyo")


class Snapshot(Record):
    """The evaluator as it is on disk: relative path -> ``sha256:<hex>`` of its bytes."""

    root: Path
    files: Mapping[str, str]
    manifest_hash: str
    procedure_digest: str
    judgement_digest: str

    @property
    def digest(self) -> str:
        return _digest({"files": dict(self.files)})


def evaluator_paths(manifest: Manifest) -> tuple[str, ...]:
    """``project.evaluator_paths``: the manifest key (default ``["bench/"]``, never empty)."""
    return manifest.project.evaluator_paths


def evaluator_mounts(root: Path, manifest: Manifest) -> tuple[tuple[Path, Path], ...]:
    """The evaluator paths as read-only binds over themselves, for a repetition's sandbox.

    The lock is checked before a dispatch and the tree after it; without these binds the
    code under test could swap the locked runner for one that skips the work in between
    and put it back in the last repetition.
    """
    base = root.resolve()
    mounts = []
    for rel in (*evaluator_paths(manifest), MANIFEST_PATH):
        path = root / rel
        if path.exists() and not path.is_symlink() and path.resolve().is_relative_to(base):
            mounts.append((path, path))
    return tuple(mounts)


def snapshot(root: Path, manifest: Manifest) -> Snapshot:
    """Hash the evaluator files in the working copy at ``root``."""
    files = {rel: _hash(root / rel) for rel in _evaluator_files(root, evaluator_paths(manifest))}
    files.setdefault(MANIFEST_PATH, _hash(root / MANIFEST_PATH))
    raw = _load_toml(root / MANIFEST_PATH)
    return _snapshot(root, files, manifest.hash, raw)


def record(
    store: Store, project: str, snap: Snapshot, *, action: str, reason: str | None
) -> LockEvent:
    """Store every evaluator file as a blob and append the lock event."""
    blobs = {}
    for rel, digest in snap.files.items():
        stored = store.put_artifact(snap.root / rel)
        if stored != digest:
            raise ApiError(f"{snap.root / rel}: changed while it was being locked; lock again")
        blobs[rel] = stored
    return store.append_lock(
        project,
        digest=snap.digest,
        files=blobs,
        manifest_hash=snap.manifest_hash,
        procedure_digest=snap.procedure_digest,
        judgement_digest=snap.judgement_digest,
        action=action,
        reason=reason,
    )


def require_lock(store: Store, project: str, root: Path) -> LockEvent:
    """The project's current lock, or an error saying how to create one."""
    event = store.lock(project)
    if event is None:
        raise ApiError(
            f"project '{project}' has no locked evaluator (registered before locks "
            f"existed); run `bench register {root}` to lock it"
        )
    return event


def check_drift(store: Store, event: LockEvent, root: Path, manifest: Manifest) -> None:
    """Refuse, in one line, when the working copy's evaluator is not the locked one."""
    current = snapshot(root, manifest)
    if current.digest == event.digest:
        return
    raise drift_error(store, event, current)


def drift_error(store: Store, event: LockEvent, current: Snapshot) -> ApiError:
    """The refusal naming every changed file; re-locking is its ``override`` (CLI only)."""
    locked: Mapping[str, str] = event.files
    changed = sorted(
        rel for rel in set(locked) | set(current.files) if locked.get(rel) != current.files.get(rel)
    )
    parts = []
    for rel in changed:
        if rel == MANIFEST_PATH and rel in locked and rel in current.files:
            old = _load_toml(Path(store.artifact_path(locked[rel])))
            new = _load_toml(current.root / rel)
            keys = manifest_changes(old, new)
            parts.append(f"{rel} ({'; '.join(keys)})" if keys else rel)
        elif rel not in current.files:
            parts.append(f"{rel} (removed)")
        elif rel not in locked:
            parts.append(f"{rel} (new)")
        else:
            parts.append(rel)
    return ApiError(
        f"{current.root}: the evaluator differs from the lock of project "
        f"'{event.project}' (lock {event.id}): {', '.join(parts)}",
        override=f'; to accept it run `bench lock {event.project} --reason "..."`',
    )


def manifest_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """``key: old → new`` for every changed manifest key (benchmarks named by ``name``)."""
    changes = _table_changes("project.", old.get("project", {}), new.get("project", {}))
    olds, news = _benchmarks(old), _benchmarks(new)
    for name in sorted(set(olds) | set(news)):
        if name not in news:
            changes.append(f"benchmark {name} removed")
        elif name not in olds:
            changes.append(f"benchmark {name} added")
        else:
            changes.extend(_table_changes(f"{name}.", olds[name], news[name]))
    return changes


def materialize(store: Store, event: LockEvent, root: Path) -> list[str]:
    """Write the locked evaluator files into the checkout at ``root``; the paths written.

    Used for ``--at-sha`` worktrees (and the side-by-side baseline arm): whatever the commit
    holds under the evaluator paths is replaced by the locked bytes, and files the lock
    does not have are removed, so the commit's own evaluator never runs.
    """
    root = Path(root)
    locked_dirs = {PurePosixPath(p.rstrip("/")) for p in _lock_dirs(event)}
    for directory in locked_dirs:
        target = root / directory
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target)
    written = []
    for rel, digest in sorted(event.files.items()):
        target = root / rel
        if target.is_symlink():
            target.unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(store.artifact_path(digest), target)
        written.append(rel)
    return written


def content_digest(root: Path, sha: str, *, dirty: bool, tracked: str | None) -> str:
    """What code a run measured: the commit's tree hash, or the tracked digest when dirty.

    An empty commit or a rebase that reproduces the same tree has the same content, so it
    is the same code as far as looks are concerned.
    """
    if dirty and tracked is not None:
        return tracked
    try:
        return "git-tree:" + tree_hash(root, sha)
    except RunnerError as exc:
        raise ApiError(f"cannot read the tree of {sha[:10]}: {exc}") from None


def _lock_dirs(event: LockEvent) -> set[str]:
    """Top-level evaluator directories of a lock (``bench`` for ``bench/runner.py``)."""
    return {rel.split("/", 1)[0] for rel in event.files if "/" in rel}


def _snapshot(
    root: Path, files: dict[str, str], manifest_hash: str, raw: Mapping[str, Any]
) -> Snapshot:
    procedure_files = {k: v for k, v in files.items() if k != MANIFEST_PATH}
    procedure = {"files": procedure_files, "manifest": _split(raw, judgement=False)}
    judgement = {"manifest": _split(raw, judgement=True)}
    return Snapshot(
        root=root,
        files=dict(sorted(files.items())),
        manifest_hash=manifest_hash,
        procedure_digest=_digest(procedure),
        judgement_digest=_digest(judgement),
    )


def _split(raw: Mapping[str, Any], *, judgement: bool) -> dict[str, Any]:
    def keep(key: str) -> bool:
        return (key in JUDGEMENT_KEYS) == judgement

    project = {k: v for k, v in raw.get("project", {}).items() if keep(k)}
    benchmarks = {
        name: {k: v for k, v in table.items() if keep(k)}
        for name, table in _benchmarks(raw).items()
    }
    return {"project": project, "benchmarks": benchmarks}


def _benchmarks(raw: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    tables = raw.get("benchmarks", [])
    return {str(t.get("name")): t for t in tables if isinstance(t, Mapping)}


def _table_changes(prefix: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    out = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            out.append(f"{prefix}{key}: {_show(old.get(key))} → {_show(new.get(key))}")
    return out


def _show(value: Any) -> str:
    if value is None:
        return "(unset)"
    return value if isinstance(value, str) else json.dumps(value)


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ApiError(
            f"{path}: cannot read the manifest to compare it with the lock: {exc}"
        ) from None


def _hash(path: Path) -> str:
    try:
        return hash_file(path, "sha256")
    except HasherError:
        raise ApiError(f"{path}: cannot read this evaluator file") from None


def _evaluator_files(root: Path, paths: Sequence[str]) -> Iterator[str]:
    resolved_root = root.resolve()
    for entry in paths:
        base = root / entry
        if base.is_symlink():
            raise ApiError(
                f"{base}: evaluator path is a symlink; the lock needs the files themselves"
            )
        if base.is_file():
            yield PurePosixPath(entry).as_posix()
            continue
        if not base.is_dir():
            continue
        for directory, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIPPED_DIRS)
            for name in sorted(filenames):
                if name.endswith(_SKIPPED_SUFFIXES):
                    continue
                path = Path(directory) / name
                mode = os.lstat(path).st_mode
                if stat.S_ISLNK(mode):
                    raise ApiError(
                        f"{path}: a symlink under the evaluator paths (to "
                        f"{os.readlink(path)}); replace it with the file so it can be locked"
                    )
                if not stat.S_ISREG(mode):
                    continue
                yield path.resolve().relative_to(resolved_root).as_posix()
            for name in list(dirnames):
                if (Path(directory) / name).is_symlink():
                    raise ApiError(
                        f"{Path(directory) / name}: a symlinked directory under the "
                        "evaluator paths; replace it with the files so they can be locked"
                    )
