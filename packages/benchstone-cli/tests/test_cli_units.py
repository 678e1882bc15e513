"""Pieces of the CLI that need no project: exit codes, formatting, error handling."""

from __future__ import annotations

from benchstone.cli import ERROR_EXIT_CODE, VERDICT_EXIT_CODES, exit_code_for, main
from benchstone.cli import _format as fmt


def test_exit_code_table_matches_spec():
    assert {k: v for k, v in VERDICT_EXIT_CODES.items() if v == 0} == {"PROMOTE": 0, "PASS": 0}
    assert {k for k, v in VERDICT_EXIT_CODES.items() if v == 1} == {"REJECT", "FAIL"}
    assert {k for k, v in VERDICT_EXIT_CODES.items() if v == 2} == {
        "NEEDS_MORE_DATA",
        "NO_BASELINE",
        "NO_REFERENCE",
    }
    assert exit_code_for("STALE") == 5
    assert exit_code_for("WHATEVER") == 3
    assert ERROR_EXIT_CODE not in VERDICT_EXIT_CODES.values()


def test_dispatch_header_is_spec_shaped():
    assert fmt.dispatch_header(5, "a1b2c3d4ef0123", False, None) == (
        "dispatched 5 run(s)  git_sha=a1b2c3d4ef  dirty=False  meta_seed=None"
    )


def test_usage_errors_are_one_line_and_exit_10(capsys, home):
    assert main(["evaluate"]) == ERROR_EXIT_CODE
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and err.count("\n") == 1
    assert main(["no-such-command"]) == ERROR_EXIT_CODE


def test_help_exits_zero(capsys):
    assert main(["--help"]) == 0
    assert "PROMOTE" in capsys.readouterr().out
