"""The JSON documents the harness reports in: `bench ... --json` and the MCP tools.

One builder per document, called by both front-ends, so a script parsing the CLI's output
and an agent reading a tool result see the same keys. Builders take API results (nothing
here reads the store); :func:`to_json` is the one serialization both print.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchstone.api._jobs import JobInfo
    from benchstone.api._types import DispatchReport, ProjectInfo, Verdict


def to_json(document: Any) -> str:
    """Stable text: sorted keys, indented; values JSON lacks (paths) print as strings."""
    return json.dumps(document, indent=2, sort_keys=True, default=str)


def projects_document(infos: Iterable[ProjectInfo]) -> dict[str, Any]:
    """`bench list --json`."""
    return {"projects": [info.to_dict() for info in infos]}


def dispatch_document(report: DispatchReport) -> dict[str, Any]:
    """`bench run --json`: the dispatch, plus why each repetition failed when all did."""
    document = report.to_dict()
    if report.runs and not report.ok_runs:
        from benchstone.api._failures import failures

        document["failures"] = [failure.to_dict() for failure in failures(report.runs)]
    return document


def verdict_document(verdict: Verdict, *, expect: str | None = None) -> dict[str, Any]:
    """`bench evaluate --json`: the verdict and the kind it was expected to be (or null)."""
    document = verdict.to_dict()
    document["expect"] = expect
    return document


def jobs_document(found: Iterable[JobInfo], *, include_finished: bool) -> dict[str, Any]:
    """`bench status --json`: the jobs listed and whether finished ones were included."""
    return {"all": include_finished, "jobs": [info.to_dict() for info in found]}
