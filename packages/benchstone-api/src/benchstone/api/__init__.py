"""benchstone.api: the harness as a Python library.

Every `bench` command is one call of this API plus a formatter, so a script and the CLI
never disagree. Configuration errors (project not registered, manifest invalid, unknown
benchmark, no git state) raise; gate outcomes — including "no baseline yet" and "not enough
runs" — come back as :class:`Verdict` objects with the corresponding ``kind``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Where each public name lives. Importing benchstone.api loads none of them: `bench` is
# called in tight agent loops, and each command needs only its own corner of the library
# (PEP 562 module __getattr__ loads a name on first use).
_LOCATIONS: dict[str, str] = {
    "doctor": "benchstone.api._doctor",
    "ApiError": "benchstone.api._errors",
    "BackgroundDispatch": "benchstone.api._jobs",
    "BenchmarkInfo": "benchstone.api._types",
    "CorpusImport": "benchstone.api._held_out",
    "Comparison": "benchstone.api._compare_commits",
    "Decision": "benchstone.api._verdicts",
    "CorpusPin": "benchstone.api._corpus",
    "DispatchReport": "benchstone.api._types",
    "Failure": "benchstone.api._failures",
    "JobInfo": "benchstone.api._jobs",
    "ProjectInfo": "benchstone.api._types",
    "PromoteReport": "benchstone.api._verdicts",
    "PromotionRefused": "benchstone.api._errors",
    "ReferenceReport": "benchstone.api._types",
    "ScaffoldReport": "benchstone.api._types",
    "StoreAudit": "benchstone.api._audit",
    "Timeline": "benchstone.api._history",
    "TableAudit": "benchstone.api._audit",
    "VERDICT_EXIT_CODES": "benchstone.api._exit_codes",
    "Verdict": "benchstone.api._verdicts",
    "baseline": "benchstone.api._history",
    "cancel": "benchstone.api._status",
    "baseline_history": "benchstone.api._history",
    "compare_commits": "benchstone.api._compare_commits",
    "establish_baseline": "benchstone.api._dispatch",
    "evaluate": "benchstone.api._evaluate",
    "exit_code_for": "benchstone.api._exit_codes",
    "failures": "benchstone.api._failures",
    "freeze_reference": "benchstone.api._references",
    "history": "benchstone.api._history",
    "import_corpus": "benchstone.api._held_out",
    "init_project": "benchstone.api._scaffold",
    "job": "benchstone.api._jobs",
    "jobs": "benchstone.api._jobs",
    "list_projects": "benchstone.api._registry",
    "lock": "benchstone.api._registry",
    "lock_history": "benchstone.api._registry",
    "mcp_server": "benchstone.api._mcp",
    "pin_corpus": "benchstone.api._corpus",
    "promote": "benchstone.api._evaluate",
    "prune_jobs": "benchstone.api._jobs",
    "reference": "benchstone.api._references",
    "reference_history": "benchstone.api._references",
    "register": "benchstone.api._registry",
    "replace_reference": "benchstone.api._references",
    "run": "benchstone.api._dispatch",
    "serve_mcp": "benchstone.api._mcp",
    "status": "benchstone.api._status",
    "timeline": "benchstone.api._history",
    "unregister": "benchstone.api._registry",
    "verify_corpus": "benchstone.api._corpus",
    "verify_store": "benchstone.api._audit",
}

if TYPE_CHECKING:
    from benchstone.api._audit import StoreAudit, TableAudit, verify_store
    from benchstone.api._compare_commits import Comparison, compare_commits
    from benchstone.api._corpus import CorpusPin, pin_corpus, verify_corpus
    from benchstone.api._dispatch import establish_baseline, run
    from benchstone.api._doctor import doctor
    from benchstone.api._errors import ApiError, PromotionRefused
    from benchstone.api._evaluate import evaluate, promote
    from benchstone.api._exit_codes import VERDICT_EXIT_CODES, exit_code_for
    from benchstone.api._failures import Failure, failures
    from benchstone.api._held_out import CorpusImport, import_corpus
    from benchstone.api._history import Timeline, baseline, baseline_history, history, timeline
    from benchstone.api._jobs import BackgroundDispatch, JobInfo, job, jobs, prune_jobs
    from benchstone.api._mcp import mcp_server, serve_mcp
    from benchstone.api._references import (
        freeze_reference,
        reference,
        reference_history,
        replace_reference,
    )
    from benchstone.api._registry import list_projects, lock, lock_history, register, unregister
    from benchstone.api._scaffold import init_project
    from benchstone.api._status import cancel, status
    from benchstone.api._types import (
        BenchmarkInfo,
        DispatchReport,
        ProjectInfo,
        ReferenceReport,
        ScaffoldReport,
    )
    from benchstone.api._verdicts import Decision, PromoteReport, Verdict

__all__ = [
    "VERDICT_EXIT_CODES",
    "ApiError",
    "BackgroundDispatch",
    "BenchmarkInfo",
    "Comparison",
    "CorpusImport",
    "CorpusPin",
    "Decision",
    "DispatchReport",
    "Failure",
    "JobInfo",
    "ProjectInfo",
    "PromoteReport",
    "PromotionRefused",
    "ReferenceReport",
    "ScaffoldReport",
    "StoreAudit",
    "TableAudit",
    "Timeline",
    "Verdict",
    "baseline",
    "baseline_history",
    "cancel",
    "compare_commits",
    "doctor",
    "establish_baseline",
    "evaluate",
    "exit_code_for",
    "failures",
    "freeze_reference",
    "history",
    "import_corpus",
    "init_project",
    "job",
    "jobs",
    "list_projects",
    "lock",
    "lock_history",
    "mcp_server",
    "pin_corpus",
    "promote",
    "prune_jobs",
    "reference",
    "reference_history",
    "register",
    "replace_reference",
    "run",
    "serve_mcp",
    "status",
    "timeline",
    "unregister",
    "verify_corpus",
    "verify_store",
]


def __getattr__(name: str) -> Any:
    try:
        module = _LOCATIONS[name]
    except KeyError:
        raise AttributeError(f"module 'benchstone.api' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next lookup is a plain attribute read
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LOCATIONS})
