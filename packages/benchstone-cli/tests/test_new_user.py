"""What a new user hit, through `bench` in-process (click's CliRunner) on real git projects."""

from __future__ import annotations

import json
import re

import pytest
from _support import commit_all, set_level

from benchstone.cli import _format as fmt

FAILING_RUNNER = """\
import sys
print("loading the solver", file=sys.stderr)
print("ValueError: boom-marker in solve()", file=sys.stderr)
sys.exit(3)
"""


@pytest.fixture
def registered(bench, make_python_project):
    root = make_python_project("demo")
    assert bench("register", str(root)).code == 0
    assert bench("baseline", "establish", "demo", "speed").code == 0
    return root


def _set_level(root, level: float) -> str:
    return set_level(root, level, message=f"level {level}")


def test_history_unknown_names_are_errors_and_empty_filters_say_so(bench, registered):
    r = bench("history", "nope", "speed")
    assert r.code == 10 and r.out == ""
    assert r.err.startswith("Error: project 'nope' is not registered") and r.err.count("\n") == 1
    r = bench("history", "demo", "sped")
    assert r.code == 10 and "no benchmark 'sped'; did you mean 'speed'?" in r.err
    r = bench("history", "demo", "speed", "--git-sha", "0000000")
    assert (r.code, r.lines) == (0, ["no runs of demo/speed match --git-sha 0000000"])
    r = bench("history", "demo", "speed")
    assert r.code == 0 and len(r.lines) == 1 + 4 + 1  # header, 4 baseline runs, pointer line


def test_expect_is_an_assertion(bench, registered):
    _set_level(registered, 3.0)
    assert bench("run", "demo", "speed").code == 0
    assert bench("evaluate", "demo", "speed").code == 1  # REJECT
    r = bench("evaluate", "demo", "speed", "--expect", "REJECT")
    assert r.code == 0, r.out + r.err
    r = bench("evaluate", "demo", "speed", "--expect", "PROMOTE")
    assert r.code == 4 and r.err == "expected PROMOTE, got REJECT\n"


def test_reject_says_which_and_effects_read_as_ratios(bench, registered):
    _set_level(registered, 3.0)
    assert bench("run", "demo", "speed").code == 0
    text = bench("evaluate", "demo", "speed")
    document = json.loads(bench("evaluate", "demo", "speed", "--json").out)
    assert document["kind"] == "REJECT" and "worse" in document
    level = fmt.level_text(document["interval_level"])
    assert re.search(
        rf"^  effect: (2\.\d+|3(\.\d+)?)× slower \({re.escape(level)} interval: \S+× slower "
        r"to \S+× slower\)$",
        text.out,
        re.M,
    ), text.out
    assert re.search(r"^  test: p=\S+ > alpha=\S+ at look 1$", text.out, re.M), text.out
    if document["worse"] is not None:  # gates' worse flag has landed
        assert document["worse"] is True
        assert text.lines[0].endswith("  significantly worse"), text.lines[0]
        assert document["reason"].startswith("significantly worse")


def test_a_run_whose_repetitions_all_failed_exits_10_with_each_reason(bench, registered):
    (registered / "bench" / "runner.py").write_text(FAILING_RUNNER)
    sha = commit_all(registered, "broken runner")
    assert bench("lock", "demo", "--reason", "the runner loads the solver").code == 0
    r = bench("run", "demo", "speed", "-n", "2")  # two pairs: both arms run the locked runner
    assert r.code == 10
    err = r.err.splitlines()
    assert err[0] == "Error: all 4 repetition(s) of demo/speed failed"
    assert (
        len([line for line in err if re.match(r"  run=\d+ rep=\d seed=\d+: exit code 3$", line)])
        == 4
    )
    assert err.count("    | ValueError: boom-marker in solve()") == 4
    assert err.count("    | loading the solver") == 4
    r = bench("evaluate", "demo", "speed")
    assert r.code == 2
    # Side by side, both arms ran under the new lock: no comparison, and why they failed.
    assert r.lines[0].startswith("verdict: NEEDS_MORE_DATA  all 2 candidate run(s) at ")
    assert f"at {sha[:10]} failed (2x exit code 3)" in r.lines[0]
    assert "the baseline arm failed too (2x exit code 3)" in r.lines[0]


def test_status_prune_forgets_finished_jobs(bench, registered):
    r = bench("status", "--all", "--json")
    jobs = json.loads(r.out)["jobs"]
    assert [j["state"] for j in jobs] == ["done"]
    r = bench("status", "--prune")
    assert r.code == 0
    assert r.lines == [
        f"forgot job {jobs[0]['id']}  demo/speed  done  4 run(s) kept",
        "forgot 1 job(s); their runs stay in `bench history`",
    ]
    assert json.loads(bench("status", "--all", "--json").out)["jobs"] == []
    assert bench("status", "--prune").lines == ["no finished or stale jobs to forget"]
    assert len(json.loads(bench("history", "demo", "speed", "--json").out)["runs"]) == 4


@pytest.mark.parametrize(
    ("effect", "direction", "tier", "source", "said"),
    [
        (-1.44, "minimize", "performance", "reported", "2.44× slower"),
        (1 - 1 / 3.1, "minimize", "performance", "wall_clock", "3.1× faster"),
        (0.123, "minimize", "performance", "reported", "12.3 % faster"),
        (-0.5, "minimize", "performance", "reported", "50.0 % slower"),
        (0.6, "maximize", "performance", "reported", "1.6× faster"),
        (-0.6, "maximize", "quality", "reported", "2.5× lower (worse)"),
        (-0.2, "minimize", "quality", "reported", "20.0 % higher (worse)"),
        (0.3, "minimize", "performance", "peak_rss", "30.0 % smaller (better)"),
        (None, "minimize", "performance", "reported", "undefined"),
    ],
)
def test_effects_as_people_say_them(effect, direction, tier, source, said):
    assert fmt.effect_phrase(effect, direction, tier, source) == said


def test_interval_level_is_stated_plainly():
    assert fmt.level_text(0.9) == "90 %"
    assert fmt.level_text(1 - 2 * 0.02275) == "95.5 %"


def test_init_commits_no_interpreter_path_and_imports_the_project(bench, tmp_path):
    from _support import git

    root = tmp_path / "fresh"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    assert bench("init", str(root)).code == 0
    manifest = (root / "bench" / "manifest.toml").read_text()
    (invocation,) = re.findall(r"^invocation = \"(.*)\"$", manifest, re.M)
    assert invocation.startswith(
        "PYTHONDONTWRITEBYTECODE=1 python3 -m bench.runner --entry={entry_point} "
    )
    assert "/" not in invocation.split()[0]
    # The runner imports the project's own module with no sys.path edit.
    (root / "solver.py").write_text("SAMPLES = 1000\n")
    runner = root / "bench" / "runner.py"
    text = runner.read_text()
    assert "import sys" not in text and "sys.path.insert" not in text
    runner.write_text(
        text.replace(
            "runner = Runner()\n", "from solver import SAMPLES\n\nrunner = Runner()\n"
        ).replace(
            "estimate_pi(20_000, random.Random(config.seed))",
            "estimate_pi(SAMPLES, random.Random(config.seed))",
        )
    )
    assert "estimate_pi(SAMPLES, " in runner.read_text()
    commit_all(root, "scaffold")
    assert bench("register", str(root)).code == 0
    r = bench("run", "fresh", "accuracy", "-n", "1")
    assert r.code == 0 and "status=error" not in r.out, r.out + r.err
