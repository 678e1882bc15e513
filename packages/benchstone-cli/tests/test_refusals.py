"""What the harness refuses: dirty trees, drifted corpora, bad manifests, bad input."""

from __future__ import annotations

import hashlib
import json
import os
import stat

import pytest
from _support import commit_all, corpus_manifest


def test_dirty_tree_refused_then_recorded_with_allow_dirty(bench, home, make_python_project):
    root = make_python_project("dirty")
    assert bench("register", str(root)).code == 0
    (root / "level.txt").write_text("1.0 0.02\n")  # the code, outside the locked bench/
    r = bench("run", "dirty", "speed")
    assert r.code == 10
    assert r.err.count("\n") == 1 and "uncommitted changes" in r.err and "--allow-dirty" in r.err
    r = bench("baseline", "establish", "dirty", "speed")
    assert r.code == 10 and "uncommitted changes" in r.err

    r = bench("run", "dirty", "speed", "--allow-dirty", "-n", "2", "--json")
    assert r.code == 0, r.err
    document = json.loads(r.out)
    assert document["git_dirty"] is True
    diff_paths = {run["diff_path"] for run in document["runs"]}
    assert len(diff_paths) == 1
    diff = diff_paths.pop()
    assert diff.startswith(str(home))
    assert stat.S_IMODE(os.stat(diff).st_mode) == 0o600
    with open(diff, "rb") as handle:
        assert b"+1.0 0.02" in handle.read()


def test_corpus_drift_refuses_the_run(bench, make_python_project):
    content = b"the pinned corpus\n"
    digest = "sha256:" + hashlib.sha256(content).hexdigest()
    root = make_python_project(
        "corp",
        manifest=corpus_manifest(
            "corp", corpus_path="data/corpus.bin", digest=digest, corpus_type="bytes"
        ),
        files={"data/corpus.bin": content.decode()},
    )
    r = bench("register", str(root))
    assert r.code == 0, r.err
    assert "corpus=ok" in r.out
    assert bench("baseline", "establish", "corp", "speed").code == 0

    (root / "data" / "corpus.bin").write_text("silently changed\n")
    commit_all(root, "change the corpus")
    r = bench("run", "corp", "speed")
    assert r.code == 10
    assert "drifted" in r.err and digest in r.err and "refusing to run" in r.err
    assert r.err.count("\n") == 1
    assert "corpus=drift" in bench("list").out

    (root / "data" / "corpus.bin").unlink()
    commit_all(root, "remove the corpus")
    r = bench("run", "corp", "speed")
    assert r.code == 10 and "missing" in r.err


def test_register_refuses_a_drifted_corpus(bench, make_python_project):
    root = make_python_project(
        "corp2",
        manifest=corpus_manifest(
            "corp2",
            corpus_path="data/corpus.bin",
            digest="sha256:" + "0" * 64,
            corpus_type="bytes",
        ),
        files={"data/corpus.bin": "x"},
    )
    r = bench("register", str(root))
    assert r.code == 10 and "drifted" in r.err
    assert bench("list").out.strip() == "no projects registered; use `bench register PATH`"


@pytest.mark.parametrize(
    ("manifest", "needle"),
    [
        ("[project\nname = 'x'", "invalid TOML"),
        (
            '[project]\nname = "bad"\ninvocation = "true {config_path} {output_path}"\n'
            '[[benchmarks]]\ntier = "quality"\nmetric_direction = "minimize"\n',
            "'name'",
        ),
        (
            '[project]\nname = "bad"\ninvocation = "true {config_path} {output_path}"\n'
            '[[benchmarks]]\nname = "b"\ntier = "quality"\nmetric_direction = "minimize"\n'
            'repetitions = "five"\n',
            "'repetitions'",
        ),
        (
            '[project]\nname = "bad"\ninvocation = "true {config_path} {output_path}"\n'
            '[[benchmarks]]\nname = "b"\ntier = "quality"\nmetric_direction = "minimize"\n'
            "repetitons = 3\n",
            "did you mean 'repetitions'",
        ),
    ],
    ids=["invalid-toml", "missing-key", "wrong-type", "unknown-key"],
)
def test_bad_manifest_is_one_line_error(bench, tmp_path, manifest, needle):
    root = tmp_path / "bad"
    (root / "bench").mkdir(parents=True)
    (root / "bench" / "manifest.toml").write_text(manifest)
    r = bench("register", str(root))
    assert r.code == 10
    assert r.out == ""
    assert r.err.count("\n") == 1 and r.err.startswith("Error: ")
    assert "manifest.toml" in r.err and needle in r.err
    assert "Traceback" not in r.err


def test_unknown_names_are_one_line_errors(bench, make_python_project):
    root = make_python_project("names")
    assert bench("register", str(root)).code == 0
    r = bench("run", "names", "sped")
    assert r.code == 10 and "did you mean 'speed'" in r.err and r.err.count("\n") == 1
    r = bench("evaluate", "nmes", "speed")
    assert r.code == 10 and "did you mean 'names'" in r.err
    r = bench("run", "names", "speed", "--seed-set", "bogus")
    assert r.code == 10 and r.err.startswith("Error: ")
    r = bench("history", "../etc", "speed")
    assert r.code == 10 and r.err.startswith("Error: ")


def test_exit_code_table_is_exposed():
    from benchstone.cli import VERDICT_EXIT_CODES, exit_code_for

    assert VERDICT_EXIT_CODES["PROMOTE"] == VERDICT_EXIT_CODES["PASS"] == 0
    assert VERDICT_EXIT_CODES["REJECT"] == VERDICT_EXIT_CODES["FAIL"] == 1
    for kind in ("NEEDS_MORE_DATA", "NO_BASELINE", "NO_REFERENCE"):
        assert VERDICT_EXIT_CODES[kind] == 2
    assert exit_code_for("SOMETHING_NEW") == 3
