"""The OpenEvolve evaluator: a candidate program in, OpenEvolve's metrics out.

One evaluation: take a worktree slot of the registered project (reset to its HEAD),
commit the candidate file there, run the correctness benchmark and judge it (cascade
stage 1: anything but PASS scores 0 and stops), then run the performance benchmark and
judge it against the baseline pointer (stage 2). Both go through ``benchstone.api``
(``run`` + ``evaluate`` with ``checkout=`` the slot), in a child process that is killed at
the deadline, so a side-by-side manifest, the locked evaluator, looks and the
correctness guard all apply exactly as they do for ``bench run``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchstone.integrations.openevolve._errors import IntegrationError
from benchstone.integrations.openevolve._score import combined_score
from benchstone.integrations.openevolve._supervise import Answer, supervise
from benchstone.integrations.openevolve._worktrees import checked_path, commit_candidate, slot

logger = logging.getLogger("benchstone.integrations.openevolve")

DEFAULT_TIMEOUT = 240.0  # below OpenEvolve's default evaluator.timeout (300 s)
DEFAULT_GRACE = 10.0


class BenchstoneEvaluator:
    """Score OpenEvolve candidates with benchstone verdicts.

    ``project`` is a registered project (``bench register``), ``candidate_path`` the file
    OpenEvolve evolves, relative to its root. ``correctness`` names a correctness benchmark
    with a frozen reference, ``performance`` a performance (or quality) benchmark with a
    baseline. ``timeout_seconds`` bounds one evaluation (both stages of :meth:`evaluate`,
    each stage alone in cascade mode); keep it below OpenEvolve's ``evaluator.timeout``.
    ``work_dir`` holds the worktree slots (default: the user's cache dir); it must not lie
    inside the benchstone store, which the sandbox hides from the runs. ``repetitions``
    overrides the performance benchmark's count per candidate.
    """

    def __init__(
        self,
        project: str,
        candidate_path: str,
        correctness: str,
        performance: str,
        *,
        home: str | Path | None = None,
        timeout_seconds: float = DEFAULT_TIMEOUT,
        kill_grace_seconds: float = DEFAULT_GRACE,
        work_dir: str | Path | None = None,
        repetitions: int | None = None,
    ) -> None:
        if not (isinstance(timeout_seconds, int | float) and timeout_seconds > 0):
            raise IntegrationError(
                f"timeout_seconds {timeout_seconds!r} must be a positive number of seconds"
            )
        if not (isinstance(kill_grace_seconds, int | float) and kill_grace_seconds >= 0):
            raise IntegrationError(f"kill_grace_seconds {kill_grace_seconds!r} must be >= 0")
        if repetitions is not None and (
            not isinstance(repetitions, int) or isinstance(repetitions, bool) or repetitions < 1
        ):
            raise IntegrationError(f"repetitions {repetitions!r} must be a whole number >= 1")
        self.project = _checked_names(project, correctness, performance)
        self.candidate_path = candidate_path
        self._relative = checked_path(candidate_path)
        self.correctness = correctness
        self.performance = performance
        self.home = Path(home).expanduser().absolute() if home is not None else None
        self.timeout_seconds = float(timeout_seconds)
        self.kill_grace_seconds = float(kill_grace_seconds)
        self.work_dir = (
            Path(work_dir).expanduser().absolute() if work_dir else _default_dir(project)
        )
        _outside_the_store(self.work_dir, self.home)
        self.repetitions = repetitions

    # --- what an evaluator.py re-exports -------------------------------------------

    def evaluate(self, program_path: str) -> Any:
        """Both stages: correctness first (stop at anything but PASS), then performance."""
        return self._evaluation(program_path, stages=("correctness", "performance"))

    def evaluate_stage1(self, program_path: str) -> Any:
        """Cascade stage 1: the correctness benchmark alone (``correct`` 1 or 0)."""
        return self._evaluation(program_path, stages=("correctness",))

    def evaluate_stage2(self, program_path: str) -> Any:
        """Cascade stage 2: the performance benchmark; its verdict's ``combined_score``."""
        return self._evaluation(program_path, stages=("performance",))

    # --- machinery ------------------------------------------------------------------

    def _evaluation(self, program_path: str, *, stages: tuple[str, ...]) -> Any:
        deadline = time.monotonic() + self.timeout_seconds
        metrics: dict[str, Any] = {}
        artifacts: dict[str, str] = {}
        try:
            root = self._project_root()
            with slot(root, self.work_dir) as checkout:
                sha = commit_candidate(checkout, self._relative, Path(program_path))
                artifacts["candidate_sha"] = sha
                for stage in stages:
                    if not self._stage(stage, checkout, deadline, metrics, artifacts):
                        break
        except IntegrationError as exc:
            _fail(metrics, artifacts, str(exc))
        except Exception as exc:
            # Never raise into OpenEvolve: after a stage-2 exception its cascade keeps the
            # stage-1 metrics (correct = 1.0), which would rank an unmeasured program high.
            logger.exception("benchstone evaluation failed")
            _fail(metrics, artifacts, f"{type(exc).__name__}: {exc}")
        if metrics.get("combined_score") == 0.0:
            logger.info("candidate scored 0: %s", artifacts.get("error"))
        return _result(metrics, artifacts)

    def _stage(
        self,
        stage: str,
        checkout: Path,
        deadline: float,
        metrics: dict[str, Any],
        artifacts: dict[str, str],
    ) -> bool:
        """Measure one stage into ``metrics`` / ``artifacts``; whether to go on."""
        benchmark = self.correctness if stage == "correctness" else self.performance
        answer = supervise(
            {
                "project": self.project,
                "benchmark": benchmark,
                "checkout": str(checkout),
                "home": str(self.home) if self.home else None,
                "n": self.repetitions if stage == "performance" else None,
            },
            deadline=deadline,
            grace=self.kill_grace_seconds,
            cwd=self.work_dir,
        )
        if answer.timed_out:
            metrics["timeout"] = True
            _fail(
                metrics,
                artifacts,
                f"{benchmark}: stopped after the evaluator's timeout of "
                f"{self.timeout_seconds:g} s (the run was killed)",
            )
            return False
        if answer.error is not None:
            _fail(metrics, artifacts, f"{benchmark}: {answer.error}")
            return False
        return _judge(stage, benchmark, answer, metrics, artifacts)

    def _project_root(self) -> Path:
        """Where the project is registered, read from the store without changing it."""
        from benchstone.store import ReadOnlyStore, StoreError

        try:
            with ReadOnlyStore.open(self.home) as store:
                registration = store.project(self.project)
        except StoreError as exc:
            raise IntegrationError(f"cannot read the benchstone store: {exc}") from None
        if registration is None:
            raise IntegrationError(
                f"project '{self.project}' is not registered; run `bench register PATH` first"
            )
        return Path(registration.path)


def evaluate(
    program_path: str,
    *,
    project: str,
    candidate_path: str,
    correctness: str,
    performance: str,
    home: str | None = None,
    timeout_seconds: float = DEFAULT_TIMEOUT,
    work_dir: str | None = None,
    repetitions: int | None = None,
) -> Any:
    """``evaluate(program_path)`` configured by keywords, for OpenEvolve's ``evaluator_args``.

    An evaluator.py that only says ``from benchstone.integrations.openevolve import
    evaluate`` is configured from config.yaml (``evaluator.evaluator_args``). OpenEvolve
    passes those keywords to ``evaluate`` only, so cascade evaluation needs a
    :class:`BenchstoneEvaluator` and its three methods instead.
    """
    return BenchstoneEvaluator(
        project,
        candidate_path,
        correctness,
        performance,
        home=home,
        timeout_seconds=timeout_seconds,
        work_dir=work_dir,
        repetitions=repetitions,
    ).evaluate(program_path)


def _judge(
    stage: str,
    benchmark: str,
    answer: Answer,
    metrics: dict[str, Any],
    artifacts: dict[str, str],
) -> bool:
    data = answer.data or {}
    verdict = data.get("verdict") or {}
    kind = str(verdict.get("kind"))
    reason = str(verdict.get("reason"))
    failures = data.get("failures") or []
    if stage == "correctness":
        artifacts["correctness_verdict"] = kind
        artifacts["correctness_reason"] = reason
        if kind == "PASS" and not failures:
            metrics["correct"] = 1.0
            return True
        metrics["correct"] = 0.0
        why = f"{failures[0]}" if failures else reason
        _fail(metrics, artifacts, f"{benchmark}: {kind}: {why}")
        return False
    gate = verdict.get("gate") or {}
    metrics["verdict"] = kind
    artifacts["verdict"] = kind
    artifacts["reason"] = reason
    for key in ("effect", "p_value"):
        value = gate.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            metrics[key] = float(value)
    if failures:
        _fail(
            metrics,
            artifacts,
            f"{benchmark}: {len(failures)} of {data.get('runs')} repetition(s) failed "
            f"({failures[0]})",
        )
        return False
    metrics["combined_score"] = combined_score(verdict)
    if metrics["combined_score"] == 0.0:  # a verdict no program can be ranked by
        _fail(metrics, artifacts, f"{benchmark}: {kind}: {reason}")
    return True


def _fail(metrics: dict[str, Any], artifacts: dict[str, str], message: str) -> None:
    metrics["combined_score"] = 0.0
    artifacts["error"] = message
    artifacts.setdefault("reason", message)


def _result(metrics: dict[str, Any], artifacts: dict[str, str]) -> Any:
    """OpenEvolve's EvaluationResult (metrics + artifacts) when installed, else the metrics."""
    factory = _evaluation_result()
    if factory is None:
        return metrics
    return factory(metrics=metrics, artifacts=artifacts)


def _evaluation_result() -> Callable[..., Any] | None:
    try:
        from openevolve.evaluation_result import EvaluationResult
    except ImportError:
        return None
    return EvaluationResult


def _checked_names(project: str, *benchmarks: str) -> str:
    """The names as the store validates them (they become paths); the project's."""
    from benchstone.store import StoreError, validate_name

    try:
        validate_name("project", project)
        for name in benchmarks:
            validate_name("benchmark", name)
    except StoreError as exc:
        raise IntegrationError(str(exc)) from None
    return project


def _outside_the_store(work_dir: Path, home: Path | None) -> None:
    """Refuse a work dir inside the store: the sandbox hides the store from every run,
    so a slot there would be an empty directory to the benchmark."""
    from benchstone.store import home_dir

    store = (home or home_dir()).resolve()
    if work_dir.resolve().is_relative_to(store):
        raise IntegrationError(
            f"work_dir {work_dir} lies inside the benchstone store {store}, which runs "
            "cannot see; choose a directory outside it"
        )


def _default_dir(project: str) -> Path:
    """``$XDG_CACHE_HOME/benchstone-openevolve/<project>`` (``~/.cache`` by default)."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "benchstone-openevolve" / project
