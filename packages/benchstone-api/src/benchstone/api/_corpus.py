"""Pinning and checking corpora: what `bench corpus hash` and `bench corpus verify` call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchstone.api._context import load_project
from benchstone.api._errors import ApiError
from benchstone.hasher import ALGORITHMS, DEFAULT_ALGORITHM, hash_tree, save_listing
from benchstone.runner import CorpusStatus, check_corpus
from benchstone.store import Store

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class CorpusPin:
    """The manifest lines that pin a corpus, and what was hashed to make them."""

    path: str
    algo: str
    digest: str
    corpus_type: str  # "bytes" for a file, "tree" for a directory
    files: int
    bytes: int
    listing: str | None  # where the per-file listing was saved (trees only)

    @property
    def manifest_lines(self) -> tuple[str, str]:
        return (f'corpus_hash = "{self.digest}"', f'corpus_type = "{self.corpus_type}"')

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "algo": self.algo,
            "digest": self.digest,
            "corpus_type": self.corpus_type,
            "files": self.files,
            "bytes": self.bytes,
            "listing": self.listing,
            "manifest_lines": list(self.manifest_lines),
        }


def pin_corpus(
    path: str | Path,
    *,
    algo: str = DEFAULT_ALGORITHM,
    home: Path | None = None,
    progress: Progress | None = None,
) -> CorpusPin:
    """Hash a corpus file or directory for a manifest pin.

    For a directory the per-file listing is saved under the store, keyed by the digest, so a
    later drift report can name the files added, removed and changed.
    """
    if algo not in ALGORITHMS:
        raise ApiError(f"unknown algorithm {algo!r}; use one of {', '.join(ALGORITHMS)}")
    target = Path(path).expanduser().resolve()
    if not target.exists():
        raise ApiError(f"{target}: no such file or directory")
    tree = hash_tree(target, algo, progress=progress)
    listing = None
    if target.is_dir():
        with Store.open(home) as store:
            listing = str(save_listing(store.paths.listings, tree))
    return CorpusPin(
        path=str(target),
        algo=algo,
        digest=tree.digest,
        corpus_type="tree" if target.is_dir() else "bytes",
        files=len(tree.files),
        bytes=sum(entry.size for entry in tree.files.values()),
        listing=listing,
    )


def verify_corpus(
    project: str,
    benchmark: str,
    *,
    home: Path | None = None,
    progress: Progress | None = None,
) -> CorpusStatus:
    """The benchmark's corpus on disk against its manifest pin (never raises for drift)."""
    with Store.open(home) as store:
        context = load_project(store, project)
        spec = context.benchmark(benchmark)
        return check_corpus(
            context.root, spec, listings_dir=store.paths.listings, progress=progress
        )
