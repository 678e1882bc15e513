"""`--json` everywhere: one parseable document per command, with the keys docs/cli.md lists.

The key sets below mirror docs/cli.md ("JSON objects" and each command's "JSON:" line). They
are compared exactly, so a key added to a document without documenting it fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

from _support import artifact_files, python_manifest, set_artifact_code

SUMMARY = {"n", "mean", "median", "stdev", "min", "max"}
GATE = {
    "kind",
    "policy",
    "direction",
    "statistic",
    "threshold",
    "nominal_threshold",
    "p_value",
    "alpha",
    "effect",
    "effect_ci",
    "look",
    "reason",
    "baseline",
    "candidate",
    "reference_digest",
    "candidate_digest",
    "worse",
}
VERDICT = {
    "kind",
    "exit_code",
    "reason",
    "project",
    "benchmark",
    "tier",
    "candidate_sha",
    "baseline_sha",
    "baseline_event_id",
    "baseline_run_ids",
    "candidate_run_ids",
    "evaluation_id",
    "new_look",
    "worse",
    "metric_source",
    "interval_level",
    "notes",
    "measurement",
    "windows",
    "sequential",
    "gate",
}
RUN = {
    "id",
    "project",
    "benchmark",
    "git_sha",
    "git_dirty",
    "diff_path",
    "seed",
    "meta_seed",
    "seed_set",
    "repetition",
    "repetition_total",
    "status",
    "metric",
    "metric_source",
    "reported_metric",
    "metric_components",
    "reported_wall_clock",
    "wall_clock",
    "cpu_time",
    "peak_rss",
    "exit_code",
    "message",
    "metadata",
    "artifact_digest",
    "stdout_log",
    "stderr_log",
    "corpus_digest",
    "tracked_digest",
    "manifest_hash",
    "host",
    "started_at",
    "finished_at",
    "job_id",
    "instructions",
    "isolation",
    "lock_id",
    "content_digest",
    "window",
    "arm",
    "warmup",
    "host_identity",
    "fingerprint",
    "executor",
    "bundle_id",
    "created_at",
    "row_hash",
}
BASELINE_EVENT = {
    "id",
    "project",
    "benchmark",
    "git_sha",
    "meta_seed",
    "run_ids",
    "action",
    "notes",
    "forced",
    "created_at",
    "row_hash",
}
REFERENCE_EVENT = {
    "id",
    "project",
    "benchmark",
    "digest",
    "run_id",
    "action",
    "reason",
    "notes",
    "created_at",
    "row_hash",
}
REFERENCE_REPORT = {
    "project",
    "benchmark",
    "action",
    "digest",
    "previous_digest",
    "run_id",
    "git_sha",
    "git_dirty",
    "reason",
    "notes",
    "created_at",
    "event",
    "previous",
}
PROJECT = {
    "name",
    "path",
    "manifest_hash",
    "registered_at",
    "benchmarks",
    "warnings",
    "error",
}
BENCHMARK = {"name", "tier", "metric_direction", "gate_policy", "baseline", "corpus", "run_count"}
DISPATCH = {
    "project",
    "benchmark",
    "git_sha",
    "git_dirty",
    "meta_seed",
    "seed_set",
    "measurement",
    "window",
    "baseline_sha",
    "runs",
    "ok",
    "errors",
    "baseline",
    "until_decided",
    "warmups",
}
JOB = {
    "id",
    "kind",
    "project",
    "benchmark",
    "state",
    "background",
    "pid",
    "threads",
    "gpus",
    "total",
    "done_runs",
    "progress",
    "run_ids",
    "created_at",
    "started_at",
    "finished_at",
    "git_sha",
    "git_dirty",
    "at_sha",
    "message",
    "log_path",
    "executor",
    "slurm_job",
    "task_states",
}

BENCHMARKS = """
[[benchmarks]]
name = "speed"
tier = "performance"
metric_direction = "minimize"
repetitions = 3
baseline_seeds = [1, 2, 3]
corpus_path = "data/corpus.txt"

