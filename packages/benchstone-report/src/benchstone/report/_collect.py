"""Gather what one report shows, per benchmark, from a read-only store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from benchstone.store import BaselineEvent, Evaluation, ReadOnlyStore, Run, StoreError

from ._errors import ReportError


@dataclass(frozen=True)
class BenchmarkData:
    """Runs (oldest first), baseline moves and verdicts of one benchmark."""

    project: str
    benchmark: str
    runs: list[Run]
    baselines: list[BaselineEvent]
    evaluations: list[Evaluation]


def open_store(home: Path | str | None) -> ReadOnlyStore:
    try:
        return ReadOnlyStore.open(home)
    except StoreError as exc:
        raise ReportError(str(exc)) from exc


def selected(
    store: ReadOnlyStore, project: str | None, benchmark: str | None
) -> list[tuple[str, str]]:
    """The (project, benchmark) pairs a report covers, sorted; refuses unknown names."""
    try:
        projects = [reg.name for reg in store.projects()]
        if project is not None:
            if project not in projects:
                known = ", ".join(projects) or "none"
                raise ReportError(f"project {project!r} is not registered (registered: {known})")
            projects = [project]
        pairs = [(p, b) for p in projects for b in store.benchmarks(p)]
    except StoreError as exc:
        raise ReportError(str(exc)) from exc
    if benchmark is not None:
        pairs = [pair for pair in pairs if pair[1] == benchmark]
        if not pairs:
            raise ReportError(f"benchmark {benchmark!r} has no runs in the selected project(s)")
    return pairs


def benchmark_data(
    store: ReadOnlyStore, project: str, benchmark: str, limit: int | None
) -> BenchmarkData:
    """The newest ``limit`` runs (all when None) of one benchmark, oldest first.

    Warmup rows are left out here, once, so no chart point, trend or count of a report
    shows a number the gate never reads (the CSV and JSON exports keep every row, with
    its ``warmup`` column).
    """
    try:
        runs = [run for run in store.runs(project, benchmark, limit=limit) if not run.warmup]
        runs.reverse()
        return BenchmarkData(
            project,
            benchmark,
            runs,
            store.baseline_history(project, benchmark),
            store.evaluations(project, benchmark),
        )
    except StoreError as exc:
        raise ReportError(str(exc)) from exc


def commit_order(runs: list[Run]) -> list[str]:
    """Commits in the order their first run appears: the x axis of every trend."""
    order: dict[str, None] = {}
    for run in runs:
        order.setdefault(run.git_sha, None)
    return list(order)
