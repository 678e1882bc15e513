"""`benchstone.api` round trips: typed results in, the same state out, and the CLI agrees.

The API is the library every `bench` command calls; these tests drive it in-process against
a private store and check that its dataclasses, its exceptions and the `--json` documents of
the CLI describe the same state.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _support import artifact_files, commit_all, git, python_manifest, set_artifact_code

from benchstone import api
from benchstone.api._types import run_to_dict
from benchstone.runner import ManifestError
from benchstone.store import BaselineEvent, ReferenceEvent, Run

BENCHMARKS = """
[[benchmarks]]
name = "speed"
tier = "performance"
metric_direction = "minimize"
repetitions = 4
baseline_seeds = [1, 2, 3, 4]
requires_correctness = ["output"]

[[benchmarks]]
name = "output"
tier = "correctness"
"""


def _change(root: Path, *, level: float, answer: str = "ok\n") -> str:
    return set_artifact_code(root, level, answer, f"level {level}")


def _json_roundtrip(document: dict) -> dict:
    return json.loads(json.dumps(document, default=str))


def test_the_whole_loop_through_the_api(bench, home: Path, make_python_project):
    root = make_python_project(
        "apiproj",
        manifest=python_manifest("apiproj", benchmarks=BENCHMARKS),
        files=artifact_files(1.0, "ok\n"),
    )
    sha0 = git(root, "rev-parse", "HEAD")

    info = api.register(root, home=home)
    assert isinstance(info, api.ProjectInfo)
    assert (info.name, info.path) == ("apiproj", str(root))
    assert [(b.name, b.tier) for b in info.benchmarks] == [
        ("speed", "performance"),
        ("output", "correctness"),
    ]
    [listed] = api.list_projects(home=home)
    assert listed.name == "apiproj" and listed.manifest_hash == info.manifest_hash
    assert json.loads(bench("list", "--json").out) == _json_roundtrip(
        {"projects": [listed.to_dict()]}
    )

    # Configuration errors raise; gate outcomes come back as verdicts.
    with pytest.raises(api.ApiError, match="not registered"):
        api.evaluate("nosuch", "speed", home=home)
    with pytest.raises(ManifestError, match="no benchmark 'sped'"):
        api.evaluate("apiproj", "sped", home=home)
    verdict = api.evaluate("apiproj", "speed", home=home)
    assert (verdict.kind, verdict.exit_code) == ("NO_BASELINE", 2)

    report = api.establish_baseline("apiproj", "speed", notes="first", home=home)
    assert isinstance(report, api.DispatchReport)
    assert report.git_sha == sha0 and report.seed_set == "baseline"
    assert [r.seed for r in report.runs] == [1, 2, 3, 4]
    assert all(isinstance(r, Run) and r.status == "ok" for r in report.runs)
    assert isinstance(report.baseline, BaselineEvent)
    assert report.baseline.run_ids == tuple(r.id for r in report.runs)
    assert api.baseline("apiproj", "speed", home=home) == report.baseline

    # promote raises ValueError unless the verdict is PROMOTE (or force=True).
    with pytest.raises(ValueError, match="verdict NEEDS_MORE_DATA") as refused:
        api.promote("apiproj", "speed", home=home)
    assert isinstance(refused.value, api.PromotionRefused)
    assert refused.value.kind == "NEEDS_MORE_DATA"
    assert api.baseline("apiproj", "speed", home=home) == report.baseline

    # The correctness side: freeze, then every run at this SHA PASSes.
    api.run("apiproj", "output", home=home)
    frozen = api.freeze_reference("apiproj", "output", notes="v1", home=home)
    assert isinstance(frozen, api.ReferenceReport) and frozen.previous is None
    assert frozen.event.action == "freeze" and frozen.event.notes == "v1"
    assert api.reference("apiproj", "output", home=home) == frozen.event
    assert api.evaluate("apiproj", "output", home=home).kind == "PASS"
    with pytest.raises(api.ApiError, match="correctness benchmark"):
        api.promote("apiproj", "output", home=home)

    # An improvement: run, evaluate (PROMOTE once the correctness run PASSes), promote.
    sha1 = _change(root, level=0.8)
    candidates = api.run("apiproj", "speed", meta_seed=77, home=home)
    assert candidates.seed_set == "fresh" and candidates.meta_seed == 77
    assert api.evaluate("apiproj", "speed", home=home).kind == "NEEDS_MORE_DATA"
    api.run("apiproj", "output", home=home)
    verdict = api.evaluate("apiproj", "speed", home=home)
    assert isinstance(verdict, api.Verdict)
    assert (verdict.kind, verdict.exit_code, verdict.candidate_sha) == ("PROMOTE", 0, sha1)
    # Side by side: the candidate arm against the baseline commit re-measured next to it.
    assert candidates.window is not None and candidates.baseline_sha == sha0
    arms = {
        arm: tuple(r.id for r in candidates.runs if r.arm == arm)
        for arm in ("baseline", "candidate")
    }
    assert verdict.candidate_run_ids == arms["candidate"]
    assert verdict.baseline_run_ids == arms["baseline"] and verdict.windows == (candidates.window,)

    # The CLI is the same call: its --json is the verdict's to_dict (a re-evaluation of the
    # same runs is not a new look, so it reads the same look and evaluation row).
    r = bench("evaluate", "apiproj", "speed", "--json")
    assert r.code == verdict.exit_code
    document = json.loads(r.out)
    assert document.pop("expect") is None
    assert document["new_look"] is False and document["evaluation_id"] is not None
    assert document == dict(_json_roundtrip(verdict.to_dict()), new_look=False)

    promoted = api.promote("apiproj", "speed", notes="faster", home=home)
    assert isinstance(promoted, api.PromoteReport) and promoted.forced is False
    assert promoted.baseline.git_sha == sha1 and promoted.baseline.meta_seed == 77
    events = api.baseline_history("apiproj", "speed", home=home)
    assert [e.action for e in events] == ["establish", "promote"]
    assert events[-1] == promoted.baseline == api.baseline("apiproj", "speed", home=home)

    # history: typed runs, newest first, filtered like the CLI's.
    runs = api.history("apiproj", "speed", home=home)
    assert [r.id for r in runs] == sorted((r.id for r in runs), reverse=True)
    assert {r.id for r in api.history("apiproj", "speed", git_sha=sha0, home=home)} == set(
        report.baseline.run_ids + arms["baseline"]
    )
    assert len(api.history("apiproj", "speed", limit=2, home=home)) == 2
    cli_runs = json.loads(bench("history", "apiproj", "speed", "--json").out)["runs"]
    added = ("in_baseline", "gated_value")
    assert [{k: v for k, v in row.items() if k not in added} for row in cli_runs] == [
        _json_roundtrip(run_to_dict(r)) for r in runs
    ]

    # Replacing a reference: a reason is mandatory and recorded.
    _change(root, level=0.8, answer="ok, v2\n")
    api.run("apiproj", "output", home=home)
    assert api.evaluate("apiproj", "output", home=home).kind == "FAIL"
    for reason in ("", "  \n"):
        with pytest.raises(api.ApiError, match="needs a reason"):
            api.replace_reference("apiproj", "output", reason=reason, home=home)
    replaced = api.replace_reference("apiproj", "output", reason="format v2", home=home)
    assert replaced.previous == frozen.event and replaced.event.reason == "format v2"
    history = api.reference_history("apiproj", "output", home=home)
    assert all(isinstance(e, ReferenceEvent) for e in history)
    assert [(e.action, e.reason) for e in history] == [("freeze", None), ("replace", "format v2")]
    verdict = api.evaluate("apiproj", "output", home=home)
    assert verdict.kind == "PASS" and verdict.gate.reference_digest == replaced.digest
    cli = json.loads(bench("reference-history", "apiproj", "output", "--json").out)
    assert cli["events"] == [_json_roundtrip(e.__dict__) for e in history]

    # Unregistering forgets the project, not its history.
    api.unregister("apiproj", home=home)
    assert api.list_projects(home=home) == []
    assert len(api.history("apiproj", "speed", home=home)) == len(runs)
    with pytest.raises(api.ApiError, match="not registered"):
        api.run("apiproj", "speed", home=home)


def test_init_project_then_register(home: Path, tmp_path: Path):
    root = tmp_path / "scaffolded"
    report = api.init_project(root, runner="shell", name="scaf")
    assert isinstance(report, api.ScaffoldReport)
    assert report.files == ("bench/manifest.toml", "bench/runner.sh")
    assert report.benchmarks == ("speed", "accuracy", "output")
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "scaffold")
    info = api.register(root, home=home)
    assert info.warnings == ()
    assert [b.tier for b in info.benchmarks] == ["performance", "quality", "correctness"]
    with pytest.raises(api.ApiError, match="already exists"):
        api.init_project(root, runner="shell")
    with pytest.raises(api.ApiError, match="runner 'perl' is unknown"):
        api.init_project(tmp_path / "x", runner="perl")
