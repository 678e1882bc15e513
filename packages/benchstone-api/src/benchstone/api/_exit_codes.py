"""Exit codes: the contract between `bench evaluate` and the script that called it.

Kept free of imports so ``benchstone.cli.VERDICT_EXIT_CODES`` costs nothing to read.
"""

from __future__ import annotations

# SPEC "Consumer wiring": 0 PROMOTE/PASS, 1 REJECT/FAIL, 2 NEEDS_MORE_DATA/NO_BASELINE/
# NO_REFERENCE, 3 unknown kind, 4 --expect mismatch; DESIGN adds 5 for STALE.
VERDICT_EXIT_CODES: dict[str, int] = {
    "PROMOTE": 0,
    "PASS": 0,
    "REJECT": 1,
    "FAIL": 1,
    "NEEDS_MORE_DATA": 2,
    "NO_BASELINE": 2,
    "NO_REFERENCE": 2,
    "STALE": 5,
}
UNKNOWN_VERDICT_EXIT_CODE = 3
EXPECT_MISMATCH_EXIT_CODE = 4
# Any `Error: ...` (bad input, refused operation, harness failure): distinct from every
# verdict code so a loop never mistakes a broken setup for "needs more data".
ERROR_EXIT_CODE = 10


def exit_code_for(kind: str) -> int:
    """The exit code for a verdict kind; unknown kinds get the defensive fallback 3."""
    return VERDICT_EXIT_CODES.get(kind, UNKNOWN_VERDICT_EXIT_CODE)
