"""Side-by-side measurement through the installed `bench`: compare and --until-decided."""

from __future__ import annotations

import json
import re

from _support import git, set_level


def test_bench_compare_measures_two_real_commits(bench, make_python_project):
    root = make_python_project("cmp", level=1.0)
    old = git(root, "rev-parse", "HEAD")
    new = set_level(root, 0.8, message="faster")
    set_level(root, 1.2, message="the checkout is neither")
    assert bench("register", str(root)).code == 0

    r = bench("compare", "cmp", "speed", old[:8], new, "--repetitions", "3")
    assert r.code == 0, r.out + r.err  # PROMOTE: REV_B is faster than REV_A
    assert r.lines[0].startswith("dispatched 6 run(s)  git_sha=" + new[:10])
    arms = re.findall(r"^  run=\d+ rep=(\d) seed=\d+ arm=(\w+) +sha=(\w+) ", r.out, re.M)
    assert sorted(arms) == sorted(
        [(str(i), "baseline", old[:10]) for i in range(3)]
        + [(str(i), "candidate", new[:10]) for i in range(3)]
    )
    compared = next(line for line in r.lines if line.startswith("compared "))
    assert compared.startswith(f"compared {new[:10]} (REV_B) against {old[:10]} (REV_A): 3 pair")
    assert any(line.startswith("verdict: PROMOTE  sigma z=+") for line in r.lines)

    r = bench("compare", "cmp", "speed", new, old, "--repetitions", "3", "--json")
    assert r.code == 1, r.err  # the other way round it is a regression
    document = json.loads(r.out)
    assert (document["baseline_sha"], document["candidate_sha"]) == (new, old)
    assert document["verdict"]["kind"] == "REJECT" and document["verdict"]["worse"] is True
    assert document["verdict"]["windows"] == [document["window"]] and document["pairs"] == 3
    assert {run["window"] for run in document["runs"]} == {document["window"]}
    # No pointer moved, nothing was established.
    listed = json.loads(bench("list", "--json").out)["projects"][0]["benchmarks"]
    assert next(b for b in listed if b["name"] == "speed")["baseline"] is None


def test_run_until_decided_reports_the_repetitions_it_needed(bench, make_python_project):
    root = make_python_project("until", level=1.0)
    assert bench("register", str(root)).code == 0
    assert bench("baseline", "establish", "until", "speed").code == 0
    set_level(root, 0.5, message="twice as fast")

    r = bench("run", "until", "speed", "--until-decided", "--max-repetitions", "8", "--json")
    assert r.code == 0, r.out + r.err  # the verdict's exit code: PROMOTE
    document = json.loads(r.out)
    decided = document["until_decided"]
    assert decided["kind"] == "PROMOTE" and decided["decided"] is True
    assert (decided["pairs"], decided["repetitions"], decided["stage"]) == (4, 8, 1)
    assert decided["stage_pairs"] == [4, 8] and len(document["runs"]) == 8
    assert document["measurement"] == "side_by_side"

    r = bench("evaluate", "until", "speed", "--json")
    verdict = json.loads(r.out)
    assert r.code == 0 and verdict["sequential"]["stage"] == 1  # the same rule, same runs

    # Again at the same code: a new procedure, a new window, a new look (text output).
    r = bench("run", "until", "speed", "--until-decided", "-n", "2", "--max-repetitions", "4")
    line = next(line for line in r.lines if line.startswith("until decided: "))
    assert re.match(
        r"until decided: (REJECT|PROMOTE) \((un)?decided\) after \d pair\(s\) = \d+ repetitions, "
        r"stage \d of 2 \(stages at 2, 4 pairs, budget 4\)$",
        line,
    ), line
    assert r.code in (0, 1, 2)
    assert "at look 2" in r.out
