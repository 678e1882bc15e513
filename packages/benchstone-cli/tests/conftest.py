"""A private store for each CLI test, so no test reads or writes the user's, and real git
projects made by the repository's shared test helpers (tests/_support.py)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# The one place test helpers live: the repository's tests/_support.py (real git projects,
# a protocol runner whose LEVEL sets the metric). Importing it needs no installed harness.
SUPPORT = Path(__file__).resolve().parents[3] / "tests"
sys.path.insert(0, str(SUPPORT))

from _support import create_python_project, in_process_home  # noqa: E402

home = in_process_home  # the shared fixture: a private BENCHSTONE_HOME per test


@pytest.fixture
def make_python_project(tmp_path: Path) -> Callable[..., Path]:
    def make(name: str = "pyproj", **options: Any) -> Path:
        return create_python_project(tmp_path, name, **options)

    return make


class Invocation:
    """What one in-process `bench` printed and the exit code `main()` would return."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


@pytest.fixture
def bench(home: Path) -> Callable[..., Invocation]:
    """`bench ARGS...` in this process: ``main()`` itself (so usage errors, Ctrl-C and exit
    codes take the console script's path) inside click's CliRunner isolation, which
    captures stdout and stderr. No subprocess start-up per call."""
    from click.testing import CliRunner

    from benchstone.cli._app import main

    def invoke(*args: str) -> Invocation:
        with CliRunner().isolation() as (stdout, stderr, _):
            code = main(list(args))
        return Invocation(code, stdout.getvalue().decode(), stderr.getvalue().decode())

    return invoke
