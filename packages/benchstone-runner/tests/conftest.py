"""The runner tests share the repository's test helpers (tests/_support.py: git repos,
trees of files); it imports no benchstone package, so this isolated session can use it."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests"))
