"""benchstone.runner: the execution primitives of benchstone.

It loads and validates manifests, takes provenance from git, verifies pinned corpora,
checks freshness, and runs one command as an untrusted subprocess measured from the
outside. The workflow built from these (dispatch, jobs, evaluate) is ``benchstone.api``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Where each public name lives; a name is imported on first use (PEP 562), so a command
# that only reads a manifest does not pay for psutil and the execution machinery.
_LOCATIONS: dict[str, str] = {
    "EXECUTORS": "benchstone.runner._manifest",
    "BenchmarkSpec": "benchstone.runner._manifest",
    "Bundle": "benchstone.runner._bundle",
    "Check": "benchstone.runner._doctor",
    "CorpusStatus": "benchstone.runner._corpus",
    "DoctorReport": "benchstone.runner._doctor",
    "Execution": "benchstone.runner._execute",
    "Fingerprint": "benchstone.runner._fingerprint",
    "Freshness": "benchstone.runner._fresh",
    "GitState": "benchstone.runner._git",
    "JUDGEMENT_KEYS": "benchstone.runner._manifest",
    "MAX_ARTIFACT_BYTES": "benchstone.runner._artifact",
    "Manifest": "benchstone.runner._manifest",
    "ManifestError": "benchstone.runner._errors",
    "Measurements": "benchstone.runner._bundle",
    "ProjectSpec": "benchstone.runner._manifest",
    "RunnerError": "benchstone.runner._errors",
    "Sandbox": "benchstone.runner._sandbox",
    "SlurmJob": "benchstone.runner._slurm",
    "SlurmOptions": "benchstone.runner._slurm",
    "SlurmSettings": "benchstone.runner._manifest",
    "TaskState": "benchstone.runner._slurm",
    "available_cpus": "benchstone.runner._affinity",
    "cancel_slurm_job": "benchstone.runner._slurm",
    "check_corpus": "benchstone.runner._corpus",
    "check_freshness": "benchstone.runner._fresh",
    "child_environment": "benchstone.runner._execute",
    "corpus_root": "benchstone.runner._corpus",
    "doctor": "benchstone.runner._doctor",
    "execute": "benchstone.runner._execute",
    "git_common_dir": "benchstone.runner._git",
    "git_diff": "benchstone.runner._git",
    "git_dirs": "benchstone.runner._git",
    "git_environment": "benchstone.runner._git",
    "git_state": "benchstone.runner._git",
    "harness_paths": "benchstone.runner._sandbox",
    "host_fingerprint": "benchstone.runner._fingerprint",
    "identity_difference": "benchstone.runner._fingerprint",
    "identity_digest": "benchstone.runner._fingerprint",
    "InstructionLog": "benchstone.runner._instructions",
    "job_by_name": "benchstone.runner._slurm",
    "list_bundles": "benchstone.runner._bundle",
    "load_manifest": "benchstone.runner._manifest",
    "manifest_affinity": "benchstone.runner._affinity",
    "new_nonce": "benchstone.runner._bundle",
    "pin_to": "benchstone.runner._affinity",
    "pinned_target": "benchstone.runner._corpus",
    "read_bundle": "benchstone.runner._bundle",
    "require_corpus": "benchstone.runner._corpus",
    "runs_dir": "benchstone.runner._sandbox",
    "require_valgrind": "benchstone.runner._instructions",
    "resolve_sha": "benchstone.runner._git",
    "tree_hash": "benchstone.runner._git",
    "submit_array": "benchstone.runner._slurm",
    "seal_environment": "benchstone.runner._execute",
    "take_artifact": "benchstone.runner._artifact",
    "task_states": "benchstone.runner._slurm",
    "tracked_digest": "benchstone.runner._fresh",
    "validate_affinity": "benchstone.runner._affinity",
    "worktree": "benchstone.runner._git",
    "add_worktree": "benchstone.runner._git",
    "remove_worktree": "benchstone.runner._git",
    "write_bundle": "benchstone.runner._bundle",
}

if TYPE_CHECKING:
    from benchstone.runner._affinity import (
        available_cpus,
        manifest_affinity,
        pin_to,
        validate_affinity,
    )
    from benchstone.runner._artifact import MAX_ARTIFACT_BYTES, take_artifact
    from benchstone.runner._bundle import (
        Bundle,
        Measurements,
        list_bundles,
        new_nonce,
        read_bundle,
        write_bundle,
    )
    from benchstone.runner._corpus import (
        CorpusStatus,
        check_corpus,
        corpus_root,
        pinned_target,
        require_corpus,
    )
    from benchstone.runner._doctor import Check, DoctorReport, doctor
    from benchstone.runner._errors import ManifestError, RunnerError
    from benchstone.runner._execute import Execution, child_environment, execute, seal_environment
    from benchstone.runner._fingerprint import (
        Fingerprint,
        host_fingerprint,
        identity_difference,
        identity_digest,
    )
    from benchstone.runner._fresh import Freshness, check_freshness, tracked_digest
    from benchstone.runner._git import (
        GitState,
        add_worktree,
        git_common_dir,
        git_diff,
        git_dirs,
        git_environment,
        git_state,
        remove_worktree,
        resolve_sha,
        tree_hash,
        worktree,
    )
    from benchstone.runner._instructions import InstructionLog, require_valgrind
    from benchstone.runner._manifest import (
        EXECUTORS,
        JUDGEMENT_KEYS,
        BenchmarkSpec,
        Manifest,
        ProjectSpec,
        SlurmSettings,
        load_manifest,
    )
    from benchstone.runner._sandbox import Sandbox, harness_paths, runs_dir
    from benchstone.runner._slurm import (
        SlurmJob,
        SlurmOptions,
        TaskState,
        cancel_slurm_job,
        job_by_name,
        submit_array,
        task_states,
    )

__all__ = [
    "EXECUTORS",
    "JUDGEMENT_KEYS",
    "MAX_ARTIFACT_BYTES",
    "BenchmarkSpec",
    "Bundle",
    "Check",
    "CorpusStatus",
    "DoctorReport",
    "Execution",
    "Fingerprint",
    "Freshness",
    "GitState",
    "InstructionLog",
    "Manifest",
    "ManifestError",
    "Measurements",
    "ProjectSpec",
    "RunnerError",
    "Sandbox",
    "SlurmJob",
    "SlurmOptions",
    "SlurmSettings",
    "TaskState",
    "add_worktree",
    "available_cpus",
    "cancel_slurm_job",
    "check_corpus",
    "check_freshness",
    "child_environment",
    "corpus_root",
    "doctor",
    "execute",
    "git_common_dir",
    "git_diff",
    "git_dirs",
    "git_environment",
    "git_state",
    "harness_paths",
    "host_fingerprint",
    "identity_difference",
    "identity_digest",
    "job_by_name",
    "list_bundles",
    "load_manifest",
    "manifest_affinity",
    "new_nonce",
    "pin_to",
    "pinned_target",
    "read_bundle",
    "remove_worktree",
    "require_corpus",
    "require_valgrind",
    "resolve_sha",
    "runs_dir",
    "seal_environment",
    "submit_array",
    "take_artifact",
    "task_states",
    "tracked_digest",
    "tree_hash",
    "validate_affinity",
    "worktree",
    "write_bundle",
]


def __getattr__(name: str) -> Any:
    try:
        module = _LOCATIONS[name]
    except KeyError:
        raise AttributeError(f"module 'benchstone.runner' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LOCATIONS})
