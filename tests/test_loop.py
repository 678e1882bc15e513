"""The everyday loop, end to end through the installed `bench` command."""

from __future__ import annotations

import json
import re

from _support import set_bash_level, set_level


def _run_ids(text: str, arm: str | None = None) -> list[int]:
    """The run ids of the printed run lines (of one arm, side by side)."""
    if arm is None:
        return [int(m) for m in re.findall(r"^  run=(\d+) ", text, re.M)]
    return [int(m) for m in re.findall(rf"^  run=(\d+) .* arm={arm} ", text, re.M)]


def test_python_project_full_loop(bench, make_python_project):
    root = make_python_project("pyproj", level=1.0)

    r = bench("register", str(root))
    assert r.code == 0, r.err
    assert r.lines[0] == f"registered pyproj  {root}"
    assert r.lines[1].startswith("  manifest: sha256:")

    r = bench("list")
    assert r.code == 0
    assert r.lines[0] == f"pyproj  {root}"
    assert "speed  tier=performance" in r.out and "baseline=none" in r.out

    # No baseline yet: exit 2 with NO_BASELINE.
    r = bench("evaluate", "pyproj", "speed")
    assert r.code == 2, r.out + r.err
    assert r.lines[0].startswith("verdict: NO_BASELINE")

    sha0 = root.joinpath(".git").exists() and _head(root)
    r = bench("baseline", "establish", "pyproj", "speed")
    assert r.code == 0, r.err
    assert r.lines[0] == f"dispatched 4 run(s)  git_sha={sha0[:10]}  dirty=False  meta_seed=None"
    assert [int(s) for s in re.findall(r" seed=(\d+) ", r.out)] == [1, 2, 3, 4]
    baseline_ids = _run_ids(r.out)
    assert len(baseline_ids) == 4
    assert r.lines[-1] == f"baseline set: pyproj/speed -> {sha0[:10]} (4 run(s))"

    # Same SHA, nothing new: not enough candidate runs.
    r = bench("evaluate", "pyproj", "speed")
    assert r.code == 2 and r.lines[0].startswith("verdict: NEEDS_MORE_DATA"), r.out

    # An improvement (minimize): 10% lower, measured side by side with the baseline commit.
    sha1 = set_level(root, 0.9, message="faster")
    r = bench("run", "pyproj", "speed")
    assert r.code == 0, r.err
    header = re.match(
        r"dispatched 8 run\(s\)  git_sha=(\w+)  dirty=False  meta_seed=(\d+)$", r.lines[0]
    )
    assert header and header.group(1) == sha1[:10]
    assert r.lines[1].startswith("  side by side: window w") and sha0[:10] in r.lines[1]
    meta_seed = int(header.group(2))
    assert meta_seed < 2**63
    candidate_ids = _run_ids(r.out, "candidate")
    remeasured_ids = _run_ids(r.out, "baseline")
    assert len(candidate_ids) == len(remeasured_ids) == 4

    r = bench("evaluate", "pyproj", "speed")
    assert r.code == 0, r.out + r.err
    assert re.match(
        r"verdict: PROMOTE  sigma z=\+\d+\.\d\d >= threshold 2.0 \(direction=minimize\)$",
        r.lines[0],
    ), r.lines[0]
    assert r.lines[1].startswith("  baseline mean=") and "  candidate mean=" in r.lines[1]

    # --expect: matching kind keeps the verdict's code, a mismatch is 4.
    assert bench("evaluate", "pyproj", "speed", "--expect", "PROMOTE").code == 0
    assert bench("evaluate", "pyproj", "speed", "--expect", "REJECT").code == 4

    r = bench("promote", "pyproj", "speed")
    assert r.code == 0, r.err
    assert r.lines[0] == (
        f"baseline promoted: pyproj/speed -> {sha1[:10]}  (baseline meta_seed={meta_seed})"
    )

    # At the new SHA the promoted runs are the baseline: nothing left to compare.
    r = bench("evaluate", "pyproj", "speed", "--json")
    document = json.loads(r.out)
    assert r.code == 2 and document["kind"] == "NEEDS_MORE_DATA"
    assert document["baseline_sha"] == sha1
    assert sorted(document["baseline_run_ids"]) == sorted(candidate_ids)

    # A regression: 10% higher than the promoted level -> REJECT (exit 1).
    set_level(root, 1.0, message="slower")
    assert bench("run", "pyproj", "speed").code == 0
    r = bench("evaluate", "pyproj", "speed")
    assert r.code == 1, r.out
    assert r.lines[0].startswith("verdict: REJECT  sigma z=")

    # Promote refuses a REJECT with the verdict's exit code.
    r = bench("promote", "pyproj", "speed")
    assert r.code == 1
    assert r.err.startswith("Error: refusing to promote pyproj/speed: verdict REJECT")

    # History marks the active baseline's runs with '*'.
    r = bench("history", "pyproj", "speed")
    assert r.code == 0
    marked = [
        int(line.split()[1])
        for line in r.lines
        if line.startswith("* ") and line.split()[1].isdigit()
    ]
    assert sorted(marked) == sorted(candidate_ids)
    assert r.lines[-1].startswith(f"* active baseline: {sha1[:10]} (promote, 4 run(s)")
    assert not set(baseline_ids) & set(marked)

    r = bench("history", "pyproj", "speed", "--limit", "3", "--json")
    rows = json.loads(r.out)["runs"]
    assert len(rows) == 3 and rows[0]["id"] > rows[1]["id"] > rows[2]["id"]
    r = bench("history", "pyproj", "speed", "--git-sha", sha0[:8], "--json")
    at_sha0 = sorted(row["id"] for row in json.loads(r.out)["runs"])
    assert at_sha0 == sorted(baseline_ids + remeasured_ids)  # stored and re-measured


