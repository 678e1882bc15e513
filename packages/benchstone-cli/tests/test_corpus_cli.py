"""`bench corpus hash|verify` and tree pins, with drift reports that name the files."""

from __future__ import annotations

import hashlib
import json

from _support import commit_all, corpus_manifest, write_tree


def test_corpus_hash_of_a_file_matches_sha256sum(bench, tmp_path):
    data = tmp_path / "one.bin"
    data.write_bytes(b"abc" * 1000)
    r = bench("corpus", "hash", str(data), "--algo", "sha256")
    assert r.code == 0, r.err
    assert r.lines == [
        f'corpus_hash = "sha256:{hashlib.sha256(b"abc" * 1000).hexdigest()}"',
        'corpus_type = "bytes"',
    ]
    document = json.loads(bench("corpus", "hash", str(data), "--json").out)
    assert document["digest"].startswith("blake3:") and document["corpus_type"] == "bytes"


def test_tree_pin_and_drift_report_names_files(bench, make_python_project, tmp_path):
    files = {f"corpus/part{i}/f{j}.txt": f"{i}-{j}\n" for i in range(3) for j in range(4)}
    staging = tmp_path / "staging" / "corpus"
    write_tree(staging.parent, files)
    r = bench("corpus", "hash", str(staging), "--json")
    assert r.code == 0, r.err
    pin = json.loads(r.out)
    assert pin["corpus_type"] == "tree" and pin["files"] == 12

    root = make_python_project(
        "treeproj",
        manifest=corpus_manifest(
            "treeproj", corpus_path="corpus", digest=pin["digest"], corpus_type="tree"
        ),
        files=files,
    )
    r = bench("register", str(root))
    assert r.code == 0, r.err
    r = bench("corpus", "verify", "treeproj", "speed")
    assert r.code == 0 and r.out.startswith("corpus ok: treeproj/speed"), r.out + r.err
    assert "corpus=ok" in bench("list").out

    (root / "corpus/part0/f0.txt").write_text("changed\n")
    (root / "corpus/part1/f1.txt").unlink()
    (root / "corpus/part2/new.txt").write_text("added\n")
    commit_all(root, "drift the corpus")
    r = bench("corpus", "verify", "treeproj", "speed", "--json")
    assert r.code == 1
    status = json.loads(r.out)
    assert status["state"] == "drift"
    assert status["changed"] == ["part0/f0.txt"]
    assert status["removed"] == ["part1/f1.txt"]
    assert status["added"] == ["part2/new.txt"]
    r = bench("run", "treeproj", "speed")
    assert r.code == 10
    assert "changed: part0/f0.txt" in r.err and "removed: part1/f1.txt" in r.err
    assert "added: part2/new.txt" in r.err
