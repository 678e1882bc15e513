"""The one exception type of benchstone.gates."""

from __future__ import annotations


class GateError(Exception):
    """Bad arguments to a gate: the caller, not the data, is wrong.

    Gate *outcomes* (not enough runs, no baseline, ...) are verdicts, never exceptions,
    so a script can branch on ``Verdict.kind`` without a try block.
    """
