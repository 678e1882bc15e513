"""An invocation without ``{config_path}``: a deterministic runner that never reads its
config (it has no seed to honour) is run and gated like any other, end to end through
benchstone.api with real repetitions and a real store."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from _support import commit_all, init_repo, write_tree

from benchstone import api
from benchstone.runner import load_manifest

# The command line holds the output path and nothing else: had the harness passed a config
# path the runner would say so in its result and fail the test.
COUNTER = """\
import json, pathlib, sys
if len(sys.argv) != 2:
    raise SystemExit(f"expected only the output path, got {sys.argv[1:]}")
operations = float(pathlib.Path("operations.txt").read_text())
pathlib.Path(sys.argv[1]).write_text(json.dumps({"status": "ok", "metric": operations}))
"""


def _project(parent: Path) -> Path:
    root = write_tree(
        parent / "counter",
        {
            "bench/count.py": COUNTER,
            "operations.txt": "1000\n",  # the code under test: outside the locked bench/
            "bench/manifest.toml": (
                "[project]\n"
                'name = "counter"\n'
                f"invocation = {json.dumps(f'{sys.executable} bench/count.py {{output_path}}')}\n"
                "\n[[benchmarks]]\n"
                'name = "ops"\n'
                'tier = "performance"\n'
                'metric_direction = "minimize"\n'
                "deterministic = true\n"
            ),
        },
    )
    init_repo(root)
    assert "{config_path}" not in load_manifest(root).project.invocation
    return root


def test_a_runner_that_ignores_its_config_is_run_and_gated(tmp_path, home):
    root = _project(tmp_path)
    api.register(root)

    baseline = api.establish_baseline("counter", "ops")
    assert [(r.status, r.reported_metric) for r in baseline.runs] == [("ok", 1000.0)]

    (root / "operations.txt").write_text("900\n")
    faster = commit_all(root, "fewer operations")
    candidate = api.run("counter", "ops")
    assert [(r.status, r.reported_metric) for r in candidate.runs] == [("ok", 900.0)]
    verdict = api.evaluate("counter", "ops")
    assert (verdict.kind, verdict.candidate_sha) == ("PROMOTE", faster), verdict.reason
    assert verdict.gate.policy == "deterministic"
    api.promote("counter", "ops")

    (root / "operations.txt").write_text("950\n")
    commit_all(root, "more operations again")
    api.run("counter", "ops")
    verdict = api.evaluate("counter", "ops")
    assert (verdict.kind, verdict.worse) == ("REJECT", True), verdict.reason
