"""Freshness: may the runs at a SHA still be trusted as measurements of what is on disk?

A git SHA names the committed code, but a benchmark can depend on more than that: ignored
or generated files under ``bench/``, a corpus that drifted after the runs, uncommitted
edits. So each row records a digest of the manifest's ``project.tracked_paths`` (taken
once per dispatch, before the first repetition), and ``bench evaluate`` compares it, the
corpus pin and the working tree with the state now. If any differs, the verdict is STALE:
the runs measured code that is no longer there, and a PROMOTE from them would be a lie.

The tracked digest (format ``benchstone-tracked-v1``): every regular file under each
tracked path, keyed by its path relative to the project root, with its per-file hasher
digest; a tracked path that does not exist contributes the word ``missing``. The lines
``PATH NUL DIGEST LF`` in bytewise order of PATH, after a header line naming the format,
are hashed with sha256. Directories named ``__pycache__`` or ``.git`` are skipped: the
interpreter and git rewrite them on their own, so they say nothing about the code.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

from benchstone.hasher import DEFAULT_ALGORITHM, HasherError, hash_tree
from benchstone.runner._corpus import check_corpus
from benchstone.runner._errors import RunnerError
from benchstone.runner._manifest import BenchmarkSpec, Manifest
from benchstone.store import Record, Run

TRACKED_FORMAT = "benchstone-tracked-v1"
SKIPPED_DIRECTORIES = frozenset({"__pycache__", ".git"})
MISSING = "missing"


def tracked_digest(root: Path, tracked_paths: Sequence[str]) -> str:
    """``sha256:HEX`` over the content of ``tracked_paths`` (relative to ``root``).

    Raises RunnerError (one line, naming the tracked path) when a path holds a symbolic
    link or a special file, or cannot be read.
    """
    entries: dict[bytes, str] = {}
    for text in tracked_paths:
        relative = PurePosixPath(text)
        target = Path(root) / relative
        if not os.path.lexists(target):
            entries[_key(relative)] = MISSING
            continue
        try:
            tree = hash_tree(target, DEFAULT_ALGORITHM)
        except HasherError as exc:
            raise RunnerError(
                f"{root}: project.tracked_paths entry '{text}' cannot be hashed: {exc}"
            ) from None
        if not target.is_dir():
            entries[_key(relative)] = tree.digest
            continue
        for name, entry in tree.files.items():
            inner = PurePosixPath(name)
            if SKIPPED_DIRECTORIES.intersection(inner.parts[:-1]):
                continue
            entries[_key(relative / inner)] = entry.digest
    hasher = hashlib.sha256(TRACKED_FORMAT.encode() + b"\n")
    for key in sorted(entries):
        hasher.update(key + b"\0" + entries[key].encode() + b"\n")
    return "sha256:" + hasher.hexdigest()


def _key(path: PurePosixPath) -> bytes:
    return os.fsencode(path.as_posix())


class Freshness(Record):
    """Why the runs at a SHA are stale (``causes``, one line each), or that they are not."""

    causes: tuple[str, ...]
    tracked_digest: str | None

    @property
    def stale(self) -> bool:
        return bool(self.causes)

    @property
    def reason(self) -> str:
        return "; ".join(self.causes) if self.causes else "fresh"


def check_freshness(
    root: Path,
    manifest: Manifest,
    spec: BenchmarkSpec,
    *,
    dirty: bool,
    runs: Iterable[Run],
    listings_dir: Path | None,
) -> Freshness:
    """Every reason the candidate ``runs`` no longer describe the project on disk.

    Three causes, all reported when present: uncommitted changes (the SHA does not name
    what is on disk), a corpus that no longer matches its pin, and runs whose recorded
    tracked digest differs from the tracked content now. Rows without a tracked digest
    (made before it was recorded) are not judged by it.
    """
    causes = []
    if dirty:
        causes.append(
            "the working tree has uncommitted changes (commit them, or pass --allow-dirty)"
        )
    corpus = check_corpus(root, spec, listings_dir=listings_dir)
    if not corpus.usable:
        causes.append(f"{corpus.describe()} (restore it, or re-pin it and run again)")
    now = tracked_digest(root, manifest.project.tracked_paths)
    judged = [run for run in runs if run.tracked_digest is not None]
    differing = [run for run in judged if run.tracked_digest != now]
    if differing:
        paths = ", ".join(manifest.project.tracked_paths) or "none"
        causes.append(
            f"{len(differing)} of {len(judged)} candidate run(s) were made from other content "
            f"of tracked_paths ({paths}) than is on disk now (run ids "
            f"{_ids(differing)}); restore those files, or commit and run again at the new SHA"
        )
    return Freshness(causes=tuple(causes), tracked_digest=now)


def _ids(runs: Sequence[Run]) -> str:
    shown = ", ".join(str(run.id) for run in runs[:10])
    return shown + (f" and {len(runs) - 10} more" if len(runs) > 10 else "")
