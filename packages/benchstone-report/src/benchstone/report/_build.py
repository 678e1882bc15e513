"""The entry points: pick the benchmarks, then hand them to one format's writer."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from benchstone.store import ReadOnlyStore, Run, StoreError

from ._collect import BenchmarkData, benchmark_data, open_store, selected
from ._errors import ReportError
from ._html import write_html
from ._markdown import write_markdown
from ._tabular import write_csv, write_json

FORMATS = ("markdown", "html", "csv", "json")
DEFAULT_LIMIT = 500


def _check(fmt: str, limit: int | None) -> None:
    if fmt not in FORMATS:
        raise ReportError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ReportError(f"limit must be a positive integer or None, got {limit!r}")


def _runs(store: ReadOnlyStore, pairs: list[tuple[str, str]], limit: int | None) -> Iterator[Run]:
    for project, benchmark in pairs:
        try:
            runs = store.runs(project, benchmark, limit=limit)
        except StoreError as exc:
            raise ReportError(str(exc)) from exc
        yield from reversed(runs)


def write_report(
    out: TextIO,
    home: Path | str | None = None,
    *,
    project: str | None = None,
    benchmark: str | None = None,
    fmt: str = "markdown",
    limit: int | None = DEFAULT_LIMIT,
) -> None:
    """Write a report of the store at ``home`` to ``out``, benchmark by benchmark.

    ``limit`` bounds the runs read per benchmark (the newest ones; None for all), so a
    long history costs bounded memory. Raises ReportError on bad input.
    """
    _check(fmt, limit)
    with open_store(home) as store:
        pairs = selected(store, project, benchmark)
        if fmt == "csv":
            write_csv(out, _runs(store, pairs, limit))
            return
        if fmt == "json":
            write_json(out, _runs(store, pairs, limit))
            return
        datas: Iterator[BenchmarkData] = (benchmark_data(store, p, b, limit) for p, b in pairs)
        if fmt == "markdown":
            write_markdown(out, datas, points=20)
        else:
            write_html(out, datas, verdicts=20)


def build_report(
    home: Path | str | None = None,
    *,
    project: str | None = None,
    benchmark: str | None = None,
    fmt: str = "markdown",
    limit: int | None = DEFAULT_LIMIT,
) -> str:
    """The report as a string; see ``write_report`` for the arguments."""
    buffer = io.StringIO()
    write_report(buffer, home, project=project, benchmark=benchmark, fmt=fmt, limit=limit)
    return buffer.getvalue()
