"""STALE (exit 5): `bench evaluate` refuses to judge runs that no longer describe the disk.

Each of its three causes on its own (uncommitted changes, corpus drift, tracked content
that changed since the candidate runs), the `--allow-dirty` bypass, and what must *not*
be stale: correctness benchmarks, and bytecode caches a runner writes into bench/.
"""

from __future__ import annotations

import hashlib
import json
import os

from _support import commit_all, python_manifest, set_level

IGNORED_PARAMS = "bench/params.local\n"


def _register_and_baseline(bench, root, name: str) -> None:
    r = bench("register", str(root))
    assert r.code == 0, r.err
    r = bench("baseline", "establish", name, "speed")
    assert r.code == 0, r.out + r.err


def _evaluate(bench, name: str, *extra: str) -> tuple[int, dict]:
    r = bench("evaluate", name, "speed", "--json", *extra)
    assert r.err == "", r.err
    return r.code, json.loads(r.out)


def test_stale_when_the_tree_is_dirty_and_allow_dirty_bypasses(bench, make_python_project):
    root = make_python_project("dirtyeval", level=1.0)
    _register_and_baseline(bench, root, "dirtyeval")
    set_level(root, 0.8, message="faster")
    assert bench("run", "dirtyeval", "speed").code == 0
    (root / "notes.txt").write_text("an untracked, unignored file makes the tree dirty\n")

    r = bench("evaluate", "dirtyeval", "speed")
    assert r.code == 5, r.out + r.err
    assert r.lines[0] == (
        "verdict: STALE  the working tree has uncommitted changes "
        "(commit them, or pass --allow-dirty)"
    )
    code, document = _evaluate(bench, "dirtyeval")
    assert code == 5 and document["kind"] == "STALE" and document["exit_code"] == 5
    assert document["evaluation_id"] is None and document["new_look"] is False

    # --allow-dirty skips every freshness check: the gate runs on the clean candidates.
    code, document = _evaluate(bench, "dirtyeval", "--allow-dirty")
    assert code == 0 and document["kind"] == "PROMOTE", document["reason"]
    # A STALE verdict was not a look: the first real evaluation is look 1.
    assert document["gate"]["look"] == 1 and document["new_look"] is True

    # Promote evaluates too, so it refuses a stale state with the STALE exit code.
    r = bench("promote", "dirtyeval", "speed")
    assert r.code == 5 and "verdict STALE" in r.err and r.err.count("\n") == 1


def test_stale_when_the_corpus_drifted_after_the_runs(bench, make_python_project):
    content = b"pinned corpus bytes\n"
    digest = "sha256:" + hashlib.sha256(content).hexdigest()
    manifest = python_manifest(
        "drifty",
        benchmarks=f"""
[[benchmarks]]
name = "speed"
tier = "performance"
metric_direction = "minimize"
repetitions = 3
baseline_seeds = [1, 2, 3]
corpus_path = "data/corpus.bin"
corpus_hash = "{digest}"
""",
    )
    # The corpus is generated, so git ignores it: changing it leaves the tree clean.
    root = make_python_project(
        "drifty", manifest=manifest, files={".gitignore": "data/\n", "data/corpus.bin": ""}
    )
    (root / "data" / "corpus.bin").write_bytes(content)
    _register_and_baseline(bench, root, "drifty")
    set_level(root, 0.8, message="faster")
    assert bench("run", "drifty", "speed").code == 0

    (root / "data" / "corpus.bin").write_bytes(b"regenerated differently\n")
    code, document = _evaluate(bench, "drifty")
    assert code == 5 and document["kind"] == "STALE"
    reason = document["reason"]
    assert "corpus" in reason and "data/corpus.bin drifted" in reason and digest in reason
    assert "uncommitted" not in reason and "tracked_paths" not in reason

    (root / "data" / "corpus.bin").write_bytes(content)
    code, document = _evaluate(bench, "drifty")
    assert code == 0 and document["kind"] == "PROMOTE", document["reason"]


