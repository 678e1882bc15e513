"""The audit behind ``bench verify``: chains, triggers, cross-row ids, artifact blobs.

Every problem is one line naming the table and row id (or the blob path) at fault, so a
report is actionable without opening the database by hand.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable

from ._artifacts import blob_hex, hash_file
from ._canonical import GENESIS_HASH, row_hash
from ._errors import StoreError
from ._models import VerifyReport
from ._paths import BLOB_ALGORITHM, StorePaths
from ._rows import chained
from ._schema import TABLES, TRIGGERS

_BLOB_NAME = re.compile(r"([0-9a-f]{64})\.bin")
_FANOUT = re.compile(r"[0-9a-f]{2}")


def verify_store(conn: sqlite3.Connection, paths: StorePaths) -> VerifyReport:
    """Audit the store as of one read snapshot, then the blob tree on disk."""
    problems: list[str] = []
    counts: dict[str, int] = {}
    heads: dict[str, str] = {}
    conn.execute("BEGIN")  # one snapshot: concurrent appends cannot skew the checks
    try:
        _check_integrity(conn, problems)
        counts["triggers"] = _check_triggers(conn, problems)
        present = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        for table in TABLES:
            if table not in present:
                problems.append(f"{table}: table is missing")
                continue
            counts[table], heads[table] = _check_chain(conn, table, problems)
            _check_sequence(conn, table, problems)
        if present.issuperset(TABLES):
            _check_links(conn, problems)
            referenced = _referenced_blobs(conn, problems)
        else:
            referenced = {}
    finally:
        conn.execute("COMMIT")
    counts["blobs"] = _check_blobs(paths, referenced, problems)
    return VerifyReport(ok=not problems, problems=problems, counts=counts, heads=heads)


def _check_integrity(conn: sqlite3.Connection, problems: list[str]) -> None:
    for (line,) in conn.execute("PRAGMA quick_check"):
        if line != "ok":
            problems.append(f"database: quick_check: {line}")


def _check_triggers(conn: sqlite3.Connection, problems: list[str]) -> int:
    """Each append-only trigger must exist with exactly the text the store created."""
    found = dict(
        conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    )
    for name, sql in TRIGGERS.items():
        if name not in found:
            problems.append(f"trigger {name} is missing: the table accepts UPDATE/DELETE")
        elif found[name] != sql:
            problems.append(f"trigger {name} was altered: its SQL is not the store's")
    for name in sorted(set(found) - set(TRIGGERS)):
        problems.append(f"trigger {name} is not part of the benchstone schema")
    return sum(1 for name in TRIGGERS if found.get(name) == TRIGGERS[name])


def _check_chain(conn: sqlite3.Connection, table: str, problems: list[str]) -> tuple[int, str]:
    """Recompute every row hash from its content and the stored hash before it.

    Chaining from the *stored* previous hash means a single edited row is reported once
    (itself), while a removed or inserted row shows up at the row after it.
    """
    prev_hash, prev_id, count = GENESIS_HASH, None, 0
    cursor = conn.execute(f"SELECT * FROM {table} ORDER BY id")
    names = [column[0] for column in cursor.description]
    for values in cursor:
        count += 1
        content = dict(zip(names, values, strict=True))
        row_id = content.pop("id")
        stored = content.pop("row_hash")
        try:
            expected = row_hash(prev_hash, chained(table, content))
        except (TypeError, ValueError) as exc:
            problems.append(f"{table} row {row_id}: content cannot be hashed ({exc})")
            expected = None
        if expected is not None and stored != expected:
            after = "the start of the table" if prev_id is None else f"row {prev_id}"
            problems.append(
                f"{table} row {row_id}: row_hash does not match its content chained to "
                f"{after} (the row was changed, or a row before it removed or inserted)"
            )
        prev_hash = stored if isinstance(stored, str) else ""
        prev_id = row_id
    return count, prev_hash


def _check_sequence(conn: sqlite3.Connection, table: str, problems: list[str]) -> None:
    """Catch rows cut from the end of a table, which no later row's hash can show."""
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
    issued = int(row[0]) if row is not None and row[0] is not None else 0
    highest = conn.execute(f"SELECT MAX(id) FROM {table}").fetchone()[0] or 0
    if issued > highest:
        problems.append(
            f"{table}: rows after id {highest} are missing (ids were issued up to {issued})"
        )


def _id_list(table: str, row_id: int, column: str, raw: object, problems: list[str]) -> list[int]:
    try:
        ids = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        ids = None
    if not isinstance(ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in ids
    ):
        problems.append(f"{table} row {row_id}: {column} is not a JSON list of run ids")
        return []
    return ids


def _owner_lookup(conn: sqlite3.Connection, table: str) -> Callable[[int], tuple[str, str] | None]:
    def owner(row_id: int) -> tuple[str, str] | None:
        row = conn.execute(
            f"SELECT project, benchmark FROM {table} WHERE id = ?", (row_id,)
        ).fetchone()
        return None if row is None else (row[0], row[1])

    return owner


