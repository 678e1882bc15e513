"""What `bench evaluate` does once its arguments are parsed: one API call, then the verdict
as text or JSON and the exit code that encodes it.

Click-free: the click command (``_app.evaluate``) and the click-free path (``_fast``)
both call :func:`evaluate_command`, so the two cannot answer differently.
"""

from __future__ import annotations

from benchstone.api._exit_codes import EXPECT_MISMATCH_EXIT_CODE, exit_code_for
from benchstone.cli import _format as fmt
from benchstone.cli._output import CommandFailed, command_errors, echo, echo_lines, emit_json, warn


@command_errors
def evaluate_command(
    project: str,
    benchmark: str,
    expect: str | None,
    warn_only: bool,
    allow_dirty: bool,
    as_json: bool,
) -> int:
    """Verdict for the current SHA against the baseline; the exit code encodes it."""
    from benchstone import api
    from benchstone.api._documents import verdict_document

    if warn_only and expect is not None:
        raise CommandFailed(
            "--warn-only and --expect contradict each other: --expect makes the verdict an "
            "assertion, --warn-only lets a REJECT pass; use one of them"
        )
    verdict = api.evaluate(project, benchmark, allow_dirty=allow_dirty)
    if as_json:
        emit_json(verdict_document(verdict, expect=expect))
    else:
        echo_lines(fmt.verdict_lines(verdict))
    if warn_only and verdict.kind == "REJECT":
        warn(f"{project}/{benchmark} is REJECT; exiting 0 because of --warn-only")
        return 0
    if expect is None:
        return exit_code_for(verdict.kind)
    # --expect is an assertion: the verdict's own exit code no longer matters.
    if verdict.kind == expect:
        return 0
    if not as_json:
        echo(f"expected {expect}, got {verdict.kind}", err=True)
    return EXPECT_MISMATCH_EXIT_CODE
