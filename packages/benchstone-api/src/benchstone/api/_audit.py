"""Auditing the store (`bench verify`): the store's own audit, grouped for reporting.

The audit itself lives in benchstone-store (``ReadOnlyStore.verify``); this module only
decides where to look, refuses to create a store that is not there (an audit that
silently made an empty, valid store would report ``ok`` for a typo in BENCHSTONE_HOME),
and attributes each problem to the table it names so a summary can say which chains hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchstone.api._errors import ApiError
from benchstone.store import ReadOnlyStore, StorePaths, VerifyReport, home_dir

COUNT_KEYS = ("triggers", "blobs")


@dataclass(frozen=True)
class TableAudit:
    """One hash-chained table: how many rows it holds, its head, the problems it has."""

    name: str
    rows: int
    head: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rows": self.rows,
            "head": self.head,
            "ok": self.ok,
            "problems": list(self.problems),
        }


@dataclass(frozen=True)
class StoreAudit:
    """The store's ``VerifyReport`` plus where it was taken and a per-table breakdown."""

    home: str
    db: str
    report: VerifyReport
    tables: tuple[TableAudit, ...]

    @property
    def ok(self) -> bool:
        return self.report.ok

    @property
    def problems(self) -> list[str]:
        return list(self.report.problems)

    @property
    def triggers(self) -> int:
        return self.report.counts.get("triggers", 0)

    @property
    def blobs(self) -> int:
        return self.report.counts.get("blobs", 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "home": self.home,
            "db": self.db,
            "counts": dict(self.report.counts),
            "heads": dict(self.report.heads),
            "problems": self.problems,
            "tables": [table.to_dict() for table in self.tables],
        }


def verify_store(home: Path | str | None = None) -> StoreAudit:
    """Audit the store under ``home`` (default ``$BENCHSTONE_HOME``) through a read-only handle.

    Read-only on purpose: an audit must not migrate, create or lock what it inspects, and
    it can run while other bench processes append.
    """
    paths = StorePaths(home_dir() if home is None else Path(home).expanduser().absolute())
    if not paths.db.is_file():
        raise ApiError(
            f"no benchstone store at {paths.db}; nothing to verify (point BENCHSTONE_HOME at "
            "the folder that holds benchstone.db)"
        )
    with ReadOnlyStore.open(paths.home) as store:
        report = store.verify()
    return StoreAudit(
        home=str(paths.home),
        db=str(paths.db),
        report=report,
        tables=_tables(report),
    )


def _tables(report: VerifyReport) -> tuple[TableAudit, ...]:
    """Tables in the report's order; a problem belongs to the table its line starts with."""
    names = [name for name in report.counts if name not in COUNT_KEYS]
    return tuple(
        TableAudit(
            name=name,
            rows=report.counts[name],
            head=report.heads.get(name, ""),
            problems=tuple(
                line for line in report.problems if line.startswith((f"{name} ", f"{name}:"))
            ),
        )
        for name in names
    )
