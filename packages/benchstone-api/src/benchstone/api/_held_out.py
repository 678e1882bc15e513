"""Held-out corpora: inputs the code under test is measured on but can never keep.

Agents overfit the inputs they can see. A benchmark with ``held_out = true`` runs on a
corpus that lives only in the store: ``bench corpus import`` copies it there
(content-addressed, pinned by its digest, read-only), its runs see it read-only at
``corpus_path`` inside the strict sandbox (runner/_sandbox.py), and nothing read from it
leaves a run but the result's numbers, a capped few bytes of metadata and the artifact,
whose bytes stay in the store. The agent's working copy never contains it: an import from
inside the project tree is refused.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchstone.api._context import load_project
from benchstone.api._errors import ApiError
from benchstone.hasher import ALGORITHMS, DEFAULT_ALGORITHM, HasherError, hash_tree, verify
from benchstone.protocol import ProjectResult
from benchstone.runner import BenchmarkSpec
from benchstone.store import CorpusEvent, Store

Progress = Callable[[int, int | None], None]

#: The most a held-out run may report besides its metric: metadata, metric_components
#: and message together, as canonical JSON. Small on purpose: it is a channel out.
RESULT_CAP_BYTES = 512
#: Where a run finds the corpus: inside its own run directory, bound read-only.
CORPUS_NAME = "corpus"


@dataclass(frozen=True)
class CorpusImport:
    """One `bench corpus import`: the event appended and what was copied."""

    project: str
    benchmark: str
    source: str
    event: CorpusEvent

    def to_dict(self) -> dict[str, Any]:
        event = self.event
        return {
            "project": self.project,
            "benchmark": self.benchmark,
            "source": self.source,
            "digest": event.digest,
            "corpus_type": event.corpus_type,
            "files": event.files,
            "bytes": event.bytes,
            "action": event.action,
            "reason": event.reason,
            "event_id": event.id,
            "created_at": event.created_at,
        }


def import_corpus(
    project: str,
    benchmark: str,
    path: str | Path,
    *,
    algo: str = DEFAULT_ALGORITHM,
    reason: str | None = None,
    home: Path | None = None,
    progress: Progress | None = None,
) -> CorpusImport:
    """Copy ``path`` into the store as the held-out corpus of ``benchmark``.

    The source is hashed, copied under the store's ``tmp/``, the copy verified against
    the source's digest (a source that changed meanwhile is refused) and moved into
    place; replacing an imported corpus needs ``reason``.
    """
    if algo not in ALGORITHMS:
        raise ApiError(f"unknown algorithm {algo!r}; use one of {', '.join(ALGORITHMS)}")
    source = Path(path).expanduser().resolve()
    if not source.exists():
        raise ApiError(f"{source}: no such file or directory")
    with Store.open(home) as store:
        context = load_project(store, project)
        spec = context.benchmark(benchmark)
        if not spec.held_out:
            raise ApiError(
                f"{context.name}/{spec.name} does not declare held_out = true; add it to the "
                "benchmark in bench/manifest.toml (and lock the change) before importing"
            )
        root = context.root.resolve()
        if source.is_relative_to(root) or root.is_relative_to(source):
            raise ApiError(
                f"{source} is inside the project tree {root}; a held-out corpus must come "
                "from outside the working copy the code under test can read"
            )
        current = store.held_out_corpus(context.name, spec.name)
        if current is not None and not (reason and reason.strip()):
            raise ApiError(
                f"{context.name}/{spec.name} already has a held-out corpus ({current.digest}); "
                'replacing it needs --reason "why the inputs changed"'
            )
        try:
            tree = hash_tree(source, algo, progress=progress)
        except HasherError as exc:
            raise ApiError(f"{source}: {exc}") from None
        stage_dir = Path(tempfile.mkdtemp(prefix="corpus-", dir=store.paths.tmp))
        try:
            staged = stage_dir / CORPUS_NAME
            _copy(source, staged)
            if not verify(staged, tree.digest).ok:
                raise ApiError(
                    f"{source} changed while it was copied (its copy is not {tree.digest}); "
                    "import it again once nothing writes to it"
                )
            store.put_corpus(staged, tree.digest)
        finally:
            _discard(stage_dir)
        event = store.import_corpus(
            context.name,
            spec.name,
            digest=tree.digest,
            corpus_type="tree" if source.is_dir() else "bytes",
            files=len(tree.files),
            bytes=sum(entry.size for entry in tree.files.values()),
            reason=reason.strip() if reason and current is not None else None,
        )
        return CorpusImport(
            project=context.name, benchmark=spec.name, source=str(source), event=event
        )


def held_out_digest(store: Store, project: str, spec: BenchmarkSpec) -> str:
    """The digest of the benchmark's stored corpus, checked before anything runs.

    Refuses (ApiError) when none is imported, or when the stored copy no longer matches
    its digest: a run must see exactly the bytes that were imported.
    """
    event = store.held_out_corpus(project, spec.name)
    if event is None:
        raise ApiError(
            f"{project}/{spec.name} has held_out = true and no corpus is imported; run "
            f"`bench corpus import {project} {spec.name} PATH` (PATH outside the project)"
        )
    path = store.corpus_path(event.digest)
    try:
        result = verify(path, event.digest)
    except HasherError as exc:
        raise ApiError(f"the held-out corpus of {project}/{spec.name}: {exc}") from None
    if not result.ok:
        raise ApiError(
            f"the held-out corpus of {project}/{spec.name} at {path} is {result.actual}, not "
            f"the imported {event.digest}; the store was tampered with: run `bench verify` "
            "and import the corpus again"
        )
    return event.digest


def result_over_cap(result: ProjectResult) -> int | None:
    """The size of what a held-out run reports besides its metric, when over the cap."""
    reported = {
        "metadata": result.metadata or {},
        "metric_components": result.metric_components or {},
        "message": result.message,
    }
    size = len(json.dumps(reported, sort_keys=True, separators=(",", ":"), default=str))
    return size if size > RESULT_CAP_BYTES else None


def _copy(source: Path, target: Path) -> None:
    """Bytes only (modes and times are not part of a corpus); the hasher has already
    refused links and special files."""
    if source.is_dir():
        shutil.copytree(source, target, copy_function=shutil.copyfile)
    else:
        shutil.copyfile(source, target)


def _discard(stage_dir: Path) -> None:
    if stage_dir.exists():
        for path in (stage_dir, *stage_dir.rglob("*")):
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o700)
        shutil.rmtree(stage_dir, ignore_errors=True)
