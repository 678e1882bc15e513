"""One invocation is timed and checked (issue 11 part 5), attacked end to end.

The attack: the project's code (outside the locked bench/) notices that it is being timed
-- the config names the benchmark -- and skips the work, while the correctness run still
does it, so ``output`` keeps PASSing and the timed benchmark PROMOTEs a program that
computes nothing. With ``output_reference = "output"`` every timed repetition writes its
artifact too and one that differs from the frozen reference is an error row, never gated.
The same attack against a benchmark without the key is the control: it PROMOTEs.
"""

from __future__ import annotations

import json
from pathlib import Path

from _support import commit_all, python_manifest

BENCHMARKS = """
[[benchmarks]]
name = "speed"
tier = "performance"
metric_direction = "minimize"
repetitions = 4
baseline_seeds = [1, 2, 3, 4]
requires_correctness = ["output"]
output_reference = "output"

[[benchmarks]]
name = "unchecked"
tier = "performance"
metric_direction = "minimize"
repetitions = 4
baseline_seeds = [1, 2, 3, 4]
requires_correctness = ["output"]

[[benchmarks]]
name = "output"
tier = "correctness"
"""

# bench/runner.py: locked at registration, never edited by the attack. Every entry point
# runs the project's solver; the reported metric is the work it did (lower is better).
RUNNER = """\
import random
import sys
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from solver import solve  # noqa: E402

from benchstone.protocol import Runner  # noqa: E402

runner = Runner()


def _timed(config):
    text, cost = solve(config)
    if config.artifact_path is not None:
        Path(config.artifact_path).write_text(text)
    return cost * (1.0 + random.Random(config.seed).gauss(0.0, 0.01))


@runner.entry_point
def speed(config):
    return _timed(config)


@runner.entry_point
def unchecked(config):
    return _timed(config)


@runner.entry_point
def output(config):
    _timed(config)
    return 1.0


runner.main()
"""

HONEST = """\
def solve(config):
    total = sum(i * i for i in range(1000))
    return f"{total}\\n", 1000.0
"""

# The attack: the timed runs skip the work; the correctness run still does it.
SKIPPING = """\
def solve(config):
    if config.benchmark != "output":
        return "skipped\\n", 10.0
    total = sum(i * i for i in range(1000))
    return f"{total}\\n", 1000.0
"""


def _project(bench, make_python_project, name: str) -> Path:
    root = make_python_project(
        name,
        manifest=python_manifest(name, benchmarks=BENCHMARKS),
        files={"bench/runner.py": RUNNER, "solver.py": HONEST},
    )
    assert bench("register", str(root)).code == 0
    return root


def _runs(bench, name: str, benchmark: str) -> list[dict]:
    return json.loads(bench("history", name, benchmark, "--json").out)["runs"]


def test_a_timed_run_that_skips_the_work_is_an_error_row_and_never_promoted(
    bench, make_python_project
) -> None:
    root = _project(bench, make_python_project, "timed")
    assert bench("run", "timed", "output").code == 0
    assert bench("freeze-reference", "timed", "output").code == 0
    reference = json.loads(bench("history", "timed", "output", "--json").out)["runs"][0]
    for benchmark in ("speed", "unchecked"):
        r = bench("baseline", "establish", "timed", benchmark)
        assert r.code == 0, r.err
    honest = _runs(bench, "timed", "speed")
    assert {run["status"] for run in honest} == {"ok"}
    assert {run["artifact_digest"] for run in honest} == {reference["artifact_digest"]}

    (root / "solver.py").write_text(SKIPPING)
    commit_all(root, "100x faster")
    assert bench("run", "timed", "output").code == 0
    assert json.loads(bench("evaluate", "timed", "output", "--json").out)["kind"] == "PASS"

    # The control: without output_reference the skipping code is PROMOTEd.
    assert bench("run", "timed", "unchecked").code == 0
    control = json.loads(bench("evaluate", "timed", "unchecked", "--json").out)
    assert control["kind"] == "PROMOTE", control["reason"]

    r = bench("run", "timed", "speed")
    new = [run for run in _runs(bench, "timed", "speed") if run not in honest]
    # Side by side: the baseline arm re-ran the honest commit (its artifacts still match).
    assert {run["status"] for run in new if run["arm"] == "baseline"} == {"ok"}
    candidate = [run for run in new if run["arm"] == "candidate"]
    assert len(candidate) == 4
    assert {run["status"] for run in candidate} == {"error"}
    for run in candidate:
        assert run["message"].startswith("output differs from the reference of output ("), run
        assert run["artifact_digest"] != reference["artifact_digest"]
    verdict = json.loads(bench("evaluate", "timed", "speed", "--json").out)
    assert verdict["kind"] != "PROMOTE", verdict
    assert bench("promote", "timed", "speed").code != 0


def test_timed_runs_without_a_frozen_reference_are_refused_naming_the_fix(
    bench, make_python_project
) -> None:
    _project(bench, make_python_project, "unfrozen")
    r = bench("run", "unfrozen", "speed")
    assert r.code != 0 and r.err.count("\n") == 1, r.err
    assert "output_reference 'output' has no frozen reference" in r.err
    assert "`bench freeze-reference unfrozen output`" in r.err
    assert _runs(bench, "unfrozen", "speed") == []
