"""The repetition loop against a real git repo, real subprocesses and a real store."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import textwrap
from pathlib import Path

import pytest
from _support import git, init_repo

from benchstone.api import ApiError
from benchstone.api._batch import plan_dispatch, run_dispatch
from benchstone.runner import RunnerError
from benchstone.runner._manifest import load_manifest
from benchstone.store import Store

ARGS = "--entry={entry_point} --config={config_path} --output={output_path}"
RUNNER = textwrap.dedent(
    """\
    import json, os, sys
    args = dict(a.split("=", 1) for a in sys.argv[1:])
    config = json.load(open(args["--config"]))
    seed = config["seed"]
    if config.get("artifact_path"):
        with open(config["artifact_path"], "wb") as f:
            f.write(b"answer=42\\n")
    result = {
        "status": "ok",
        "metric": 1.0 + seed / 1000,
        "wall_clock_seconds": 0.0001,
        "metadata": {
            "config": config,
            "env": sorted(k for k in os.environ if k.startswith("BENCHSTONE")),
            "cwd": os.getcwd(),
        },
    }
    if config["repetition_index"] == 1 and open("bench/mode").read().strip() == "garbage":
        open(args["--output"], "w").write("not json")
    else:
        open(args["--output"], "w").write(json.dumps(result))
    """
)


def _project(tmp_path: Path, extra_bench: str = "", mode: str = "normal") -> Path:
    root = tmp_path / "proj"
    (root / "bench").mkdir(parents=True)
    (root / "bench" / "runner.py").write_text(RUNNER)
    (root / "bench" / "mode").write_text(mode + "\n")
    (root / "data.bin").write_bytes(b"corpus bytes")
    digest = hashlib.sha256(b"corpus bytes").hexdigest()
    (root / "bench" / "manifest.toml").write_text(
        textwrap.dedent(
            f"""\
            [project]
            name = "proj"
            invocation = "{sys.executable} bench/runner.py {ARGS}"

            [[benchmarks]]
            name = "speed"
            tier = "performance"
            metric_direction = "minimize"
            repetitions = 3
            baseline_seeds = [1, 2, 3]
            corpus_path = "data.bin"
            corpus_hash = "sha256:{digest}"
            corpus_type = "bytes"

            [[benchmarks]]
            name = "exact"
            tier = "correctness"
            """
        )
        + extra_bench
    )
    init_repo(root, "init")
    return root


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("BENCHSTONE_HOME", str(tmp_path / "home"))
    with Store.open(tmp_path / "home") as opened:
        yield opened


def _dispatch(store: Store, root: Path, name: str = "speed", **kwargs):
    manifest = load_manifest(root)
    spec = manifest.benchmark(name)
    plan = plan_dispatch(store, manifest, spec, root=root, project="proj", **kwargs)
    return run_dispatch(store, manifest, spec, plan, root=root)


def test_rows_record_provenance_seeds_and_harness_measurements(store, tmp_path):
    root = _project(tmp_path)
    dispatch = _dispatch(store, root, seed_set="baseline")
    assert [r.seed for r in dispatch.runs] == [1, 2, 3]
    assert all(r.status == "ok" for r in dispatch.runs)
    assert [r.metric for r in dispatch.runs] == [1.001, 1.002, 1.003]
    first = dispatch.runs[0]
    assert first.git_dirty is False and len(first.git_sha) == 40
    assert first.reported_wall_clock == 0.0001
    assert first.wall_clock is not None and first.wall_clock > first.reported_wall_clock
    assert first.corpus_digest == "sha256:" + hashlib.sha256(b"corpus bytes").hexdigest()
    assert first.repetition_total == 3 and first.seed_set == "baseline"
    config = first.metadata["config"]
    assert config["corpus_path"] == str((root / "data.bin").resolve())
    assert config["artifact_path"] is None
    assert first.metadata["cwd"] == str(root)
    # The child sees no BENCHSTONE_* variable and no path into the store.
    assert first.metadata["env"] == []
    assert str(store.paths.home) not in json.dumps(first.metadata)
    assert Path(first.stdout_log).parent.is_relative_to(store.paths.home)
    assert stat.S_IMODE(os.stat(first.stdout_log).st_mode) == 0o600
    assert store.runs("proj", "speed") == list(reversed(dispatch.runs))


def test_bad_output_becomes_an_error_row_and_the_next_repetition_runs(store, tmp_path):
    root = _project(tmp_path, mode="garbage")
    dispatch = _dispatch(store, root, seed_set="fresh", meta_seed=5)
    assert [r.status for r in dispatch.runs] == ["ok", "error", "ok"]
    assert dispatch.runs[1].message.startswith("bad result file: result.json: ")
    assert "/tmp/" not in dispatch.runs[1].message  # no path to a temp dir that is gone
    assert dispatch.runs[1].metric is None
    assert dispatch.plan.meta_seed == 5


def test_dirty_tree_refused_unless_allowed(store, tmp_path):
    root = _project(tmp_path)
    (root / "bench" / "runner.py").write_text(RUNNER + "\n# dirty\n")
    with pytest.raises(ApiError, match="uncommitted changes"):
        _dispatch(store, root, seed_set="baseline")
    dispatch = _dispatch(store, root, seed_set="baseline", count=1, allow_dirty=True)
    run = dispatch.runs[0]
    assert run.git_dirty is True
    assert stat.S_IMODE(os.stat(run.diff_path).st_mode) == 0o600
    assert b"# dirty" in Path(run.diff_path).read_bytes()


def test_corpus_drift_refuses_before_anything_runs(store, tmp_path):
    root = _project(tmp_path)
    (root / "data.bin").write_bytes(b"other bytes")
    git(root, "commit", "-qam", "drift")
    with pytest.raises(RunnerError, match=r"drifted.*refusing to run"):
        _dispatch(store, root, seed_set="baseline")
    assert store.runs("proj", "speed") == []


def test_correctness_artifact_is_stored_content_addressed(store, tmp_path):
    root = _project(tmp_path)
    dispatch = _dispatch(store, root, name="exact", seed_set="baseline")
    run = dispatch.runs[0]
    assert run.status == "ok"
    expected = "sha256:" + hashlib.sha256(b"answer=42\n").hexdigest()
    assert run.artifact_digest == expected
    blob = store.artifact_path(expected)
    assert blob.read_bytes() == b"answer=42\n"
    assert not os.access(blob, os.W_OK) or os.geteuid() == 0
    assert stat.S_IMODE(os.stat(blob).st_mode) & 0o222 == 0
    # The project was given a per-run temp path, never the store's.
    given = run.metadata["config"]["artifact_path"]
    assert not given.startswith(str(store.paths.home))
