"""The bridge to the C extension: tuning constants, thread count, progress, errors.

The constants are measured choices (docs/performance.md). Files are read in 1 MiB
blocks, which fit a core's L2 cache, so the hash reads what the copy just wrote from
cache. BLAKE3 hashes one file on all CPUs from 4 MiB up; a sequential hash (XXH3,
SHA-256), where threads only read ahead for the one that hashes, gains from 16 MiB up.
Memory: two blocks per worker at most, whatever the file size.
"""

from __future__ import annotations

import os
from types import MappingProxyType

from benchstone.hasher import _native
from benchstone.hasher._algorithms import native_spec
from benchstone.hasher._errors import from_os_error
from benchstone.hasher._format import header
from benchstone.hasher._kinds import refusal

TYPE_CHECKING = False  # instead of importing typing (see _types); checkers read True
if TYPE_CHECKING:
    from collections.abc import Callable

    Progress = Callable[[int, int | None], None]

FILE_BLOCK = 1 << 20
PARALLEL_MIN = MappingProxyType({"blake3": 4 << 20, "sha256": 16 << 20, "xxh3-128": 16 << 20})
TREE_BUFFER = 1 << 20
TICK_NS = 100_000_000  # progress at most ten times a second
MAX_THREADS = 16


def thread_count() -> int:
    """The CPUs this process may run on (its affinity mask, not the machine's total)."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        n = os.cpu_count() or 1
    return max(1, min(n, MAX_THREADS))


def _reporter(progress: Progress | None, total: int | None) -> Callable[[int], None] | None:
    if progress is None:
        return None
    return lambda done: progress(done, total)


def hash_file(
    path: str, algo: str, progress: Progress | None, total: int | None
) -> tuple[int, bytes]:
    """(size, raw digest) of one regular file's bytes, read to its end."""
    spec, size = native_spec(algo)
    try:
        return _native.hash_file(
            path,
            spec,
            size,
            thread_count(),
            FILE_BLOCK,
            PARALLEL_MIN[algo],
            _reporter(progress, total),
            TICK_NS,
        )
    except OSError as exc:
        raise from_os_error(exc, "read") from None


def hash_tree(
    root: str, algo: str, progress: Progress | None, *, want_files: bool
) -> tuple[bytes, list[tuple[bytes, int, bytes]], int]:
    """(raw tree digest, [(relpath, size, raw digest)], bytes hashed) of a directory.

    The list is in bytewise path order, and empty without ``want_files`` (a bare digest
    has no use for a Python tuple per file). The walk and the hashing overlap, so the
    total is not known while hashing: ``progress`` sees ``bytes_total`` None until the
    end.
    """
    spec, size = native_spec(algo)
    try:
        top, files, odd, hashed = _native.hash_tree(
            root,
            spec,
            size,
            header(algo),
            thread_count(),
            TREE_BUFFER,
            _reporter(progress, None),
            TICK_NS,
            want_files,
        )
    except OSError as exc:
        raise from_os_error(exc, "read") from None
    if odd:
        raise refusal(root, odd)
    return top, files, hashed