def _check_links(conn: sqlite3.Connection, problems: list[str]) -> None:
    """Ids stored inside rows must name existing rows of the same project/benchmark."""
    run_owner = _owner_lookup(conn, "runs")
    event_owner = _owner_lookup(conn, "baseline_events")

    def expect(
        table: str,
        row_id: int,
        what: str,
        ref: int,
        found: tuple[str, str] | None,
        key: tuple[str, str],
    ) -> None:
        if found is None:
            problems.append(f"{table} row {row_id}: {what} {ref} does not exist")
        elif found != key:
            problems.append(
                f"{table} row {row_id}: {what} {ref} belongs to {found[0]}/{found[1]}, "
                f"not {key[0]}/{key[1]}"
            )

    for row in conn.execute(
        "SELECT id, project, benchmark, run_ids FROM baseline_events ORDER BY id"
    ):
        key = (row[1], row[2])
        for ref in _id_list("baseline_events", row[0], "run_ids", row[3], problems):
            expect("baseline_events", row[0], "run", ref, run_owner(ref), key)
    for row in conn.execute(
        "SELECT id, project, benchmark, run_ids, baseline_event_id FROM evaluations ORDER BY id"
    ):
        key = (row[1], row[2])
        for ref in _id_list("evaluations", row[0], "run_ids", row[3], problems):
            expect("evaluations", row[0], "run", ref, run_owner(ref), key)
        if row[4] is not None:
            expect("evaluations", row[0], "baseline event", row[4], event_owner(row[4]), key)
    for row in conn.execute(
        "SELECT id, project, benchmark, run_id FROM reference_events "
        "WHERE run_id IS NOT NULL ORDER BY id"
    ):
        expect("reference_events", row[0], "run", row[3], run_owner(row[3]), (row[1], row[2]))


def _referenced_blobs(conn: sqlite3.Connection, problems: list[str]) -> dict[str, tuple[str, int]]:
    """hex digest -> (table, first row id) for every blob a row points at."""
    referenced: dict[str, tuple[str, int]] = {}
    for table, column in (("runs", "artifact_digest"), ("reference_events", "digest")):
        for digest, first_id in conn.execute(
            f"SELECT {column}, MIN(id) FROM {table} WHERE {column} IS NOT NULL GROUP BY {column}"
        ):
            try:
                hex_digest = blob_hex(digest)
            except StoreError:
                problems.append(
                    f"{table} row {first_id}: {column} {digest!r} is not a store digest"
                )
                continue
            referenced.setdefault(hex_digest, (table, first_id))
    # A lock's files are blobs too: the evaluator that runs is read back from them.
    for row_id, files in conn.execute("SELECT id, files FROM lock_events ORDER BY id"):
        try:
            blobs = json.loads(files).values()
        except (TypeError, ValueError, AttributeError):
            problems.append(f"lock_events row {row_id}: files is not a JSON object")
            continue
        for digest in blobs:
            try:
                referenced.setdefault(blob_hex(digest), ("lock_events", row_id))
            except StoreError:
                problems.append(f"lock_events row {row_id}: file {digest!r} is not a store digest")
    return referenced


def _check_blobs(
    paths: StorePaths, referenced: dict[str, tuple[str, int]], problems: list[str]
) -> int:
    """Re-hash every blob on disk; report damaged, misplaced and missing ones."""
    root = paths.blobs
    good: set[str] = set()
    count = 0
    entries = sorted(root.iterdir()) if root.is_dir() else []
    for fanout in entries:
        if fanout.is_symlink() or not fanout.is_dir() or not _FANOUT.fullmatch(fanout.name):
            problems.append(f"artifact store: unexpected entry {fanout}")
            continue
        for blob in sorted(fanout.iterdir()):
            match = _BLOB_NAME.fullmatch(blob.name)
            if (
                match is None
                or blob.is_symlink()
                or not blob.is_file()
                or match.group(1)[:2] != fanout.name
            ):
                problems.append(f"artifact store: unexpected entry {blob}")
                continue
            count += 1
            expected = match.group(1)
            try:
                actual = hash_file(blob)
            except OSError as exc:
                problems.append(f"artifact blob {blob}: cannot be read ({exc.strerror})")
                continue
            if actual != expected:
                problems.append(
                    f"artifact blob {blob}: content hashes to {BLOB_ALGORITHM}:{actual}, "
                    f"not the {BLOB_ALGORITHM}:{expected} its name records"
                )
            else:
                good.add(expected)
    for hex_digest, (table, row_id) in sorted(referenced.items(), key=lambda kv: kv[1]):
        if hex_digest not in good and not (root / hex_digest[:2] / f"{hex_digest}.bin").exists():
            problems.append(
                f"{table} row {row_id}: artifact {BLOB_ALGORITHM}:{hex_digest} is missing "
                f"from {root}"
            )
    return count
