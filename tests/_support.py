"""The one place test helpers live: real git projects, a real `bench`, a private store.

The end-to-end tests here drive the *installed* harness through its console script, the
way an agent loop or a CI step would. Every package's tests import this module too (their
conftest puts this folder on ``sys.path``), so it imports no benchstone package at import
time: each nox session installs only its own package, and these helpers must work in any.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest


def _scratch_outside_tmp() -> None:
    """Put this test process's temporary directories (pytest's ``tmp_path`` among them)
    outside ``/tmp``.

    Tests talk to the code under test through files beside its project (a hold file, a
    marker, a log of setup calls), as a user's tooling would through its own directories;
    the sandbox gives every repetition a private ``/tmp``, so anything there outside the
    project would be invisible to it. A TMPDIR already outside ``/tmp`` is kept; tests of
    the private ``/tmp`` itself name ``/tmp`` explicitly.
    """
    current = Path(tempfile.gettempdir()).resolve()
    if current != Path("/tmp") and not current.is_relative_to("/tmp"):
        return
    scratch = Path("/var/tmp") / f"benchstone-tests-{os.getuid()}"
    scratch.mkdir(exist_ok=True)
    scratch.chmod(0o755)  # as /tmp is to an unprivileged test user (`nobody`); mkdtemp's are 0o700
    os.environ["TMPDIR"] = str(scratch)
    tempfile.tempdir = None  # recomputed from TMPDIR on next use


_scratch_outside_tmp()

GIT_IDENTITY = [
    "-c",
    "user.name=benchstone tests",
    "-c",
    "user.email=tests@benchstone.invalid",
    "-c",
    "commit.gpgsign=false",
]


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


@pytest.fixture
def in_process_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private store for tests that call the harness in this process (the api and cli
    packages' tests): ``BENCHSTONE_HOME`` points at it for the test's duration. A conftest
    takes it as its ``home`` fixture: ``home = in_process_home``."""
    path = tmp_path / "home"
    monkeypatch.setenv("BENCHSTONE_HOME", str(path))
    return path


def bench_command() -> list[str]:
    exe = shutil.which("bench")
    return [exe] if exe else [sys.executable, "-m", "benchstone.cli"]


def git(root: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", *GIT_IDENTITY, *args], cwd=root, check=True, capture_output=True, text=True
    )
    return proc.stdout.strip()


def commit_all(root: Path, message: str, *, allow_empty: bool = False) -> str:
    """Stage everything, commit, return the new HEAD's SHA."""
    git(root, "add", "-A")
    git(root, "commit", "-q", *(["--allow-empty"] if allow_empty else []), "-m", message)
    return git(root, "rev-parse", "HEAD")


def init_repo(root: Path, message: str = "initial") -> str:
    """``git init`` (branch main) at ``root`` and commit what is there; the SHA."""
    git(root, "init", "-q", "-b", "main")
    return commit_all(root, message, allow_empty=True)


def write_tree(root: Path, files: dict[str, str] | dict[str, bytes]) -> Path:
    """Write ``{relative path: text or bytes}`` under ``root``, making folders; ``root``."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


PROTOCOL_ARGS = "--entry={entry_point} --config={config_path} --output={output_path}"

PYTHON_RUNNER = """\
import random

from pathlib import Path

from benchstone.protocol import Runner

# The code under test lives outside bench/ (which is locked): level.txt holds "LEVEL NOISE".
LEVEL, NOISE = map(float, (Path(__file__).resolve().parents[1] / "level.txt").read_text().split())

runner = Runner()


@runner.entry_point
def speed(config):
    return LEVEL * (1.0 + random.Random(config.seed).gauss(0.0, NOISE))


@runner.entry_point
def score(config):
    return LEVEL * (1.0 + random.Random(config.seed).gauss(0.0, NOISE))


@runner.entry_point
def exact(config):
    return LEVEL


runner.main()
"""

BASH_RUNNER = """\
#!/usr/bin/env bash
# A runner with no Python at all: parses the protocol's arguments, writes a result.
set -eu
for arg in "$@"; do
  case "$arg" in
    --entry=*) entry="${{arg#--entry=}}" ;;
    --config=*) config="${{arg#--config=}}" ;;
    --output=*) output="${{arg#--output=}}" ;;
  esac
