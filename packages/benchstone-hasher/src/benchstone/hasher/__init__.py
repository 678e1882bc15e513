"""benchstone.hasher: streaming corpus digests (sha256, blake3, xxh3-128) in C.

A file hashes to exactly what ``sha256sum``, ``b3sum`` or ``xxhsum -H2`` prints for it;
a directory hashes in the benchstone-tree-v1 format (docs/hasher.md). Walking, reading
and hashing run in a C extension with the GIL released, on every CPU the process may
use, in bounded memory whatever the corpus size.
"""

from benchstone.hasher._algorithms import ALGORITHMS, DEFAULT_ALGORITHM, parse_digest
from benchstone.hasher._errors import HasherError
from benchstone.hasher._hash import digest, hash_tree
from benchstone.hasher._listing import load_listing, save_listing
from benchstone.hasher._types import FileEntry, TreeDigest, VerifyResult
from benchstone.hasher._verify import verify

__all__ = [
    "ALGORITHMS",
    "DEFAULT_ALGORITHM",
    "FileEntry",
    "HasherError",
    "TreeDigest",
    "VerifyResult",
    "digest",
    "hash_tree",
    "load_listing",
    "parse_digest",
    "save_listing",
    "verify",
]
