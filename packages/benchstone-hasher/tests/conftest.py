"""Fixtures for the hasher tests; the helpers they use live in hasher_support.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
# The repository's shared helpers (tests/_support.py; no benchstone imports in it).
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests"))

from hasher_support import content, write_tree


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A small nested corpus with an empty file and names that sort differently per byte."""
    return write_tree(
        tmp_path / "corpus",
        {
            "a.txt": b"alpha\n",
            "a/b.txt": b"nested\n",
            "a/c/d.bin": content(5000),
            "b-": b"",
            "Z": content(70000, "Z"),
        },
    )
