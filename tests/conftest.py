"""Fixtures for the end-to-end tests: real git projects, a real `bench`, a private store.

Everything here drives the *installed* harness through its console script, the way an agent
loop or a CI step would, so these tests see exactly what a user sees.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _slurm import cluster_project, slurm_cluster  # noqa: F401  (fixtures shared by every test)
from _support import (
    BASH_RUNNER,
    PROTOCOL_ARGS,
    Result,
    bench_command,
    commit_all,
    create_python_project,
    git,
    write_level,
)


def _group(nodeid: str) -> str | None:
    """The tests that share one resource, by file: the one-node Slurm cluster (its jobs,
    holds and ``--exclusive`` windows share the node and its queue), and valgrind (the
    forging attack rewrites every cachegrind file under ``benchstone-runs-*`` it finds)."""
    path = nodeid.split("::", 1)[0]
    if Path(path).name.startswith("test_slurm"):
        return "slurm"
    if Path(path).name == "test_instructions_metric.py":
        return "valgrind"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:  # so the Slurm group holds every test on the cluster
        if "slurm_cluster" in getattr(item, "fixturenames", ()) and _group(item.nodeid) != "slurm":
            raise pytest.UsageError(
                f"{item.nodeid} uses the Slurm cluster: put it in test_slurm*.py"
            )


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: unknown without it
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under pytest-xdist (noxfile.py runs `-n 2`) each group runs on one worker, one test
    after another as in a serial run, and every other test is scheduled alone. xdist puts
    the biggest groups first: the Slurm tests start at once on one worker."""
    if config.getvalue("dist") not in ("load", "loadgroup"):
        return None  # another --dist asked for: xdist's own
    from xdist.scheduler import LoadScopeScheduling

    class Grouped(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _group(nodeid) or nodeid

    return Grouped(config, log)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "bench-home"
    return path


@pytest.fixture
def bench(home: Path) -> Callable[..., Result]:
    """Run `bench ARGS...` against a private BENCHSTONE_HOME; returns code, stdout, stderr."""

    def run(*args: str, cwd: Path | None = None, timeout: float = 120) -> Result:
        env = dict(os.environ, BENCHSTONE_HOME=str(home))
        proc = subprocess.run(
            [*bench_command(), *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd,
            timeout=timeout,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def make_python_project(tmp_path: Path) -> Callable[..., Path]:
    """A git repo whose runner uses benchstone.protocol; LEVEL sets the metric's centre."""

    def make(name: str = "pyproj", **options: Any) -> Path:
        return create_python_project(tmp_path, name, **options)

    return make


@pytest.fixture
def make_bash_project(tmp_path: Path) -> Callable[..., Path]:
    def make(name: str = "shproj", *, level: float = 2.0) -> Path:
        root = tmp_path / name
        (root / "bench").mkdir(parents=True)
        (root / "bench" / "manifest.toml").write_text(
            textwrap.dedent(
                f"""\
                [project]
                name = "{name}"
                language = "bash"
                invocation = "bash bench/runner.sh {PROTOCOL_ARGS}"

                [[benchmarks]]
                name = "latency"
                tier = "quality"
                metric_direction = "maximize"
                repetitions = 5
                baseline_seeds = [1, 2, 3, 4, 5]
                promotion_sigma = 2.0
                """
            )
        )
        (root / "bench" / "runner.sh").write_text(BASH_RUNNER.format())
        write_level(root, level)
        git(root, "init", "-q", "-b", "main")
        commit_all(root, "initial")
        return root

    return make
