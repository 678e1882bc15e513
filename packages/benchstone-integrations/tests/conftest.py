"""The worked example of docs/examples/openevolve as a real registered project.

The sorting project is copied from the docs into a git repository in a temp dir,
registered under a private store, its correctness reference frozen and its speed
baseline established from the initial program, exactly as the example's README says.
"""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "openevolve"
INITIAL = (EXAMPLE / "initial_program.py").read_text()

FAST = textwrap.dedent(
    """\
    # EVOLVE-BLOCK-START
    def sort_numbers(values):
        return sorted(values)
    # EVOLVE-BLOCK-END
    """
)
# The initial insertion sort, then as much work again thrown away: correct and slower.
SLOW = INITIAL.replace(
    "    return result\n",
    "    sum(i * i for i in range(len(result) * 1500))\n    return result\n",
    1,
)
WRONG = textwrap.dedent(
    """\
    # EVOLVE-BLOCK-START
    def sort_numbers(values):
        return list(values)  # fast, and wrong
    # EVOLVE-BLOCK-END
    """
)


@dataclass(frozen=True)
class Sorting:
    root: Path
    home: Path
    work_dir: Path


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


@pytest.fixture(name="git")
def git_fixture():
    """``git(root, *args)``: one git command with a throwaway identity; its stdout."""
    return git


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))


def registered_copy(base: Path) -> tuple[Path, Path]:
    """The example project as a fresh git repository under ``base``, registered; (root, home)."""
    from benchstone import api

    root = base / "sorting"
    shutil.copytree(EXAMPLE / "project", root)
    shutil.copyfile(EXAMPLE / "initial_program.py", root / "solution.py")
    (root / ".gitignore").write_text("__pycache__/\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "sorting project")
    home = base / "home"
    api.register(root, home=home)
    return root, home


@pytest.fixture(scope="session")
def sorting_template(tmp_path_factory: pytest.TempPathFactory) -> Sorting:
    """Registered, reference frozen, baseline established: once per test session."""
    from benchstone import api

    base = tmp_path_factory.mktemp("sorting")
    root, home = registered_copy(base)
    api.run("sorting", "sorts_correctly", home=home)
    api.freeze_reference("sorting", "sorts_correctly", home=home)
    api.establish_baseline("sorting", "sort_speed", home=home)
    return Sorting(root=root, home=home, work_dir=base / "work")


@pytest.fixture
def sorting(sorting_template: Sorting, tmp_path: Path) -> Sorting:
    """The session's project with a work dir of this test's own."""
    return Sorting(
        root=sorting_template.root, home=sorting_template.home, work_dir=tmp_path / "work"
    )


@pytest.fixture
def unprepared(tmp_path: Path) -> Sorting:
    """The example registered, but no reference frozen and no baseline established."""
    root, home = registered_copy(tmp_path)
    return Sorting(root=root, home=home, work_dir=tmp_path / "work")


@dataclass(frozen=True)
class Candidates:
    """Programs OpenEvolve could propose, and where the example lives."""

    example: Path = EXAMPLE
    initial: str = INITIAL
    fast: str = FAST
    slow: str = SLOW
    wrong: str = WRONG


@pytest.fixture
def candidates() -> Candidates:
    return Candidates()
