"""The Slurm job's node spec and task layout: what travels to the node, checked on read."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from benchstone.api import ApiError
from benchstone.api._node_spec import (
    NodeSpec,
    Slot,
    read_nonce,
    task_layout,
    task_owners,
    write_job_files,
)
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
    assert task_owners([[s.index for s in t] for t in layout]) == {0: 0, 1: 0, 2: 1, 3: 1, 4: 2}
    with pytest.raises(ApiError, match="at least 1"):
        task_layout(range(5), seeds, per_task=0)


def test_job_files_round_trip_private(tmp_path: Path) -> None:
    spec = _spec(task_layout(range(5), [1, 2, 3, 4, 5], per_task=3))
    nonce = new_nonce()
    path = write_job_files(tmp_path / "spool" / spec.job, spec, nonce)
    assert NodeSpec.read(path) == spec
    assert read_nonce(path.parent) == nonce
    for item in (path.parent, path, path.parent / "nonce"):
        assert stat.S_IMODE(item.stat().st_mode) in (0o700, 0o600)
    with pytest.raises(ApiError, match="already exists; the spool belongs to another job"):
        write_job_files(path.parent, spec, nonce)


def test_a_damaged_spec_names_the_key(tmp_path: Path) -> None:
    path = write_job_files(tmp_path / "j", _spec(((Slot(0, 1),),)), new_nonce())
    data = json.loads(path.read_text())
    data["tasks"] = [[[0, "one"]]]
    path.write_text(json.dumps(data))
    with pytest.raises(ApiError, match=r"key 'tasks' must be a list of \[\[index, seed\]"):
        NodeSpec.read(path)
    (path.parent / "nonce").write_text("not hex")
    with pytest.raises(ApiError, match="not a job nonce"):
        read_nonce(path.parent)
