"""The Slurm job's node spec and task layout: what travels to the node, checked on read."""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from benchstone.api import ApiError
from benchstone.api._node_spec import (
    NodeSpec,
    Slot,
    make_job_directory,
    read_nonce,
    task_layout,
    task_owners,
    write_job_files,
)
from benchstone.api._sidebyside import pair_order
from benchstone.api._slurm_window import window_layout
from benchstone.runner import new_nonce


def _spec(tasks: tuple[tuple[Slot, ...], ...]) -> NodeSpec:
    return NodeSpec(
        job="20261202-101903-5d75dd",
        project="p",
        benchmark="b",
        root="/shared/p",
        manifest_hash="sha256:" + "0" * 64,
        git_sha="a" * 40,
        git_dirty=False,
        total=5,
        hidden=("/home/me/.local/share/benchstone",),
        tasks=tasks,
        lock_digest="sha256:" + "1" * 64,
        lock_files={"bench/manifest.toml": "sha256:" + "2" * 64},
    )


def test_layout_puts_consecutive_repetitions_in_one_task() -> None:
    seeds = [11, 12, 13, 14, 15]
    assert task_layout(range(5), seeds) == tuple((Slot(i, s),) for i, s in enumerate(seeds))
    layout = task_layout(range(5), seeds, per_task=2)
    assert layout == (
        (Slot(0, 11), Slot(1, 12)),
        (Slot(2, 13), Slot(3, 14)),
        (Slot(4, 15),),
    )
    assert task_owners(layout) == {"rep0": 0, "rep1": 0, "rep2": 1, "rep3": 1, "rep4": 2}
    with pytest.raises(ApiError, match="at least 1"):
        task_layout(range(5), seeds, per_task=0)


def test_job_files_round_trip_private(tmp_path: Path) -> None:
    spec = _spec(task_layout(range(5), [1, 2, 3, 4, 5], per_task=3))
    nonce = new_nonce()
    path = write_job_files(make_job_directory(tmp_path / "spool" / spec.job), spec, nonce)
    assert NodeSpec.read(path) == spec
    assert read_nonce(path.parent) == nonce
    for item in (path.parent, path, path.parent / "nonce"):
        assert stat.S_IMODE(item.stat().st_mode) in (0o700, 0o600)
    with pytest.raises(ApiError, match="already exists; the spool belongs to another job"):
        make_job_directory(path.parent)


def test_a_window_is_one_task_in_pair_order_and_its_spec_round_trips(tmp_path: Path) -> None:
    layout = window_layout("w00000000000000ab", [7, 8, 9])
    assert len(layout) == 1  # one allocation, one node
    (slots,) = layout
    assert [(s.index, s.seed) for s in slots] == [(0, 7), (0, 7), (1, 8), (1, 8), (2, 9), (2, 9)]
    assert [s.arm for s in slots] == [
        arm for pair in range(3) for arm in pair_order("w00000000000000ab", pair)
    ]
    assert {s.name for s in slots[:2]} == {"rep0-baseline", "rep0-candidate"}
    spec = replace(
        _spec(layout),
        window="w00000000000000ab",
        baseline_root="/spool/j/b/tree",
        baseline_sha="ab",
    )
    path = write_job_files(make_job_directory(tmp_path / "j"), spec, new_nonce())
    assert NodeSpec.read(path) == spec


def test_a_damaged_spec_names_the_key(tmp_path: Path) -> None:
    path = write_job_files(make_job_directory(tmp_path / "j"), _spec(((Slot(0, 1),),)), new_nonce())
    data = json.loads(path.read_text())
    data["tasks"] = [[[0, "one"]]]
    path.write_text(json.dumps(data))
    with pytest.raises(ApiError, match=r"key 'tasks' must be a list of \[\[index, seed\(, arm\)\]"):
        NodeSpec.read(path)
    (path.parent / "nonce").write_text("not hex")
    with pytest.raises(ApiError, match="not a job nonce"):
        read_nonce(path.parent)
