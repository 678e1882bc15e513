"""benchstone.runner: turn a registered project's manifest into appended, trusted rows.

It loads and validates manifests, takes provenance from git, verifies pinned corpora, runs
the project's invocation template as an untrusted subprocess, measures it from the outside
and appends one store row per repetition.
"""

from benchstone.runner._batch import Dispatch, DispatchPlan, plan_dispatch, run_dispatch
from benchstone.runner._corpus import CorpusStatus, check_corpus, pinned_target, require_corpus
from benchstone.runner._errors import ManifestError, RunnerError
from benchstone.runner._execute import Execution, child_environment, execute
from benchstone.runner._fresh import Freshness, check_freshness, tracked_digest
from benchstone.runner._git import GitState, git_diff, git_state, resolve_sha, worktree
from benchstone.runner._jobs import (
    JOB_STATES,
    Job,
    JobFiles,
    current_process,
    live_state,
    new_job_id,
    now_utc,
    process_alive,
    validate_job_id,
)
from benchstone.runner._manifest import BenchmarkSpec, Manifest, ProjectSpec, load_manifest
from benchstone.runner._scheduler import Budget, admit, claim_of, host_budget, live_jobs
from benchstone.runner._seeds import fresh_seeds, new_meta_seed, plan_seeds
from benchstone.runner._worker import (
    check_unchanged,
    finish,
    hand_over,
    plan_from_dict,
    plan_to_dict,
    record_run,
    spawn_worker,
    take_over,
    tracked,
)

__all__ = [
    "JOB_STATES",
    "BenchmarkSpec",
    "Budget",
    "CorpusStatus",
    "Dispatch",
    "DispatchPlan",
    "Execution",
    "Freshness",
    "GitState",
    "Job",
    "JobFiles",
    "Manifest",
    "ManifestError",
    "ProjectSpec",
    "RunnerError",
    "admit",
    "check_corpus",
    "check_freshness",
    "check_unchanged",
    "child_environment",
    "claim_of",
    "current_process",
    "execute",
    "finish",
    "fresh_seeds",
    "git_diff",
    "git_state",
    "hand_over",
    "host_budget",
    "live_jobs",
    "live_state",
    "load_manifest",
    "new_job_id",
    "new_meta_seed",
    "now_utc",
    "pinned_target",
    "plan_dispatch",
    "plan_from_dict",
    "plan_seeds",
    "plan_to_dict",
    "process_alive",
    "record_run",
    "require_corpus",
    "resolve_sha",
    "run_dispatch",
    "spawn_worker",
    "take_over",
    "tracked",
    "tracked_digest",
    "validate_job_id",
    "worktree",
]
