"""Warmups and CPU pinning as a `bench` user sees them (in-process, real git projects)."""

from __future__ import annotations

import json
import os

from _support import python_manifest

BENCHMARK = """
[[benchmarks]]
name = "speed"
tier = "performance"
metric_direction = "minimize"
repetitions = 3
baseline_seeds = [1, 2, 3]
{extra}
"""


def _project(make_python_project, extra: str):
    manifest = python_manifest("hyg", benchmarks=BENCHMARK.format(extra=extra))
    return make_python_project("hyg", manifest=manifest)


def test_history_marks_warmups_and_gates_none(bench, make_python_project):
    root = _project(make_python_project, "warmup_repetitions = 1")
    assert bench("register", str(root)).code == 0
    ran = bench("run", "hyg", "speed", "--json")
    assert ran.code == 0
    doc = json.loads(ran.out)
    assert len(doc["runs"]) == 3 and [w["warmup"] for w in doc["warmups"]] == [True]
    lines = bench("history", "hyg", "speed").lines
    assert lines[-2:] == ["w warmup repetition: stored, never gated", "no active baseline"]
    (warm,) = [line for line in lines[:-2] if line.startswith("w ")]
    assert " warmup " in warm
    history = json.loads(bench("history", "hyg", "speed", "--json").out)
    assert [r["gated_value"] is None for r in history["runs"]] == [False, False, False, True]


def test_an_unavailable_cpu_is_one_error_line(bench, make_python_project):
    cpu = max(os.sched_getaffinity(0)) + 1
    root = _project(make_python_project, f"cpu_affinity = [{cpu}]")
    assert bench("register", str(root)).code == 0
    r = bench("run", "hyg", "speed")
    assert r.code == 10 and r.out == ""
    assert r.err.startswith("Error: ") and r.err.count("\n") == 1
    assert "benchmark 'speed': key 'cpu_affinity'" in r.err
    assert f"CPU {cpu} is not available on this host" in r.err
