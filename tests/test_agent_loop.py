"""docs/examples/agent_loop.py, the guide's complete example, run against a throwaway project.

The guide promises the script works as printed; this runs it as a user would (a separate
process, `bench` and git from the environment) in both of its modes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from _support import GIT_IDENTITY, git, python_manifest

from benchstone import api

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "examples" / "agent_loop.py"

RUNNER = """\
import random
import sys
from pathlib import Path

from benchstone.protocol import Runner

# The code the agent edits is the project's (solver.py), never the locked bench/. No
# bytecode: a same-size edit in the same second would be served from a stale .pyc.
sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from solver import LEVEL  # noqa: E402

runner = Runner()


@runner.entry_point
def speed(config):
    return LEVEL * (1.0 + random.Random(config.seed).gauss(0.0, 0.01))


@runner.entry_point
def output(config):
    Path(config.artifact_path).write_text("the same answer\\n")
    return 1.0


runner.main()
"""

BENCHMARKS = """
[[benchmarks]]
name = "speed"
tier = "performance"
metric_direction = "minimize"
repetitions = 3
baseline_seeds = [1, 2, 3]
requires_correctness = ["output"]

[[benchmarks]]
name = "output"
tier = "correctness"
"""


def _identity_env(home: Path) -> dict[str, str]:
    name = GIT_IDENTITY[1].split("=", 1)[1]
    email = GIT_IDENTITY[3].split("=", 1)[1]
    return dict(
        os.environ,
        BENCHSTONE_HOME=str(home),
        GIT_AUTHOR_NAME=name,
        GIT_AUTHOR_EMAIL=email,
        GIT_COMMITTER_NAME=name,
        GIT_COMMITTER_EMAIL=email,
        GIT_CONFIG_COUNT="1",
        GIT_CONFIG_KEY_0="commit.gpgsign",
        GIT_CONFIG_VALUE_0="false",
    )


@pytest.mark.parametrize("mode", ["cli", "api"])
def test_agent_loop_promotes_the_improvement_and_reverts_the_regression(
    bench, home, make_python_project, mode
):
    name = f"loop{mode}"
    root = make_python_project(
        name,
        manifest=python_manifest(name, benchmarks=BENCHMARKS),
        files={"bench/runner.py": RUNNER, "solver.py": "LEVEL = 1.0\n"},
    )
    assert bench("register", str(root)).code == 0
    assert bench("run", name, "output").code == 0
    assert bench("freeze-reference", name, "output").code == 0

    args = [str(root), name, "speed", "solver.py", "LEVEL", "0.8", "1.5"]
    args += ["--correctness", "output"] + (["--api"] if mode == "api" else [])
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env=_identity_env(home),
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"no baseline for {name}/speed: establishing one at HEAD"
    assert "proposal 1: LEVEL = 0.8" in lines[1]
    assert any(line.startswith("  verdict: PROMOTE (exit 0)") for line in lines), lines
    assert any(line.startswith("  verdict: REJECT (exit 1)") for line in lines), lines
    assert lines[-1] == "done: 1 promoted, 1 reverted"

    # The promoted proposal is the baseline; the regression was reverted, not erased.
    log = git(root, "log", "--format=%s").splitlines()
    assert log[:3] == ['Revert "agent: LEVEL = 1.5"', "agent: LEVEL = 1.5", "agent: LEVEL = 0.8"]
    promoted_sha = git(root, "rev-parse", "HEAD~2")
    pointer = api.baseline(name, "speed", home=home)
    assert pointer is not None and pointer.git_sha == promoted_sha
    assert "LEVEL = 0.8\n" in (root / "solver.py").read_text()
    assert git(root, "status", "--porcelain") == ""
