"""`bench mcp`: the harness as a Model Context Protocol server on stdin/stdout."""

from __future__ import annotations

import click

from benchstone.cli._common import command_errors


@click.command()
@command_errors
def mcp() -> int:
    """Serve benchstone's tools to an MCP client over stdio (needs `benchstone[mcp]`).

    Tools: list_projects, run (a background job), job_status, jobs, evaluate, history,
    promote. Nothing that bypasses a guard is exposed; see docs/mcp.md for a client's
    configuration. Stdout carries the protocol, so nothing else is printed there.
    """
    from benchstone import api

    api.serve_mcp()
    return 0
