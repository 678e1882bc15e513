"""The body of a background worker: the same dispatch as the foreground, at the planned SHA.

The plan (seeds, meta-seed, commit, dirtiness, corpus digest) was made and checked by the
dispatching command; the worker runs exactly that plan. What it re-checks is whether the
plan still describes the checkout: the manifest must be the one planned with, and before
every repetition HEAD and dirtiness must be what they were, or the job stops (failed,
saying why) rather than record rows under a commit that did not run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from benchstone.api._batch import DispatchPlan
from benchstone.api._context import load_project
from benchstone.api._dispatch import execute_plan
from benchstone.api._errors import ApiError
from benchstone.api._job_files import JobFiles, validate_job_id
from benchstone.api._job_process import (
    check_unchanged,
    plan_from_dict,
    record_run,
    take_over,
    tracked,
)
from benchstone.api._jobs import JobInfo, dispatch_summary, job
from benchstone.api._lock import check_drift, require_lock
from benchstone.store import Run, Store, seal_settings


def run_job(
    job_id: str,
    *,
    home: Path | None = None,
    on_plan: Callable[[DispatchPlan], None] | None = None,
    on_run: Callable[[Run], None] | None = None,
) -> JobInfo:
    """Carry out the queued job ``job_id`` in this process; returns its finished record.

    Failures mark the job ``failed`` with the reason and are raised again.
    """
    validate_job_id(job_id)
    with Store.open(home) as store:
        files = JobFiles(store.paths.jobs)
        record = take_over(files, job_id)
        with tracked(files, job_id) as outcome:
            context = load_project(store, record.project, checkout=record.options.get("checkout"))
            if str(context.root) != record.root:
                raise ApiError(
                    f"project '{record.project}' is now registered at {context.root}, not at "
                    f"{record.root} where job {job_id} was planned; dispatch it again"
                )
            if context.manifest.hash != record.manifest_hash:
                raise ApiError(
                    f"{context.manifest.path} changed after job {job_id} was dispatched "
                    f"(planned with {record.manifest_hash}, now {context.manifest.hash}); "
                    "dispatch it again"
                )
            spec = context.benchmark(record.benchmark)
            plan = plan_from_dict(record.plan, str(files.path(record)))
            root = context.root
            check_drift(store, require_lock(store, context.name, root), root, context.manifest)
            check_unchanged(root, plan)
            if on_plan is not None:
                on_plan(plan)

            def after_each(run: Run) -> None:
                record_run(files, job_id, run.id)
                if on_run is not None:
                    on_run(run)
                if run.repetition is not None and run.repetition + 1 < len(plan.seeds):
                    check_unchanged(root, plan)

            report = execute_plan(
                store,
                context.manifest,
                spec,
                plan,
                root=root,
                kind=record.kind,
                notes=record.options.get("notes"),
                job_id=job_id,
                on_run=after_each,
            )
            outcome.message = dispatch_summary(report)
            outcome.run_ids = tuple(run.id for run in report.runs)
    return job(job_id, home=home)


def main(argv: list[str] | None = None) -> int:
    """``python -m benchstone.api._job_worker JOB_ID``: the detached background worker.

    The API starts its workers itself, so a background dispatch needs no CLI installed.
    Its stdout/stderr are the job's log: one line per repetition, then the outcome; a
    failure is one ``Error:`` line. SIGTERM and SIGHUP end the repetition's tree and fail
    the job with the signal's name.
    """
    import signal
    import sys

    args = sys.argv[1:] if argv is None else argv
    if argv is None:  # a process of its own: its children need not learn the settings
        seal_settings()
    if len(args) != 1:
        print("Error: usage: python -m benchstone.api._job_worker JOB_ID", file=sys.stderr)
        return 10

    def terminate(signum: int, _frame: object) -> None:
        raise ApiError(f"terminated by {signal.Signals(signum).name}")

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)

    def on_plan(plan: DispatchPlan) -> None:
        print(f"dispatched {len(plan.seeds)} run(s)  git_sha={plan.git_sha[:10]}", flush=True)

    def on_run(run: Run) -> None:
        print(f"  run={run.id} rep={run.repetition} seed={run.seed} {run.status}", flush=True)

    try:
        info = run_job(args[0], on_plan=on_plan, on_run=on_run)
    except Exception as exc:  # every harness failure is one line; the job records it
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        return 10
    print(f"job {info.id} {info.state}: {info.message}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
