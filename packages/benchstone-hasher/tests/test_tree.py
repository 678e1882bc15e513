"""Directory digests (benchstone-tree-v1): what changes them, what does not, what is refused."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from hasher_support import ALGOS, content, new_hash, reference_tree, write_tree

from benchstone.hasher import FileEntry, HasherError, TreeDigest, digest, hash_tree


@pytest.mark.parametrize("algo", ALGOS)
def test_matches_the_documented_format(corpus: Path, algo: str) -> None:
    assert digest(corpus, algo) == reference_tree(algo, corpus)


def test_empty_directory_is_the_digest_of_the_header_alone(tmp_path: Path) -> None:
    for algo in ALGOS:
        h = new_hash(algo)
        h.update(b"benchstone-tree-v1\0" + algo.encode() + b"\0")
        tree = hash_tree(tmp_path, algo)
        assert tree.digest == f"{algo}:{h.hexdigest()}"
        assert dict(tree.files) == {}


def test_empty_subdirectories_do_not_count(corpus: Path) -> None:
    before = digest(corpus)
    (corpus / "new" / "deeper").mkdir(parents=True)
    assert digest(corpus) == before


def test_content_change_changes_the_digest(corpus: Path) -> None:
    before = digest(corpus)
    (corpus / "a" / "b.txt").write_bytes(b"nested!\n")
    assert digest(corpus) != before


def test_same_size_one_byte_change_changes_the_digest(corpus: Path) -> None:
    before = digest(corpus)
    data = bytearray((corpus / "a/c/d.bin").read_bytes())
    data[4321] ^= 1
    (corpus / "a/c/d.bin").write_bytes(bytes(data))
    assert digest(corpus) != before


def test_rename_changes_the_digest(corpus: Path) -> None:
    before = digest(corpus)
    (corpus / "a.txt").rename(corpus / "a2.txt")
    assert digest(corpus) != before


def test_move_to_another_directory_changes_the_digest(corpus: Path) -> None:
    before = digest(corpus)
    (corpus / "a" / "b.txt").rename(corpus / "a" / "c" / "b.txt")
    assert digest(corpus) != before


def test_add_and_remove_change_the_digest(corpus: Path) -> None:
    before = digest(corpus)
    (corpus / "added").write_bytes(b"")
    added = digest(corpus)
    assert added != before
    (corpus / "added").unlink()
    assert digest(corpus) == before
    (corpus / "b-").unlink()
    assert digest(corpus) != before


def test_metadata_does_not_count(corpus: Path) -> None:
    before = digest(corpus)
    for path in corpus.rglob("*"):
        os.utime(path, (1_000_000, 1_000_000))
        if path.is_file():
            path.chmod(0o600)
    os.utime(corpus, (2_000_000, 2_000_000))
    assert digest(corpus) == before


def test_creation_order_does_not_count(tmp_path: Path) -> None:
    files = {f"d{i % 3}/f{i}": content(i * 37, str(i)) for i in range(30)}
    forwards = write_tree(tmp_path / "forwards", files)
    backwards = write_tree(tmp_path / "backwards", dict(reversed(list(files.items()))))
    assert digest(forwards) == digest(backwards)
    assert hash_tree(forwards) == hash_tree(backwards)


def test_bytewise_order_not_per_directory_order(tmp_path: Path) -> None:
    # "a.txt" < "a/b" bytewise ('.' is 0x2e, '/' is 0x2f); a per-directory walk would
    # put the directory first or last depending on the tool. The format fixes it.
    write_tree(tmp_path, {"a/b": b"1", "a.txt": b"2", "a-": b"3", "B": b"4"})
    assert list(hash_tree(tmp_path).files) == ["B", "a-", "a.txt", "a/b"]
    assert digest(tmp_path) == reference_tree("blake3", tmp_path)


def test_files_listing(corpus: Path) -> None:
    tree = hash_tree(corpus, "sha256")
    assert isinstance(tree, TreeDigest)
    assert tree.algo == "sha256"
    assert tree.digest == digest(corpus, "sha256")
    assert list(tree.files) == ["Z", "a.txt", "a/b.txt", "a/c/d.bin", "b-"]
    for rel, entry in tree.files.items():
        assert entry == FileEntry((corpus / rel).stat().st_size, digest(corpus / rel, "sha256"))
    with pytest.raises(TypeError):
        tree.files["x"] = FileEntry(0, "")  # type: ignore[index]
    with pytest.raises(AttributeError):
        tree.digest = "sha256:00"  # type: ignore[misc]


def test_single_file_tree_is_keyed_by_its_name(corpus: Path) -> None:
    tree = hash_tree(corpus / "a" / "b.txt")
    assert tree.digest == digest(corpus / "a" / "b.txt")
    assert dict(tree.files) == {"b.txt": FileEntry(7, tree.digest)}


def test_non_utf8_names(tmp_path: Path) -> None:
    name = b"caf\xe9.bin"  # latin-1, not valid UTF-8
    with open(os.path.join(os.fsencode(tmp_path), name), "wb") as out:
        out.write(b"bytes")
    tree = hash_tree(tmp_path)
    assert list(tree.files) == [os.fsdecode(name)]
    assert tree.digest == reference_tree("blake3", tmp_path)


def test_symlink_inside_is_refused_naming_it(corpus: Path) -> None:
    os.symlink("/etc/hostname", corpus / "a" / "link")
    with pytest.raises(HasherError, match=r"a/link: is a symbolic link") as info:
        digest(corpus)
    assert "\n" not in str(info.value)


def test_symlink_to_a_directory_inside_is_refused(corpus: Path) -> None:
    os.symlink(corpus / "a", corpus / "dirlink")
    with pytest.raises(HasherError, match="dirlink: is a symbolic link"):
        digest(corpus)


def test_root_may_be_a_symlink(corpus: Path, tmp_path: Path) -> None:
    os.symlink(corpus, tmp_path / "alias")
    assert digest(tmp_path / "alias") == digest(corpus)


def test_fifo_is_refused(corpus: Path) -> None:
    os.mkfifo(corpus / "pipe")
    with pytest.raises(HasherError, match=r"pipe: is a FIFO"):
        digest(corpus)


def test_socket_is_refused(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(corpus)
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind("sock")
        with pytest.raises(HasherError, match=r"sock: is a socket"):
            digest(corpus)
    finally:
        sock.close()


def test_several_bad_entries_name_the_first_and_count_the_rest(corpus: Path) -> None:
    os.symlink("x", corpus / "l1")
    os.symlink("x", corpus / "l2")
    os.mkfifo(corpus / "a" / "p")
    with pytest.raises(HasherError, match=r"corpus/a/p: is a FIFO .*and 2 more"):
        digest(corpus)


def test_root_fifo_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(HasherError, match="neither a regular file nor a directory"):
        digest(tmp_path / "pipe")


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(HasherError, match=r"nope: no such file or directory"):
        digest(tmp_path / "nope")


def test_unknown_algorithm(corpus: Path) -> None:
    with pytest.raises(HasherError, match=r"unknown hash algorithm 'md5'"):
        digest(corpus, "md5")


def test_bad_path_type() -> None:
    with pytest.raises(HasherError, match="corpus path must be"):
        digest(42)  # type: ignore[arg-type]


UNREADABLE = textwrap.dedent(
    """
    import os, sys
    from benchstone.hasher import HasherError, digest
    if os.geteuid() == 0:  # root reads anything: become nobody, after the imports
        os.setgid(65534)
        os.setuid(65534)
    try:
        digest(sys.argv[1])
    except HasherError as exc:
        print(exc)
        sys.exit(3)
    """
)


@pytest.mark.parametrize("what", ["file", "directory"])
def test_unreadable_entry_is_an_error_naming_it(what: str) -> None:
    # Outside pytest's tmp dir: its parents are 0o700, which "nobody" could not enter.
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "corpus"
        write_tree(root, {"ok.txt": b"fine", "sub/secret.bin": b"hidden"})
        target = root / "sub" / ("secret.bin" if what == "file" else "")
        for path in [Path(scratch), root, root / "sub"]:
            path.chmod(0o755)
        (root / "ok.txt").chmod(0o644)
        target.chmod(0)
        try:
            run = subprocess.run(
                [sys.executable, "-c", UNREADABLE, str(root)], capture_output=True, text=True
            )
        finally:
            target.chmod(0o755)
    assert run.returncode == 3, run.stderr
    message = run.stdout.strip()
    assert message.startswith("cannot ")
    assert str(root / "sub") in message
    assert "Permission denied" in message
    assert "readable" in message


def test_worked_example_from_the_docs(tmp_path: Path) -> None:
    # docs/hasher.md, "Worked example": a.txt = "alpha\n", dir/b.bin empty.
    write_tree(tmp_path, {"a.txt": b"alpha\n", "dir/b.bin": b""})
    assert digest(tmp_path) == (
        "blake3:c60b732f023c756c3b264ff639cde4800b30faf18a25b69dcbdd83db7a4c1f59"
    )
    assert digest(tmp_path, "sha256") == (
        "sha256:b2da6ae4011fe821682f4438771fcc5e35f0c8b0de87d557d9c84fdec4df639c"
    )
    assert digest(tmp_path, "xxh3-128") == "xxh3-128:3f4d647aae17c73c1ed5cb918634dca1"
