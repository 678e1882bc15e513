"""`bench freeze-reference`, `bench replace-reference` and `bench reference-history`."""

from __future__ import annotations

import click

from benchstone.cli import _format as fmt
from benchstone.cli._common import (
    CommandFailed,
    command_errors,
    echo_lines,
    emit_json,
    json_option,
    warn,
)

_FROM_RUN_HELP = (
    "Take the artifact of this run (default: the latest ok run at the current HEAD, "
    "made on a clean tree)."
)


def _warn_dirty(report) -> None:
    if report.run.git_dirty:
        warn(
            f"run {report.run.id} was made on a dirty tree; its diff is {report.run.diff_path} "
            "(the reference bytes do not come from a commit)"
        )


@click.command(name="freeze-reference")
@click.argument("project")
@click.argument("benchmark")
@click.option("--from-run", "from_run", type=int, default=None, metavar="ID", help=_FROM_RUN_HELP)
@click.option("--notes", default=None, help="Free text stored with the reference event.")
@json_option
@command_errors
def freeze_reference(
    project: str, benchmark: str, from_run: int | None, notes: str | None, as_json: bool
) -> int:
    """Freeze the output of a correctness benchmark's run as its reference (once)."""
    from benchstone import api

    report = api.freeze_reference(project, benchmark, from_run=from_run, notes=notes)
    if as_json:
        emit_json(report.to_dict())
        return 0
    _warn_dirty(report)
    click.echo(fmt.reference_frozen(report))
    return 0


@click.command(name="replace-reference")
@click.argument("project")
@click.argument("benchmark")
@click.option(
    "--reason",
    default=None,
    help="Why the expected output changed (required; kept in the reference history).",
)
@click.option("--from-run", "from_run", type=int, default=None, metavar="ID", help=_FROM_RUN_HELP)
@click.option("--notes", default=None, help="Free text stored with the reference event.")
@json_option
@command_errors
def replace_reference(
    project: str,
    benchmark: str,
    reason: str | None,
    from_run: int | None,
    notes: str | None,
    as_json: bool,
) -> int:
    """Replace a frozen reference with a run's output; --reason is mandatory."""
    from benchstone import api

    if reason is None or not reason.strip():
        raise CommandFailed(
            f"replace-reference {project} {benchmark} needs --reason "
            '"why the expected output changed" (it is kept in the reference history)'
        )
    report = api.replace_reference(
        project, benchmark, reason=reason, from_run=from_run, notes=notes
    )
    if as_json:
        emit_json(report.to_dict())
        return 0
    _warn_dirty(report)
    click.echo(fmt.reference_replaced(report))
    return 0


@click.command(name="reference-history")
@click.argument("project")
@click.argument("benchmark")
@json_option
@command_errors
def reference_history(project: str, benchmark: str, as_json: bool) -> int:
    """Every freeze and replacement of a benchmark's reference, with its reason."""
    from benchstone import api
    from benchstone.api._types import reference_to_dict

    events = api.reference_history(project, benchmark)
    if as_json:
        emit_json(
            {
                "project": project,
                "benchmark": benchmark,
                "current": reference_to_dict(events[-1] if events else None),
                "events": [reference_to_dict(event) for event in events],
            }
        )
        return 0
    echo_lines(fmt.reference_history_lines(project, benchmark, events))
    return 0
