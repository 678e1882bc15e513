"""Calibrated statistical gates: PROMOTE / REJECT / NEEDS_MORE_DATA for benchmark runs.

Pure functions of numbers, no I/O and no dependencies beyond the standard library: the
Student-t, normal and exact Mann-Whitney distributions are computed here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Where each public name lives; a name is imported on first use (PEP 562), as in
# benchstone.api and benchstone.runner: loading a manifest checks parameters with the
# small rules module and need not build every statistical test (`bench history`).
_LOCATIONS: dict[str, str] = {
    "DIRECTIONS": "benchstone.gates._options",
    "POLICIES": "benchstone.gates._options",
    "VERDICT_KINDS": "benchstone.gates._verdict",
    "GateError": "benchstone.gates._errors",
    "SequentialPlan": "benchstone.gates._sequential",
    "Summary": "benchstone.gates._summary",
    "Verdict": "benchstone.gates._verdict",
    "check_artifact": "benchstone.gates._artifact",
    "check_parameters": "benchstone.gates._rules",
    "compare": "benchstone.gates._compare",
    "compare_stage": "benchstone.gates._sequential",
    "sequential_plan": "benchstone.gates._sequential",
}

if TYPE_CHECKING:
    from benchstone.gates._artifact import check_artifact
    from benchstone.gates._compare import compare
    from benchstone.gates._errors import GateError
    from benchstone.gates._options import DIRECTIONS, POLICIES
    from benchstone.gates._rules import check_parameters
    from benchstone.gates._sequential import SequentialPlan, compare_stage, sequential_plan
    from benchstone.gates._summary import Summary
    from benchstone.gates._verdict import VERDICT_KINDS, Verdict

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


def __getattr__(name: str) -> Any:
    try:
        module = _LOCATIONS[name]
    except KeyError:
        raise AttributeError(f"module 'benchstone.gates' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LOCATIONS})
