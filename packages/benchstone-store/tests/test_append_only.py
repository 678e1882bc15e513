"""Append-only by construction, and what verify catches when that is bypassed."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from benchstone.store import NewEvaluation, NewRun, Store

SHA = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
TABLES = (
    "registrations",
    "runs",
    "baseline_events",
    "reference_events",
    "evaluations",
    "lock_events",
    "corpus_events",
)
# docs/store.md: columns schema version 2 added are hashed only when not NULL.
ADDED_RUN_COLUMNS = {
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
}


def _populate(store: Store, make_run: Callable[..., NewRun], tmp_path: Path) -> None:
    store.register("Arborist", "/src/arborist", "sha256:" + "1" * 64)
    artifact = tmp_path / "out.bin"
    artifact.write_bytes(b"reference bytes\n")
    digest = store.put_artifact(artifact)
    runs = [store.append_run(make_run(repetition=i, artifact_digest=digest)) for i in range(3)]
    event = store.set_baseline(
        "Arborist",
        "nsga2",
        git_sha=SHA,
        meta_seed=None,
        run_ids=[r.id for r in runs],
        action="establish",
    )
    store.set_reference("Arborist", "nsga2", digest=digest, run_id=runs[0].id, action="freeze")
    store.append_evaluation(
        NewEvaluation(
            "Arborist",
            "nsga2",
            event.id,
            SHA,
            [runs[1].id],
            "sigma",
            0.5,
            0.3,
            2.0,
            1,
            "NEEDS_MORE_DATA",
        )
    )
    store.append_lock(
        "Arborist",
        digest="blake3:" + "2" * 64,
        files={"bench/manifest.toml": digest},
        manifest_hash="sha256:" + "1" * 64,
        procedure_digest="blake3:" + "3" * 64,
        judgement_digest="blake3:" + "4" * 64,
        action="register",
    )
    staged = store.paths.tmp / "corpus"
    staged.mkdir()
    (staged / "inputs.txt").write_text("held out\n")
    corpus = "blake3:" + "5" * 64  # the store does not hash; the api verifies first
    store.put_corpus(staged, corpus)
    store.import_corpus("Arborist", "nsga2", digest=corpus, corpus_type="tree", files=1, bytes=9)


@pytest.fixture
def populated(
    store: Store, make_run: Callable[..., NewRun], tmp_path: Path
) -> Iterator[tuple[Store, sqlite3.Connection]]:
    _populate(store, make_run, tmp_path)
    raw = sqlite3.connect(store.paths.db, isolation_level=None)
    yield store, raw
    raw.close()


@pytest.mark.parametrize("table", TABLES)
def test_update_delete_and_replace_are_aborted(
    populated: tuple[Store, sqlite3.Connection], table: str
) -> None:
    store, raw = populated
    before = raw.execute(f"SELECT * FROM {table}").fetchall()
    for statement in (
        f"UPDATE {table} SET created_at = 'x' WHERE id = 1",
        f"DELETE FROM {table} WHERE id = 1",
        f"DELETE FROM {table}",
        f"INSERT OR REPLACE INTO {table} SELECT * FROM {table} WHERE id = 1",
    ):
        with pytest.raises(sqlite3.IntegrityError, match=f"append-only: {table}"):
            raw.execute(statement)
    assert raw.execute(f"SELECT * FROM {table}").fetchall() == before
    assert store.verify().ok


def test_verify_counts_a_clean_store(populated: tuple[Store, sqlite3.Connection]) -> None:
    store, _ = populated
    report = store.verify()
    assert report.ok and report.problems == []
    assert report.counts == {
        "triggers": 21,
        "registrations": 1,
        "runs": 3,
        "baseline_events": 1,
        "reference_events": 1,
        "evaluations": 1,
        "lock_events": 1,
        "corpus_events": 1,
        "blobs": 1,
    }
    raw = populated[1]
    for table in TABLES:
        last = raw.execute(f"SELECT row_hash FROM {table} ORDER BY id DESC LIMIT 1").fetchone()
        assert report.heads[table] == last[0]


def test_heads_of_an_empty_store_are_the_genesis_hash(store: Store) -> None:
    assert store.verify().heads == dict.fromkeys(TABLES, "0" * 64)


@pytest.mark.parametrize("table", TABLES)
def test_update_after_dropping_the_trigger_is_caught(
    populated: tuple[Store, sqlite3.Connection], table: str
) -> None:
    store, raw = populated
    raw.execute(f"DROP TRIGGER {table}_no_update")
    raw.execute(f"UPDATE {table} SET created_at = '2000-01-01T00:00:00.000000Z' WHERE id = 1")
    report = store.verify()
    assert not report.ok
    assert f"trigger {table}_no_update is missing" in report.problems[0]
    assert any(p.startswith(f"{table} row 1: row_hash does not match") for p in report.problems)


def test_metric_edit_with_triggers_dropped_names_the_row(
    populated: tuple[Store, sqlite3.Connection],
) -> None:
    store, raw = populated
    raw.execute("DROP TRIGGER runs_no_update")
    raw.execute("UPDATE runs SET metric = 0.5 WHERE id = 2")
    problems = store.verify().problems
    chain = [p for p in problems if "row_hash" in p]
    assert chain == [
        "runs row 2: row_hash does not match its content chained to row 1 "
        "(the row was changed, or a row before it removed or inserted)"
    ]


def test_deleted_rows_are_caught_in_the_middle_and_at_the_end(
    populated: tuple[Store, sqlite3.Connection],
) -> None:
    store, raw = populated
    raw.execute("DROP TRIGGER runs_no_delete")
    raw.execute("DELETE FROM runs WHERE id = 2")
    problems = store.verify().problems
    assert any(p.startswith("runs row 3: row_hash does not match") for p in problems)
    assert any("baseline_events row 1: run 2 does not exist" in p for p in problems)
    raw.execute("DELETE FROM runs WHERE id = 3")
    problems = store.verify().problems
    assert "runs: rows after id 1 are missing (ids were issued up to 3)" in problems


def test_a_rehashed_edit_still_breaks_the_next_link(
    populated: tuple[Store, sqlite3.Connection],
) -> None:
    """Recomputing only the edited row's hash moves the break to the following row."""
    import hashlib
    import json

    store, raw = populated
    raw.execute("DROP TRIGGER runs_no_update")
    raw.row_factory = sqlite3.Row
    prev = raw.execute("SELECT row_hash FROM runs WHERE id = 1").fetchone()[0]
    row = {
        k: v
        for k, v in dict(raw.execute("SELECT * FROM runs WHERE id = 2").fetchone()).items()
        if v is not None or k not in ADDED_RUN_COLUMNS
    }
    row["metric"] = 0.25
    del row["id"], row["row_hash"]
    payload = prev + "\n" + json.dumps(row, sort_keys=True, separators=(",", ":"))
    forged = hashlib.sha256(payload.encode("ascii")).hexdigest()
    raw.execute("UPDATE runs SET metric = 0.25, row_hash = ? WHERE id = 2", (forged,))
    chain = [p for p in store.verify().problems if "row_hash" in p]
    assert len(chain) == 1 and chain[0].startswith("runs row 3:")