def test_stale_when_tracked_content_changed_since_the_candidate_runs(bench, make_python_project):
    # bench/params.local is ignored by git, so neither the SHA nor dirtiness sees it, but
    # it is under tracked_paths (default ["bench/"]) and the runs recorded its digest.
    root = make_python_project(
        "tracked", files={".gitignore": IGNORED_PARAMS, "bench/params.local": "fast=1\n"}
    )
    _register_and_baseline(bench, root, "tracked")
    set_level(root, 0.8, message="faster")
    r = bench("run", "tracked", "speed", "--json")
    assert r.code == 0, r.err
    # Side by side: the candidate arm's runs are the ones judged (and found stale).
    candidates = [run for run in json.loads(r.out)["runs"] if run["arm"] == "candidate"]
    candidate_ids = [run["id"] for run in candidates]
    recorded = {run["tracked_digest"] for run in candidates}
    assert len(recorded) == 1 and recorded.pop().startswith("sha256:")

    (root / "bench" / "params.local").write_text("fast=0\n")
    r = bench("evaluate", "tracked", "speed")
    assert r.code == 5, r.out + r.err
    assert r.lines[0].startswith("verdict: STALE  4 of 4 candidate run(s) were made from other")
    assert "tracked_paths (bench/)" in r.lines[0]
    assert f"run ids {', '.join(str(i) for i in candidate_ids)}" in r.lines[0]
    assert "uncommitted" not in r.out

    # Restoring the content the runs were made from makes them fresh again.
    (root / "bench" / "params.local").write_text("fast=1\n")
    code, document = _evaluate(bench, "tracked")
    assert code == 0 and document["kind"] == "PROMOTE", document["reason"]
    assert document["gate"]["look"] == 1


def test_all_causes_are_named_at_once(bench, make_python_project):
    root = make_python_project(
        "many", files={".gitignore": IGNORED_PARAMS, "bench/params.local": "a\n"}
    )
    _register_and_baseline(bench, root, "many")
    set_level(root, 0.8, message="faster")
    assert bench("run", "many", "speed").code == 0
    (root / "bench" / "params.local").write_text("b\n")
    (root / "scratch.txt").write_text("dirty\n")
    code, document = _evaluate(bench, "many")
    assert code == 5
    assert "uncommitted changes" in document["reason"]
    assert "were made from other content of tracked_paths" in document["reason"]
    assert "\n" not in document["reason"]


def test_bytecode_caches_in_bench_do_not_make_runs_stale(bench, make_python_project):
    # A runner that imports a helper from bench/ would make Python write bench/__pycache__
    # during the first repetition, after the tracked digest was taken; sealed, bench/ is
    # read-only (the locked evaluator), so Python skips the cache and the runs still work.
    runner = (
        "import sys\n"
        "sys.dont_write_bytecode = False  # whatever PYTHONDONTWRITEBYTECODE says\n"
        "import helper\n"
        "from benchstone.protocol import Runner\n"
        "runner = Runner()\n"
        "@runner.entry_point\n"
        "def speed(config):\n"
        "    return helper.value(config.seed)\n"
        "runner.main()\n"
    )
    helper = "def value(seed):\n    return 1.0 + (seed % 5) * 0.01\n"
    root = make_python_project(
        "cached",
        files={
            ".gitignore": "__pycache__/\n",
            "bench/runner.py": runner,
            "bench/helper.py": helper,
        },
    )
    r = bench("register", str(root))
    assert r.code == 0, r.err
    assert not (root / "bench" / "__pycache__").exists()
    assert bench("baseline", "establish", "cached", "speed").code == 0
    assert not (root / "bench" / "__pycache__").exists()
    assert bench("run", "cached", "speed", "--seed-set", "baseline").code == 0
    code, document = _evaluate(bench, "cached")
    assert document["kind"] != "STALE", document["reason"]
    assert code in (0, 1, 2)


def test_correctness_benchmarks_are_never_stale(bench, make_python_project):
    manifest = python_manifest(
        "exact",
        benchmarks="""
[[benchmarks]]
name = "speed"
tier = "correctness"
""",
    )
    root = make_python_project("exact", manifest=manifest)
    assert bench("register", str(root)).code == 0
    (root / "scratch.txt").write_text("dirty\n")
    code, document = _evaluate(bench, "exact")
    assert code == 2 and document["kind"] == "NO_REFERENCE"


def test_a_symlink_under_tracked_paths_is_a_one_line_error(bench, make_python_project):
    root = make_python_project("linked")
    assert bench("register", str(root)).code == 0
    assert bench("baseline", "establish", "linked", "speed").code == 0
    os.symlink("runner.py", root / "bench" / "alias.py")
    commit_all(root, "a symlink in bench/")
    for args in (("run", "linked", "speed"), ("evaluate", "linked", "speed")):
        r = bench(*args)
        assert r.code == 10, (args, r.out, r.err)
        assert r.err.count("\n") == 1 and r.err.startswith("Error: ")
        # The evaluator lock sees it first: bench/ is both tracked and locked.
        assert "bench/alias.py" in r.err and "symlink" in r.err
        assert "Traceback" not in r.err
