"""progress(bytes_done, bytes_total): called from the calling thread, ending at the total."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from hasher_support import content, write_tree

from benchstone.hasher import digest, hash_tree, verify


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int | None]] = []
        self.threads: set[int] = set()

    def __call__(self, done: int, total: int | None) -> None:
        self.calls.append((done, total))
        self.threads.add(threading.get_ident())


def test_tree_progress_ends_at_the_total(tmp_path: Path) -> None:
    write_tree(tmp_path, {f"d{i % 4}/f{i}": content(1000 * i, str(i)) for i in range(40)})
    total = sum(1000 * i for i in range(40))
    seen = Recorder()
    assert digest(tmp_path, progress=seen) == digest(tmp_path)
    assert seen.calls[-1] == (total, total)
    dones = [done for done, _ in seen.calls]
    assert dones == sorted(dones)
    assert seen.threads == {threading.get_ident()}


def test_file_progress_ends_at_the_size(tmp_path: Path) -> None:
    path = tmp_path / "big"
    path.write_bytes(content(3 << 20))
    seen = Recorder()
    hash_tree(path, "xxh3-128", progress=seen)
    assert seen.calls[-1] == (3 << 20, 3 << 20)
    assert seen.threads == {threading.get_ident()}


def test_verify_reports_progress(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a": b"abc"})
    seen = Recorder()
    assert verify(tmp_path, digest(tmp_path), progress=seen).ok
    assert seen.calls[-1] == (3, 3)


def test_an_exception_in_progress_propagates(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a": b"abc"})

    def fail(done: int, total: int | None) -> None:
        raise RuntimeError("stop hashing")

    with pytest.raises(RuntimeError, match="stop hashing"):
        digest(tmp_path, progress=fail)
