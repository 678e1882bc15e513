"""The `bench` command: click definitions, each one call into :mod:`benchstone.api`.

Conventions: results on stdout, `warning:` and `Error:` lines on stderr; every error is one
`Error: ...` line and exit code 10 (never a traceback); `--json` prints exactly one JSON
document on stdout instead of the text lines, with the same exit code.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from benchstone.api._exit_codes import (
    ERROR_EXIT_CODE,
    VERDICT_EXIT_CODES,
    exit_code_for,
)
from benchstone.cli import _format as fmt
from benchstone.cli._common import (
    CommandFailed,
    command_errors,
    echo_lines,
    emit_json,
    error_line,
    json_option,
    warn,
)
from benchstone.cli._lazy import LazyGroup
from benchstone.cli._signals import handle_termination, interrupted
from benchstone.cli._version import VERSION

KNOWN_KINDS = sorted(VERDICT_EXIT_CODES)

# Commands that live in their own modules: name -> "module:attribute", imported only when
# that command runs (or `bench --help` lists them), so `bench evaluate` pays for none of
# them. Adding such a command is one line here.
LAZY_COMMANDS: dict[str, str] = {
    "cancel": "benchstone.cli._cmd_status:cancel",
    "compare": "benchstone.cli._cmd_compare:compare",
    "corpus": "benchstone.cli._cmd_corpus:corpus",
    "doctor": "benchstone.cli._cmd_doctor:doctor",
    "freeze-reference": "benchstone.cli._cmd_references:freeze_reference",
    "init": "benchstone.cli._cmd_init:init",
    "lock": "benchstone.cli._cmd_lock:lock",
    "mcp": "benchstone.cli._cmd_mcp:mcp",
    "reference-history": "benchstone.cli._cmd_references:reference_history",
    "replace-reference": "benchstone.cli._cmd_references:replace_reference",
    "report": "benchstone.cli._cmd_report:report",
    "status": "benchstone.cli._cmd_status:status",
    "verify": "benchstone.cli._cmd_verify:verify",
    "_worker": "benchstone.cli._cmd_status:worker",
}


@click.group(
    cls=LazyGroup,
    lazy_commands=LAZY_COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(version=VERSION, prog_name="bench")
def cli() -> None:
    """Trustworthy benchmark gating: PROMOTE / REJECT / NEEDS_MORE_DATA.

    State lives under $BENCHSTONE_HOME (default: the platform's user data dir).

    Exit codes of `bench evaluate`: 0 PROMOTE or PASS; 1 REJECT or FAIL; 2 NEEDS_MORE_DATA,
    NO_BASELINE or NO_REFERENCE; 3 unknown verdict; 5 STALE. With --expect KIND the
    verdict is an assertion: 0 when it is KIND, 4 when it is not.
    Every command exits 10 after an `Error:` line.
    """


@cli.command()
@click.argument("path", type=click.Path(file_okay=False))
@json_option
@command_errors
def register(path: str, as_json: bool) -> int:
    """Register the project at PATH (reads PATH/bench/manifest.toml)."""
    from benchstone import api

    info = api.register(path)
    if as_json:
        emit_json(info.to_dict())
        return 0
    for warning in info.warnings:
        warn(warning)
    echo_lines(fmt.registered(info))
    return 0


@cli.command()
@click.argument("name")
@json_option
@command_errors
def unregister(name: str, as_json: bool) -> int:
    """Forget project NAME (its history stays in the store)."""
    from benchstone import api

    api.unregister(name)
    if as_json:
        emit_json({"unregistered": name})
    else:
        click.echo(f"unregistered {name}")
    return 0


@cli.command(name="list")
@click.option("--project", "project", default=None, help="Only this project.")
@json_option
@command_errors
def list_command(project: str | None, as_json: bool) -> int:
    """List registered projects and their benchmarks."""
    from benchstone import api

    infos = api.list_projects(project=project)
    if as_json:
        from benchstone.api._documents import projects_document

        emit_json(projects_document(infos))
        return 0
    if not infos:
        click.echo("no projects registered; use `bench register PATH`")
    for info in infos:
        echo_lines(fmt.project_lines(info))
    return 0


def _dispatch_callbacks(as_json: bool) -> dict[str, Callable[..., None]]:
    """Printing for a foreground dispatch: the header, one line per repetition, and on a
    terminal a live line (stderr) with elapsed time and ETA, ended with the command."""
    if as_json:
        return {}
    from benchstone.cli._live import LiveLine

    live = LiveLine.for_stderr()
    if live is not None:
        context = click.get_current_context(silent=True)
        if context is not None:
            context.call_on_close(live.stop)

    def on_plan(plan) -> None:
        count = plan.repetitions
        click.echo(fmt.dispatch_header(count, plan.git_sha, plan.git_dirty, plan.meta_seed))
        if plan.window is not None:
            click.echo(fmt.side_by_side_line(plan.window, plan.baseline_sha, len(plan.seeds)))
        if live is not None:
            live.start(count, plan.expected_runtime_seconds)

    def on_run(run) -> None:
        if live is None:
            click.echo(fmt.run_line(run))
        else:
            live.print_above(lambda: click.echo(fmt.run_line(run)))

    def on_progress(result) -> None:
        line = fmt.slurm_progress(result)
        if live is None:
            click.echo(line, err=True)
        else:
            live.print_above(lambda: click.echo(line, err=True))

    return {"on_plan": on_plan, "on_run": on_run, "on_progress": on_progress}


executor_option = click.option(
    "--executor",
    type=click.Choice(["local", "slurm"]),
    default=None,
    help="Where the repetitions run (default: the manifest's executor key, else local); "
    "slurm submits them as one job array (docs/cluster.md).",
)


@cli.command()
@click.argument("project")
@click.argument("benchmark")
@click.option(
    "--seed-set",
    type=click.Choice(["baseline", "fresh"]),
    default="fresh",
    show_default=True,
    help="Manifest baseline_seeds, or seeds from a meta-seed.",
)
@click.option(
    "--meta-seed",
    type=int,
    default=None,
    help="63-bit meta-seed for the fresh seed set (default: random).",
)
@click.option(
    "-n",
    "count",
    type=int,
    default=None,
    help="Repetitions (default: the manifest's repetitions / baseline seeds).",
)
@click.option("--allow-dirty", is_flag=True, help="Run on a dirty tree; the diff is recorded.")
@click.option(
    "--background",
    is_flag=True,
    help="Run in a detached worker and return at once; follow it with `bench status`.",
)
@executor_option
@click.option(
    "--until-decided",
    is_flag=True,
    help="Add pairs stage by stage until PROMOTE or REJECT (a group-sequential gate); "
    "exits with the verdict's code.",
)
@click.option(
    "--max-repetitions",
    type=int,
    default=None,
    metavar="N",
    help="Budget of --until-decided in pairs (default: 4 stages of -n / repetitions).",
)
@json_option
@command_errors
def run(
    project: str,
    benchmark: str,
    seed_set: str,
    meta_seed: int | None,
    count: int | None,
    allow_dirty: bool,
    background: bool,
    executor: str | None,
    until_decided: bool,
    max_repetitions: int | None,
    as_json: bool,
) -> int:
    """Run BENCHMARK of PROJECT at the current git SHA; one stored row per repetition.

    A side-by-side benchmark (measurement = "side_by_side", the default for host timings)
    with a baseline pointer runs pairs: the pointer's commit, in a temporary worktree with
    the locked evaluator, next to the checkout.
    """
    from benchstone import api

    report = api.run(
        project,
        benchmark,
        seed_set=seed_set,
        meta_seed=meta_seed,
        n=count,
        allow_dirty=allow_dirty,
        background=background,
        executor=executor,
        until_decided=until_decided,
        max_repetitions=max_repetitions,
        **_dispatch_callbacks(as_json),
    )
    failed = bool(report.runs) and not report.ok_runs
    decision = report.decision
    if decision is not None and not failed:
        if as_json:
            from benchstone.api._documents import dispatch_document

            emit_json(dispatch_document(report))
        else:
            click.echo(fmt.decision_line(decision))
            echo_lines(fmt.verdict_lines(decision.verdict))
        return exit_code_for(decision.verdict.kind)
    if as_json:
        from benchstone.api._documents import dispatch_document

        emit_json(dispatch_document(report))
    elif isinstance(report, api.BackgroundDispatch):
        from benchstone.cli._cmd_status import background_lines

        echo_lines(background_lines(report))
    elif failed:
        error_line(f"all {len(report.runs)} repetition(s) of {project}/{benchmark} failed")
        for line in fmt.failure_lines(api.failures(report.runs)):
            click.echo(line, err=True)
    return ERROR_EXIT_CODE if failed else 0


@cli.group()
def baseline() -> None:
    """Baseline pointer commands."""


@baseline.command()
@click.argument("project")
@click.argument("benchmark")
@click.option(
    "-n",
    "count",
    type=int,
    default=None,
    help="Use the first N baseline seeds (default: all of them).",
)
@click.option("--notes", default=None, help="Free text stored with the pointer event.")
@click.option("--allow-dirty", is_flag=True, help="Run on a dirty tree; the diff is recorded.")
@click.option(
    "--background",
    is_flag=True,
    help="Run in a detached worker and return at once; the pointer moves when it finishes.",
)
@click.option(
    "--at-sha",
    "at_sha",
    default=None,
    metavar="SHA",
    help="Measure this commit (in a temporary git worktree, with its manifest) instead.",
)
@executor_option
@json_option
@command_errors
def establish(
    project: str,
    benchmark: str,
    count: int | None,
    notes: str | None,
    allow_dirty: bool,
    background: bool,
    at_sha: str | None,
    executor: str | None,
    as_json: bool,
) -> int:
    """Run the manifest's baseline seeds now and point the baseline at those runs."""
    from benchstone import api

    report = api.establish_baseline(
        project,
        benchmark,
        n=count,
        notes=notes,
        allow_dirty=allow_dirty,
        background=background,
        at_sha=at_sha,
        executor=executor,
        **_dispatch_callbacks(as_json),
    )
    if as_json:
        emit_json(report.to_dict())
    elif isinstance(report, api.BackgroundDispatch):
        from benchstone.cli._cmd_status import background_lines

        echo_lines(background_lines(report))
    else:
        click.echo(fmt.baseline_set(report.project, report.benchmark, report.baseline))
    return 0


@cli.command()
@click.argument("project")
@click.argument("benchmark")
@click.option(
    "--expect",
    type=click.Choice(KNOWN_KINDS),
    default=None,
    help="Assert the verdict: exit 0 if it is this kind, 4 if not.",
)
@click.option(
    "--warn-only",
    is_flag=True,
    help="Report a REJECT as usual but exit 0 for it (for a CI job that starts by watching).",
)
@click.option(
    "--allow-dirty",
    is_flag=True,
    help="Pool candidate runs made on a dirty tree and skip the STALE checks.",
)
@json_option
def evaluate(
    project: str,
    benchmark: str,
    expect: str | None,
    warn_only: bool,
    allow_dirty: bool,
    as_json: bool,
) -> int:
    """Verdict for the current SHA against the baseline; the exit code encodes it.

    STALE (exit 5) when the tree is dirty, the corpus drifted, or the tracked_paths
    content differs from what the candidate runs were made from. With --warn-only a
    REJECT exits 0 (a `warning:` line on stderr says so); every other verdict keeps its code.
    """
    from benchstone.cli._cmd_evaluate import evaluate_command

    return evaluate_command(project, benchmark, expect, warn_only, allow_dirty, as_json)


@cli.command()
@click.argument("project")
@click.argument("benchmark")
@click.option("--force", is_flag=True, help="Move the pointer even if the verdict is not PROMOTE.")
@click.option("--notes", default=None, help="Free text stored with the pointer event.")
@click.option(
    "--meta-seed",
    type=int,
    default=None,
    help="Name only the candidate runs of this meta-seed in the new pointer.",
)
@click.option(
    "--allow-dirty", is_flag=True, help="Judge as `evaluate --allow-dirty` does (pool dirty runs)."
)
@json_option
@command_errors
def promote(
    project: str,
    benchmark: str,
    force: bool,
    notes: str | None,
    meta_seed: int | None,
    allow_dirty: bool,
    as_json: bool,
) -> int:
    """Move the baseline pointer to the current SHA if the pooled verdict is PROMOTE."""
    from benchstone import api

    try:
        report = api.promote(
            project,
            benchmark,
            force=force,
            notes=notes,
            meta_seed=meta_seed,
            allow_dirty=allow_dirty,
        )
    except api.PromotionRefused as exc:
        raise CommandFailed(str(exc), exit_code_for(exc.kind)) from exc
    if as_json:
        emit_json(report.to_dict())
    else:
        echo_lines(fmt.baseline_promoted(report.verdict.project, report.verdict.benchmark, report))
    return 0


@cli.command()
@click.argument("project")
@click.argument("benchmark")
@click.option(
    "--since",
    default=None,
    help="Only runs stored at or after this ISO-8601 time.",
)
@click.option("--git-sha", default=None, help="Only runs at this SHA (prefix).")
@click.option("--limit", type=int, default=None, help="At most this many runs (newest first).")
@json_option
@command_errors
def history(
    project: str,
    benchmark: str,
    since: str | None,
    git_sha: str | None,
    limit: int | None,
    as_json: bool,
) -> int:
    """The textual timeline of a benchmark's runs; * marks the active baseline."""
    from benchstone import api

    found = api.timeline(project, benchmark, since=since, git_sha=git_sha, limit=limit)
    if as_json:
        emit_json(found.to_dict())
        return 0
    filters = {"--since": since, "--git-sha": git_sha}
    echo_lines(fmt.history_lines(found, {k: v for k, v in filters.items() if v}))
    return 0


@cli.command()
@command_errors
def demo() -> int:
    """Show the whole loop on a throwaway project: baseline, PROMOTE, promote, REJECT."""
    from benchstone.cli._demo import run_demo

    return run_demo()


def main(argv: list[str] | None = None) -> int:
    """Run the `bench` command; returns the exit code instead of raising SystemExit."""
    args = sys.argv[1:] if argv is None else argv
    if argv is None:  # the console script, not a caller embedding us (e.g. the demo)
        handle_termination()
    try:
        result = cli.main(args=args, prog_name="bench", standalone_mode=False)
    except click.exceptions.Abort as exc:
        cause = exc.__cause__
        left = cause if type(cause).__name__ == "LeftOnCluster" else None
        if left is not None:
            cause = left.__cause__  # what stopped the wait: Ctrl-C or a signal
        code = interrupted(cause)
        if left is not None:
            click.echo(f"  {left}", err=True)
        return code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.ClickException as exc:
        error_line(f"{exc.format_message()} (see `bench --help`)")
        return ERROR_EXIT_CODE
    return result if isinstance(result, int) else 0
