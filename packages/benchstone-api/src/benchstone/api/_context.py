"""Resolving a project name into its registration, manifest and working tree.

The working tree is the registered root, or a ``checkout`` the caller names: a
``git worktree`` of the same repository (an optimisation loop commits each candidate in a
worktree of its own, leaving the user's checkout alone). Everything downstream (git
state, dirty refusal, the lock, corpus, freshness) then reads that checkout.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from benchstone.api._errors import ApiError
from benchstone.runner import BenchmarkSpec, Manifest, RunnerError, git_common_dir, load_manifest
from benchstone.store import Record, Registration, Store


class ProjectContext(Record):
    registration: Registration
    manifest: Manifest
    # A worktree of the project measured instead of its registered root (None: the root).
    checkout: Path | None = None

    @property
    def root(self) -> Path:
        return self.checkout if self.checkout is not None else Path(self.registration.path)

    @property
    def name(self) -> str:
        return self.registration.name

    def benchmark(self, name: str) -> BenchmarkSpec:
        return self.manifest.benchmark(name)


def load_project(store: Store, name: str, *, checkout: str | Path | None = None) -> ProjectContext:
    """The registered project ``name`` with its manifest as it is on disk now.

    With ``checkout``, the project as checked out there instead of at its registered root;
    refused unless it is a checkout of the same git repository.
    """
    registration = store.project(name)
    if registration is None:
        known = [r.name for r in store.projects()]
        hint = difflib.get_close_matches(name, known, n=1)
        did_you_mean = f" (did you mean '{hint[0]}'?)" if hint else ""
        raise ApiError(
            f"project '{name}' is not registered{did_you_mean}; register it with "
            "`bench register PATH`"
        )
    root = Path(registration.path)
    if not root.is_dir():
        raise ApiError(
            f"project '{name}' was registered at {root}, which no longer exists; "
            "re-register it with `bench register PATH`"
        )
    if checkout is not None:
        root = _worktree_of(name, root, Path(checkout))
    manifest = load_manifest(root)
    if manifest.project.name != name:
        raise ApiError(
            f"{manifest.path}: project name is now '{manifest.project.name}', but it was "
            f"registered as '{name}'; re-register the project"
        )
    return ProjectContext(
        registration=registration,
        manifest=manifest,
        checkout=root if checkout is not None else None,
    )


def _worktree_of(name: str, root: Path, checkout: Path) -> Path:
    """``checkout`` resolved, once it is known to be a checkout of the project at ``root``.

    Sharing git's common directory is the test: a worktree of the registered repository
    passes, a clone or an unrelated repository does not (its commits are not the project's).
    """
    path = checkout.expanduser().resolve()
    if not path.is_dir():
        raise ApiError(
            f"checkout {path} of project '{name}' is not a directory; give a git worktree of {root}"
        )
    try:
        same = git_common_dir(path) == git_common_dir(root)
    except RunnerError as exc:
        raise ApiError(f"checkout {path} of project '{name}': {exc}") from None
    if not same:
        raise ApiError(
            f"checkout {path} is not a git worktree of project '{name}' at {root}; create "
            f"one with `git -C {root} worktree add PATH`"
        )
    return path
