"""Content-addressed, read-only artifact blobs under ``artifacts/sha256/``."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path

from ._errors import StoreError
from ._paths import BLOB_ALGORITHM, StorePaths

CHUNK = 1 << 20
_DIGEST = re.compile(rf"{BLOB_ALGORITHM}:([0-9a-f]{{64}})")
INCOMING_PREFIX = ".incoming-"


def blob_hex(digest: str) -> str:
    """The hex part of a store digest, or StoreError if it is not ``sha256:<64 hex>``."""
    match = _DIGEST.fullmatch(digest) if isinstance(digest, str) else None
    if match is None:
        raise StoreError(
            f"artifact digest {digest!r} is not a store digest: expected "
            f"'{BLOB_ALGORITHM}:' followed by 64 lowercase hex characters"
        )
    return match.group(1)


def blob_path(paths: StorePaths, digest: str) -> Path:
    hex_digest = blob_hex(digest)
    return paths.blobs / hex_digest[:2] / f"{hex_digest}.bin"


def hash_file(path: Path) -> str:
    """sha256 hex of a file, streamed so memory stays flat whatever its size."""
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def put_artifact(paths: StorePaths, source: Path | str) -> str:
    """Copy ``source`` into the blob tree once, read-only, and return its digest.

    The bytes are hashed while they are copied, so the digest describes exactly what was
    stored even if ``source`` changes meanwhile. The copy is fsynced and renamed into
    place, so a blob path never holds partial content. An existing blob is never
    rewritten: if its bytes were damaged, verify reports it rather than a later put
    silently papering over it.
    """
    source = Path(source)
    if not source.is_file():
        raise StoreError(f"artifact {source} is not a regular file")
    paths.blobs.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=INCOMING_PREFIX, dir=paths.artifacts_root)
    tmp = Path(tmp_name)
    hasher = hashlib.sha256()
    try:
        with open(source, "rb") as src, os.fdopen(fd, "wb") as dst:
            while chunk := src.read(CHUNK):
                hasher.update(chunk)
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
        hex_digest = hasher.hexdigest()
        target = paths.blobs / hex_digest[:2] / f"{hex_digest}.bin"
        target.parent.mkdir(mode=0o700, exist_ok=True)
        if target.exists():
            tmp.unlink()
        else:
            tmp.chmod(0o444)
            os.replace(tmp, target)
            _fsync_dir(target.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise StoreError(
            f"cannot store artifact {source}: {exc.strerror or exc} "
            f"({exc.filename or paths.artifacts_root})"
        ) from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return f"{BLOB_ALGORITHM}:{hex_digest}"
