"""benchstone-tree-v1: how a directory's regular files become one digest.

docs/hasher.md defines the format byte by byte. The C extension computes it while it
hashes a tree (the fast path); this is the reference implementation, in Python over each
algorithm's own library, used to check listings on load and save. Only paths, sizes
and per-file digests go in: never mtimes, modes or owners, so a copy or a checkout of
the same content has the same digest.
"""

from __future__ import annotations

from benchstone.hasher._algorithms import new_hasher

TYPE_CHECKING = False  # instead of importing typing (see _types); checkers read True
if TYPE_CHECKING:
    from collections.abc import Iterable

TREE_FORMAT = b"benchstone-tree-v1"
_BATCH = 4096  # entries per update(): few calls into the hash, bounded memory


def header(algo: str) -> bytes:
    """What the tree's hash input starts with: the format's name and the algorithm's."""
    return TREE_FORMAT + b"\0" + algo.encode("ascii") + b"\0"


def tree_digest(algo: str, entries: Iterable[tuple[bytes, int, bytes]]) -> bytes:
    """H(header || entry...) for entries (path, size, raw digest) in bytewise path order.

    header = "benchstone-tree-v1" NUL ALGO NUL; entry = PATH NUL SIZE(u64 big-endian)
    DIGEST(raw). The caller guarantees the order and that paths hold no NUL byte.
    """
    h = new_hasher(algo)
    h.update(header(algo))
    batch: list[bytes] = []
    for path, size, raw in entries:
        batch += (path, b"\0", size.to_bytes(8, "big"), raw)
        if len(batch) >= _BATCH:
            h.update(b"".join(batch))
            batch.clear()
    h.update(b"".join(batch))
    return h.digest()
