"""Content-addressed artifact blobs."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from benchstone.store import ReadOnlyStore, Store, StoreError


def test_put_artifact_is_content_addressed_and_read_only(store: Store, tmp_path: Path) -> None:
    data = os.urandom(3 * (1 << 20) + 17)  # spans several streaming chunks
    source = tmp_path / "a.bin"
    source.write_bytes(data)
    digest = store.put_artifact(source)
    hex_digest = hashlib.sha256(data).hexdigest()
    assert digest == "sha256:" + hex_digest
    blob = store.artifact_path(digest)
    assert blob == store.paths.home / "artifacts" / "sha256" / hex_digest[:2] / f"{hex_digest}.bin"
    assert blob.read_bytes() == data
    assert stat.S_IMODE(blob.stat().st_mode) == 0o444
    # leftovers of the temp-file dance are gone
    assert [p.name for p in store.paths.artifacts_root.iterdir()] == ["sha256"]


def test_identical_bytes_are_stored_once(store: Store, tmp_path: Path) -> None:
    (tmp_path / "one").write_bytes(b"same\n")
    (tmp_path / "two").write_bytes(b"same\n")
    first = store.put_artifact(tmp_path / "one")
    second = store.put_artifact(str(tmp_path / "two"))
    assert first == second
    assert sum(1 for p in store.paths.blobs.rglob("*") if p.is_file()) == 1


def test_artifact_path_never_creates(store: Store) -> None:
    digest = "sha256:" + "ab" * 32
    path = store.artifact_path(digest)
    assert not path.exists() and not path.parent.exists()


@pytest.mark.parametrize(
    "digest", ["sha256:XYZ", "blake3:" + "a" * 64, "sha256:" + "A" * 64, "a" * 64, ""]
)
def test_bad_digests_are_refused(store: Store, digest: str) -> None:
    with pytest.raises(StoreError, match="not a store digest"):
        store.artifact_path(digest)


def test_missing_or_directory_source_is_refused(store: Store, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is not a regular file"):
        store.put_artifact(tmp_path / "absent")
    with pytest.raises(StoreError, match="is not a regular file"):
        store.put_artifact(tmp_path)


def test_read_only_handle_resolves_artifacts(store: Store, tmp_path: Path) -> None:
    (tmp_path / "x").write_bytes(b"x")
    digest = store.put_artifact(tmp_path / "x")
    with ReadOnlyStore.open(store.paths.home) as ro:
        assert ro.artifact_path(digest).read_bytes() == b"x"
