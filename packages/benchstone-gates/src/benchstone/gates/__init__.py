"""Calibrated statistical gates: PROMOTE / REJECT / NEEDS_MORE_DATA for benchmark runs.

Pure functions of numbers, no I/O and no dependencies beyond the standard library: the
Student-t, normal and exact Mann-Whitney distributions are computed here.
"""

from ._artifact import check_artifact
from ._compare import compare
from ._errors import GateError
from ._options import DIRECTIONS, POLICIES
from ._rules import check_parameters
from ._sequential import SequentialPlan, compare_stage, sequential_plan
from ._summary import Summary
from ._verdict import VERDICT_KINDS, Verdict

__all__ = [
    "DIRECTIONS",
    "POLICIES",
    "VERDICT_KINDS",
    "GateError",
    "SequentialPlan",
    "Summary",
    "Verdict",
    "check_artifact",
    "check_parameters",
    "compare",
    "compare_stage",
    "sequential_plan",
]
