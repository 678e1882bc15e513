"""The main commands' output, text and --json, in-process (``main()`` under click's
CliRunner isolation) on a real git project with real repetitions: the shapes docs/cli.md
promises, without a subprocess per `bench` call. The end-to-end tests/ keep what needs a
real process (signals, background jobs, concurrency, the installed console script)."""

from __future__ import annotations

import json
import re

import pytest
from _support import set_level


@pytest.fixture
def demo(bench, make_python_project):
    root = make_python_project("demo").resolve()
    registered = bench("register", str(root))
    assert registered.code == 0, registered.err
    return root


def test_register_and_list_text_and_json(bench, make_python_project):
    root = make_python_project("demo").resolve()
    r = bench("register", str(root))
    assert (r.code, r.err) == (0, "")
    assert r.lines[0] == f"registered demo  {root}"
    assert re.fullmatch(r"  manifest: sha256:[0-9a-f]{64}", r.lines[1])
    assert r.lines[2:] == ["  benchmark: speed  tier=performance  corpus=n/a"]

    listed = bench("list")
    assert listed.code == 0
    assert listed.lines == [
        f"demo  {root}",
        "  speed  tier=performance  gate=sigma  runs=0  baseline=none  corpus=n/a",
    ]
    document = json.loads(bench("list", "--json").out)
    (project,) = document["projects"]
    assert (project["name"], project["path"], project["error"]) == ("demo", str(root), None)
    assert project["manifest_hash"] == r.lines[1].split()[-1]
    (speed,) = project["benchmarks"]
    assert speed == {
        "name": "speed",
        "tier": "performance",
        "metric_direction": "minimize",
        "gate_policy": "sigma",
        "baseline": None,
        "corpus": "n/a",
        "run_count": 0,
    }
    assert bench("list", "--project", "demo").lines == listed.lines


def test_nothing_registered_says_how_to_start(bench):
    r = bench("list")
    assert (r.code, r.lines) == (0, ["no projects registered; use `bench register PATH`"])
    assert json.loads(bench("list", "--json").out) == {"projects": []}


def test_evaluate_and_history_text_and_json(bench, demo):
    established = bench("baseline", "establish", "demo", "speed")
    assert established.code == 0
    assert established.lines[0].startswith("dispatched 4 run(s)")
    assert any(line.startswith("baseline set:") for line in established.lines)
    candidate = set_level(demo, 0.25)
    run = bench("run", "demo", "speed")
    # A host timing is measured side by side by default: the baseline commit again, in pairs.
    assert run.code == 0, run.err
    assert run.lines[0].startswith("dispatched 8 run(s)")
    assert run.lines[1].startswith("  side by side: window w")

    text = bench("evaluate", "demo", "speed")
    assert text.code == 0, text.out
    assert re.fullmatch(
        r"verdict: PROMOTE  sigma z=\+\d+\.\d\d >= threshold 2\.0 \(direction=minimize\)",
        text.lines[0],
    )
    assert text.lines[2].startswith("  baseline  n=4 mean=")
    assert text.lines[3].startswith("  candidate n=4 mean=")
    assert text.lines[3].endswith(f" at {candidate[:10]}")
    effect = next(line for line in text.lines if line.startswith("  effect: "))
    # Beyond ±50 % an effect is a ratio; the interval's level is stated (alpha 0.0228).
    assert re.match(r"  effect: [34]\.?\d*× faster \(95\.4 % interval: [\d.]+× faster to ", effect)

    document = json.loads(bench("evaluate", "demo", "speed", "--json").out)
    assert (document["kind"], document["exit_code"], document["expect"]) == ("PROMOTE", 0, None)
    assert document["candidate_sha"] == candidate
    assert len(document["candidate_run_ids"]) == len(document["baseline_run_ids"]) == 4
    assert document["gate"]["policy"] == "sigma" and document["gate"]["statistic"] > 2.0
    assert document["worse"] is None and document["metric_source"] == "reported"
    # Re-reading the same runs is not a new look.
    assert document["new_look"] is False

    history = bench("history", "demo", "speed")
    assert history.code == 0
    assert history.lines[0].split() == [
        "run", "started_at", "(UTC)", "git_sha", "dirty", "seed", "rep", "status", "metric",
        "wall",
    ]  # fmt: skip
    rows = history.lines[1:-1]
    assert len(rows) == 12  # the window's 4 pairs, newest first, then the 4 baseline runs
    assert [row.startswith("*") for row in rows] == [False] * 8 + [True] * 4
    assert sum(f"  {candidate[:10]}  no  " in row for row in rows) == 4
    assert history.lines[-1].startswith("* active baseline: ")
    assert "(establish, 4 run(s), " in history.lines[-1]

    found = json.loads(bench("history", "demo", "speed", "--json", "--limit", "3").out)
    assert (found["project"], found["benchmark"], found["metric_source"]) == (
        "demo",
        "speed",
        "reported",
    )
    assert len(found["runs"]) == 3 and not any(r["in_baseline"] for r in found["runs"])
    assert all(r["gated_value"] == r["reported_metric"] for r in found["runs"])
    assert found["baseline"]["action"] == "establish"

    nothing = bench("history", "demo", "speed", "--git-sha", "abcd")
    assert (nothing.code, nothing.lines) == (0, ["no runs of demo/speed match --git-sha abcd"])


def test_evaluate_before_any_baseline_and_expect(bench, demo):
    r = bench("evaluate", "demo", "speed")
    assert r.code == 2 and r.lines[0].startswith("verdict: NO_BASELINE  ")
    assert bench("evaluate", "demo", "speed", "--expect", "NO_BASELINE").code == 0
    mismatch = bench("evaluate", "demo", "speed", "--expect", "PROMOTE")
    assert mismatch.code == 4
    assert "expected PROMOTE, got NO_BASELINE" in mismatch.err
    document = json.loads(bench("evaluate", "demo", "speed", "--json", "--expect", "PROMOTE").out)
    assert (document["kind"], document["expect"]) == ("NO_BASELINE", "PROMOTE")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("evaluate", "nope", "speed"), "Error: project 'nope' is not registered"),
        (("evaluate", "demo", "sped"), "did you mean 'speed'?"),
        (("history", "demo", "speed", "--limit", "0"), "Error: "),
        (("history", "demo", "speed", "--since", "yesterday"), "Error: "),
        (("list", "--project", "nope"), "Error: project 'nope' is not registered"),
        (("run", "demo"), "Missing argument 'BENCHMARK'"),
        (("evaluate", "demo", "speed", "--expect", "MAYBE"), "(see `bench --help`)"),
    ],
)
def test_errors_are_one_line_and_exit_10(bench, demo, args, expected):
    r = bench(*args)
    assert r.code == 10, (r.out, r.err)
    assert r.out == ""
    assert len(r.err.splitlines()) == 1 and r.err.startswith("Error: ")
    assert expected in r.err


def test_an_invalid_manifest_names_file_benchmark_and_key(bench, make_python_project):
    root = make_python_project("broken").resolve()
    manifest = root / "bench" / "manifest.toml"
    manifest.write_text(manifest.read_text().replace("repetitions = 4", "repetitons = 4"))
    r = bench("register", str(root))
    assert r.code == 10 and r.out == ""
    assert r.err.strip() == (
        f"Error: {manifest}: benchmark 'speed': key 'repetitons': unknown key; "
        "did you mean 'repetitions'?"
    )
