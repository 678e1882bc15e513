"""The tracked digest and the freshness check, on real files, real git and a real store."""

from __future__ import annotations

import hashlib
import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from _support import init_repo, write_tree

from benchstone.api._batch import plan_dispatch, run_dispatch
from benchstone.hasher import digest as hasher_digest
from benchstone.runner import RunnerError, check_freshness, load_manifest, tracked_digest
from benchstone.store import Store


def test_the_digest_is_the_documented_format(tmp_path):
    root = write_tree(tmp_path, {"bench/a.py": "a\n", "bench/sub/b.py": "b\n", "conf.toml": "c\n"})
    lines = [
        b"bench/a.py\0" + hasher_digest(root / "bench/a.py").encode() + b"\n",
        b"bench/sub/b.py\0" + hasher_digest(root / "bench/sub/b.py").encode() + b"\n",
        b"conf.toml\0" + hasher_digest(root / "conf.toml").encode() + b"\n",
        b"gone\0missing\n",
    ]
    expected = hashlib.sha256(b"benchstone-tracked-v1\n" + b"".join(lines)).hexdigest()
    got = tracked_digest(root, ["conf.toml", "gone", "bench/"])
    assert got == "sha256:" + expected


def test_the_order_and_spelling_of_tracked_paths_do_not_matter(tmp_path):
    root = write_tree(tmp_path, {"bench/a.py": "a\n", "src/m.py": "m\n"})
    first = tracked_digest(root, ["bench/", "src"])
    assert tracked_digest(root, ["src/", "bench"]) == first
    assert tracked_digest(root, ["bench", "src", "bench/a.py"]) == first


def test_content_names_and_missing_paths_change_the_digest(tmp_path):
    root = write_tree(tmp_path, {"bench/a.py": "a\n"})
    before = tracked_digest(root, ["bench/", "extra"])
    (root / "bench" / "a.py").write_text("A\n")
    changed = tracked_digest(root, ["bench/", "extra"])
    assert changed != before
    (root / "bench" / "a.py").rename(root / "bench" / "b.py")
    assert tracked_digest(root, ["bench/", "extra"]) not in (before, changed)
    (root / "bench" / "b.py").rename(root / "bench" / "a.py")
    (root / "bench" / "a.py").write_text("a\n")
    assert tracked_digest(root, ["bench/", "extra"]) == before
    (root / "extra").write_text("")
    assert tracked_digest(root, ["bench/", "extra"]) != before


def test_metadata_does_not_change_the_digest(tmp_path):
    root = write_tree(tmp_path, {"bench/a.py": "a\n"})
    before = tracked_digest(root, ["bench/"])
    os.chmod(root / "bench" / "a.py", 0o600)
    os.utime(root / "bench" / "a.py", (1, 1))
    assert tracked_digest(root, ["bench/"]) == before


def test_bytecode_caches_and_git_directories_are_skipped(tmp_path):
    root = write_tree(tmp_path, {"bench/a.py": "a\n"})
    before = tracked_digest(root, ["bench/", "."])
    write_tree(root, {"bench/__pycache__/a.cpython-311.pyc": "x", ".git/HEAD": "ref\n"})
    write_tree(root, {"bench/deep/__pycache__/b.pyc": "y"})
    assert tracked_digest(root, ["bench/", "."]) == before


def test_an_empty_list_has_a_digest_too(tmp_path):
    assert tracked_digest(tmp_path, []) == (
        "sha256:" + hashlib.sha256(b"benchstone-tracked-v1\n").hexdigest()
    )


def test_a_symlink_inside_a_tracked_path_is_one_line_naming_it(tmp_path):
    root = write_tree(tmp_path, {"bench/a.py": "a\n"})
    os.symlink("a.py", root / "bench" / "link.py")
    with pytest.raises(RunnerError) as caught:
        tracked_digest(root, ["bench/"])
    message = str(caught.value)
    assert "\n" not in message
    assert "project.tracked_paths entry 'bench/'" in message
    assert "link.py" in message and "symbolic link" in message


