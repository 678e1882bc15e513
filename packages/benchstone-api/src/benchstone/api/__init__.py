"""benchstone.api: the harness as a Python library.

Every `bench` command is one call of this API plus a formatter, so a script and the CLI
never disagree. Configuration errors (project not registered, manifest invalid, unknown
benchmark, no git state) raise; gate outcomes — including "no baseline yet" and "not enough
runs" — come back as :class:`Verdict` objects with the corresponding ``kind``.
"""

from benchstone.api._audit import StoreAudit, TableAudit, verify_store
from benchstone.api._corpus import CorpusPin, pin_corpus, verify_corpus
from benchstone.api._dispatch import establish_baseline, run
from benchstone.api._errors import ApiError, PromotionRefused
from benchstone.api._evaluate import evaluate, promote
from benchstone.api._exit_codes import VERDICT_EXIT_CODES, exit_code_for
from benchstone.api._history import baseline, baseline_history, history
from benchstone.api._jobs import BackgroundDispatch, JobInfo, job, jobs
from benchstone.api._references import (
    freeze_reference,
    reference,
    reference_history,
    replace_reference,
)
from benchstone.api._registry import list_projects, register, unregister
from benchstone.api._scaffold import init_project
from benchstone.api._types import (
    BenchmarkInfo,
    DispatchReport,
    ProjectInfo,
    PromoteReport,
    ReferenceReport,
    ScaffoldReport,
    Verdict,
)

__all__ = [
    "VERDICT_EXIT_CODES",
    "ApiError",
    "BackgroundDispatch",
    "BenchmarkInfo",
    "CorpusPin",
    "DispatchReport",
    "JobInfo",
    "ProjectInfo",
    "PromoteReport",
    "PromotionRefused",
    "ReferenceReport",
    "ScaffoldReport",
    "StoreAudit",
    "TableAudit",
    "Verdict",
    "baseline",
    "baseline_history",
    "establish_baseline",
    "evaluate",
    "exit_code_for",
    "freeze_reference",
    "history",
    "init_project",
    "job",
    "jobs",
    "list_projects",
    "pin_corpus",
    "promote",
    "reference",
    "reference_history",
    "register",
    "replace_reference",
    "run",
    "unregister",
    "verify_corpus",
    "verify_store",
]
