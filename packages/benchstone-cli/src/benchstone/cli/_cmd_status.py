"""`bench status` (the job list) and the hidden `bench _worker` a background job runs in."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from benchstone.cli._common import command_errors, echo_lines, emit_json, json_option

if TYPE_CHECKING:
    from benchstone.api import BackgroundDispatch, JobInfo
    from benchstone.runner import DispatchPlan
    from benchstone.store import Run

_COLUMNS = ("job", "project/benchmark", "kind", "state", "pid", "progress", "started", "outcome")


@click.command()
@click.option("--all", "include_finished", is_flag=True, help="Also list done and failed jobs.")
@click.option(
    "--prune",
    is_flag=True,
    help="Forget done, failed and stale jobs (records and logs; their runs stay).",
)
@json_option
@command_errors
def status(include_finished: bool, prune: bool, as_json: bool) -> int:
    """List queued, running and stale jobs (all jobs with --all), newest first.

    A job whose process is gone (killed, or its pid now belongs to another process) is
    shown as stale. A Slurm job is ingested first (its finished repetitions become rows)
    and shows its array tasks' states. --prune forgets finished and stale jobs instead.
    """
    from benchstone import api

    if prune:
        forgotten = api.prune_jobs()
        if as_json:
            emit_json({"pruned": [info.to_dict() for info in forgotten]})
            return 0
        echo_lines(prune_lines(forgotten))
        return 0
    found = api.status(include_finished=include_finished)
    if as_json:
        from benchstone.api._documents import jobs_document

        emit_json(jobs_document(found, include_finished=include_finished))
        return 0
    echo_lines(status_lines(found, include_finished=include_finished))
    return 0


@click.command()
@click.argument("job_id", metavar="JOB")
@json_option
@command_errors
def cancel(job_id: str, as_json: bool) -> int:
    """Cancel job JOB: scancel for a Slurm job, SIGTERM to a local job's process.

    Repetitions that finished keep their rows; a Slurm job's others become error rows
    saying they were cancelled, and the job is closed.
    """
    from benchstone import api

    info = api.cancel(job_id)
    if as_json:
        emit_json(info.to_dict())
        return 0
    where = f" (slurm job {info.slurm_job})" if info.slurm_job else ""
    click.echo(f"cancelled job {info.id}{where}: {info.state}, {len(info.run_ids)} run(s) recorded")
    if info.message:
        click.echo(f"  {info.message}")
    return 0


@click.command(name="_worker", hidden=True)
@click.argument("job_id")
@command_errors
def worker(job_id: str) -> int:
    """Carry out background job JOB_ID (started by --background; not for direct use)."""
    import signal

    from benchstone.api import ApiError
    from benchstone.api._job_worker import run_job
    from benchstone.cli import _format as fmt

    def terminate(signum: int, _frame: object) -> None:
        raise ApiError(f"terminated by {signal.Signals(signum).name}")

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)

    def on_plan(plan: DispatchPlan) -> None:
        click.echo(
            fmt.dispatch_header(len(plan.seeds), plan.git_sha, plan.git_dirty, plan.meta_seed),
        )

    def on_run(run: Run) -> None:
        click.echo(fmt.run_line(run))

    info = run_job(job_id, on_plan=on_plan, on_run=on_run)
    click.echo(f"job {info.id} {info.state}: {info.message}")
    return 0


def background_lines(report: BackgroundDispatch) -> list[str]:
    """What `bench run/establish --background` prints: where the job went, how to follow it."""
    job = report.job
    lines = [
        f"dispatched {job.total} run(s) in the background  job={job.id}  pid={job.pid}",
        f"  git_sha={(report.git_sha or '-')[:10]}  dirty={report.git_dirty}  "
        f"meta_seed={report.meta_seed}",
    ]
    lines.append(f"  follow it with `bench status`; log: {job.log_path}")
    return lines


def status_lines(found: list[JobInfo], *, include_finished: bool) -> list[str]:
    if not found:
        what = "no jobs" if include_finished else "no queued, running or stale jobs"
        hint = "" if include_finished else " (`bench status --all` lists finished ones too)"
        return [what + hint]
    rows = [_COLUMNS]
    rows += [_row(info) for info in found]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS) - 1)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True))
        + "  "
        + row[-1]
        for row in rows
    ]


def prune_lines(forgotten: list[JobInfo]) -> list[str]:
    """One line per forgotten job, then what stayed (the runs)."""
    if not forgotten:
        return ["no finished or stale jobs to forget"]
    lines = [
        f"forgot job {info.id}  {info.project}/{info.benchmark}  {info.state}  "
        f"{len(info.run_ids)} run(s) kept"
        for info in forgotten
    ]
    lines.append(f"forgot {len(forgotten)} job(s); their runs stay in `bench history`")
    return lines


def _row(info: JobInfo) -> tuple[str, ...]:
    kind = info.kind + (" (bg)" if info.background else "")
    if info.executor == "slurm":
        kind += " (slurm)"
    started = (info.started_at or info.created_at)[:19].replace("T", " ")
    return (
        info.id,
        f"{info.project}/{info.benchmark}",
        kind,
        info.state,
        str(info.pid) if info.pid is not None else "-",
        info.progress,
        started,
        _outcome(info),
    )


def _outcome(info: JobInfo) -> str:
    if info.executor == "slurm" and not info.finished:
        from benchstone.cli._format import task_states

        return f"slurm job {info.slurm_job or '-'}: {task_states(info.task_states)}"
    if info.state == "stale":
        log = f" (log: {info.log_path})" if info.log_path else ""
        return f"process {info.pid} is gone; the job will not finish{log}"
    if info.message:
        return info.message
    if info.at_sha:
        return f"at {info.at_sha[:10]}"
    return "-"
