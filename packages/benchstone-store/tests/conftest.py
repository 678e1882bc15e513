"""Shared fixtures: a fresh store home per test and a helper to build runs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from benchstone.store import NewRun, Store

SHA_A = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
SHA_B = "9a8b7c6d5e4f30211203f4e5d6c7b8a990817263"


def new_run(**overrides: Any) -> NewRun:
    fields: dict[str, Any] = {
        "project": "Arborist",
        "benchmark": "nsga2",
        "git_sha": SHA_A,
        "status": "ok",
        "metric": 1.0,
    }
    fields.update(overrides)
    return NewRun(**fields)


@pytest.fixture
def make_run() -> Callable[..., NewRun]:
    """Builds a valid NewRun; tests override only the fields they care about."""
    return new_run


@pytest.fixture
def python() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Runs a snippet in a fresh interpreter of the installed package."""
    return run_python


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "bshome"


@pytest.fixture
def store(home: Path) -> Iterator[Store]:
    with Store.open(home) as opened:
        yield opened


def run_python(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
