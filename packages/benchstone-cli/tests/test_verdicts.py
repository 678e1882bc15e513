"""Every statistical verdict kind through `bench` (in-process), with the numbers it printed.

Candidate runs use fixed meta-seeds, so every number here is reproducible: the tests can
assert exact verdicts, and that the text form and the `--json` document carry the same
n, mean, median, sd, effect with its interval, p, alpha and look.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from _support import Result, commit_all, python_manifest, write_level

from benchstone.cli import _format as fmt

NOMINAL_ALPHA = 0.5 * math.erfc(2.0 / math.sqrt(2.0))  # Φ(-2): the one-sided rate of 2 sigma


SPEED = """
[[benchmarks]]
name = "speed"
tier = "performance"
metric_direction = "minimize"
repetitions = 4
baseline_seeds = [1, 2, 3, 4]
promotion_sigma = 2.0
"""


def _project(make_python_project, name: str, benchmarks: str, level: float = 1.0):
    return make_python_project(
        name,
        manifest=python_manifest(name, benchmarks=benchmarks),
        level=level,
    )


def _set_level(root, level: float, noise: float = 0.01) -> str:
    write_level(root, level, noise)
    return commit_all(root, f"level {level}")


def _evaluate(bench, project: str, benchmark: str) -> tuple[Result, dict[str, Any]]:
    """The text verdict and the JSON verdict of the same runs (same look, same numbers)."""
    text = bench("evaluate", project, benchmark)
    document = bench("evaluate", project, benchmark, "--json")
    assert text.code == document.code, text.out + text.err + document.err
    return text, json.loads(document.out)


def _number(value: float | None, digits: int) -> str:
    if value is None:
        return "-"
    return str(value) if not math.isfinite(value) else f"{value:.{digits}g}"


def _assert_numbers_printed(text: Result, document: dict[str, Any]) -> None:
    """Each number of the JSON gate appears, formatted, in the text verdict."""
    gate = document["gate"]
    for label, side, sha in (
        ("baseline ", "baseline", document["baseline_sha"]),
        ("candidate", "candidate", document["candidate_sha"]),
    ):
        summary = gate[side]
        assert (
            f"  {label} n={summary['n']} mean={_number(summary['mean'], 5)} "
            f"median={_number(summary['median'], 5)} sd={_number(summary['stdev'], 3)} "
            f"at {sha[:10]}"
        ) in text.lines, text.out
    if gate["effect"] is not None:
        how = (gate["direction"], document["tier"], document["metric_source"])
        effect = f"  effect: {fmt.effect_phrase(gate['effect'], *how)}"
        if gate["effect_ci"] is not None and document["interval_level"] is not None:
            low, high = (fmt.effect_phrase(end, *how) for end in gate["effect_ci"])
            effect += f" ({fmt.level_text(document['interval_level'])} interval: {low} to {high})"
        assert effect in text.lines, text.out
    if gate["p_value"] is None:  # deterministic: no test to report
        assert not any(line.startswith("  test: ") for line in text.lines), text.out
    else:
        relation = "<=" if gate["p_value"] <= gate["alpha"] else ">"
        assert (
            f"  test: p={_number(gate['p_value'], 3)} {relation} "
            f"alpha={_number(gate['alpha'], 3)} at look {gate['look']}"
        ) in text.lines, text.out
    assert document["reason"] == gate["reason"]
    assert document["reason"] in text.out


def test_no_baseline_needs_more_data_promote_and_reject(bench, make_python_project):
    root = _project(make_python_project, "kinds", SPEED)
    assert bench("register", str(root)).code == 0

    text, document = _evaluate(bench, "kinds", "speed")
    assert text.code == 2 and document["kind"] == "NO_BASELINE"
    assert text.lines[0].startswith("verdict: NO_BASELINE  there are no baseline runs")
    assert document["baseline_sha"] is None and document["gate"]["baseline"] is None

    assert bench("baseline", "establish", "kinds", "speed").code == 0
    faster = _set_level(root, 0.9)
    assert bench("run", "kinds", "speed", "-n", "1", "--meta-seed", "11").code == 0
    text, document = _evaluate(bench, "kinds", "speed")
    assert text.code == 2 and document["kind"] == "NEEDS_MORE_DATA"
    # Side by side: one pair, so one re-measured baseline run against one candidate run.
    assert (
        "needs at least 2 runs of baseline and 2 runs of candidate; it has 1 and 1"
        in (document["reason"])
    )
    assert document["gate"]["baseline"]["n"] == 1 and document["gate"]["candidate"]["n"] == 1
    assert f"  candidate n=1 mean={_number(document['gate']['candidate']['mean'], 5)}" in text.out

    # Three more pairs: all four candidate runs at the SHA (two windows) are pooled.
    assert bench("run", "kinds", "speed", "-n", "3", "--meta-seed", "12").code == 0
    text, document = _evaluate(bench, "kinds", "speed")
    assert text.code == 0 and document["kind"] == "PROMOTE", text.out
    gate = document["gate"]
    assert re.fullmatch(
        r"verdict: PROMOTE  sigma z=\+\d+\.\d\d >= threshold 2\.0 \(direction=minimize\)",
        text.lines[0],
    )
    assert f"z={gate['statistic']:+.2f}" in text.lines[0]
    assert gate["candidate"]["n"] == 4 and document["candidate_sha"] == faster
    assert gate["p_value"] <= gate["alpha"] and gate["look"] == 1
    assert gate["effect"] > 0.05 and gate["effect_ci"][0] > 0  # ~10% better, interval above 0
    _assert_numbers_printed(text, document)

    assert bench("promote", "kinds", "speed").code == 0
    slower = _set_level(root, 1.0)
    assert bench("run", "kinds", "speed", "--meta-seed", "13").code == 0
    text, document = _evaluate(bench, "kinds", "speed")
    assert text.code == 1 and document["kind"] == "REJECT"
    gate = document["gate"]
    assert text.lines[0].startswith("verdict: REJECT  sigma z=-")
    assert gate["statistic"] < 0 and gate["effect"] < 0 and gate["p_value"] > gate["alpha"]
    assert document["baseline_sha"] == faster and document["candidate_sha"] == slower
    assert document["reason"].startswith("significantly worse") and document["worse"] is True
    _assert_numbers_printed(text, document)


def test_mann_whitney_threshold_unreachable_at_its_n(bench, make_python_project):
    benchmarks = """
