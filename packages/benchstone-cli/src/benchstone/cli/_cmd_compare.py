"""`bench compare PROJECT BENCHMARK REV_A REV_B`: two commits side by side, one verdict."""

from __future__ import annotations

import click

from benchstone.api._exit_codes import exit_code_for
from benchstone.cli import _format as fmt
from benchstone.cli._common import CommandFailed, command_errors, echo_lines, emit_json, json_option


@click.command(name="compare")
@click.argument("project")
@click.argument("benchmark")
@click.argument("rev_a")
@click.argument("rev_b")
@click.option(
    "--repetitions",
    "count",
    type=int,
    default=None,
    metavar="N",
    help="Pairs to run (default: the manifest's repetitions).",
)
@json_option
@command_errors
def compare(
    project: str, benchmark: str, rev_a: str, rev_b: str, count: int | None, as_json: bool
) -> int:
    """Measure REV_A and REV_B side by side and judge REV_B against REV_A.

    Both commits run in temporary worktrees with the locked evaluator, in pairs of random
    order; the verdict is evaluate's, and so is the exit code. No baseline pointer moves.
    """
    from benchstone import api
    from benchstone.cli._app import _dispatch_callbacks

    if count is not None and count < 1:
        raise CommandFailed(f"--repetitions must be at least 1, got {count}")
    callbacks = _dispatch_callbacks(as_json)
    result = api.compare_commits(
        project,
        benchmark,
        rev_a,
        rev_b,
        n=count,
        on_plan=callbacks.get("on_plan"),
        on_run=callbacks.get("on_run"),
    )
    if as_json:
        emit_json(result.to_dict())
    else:
        click.echo(
            f"compared {fmt.short_sha(result.candidate_sha)} (REV_B) against "
            f"{fmt.short_sha(result.baseline_sha)} (REV_A): {result.pairs} pair(s) in window "
            f"{result.window}"
        )
        echo_lines(fmt.verdict_lines(result.verdict))
    return exit_code_for(result.verdict.kind)
