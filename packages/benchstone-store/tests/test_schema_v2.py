"""Schema version 2: sealed-execution and measurement columns, evaluator lock events."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from benchstone.store import NewEvaluation, NewRun, Store, StoreError
from benchstone.store._schema import MIGRATIONS

SHA = "a" * 40


def _v1_row(db: Path) -> None:
    """A version-1 database holding one run hashed over the version-1 columns only."""
    conn = sqlite3.connect(db, isolation_level=None)
    for statement in MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    content = {
        "project": "P",
        "benchmark": "b",
        "git_sha": SHA,
        "git_dirty": 0,
        "status": "ok",
        "metric": 1.5,
        "metric_components": "{}",
        "metadata": "{}",
        "created_at": "2026-11-27T09:03:23.123456Z",
    }
    columns = [row[1] for row in conn.execute("PRAGMA table_info(runs)")][1:-1]
    full = {column: content.get(column) for column in columns}
    text = json.dumps(full, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    digest = hashlib.sha256(("0" * 64 + "\n" + text).encode("ascii")).hexdigest()
    conn.execute(
        f"INSERT INTO runs ({', '.join(full)}, row_hash) VALUES ({', '.join('?' * len(full))}, ?)",
        [*full.values(), digest],
    )
    conn.close()


def test_a_version_1_store_migrates_and_its_rows_still_verify(
    home: Path, make_run: Callable[..., NewRun]
) -> None:
    home.mkdir(mode=0o700)
    _v1_row(home / "benchstone.db")
    with Store.open(home) as store:
        old = store.run(1)
        assert old is not None and old.isolation is None and old.fingerprint == {}
        assert old.warmup is False
        new = store.append_run(make_run(isolation="namespaces", instructions=12345))
        report = store.verify()
        assert report.ok, report.problems
        assert store.run(new.id).instructions == 12345


def test_new_run_columns_round_trip_and_are_chained(
    store: Store, make_run: Callable[..., NewRun]
) -> None:
    run = store.append_run(
        make_run(
            instructions=10**12,
            isolation="landlock",
            content_digest="git-tree:" + "b" * 40,
            window="w1",
            arm="baseline",
            warmup=True,
            host_identity="h1",
            fingerprint={"identity": {"cpu_model": "X"}, "conditions": {"load": 0.1}},
            executor="slurm",
            bundle_id="job1/0",
        )
    )
    assert store.run(run.id) == run
    assert store.runs("Arborist", "nsga2", window="w1") == [run]
    assert store.runs("Arborist", "nsga2", window="w2") == []
    assert store.run_by_bundle("job1/0") == run
    raw = sqlite3.connect(store.paths.db, isolation_level=None)
    raw.execute("DROP TRIGGER runs_no_update")
    raw.execute("UPDATE runs SET arm = 'candidate' WHERE id = ?", (run.id,))
    raw.close()
    assert any("row_hash does not match" in p for p in store.verify().problems)


def test_a_bundle_becomes_at_most_one_row(store: Store, make_run: Callable[..., NewRun]) -> None:
    store.append_run(make_run(bundle_id="job7/3"))
    with pytest.raises(StoreError, match="UNIQUE"):
        store.append_run(make_run(bundle_id="job7/3"))
    assert len(store.runs("Arborist")) == 1


def test_arm_is_candidate_or_baseline(store: Store, make_run: Callable[..., NewRun]) -> None:
    with pytest.raises(StoreError, match="arm"):
        store.append_run(make_run(arm="control"))


def _blob(store: Store, tmp_path: Path, text: bytes) -> str:
    path = tmp_path / hashlib.sha256(text).hexdigest()
    path.write_bytes(text)
    return store.put_artifact(path)


def test_lock_events_append_and_read_back(store: Store, tmp_path: Path) -> None:
    blob = _blob(store, tmp_path, b"[project]\n")
    first = store.append_lock(
        "P",
        digest="blake3:" + "1" * 64,
        files={"bench/manifest.toml": blob},
        manifest_hash="sha256:" + "2" * 64,
        procedure_digest="p1",
        judgement_digest="j1",
        action="register",
    )
    with pytest.raises(StoreError, match="reason"):
        store.append_lock(
            "P",
            digest="d",
            files={},
            manifest_hash="m",
            procedure_digest="p",
            judgement_digest="j",
            action="lock",
        )
    second = store.append_lock(
        "P",
        digest="blake3:" + "3" * 64,
        files={"bench/manifest.toml": blob},
        manifest_hash="sha256:" + "4" * 64,
        procedure_digest="p1",
        judgement_digest="j2",
        action="lock",
        reason="stricter threshold",
    )
    assert store.lock("P") == second
    assert store.lock_history("P") == [first, second]
    assert store.lock_event(first.id) == first
    assert store.lock("Q") is None
    assert store.verify().ok


def test_a_lock_needs_its_blobs(store: Store) -> None:
    with pytest.raises(StoreError, match="not in the store"):
        store.append_lock(
            "P",
            digest="d",
            files={"bench/runner.py": "sha256:" + "9" * 64},
            manifest_hash="m",
            procedure_digest="p",
            judgement_digest="j",
            action="register",
        )


def test_looks_can_be_selected_by_content(store: Store, make_run: Callable[..., NewRun]) -> None:
    run = store.append_run(make_run())
    for digest in ("c1", "c1", "c2"):
        store.append_evaluation(
            NewEvaluation(
                "Arborist",
                "nsga2",
                None,
                run.git_sha,
                [run.id],
                "sigma",
                None,
                None,
                2.0,
                1,
                "REJECT",
                content_digest=digest,
            )
        )
    assert len(store.evaluations("Arborist", "nsga2", content_digest="c1")) == 2
    assert len(store.evaluations("Arborist", "nsga2", content_digest="c2")) == 1
