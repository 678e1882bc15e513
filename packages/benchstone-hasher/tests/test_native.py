"""The C extension agrees with hashlib, blake3 and xxhash, on every path through it.

Random inputs of random sizes plus the sizes where implementations break: 0, 1, BLAKE3's
64-byte blocks and 1024-byte chunks, the read buffer, and the parallel path's block
size. The parallel single-file path is driven with tiny blocks (2 KiB and up) so that
hundreds of blocks, partial final blocks and exact multiples are exercised on small
files.
"""

from __future__ import annotations

import hashlib
import os
import random
import socket
from pathlib import Path

import pytest
from hasher_support import new_hash, reference_bytes, write_tree

from benchstone.hasher import _native

NATIVE = {"blake3": (_native.BLAKE3, 32), "xxh3-128": (_native.XXH3_128, 16)}
SPECS = {**NATIVE, "sha256": (hashlib.sha256, 32)}
TICK = 100_000_000
BOUNDARIES = [0, 1, 63, 64, 65, 1023, 1024, 1025, 2047, 2048, 2049, 4095, 4096, 4097]
BOUNDARIES += [8191, 8192, 8193, 65535, 65536, 65537, 131072, 131073]


def sizes(seed: int) -> list[int]:
    rng = random.Random(seed)
    return BOUNDARIES + [rng.randrange(0, 300_000) for _ in range(12)]


@pytest.mark.parametrize("algo", list(SPECS))
def test_hash_file_sequential_matches_library(tmp_path: Path, algo: str) -> None:
    spec, size = SPECS[algo]
    rng = random.Random(1)
    for n in sizes(1):
        data = rng.randbytes(n)
        path = tmp_path / f"f{n}"
        path.write_bytes(data)
        got = _native.hash_file(str(path), spec, size, 1, 4096, 1 << 40, None, TICK)
        assert got == (n, reference_bytes(algo, data)), n


@pytest.mark.parametrize("threads", [2, 3, 4])
@pytest.mark.parametrize("block", [2048, 4096, 16384])
@pytest.mark.parametrize("algo", list(SPECS))
def test_hash_file_parallel_matches_library(
    tmp_path: Path, algo: str, block: int, threads: int
) -> None:
    spec, size = SPECS[algo]
    rng = random.Random(block * threads)
    cases = [0, 1, block - 1, block, block + 1, 2 * block, 7 * block + 5, 64 * block]
    cases += [rng.randrange(0, 300_000) for _ in range(4)]
    for n in cases:
        data = rng.randbytes(n)
        path = tmp_path / f"f{n}"
        path.write_bytes(data)
        got = _native.hash_file(str(path), spec, size, threads, block, 0, None, TICK)
        assert got == (n, reference_bytes(algo, data)), (n, block, threads)


def header(algo: str) -> bytes:
    return b"benchstone-tree-v1\0" + algo.encode() + b"\0"


def tree_of(tmp_path: Path, algo: str, threads: int = 2, **kwargs: object) -> tuple:
    """hash_tree's (top, files, odd), after checking its byte count and want_files=False."""
    spec, size = SPECS[algo]
    args = {"bufsize": 4096, "progress": None, "interval": TICK, **kwargs}
    call = (str(tmp_path), spec, size, header(algo), threads, args["bufsize"])
    top, files, odd, hashed = _native.hash_tree(*call, args["progress"], args["interval"], True)
    assert hashed == sum(size for _, size, _ in files)
    bare = _native.hash_tree(*call, None, TICK, False)
    assert bare == (top, [], odd, hashed if not odd else bare[3])
    return top, files, odd


def reference_top(algo: str, files: list[tuple[bytes, int, bytes]]) -> bytes:
    h = new_hash(algo)
    h.update(header(algo))
    for rel, size, raw in files:
        h.update(rel + b"\0" + size.to_bytes(8, "big") + raw)
    return h.digest()


