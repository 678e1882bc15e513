"""A private store for each CLI test, so no test reads or writes the user's."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("BENCHSTONE_HOME", str(path))
    return path