def test_altered_and_extra_triggers_are_reported(
    populated: tuple[Store, sqlite3.Connection],
) -> None:
    store, raw = populated
    raw.execute("DROP TRIGGER evaluations_no_delete")
    raw.execute(
        "CREATE TRIGGER evaluations_no_delete BEFORE DELETE ON evaluations BEGIN SELECT 1; END"
    )
    raw.execute("CREATE TRIGGER sneaky AFTER INSERT ON runs BEGIN SELECT 1; END")
    problems = store.verify().problems
    assert "trigger evaluations_no_delete was altered: its SQL is not the store's" in problems
    assert "trigger sneaky is not part of the benchstone schema" in problems


def test_damaged_missing_and_stray_blobs_are_reported(
    populated: tuple[Store, sqlite3.Connection], tmp_path: Path
) -> None:
    store, _ = populated
    digest = store.reference("Arborist", "nsga2").digest
    blob = store.artifact_path(digest)
    blob.chmod(0o644)
    blob.write_bytes(b"tampered\n")
    problems = store.verify().problems
    assert len(problems) == 1
    assert problems[0].startswith(f"artifact blob {blob}: content hashes to sha256:")

    blob.unlink()
    stray = store.paths.blobs / "zz"
    stray.mkdir()
    problems = store.verify().problems
    assert f"artifact store: unexpected entry {stray}" in problems
    assert f"runs row 1: artifact {digest} is missing from {store.paths.blobs}" in problems


def test_verify_runs_on_the_read_only_handle(
    populated: tuple[Store, sqlite3.Connection],
) -> None:
    from benchstone.store import ReadOnlyStore

    store, raw = populated
    raw.execute("DROP TRIGGER registrations_no_update")
    raw.execute("UPDATE registrations SET path = '/elsewhere'")
    with ReadOnlyStore.open(store.paths.home) as ro:
        report = ro.verify()
    assert not report.ok
    assert any(p.startswith("registrations row 1:") for p in report.problems)
    assert os.path.exists(store.paths.db)


def test_a_held_out_corpus_is_stored_once_read_only_and_replaced_with_a_reason(
    store: Store, tmp_path: Path
) -> None:
    from benchstone.store import StoreError

    def staged(name: str, text: str) -> Path:
        path = store.paths.tmp / name
        path.mkdir()
        (path / "sub").mkdir()
        (path / "sub" / "a.txt").write_text(text)
        return path

    first, second = "blake3:" + "a" * 64, "blake3:" + "b" * 64
    stored = store.put_corpus(staged("one", "1"), first)
    assert stored == store.paths.corpora / "blake3" / ("a" * 64)
    assert (stored / "sub" / "a.txt").read_text() == "1"
    assert oct((stored / "sub" / "a.txt").stat().st_mode & 0o777) == "0o444"
    assert oct((stored / "sub").stat().st_mode & 0o777) == "0o555"
    # The same content again: kept once, the staged copy removed.
    again = staged("again", "1")
    assert store.put_corpus(again, first) == stored and not again.exists()
    with pytest.raises(StoreError, match="is staged under"):
        store.put_corpus(tmp_path, first)
    with pytest.raises(StoreError, match="not in the store"):
        store.import_corpus("P", "b", digest=second, corpus_type="tree", files=1, bytes=1)
    event = store.import_corpus("P", "b", digest=first, corpus_type="tree", files=1, bytes=1)
    assert (event.action, event.reason) == ("import", None)
    store.put_corpus(staged("two", "2"), second)
    with pytest.raises(StoreError, match="reason"):
        store.import_corpus("P", "b", digest=second, corpus_type="tree", files=1, bytes=1)
    with pytest.raises(StoreError, match="already the held-out corpus"):
        store.import_corpus("P", "b", digest=first, corpus_type="tree", files=1, bytes=1)
    store.import_corpus(
        "P", "b", digest=second, corpus_type="tree", files=1, bytes=1, reason="new inputs"
    )
    assert store.held_out_corpus("P", "b").digest == second
    assert [e.action for e in store.corpus_history("P", "b")] == ["import", "replace"]
    assert store.held_out_corpus("P", "other") is None
    with pytest.raises(StoreError, match="is not ALGO:HEX"):
        store.corpus_path("../../etc")
    assert store.verify().ok
