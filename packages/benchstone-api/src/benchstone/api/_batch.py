"""The repetition loop: one dispatch of a benchmark, one appended row per repetition.

Order of events is what makes the result trustworthy:
1. provenance first (git SHA, dirty refusal, the dirty diff saved 0o600);
2. the corpus verified against its pin before anything runs;
3. each repetition in a private temp dir the project can write, nothing else of ours in
   reach: no store path in its arguments, environment or file descriptors;
4. each row committed as soon as its repetition ends (a killed dispatch keeps the
   repetitions that finished), never holding a database transaction across the subprocess.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import socket
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchstone.api._errors import ApiError
from benchstone.api._held_out import CORPUS_NAME, RESULT_CAP_BYTES, held_out_digest, result_over_cap
from benchstone.api._lock import content_digest, evaluator_mounts
from benchstone.api._seeds import plan_seeds
from benchstone.api._values import gated_value
from benchstone.gates import check_artifact
from benchstone.protocol import InvocationConfig, ProjectResult, ProtocolError
from benchstone.runner import (
    BenchmarkSpec,
    Execution,
    GitState,
    InstructionLog,
    Manifest,
    RunnerError,
    Sandbox,
    child_environment,
    corpus_root,
    execute,
    git_diff,
    git_state,
    harness_paths,
    host_fingerprint,
    require_corpus,
    require_valgrind,
    runs_dir,
    take_artifact,
    tracked_digest,
)
from benchstone.store import NewRun, Run, Store

ARTIFACT_NAME = "artifact.bin"


@dataclass(frozen=True)
class DispatchPlan:
    """What a dispatch will do, known before the first repetition starts."""

    project: str
    benchmark: str
    git_sha: str
    git_dirty: bool
    diff_path: str | None
    seeds: tuple[int, ...]
    meta_seed: int | None
    seed_set: str
    corpus_digest: str | None
    # The content of project.tracked_paths before the first repetition (see _fresh).
    tracked_digest: str | None = None
    # The lock whose evaluator runs, and the measured code's content (see api._lock).
    lock_id: int | None = None
    content_digest: str | None = None
    # From the manifest, for progress displays that estimate the time left.
    expected_runtime_seconds: float | None = None


@dataclass(frozen=True)
class Dispatch:
    """A finished dispatch: its plan and the rows it appended, in repetition order."""

    plan: DispatchPlan
    runs: tuple[Run, ...]

    @property
    def ok_runs(self) -> tuple[Run, ...]:
        return tuple(run for run in self.runs if run.status == "ok")


def plan_dispatch(
    store: Store,
    manifest: Manifest,
    spec: BenchmarkSpec,
    *,
    root: Path,
    project: str,
    seed_set: str,
    count: int | None = None,
    meta_seed: int | None = None,
    allow_dirty: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
    lock_id: int | None = None,
    state: GitState | None = None,
) -> DispatchPlan:
    """Check provenance and corpus and choose the seeds; raises ApiError to refuse.

    ``state`` is the commit's git state read before the locked evaluator was written over
    an ``--at-sha`` worktree (those files are the lock's, not the commit's changes).
    """
    state = state if state is not None else git_state(root)
    diff_path = None
    if state.dirty:
        if not allow_dirty:
            raise ApiError(
                f"{root}: the git working tree has uncommitted changes; commit them, or pass "
                "--allow-dirty to run anyway (the diff is then recorded with the runs)"
            )
        diff_path = str(_save_diff(store, project, spec.name, state.sha, git_diff(root)))
    if (
        spec.output_reference is not None
        and store.reference(project, spec.output_reference) is None
    ):
        raise ApiError(_unfrozen(project, spec.output_reference))
    if spec.held_out:
        corpus_digest: str | None = held_out_digest(store, project, spec)
    else:
        corpus = require_corpus(root, spec, listings_dir=store.paths.listings, progress=progress)
        corpus_digest = corpus.actual
    tracked = tracked_digest(root, manifest.project.tracked_paths)
    seeds, chosen_meta_seed = plan_seeds(
        seed_set=seed_set,
        baseline_seeds=spec.baseline_seeds,
        repetitions=spec.repetitions,
        count=count,
        meta_seed=meta_seed,
    )
    return DispatchPlan(
        project=project,
        benchmark=spec.name,
        git_sha=state.sha,
        git_dirty=state.dirty,
        diff_path=diff_path,
        seeds=seeds,
        meta_seed=chosen_meta_seed,
        seed_set=seed_set,
        corpus_digest=corpus_digest,
        tracked_digest=tracked,
        lock_id=lock_id,
        content_digest=content_digest(root, state.sha, dirty=state.dirty, tracked=tracked),
        expected_runtime_seconds=spec.expected_runtime_seconds,
    )


def run_dispatch(
    store: Store,
    manifest: Manifest,
    spec: BenchmarkSpec,
    plan: DispatchPlan,
    *,
    root: Path,
    job_id: str | None = None,
    on_run: Callable[[Run], None] | None = None,
) -> Dispatch:
    """Run every repetition of ``plan`` and append one row each."""
    runs = []
    total = len(plan.seeds)
    for index, seed in enumerate(plan.seeds):
        run = _run_repetition(
            store,
            manifest,
            spec,
            plan,
            root=root,
            seed=seed,
            index=index,
            total=total,
            job_id=job_id,
        )
        runs.append(run)
        if on_run is not None:
            on_run(run)
    return Dispatch(plan=plan, runs=tuple(runs))


def _run_repetition(
    store: Store,
    manifest: Manifest,
    spec: BenchmarkSpec,
    plan: DispatchPlan,
    *,
    root: Path,
    seed: int,
    index: int,
    total: int,
    job_id: str | None,
) -> Run:
    started_at = _now()
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
        if spec.held_out:
            # The stored copy, bound read-only into the run dir of a strict sandbox.
            assert plan.corpus_digest is not None  # plan_dispatch checked it
            source = store.corpus_path(plan.corpus_digest)
            corpus: Path | None = workdir / CORPUS_NAME
            if source.is_dir():
                corpus.mkdir()
            else:
                corpus.touch()
            readonly = ((source, corpus),)
        else:
            corpus = corpus_root(root, spec)
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
        logs = _private_dir(store.paths.logs(plan.project, spec.name))
        stem = f"{started_at.replace(':', '').replace('-', '')}-rep{index}-{os.getpid()}"
        stdout_log = logs / f"{stem}.stdout.log"
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
                    hidden=harness_paths(store.paths.home),
                    writable=(workdir,),
                    network=manifest.project.network and not spec.held_out,
                    strict=spec.held_out,
                    readonly=readonly,
                    keep=(root,),
                ),
                pass_fds=counts.pass_fds if counts else (),
                # A held-out run's output could carry the corpus: its logs keep no byte.
                **({"log_cap_bytes": 0} if spec.held_out else {}),
            )
            outcome = _interpret(execution, output_path, spec)
            if spec.held_out:
                outcome = _held_out_outcome(outcome)
            instructions = None
            if counts is not None and outcome.status == "ok":
                try:
                    instructions = counts.total()
                except RunnerError as exc:
                    outcome = _Outcome.error(str(exc), outcome.result)
        artifact_digest = None
        if outcome.status == "ok" and artifact_path is not None:
            try:
                artifact_digest = _store_artifact(store, artifact_path, workdir)
            except RunnerError as exc:
                outcome = _Outcome.error(str(exc), outcome.result)
        if outcome.status == "ok" and spec.output_reference is not None:
            outcome = _check_output(
                store, plan.project, spec.output_reference, artifact_digest, outcome
            )
        result = outcome.result
        row = NewRun(
            project=plan.project,
            benchmark=spec.name,
            git_sha=plan.git_sha,
            git_dirty=plan.git_dirty,
            diff_path=plan.diff_path,
            seed=seed,
            meta_seed=plan.meta_seed,
            seed_set=plan.seed_set,
            repetition=index,
            repetition_total=total,
            status=outcome.status,
            metric_source=spec.metric_source,
            reported_metric=result.metric if result else None,
            metric_components=dict(result.metric_components or {}) if result else {},
            reported_wall_clock=result.wall_clock_seconds if result else None,
            wall_clock=execution.wall_seconds,
            cpu_time=execution.cpu_seconds,
            peak_rss=execution.peak_rss_bytes,
            exit_code=execution.returncode,
            message=outcome.message,
            metadata=dict(result.metadata or {}) if result else {},
            artifact_digest=artifact_digest,
            stdout_log=str(stdout_log),
            stderr_log=str(stderr_log),
            corpus_digest=plan.corpus_digest,
            tracked_digest=plan.tracked_digest,
            lock_id=plan.lock_id,
            content_digest=plan.content_digest,
            manifest_hash=manifest.hash,
            host=socket.gethostname(),
            started_at=started_at,
            finished_at=_now(),
            job_id=job_id,
            isolation=execution.isolation,
            instructions=instructions,
            host_identity=fingerprint.identity_digest,
            fingerprint=fingerprint.to_dict(),
            executor="local",
        )
        return store.append_run(_with_gated_metric(row, spec.metric_source))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _store_artifact(store: Store, artifact_path: Path, workdir: Path) -> str:
    """Copy the run's own artifact out of its reach, then store it; its digest."""
    holding = Path(tempfile.mkdtemp(prefix="artifact-", dir=_private_dir(store.paths.tmp)))
    try:
        taken = take_artifact(artifact_path, workdir, holding / ARTIFACT_NAME)
        return store.put_artifact(taken)
    finally:
        shutil.rmtree(holding, ignore_errors=True)