@pytest.mark.parametrize("threads", [1, 2, 4])
@pytest.mark.parametrize("algo", list(SPECS))
def test_hash_tree_matches_library(tmp_path: Path, algo: str, threads: int) -> None:
    rng = random.Random(threads)
    files = {f"d{i % 7}/e{i % 3}/f{i}": rng.randbytes(n) for i, n in enumerate(sizes(threads))}
    files["top"] = b"at the root"
    write_tree(tmp_path, files)
    # The smallest buffer the C accepts, so larger files take many reads.
    top, got, odd = tree_of(tmp_path, algo, threads)
    want = sorted((rel.encode(), len(d), reference_bytes(algo, d)) for rel, d in files.items())
    assert (got, odd) == (want, [])
    assert top == reference_top(algo, want)


def test_hash_tree_of_an_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "only" / "dirs").mkdir(parents=True)
    assert tree_of(tmp_path, "blake3") == (reference_top("blake3", []), [], [])


def test_hash_tree_reports_every_entry_that_is_not_a_regular_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tree(tmp_path, {"a": b"12345", "d/e/f": b"", "d/g": b"xy"})
    os.symlink("a", tmp_path / "link")
    os.symlink("d", tmp_path / "d" / "dirlink")
    os.mkfifo(tmp_path / "d" / "fifo")
    sock = socket.socket(socket.AF_UNIX)
    monkeypatch.chdir(tmp_path)  # AF_UNIX paths are short: bind relative to the corpus
    try:
        sock.bind("sock")
        top, files, odd = tree_of(tmp_path, "blake3")
    finally:
        sock.close()
    assert top is None and files == []
    assert odd == [(b"d/dirlink", "l"), (b"d/fifo", "p"), (b"link", "l"), (b"sock", "s")]


