"""Held-out corpora: content-addressed copies under ``corpora/``, read-only, put once.

The harness, not the project, holds a held-out corpus: the agent's working copy never
contains it, and a run sees it only through a read-only bind in the strict sandbox. The
store does not hash (hashing is the hasher's): the caller stages the copy under the
store's ``tmp/``, verifies it against the digest, and hands it over; the store moves it
into place with one rename (a reader never sees half a corpus) and makes it read-only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from pathlib import Path

from ._errors import StoreError
from ._paths import StorePaths

_READ_ONLY_FILE = 0o444
_READ_ONLY_DIR = 0o555


def put_corpus(paths: StorePaths, staged: Path, digest: str) -> Path:
    """Move ``staged`` (verified by the caller to have ``digest``) to its place; its path.

    A corpus already stored under the digest is kept and ``staged`` is removed: the same
    content is stored once.
    """
    target = paths.corpus(digest)
    staged = Path(staged)
    if not staged.is_relative_to(paths.tmp):
        raise StoreError(f"{staged}: a corpus is staged under {paths.tmp} before it is stored")
    if target.exists():
        _remove(staged)
        return target
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _make_read_only(staged)
    try:
        os.rename(staged, target)
    except OSError as exc:
        if target.exists():  # a concurrent import of the same content won
            _remove(staged)
            return target
        raise StoreError(f"cannot store the corpus at {target}: {exc.strerror}") from None
    return target


def _make_read_only(path: Path) -> None:
    """Files 0o444, directories 0o555, deepest first (a 0o555 directory takes no chmod
    of its entries' names, but their modes are the entries' own)."""
    if path.is_dir() and not path.is_symlink():
        for root, dirs, files in os.walk(path, topdown=False):
            for name in files:
                os.chmod(os.path.join(root, name), _READ_ONLY_FILE, follow_symlinks=False)
            for name in dirs:
                os.chmod(os.path.join(root, name), _READ_ONLY_DIR)
        os.chmod(path, _READ_ONLY_DIR)
    else:
        os.chmod(path, _READ_ONLY_FILE)


def _remove(path: Path) -> None:
    """Remove a staged copy, read-only parts included."""
    if path.is_dir() and not path.is_symlink():
        for root, dirs, _files in os.walk(path):
            for name in dirs:
                with contextlib.suppress(OSError):
                    os.chmod(os.path.join(root, name), stat.S_IRWXU)
        with contextlib.suppress(OSError):
            os.chmod(path, stat.S_IRWXU)
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
