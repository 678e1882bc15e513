"""The node worker: one Slurm array task, its repetitions run and sealed into bundles.

``python -m benchstone.api._node_worker SPEC TASK`` is what the job's batch script runs on
the compute node, with the harness's own interpreter. It executes each repetition of its
task with :func:`~benchstone.api._repetition.execute_repetition`, the local executor's
code (sandbox, process tree, wall, cpu, peak RSS, instructions, fingerprint), and writes
one result bundle per repetition into the spool, sealed with the job's nonce. It never
opens a store: the submitter ingests the bundles.

Before anything runs it checks that the checkout on the shared filesystem still is what
the submitter planned (manifest bytes, HEAD, dirtiness); if not, each of its repetitions
becomes an error bundle saying why, so the rows say what happened rather than nothing.

A side-by-side job's task is its whole window: the slots come in ``pair_order``, both arms
of a pair with one seed, the baseline arm run in the job's baseline worktree in the spool
(checked to be at the baseline commit under the locked evaluator) with the checkout's
manifest and corpus, as the local window does; each bundle's sealed labels say its window
and arm.
"""

from __future__ import annotations

import shutil
import socket
import sys
import tempfile
from pathlib import Path

from benchstone.api._errors import ApiError
from benchstone.api._job_process import check_unchanged
from benchstone.api._lock import snapshot
from benchstone.api._node_spec import NodeSpec, Slot, read_nonce
from benchstone.api._repetition import Repetition, execute_repetition, failed_repetition
from benchstone.api._sidebyside import BASELINE
from benchstone.runner import (
    Manifest,
    Measurements,
    RunnerError,
    git_state,
    load_manifest,
    runs_dir,
    write_bundle,
)
from benchstone.runner._bundle import bundle_path


def run_task(spec_path: Path, task: int) -> list[Path]:
    """Run array task ``task`` of the job described at ``spec_path``; its new bundles."""
    spec_path = Path(spec_path)
    spec = NodeSpec.read(spec_path)
    job_dir = spec_path.parent
    spool = job_dir.parent
    nonce = read_nonce(job_dir)
    if not 0 <= task < len(spec.tasks):
        raise ApiError(f"{spec_path}: job {spec.job} has no array task {task}")
    slots = [s for s in spec.tasks[task] if not bundle_path(spool, spec.job, s.name).exists()]
    written: list[Path] = []
    if not slots:
        return written  # a requeued task whose repetitions all have bundles already
    root = Path(spec.root)
    scratch = Path(tempfile.mkdtemp(prefix="benchstone-node-", dir=runs_dir()))
    try:
        refusal = _refusal(spec, root, in_spool=root.is_relative_to(spool))
        if refusal is None and spec.baseline_root is not None:
            refusal = _baseline_refusal(spec, root)
        for slot in slots:
            if refusal is None:
                manifest = load_manifest(root)
                benchmark = manifest.benchmark(spec.benchmark)
                holding = scratch / f"holding-{slot.name}"
                holding.mkdir(mode=0o700)
                arm_root = _arm_root(spec, slot)
                rep = execute_repetition(
                    manifest,
                    benchmark,
                    root=arm_root,
                    seed=slot.seed,
                    index=slot.index,
                    total=spec.total,
                    logs=scratch / "logs",
                    # The store of the submit host, the spool (nonce, other bundles, the
                    # baseline worktree) and the node's run directories: nothing of the
                    # harness stays in reach, but the baseline arm's own worktree.
                    hidden=(*(Path(p) for p in spec.hidden), spool, runs_dir()),
                    holding=holding,
                    corpus_from=root,
                    # A worktree the submitter made in the spool (a window's baseline arm,
                    # an --at-sha checkout) is mounted back for the repetitions of its arm.
                    reachable=(arm_root,) if arm_root.is_relative_to(spool) else (),
                )
            else:
                rep = failed_repetition(slot.index, slot.seed, spec.total, refusal)
            written.append(_seal(spool, spec, slot, nonce, rep))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return written


def _arm_root(spec: NodeSpec, slot: Slot) -> Path:
    """The checkout slot's arm measures: the baseline worktree, or the shared checkout."""
    if slot.arm == BASELINE and spec.baseline_root is not None:
        return Path(spec.baseline_root)
    return Path(spec.root)


def _baseline_refusal(spec: NodeSpec, root: Path) -> str | None:
    """Why the baseline worktree is not the baseline commit under the lock, or None."""
    assert spec.baseline_root is not None
    path = Path(spec.baseline_root)
    try:
        return _moved(path, str(spec.baseline_sha), spec.job, "baseline") or _evaluator_drift(
            spec, path, load_manifest(root)
        )
    except (ApiError, RunnerError) as exc:
        return f"on node {socket.gethostname()}: baseline arm: {exc}"


