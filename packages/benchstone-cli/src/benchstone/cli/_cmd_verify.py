"""`bench verify`: audit the store (hash chains, triggers, run ids, artifact blobs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from benchstone.cli._common import command_errors, echo_lines, emit_json, json_option

if TYPE_CHECKING:
    from benchstone.api import StoreAudit

FAILED_EXIT_CODE = 1


@click.command()
@json_option
@command_errors
def verify(as_json: bool) -> int:
    """Audit the store: exit 0 when every chain, trigger and blob checks out, else 1.

    Opens the store read-only, so it is safe while other bench commands run. Record the
    printed heads somewhere else (a CI log): a later rewrite of history will not match.
    """
    from benchstone import api

    audit = api.verify_store()
    code = 0 if audit.ok else FAILED_EXIT_CODE
    if as_json:
        emit_json(audit.to_dict())
    else:
        echo_lines(audit_lines(audit))
    return code


def audit_lines(audit: StoreAudit) -> list[str]:
    """Summary per table, triggers and blobs; then each problem and the final word."""
    width = max([len(table.name) for table in audit.tables] + [len("triggers")])
    lines = [f"store: {audit.db}"]
    for table in audit.tables:
        state = "chain ok" if table.ok else _count(len(table.problems), "problem")
        lines.append(
            f"  {table.name:<{width}}  {table.rows:>9} row(s)  {state:<12}  head={table.head}"
        )
    lines.append(f"  {'triggers':<{width}}  {audit.triggers:>9} intact")
    lines.append(f"  {'blobs':<{width}}  {audit.blobs:>9} checked")
    if audit.ok:
        lines.append("verify: ok")
        return lines
    lines.extend(f"problem: {problem}" for problem in audit.problems)
    lines.append(f"verify: FAILED ({_count(len(audit.problems), 'problem')})")
    return lines


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
