"""Memory stays bounded whatever the input size: a 2 GiB (sparse) file, in a child process.

Slow-ish on purpose (about a second): the child reads 2 GiB of holes, which the kernel
fills with zeros, so this checks real streaming rather than a small file.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import xxhash

from benchstone.hasher import _engine

SIZE = 2 << 30
CHILD = textwrap.dedent(
    """
    import resource, sys
    from benchstone.hasher import digest
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(digest(sys.argv[1], sys.argv[2]))
    print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux
    """
)


def zeros_digest(algo: str) -> str:
    assert algo == "xxh3-128"
    h = xxhash.xxh3_128()
    block = bytes(1 << 20)
    for _ in range(SIZE >> 20):
        h.update(block)
    return f"{algo}:{h.hexdigest()}"


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss units and sparse files differ")
def test_sparse_2gib_file_hashes_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "sparse.bin"
    with open(path, "wb") as out:
        out.truncate(SIZE)
    assert path.stat().st_blocks * 512 < (1 << 20)  # really sparse
    run = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), "xxh3-128"],
        capture_output=True,
        text=True,
        check=True,
    )
    printed, rss = run.stdout.splitlines()
    assert printed == zeros_digest("xxh3-128")
    before_kib, peak_kib = map(int, rss.split())
    # 2 blocks per worker of the parallel path, plus slack for the allocator.
    budget_kib = (2 * _engine.MAX_THREADS * _engine.FILE_BLOCK) // 1024 + 16 * 1024
    assert peak_kib - before_kib < budget_kib
    assert peak_kib < 64 * 1024 + before_kib