[[benchmarks]]
name = "ranked"
entry_point = "speed"
tier = "quality"
metric_direction = "minimize"
gate_policy = "mann_whitney"
promotion_z = 2.0
repetitions = 3
baseline_seeds = [1, 2, 3]
"""
    root = _project(make_python_project, "ranks", benchmarks)
    r = bench("register", str(root))
    assert r.code == 0 and "cannot be reached with 3 baseline and 3 candidate runs" in r.err
    assert bench("baseline", "establish", "ranks", "ranked").code == 0
    _set_level(root, 0.8)
    assert bench("run", "ranks", "ranked", "--meta-seed", "21").code == 0

    text, document = _evaluate(bench, "ranks", "ranked")
    assert text.code == 2 and document["kind"] == "NEEDS_MORE_DATA"
    reason = document["reason"]
    # 3 v 3: the most extreme arrangement has p = 1/C(6,3) = 0.05 > alpha = Φ(-2).
    assert "smallest possible one-sided Mann-Whitney p is 0.05 > alpha 0.0228 at look 1" in reason
    assert "it takes 4 runs a side (or 5 candidate runs against these 3 baseline runs)" in reason
    assert reason in text.out and text.lines[0].startswith("verdict: NEEDS_MORE_DATA")
    assert abs(document["gate"]["alpha"] - NOMINAL_ALPHA) < 1e-12
    assert document["evaluation_id"] is None  # not a look: nothing was decided

    # With the five candidate runs the reason asked for, the gate can decide: PROMOTE.
    assert bench("run", "ranks", "ranked", "-n", "2", "--meta-seed", "22").code == 0
    text, document = _evaluate(bench, "ranks", "ranked")
    assert text.code == 0 and document["kind"] == "PROMOTE", text.out
    assert document["gate"]["policy"] == "mann_whitney"
    assert document["gate"]["candidate"]["n"] == 5 and document["gate"]["look"] == 1
    assert text.lines[0].startswith("verdict: PROMOTE  mann_whitney z=+")
    _assert_numbers_printed(text, document)


def test_look_counter_end_to_end(bench, make_python_project):
    # Stored: the same pooled candidate runs are judged again against a new pointer (side
    # by side, a new pointer has no window yet).
    stored = SPEED.replace('name = "speed"\n', 'name = "speed"\nmeasurement = "stored"\n')
    root = _project(make_python_project, "looks", stored)
    assert bench("register", str(root)).code == 0
    assert bench("baseline", "establish", "looks", "speed").code == 0
    _set_level(root, 0.97)
    assert bench("run", "looks", "speed", "--meta-seed", "31").code == 0

    first = json.loads(bench("evaluate", "looks", "speed", "--json").out)
    assert first["gate"]["look"] == 1 and first["new_look"] is True
    assert abs(first["gate"]["alpha"] - NOMINAL_ALPHA) < 1e-12
    assert first["gate"]["threshold"] == 2.0

    # The same runs again: the same look, the same verdict, no new evaluation row.
    text, again = _evaluate(bench, "looks", "speed")
    assert again["new_look"] is False and again["evaluation_id"] == first["evaluation_id"]
    assert (again["kind"], again["gate"]) == (first["kind"], first["gate"])
    assert text.code == again["exit_code"]
    _assert_numbers_printed(text, again)

    # New candidate runs at the same SHA: the next look, at half the alpha.
    assert bench("run", "looks", "speed", "-n", "2", "--meta-seed", "32").code == 0
    text, second = _evaluate(bench, "looks", "speed")
    gate = second["gate"]
    assert gate["look"] == 2 and gate["candidate"]["n"] == 6
    assert second["evaluation_id"] != first["evaluation_id"]
    assert abs(gate["alpha"] - NOMINAL_ALPHA / 2) < 1e-12
    assert gate["threshold"] > 2.0 and gate["nominal_threshold"] == 2.0
    assert f"threshold {gate['threshold']:.2f}" in text.lines[0]
    _assert_numbers_printed(text, second)

    # A new baseline pointer: looks start over against it.
    assert bench("baseline", "establish", "looks", "speed").code == 0
    text, fresh = _evaluate(bench, "looks", "speed")
    assert fresh["baseline_event_id"] != second["baseline_event_id"]
    assert fresh["evaluation_id"] not in (None, first["evaluation_id"], second["evaluation_id"])
    assert fresh["gate"]["look"] == 1 and abs(fresh["gate"]["alpha"] - NOMINAL_ALPHA) < 1e-12
    assert fresh["gate"]["candidate"]["n"] == 6  # the same pooled candidate runs
    _assert_numbers_printed(text, fresh)


def test_min_effect_blocks_a_significant_but_small_improvement(bench, make_python_project):
    benchmarks = """
