"""benchstone.cli: the `bench` command, a thin layer over :mod:`benchstone.api`.

Importing this package is cheap (no click, no SQLite): scripts can read
``VERDICT_EXIT_CODES`` without paying for the harness. ``main`` answers `bench --version`
and the plain forms of `bench evaluate` without click (``_fast``); the rest is click's.
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

    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:
        # Agents probe the tool this way; it should cost no more than starting Python.
        from benchstone.cli._version import VERSION

        print(f"bench, version {VERSION}")
        return 0
    if argv is None:
        # The `bench` process itself: read its BENCHSTONE_* settings, then take them out of
        # its environment, so nothing it starts (git, a build) learns where the store is.
        from benchstone.store import seal_settings

        seal_settings()
    # The plain `bench evaluate P B ...` of agent loops needs no click (see _fast).
    from benchstone.cli._fast import fast_main

    code = fast_main(args, console=argv is None)
    if code is not None:
        return code
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