def _moved(path: Path, sha: str, job: str, what: str) -> str | None:
    """Why a worktree the submitter made is not at ``sha`` any more, or None. Only HEAD is
    compared: the locked evaluator written over it may differ from the commit's files."""
    state = git_state(path)
    if state.sha == sha:
        return None
    return (
        f"{path}: the {what} worktree is at {state.sha[:10]}, not the {what} commit "
        f"{sha[:10]} job {job} was submitted with"
    )


def _refusal(spec: NodeSpec, root: Path, *, in_spool: bool = False) -> str | None:
    """Why the checkout is not what was planned (so nothing may run), or None.

    ``in_spool``: the checkout is an --at-sha worktree the submitter made in the spool.
    """
    try:
        manifest = load_manifest(root)
        if manifest.hash != spec.manifest_hash:
            return (
                f"{manifest.path} changed after job {spec.job} was submitted (planned with "
                f"{spec.manifest_hash}, the node read {manifest.hash}); submit it again"
            )
        manifest.benchmark(spec.benchmark)
        drift = _evaluator_drift(spec, root, manifest)
        if drift is not None:
            return drift
        if in_spool:
            return _moved(root, spec.git_sha, spec.job, "--at-sha")
        check_unchanged(root, spec)
    except (ApiError, RunnerError) as exc:
        return f"on node {socket.gethostname()}: {exc}"
    return None


def _evaluator_drift(spec: NodeSpec, root: Path, manifest: Manifest) -> str | None:
    """Why the evaluator in the shared checkout is not the locked one, or None.

    The submitter checked it before submitting; a task that starts later checks again,
    since the checkout may have been edited in between.
    """
    if spec.lock_digest is None:
        return None
    current = snapshot(root, manifest)
    if current.digest == spec.lock_digest:
        return None
    locked, now = dict(spec.lock_files), dict(current.files)
    changed = sorted(path for path in set(locked) | set(now) if locked.get(path) != now.get(path))
    shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
    return (
        f"{root}: the evaluator is not the locked one any more (changed: {shown or 'files'}); "
        f"job {spec.job} was submitted under the lock, so nothing ran (`bench lock "
        f"{spec.project} --reason ...` to lock the change, then submit again)"
    )


def _seal(spool: Path, spec: NodeSpec, slot: Slot, nonce: str, rep: Repetition) -> Path:
    measured = rep.wall_clock is not None
    measurements = Measurements(
        wall_seconds=rep.wall_clock if rep.wall_clock is not None else 0.0,
        cpu_seconds=rep.cpu_time,
        peak_rss_bytes=rep.peak_rss,
        instructions=rep.instructions,
        isolation=rep.isolation or "none",
        host_fingerprint=dict(rep.fingerprint),
        node=rep.host,
    )
    labels = None
    if spec.window is not None and slot.arm is not None:
        labels = {"window": spec.window, "arm": slot.arm}
    return write_bundle(
        spool,
        spec.job,
        slot.name,
        nonce,
        result={**rep.outcome_json(), "measured": measured},
        measurements=measurements,
        artifact=rep.artifact,
        stdout_log=rep.stdout_log,
        stderr_log=rep.stderr_log,
        labels=labels,
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m benchstone.api._node_worker SPEC TASK``; exit 0 when its bundles are in.

    A failure is one ``Error:`` line on stderr, which Slurm keeps in the task's ``.err``
    file; the submitter turns it into the error rows of the task's repetitions.
    """
    import signal

    args = sys.argv[1:] if argv is None else argv
    if argv is None:  # a process of its own: its children need not learn the settings
        from benchstone.store import seal_settings

        seal_settings()
    if len(args) != 2 or not args[1].isdigit():
        print("Error: usage: python -m benchstone.api._node_worker SPEC TASK", file=sys.stderr)
        return 10

    def terminate(signum: int, _frame: object) -> None:
        # scancel and the time limit send SIGTERM: end the repetition's tree (execute does
        # on an interruption) and leave no bundle, so the submitter records the task as
        # cancelled or failed rather than as a measurement.
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, terminate)
    try:
        written = run_task(Path(args[0]), int(args[1]))
    except (ApiError, RunnerError) as exc:
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        return 10
    except KeyboardInterrupt as exc:
        print(f"Error: terminated ({exc or 'interrupted'}); no bundle written", file=sys.stderr)
        return 143
    for path in written:
        print(f"bundle {path.name}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
