"""benchstone.cli: the `bench` command, a thin layer over :mod:`benchstone.api`.

Importing this package is cheap (no click, no SQLite): scripts can read
``VERDICT_EXIT_CODES`` without paying for the harness.
"""

from __future__ import annotations

from benchstone.api._exit_codes import (
    ERROR_EXIT_CODE,
    EXPECT_MISMATCH_EXIT_CODE,
    UNKNOWN_VERDICT_EXIT_CODE,
    VERDICT_EXIT_CODES,
    exit_code_for,
)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `bench` console script."""
    import sys

    if (sys.argv[1:] if argv is None else argv) == ["--version"]:
        # Agents probe the tool this way; it should cost no more than starting Python.
        from benchstone.cli._version import VERSION

        print(f"bench, version {VERSION}")
        return 0
    from benchstone.cli._app import main as run_app

    return run_app(argv)


__all__ = [
    "ERROR_EXIT_CODE",
    "EXPECT_MISMATCH_EXIT_CODE",
    "UNKNOWN_VERDICT_EXIT_CODE",
    "VERDICT_EXIT_CODES",
    "exit_code_for",
    "main",
]