[[benchmarks]]
name = "any_gain"
entry_point = "speed"
tier = "performance"
metric_direction = "minimize"
repetitions = 4
baseline_seeds = [1, 2, 3, 4]

[[benchmarks]]
name = "big_gain"
entry_point = "speed"
tier = "performance"
metric_direction = "minimize"
repetitions = 4
baseline_seeds = [1, 2, 3, 4]
min_effect = 0.05
"""
    root = make_python_project(
        "effects",
        manifest=python_manifest("effects", benchmarks=benchmarks),
        noise=0.002,
    )
    assert bench("register", str(root)).code == 0
    for name in ("any_gain", "big_gain"):
        assert bench("baseline", "establish", "effects", name).code == 0
    _set_level(root, 0.98, noise=0.002)  # 2% faster, far beyond the noise
    for name in ("any_gain", "big_gain"):
        assert bench("run", "effects", name, "--meta-seed", "41").code == 0

    text, any_gain = _evaluate(bench, "effects", "any_gain")
    assert text.code == 0 and any_gain["kind"] == "PROMOTE", text.out
    text, big_gain = _evaluate(bench, "effects", "big_gain")
    assert text.code == 1 and big_gain["kind"] == "REJECT", text.out
    # Same runs, same evidence: only min_effect differs.
    for key in ("statistic", "p_value", "effect", "effect_ci", "alpha"):
        assert big_gain["gate"][key] == any_gain["gate"][key], key
    assert big_gain["gate"]["p_value"] <= big_gain["gate"]["alpha"]  # significant...
    assert 0.01 < big_gain["gate"]["effect"] < 0.05  # ...but about 2%, under 5%
    assert big_gain["reason"].startswith(
        "no significant improvement (significant but below min_effect)"
    )
    assert "< min_effect 5.00%" in big_gain["reason"]
    _assert_numbers_printed(text, big_gain)


def test_deterministic_benchmark_promotes_on_one_run_a_side(bench, make_python_project):
    benchmarks = """
[[benchmarks]]
name = "exact"
tier = "performance"
metric_direction = "minimize"
deterministic = true
"""
    root = _project(make_python_project, "determ", benchmarks)
    r = bench("register", str(root))
    assert r.code == 0 and "warning" not in r.err
    r = bench("baseline", "establish", "determ", "exact")
    assert r.code == 0 and r.lines[-1].endswith("(1 run(s))"), r.out
    _set_level(root, 0.9)
    assert bench("run", "determ", "exact").code == 0

    text, document = _evaluate(bench, "determ", "exact")
    assert text.code == 0 and document["kind"] == "PROMOTE", text.out
    gate = document["gate"]
    assert gate["policy"] == "deterministic"
    assert gate["baseline"]["n"] == 1 and gate["candidate"]["n"] == 1
    assert gate["baseline"]["mean"] == 1.0 and gate["candidate"]["mean"] == 0.9
    assert abs(gate["effect"] - 0.1) < 1e-12
    assert gate["p_value"] is None and gate["alpha"] is None
    assert text.lines[0] == f"verdict: PROMOTE  {document['reason']}"
    assert "candidate 0.9 against baseline 1" in document["reason"]
    _assert_numbers_printed(text, document)

    # Equal is not better: a deterministic gate needs a strict improvement.
    assert bench("promote", "determ", "exact").code == 0
    (root / "README").write_text("no code change\n")
    commit_all(root, "same speed")
    assert bench("run", "determ", "exact").code == 0
    text, document = _evaluate(bench, "determ", "exact")
    assert text.code == 1 and document["kind"] == "REJECT"
    assert document["reason"].startswith("no significant improvement (no difference)")