done
seed=$(sed -n 's/.*"seed": *\\([0-9]*\\).*/\\1/p' "$config")
level=$(cut -d' ' -f1 "$(dirname "$0")/../level.txt")
metric=$(awk -v s="$seed" -v level="$level" 'BEGIN {{ printf "%.6f", level + (s % 7) * 0.001 }}')
printf '{{"status": "ok", "metric": %s}}\\n' "$metric" > "$output"
"""


def python_manifest(name: str, *, extra: str = "", benchmarks: str | None = None) -> str:
    python = sys.executable
    body = (
        benchmarks
        if benchmarks is not None
        else textwrap.dedent(
            """
        [[benchmarks]]
        name = "speed"
        tier = "performance"
        metric_direction = "minimize"
        repetitions = 4
        baseline_seeds = [1, 2, 3, 4]
        promotion_sigma = 2.0
        """
        )
    )
    return (
        f'[project]\nname = "{name}"\nlanguage = "python"\n'
        f'invocation = "{python} bench/runner.py {PROTOCOL_ARGS}"\n{extra}\n{body}'
    )


def create_python_project(
    parent: Path,
    name: str = "pyproj",
    *,
    level: float = 1.0,
    noise: float = 0.01,
    manifest: str | None = None,
    files: dict[str, str] | None = None,
) -> Path:
    """A committed git repo under ``parent`` whose runner uses benchstone.protocol; LEVEL
    sets the metric's centre."""
    root = parent / name
    (root / "bench").mkdir(parents=True)
    (root / "bench" / "manifest.toml").write_text(manifest or python_manifest(name))
    (root / "bench" / "runner.py").write_text(PYTHON_RUNNER)
    write_level(root, level, noise)
    write_tree(root, files or {})
    init_repo(root)
    return root


def write_level(root: Path, level: float, noise: float = 0.01) -> None:
    """The project's "code": the runners read level.txt, outside the locked bench/."""
    (root / "level.txt").write_text(f"{level} {noise}\n")


def set_level(root: Path, level: float, noise: float = 0.01, message: str = "change") -> str:
    write_level(root, level, noise)
    return commit_all(root, message)


def set_bash_level(root: Path, level: float, message: str = "change") -> str:
    write_level(root, level)
    return commit_all(root, message)


# A runner with a performance benchmark ("speed") and a correctness benchmark ("output")
# that writes ANSWER as its artifact ("crash" makes it fail). LEVEL and ANSWER are the
# project's code, outside the locked bench/: level.txt and answer.txt (artifact_code).
ARTIFACT_RUNNER = """\
import random
from pathlib import Path

from benchstone.protocol import Runner

_ROOT = Path(__file__).resolve().parents[1]
LEVEL = float((_ROOT / "level.txt").read_text().split()[0])
ANSWER = (_ROOT / "answer.txt").read_text()

runner = Runner()


@runner.entry_point
def speed(config):
    return LEVEL * (1.0 + random.Random(config.seed).gauss(0.0, 0.01))


@runner.entry_point
def output(config):
    if ANSWER == "crash":
        raise RuntimeError("crashed on purpose")
    Path(config.artifact_path).write_text(ANSWER)
    return 1.0


@runner.entry_point
def seeded(config):
    Path(config.artifact_path).write_text(f"seed {config.seed}\\n")
    return 1.0


@runner.entry_point
def broken(config):
    return 1.0  # writes no artifact


runner.main()
"""


def artifact_code(level: float, answer: str) -> dict[str, str]:
    """The files ARTIFACT_RUNNER reads: the project's code, outside the locked bench/."""
    return {"level.txt": f"{level} 0.01\n", "answer.txt": answer}


def artifact_files(level: float, answer: str) -> dict[str, str]:
    """A project's files for ARTIFACT_RUNNER: the runner plus its code."""
    return {"bench/runner.py": ARTIFACT_RUNNER, **artifact_code(level, answer)}


def set_artifact_code(root: Path, level: float, answer: str, message: str = "change") -> str:
    """Change the code ARTIFACT_RUNNER measures and commit it."""
    for rel, content in artifact_code(level, answer).items():
        (root / rel).write_text(content)
    return commit_all(root, message)


def corpus_manifest(name: str, *, corpus_path: str, digest: str, corpus_type: str) -> str:
    """A one-benchmark manifest ("speed", 2 runs a side) whose corpus is pinned."""
    return python_manifest(
        name,
        benchmarks=f"""
[[benchmarks]]
name = "speed"
tier = "performance"
metric_direction = "minimize"
repetitions = 2
baseline_seeds = [1, 2]
corpus_path = "{corpus_path}"
corpus_hash = "{digest}"
corpus_type = "{corpus_type}"
""",
    )


def live_processes_in(root: Path) -> list[int]:
    """Host pids of live (non-zombie) processes whose working directory is under ``root``.

    A sealed repetition's processes have pids of their own namespace, so a pid the runner
    wrote down says nothing on the host; their working directory does.
    """
    import psutil

    found = []
    for proc in psutil.process_iter(["cwd", "status"]):
        cwd = proc.info["cwd"]
        if cwd and Path(cwd).is_relative_to(root) and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(proc.pid)
    return found