# --- check_freshness against a real project -------------------------------------------

ARGS = "--entry={entry_point} --config={config_path} --output={output_path}"
RUNNER = (
    "import json, sys\n"
    "args = dict(a.split('=', 1) for a in sys.argv[1:])\n"
    "open(args['--output'], 'w').write(json.dumps({'status': 'ok', 'metric': 1.0}))\n"
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    corpus = b"corpus\n"
    write_tree(
        root,
        {
            "bench/runner.py": RUNNER,
            "bench/local.cfg": "x=1\n",
            ".gitignore": "bench/local.cfg\ndata.bin\n",
            "bench/manifest.toml": textwrap.dedent(
                f"""\
                [project]
                name = "proj"
                invocation = "{sys.executable} bench/runner.py {ARGS}"

                [[benchmarks]]
                name = "speed"
                tier = "performance"
                metric_direction = "minimize"
                repetitions = 2
                baseline_seeds = [1, 2]
                corpus_path = "data.bin"
                corpus_hash = "sha256:{hashlib.sha256(corpus).hexdigest()}"
                """
            ),
        },
    )
    (root / "data.bin").write_bytes(corpus)
    init_repo(root, "init")
    return root


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "home") as opened:
        yield opened


def _runs(store: Store, root: Path):
    manifest = load_manifest(root)
    spec = manifest.benchmark("speed")
    plan = plan_dispatch(store, manifest, spec, root=root, project="proj", seed_set="baseline")
    return manifest, spec, plan, run_dispatch(store, manifest, spec, plan, root=root).runs


def test_rows_record_the_tracked_digest_of_the_dispatch(store, project):
    _manifest, _spec, plan, runs = _runs(store, project)
    expected = tracked_digest(project, ["bench/"])
    assert plan.tracked_digest == expected
    assert [run.tracked_digest for run in runs] == [expected, expected]


def test_fresh_then_each_cause_alone(store, project):
    manifest, spec, _plan, runs = _runs(store, project)

    def check(*, dirty: bool = False):
        return check_freshness(
            project, manifest, spec, dirty=dirty, runs=runs, listings_dir=store.paths.listings
        )

    fresh = check()
    assert not fresh.stale and fresh.causes == () and fresh.reason == "fresh"
    assert fresh.tracked_digest == runs[0].tracked_digest

    dirty = check(dirty=True)
    assert dirty.causes == (
        "the working tree has uncommitted changes (commit them, or pass --allow-dirty)",
    )

    (project / "data.bin").write_bytes(b"drifted\n")
    drifted = check()
    assert len(drifted.causes) == 1
    assert "data.bin drifted" in drifted.causes[0]
    (project / "data.bin").write_bytes(b"corpus\n")

    (project / "bench" / "local.cfg").write_text("x=2\n")
    tracked = check()
    assert len(tracked.causes) == 1
    assert tracked.causes[0].startswith(
        "2 of 2 candidate run(s) were made from other content of tracked_paths (bench/)"
    )
    assert f"run ids {runs[0].id}, {runs[1].id}" in tracked.causes[0]
    assert tracked.tracked_digest != runs[0].tracked_digest

    (project / "data.bin").unlink()
    both = check(dirty=True)
    assert len(both.causes) == 3 and "missing" in both.causes[1]
    assert both.reason == "; ".join(both.causes)


def test_rows_without_a_tracked_digest_are_not_judged_by_it(store, project):
    manifest, spec, _plan, runs = _runs(store, project)
    (project / "bench" / "local.cfg").write_text("x=2\n")
    legacy = [run.replace(tracked_digest=None) for run in runs]
    for candidates in (legacy, []):
        fresh = check_freshness(
            project, manifest, spec, dirty=False, runs=candidates, listings_dir=None
        )
        assert not fresh.stale, fresh.reason
    mixed = check_freshness(
        project, manifest, spec, dirty=False, runs=[legacy[0], runs[1]], listings_dir=None
    )
    assert mixed.causes[0].startswith("1 of 1 candidate run(s)")
