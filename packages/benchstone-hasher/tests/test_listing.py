"""Listings: saved atomically at 0o600 under the digest, checked when loaded."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from benchstone.hasher import (
    FileEntry,
    HasherError,
    TreeDigest,
    hash_tree,
    load_listing,
    save_listing,
)


@pytest.mark.parametrize("algo", ["sha256", "blake3", "xxh3-128"])
def test_round_trip(corpus: Path, tmp_path: Path, algo: str) -> None:
    tree = hash_tree(corpus, algo)
    listings = tmp_path / "store" / "listings"
    path = save_listing(listings, tree)
    assert path == listings / (tree.digest.replace(":", "-") + ".json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_listing(listings, tree.digest) == tree
    assert os.listdir(listings) == [path.name]  # no temp file left behind


def test_single_file_round_trip(tmp_path: Path) -> None:
    (tmp_path / "one.bin").write_bytes(b"1")
    tree = hash_tree(tmp_path / "one.bin")
    save_listing(tmp_path / "l", tree)
    loaded = load_listing(tmp_path / "l", tree.digest)
    assert loaded == tree and dict(loaded.files) == {"one.bin": FileEntry(1, tree.digest)}


def test_empty_tree_round_trip(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    tree = hash_tree(tmp_path / "empty")
    save_listing(tmp_path / "l", tree)
    assert load_listing(tmp_path / "l", tree.digest) == tree


def test_non_utf8_name_round_trip(tmp_path: Path) -> None:
    root = tmp_path / "c"
    root.mkdir()
    with open(os.path.join(os.fsencode(root), b"\xff\xfe.bin"), "wb") as out:
        out.write(b"x")
    tree = hash_tree(root)
    save_listing(tmp_path / "l", tree)
    assert load_listing(tmp_path / "l", tree.digest) == tree


def test_saving_again_replaces(corpus: Path, tmp_path: Path) -> None:
    tree = hash_tree(corpus)
    first = save_listing(tmp_path, tree)
    first.write_text("garbage")
    assert save_listing(tmp_path, tree) == first
    assert load_listing(tmp_path, tree.digest) == tree


def test_missing_listing_is_none(tmp_path: Path) -> None:
    assert load_listing(tmp_path, "blake3:" + "0" * 64) is None
    assert load_listing(tmp_path / "not-there", "blake3:" + "0" * 64) is None


def test_bad_digest_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(HasherError, match="unknown algorithm"):
        load_listing(tmp_path, "md5:" + "0" * 32)


def test_edited_listing_is_refused(corpus: Path, tmp_path: Path) -> None:
    tree = hash_tree(corpus)
    path = save_listing(tmp_path, tree)
    doc = json.loads(path.read_text())
    doc["files"][0][1] += 1  # a size that was never hashed
    path.write_text(json.dumps(doc))
    with pytest.raises(HasherError, match="do not hash to") as info:
        load_listing(tmp_path, tree.digest)
    assert str(path) in str(info.value)


def test_truncated_listing_is_refused(corpus: Path, tmp_path: Path) -> None:
    tree = hash_tree(corpus)
    path = save_listing(tmp_path, tree)
    path.write_text(path.read_text()[:-40])
    with pytest.raises(HasherError, match="not valid JSON"):
        load_listing(tmp_path, tree.digest)


@pytest.mark.parametrize(
    "doc",
    [
        [],
        {"format": "other"},
        {"format": "benchstone-listing-v1", "files": {}},
        {"format": "benchstone-listing-v1", "files": [["a", "1", "00"]]},
        {"format": "benchstone-listing-v1", "files": [["a", 1, "zz" * 32]]},
        {"format": "benchstone-listing-v1", "files": [["a", True, "00" * 32]]},
    ],
)
def test_malformed_listing_is_refused(tmp_path: Path, doc: object) -> None:
    digest = "blake3:" + "0" * 64
    (tmp_path / ("blake3-" + "0" * 64 + ".json")).write_text(json.dumps(doc))
    with pytest.raises(HasherError, match=r"listing .*delete it"):
        load_listing(tmp_path, digest)


def test_inconsistent_tree_digest_is_not_saved(corpus: Path, tmp_path: Path) -> None:
    tree = hash_tree(corpus)
    forged = TreeDigest(tree.algo, tree.digest, {"a.txt": FileEntry(1, "blake3:" + "0" * 64)})
    listings = tmp_path / "listings"
    with pytest.raises(HasherError, match="do not hash to"):
        save_listing(listings, forged)
    with pytest.raises(HasherError, match="needs a TreeDigest"):
        save_listing(listings, tree.digest)  # type: ignore[arg-type]
    assert not listings.exists()


def test_unwritable_directory_is_an_error(tmp_path: Path, corpus: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(HasherError, match="cannot create listing"):
        save_listing(blocker / "listings", hash_tree(corpus))