def test_missing_paths_are_oserrors_naming_them(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(FileNotFoundError) as info:
        _native.hash_file(str(missing), _native.BLAKE3, 32, 1, 4096, 0, None, TICK)
    assert os.fsdecode(info.value.filename) == str(missing)
    with pytest.raises(FileNotFoundError) as info:
        tree_of(missing, "blake3")
    assert os.fsdecode(info.value.filename) == str(missing)


def test_a_fifo_is_not_opened_as_a_file(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")  # would block forever if opened for reading without O_NONBLOCK
    with pytest.raises(OSError, match="not a regular file"):
        _native.hash_file(str(tmp_path / "fifo"), _native.BLAKE3, 32, 1, 4096, 0, None, TICK)


@pytest.mark.parametrize("algo", list(SPECS))
def test_progress_counts_every_byte_and_its_exception_stops_the_hash(
    tmp_path: Path, algo: str
) -> None:
    spec, size = SPECS[algo]
    data = os.urandom(200_000)
    path = tmp_path / "f"
    path.write_bytes(data)
    seen: list[int] = []
    _native.hash_file(str(path), spec, size, 2, 2048, 0, seen.append, 0)
    assert seen and seen == sorted(seen) and seen[-1] <= len(data)

    def stop(done: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _native.hash_file(str(path), spec, size, 2, 2048, 0, stop, 0)
    write_tree(tmp_path / "t", {f"d{i}/f": data for i in range(20)})
    with pytest.raises(KeyboardInterrupt):
        # interval 0: a tick after the first directory, whatever the speed of the machine
        tree_of(tmp_path / "t", algo, 1, progress=stop, interval=0)


def test_a_failing_hash_object_is_reported(tmp_path: Path) -> None:
    class Broken:
        def update(self, data: object) -> None:
            raise ValueError("broken hash")

        def digest(self) -> bytes:
            return b"\0" * 32

    (tmp_path / "f").write_bytes(b"x" * 10_000)
    with pytest.raises(ValueError, match="broken hash"):
        _native.hash_file(str(tmp_path / "f"), Broken, 32, 1, 4096, 0, None, TICK)
    with pytest.raises(ValueError, match="broken hash"):
        _native.hash_tree(str(tmp_path), Broken, 32, b"h", 2, 4096, None, TICK, True)


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(ValueError, match="threads"):
        _native.hash_file(str(tmp_path / "f"), _native.BLAKE3, 32, 0, 4096, 0, None, TICK)
    with pytest.raises(ValueError, match="power of two"):
        _native.hash_file(str(tmp_path / "f"), _native.BLAKE3, 32, 2, 3000, 0, None, TICK)
    with pytest.raises(ValueError, match="native algorithm"):
        _native.hash_file(str(tmp_path / "f"), 99, 32, 1, 4096, 0, None, TICK)
    with pytest.raises(ValueError, match="bufsize"):
        _native.hash_tree(str(tmp_path), _native.BLAKE3, 32, b"h", 1, 100, None, TICK, True)


def test_build_info_names_the_vendored_versions() -> None:
    info = _native.build_info()
    assert info["blake3"] == "1.3.3"
    assert info["xxhash"] == "0.8.4"
    assert info["blake3_simd_degree"] >= 1


@pytest.mark.parametrize("threads", [2, 3])
def test_blake3_blocks_over_several_rounds(tmp_path: Path, threads: int) -> None:
    # The parallel BLAKE3 path stacks chaining values in rounds of 4096 blocks; with
    # 2 KiB blocks, 8 MiB is one round.
    round_bytes = 4096 * 2048
    for n in (round_bytes - 1, round_bytes, round_bytes + 1, 2 * round_bytes + 3000):
        data = random.Random(n).randbytes(n)
        path = tmp_path / "f"
        path.write_bytes(data)
        got = _native.hash_file(str(path), _native.BLAKE3, 32, threads, 2048, 0, None, TICK)
        assert got == (n, reference_bytes("blake3", data)), n


@pytest.mark.parametrize("threads", [1, 2])
def test_blake3_small_files_hashed_together_match_library(tmp_path: Path, threads: int) -> None:
    # Files up to 16 KiB are hashed up to 16 at a time, a chunk of each per SIMD lane:
    # every chunk count from 0 to 17, at and around each chunk boundary, in mixed groups.
    rng = random.Random(threads)
    lengths = [c * 1024 + d for c in range(17) for d in (-1, 0, 1, 64, 511) if c * 1024 + d >= 0]
    lengths += [rng.randrange(0, 20_000) for _ in range(100)]
    rng.shuffle(lengths)
    files = {f"d{i % 3}/f{i}": rng.randbytes(n) for i, n in enumerate(lengths)}
    write_tree(tmp_path, files)
    top, got, odd = tree_of(tmp_path, "blake3", threads)
    want = sorted((rel.encode(), len(d), reference_bytes("blake3", d)) for rel, d in files.items())
    assert (got, odd) == (want, [])
    assert top == reference_top("blake3", want)


@pytest.mark.parametrize("algo", list(SPECS))
def test_a_fifo_swapped_in_after_the_walk_is_refused_not_read(tmp_path: Path, algo: str) -> None:
    # The walk saw a regular file; by the time a worker opens it, it is a FIFO. Opening
    # it must neither block (no writer will ever come) nor hash it as empty. The swap
    # happens in the progress callback right after the walk lists the directory, on the
    # file listed last, which the single worker reaches last.
    write_tree(tmp_path, {f"d/f{i:04d}": b"x" * 2000 for i in range(2000)})
    listing = os.listdir(tmp_path / "d")
    calls: list[int] = []

    def swap(done: int) -> None:
        calls.append(done)
        if len(calls) == 2:  # after the root, then after d
            victim = tmp_path / "d" / listing[-1]
            victim.unlink()
            os.mkfifo(victim)

    spec, size = SPECS[algo]
    with pytest.raises(OSError, match="not a regular file") as info:
        _native.hash_tree(str(tmp_path), spec, size, header(algo), 1, 4096, swap, 0, True)
    assert os.fsdecode(info.value.filename) == str(tmp_path / "d" / listing[-1])
