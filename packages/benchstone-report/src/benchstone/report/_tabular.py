"""Runs as CSV or JSON lines-free arrays, written row by row for spreadsheets."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import Any, TextIO

from benchstone.store import Run

COLUMNS = list(Run.FIELDS)


def _flat(value: Any) -> Any:
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, sort_keys=True)
    return value


def write_csv(out: TextIO, runs: Iterable[Run]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for run in runs:
        row = run.to_dict()
        writer.writerow([_flat(row[name]) for name in COLUMNS])


def write_json(out: TextIO, runs: Iterable[Run]) -> None:
    """A JSON array, one run object per line, written as the runs come."""
    out.write("[")
    first = True
    for run in runs:
        out.write("\n" if first else ",\n")
        out.write(json.dumps(run.to_dict(), sort_keys=True))
        first = False
    out.write("\n]\n")
