"""Corpus pinning: a benchmark runs only on the bytes its manifest pinned.

Three kinds, as the manifest's ``corpus_type`` says: ``bytes`` hashes one file, ``spec``
hashes only ``corpus_spec.toml`` (the corpus is generated from it), ``tree`` hashes a whole
directory in the hasher's ``benchstone-tree-v1`` format. Drift is an error that names the
files added, removed and changed, using the per-file listing saved when the pin was made.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from benchstone.hasher import HasherError, load_listing, verify
from benchstone.runner._errors import RunnerError
from benchstone.runner._manifest import BenchmarkSpec
from benchstone.store import Record

SPEC_FILE = "corpus_spec.toml"
CORPUS_STATES = ("n/a", "unpinned", "ok", "drift", "missing")


class CorpusStatus(Record):
    """What the on-disk corpus looks like against the manifest's pin."""

    state: str  # one of CORPUS_STATES
    path: Path | None = None
    expected: str | None = None
    actual: str | None = None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    @property
    def usable(self) -> bool:
        return self.state in ("n/a", "unpinned", "ok")

    def describe(self) -> str:
        """One line for an error message or a listing."""
        if self.state == "missing":
            return f"corpus {self.path} is missing"
        if self.state != "drift":
            return f"corpus {self.state}"
        parts = [f"corpus {self.path} drifted: expected {self.expected}, found {self.actual}"]
        for label, names in (
            ("added", self.added),
            ("removed", self.removed),
            ("changed", self.changed),
        ):
            if names:
                shown = ", ".join(names[:10])
                more = f" and {len(names) - 10} more" if len(names) > 10 else ""
                parts.append(f"{label}: {shown}{more}")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, object]:
        return {
            "state": self.state,
            "path": str(self.path) if self.path else None,
            "expected": self.expected,
            "actual": self.actual,
            "added": list(self.added),
            "removed": list(self.removed),
            "changed": list(self.changed),
        }


def corpus_root(root: Path, spec: BenchmarkSpec) -> Path | None:
    """The corpus path the runner is told about (``corpus_path`` in the config)."""
    if not spec.corpus_path:
        return None
    return (root / spec.corpus_path).resolve()


def pinned_target(root: Path, spec: BenchmarkSpec) -> Path | None:
    """The file or directory whose digest the manifest pins."""
    path = corpus_root(root, spec)
    if path is None:
        return None
    if spec.corpus_type == "spec" and path.is_dir():
        return path / SPEC_FILE
    return path


def check_corpus(
    root: Path,
    spec: BenchmarkSpec,
    *,
    listings_dir: Path | None,
    progress: Callable[[int, int | None], None] | None = None,
) -> CorpusStatus:
    """Compare the corpus on disk with the manifest's pin; never raises for drift."""
    target = pinned_target(root, spec)
    if target is None:
        return CorpusStatus("n/a")
    if not target.exists():
        return CorpusStatus("missing", path=target, expected=spec.corpus_hash)
    if not spec.corpus_hash:
        return CorpusStatus("unpinned", path=target)
    _check_kind(target, spec)
    listing = None
    if listings_dir is not None and target.is_dir():
        listing = load_listing(listings_dir, spec.corpus_hash)
    try:
        result = verify(target, spec.corpus_hash, listing=listing, progress=progress)
    except HasherError as exc:
        raise RunnerError(f"benchmark '{spec.name}': corpus {target}: {exc}") from exc
    if result.ok:
        return CorpusStatus("ok", path=target, expected=spec.corpus_hash, actual=result.actual)
    return CorpusStatus(
        "drift",
        path=target,
        expected=spec.corpus_hash,
        actual=result.actual,
        added=tuple(result.added),
        removed=tuple(result.removed),
        changed=tuple(result.changed),
    )


def require_corpus(
    root: Path,
    spec: BenchmarkSpec,
    *,
    listings_dir: Path | None,
    progress: Callable[[int, int | None], None] | None = None,
) -> CorpusStatus:
    """Like :func:`check_corpus`, but a missing or drifted corpus refuses the run."""
    status = check_corpus(root, spec, listings_dir=listings_dir, progress=progress)
    if not status.usable:
        raise RunnerError(
            f"benchmark '{spec.name}': {status.describe()}; refusing to run "
            "(restore the corpus, or re-pin it with `bench corpus hash` and update corpus_hash)"
        )
    return status


def _check_kind(target: Path, spec: BenchmarkSpec) -> None:
    kind = spec.corpus_type or "bytes"
    if kind in ("bytes", "spec") and target.is_dir():
        raise RunnerError(
            f"benchmark '{spec.name}': corpus_type '{kind}' pins one file but {target} is a "
            'directory; use corpus_type = "tree" to pin a directory'
        )
    if kind == "tree" and not target.is_dir():
        raise RunnerError(
            f"benchmark '{spec.name}': corpus_type 'tree' pins a directory but {target} is "
            'not one; use corpus_type = "bytes" for a single file'
        )
