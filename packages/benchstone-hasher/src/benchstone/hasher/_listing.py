"""Per-file listings of pinned corpora, saved so that a later drift report can name files.

A listing is a JSON file ``<algo>-<hex>.json`` in a directory the caller owns (the
runner passes ``StorePaths.listings`` under ``$BENCHSTONE_HOME``); the hasher itself
knows nothing of where the store is. Files are written 0o600 and atomically (temp
file, fsync, rename), so a crash leaves the old listing or the new one, never half.
A listing is checked on load: its entries must hash to the digest it is filed under,
so a truncated or edited listing is reported instead of producing a wrong drift report.

json, tempfile and pathlib are imported inside the functions (and contextlib not at
all): only pinning and drift reports need them, and together they would more than double
the import time of the package, which every corpus check pays.
"""

from __future__ import annotations

import os
from types import MappingProxyType

from benchstone.hasher._algorithms import DIGEST_SIZES, format_digest, parse_digest
from benchstone.hasher._errors import HasherError
from benchstone.hasher._format import tree_digest
from benchstone.hasher._types import FileEntry, TreeDigest

LISTING_FORMAT = "benchstone-listing-v1"


TYPE_CHECKING = False  # instead of importing typing (see _types); checkers read True
if TYPE_CHECKING:
    from pathlib import Path


def listing_path(directory: str | os.PathLike[str], digest: str) -> Path:
    """Where the listing of ``digest`` lives under ``directory``."""
    from pathlib import Path

    algo, digits = parse_digest(digest)
    return Path(directory) / f"{algo}-{digits}.json"


def _raw_entries(algo: str, tree: TreeDigest) -> list[tuple[bytes, int, bytes]]:
    entries = []
    for name, entry in tree.files.items():
        entry_algo, digits = parse_digest(entry.digest)
        if entry_algo != algo:
            raise HasherError(f"file {name!r} has a {entry_algo} digest in a {algo} listing")
        entries.append((os.fsencode(name), entry.size, bytes.fromhex(digits)))
    entries.sort()
    return entries


def _kind(algo: str, digits: str, entries: list[tuple[bytes, int, bytes]]) -> str | None:
    """'file' or 'tree' if ``entries`` really produce the digest ``digits``; else None.

    A single-file corpus's digest is its one file's digest; a tree's is the
    benchstone-tree-v1 digest of its entries (which never equals a file's, short of a
    hash collision).
    """
    raw = bytes.fromhex(digits)
    if len(entries) == 1 and entries[0][2] == raw:
        return "file"
    if all(rel and b"\0" not in rel for rel, _, _ in entries) and tree_digest(algo, entries) == raw:
        return "tree"
    return None


def save_listing(directory: str | os.PathLike[str], tree: TreeDigest) -> Path:
    """Write ``tree``'s per-file listing under ``directory``; return the file's path."""
    import json
    import tempfile

    if not isinstance(tree, TreeDigest):
        raise HasherError(f"save_listing needs a TreeDigest from hash_tree, not {tree!r}")
    algo, digits = parse_digest(tree.digest)
    entries = _raw_entries(algo, tree)
    kind = _kind(algo, digits, entries)
    if kind is None:
        raise HasherError(
            f"the files of this TreeDigest do not hash to {tree.digest}: save the TreeDigest"
            " that hash_tree returned, unmodified"
        )
    target = listing_path(directory, tree.digest)
    try:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise HasherError(f"cannot create listing in {target.parent}: {exc.strerror}") from None
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            header = {"format": LISTING_FORMAT, "digest": tree.digest, "kind": kind}
            out.write(json.dumps(header)[:-1] + ', "files": [')
            for i, (rel, size, raw) in enumerate(entries):
                row = json.dumps([os.fsdecode(rel), size, raw.hex()])
                out.write(("\n" if i == 0 else ",\n") + row)
            out.write("\n]}\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        _discard(tmp)
        raise HasherError(f"cannot write listing {target}: {exc.strerror}") from None
    except BaseException:
        _discard(tmp)
        raise
    _fsync_dir(target.parent)
    return target


def _discard(tmp: str) -> None:
    """Remove a temporary file after a failure; a second failure changes nothing."""
    try:
        os.unlink(tmp)
    except OSError:
        return


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable; some filesystems refuse to fsync a directory, which is fine."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_listing(directory: str | os.PathLike[str], digest: str) -> TreeDigest | None:
    """The listing saved for ``digest`` under ``directory``, or None if there is none."""
    import json

    algo, digits = parse_digest(digest)
    target = listing_path(directory, digest)
    try:
        with open(target, encoding="utf-8") as src:
            doc = json.load(src)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise HasherError(f"cannot read listing {target}: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise HasherError(f"listing {target} is not valid JSON ({exc}); delete it") from None
    entries = _parse(target, algo, doc)
    if doc.get("digest") != format_digest(algo, bytes.fromhex(digits)):
        raise HasherError(f"listing {target} records digest {doc.get('digest')!r}; delete it")
    if _kind(algo, digits, entries) != doc.get("kind"):
        raise HasherError(
            f"listing {target}: its files do not hash to {algo}:{digits} (edited or truncated?);"
            " delete it and pin the corpus again"
        )
    files = {
        os.fsdecode(rel): FileEntry(size, format_digest(algo, raw)) for rel, size, raw in entries
    }
    return TreeDigest(algo, format_digest(algo, bytes.fromhex(digits)), MappingProxyType(files))


def _parse(target: Path, algo: str, doc: object) -> list[tuple[bytes, int, bytes]]:
    if not isinstance(doc, dict) or doc.get("format") != LISTING_FORMAT:
        raise HasherError(f"listing {target} is not a {LISTING_FORMAT} document; delete it")
    rows = doc.get("files")
    if not isinstance(rows, list):
        raise HasherError(f"listing {target}: 'files' must be a list; delete it")
    width = 2 * DIGEST_SIZES[algo]
    entries = []
    for i, row in enumerate(rows):
        ok = (
            isinstance(row, list)
            and len(row) == 3
            and isinstance(row[0], str)
            and type(row[1]) is int
            and 0 <= row[1] < 1 << 64
            and isinstance(row[2], str)
            and len(row[2]) == width
        )
        try:
            raw = bytes.fromhex(row[2]) if ok else b""
        except ValueError:
            ok = False
        if not ok:
            raise HasherError(
                f"listing {target}: files[{i}] must be [path, size, {width} hex digits]; delete it"
            )
        entries.append((os.fsencode(row[0]), row[1], raw))
    entries.sort()
    return entries
