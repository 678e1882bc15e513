"""The read-write handle: every write is one short, chained, append-only transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ._artifacts import blob_hex, blob_path
from ._artifacts import put_artifact as _put_artifact
from ._canonical import GENESIS_HASH, row_hash
from ._connection import open_read_write
from ._corpora import put_corpus as _put_corpus
from ._errors import StoreError
from ._models import (
    BaselineEvent,
    CorpusEvent,
    Evaluation,
    LockEvent,
    NewEvaluation,
    ReferenceEvent,
    Registration,
    Run,
    _RunFields,
)
from ._names import validate_name, validate_sha
from ._open import make_private_dirs, resolve_paths
from ._reader import RUN_STATUSES, StoreReader, sql_errors
from ._rows import (
    baseline_event_from,
    chained,
    content_from,
    corpus_event_from,
    evaluation_from,
    ids_tuple,
    lock_event_from,
    reference_event_from,
    registration_from,
    run_from,
)
from ._timefmt import parse_timestamp, utc_now

BASELINE_ACTIONS = ("establish", "promote")
REFERENCE_ACTIONS = ("freeze", "replace")
CORPUS_TYPES = ("bytes", "tree")
LOCK_ACTIONS = ("register", "lock")
ARMS = ("candidate", "baseline")
SEED_SETS = ("baseline", "fresh")

# Runs inside the write transaction, after the lock is taken: returns extra column
# values, or raises StoreError to abort the append. Checks that depend on other rows
# live here so that two processes cannot both pass them and then both append.
Prepare = Callable[[sqlite3.Connection], Mapping[str, Any]]


def _choice(where: str, field: str, value: object, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise StoreError(f"{where}: {field} {value!r} is not one of {', '.join(allowed)}")
    return str(value)


def _text(where: str, field: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise StoreError(f"{where}: {field} must be a non-empty string, got {value!r}")
    return value


def _require_runs(
    conn: sqlite3.Connection, where: str, project: str, benchmark: str, ids: Iterable[int]
) -> None:
    wanted = sorted(set(ids))
    if not wanted:
        return
    found = {
        row[0]
        for row in conn.execute(
            "SELECT id FROM runs WHERE id IN (SELECT value FROM json_each(?)) "
            "AND project = ? AND benchmark = ?",
            ("[" + ",".join(map(str, wanted)) + "]", project, benchmark),
        )
    }
    missing = [i for i in wanted if i not in found]
    if missing:
        raise StoreError(f"{where}: run id(s) {missing} are not runs of {project}/{benchmark}")


class Store(StoreReader):
    """The read-write handle: creates the home, migrates the schema, appends rows.

    Every method is one ``BEGIN IMMEDIATE`` transaction that reads the previous row's
    hash and inserts the new row, so concurrent processes chain correctly and no
    transaction is ever left open between calls (in particular, not while the runner
    waits for a benchmark subprocess).
    """

    @classmethod
    def open(cls, home: Path | str | None = None) -> Store:
        paths = resolve_paths(home)
        make_private_dirs(paths)
        return cls(open_read_write(paths.db), paths)

    def _append(
        self,
        table: str,
        where: str,
        values: Mapping[str, Any],
        prepare: Prepare | None = None,
    ) -> dict[str, Any]:
        """Validate, chain and insert one row in one short transaction; return it."""
        content_from(table, where, {**values, "created_at": ""})  # fail before locking
        conn = self._conn
        with sql_errors(self.paths.db):
            conn.execute("BEGIN IMMEDIATE")
            try:
                extra = prepare(conn) if prepare is not None else {}
                content = content_from(table, where, {**values, **extra, "created_at": ""})
                last = conn.execute(
                    f"SELECT row_hash FROM {table} WHERE id = (SELECT MAX(id) FROM {table})"
                ).fetchone()
                content["created_at"] = utc_now()
                digest = row_hash(
                    GENESIS_HASH if last is None else last[0], chained(table, content)
                )
                columns = [*content, "row_hash"]
                cursor = conn.execute(
                    f"INSERT INTO {table} ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' * len(columns))})",
                    [*content.values(), digest],
                )
                row_id = cursor.lastrowid
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return {**content, "id": row_id, "row_hash": digest}

    # -- registrations ----------------------------------------------------------------

    def register(self, name: str, path: Path | str, manifest_hash: str) -> Registration:
        """Record (or re-record, e.g. after a manifest change) a project registration."""
        validate_name("project", name)
        where = f"registration of {name}"
        values = {
            "name": name,
            "path": path,
            "manifest_hash": _text(where, "manifest_hash", manifest_hash),
            "active": True,
        }
        return registration_from(self._append("registrations", where, values))

    def unregister(self, name: str) -> Registration:
        """Record that a project is no longer registered; its history stays."""
        validate_name("project", name)
        where = f"unregistration of {name}"

        def prepare(conn: sqlite3.Connection) -> Mapping[str, Any]:
            row = conn.execute(
                "SELECT path, manifest_hash, active FROM registrations "
                "WHERE name = ? ORDER BY id DESC LIMIT 1",
                (name,),
            ).fetchone()
            if row is None or not row["active"]:
                raise StoreError(f"{where}: project {name!r} is not registered")
            return {"path": row["path"], "manifest_hash": row["manifest_hash"]}

        values = {"name": name, "path": "", "manifest_hash": "", "active": False}
        return registration_from(self._append("registrations", where, values, prepare))

    # -- runs -------------------------------------------------------------------------

    def append_run(self, new: _RunFields) -> Run:
        """Append one repetition; committed when this returns."""
        if not isinstance(new, _RunFields):
            raise StoreError(f"append_run needs a NewRun, got {type(new).__name__}")
        values = {name: getattr(new, name) for name in _RunFields.FIELDS}
        validate_name("project", new.project)
        validate_name("benchmark", new.benchmark)
        where = f"run of {new.project}/{new.benchmark}"
        validate_sha(f"{where}: git_sha", new.git_sha)
        _choice(where, "status", new.status, RUN_STATUSES)
        if new.seed_set is not None:
            _choice(where, "seed_set", new.seed_set, SEED_SETS)
        for stamp in ("started_at", "finished_at"):
            if values[stamp] is not None:
                values[stamp] = parse_timestamp(f"{where}: {stamp}", values[stamp])
        if new.arm is not None:
            _choice(where, "arm", new.arm, ARMS)
        if new.artifact_digest is not None:
            self._require_blob(where, new.artifact_digest)
        return run_from(self._append("runs", where, values))

    def _require_blob(self, where: str, digest: str) -> None:
        try:
            blob_hex(digest)
        except StoreError as exc:
            raise StoreError(f"{where}: {exc}") from None
        if not blob_path(self.paths, digest).is_file():
            raise StoreError(
                f"{where}: artifact {digest} is not in the store; put_artifact it first"
            )

    # -- baseline pointer -------------------------------------------------------------

    def set_baseline(
        self,
        project: str,
        benchmark: str,
        *,
        git_sha: str,
        meta_seed: int | None,
        run_ids: Iterable[int],
        action: str,
        notes: str | None = None,
        forced: bool = False,
    ) -> BaselineEvent:
        """Move the baseline pointer to exactly ``run_ids`` (runs of this benchmark)."""
        validate_name("project", project)
        validate_name("benchmark", benchmark)
        where = f"baseline of {project}/{benchmark}"
        validate_sha(f"{where}: git_sha", git_sha)
        _choice(where, "action", action, BASELINE_ACTIONS)
        ids = ids_tuple(where, "run_ids", run_ids)
        if not ids:
            raise StoreError(f"{where}: run_ids is empty; a baseline needs at least one run")

        def prepare(conn: sqlite3.Connection) -> Mapping[str, Any]:
            _require_runs(conn, where, project, benchmark, ids)
            return {}

        values = {
            "project": project,
            "benchmark": benchmark,
            "git_sha": git_sha,
            "meta_seed": meta_seed,
            "run_ids": ids,
            "action": action,
            "notes": notes,
            "forced": forced,
        }
        return baseline_event_from(self._append("baseline_events", where, values, prepare))

    # -- artifacts and references -----------------------------------------------------

    def put_artifact(self, source: Path | str) -> str:
        """Store a file content-addressed (read-only, once per content); its digest."""
        return _put_artifact(self.paths, source)

    def set_reference(
        self,
        project: str,
        benchmark: str,
        *,
        digest: str,
        run_id: int | None,
        action: str,
        reason: str | None = None,
        notes: str | None = None,
    ) -> ReferenceEvent:
        """Freeze the first reference, or replace the current one with a reason.

        Both rules are checked inside the write transaction, so two concurrent freezes
        cannot both succeed.
        """
        validate_name("project", project)
        validate_name("benchmark", benchmark)
        where = f"reference of {project}/{benchmark}"
        _choice(where, "action", action, REFERENCE_ACTIONS)
        if action == "replace":
            _text(where, "reason (required to replace a reference)", reason)
        self._require_blob(where, digest)

        def prepare(conn: sqlite3.Connection) -> Mapping[str, Any]:
            current = conn.execute(
                "SELECT digest FROM reference_events WHERE project = ? AND benchmark = ? "
                "ORDER BY id DESC LIMIT 1",
                (project, benchmark),
            ).fetchone()
            if action == "freeze" and current is not None:
                raise StoreError(
                    f"{where}: already frozen at {current[0]}; replace it with "
                    "action='replace' and a reason"
                )
            if action == "replace" and current is None:
                raise StoreError(f"{where}: nothing to replace; freeze a reference first")
            if run_id is not None:
                _require_runs(conn, where, project, benchmark, [run_id])
            return {}

        values = {
            "project": project,
            "benchmark": benchmark,
            "digest": digest,
            "run_id": run_id,
            "action": action,
            "reason": reason,
            "notes": notes,
        }
        return reference_event_from(self._append("reference_events", where, values, prepare))

    # -- evaluations ------------------------------------------------------------------

    def append_evaluation(self, new: NewEvaluation) -> Evaluation:
        """Record a verdict (the look counter); its ids must name rows of the benchmark."""
        if not isinstance(new, NewEvaluation):
            raise StoreError(f"append_evaluation needs a NewEvaluation, got {type(new).__name__}")
        validate_name("project", new.project)
        validate_name("benchmark", new.benchmark)
        where = f"evaluation of {new.project}/{new.benchmark}"
        validate_sha(f"{where}: candidate_sha", new.candidate_sha)
        _text(where, "kind", new.kind)
        ids = ids_tuple(where, "run_ids", new.run_ids)
        event_id = new.baseline_event_id

        def prepare(conn: sqlite3.Connection) -> Mapping[str, Any]:
            if event_id is not None:
                row = conn.execute(
                    "SELECT 1 FROM baseline_events WHERE id = ? AND project = ? AND benchmark = ?",
                    (event_id, new.project, new.benchmark),
                ).fetchone()
                if row is None:
                    raise StoreError(
                        f"{where}: baseline_event_id {event_id} is not a baseline event of "
                        f"{new.project}/{new.benchmark}"
                    )
            _require_runs(conn, where, new.project, new.benchmark, ids)
            return {}

        values = {name: getattr(new, name) for name in NewEvaluation.FIELDS}
        values["run_ids"] = ids
        return evaluation_from(self._append("evaluations", where, values, prepare))

    # -- evaluator locks --------------------------------------------------------------

    def append_lock(
        self,
        project: str,
        *,
        digest: str,
        files: Mapping[str, str],
        manifest_hash: str,
        procedure_digest: str,
        judgement_digest: str,
        action: str,
        reason: str | None = None,
    ) -> LockEvent:
        """Record a lock of ``project``'s evaluator; every file's blob must be stored.

        ``action="lock"`` (a change after registration) needs a reason: accepting a new
        evaluator is a decision someone must be able to read back.
        """
        validate_name("project", project)
        where = f"lock of {project}"
        _choice(where, "action", action, LOCK_ACTIONS)
        if action == "lock":
            _text(where, "reason (required to change the lock)", reason)
        for path, blob in files.items():
            _text(where, f"files[{path!r}]", blob)
            self._require_blob(f"{where}: {path}", blob)
        values = {
            "project": project,
            "digest": digest,
            "files": dict(files),
            "manifest_hash": manifest_hash,
            "procedure_digest": procedure_digest,
            "judgement_digest": judgement_digest,
            "action": action,
            "reason": reason,
        }
        return lock_event_from(self._append("lock_events", where, values))

    # -- held-out corpora -------------------------------------------------------------

    def put_corpus(self, staged: Path | str, digest: str) -> Path:
        """Store a staged, verified corpus content-addressed and read-only; its path."""
        return _put_corpus(self.paths, Path(staged), digest)

    def import_corpus(
        self,
        project: str,
        benchmark: str,
        *,
        digest: str,
        corpus_type: str,
        files: int,
        bytes: int,
        reason: str | None = None,
    ) -> CorpusEvent:
        """Make the stored corpus ``digest`` the held-out corpus of ``benchmark``.

        The first import needs no reason; replacing one does, and re-importing the very
        same content is refused (it would change nothing). Both are checked inside the
        write transaction.
        """
        validate_name("project", project)
        validate_name("benchmark", benchmark)
        where = f"held-out corpus of {project}/{benchmark}"
        _choice(where, "corpus_type", corpus_type, CORPUS_TYPES)
        if not self.paths.corpus(digest).exists():
            raise StoreError(f"{where}: corpus {digest} is not in the store; put_corpus it first")

        def prepare(conn: sqlite3.Connection) -> Mapping[str, Any]:
            current = conn.execute(
                "SELECT digest FROM corpus_events WHERE project = ? AND benchmark = ? "
                "ORDER BY id DESC LIMIT 1",
                (project, benchmark),
            ).fetchone()
            if current is None:
                return {"action": "import"}
            if current[0] == digest:
                raise StoreError(f"{where}: {digest} is already the held-out corpus")
            _text(where, "reason (required to replace a held-out corpus)", reason)
            return {"action": "replace"}

        values = {
            "project": project,
            "benchmark": benchmark,
            "digest": digest,
            "corpus_type": corpus_type,
            "files": files,
            "bytes": bytes,
            "action": "import",
            "reason": reason,
        }
        return corpus_event_from(self._append("corpus_events", where, values, prepare))
