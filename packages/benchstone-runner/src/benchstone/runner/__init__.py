"""benchstone.runner: turn a registered project's manifest into appended, trusted rows.

It loads and validates manifests, takes provenance from git, verifies pinned corpora, runs
the project's invocation template as an untrusted subprocess, measures it from the outside
and appends one store row per repetition.
"""

from benchstone.runner._batch import Dispatch, DispatchPlan, plan_dispatch, run_dispatch
from benchstone.runner._corpus import CorpusStatus, check_corpus, pinned_target, require_corpus
from benchstone.runner._errors import ManifestError, RunnerError
from benchstone.runner._execute import Execution, child_environment, execute
from benchstone.runner._git import GitState, git_diff, git_state, resolve_sha, worktree
from benchstone.runner._manifest import BenchmarkSpec, Manifest, ProjectSpec, load_manifest
from benchstone.runner._seeds import fresh_seeds, new_meta_seed, plan_seeds

__all__ = [
    "BenchmarkSpec",
    "CorpusStatus",
    "Dispatch",
    "DispatchPlan",
    "Execution",
    "GitState",
    "Manifest",
    "ManifestError",
    "ProjectSpec",
    "RunnerError",
    "check_corpus",
    "child_environment",
    "execute",
    "fresh_seeds",
    "git_diff",
    "git_state",
    "load_manifest",
    "new_meta_seed",
    "pinned_target",
    "plan_dispatch",
    "plan_seeds",
    "require_corpus",
    "resolve_sha",
    "run_dispatch",
    "worktree",
]
