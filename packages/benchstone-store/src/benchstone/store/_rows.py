"""Conversion between Python values and the exact values SQLite stores.

The row hash is computed in Python before the INSERT and recomputed by verify from what
SQLite hands back, so every value is normalised here to the form SQLite will return:
an int bound to a REAL column comes back as a float, -0.0 comes back as 0.0, a bool as
0/1. Getting this wrong would make honest rows fail verification.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from ._canonical import canonical_json
from ._errors import StoreError
from ._models import (
    BaselineEvent,
    CorpusEvent,
    Evaluation,
    LockEvent,
    ReferenceEvent,
    Registration,
    Run,
)
from ._schema import COLUMNS, OPTIONAL, Kind

RowLike = Mapping[str, Any] | sqlite3.Row

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


def to_db(where: str, column: str, kind: Kind, value: Any) -> Any:
    """The stored form of ``value`` for a column, or StoreError naming the column."""
    if value is None and kind != "ids":
        return canonical_json({}) if kind == "json" else None
    if kind == "text":
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        if not isinstance(value, str):
            raise StoreError(
                f"{where}: {column} must be a string, got {type(value).__name__} {value!r}"
            )
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise StoreError(f"{where}: {column} is not valid Unicode text") from None
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise StoreError(
                f"{where}: {column} must be an integer, got {type(value).__name__} {value!r}"
            )
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise StoreError(f"{where}: {column}={value} does not fit in a signed 64-bit integer")
        return value
    if kind == "real":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise StoreError(
                f"{where}: {column} must be a number, got {type(value).__name__} {value!r}"
            )
        number = float(value)
        if math.isnan(number):
            # SQLite stores NaN as NULL, which would silently change the value.
            raise StoreError(f"{where}: {column} is NaN; pass None for 'no value'")
        return number + 0.0  # -0.0 -> 0.0, as SQLite returns it; +-inf round-trip
    if kind == "bool":
        if isinstance(value, bool) or value in (0, 1):
            return int(value)
        raise StoreError(f"{where}: {column} must be true or false, got {value!r}")
    if kind == "json":
        if not isinstance(value, Mapping):
            raise StoreError(f"{where}: {column} must be a mapping, got {type(value).__name__}")
        try:
            # Through plain JSON first: non-string keys become strings (as they would in
            # any JSON file) before sorting, so {3: ..., "a": ...} is storable.
            plain = json.loads(json.dumps(dict(value)))
        except (TypeError, ValueError) as exc:
            raise StoreError(f"{where}: {column} is not storable as JSON: {exc}") from None
        return canonical_json(plain)
    return canonical_json(list(ids_tuple(where, column, value)))


def ids_tuple(where: str, column: str, value: Any) -> tuple[int, ...]:
    """Sorted, duplicate-free positive row ids; a duplicate is a caller bug, not noise."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise StoreError(f"{where}: {column} must be a sequence of run ids, got {value!r}")
    ids = list(value)
    for item in ids:
        if isinstance(item, bool) or not isinstance(item, int) or item < 1:
            raise StoreError(f"{where}: {column} contains {item!r}, not a positive run id")
    unique = sorted(set(ids))
    if len(unique) != len(ids):
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        raise StoreError(f"{where}: {column} lists run id(s) {dupes} more than once")
    return tuple(unique)


def content_from(table: str, where: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Stored content columns of ``table`` from a mapping of Python values.

    An optional (later-added) column left at None stays NULL, whatever its kind, so the
    row hashes as it would have before the column existed.
    """
    optional = OPTIONAL.get(table, frozenset())
    return {
        column: (
            None
            if column in optional and values.get(column) is None
            else to_db(where, column, kind, values.get(column))
        )
        for column, kind in COLUMNS[table]
    }


def chained(table: str, content: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a row's stored content that its row_hash covers.

    Every column, except an optional (later-added) column that is NULL: rows written
    before a migration added it keep verifying, and a row that has a value commits to it.
    """
    optional = OPTIONAL.get(table, frozenset())
    return {
        column: value
        for column, value in content.items()
        if not (column in optional and value is None)
    }


def _decoded(table: str, row: RowLike) -> dict[str, Any]:
    out: dict[str, Any] = {"id": row["id"], "row_hash": row["row_hash"]}
    for column, kind in COLUMNS[table]:
        value = row[column]
        if value is None and kind == "json":
            value = {}
        elif kind == "bool":
            value = bool(value)
        elif kind == "json":
            value = json.loads(value)
        elif kind == "ids":
            value = tuple(json.loads(value))
        out[column] = value
    return out


def registration_from(row: RowLike) -> Registration:
    return Registration(**_decoded("registrations", row))


def run_from(row: RowLike) -> Run:
    return Run(**_decoded("runs", row))


def baseline_event_from(row: RowLike) -> BaselineEvent:
    return BaselineEvent(**_decoded("baseline_events", row))


def reference_event_from(row: RowLike) -> ReferenceEvent:
    return ReferenceEvent(**_decoded("reference_events", row))


def evaluation_from(row: RowLike) -> Evaluation:
    return Evaluation(**_decoded("evaluations", row))


def lock_event_from(row: RowLike) -> LockEvent:
    return LockEvent(**_decoded("lock_events", row))


def corpus_event_from(row: RowLike) -> CorpusEvent:
    return CorpusEvent(**_decoded("corpus_events", row))
