"""Opening the SQLite file: read-write (create + migrate) or strictly read-only."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from ._errors import StoreError
from ._schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION

# Long enough that a burst of concurrent bench processes queue instead of failing; each
# write holds the lock for one short transaction, so real waits are milliseconds.
BUSY_TIMEOUT_MS = 60_000


def _pragma_int(conn: sqlite3.Connection, name: str) -> int:
    return int(conn.execute(f"PRAGMA {name}").fetchone()[0])


def _configure(conn: sqlite3.Connection) -> None:
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def _check_identity(conn: sqlite3.Connection, db: Path, version: int) -> None:
    if version >= 1 and _pragma_int(conn, "application_id") != APPLICATION_ID:
        raise StoreError(
            f"{db} is an SQLite database but not a benchstone store "
            f"(application_id is not {APPLICATION_ID:#x})"
        )


def _create_private_file(db: Path) -> None:
    """Create the database file 0o600 before SQLite does, so it never exists wider."""
    try:
        fd = os.open(db, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreError(f"cannot create store database {db}: {exc.strerror}") from None
    os.close(fd)


def open_read_write(db: Path) -> sqlite3.Connection:
    """Open (creating if needed) and migrate to SCHEMA_VERSION; WAL, autocommit mode.

    ``isolation_level=None`` leaves transaction control to us: every write is an
    explicit ``BEGIN IMMEDIATE`` ... ``COMMIT``, never an implicit transaction that
    Python's sqlite3 module might hold open between calls.
    """
    _create_private_file(db)
    try:
        conn = sqlite3.connect(str(db), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open store database {db}: {exc}") from None
    try:
        _configure(conn)
        mode = _switch_to_wal(conn)
        if mode != "wal":
            raise StoreError(f"{db}: cannot switch to WAL journal mode (got {mode!r})")
        # NORMAL under WAL: a commit survives a crash of the process; only an OS crash or
        # power loss can roll back the last commits, never corrupt. See docs/store.md.
        conn.execute("PRAGMA synchronous = NORMAL")
        _migrate(conn, db)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(f"cannot open store database {db}: {exc}") from None
    except BaseException:
        conn.close()
        raise
    return conn


def _switch_to_wal(conn: sqlite3.Connection) -> str:
    """``PRAGMA journal_mode = WAL``, retried while another process holds the file.

    The busy timeout does not cover this switch: when processes open a fresh store at the
    same moment (an agent's first burst of `bench` calls), SQLite answers one of them
    SQLITE_BUSY at once where waiting could deadlock. The switch holds its lock for
    microseconds, so retrying until the busy timeout is what the timeout promises.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()
        except sqlite3.OperationalError as exc:
            busy = (getattr(exc, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_BUSY
            if not busy or time.monotonic() >= deadline:
                raise
            time.sleep(0.002)


def _migrate(conn: sqlite3.Connection, db: Path) -> None:
    version = _pragma_int(conn, "user_version")
    if version == SCHEMA_VERSION:
        _check_identity(conn, db, version)
        return
    _refuse_newer(db, version)
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = _pragma_int(conn, "user_version")  # another process may have migrated
        _refuse_newer(db, version)
        if version == 0:
            foreign = conn.execute(
                "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' LIMIT 1"
            ).fetchone()
            if foreign is not None:
                raise StoreError(
                    f"{db} already holds table {foreign[0]!r} but no benchstone schema; "
                    "point BENCHSTONE_HOME at a fresh directory"
                )
        _check_identity(conn, db, version)
        for target, statements in enumerate(MIGRATIONS[version:], start=version + 1):
            for statement in statements:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {target}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _refuse_newer(db: Path, version: int) -> None:
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{db} has schema version {version}, newer than version {SCHEMA_VERSION} "
            "that this benchstone-store supports; upgrade benchstone-store"
        )


def open_read_only(db: Path) -> sqlite3.Connection:
    """Open an existing store with ``mode=ro``: no creation, no migration, no write lock.

    Under WAL a reader never blocks a writer, so reporting tools can run while bench
    commands append.
    """
    if not db.is_file():
        raise StoreError(f"no benchstone store at {db}; run a bench command first")
    uri = db.absolute().as_uri() + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open store database {db} read-only: {exc}") from None
    try:
        _configure(conn)
        conn.execute("PRAGMA query_only = ON")
        version = _pragma_int(conn, "user_version")
        if version != SCHEMA_VERSION:
            advice = (
                "upgrade benchstone-store"
                if version > SCHEMA_VERSION
                else "run any bench command to migrate it"
            )
            raise StoreError(
                f"{db} has schema version {version} but this benchstone-store reads "
                f"version {SCHEMA_VERSION} only; {advice}"
            )
        _check_identity(conn, db, version)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(f"cannot read store database {db}: {exc}") from None
    except BaseException:
        conn.close()
        raise
    return conn
