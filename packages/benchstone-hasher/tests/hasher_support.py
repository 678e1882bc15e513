"""Test helpers: building corpora on disk and an independent reference implementation.

The reference hashes (``reference_file``, ``reference_tree``) use only hashlib, blake3
and xxhash in plain Python, following docs/hasher.md, so that the C extension is checked
against the format's definition rather than against itself.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import blake3
import xxhash

# Re-exported: the hasher tests take their helpers from here; the one copy is the
# repository's tests/_support.py.
from _support import write_tree as write_tree

ALGOS = ("sha256", "blake3", "xxh3-128")


def content(n: int, seed: str = "benchstone") -> bytes:
    """n deterministic pseudo-random bytes (the fixed test vectors use seed 'benchstone')."""
    return hashlib.shake_128(seed.encode()).digest(n) if n else b""


def new_hash(algo: str):
    if algo == "sha256":
        return hashlib.sha256()
    if algo == "blake3":
        return blake3.blake3()
    if algo == "xxh3-128":
        return xxhash.xxh3_128()
    raise ValueError(algo)


def reference_bytes(algo: str, data: bytes) -> bytes:
    h = new_hash(algo)
    h.update(data)
    return h.digest()


def reference_file(algo: str, path: Path) -> str:
    h = new_hash(algo)
    with open(path, "rb") as src:
        while block := src.read(1 << 20):
            h.update(block)
    return f"{algo}:{h.hexdigest()}"


def reference_tree(algo: str, root: Path) -> str:
    """benchstone-tree-v1, written from docs/hasher.md with os.walk and the libraries."""
    entries = []
    for dirpath, _, filenames in os.walk(os.fsencode(root)):
        for name in filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, os.fsencode(root)).replace(os.sep.encode(), b"/")
            data = Path(os.fsdecode(full)).read_bytes()
            entries.append((rel, len(data), reference_bytes(algo, data)))
    h = new_hash(algo)
    h.update(b"benchstone-tree-v1\0" + algo.encode() + b"\0")
    for rel, size, raw in sorted(entries):
        h.update(rel + b"\0" + size.to_bytes(8, "big") + raw)
    return f"{algo}:{h.hexdigest()}"


def tool(name: str) -> str | None:
    return shutil.which(name)
