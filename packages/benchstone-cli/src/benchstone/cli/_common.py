"""What every `bench` command shares: error handling, JSON output, warnings.

Command modules import from here (never from ``_app``) so that each command family can
live in its own module without import cycles. The writing itself is ``_output``'s, which
the click-free path of ``bench evaluate`` uses too; this adds the click parts.
"""

from __future__ import annotations

import click

from benchstone.cli._output import (
    BROKEN_PIPE_EXIT_CODE,
    CommandFailed,
    command_errors,
    echo_lines,
    emit_json,
    error_line,
    warn,
)

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")

__all__ = [
    "BROKEN_PIPE_EXIT_CODE",
    "CommandFailed",
    "command_errors",
    "echo_lines",
    "emit_json",
    "error_line",
    "json_option",
    "warn",
]