[[benchmarks]]
name = "output"
tier = "correctness"
"""


def _document(result, *, code: int = 0) -> dict:
    """Exactly one JSON document on stdout, and the expected exit code."""
    assert result.code == code, (result.code, result.out, result.err)
    document = json.loads(result.out)  # fails on any text before or after the document
    assert isinstance(document, dict)
    return document


def _check_verdict(document: dict) -> None:
    assert set(document) == VERDICT | {"expect"} or set(document) == VERDICT
    assert set(document["gate"]) == GATE
    for side in ("baseline", "candidate"):
        summary = document["gate"][side]
        assert summary is None or set(summary) == SUMMARY


def test_every_json_document_parses_and_has_its_documented_keys(
    bench, tmp_path: Path, make_python_project
):
    root = make_python_project(
        "jsonproj",
        manifest=python_manifest("jsonproj", benchmarks=BENCHMARKS),
        files={
            **artifact_files(1.0, "1.0\n"),
            "data/corpus.txt": "corpus\n",
        },
    )

    document = _document(bench("init", str(tmp_path / "scaffold"), "--json"))
    assert set(document) == {"project", "root", "runner", "files", "benchmarks", "next_steps"}

    document = _document(bench("register", str(root), "--json"))
    assert set(document) == PROJECT
    assert [set(b) for b in document["benchmarks"]] == [BENCHMARK, BENCHMARK]

    document = _document(bench("list", "--json"))
    assert set(document) == {"projects"}
    assert set(document["projects"][0]) == PROJECT

    # No baseline yet: the exit code is the same with and without --json.
    text = bench("evaluate", "jsonproj", "speed")
    document = _document(bench("evaluate", "jsonproj", "speed", "--json"), code=text.code)
    assert document["kind"] == "NO_BASELINE" and document["exit_code"] == 2
    _check_verdict(document)
    document = _document(
        bench("evaluate", "jsonproj", "speed", "--expect", "PROMOTE", "--json"), code=4
    )
    assert document["expect"] == "PROMOTE"

    document = _document(bench("baseline", "establish", "jsonproj", "speed", "--json"))
    assert set(document) == DISPATCH
    assert set(document["baseline"]) == BASELINE_EVENT
    assert [set(r) for r in document["runs"]] == [RUN] * 3

    document = _document(bench("run", "jsonproj", "output", "--json"))
    assert set(document) == DISPATCH and document["baseline"] is None
    assert document["runs"][0]["artifact_digest"].startswith("sha256:")
    document = _document(bench("freeze-reference", "jsonproj", "output", "--json"))
    assert set(document) == REFERENCE_REPORT and document["action"] == "freeze"
    assert set(document["event"]) == REFERENCE_EVENT and document["previous"] is None
    _check_verdict(_document(bench("evaluate", "jsonproj", "output", "--json")))

    # A faster candidate: PROMOTE, then promote.
    set_artifact_code(root, 0.5, "0.5\n", "faster")
    document = _document(bench("run", "jsonproj", "speed", "--json"))
    # Side by side: 3 pairs, the baseline commit re-measured in the same window.
    assert set(document) == DISPATCH and document["ok"] == 6 and document["errors"] == 0
    assert document["measurement"] == "side_by_side" and document["window"].startswith("w")
    document = _document(bench("evaluate", "jsonproj", "speed", "--json"))
    assert document["kind"] == "PROMOTE"
    _check_verdict(document)
    document = _document(bench("promote", "jsonproj", "speed", "--json"))
    assert set(document) == {"verdict", "baseline", "forced"}
    assert set(document["verdict"]) == VERDICT
    assert set(document["baseline"]) == BASELINE_EVENT

    # The changed output FAILs (exit 1 either way), then a reasoned replacement.
    assert bench("run", "jsonproj", "output").code == 0
    text = bench("evaluate", "jsonproj", "output")
    document = _document(bench("evaluate", "jsonproj", "output", "--json"), code=text.code)
    assert text.code == 1 and document["kind"] == "FAIL"
    assert document["gate"]["reference_digest"] != document["gate"]["candidate_digest"]
    document = _document(
        bench("replace-reference", "jsonproj", "output", "--reason", "new level", "--json")
    )
    assert set(document) == REFERENCE_REPORT and document["reason"] == "new level"
    assert set(document["previous"]) == REFERENCE_EVENT
    document = _document(bench("reference-history", "jsonproj", "output", "--json"))
    assert set(document) == {"project", "benchmark", "current", "events"}
    assert [set(e) for e in document["events"]] == [REFERENCE_EVENT] * 2

    document = _document(bench("history", "jsonproj", "speed", "--json"))
    assert set(document) == {"project", "benchmark", "metric_source", "baseline", "runs"}
    assert set(document["baseline"]) == BASELINE_EVENT
    # 3 baseline runs, then 3 pairs (6 runs) side by side
    assert [set(r) for r in document["runs"]] == [RUN | {"in_baseline", "gated_value"}] * 9

    document = _document(bench("status", "--json"))
    assert set(document) == {"all", "jobs"}
    document = _document(bench("status", "--all", "--json"))
    assert document["all"] is True and document["jobs"]
    assert all(set(job) == JOB for job in document["jobs"])

    document = _document(bench("verify", "--json"))
    assert set(document) == {"ok", "home", "db", "counts", "heads", "problems", "tables"}
    assert document["ok"] is True
    assert all(set(t) == {"name", "rows", "head", "ok", "problems"} for t in document["tables"])

    document = _document(bench("corpus", "hash", str(root / "data"), "--json"))
    assert set(document) == {
        "path",
        "algo",
        "digest",
        "corpus_type",
        "files",
        "bytes",
        "listing",
        "manifest_lines",
    }
    document = _document(bench("corpus", "verify", "jsonproj", "speed", "--json"))
    assert set(document) == {
        "project",
        "benchmark",
        "state",
        "path",
        "expected",
        "actual",
        "added",
        "removed",
        "changed",
    }

    document = _document(bench("unregister", "jsonproj", "--json"))
    assert document == {"unregistered": "jsonproj"}


def test_refusals_keep_their_exit_codes_under_json(bench, make_python_project):
    root = make_python_project(
        "jsonref",
        manifest=python_manifest("jsonref", benchmarks=BENCHMARKS),
        files={
            **artifact_files(1.0, "1.0\n"),
            "data/corpus.txt": "corpus\n",
        },
    )
    assert bench("register", str(root)).code == 0
    for args, code in (
        (("evaluate", "nosuch", "speed"), 10),
        (("freeze-reference", "jsonref", "output"), 10),
        (("replace-reference", "jsonref", "output", "--reason", "x"), 10),
        (("promote", "jsonref", "speed"), 2),
    ):
        text = bench(*args)
        as_json = bench(*args, "--json")
        assert text.code == as_json.code == code, (args, text, as_json)
        assert as_json.out == "" and as_json.err.startswith("Error: ")
