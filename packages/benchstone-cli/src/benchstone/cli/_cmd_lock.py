"""`bench lock PROJECT --reason "..."` and `bench lock PROJECT --history`."""

from __future__ import annotations

import click

from benchstone.cli._common import CommandFailed, command_errors, emit_json, json_option


def _event_line(event) -> str:
    reason = f" — {event.reason}" if event.reason else ""
    files = len(event.files)
    return (
        f"lock {event.id}  {event.created_at}  {event.action:<8}  {files} file(s)  "
        f"procedure {event.procedure_digest[7:19]}  judgement {event.judgement_digest[7:19]}"
        f"{reason}"
    )


@click.command(name="lock")
@click.argument("project")
@click.option(
    "--reason",
    default=None,
    help="Why the evaluator changed (required to lock; kept in the lock history).",
)
@click.option("--history", is_flag=True, help="Show the append-only lock history instead.")
@json_option
@command_errors
def lock(project: str, reason: str | None, history: bool, as_json: bool) -> int:
    """Accept the working copy's evaluator (bench/ and the manifest) as the new lock."""
    from benchstone import api

    if history:
        if reason is not None:
            raise CommandFailed("--history lists locks; it does not take --reason")
        events = api.lock_history(project)
        if as_json:
            emit_json([e.to_dict() for e in events])
            return 0
        for event in events:
            click.echo(_event_line(event))
        return 0
    if reason is None:
        raise CommandFailed(
            f'--reason is required: `bench lock {project} --reason "why the evaluator changed"`'
        )
    event = api.lock(project, reason=reason)
    if as_json:
        emit_json(event.to_dict())
        return 0
    click.echo(_event_line(event))
    return 0
