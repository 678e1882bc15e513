"""The values the hasher hands out: per-file entries, tree digests, verification results.

They are small immutable records written out by hand rather than with ``dataclasses``:
importing dataclasses (and the typing machinery it pulls in) costs more than the rest
of the package together, and every ``bench`` command and every corpus check starts a
process that imports the hasher.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # instead of importing typing; type checkers read it as True
if TYPE_CHECKING:
    from collections.abc import Mapping


class _Frozen:
    __slots__ = ()
    _order: tuple[str, ...] = ()  # the fields in the order repr and == use

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._order)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._fields() == other._fields()  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._order)
        return f"{type(self).__name__}({shown})"


class FileEntry(_Frozen):
    """One regular file of a corpus: its size in bytes and its own ``ALGO:HEX`` digest."""

    __slots__ = ("digest", "size")
    _order = ("size", "digest")
    size: int
    digest: str

    def __init__(self, size: int, digest: str) -> None:
        object.__setattr__(self, "size", size)
        object.__setattr__(self, "digest", digest)

    def __hash__(self) -> int:
        return hash((self.size, self.digest))


class TreeDigest(_Frozen):
    """A corpus digest with the per-file listing behind it.

    ``files`` maps each file's path relative to the corpus root (POSIX separators, in
    bytewise order) to its FileEntry. A corpus that is a single file has one entry, keyed
    by the file's name, and ``digest`` is that file's own digest: renaming the file does
    not change its pin, but a drift report can still name it.
    """

    __slots__ = ("algo", "digest", "files")
    _order = ("algo", "digest", "files")
    algo: str
    digest: str
    files: Mapping[str, FileEntry]

    def __init__(self, algo: str, digest: str, files: Mapping[str, FileEntry]) -> None:
        object.__setattr__(self, "algo", algo)
        object.__setattr__(self, "digest", digest)
        object.__setattr__(self, "files", files)

    def __hash__(self) -> int:
        return hash(self.digest)

    def __repr__(self) -> str:  # a listing can hold millions of files
        return f"TreeDigest(algo={self.algo!r}, digest={self.digest!r}, files=<{len(self.files)}>)"


class VerifyResult(_Frozen):
    """Whether a corpus still has its pinned digest and, if not, which files moved.

    ``added``, ``removed`` and ``changed`` are relative paths in bytewise order; they are
    filled only when the digests differ and a listing of the pinned corpus was given
    (without one the hasher knows *that* the corpus drifted, not *where*).
    """

    __slots__ = ("actual", "added", "changed", "expected", "ok", "removed")
    _order = ("ok", "expected", "actual", "added", "removed", "changed")
    ok: bool
    expected: str
    actual: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]

    def __init__(
        self,
        ok: bool,
        expected: str,
        actual: str,
        added: tuple[str, ...] = (),
        removed: tuple[str, ...] = (),
        changed: tuple[str, ...] = (),
    ) -> None:
        values = (ok, expected, actual, added, removed, changed)
        for name, value in zip(self._order, values, strict=True):
            object.__setattr__(self, name, value)

    def __hash__(self) -> int:
        return hash(self._fields())

    def describe(self, limit: int = 5) -> str:
        """One line for a refusal message: the counts, and the first ``limit`` paths of each."""
        if self.ok:
            return f"matches {self.expected}"
        parts = []
        for label, paths in (
            ("changed", self.changed),
            ("added", self.added),
            ("removed", self.removed),
        ):
            if paths:
                shown = ", ".join(p or os.curdir for p in paths[:limit])
                more = f", and {len(paths) - limit} more" if len(paths) > limit else ""
                parts.append(f"{len(paths)} {label} ({shown}{more})")
        detail = "; ".join(parts) if parts else "no listing of the pinned corpus to compare with"
        return f"expected {self.expected}, found {self.actual}: {detail}"
