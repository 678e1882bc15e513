"""Opening read-write: creation, permissions, pragmas, and forward migrations."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from benchstone.store import SCHEMA_VERSION, NewRun, Store, StoreError
from benchstone.store._schema import MIGRATIONS


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _user_version(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


def test_open_creates_private_home_and_database(home: Path) -> None:
    with Store.open(home) as store:
        assert store.paths.home == home
        conn = store._conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 30_000
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert _mode(home) == 0o700
    assert _mode(home / "benchstone.db") == 0o600
    for sub in ("artifacts", "artifacts/sha256", "logs", "diffs", "jobs", "listings", "tmp"):
        assert (home / sub).is_dir()
        assert _mode(home / sub) == 0o700
    assert _user_version(home / "benchstone.db") == SCHEMA_VERSION


def test_existing_home_mode_is_left_alone(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    with Store.open(tmp_path):
        pass
    assert _mode(tmp_path) == 0o755


def test_reopen_is_a_no_op(home: Path, make_run: Callable[..., NewRun]) -> None:
    with Store.open(home) as store:
        first = store.append_run(make_run())
    db = home / "benchstone.db"
    schema_before = sqlite3.connect(db).execute("SELECT sql FROM sqlite_master").fetchall()
    with Store.open(home) as store:
        assert store.run(first.id) == first
        assert store.verify().ok
    assert sqlite3.connect(db).execute("SELECT sql FROM sqlite_master").fetchall() == (
        schema_before
    )
    assert _user_version(db) == SCHEMA_VERSION


def test_empty_file_is_initialised(home: Path, make_run: Callable[..., NewRun]) -> None:
    home.mkdir()
    (home / "benchstone.db").write_bytes(b"")
    with Store.open(home) as store:
        store.append_run(make_run())
        assert store.verify().ok
    assert _user_version(home / "benchstone.db") == SCHEMA_VERSION


@pytest.mark.parametrize("version", range(SCHEMA_VERSION))
def test_migrates_forward_from_every_earlier_version(
    home: Path, version: int, make_run: Callable[..., NewRun]
) -> None:
    home.mkdir()
    db = home / "benchstone.db"
    with sqlite3.connect(db, isolation_level=None) as conn:
        for step in MIGRATIONS[:version]:
            for statement in step:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {version}")
    conn.close()
    with Store.open(home) as store:
        run = store.append_run(make_run())
        assert store.runs("Arborist") == [run]
        assert store.verify().ok
    assert _user_version(db) == SCHEMA_VERSION


def test_newer_schema_is_refused_without_touching_it(home: Path) -> None:
    with Store.open(home):
        pass
    db = home / "benchstone.db"
    newer = SCHEMA_VERSION + 3
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {newer}")
    conn.close()
    with pytest.raises(StoreError) as info:
        Store.open(home)
    message = str(info.value)
    assert "\n" not in message
    assert str(db) in message and str(newer) in message and str(SCHEMA_VERSION) in message
    assert _user_version(db) == newer


def test_foreign_sqlite_database_is_refused(home: Path) -> None:
    home.mkdir()
    with sqlite3.connect(home / "benchstone.db") as conn:
        conn.execute("CREATE TABLE notes (x)")
    conn.close()
    with pytest.raises(StoreError, match="'notes' but no benchstone schema"):
        Store.open(home)


def test_database_with_wrong_application_id_is_refused(home: Path) -> None:
    home.mkdir()
    with sqlite3.connect(home / "benchstone.db") as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.close()
    with pytest.raises(StoreError, match="not a benchstone store"):
        Store.open(home)


def test_garbage_file_is_refused_in_one_line(home: Path) -> None:
    home.mkdir()
    (home / "benchstone.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError) as info:
        Store.open(home)
    assert "\n" not in str(info.value) and "benchstone.db" in str(info.value)


def test_concurrent_first_open_creates_one_schema(home: Path) -> None:
    code = (
        "import sys; from benchstone.store import Store\n"
        "with Store.open(sys.argv[1]) as s: s.register('P' + sys.argv[2], '/p', 'h')\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(home), str(i)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    with Store.open(home) as store:
        assert sorted(r.name for r in store.projects()) == ["P0", "P1", "P2", "P3"]
        assert store.verify().ok
