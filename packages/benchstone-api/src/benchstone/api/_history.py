"""Reading the timeline: runs and the baseline pointer that marks some of them."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from benchstone.api._errors import ApiError
from benchstone.api._row_dicts import baseline_to_dict, run_to_dict
from benchstone.api._values import timeline_value
from benchstone.runner import RunnerError, load_manifest
from benchstone.store import BaselineEvent, Run, Store, validate_name


@dataclass(frozen=True)
class Timeline:
    """One benchmark's runs (newest first), its baseline pointer, and the value each run
    gates on under the manifest's current ``metric_source`` (the row's own source when
    the project is no longer registered)."""

    project: str
    benchmark: str
    runs: tuple[Run, ...]
    baseline: BaselineEvent | None
    metric_source: str | None
    values: tuple[float | None, ...]

    def to_dict(self) -> dict[str, Any]:
        active = set(self.baseline.run_ids) if self.baseline else set()
        return {
            "project": self.project,
            "benchmark": self.benchmark,
            "metric_source": self.metric_source,
            "baseline": baseline_to_dict(self.baseline),
            "runs": [
                dict(run_to_dict(run), in_baseline=run.id in active, gated_value=value)
                for run, value in zip(self.runs, self.values, strict=True)
            ],
        }


def history(
    project: str,
    benchmark: str,
    *,
    since: str | datetime | None = None,
    git_sha: str | None = None,
    limit: int | None = None,
    home: Path | None = None,
) -> list[Run]:
    """Runs of one benchmark, newest first (read-only).

    An unknown project or benchmark raises ApiError (SPEC: configuration errors raise); a
    project that was unregistered still shows the runs it left in the store.
    """
    found = timeline(project, benchmark, since=since, git_sha=git_sha, limit=limit, home=home)
    return list(found.runs)


def timeline(
    project: str,
    benchmark: str,
    *,
    since: str | datetime | None = None,
    git_sha: str | None = None,
    limit: int | None = None,
    home: Path | None = None,
) -> Timeline:
    """`bench history` in one call: the runs, the pointer and the gated values."""
    if limit is not None and limit < 1:
        raise ApiError(f"limit must be at least 1 (the newest runs to show), got {limit}")
    validate_name("project", project)
    validate_name("benchmark", benchmark)
    with Store.open(home) as store:
        source = _known_benchmark(store, project, benchmark)
        runs = tuple(store.runs(project, benchmark, since=since, git_sha=git_sha, limit=limit))
        pointer = store.baseline(project, benchmark)
    values = tuple(timeline_value(r, source or r.metric_source or "reported") for r in runs)
    return Timeline(project, benchmark, runs, pointer, source, values)


def _known_benchmark(store: Store, project: str, benchmark: str) -> str | None:
    """The benchmark's current metric_source, or None when only stored rows know it.

    Raises when neither the registered manifest nor the store has heard of it.
    """
    stored = store.benchmarks(project)
    registration = store.project(project)
    if registration is None and not stored:
        known = sorted({r.name for r in store.projects()})
        hint = difflib.get_close_matches(project, known, n=1)
        did_you_mean = f" (did you mean '{hint[0]}'?)" if hint else ""
        raise ApiError(
            f"project '{project}' is not registered and has no stored runs{did_you_mean}; "
            "`bench list` shows the registered projects"
        )
    declared: dict[str, str] = {}
    if registration is not None:
        try:
            manifest = load_manifest(Path(registration.path))
        except RunnerError:
            manifest = None  # the history is still readable; the rows say their source
        if manifest is not None:
            declared = {spec.name: spec.metric_source for spec in manifest.benchmarks}
    if benchmark in declared:
        return declared[benchmark]
    if benchmark in stored:
        return None
    names = sorted({*declared, *stored})
    hint = difflib.get_close_matches(benchmark, names, n=1)
    known = f"did you mean '{hint[0]}'?" if hint else "it has " + (", ".join(names) or "none")
    raise ApiError(f"project '{project}' has no benchmark '{benchmark}'; {known}")


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
