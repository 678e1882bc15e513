"""digest() and hash_tree(): a corpus path in, its digest (and per-file listing) out."""

from __future__ import annotations

import os
import stat
from types import MappingProxyType

from benchstone.hasher import _engine
from benchstone.hasher._algorithms import DEFAULT_ALGORITHM, check_algorithm, format_digest
from benchstone.hasher._errors import HasherError, from_os_error
from benchstone.hasher._types import FileEntry, TreeDigest

TYPE_CHECKING = False  # instead of importing typing (see _types); checkers read True
if TYPE_CHECKING:
    from benchstone.hasher._engine import Progress

    Entries = list[tuple[bytes, int, bytes]]


def _fspath(path: object) -> str:
    try:
        text = os.fspath(path)  # type: ignore[arg-type]
    except TypeError:
        raise HasherError(
            f"corpus path must be a str or os.PathLike, not {type(path).__name__}"
        ) from None
    return os.fsdecode(text)


def measure(
    path: object, algo: str, progress: Progress | None, *, want_files: bool = True
) -> tuple[bool, Entries, bytes]:
    """Hash what ``path`` names: (is_single_file, [(relpath, size, raw)], raw top digest).

    A single file gives one entry named after it, and the top digest is its own; a
    directory gives its regular files in bytewise order of their relative paths (none
    unless ``want_files``), and the benchstone-tree-v1 digest. The root may be a symbolic
    link (the user named it); links inside a directory are refused.
    """
    algo = check_algorithm(algo)
    where = _fspath(path)
    try:
        st = os.stat(where)
    except FileNotFoundError:
        raise HasherError(f"{where}: no such file or directory; check the corpus path") from None
    except OSError as exc:
        raise from_os_error(exc, "stat") from None
    if stat.S_ISREG(st.st_mode):
        size, raw = _engine.hash_file(where, algo, progress, st.st_size)
        if progress is not None:
            progress(size, size)
        name = os.path.basename(os.path.normpath(where))
        return True, [(os.fsencode(name), size, raw)], raw
    if not stat.S_ISDIR(st.st_mode):
        raise HasherError(
            f"{where}: is neither a regular file nor a directory; point the corpus at one"
        )
    top, entries, hashed = _engine.hash_tree(where, algo, progress, want_files=want_files)
    if progress is not None:
        progress(hashed, hashed)
    return False, entries, top


def digest(path: object, algo: str = DEFAULT_ALGORITHM, *, progress: Progress | None = None) -> str:
    """``ALGO:HEX`` of a file's bytes, or of a directory in the benchstone-tree-v1 format.

    A file's digest is what ``sha256sum``, ``b3sum`` or ``xxhsum -H2`` prints for it.
    ``progress(bytes_done, bytes_total)`` is called from this thread at most about ten
    times a second, and once more at the end with both equal. For a directory
    ``bytes_total`` is None until that last call: the walk and the hashing overlap.
    """
    return format_digest(algo, measure(path, algo, progress, want_files=False)[2])


def hash_tree(
    path: object, algo: str = DEFAULT_ALGORITHM, *, progress: Progress | None = None
) -> TreeDigest:
    """The digest of ``path`` together with every file's size and digest.

    For a directory, ``files`` is keyed by relative POSIX path; for a single file it
    holds one entry keyed by the file's name (and ``digest`` is that file's digest).
    """
    _, entries, top = measure(path, algo, progress)
    files = {
        os.fsdecode(rel): FileEntry(size, format_digest(algo, raw)) for rel, size, raw in entries
    }
    return TreeDigest(algo, format_digest(algo, top), MappingProxyType(files))
