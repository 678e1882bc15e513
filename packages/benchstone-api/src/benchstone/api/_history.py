"""Reading the timeline: runs and the baseline pointer that marks some of them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from benchstone.store import BaselineEvent, Run, Store, validate_name


def history(
    project: str,
    benchmark: str,
    *,
    since: str | datetime | None = None,
    git_sha: str | None = None,
    limit: int | None = None,
    home: Path | None = None,
) -> list[Run]:
    """Runs of one benchmark, newest first (read-only; works for unregistered projects)."""
    validate_name("project", project)
    validate_name("benchmark", benchmark)
    with Store.open(home) as store:
        return store.runs(project, benchmark, since=since, git_sha=git_sha, limit=limit)


def baseline(project: str, benchmark: str, *, home: Path | None = None) -> BaselineEvent | None:
    """The active baseline pointer (the latest pointer event), or None."""
    with Store.open(home) as store:
        return store.baseline(project, benchmark)


def baseline_history(
    project: str, benchmark: str, *, home: Path | None = None
) -> list[BaselineEvent]:
    """Every pointer event, oldest first: establishments, promotions, forced moves."""
    with Store.open(home) as store:
        return store.baseline_history(project, benchmark)
