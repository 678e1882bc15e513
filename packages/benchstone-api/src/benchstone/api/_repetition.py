"""One repetition: executed and measured, then turned into a row.

The two halves are separate on purpose. :func:`execute_repetition` needs no store: it runs
the invocation in a private run directory under the sandbox and measures the process tree
from the outside, so the local executor calls it in the dispatching process and the Slurm
node worker calls it on a compute node, where no store exists. :func:`repetition_row`
makes the row from what was measured; the local executor appends it at once, the
submitter appends it when it ingests the node's bundle. Both executors therefore run and
record a repetition by the same code.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import socket
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchstone.api._held_out import CORPUS_NAME, RESULT_CAP_BYTES, result_over_cap
from benchstone.api._job_files import now_utc
from benchstone.api._lock import evaluator_mounts
from benchstone.api._values import gated_value
from benchstone.gates import check_artifact
from benchstone.protocol import InvocationConfig, ProjectResult, ProtocolError
from benchstone.runner import (
    BenchmarkSpec,
    Execution,
    InstructionLog,
    Manifest,
    RunnerError,
    Sandbox,
    child_environment,
    corpus_root,
    execute,
    git_dirs,
    host_fingerprint,
    require_valgrind,
    runs_dir,
    take_artifact,
)
from benchstone.store import NewRun, Store

if TYPE_CHECKING:
    from benchstone.api._batch import DispatchPlan

ARTIFACT_NAME = "artifact.bin"


@dataclass(frozen=True)
class Repetition:
    """One repetition as the harness saw it: the outcome, the measurements, the files."""

    #: None only for a bundle found under a name no repetition of the job has.
    index: int | None
    seed: int | None
    total: int
    status: str  # ok | error
    message: str | None
    started_at: str
    finished_at: str
    exit_code: int | None
    wall_clock: float | None
    cpu_time: float | None
    peak_rss: int | None
    instructions: int | None
    isolation: str | None
    host: str
    fingerprint: Mapping[str, Any] = field(default_factory=dict)
    # What the project reported (never trusted for the harness-measured metric sources).
    reported_metric: float | None = None
    metric_components: Mapping[str, Any] = field(default_factory=dict)
    reported_wall_clock: float | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    stdout_log: Path | None = None
    stderr_log: Path | None = None
    #: The artifact, already copied out of the run directory (None when there is none).
    artifact: Path | None = None

    @property
    def host_identity(self) -> str | None:
        digest = self.fingerprint.get("identity_digest")
        return digest if isinstance(digest, str) else None

    def outcome_json(self) -> dict[str, Any]:
        """The outcome half (no measurements, no paths): a bundle's ``result.json``."""
        return {
            "index": self.index,
            "seed": self.seed,
            "total": self.total,
            "status": self.status,
            "message": self.message,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "exit_code": self.exit_code,
            "reported_metric": self.reported_metric,
            "metric_components": dict(self.metric_components),
            "reported_wall_clock": self.reported_wall_clock,
            "metadata": dict(self.metadata),
        }


def failed_repetition(
    index: int | None, seed: int | None, total: int, message: str, *, host: str | None = None
) -> Repetition:
    """A repetition the harness could not run at all (nothing was measured)."""
    now = now_utc()
    return Repetition(
        index=index,
        seed=seed,
        total=total,
        status="error",
        message=message,
        started_at=now,
        finished_at=now,
        exit_code=None,
        wall_clock=None,
        cpu_time=None,
        peak_rss=None,
        instructions=None,
        isolation=None,
        host=host or socket.gethostname(),
    )