def test_bash_project_loop(bench, make_bash_project):
    root = make_bash_project("shproj", level=2.0)
    assert bench("register", str(root)).code == 0
    r = bench("baseline", "establish", "shproj", "latency")
    assert r.code == 0, r.out + r.err
    assert "metric=2.001" in r.out

    sha = set_bash_level(root, 2.5, message="better quality")
    r = bench("run", "shproj", "latency", "--seed-set", "fresh", "--meta-seed", "12345", "-n", "5")
    assert r.code == 0, r.err
    assert "meta_seed=12345" in r.lines[0]
    r = bench("evaluate", "shproj", "latency")
    assert r.code == 0 and "(direction=maximize)" in r.lines[0], r.out
    r = bench("promote", "shproj", "latency", "--meta-seed", "12345", "--notes", "ok")
    assert r.code == 0 and f"-> {sha[:10]}" in r.lines[0]

    # The same meta-seed reproduces the same seeds.
    r1 = bench("run", "shproj", "latency", "--meta-seed", "12345", "--allow-dirty", "-n", "3")
    seeds = re.findall(r" seed=(\d+) ", r1.out)
    r2 = bench("run", "shproj", "latency", "--meta-seed", "12345", "-n", "3")
    assert seeds == re.findall(r" seed=(\d+) ", r2.out) and len(seeds) == 3


def test_unregister_keeps_history(bench, make_python_project):
    root = make_python_project("gone")
    assert bench("register", str(root)).code == 0
    assert bench("baseline", "establish", "gone", "speed", "-n", "2").code == 0
    r = bench("unregister", "gone")
    assert r.code == 0 and r.out.strip() == "unregistered gone"
    r = bench("list")
    assert "gone" not in r.out
    r = bench("evaluate", "gone", "speed")
    assert r.code == 10 and r.err.startswith("Error: project 'gone' is not registered")
    r = bench("history", "gone", "speed", "--json")
    assert r.code == 0 and len(json.loads(r.out)["runs"]) == 2


def _head(root) -> str:
    from _support import git

    return git(root, "rev-parse", "HEAD")
