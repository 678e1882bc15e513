"""Resolving and preparing the home directory for the two kinds of handle."""

from __future__ import annotations

from pathlib import Path

from ._errors import StoreError
from ._paths import StorePaths, home_dir


def resolve_paths(home: Path | str | None) -> StorePaths:
    if home is None:
        return StorePaths(home_dir())
    return StorePaths(Path(home).expanduser().absolute())


def make_private_dirs(paths: StorePaths) -> None:
    """Create home and its top-level folders 0o700; existing folders keep their mode.

    Only directories this call creates are chmod-ed, so a user who deliberately opened
    up their home keeps that choice; everything inside a fresh home is private.
    """
    for directory in (paths.home, *paths.top_level_dirs()):
        if directory.is_dir():
            continue
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            directory.chmod(0o700)
        except OSError as exc:
            raise StoreError(f"cannot create store directory {directory}: {exc.strerror}") from None
