"""A real git project with a tunable Python runner, and a private store, for API tests."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ARGS = "--entry={entry_point} --config={config_path} --output={output_path}"
RUNNER = textwrap.dedent(
    """\
    import json, random, sys
    args = dict(a.split("=", 1) for a in sys.argv[1:])
    config = json.load(open(args["--config"]))
    level = float(open("level.txt").read())
    if config.get("artifact_path"):
        with open(config["artifact_path"], "wb") as f:
            f.write(open("answer.txt", "rb").read())
    metric = level * (1 + random.Random(config["seed"]).gauss(0, 0.01))
    open(args["--output"], "w").write(json.dumps({"status": "ok", "metric": metric}))
    """
)


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid", *args],
            cwd=self.root,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    def commit(self, *, level: float | None = None, answer: str | None = None) -> str:
        if level is not None:
            (self.root / "level.txt").write_text(str(level))
        if answer is not None:
            (self.root / "answer.txt").write_text(answer)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", "change")
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("BENCHSTONE_HOME", str(path))
    return path


@pytest.fixture
def project(tmp_path: Path, home: Path) -> Project:
    root = tmp_path / "proj"
    (root / "bench").mkdir(parents=True)
    (root / "bench" / "runner.py").write_text(RUNNER)
    (root / "bench" / "manifest.toml").write_text(
        textwrap.dedent(
            f"""\
            [project]
            name = "proj"
            invocation = "{sys.executable} bench/runner.py {ARGS}"

            [[benchmarks]]
            name = "speed"
            tier = "performance"
            metric_direction = "minimize"
            repetitions = 3
            baseline_seeds = [1, 2, 3]
            requires_correctness = ["exact"]

            [[benchmarks]]
            name = "plain"
            tier = "quality"
            metric_direction = "minimize"
            repetitions = 3
            baseline_seeds = [1, 2, 3]

            [[benchmarks]]
            name = "exact"
            tier = "correctness"
            """
        )
    )
    proj = Project(root)
    proj.git("init", "-q")
    proj.commit(level=1.0, answer="42\n")
    return proj
