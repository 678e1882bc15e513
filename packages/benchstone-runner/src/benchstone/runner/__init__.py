"""benchstone.runner: the execution primitives of benchstone.

It loads and validates manifests, takes provenance from git, verifies pinned corpora,
checks freshness, and runs one command as an untrusted subprocess measured from the
outside. The workflow built from these (dispatch, jobs, evaluate) is ``benchstone.api``.
"""

from benchstone.runner._corpus import (
    CorpusStatus,
    check_corpus,
    corpus_root,
    pinned_target,
    require_corpus,
)
from benchstone.runner._errors import ManifestError, RunnerError
from benchstone.runner._execute import Execution, child_environment, execute
from benchstone.runner._fresh import Freshness, check_freshness, tracked_digest
from benchstone.runner._git import GitState, git_diff, git_state, resolve_sha, worktree
from benchstone.runner._manifest import BenchmarkSpec, Manifest, ProjectSpec, load_manifest

__all__ = [
    "BenchmarkSpec",
    "CorpusStatus",
    "Execution",
    "Freshness",
    "GitState",
    "Manifest",
    "ManifestError",
    "ProjectSpec",
    "RunnerError",
    "check_corpus",
    "check_freshness",
    "child_environment",
    "corpus_root",
    "execute",
    "git_diff",
    "git_state",
    "load_manifest",
    "pinned_target",
    "require_corpus",
    "resolve_sha",
    "tracked_digest",
    "worktree",
]