def execute_repetition(
    manifest: Manifest,
    spec: BenchmarkSpec,
    *,
    root: Path,
    seed: int,
    index: int,
    total: int,
    logs: Path,
    hidden: tuple[Path, ...],
    holding: Path,
    held_out_corpus: Path | None = None,
    corpus_from: Path | None = None,
    reachable: tuple[Path, ...] = (),
    cpus: frozenset[int] | None = None,
) -> Repetition:
    """Run one repetition in a fresh private run directory and measure it.

    ``logs`` receives its stdout/stderr logs, ``holding`` its artifact (copied out of the
    run's reach before the run directory goes); ``hidden`` are the harness paths the
    sandbox hides (the store, the spool). ``held_out_corpus`` is the stored copy of a
    held-out benchmark's corpus, bound read-only into the run dir of a strict sandbox.
    ``corpus_from`` is the checkout whose corpus is read (default ``root``; a side-by-side
    baseline arm reads the project's), ``reachable`` hidden paths mounted back (that arm's
    own worktree, under the runs directory). ``cpus``
    (``manifest_affinity``) pins the repetition's whole tree. Opens no store.
    """
    started_at = now_utc()
    # Under the harness's private runs directory: hidden from every other sealed
    # repetition, mounted back for this one, and naming no path of the store.
    workdir = Path(tempfile.mkdtemp(prefix="benchstone-run-", dir=runs_dir()))
    try:
        config_path = workdir / "config.json"
        output_path = workdir / "result.json"
        artifact_path = None
        # A timed benchmark with output_reference writes its artifact too: the run that is
        # timed is the run that is checked (a runner cannot skip the work only when timed).
        if spec.tier == "correctness" or spec.output_reference is not None:
            artifact_dir = workdir / "artifact"
            artifact_dir.mkdir(mode=0o700)
            artifact_path = artifact_dir / ARTIFACT_NAME
        readonly: tuple[tuple[Path, Path], ...] = ()
        corpus: Path | None
        if spec.held_out:
            if held_out_corpus is None:
                raise RunnerError(f"benchmark {spec.name!r} is held out: give its stored corpus")
            corpus = workdir / CORPUS_NAME
            if held_out_corpus.is_dir():
                corpus.mkdir()
            else:
                corpus.touch()
            readonly = ((held_out_corpus, corpus),)
        else:
            corpus = corpus_root(corpus_from or root, spec)
        # The locked evaluator stays as locked while the code under test runs.
        readonly = (*evaluator_mounts(root, manifest), *readonly)
        InvocationConfig(
            benchmark=spec.name,
            seed=seed,
            corpus_path=str(corpus) if corpus else "",
            repetition_index=index,
            repetition_total=total,
            artifact_path=str(artifact_path) if artifact_path else None,
        ).write(config_path)
        command = manifest.project.invocation.format(
            entry_point=shlex.quote(spec.entry_point),
            config_path=shlex.quote(str(config_path)),
            output_path=shlex.quote(str(output_path)),
        )
        stem = f"{started_at.replace(':', '').replace('-', '')}-rep{index}-{os.getpid()}"
        stdout_log = private_dir(logs) / f"{stem}.stdout.log"
        stderr_log = logs / f"{stem}.stderr.log"
        fingerprint = host_fingerprint()
        with contextlib.ExitStack() as stack:
            counts = None
            if spec.metric_source == "instructions":
                require_valgrind()
                # Counts travel over a socket the code under test cannot write, never
                # through files in its reach (runner/_instructions.py).
                counts = stack.enter_context(InstructionLog())
                command = counts.instrument(command)
            execution = execute(
                command,
                cwd=root,
                env=child_environment(),
                timeout=spec.timeout_seconds,
                stdout_log=stdout_log,
                stderr_log=stderr_log,
                sandbox=Sandbox(
                    level=manifest.project.sandbox,
                    hidden=hidden,
                    writable=(workdir, *reachable),
                    network=spec.network and not spec.held_out,
                    strict=spec.held_out,
                    readonly=readonly,
                    keep=(root,) if corpus_from is None else (root, corpus_from),
                    protected=git_dirs(root),
                ),
                pass_fds=counts.pass_fds if counts else (),
                cpu_affinity=cpus,
                # A held-out run's output could carry the corpus: its logs keep no byte.
                **({"log_cap_bytes": 0} if spec.held_out else {}),
            )
            outcome = _interpret(execution, output_path)
            if spec.held_out:
                outcome = _held_out_outcome(outcome)
            instructions = None
            if counts is not None and outcome.status == "ok":
                try:
                    instructions = counts.total()
                except RunnerError as exc:
                    outcome = _Outcome.error(str(exc), outcome.result)
        taken = None
        if outcome.status == "ok" and artifact_path is not None:
            try:
                taken = take_artifact(artifact_path, workdir, holding / ARTIFACT_NAME)
            except RunnerError as exc:
                outcome = _Outcome.error(str(exc), outcome.result)
        result = outcome.result
        return Repetition(
            index=index,
            seed=seed,
            total=total,
            status=outcome.status,
            message=outcome.message,
            started_at=started_at,
            finished_at=now_utc(),
            exit_code=execution.returncode,
            wall_clock=execution.wall_seconds,
            cpu_time=execution.cpu_seconds,
            peak_rss=execution.peak_rss_bytes,
            instructions=instructions,
            isolation=execution.isolation,
            host=socket.gethostname(),
            fingerprint=fingerprint.to_dict(),
            reported_metric=result.metric if result else None,
            metric_components=dict(result.metric_components or {}) if result else {},
            reported_wall_clock=result.wall_clock_seconds if result else None,
            metadata=dict(result.metadata or {}) if result else {},
            stdout_log=stdout_log,
            stderr_log=stderr_log,
            artifact=taken,
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def repetition_row(
    rep: Repetition,
    plan: DispatchPlan,
    *,
    metric_source: str,
    manifest_hash: str,
    job_id: str | None,
    executor: str,
    artifact_digest: str | None,
    bundle_id: str | None = None,
    window: str | None = None,
    arm: str | None = None,
    warmup: bool = False,
) -> NewRun:
    """The row of one repetition of ``plan``, its gated ``metric`` filled in."""
    row = NewRun(
        project=plan.project,
        benchmark=plan.benchmark,
        git_sha=plan.git_sha,
        git_dirty=plan.git_dirty,
        diff_path=plan.diff_path,
        seed=rep.seed,
        meta_seed=plan.meta_seed,
        seed_set=plan.seed_set,
        repetition=rep.index,
        repetition_total=rep.total,
        status=rep.status,
        metric_source=metric_source,
        reported_metric=rep.reported_metric,
        metric_components=dict(rep.metric_components),
        reported_wall_clock=rep.reported_wall_clock,
        wall_clock=rep.wall_clock,
        cpu_time=rep.cpu_time,
        peak_rss=rep.peak_rss,
        exit_code=rep.exit_code,
        message=rep.message,
        metadata=dict(rep.metadata),
        artifact_digest=artifact_digest,
        stdout_log=str(rep.stdout_log) if rep.stdout_log else None,
        stderr_log=str(rep.stderr_log) if rep.stderr_log else None,
        corpus_digest=plan.corpus_digest,
        tracked_digest=plan.tracked_digest,
        lock_id=plan.lock_id,
        content_digest=plan.content_digest,
        manifest_hash=manifest_hash,
        host=rep.host,
        started_at=rep.started_at,
        finished_at=rep.finished_at,
        job_id=job_id,
        isolation=rep.isolation,
        instructions=rep.instructions,
        host_identity=rep.host_identity,
        fingerprint=dict(rep.fingerprint),
        executor=executor,
        bundle_id=bundle_id,
        window=window,
        arm=arm,
        warmup=warmup,
    )
    return _with_gated_metric(row, metric_source)


def check_output(
    store: Store, project: str, name: str | None, digest: str | None, rep: Repetition
) -> Repetition:
    """A timed repetition whose output is not the reference of ``name`` is an error.

    The comparison is the correctness tier's own (gates.check_artifact), so "the same
    output" means here what it means for PASS; no frozen reference means nothing to check
    against, and an unchecked timed row is never gated either. Both executors call it
    once the artifact is in the store (the Slurm one when it ingests the bundle).
    """
    if name is None or rep.status != "ok":
        return rep
    reference = store.reference(project, name)
    verdict = check_artifact(reference.digest if reference else None, digest)
    if verdict.kind == "PASS":
        return rep
    if verdict.kind == "NO_REFERENCE":
        message = unfrozen(project, name)
    else:
        message = (
            f"output differs from the reference of {name} "
            f"({digest} is not {verdict.reference_digest})"
        )
    return replace(rep, status="error", message=message)


def _held_out_outcome(outcome: _Outcome) -> _Outcome:
    """What of a held-out run's result may leave it: small numbers, no echoed content."""
    if outcome.message is not None and outcome.message.startswith("bad result file"):
        return _Outcome.error("bad result file (a held-out run's details are not kept)")
    size = result_over_cap(outcome.result) if outcome.result is not None else None
    if size is not None:
        return _Outcome.error(
            f"a held-out run reported {size} bytes of metadata, metric_components and "
            f"message, over the cap of {RESULT_CAP_BYTES} bytes; report numbers, not data"
        )
    return outcome


def unfrozen(project: str, name: str) -> str:
    return (
        f"output_reference {name!r} has no frozen reference, so the timed output cannot be "
        f"checked; run `bench run {project} {name}` and `bench freeze-reference {project} "
        f"{name}` first"
    )


def _with_gated_metric(row: NewRun, metric_source: str) -> NewRun:
    """Fill the legacy ``metric`` column from the row's own measurements.

    Written for older readers only: gates call :func:`gated_value` on the row when they
    read it, so a later change of ``metric_source`` still finds every measurement. An ok
    repetition whose gated measurement is missing is an error now, as it always was.
    """
    if row.status != "ok":
        return row
    value = gated_value(row, metric_source)
    if value is None:
        return row.replace(status="error", message=f"the harness could not measure {metric_source}")
    return row.replace(metric=value)


@dataclass(frozen=True)
class _Outcome:
    status: str
    message: str | None
    result: ProjectResult | None

    @classmethod
    def error(cls, message: str, result: ProjectResult | None = None) -> _Outcome:
        return cls("error", message, result)


def _interpret(execution: Execution, output_path: Path) -> _Outcome:
    """Turn what the child did into a row's status, metric and one-line message."""
    if execution.failure is not None:
        return _Outcome.error(execution.failure)
    try:
        result = ProjectResult.read(output_path)
    except ProtocolError as exc:
        # The per-run temp dir is gone once the row is read: name the file, not its path.
        detail = str(exc).replace(str(output_path), output_path.name)
        return _Outcome.error(f"bad result file: {detail}")
    if result.status != "ok":
        return _Outcome.error(f"runner reported error: {result.message}", result)
    return _Outcome("ok", None, result)


def private_dir(path: Path) -> Path:
    """``path`` created 0o700 (logs, diffs, holding areas: the user's data)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path