def _check_output(
    store: Store, project: str, name: str, digest: str | None, outcome: _Outcome
) -> _Outcome:
    """A timed repetition whose output is not the reference of ``name`` is an error row.

    The comparison is the correctness tier's own (gates.check_artifact), so "the same
    output" means here what it means for PASS; no frozen reference means nothing to check
    against, and an unchecked timed row is never gated either.
    """
    reference = store.reference(project, name)
    verdict = check_artifact(reference.digest if reference else None, digest)
    if verdict.kind == "PASS":
        return outcome
    if verdict.kind == "NO_REFERENCE":
        message = _unfrozen(project, name)
    else:
        message = (
            f"output differs from the reference of {name} "
            f"({digest} is not {verdict.reference_digest})"
        )
    return _Outcome.error(message, outcome.result)


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


def _unfrozen(project: str, name: str) -> str:
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


def _interpret(execution: Execution, output_path: Path, spec: BenchmarkSpec) -> _Outcome:
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


def _save_diff(store: Store, project: str, benchmark: str, sha: str, diff: bytes) -> Path:
    """Write the dirty diff 0o600 next to the runs it explains (created exclusively)."""
    directory = _private_dir(store.paths.diffs(project, benchmark))
    stamp = _now().replace(":", "").replace("-", "")
    path = directory / f"{stamp}-{sha[:12]}-{os.getpid()}.diff"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(diff)
    return path


def _private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
