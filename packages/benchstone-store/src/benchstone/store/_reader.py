"""Every read of the store, shared by the read-write and the read-only handle.

Hot queries name their index (``INDEXED BY``) so the plan cannot drift to a table scan
as the store grows: SQLite raises an error rather than silently scanning if the index
ever stops fitting the query.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from types import EllipsisType, TracebackType
from typing import Any, Self

from ._artifacts import blob_path
from ._errors import StoreError
from ._models import (
    BaselineEvent,
    CorpusEvent,
    Evaluation,
    LockEvent,
    ReferenceEvent,
    Registration,
    Run,
    VerifyReport,
)
from ._names import sha_prefix_range, validate_name
from ._paths import StorePaths
from ._rows import (
    baseline_event_from,
    corpus_event_from,
    evaluation_from,
    lock_event_from,
    reference_event_from,
    registration_from,
    run_from,
)
from ._timefmt import parse_timestamp
from ._verify import verify_store

RUN_STATUSES = ("ok", "error")


@contextlib.contextmanager
def sql_errors(db: Path) -> Iterator[None]:
    """Turn SQLite failures into one-line StoreErrors naming the database file."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreError(f"store database {db}: {exc}") from None


def _text_value(name: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise StoreError(f"{name} must be a non-empty string, got {value!r}")
    return value


def _query_ids(value: Iterable[int]) -> list[int]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise StoreError(f"ids must be a sequence of run ids, got {value!r}")
    ids = list(value)
    for item in ids:
        if isinstance(item, bool) or not isinstance(item, int):
            raise StoreError(f"ids contains {item!r}, not a run id")
    return sorted(set(ids))


class StoreReader:
    """The read API; subclasses decide how the connection was opened."""

    def __init__(self, conn: sqlite3.Connection, paths: StorePaths) -> None:
        self._conn = conn
        self.paths = paths

    # -- lifetime ---------------------------------------------------------------------

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with sql_errors(self.paths.db):
            return self._conn.execute(sql, tuple(params)).fetchall()

    # -- registrations ----------------------------------------------------------------

    def project(self, name: str) -> Registration | None:
        """The current registration, or None when never registered or unregistered."""
        validate_name("project", name)
        rows = self._rows(
            "SELECT * FROM registrations INDEXED BY registrations_by_name "
            "WHERE name = ? ORDER BY id DESC LIMIT 1",
            (name,),
        )
        if not rows or not rows[0]["active"]:
            return None
        return registration_from(rows[0])

    def projects(self) -> list[Registration]:
        """Currently registered projects, sorted by name."""
        rows = self._rows(
            "SELECT r.* FROM registrations AS r WHERE r.id = "
            "(SELECT MAX(id) FROM registrations WHERE name = r.name) AND r.active = 1 "
            "ORDER BY r.name"
        )
        return [registration_from(row) for row in rows]

    # -- runs -------------------------------------------------------------------------

    def benchmarks(self, project: str) -> list[str]:
        """Names of the benchmarks that have runs in ``project``, sorted.

        A skip-scan over the (project, benchmark, id) index: one index seek per
        benchmark, so the cost does not grow with the number of runs.
        """
        validate_name("project", project)
        rows = self._rows(
            "WITH RECURSIVE names(name) AS ("
            " SELECT (SELECT MIN(benchmark) FROM runs INDEXED BY runs_by_benchmark"
            "         WHERE project = ?1)"
            " UNION ALL"
            " SELECT (SELECT MIN(benchmark) FROM runs INDEXED BY runs_by_benchmark"
            "         WHERE project = ?1 AND benchmark > names.name)"
            " FROM names WHERE names.name IS NOT NULL"
            ") SELECT name FROM names WHERE name IS NOT NULL",
            (project,),
        )
        return [row["name"] for row in rows]

    def count_runs(self, project: str, benchmark: str | None = None) -> int:
        """How many runs a project (or one benchmark) has, counted on an index."""
        validate_name("project", project)
        if benchmark is None:
            rows = self._rows(
                "SELECT COUNT(*) FROM runs INDEXED BY runs_by_project WHERE project = ?",
                (project,),
            )
        else:
            validate_name("benchmark", benchmark)
            rows = self._rows(
                "SELECT COUNT(*) FROM runs INDEXED BY runs_by_benchmark "
                "WHERE project = ? AND benchmark = ?",
                (project, benchmark),
            )
        return int(rows[0][0])

    def run(self, run_id: int) -> Run | None:
        if isinstance(run_id, bool) or not isinstance(run_id, int):
            raise StoreError(f"run id must be an integer, got {run_id!r}")
        rows = self._rows("SELECT * FROM runs WHERE id = ?", (run_id,))
        return run_from(rows[0]) if rows else None

    def runs(
        self,
        project: str,
        benchmark: str | None = None,
        *,
        git_sha: str | None = None,
        since: datetime | str | None = None,
        ids: Iterable[int] | None = None,
        status: str | None = None,
        meta_seed: int | EllipsisType | None = ...,
        window: str | None = None,
        limit: int | None = None,
        newest_first: bool = True,
    ) -> list[Run]:
        """Runs of a project (or one benchmark), filtered, newest first by default.

        ``git_sha`` matches a prefix of at least 4 hex characters; ``since`` compares
        with ``created_at`` (naive datetimes and strings are taken as UTC);
        ``meta_seed=None`` selects runs without a meta seed, leaving it out selects any;
        ``window`` selects the rows of one side-by-side window.
        """
        validate_name("project", project)
        clauses = ["project = ?"]
        params: list[Any] = [project]
        if benchmark is not None:
            validate_name("benchmark", benchmark)
            clauses.append("benchmark = ?")
            params.append(benchmark)
        if git_sha is not None:
            low, high = sha_prefix_range("git_sha", git_sha)
            clauses.append("git_sha >= ? AND git_sha < ?")
            params += [low, high]
        if since is not None:
            clauses.append("created_at >= ?")
            params.append(parse_timestamp("since", since))
        if ids is not None:
            clauses.append("id IN (SELECT value FROM json_each(?))")
            params.append("[" + ",".join(str(i) for i in _query_ids(ids)) + "]")
        if status is not None:
            if status not in RUN_STATUSES:
                raise StoreError(f"status {status!r} is not one of {', '.join(RUN_STATUSES)}")
            clauses.append("status = ?")
            params.append(status)
        if meta_seed is not ...:
            if meta_seed is not None and (
                isinstance(meta_seed, bool) or not isinstance(meta_seed, int)
            ):
                raise StoreError(f"meta_seed must be an integer or None, got {meta_seed!r}")
            clauses.append("meta_seed IS ?")
            params.append(meta_seed)
        if window is not None:
            clauses.append("window = ?")
            params.append(_text_value("window", window))
        if ids is not None:
            index = ""  # primary-key lookups beat any secondary index
        elif window is not None and benchmark is not None:
            index = " INDEXED BY runs_by_window"
        elif benchmark is not None:
            index = (
                " INDEXED BY runs_by_sha"
                if git_sha is not None
                else (" INDEXED BY runs_by_benchmark")
            )
        else:
            index = " INDEXED BY runs_by_project"
        sql = (
            f"SELECT * FROM runs{index} WHERE {' AND '.join(clauses)} "
            f"ORDER BY id {'DESC' if newest_first else 'ASC'}"
        )
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
                raise StoreError(f"limit must be a non-negative integer, got {limit!r}")
            sql += " LIMIT ?"
            params.append(limit)
        return [run_from(row) for row in self._rows(sql, params)]

    # -- baseline pointer -------------------------------------------------------------

    def baseline(self, project: str, benchmark: str) -> BaselineEvent | None:
        """The current pointer: the latest baseline event."""
        rows = self._events("baseline_events", project, benchmark, latest=True)
        return baseline_event_from(rows[0]) if rows else None

    def baseline_history(self, project: str, benchmark: str) -> list[BaselineEvent]:
        """Every pointer move, oldest first."""
        return [
            baseline_event_from(row)
            for row in self._events("baseline_events", project, benchmark, latest=False)
        ]

    def _events(
        self, table: str, project: str, benchmark: str, *, latest: bool
    ) -> list[sqlite3.Row]:
        validate_name("project", project)
        validate_name("benchmark", benchmark)
        order = "DESC LIMIT 1" if latest else "ASC"
        return self._rows(
            f"SELECT * FROM {table} INDEXED BY {table}_by_benchmark "
            f"WHERE project = ? AND benchmark = ? ORDER BY id {order}",
            (project, benchmark),
        )

    # -- artifacts and references -----------------------------------------------------

    def artifact_path(self, digest: str) -> Path:
        """Where the blob for ``digest`` lives (or would); never creates anything."""
        return blob_path(self.paths, digest)

    def reference(self, project: str, benchmark: str) -> ReferenceEvent | None:
        """The current reference: the latest freeze or replacement."""
        rows = self._events("reference_events", project, benchmark, latest=True)
        return reference_event_from(rows[0]) if rows else None

    def reference_history(self, project: str, benchmark: str) -> list[ReferenceEvent]:
        return [
            reference_event_from(row)
            for row in self._events("reference_events", project, benchmark, latest=False)
        ]

    # -- held-out corpora -------------------------------------------------------------

    def held_out_corpus(self, project: str, benchmark: str) -> CorpusEvent | None:
        """The benchmark's current held-out corpus: its latest import."""
        rows = self._events("corpus_events", project, benchmark, latest=True)
        return corpus_event_from(rows[0]) if rows else None

    def corpus_history(self, project: str, benchmark: str) -> list[CorpusEvent]:
        return [
            corpus_event_from(row)
            for row in self._events("corpus_events", project, benchmark, latest=False)
        ]

    def corpus_path(self, digest: str) -> Path:
        """Where the stored corpus of ``digest`` lives (or would); never creates anything."""
        return self.paths.corpus(digest)

    # -- evaluations ------------------------------------------------------------------

    def evaluations(
        self,
        project: str,
        benchmark: str,
        *,
        baseline_event_id: int | EllipsisType | None = ...,
        candidate_sha: str | None = None,
        content_digest: str | None = None,
    ) -> list[Evaluation]:
        """Recorded verdicts, oldest first.

        ``baseline_event_id=None`` selects evaluations made without a baseline; leaving
        it out selects any. ``candidate_sha`` matches a prefix (4+ hex characters);
        ``content_digest`` selects the looks at one content of the code.
        """
        validate_name("project", project)
        validate_name("benchmark", benchmark)
        clauses = ["project = ?", "benchmark = ?"]
        params: list[Any] = [project, benchmark]
        if baseline_event_id is not ...:
            if baseline_event_id is not None and (
                isinstance(baseline_event_id, bool) or not isinstance(baseline_event_id, int)
            ):
                raise StoreError(
                    f"baseline_event_id must be an integer or None, got {baseline_event_id!r}"
                )
            clauses.append("baseline_event_id IS ?")
            params.append(baseline_event_id)
        if candidate_sha is not None:
            low, high = sha_prefix_range("candidate_sha", candidate_sha)
            clauses.append("candidate_sha >= ? AND candidate_sha < ?")
            params += [low, high]
        index = "evaluations_by_look"
        if content_digest is not None:
            clauses.append("content_digest = ?")
            params.append(_text_value("content_digest", content_digest))
            index = "evaluations_by_content"
        rows = self._rows(
            f"SELECT * FROM evaluations INDEXED BY {index} "
            f"WHERE {' AND '.join(clauses)} ORDER BY id ASC",
            params,
        )
        return [evaluation_from(row) for row in rows]

    # -- evaluator locks --------------------------------------------------------------

    def lock(self, project: str) -> LockEvent | None:
        """The project's current lock: its latest lock event."""
        validate_name("project", project)
        rows = self._rows(
            "SELECT * FROM lock_events INDEXED BY lock_events_by_project "
            "WHERE project = ? ORDER BY id DESC LIMIT 1",
            (project,),
        )
        return lock_event_from(rows[0]) if rows else None

    def lock_history(self, project: str) -> list[LockEvent]:
        """Every lock event of the project, oldest first."""
        validate_name("project", project)
        rows = self._rows(
            "SELECT * FROM lock_events INDEXED BY lock_events_by_project "
            "WHERE project = ? ORDER BY id ASC",
            (project,),
        )
        return [lock_event_from(row) for row in rows]

    def lock_event(self, lock_id: int) -> LockEvent | None:
        """One lock event by id (the ``lock_id`` a run names)."""
        if isinstance(lock_id, bool) or not isinstance(lock_id, int):
            raise StoreError(f"lock id must be an integer, got {lock_id!r}")
        rows = self._rows("SELECT * FROM lock_events WHERE id = ?", (lock_id,))
        return lock_event_from(rows[0]) if rows else None

    def run_by_bundle(self, bundle_id: str) -> Run | None:
        """The row a result bundle was ingested into, if it was."""
        rows = self._rows(
            "SELECT * FROM runs WHERE bundle_id = ?", (_text_value("bundle_id", bundle_id),)
        )
        return run_from(rows[0]) if rows else None

    # -- audit ------------------------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Recompute every hash chain, check triggers, run ids and artifact blobs."""
        with sql_errors(self.paths.db):
            return verify_store(self._conn, self.paths)
