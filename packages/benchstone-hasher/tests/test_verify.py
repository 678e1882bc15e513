"""verify(): a pinned corpus either still matches, or the result names what drifted."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchstone.hasher import HasherError, VerifyResult, digest, hash_tree, verify


def test_unchanged_corpus_is_ok(corpus: Path) -> None:
    pinned = hash_tree(corpus)
    result = verify(corpus, pinned.digest, listing=pinned)
    assert result == VerifyResult(True, pinned.digest, pinned.digest)
    assert result.describe() == f"matches {pinned.digest}"


def test_drift_names_added_removed_and_changed_files(corpus: Path) -> None:
    pinned = hash_tree(corpus)
    (corpus / "a" / "b.txt").write_bytes(b"edited\n")  # changed (size too)
    (corpus / "Z").write_bytes(bytes(70000))  # changed, same size
    (corpus / "b-").unlink()  # removed
    (corpus / "a" / "c" / "new.bin").write_bytes(b"new")  # added
    (corpus / "0-first").write_bytes(b"")  # added
    result = verify(corpus, pinned.digest, listing=pinned)
    assert not result.ok
    assert result.expected == pinned.digest
    assert result.actual == digest(corpus)
    assert result.added == ("0-first", "a/c/new.bin")
    assert result.removed == ("b-",)
    assert result.changed == ("Z", "a/b.txt")
    assert result.describe() == (
        f"expected {pinned.digest}, found {result.actual}: 2 changed (Z, a/b.txt);"
        " 2 added (0-first, a/c/new.bin); 1 removed (b-)"
    )


def test_rename_is_one_removed_and_one_added(corpus: Path) -> None:
    pinned = hash_tree(corpus)
    (corpus / "a.txt").rename(corpus / "renamed.txt")
    result = verify(corpus, pinned.digest, listing=pinned)
    assert (result.added, result.removed, result.changed) == (("renamed.txt",), ("a.txt",), ())


def test_drift_without_a_listing_says_so(corpus: Path) -> None:
    pinned = digest(corpus)
    (corpus / "a.txt").write_bytes(b"other")
    result = verify(corpus, pinned)
    assert not result.ok
    assert (result.added, result.removed, result.changed) == ((), (), ())
    assert "no listing of the pinned corpus" in result.describe()


def test_describe_shortens_long_lists(corpus: Path) -> None:
    pinned = hash_tree(corpus)
    for i in range(8):
        (corpus / f"new{i}").write_bytes(b"")
    text = verify(corpus, pinned.digest, listing=pinned).describe(limit=3)
    assert "8 added (new0, new1, new2, and 5 more)" in text
    assert "\n" not in text


def test_single_file_corpus(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"one")
    pinned = hash_tree(path, "sha256")
    assert verify(path, pinned.digest, listing=pinned).ok
    path.write_bytes(b"two")
    result = verify(path, pinned.digest, listing=pinned)
    assert not result.ok and result.changed == ("data.bin",)


def test_uses_the_algorithm_named_in_expected(corpus: Path) -> None:
    for algo in ("sha256", "xxh3-128", "blake3"):
        assert verify(corpus, digest(corpus, algo)).actual.startswith(f"{algo}:")


def test_expected_may_use_upper_case_hex(corpus: Path) -> None:
    pinned = digest(corpus)
    result = verify(corpus, pinned.upper().replace("BLAKE3", "blake3"))
    assert result.ok and result.expected == pinned


def test_missing_path_is_an_error_not_drift(tmp_path: Path) -> None:
    with pytest.raises(HasherError, match="no such file or directory"):
        verify(tmp_path / "gone", "blake3:" + "0" * 64)


def test_malformed_expected_is_an_error(corpus: Path) -> None:
    with pytest.raises(HasherError, match="no algorithm prefix"):
        verify(corpus, "0" * 64)


def test_listing_for_another_digest_is_refused(corpus: Path, tmp_path: Path) -> None:
    other = hash_tree(corpus / "a")
    with pytest.raises(HasherError, match="listing given to verify is for"):
        verify(corpus, digest(corpus), listing=other)
