"""verify(): does a corpus still have its pinned digest, and if not, what moved?"""

from __future__ import annotations

import os

from benchstone.hasher._algorithms import format_digest, parse_digest
from benchstone.hasher._errors import HasherError
from benchstone.hasher._hash import measure
from benchstone.hasher._types import VerifyResult

TYPE_CHECKING = False  # instead of importing typing (see _types); checkers read True
if TYPE_CHECKING:
    from benchstone.hasher._engine import Progress
    from benchstone.hasher._types import TreeDigest


def _ordered(paths: set[str]) -> tuple[str, ...]:
    return tuple(sorted(paths, key=os.fsencode))


def verify(
    path: object,
    expected: str,
    *,
    listing: TreeDigest | None = None,
    progress: Progress | None = None,
) -> VerifyResult:
    """Hash ``path`` with the algorithm named in ``expected`` and compare.

    When the digests differ and ``listing`` (the per-file listing saved when the pin was
    made) is given, the result names the files added, removed and changed since then.
    A missing path, a malformed ``expected`` or a listing for another digest raise
    HasherError: those are mistakes to fix, not drift to report.
    """
    algo, digits = parse_digest(expected)
    expected = f"{algo}:{digits}"
    if listing is not None and listing.digest != expected:
        raise HasherError(
            f"the listing given to verify is for {listing.digest}, not for the expected"
            f" {expected}: load the listing saved under the expected digest"
        )
    _, entries, top = measure(path, algo, progress, want_files=listing is not None)
    actual = format_digest(algo, top)
    if actual == expected or listing is None:
        return VerifyResult(actual == expected, expected, actual)
    now = {os.fsdecode(rel): (size, format_digest(algo, raw)) for rel, size, raw in entries}
    then = {name: (entry.size, entry.digest) for name, entry in listing.files.items()}
    return VerifyResult(
        ok=False,
        expected=expected,
        actual=actual,
        added=_ordered(now.keys() - then.keys()),
        removed=_ordered(then.keys() - now.keys()),
        changed=_ordered({name for name in now.keys() & then.keys() if now[name] != then[name]}),
    )
