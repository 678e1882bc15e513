"""A real git project with a tunable Python runner, and a private store, for API tests."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

# The one place test helpers live is the repository's tests/_support.py (real git repos,
# trees of files); it imports no benchstone package, so this isolated session can use it.
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests"))

from _support import commit_all, git, in_process_home, init_repo

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
        return git(self.root, *args)

    def commit(self, *, level: float | None = None, answer: str | None = None) -> str:
        if level is not None:
            (self.root / "level.txt").write_text(str(level))
        if answer is not None:
            (self.root / "answer.txt").write_text(answer)
        return commit_all(self.root, "change", allow_empty=True)


home = in_process_home  # the shared fixture: a private BENCHSTONE_HOME per test


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
    (root / "level.txt").write_text("1.0")
    (root / "answer.txt").write_text("42\n")
    init_repo(root)
    return Project(root)
