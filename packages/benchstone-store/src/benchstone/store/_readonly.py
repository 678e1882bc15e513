"""The handle for reporting tools: reads everything, can change nothing."""

from __future__ import annotations

from pathlib import Path

from ._connection import open_read_only
from ._open import resolve_paths
from ._reader import StoreReader


class ReadOnlyStore(StoreReader):
    """A ``mode=ro`` view of an existing store.

    It never creates the home or the database, never migrates (a schema version other
    than the one this package reads is refused), and takes no write lock, so it can be
    open while bench commands append.
    """

    @classmethod
    def open(cls, home: Path | str | None = None) -> ReadOnlyStore:
        paths = resolve_paths(home)
        return cls(open_read_only(paths.db), paths)
