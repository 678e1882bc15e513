"""benchstone.api: the harness as a Python library.

Every `bench` command is one call of this API plus a formatter, so a script and the CLI
never disagree. Configuration errors (project not registered, manifest invalid, unknown
benchmark, no git state) raise; gate outcomes — including "no baseline yet" and "not enough
runs" — come back as :class:`Verdict` objects with the corresponding ``kind``.
"""

from benchstone.api._dispatch import establish_baseline, run
from benchstone.api._errors import ApiError, PromotionRefused
from benchstone.api._evaluate import evaluate, promote
from benchstone.api._history import baseline, baseline_history, history
from benchstone.api._registry import list_projects, register, unregister
from benchstone.api._types import (
    BenchmarkInfo,
    DispatchReport,
    ProjectInfo,
    PromoteReport,
    Verdict,
)
from benchstone.cli._exit_codes import VERDICT_EXIT_CODES, exit_code_for

__all__ = [
    "VERDICT_EXIT_CODES",
    "ApiError",
    "BenchmarkInfo",
    "DispatchReport",
    "ProjectInfo",
    "PromoteReport",
    "PromotionRefused",
    "Verdict",
    "baseline",
    "baseline_history",
    "establish_baseline",
    "evaluate",
    "exit_code_for",
    "history",
    "list_projects",
    "promote",
    "register",
    "run",
    "unregister",
]
