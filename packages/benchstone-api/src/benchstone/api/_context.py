"""Resolving a project name into its registration, manifest and working tree."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from benchstone.api._errors import ApiError
from benchstone.runner import BenchmarkSpec, Manifest, load_manifest
from benchstone.store import Registration, Store


@dataclass(frozen=True)
class ProjectContext:
    registration: Registration
    manifest: Manifest

    @property
    def root(self) -> Path:
        return Path(self.registration.path)

    @property
    def name(self) -> str:
        return self.registration.name

    def benchmark(self, name: str) -> BenchmarkSpec:
        return self.manifest.benchmark(name)


def load_project(store: Store, name: str) -> ProjectContext:
    """The registered project ``name`` with its manifest as it is on disk now."""
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
    manifest = load_manifest(root)
    if manifest.project.name != name:
        raise ApiError(
            f"{manifest.path}: project name is now '{manifest.project.name}', but it was "
            f"registered as '{name}'; re-register the project"
        )
    return ProjectContext(registration=registration, manifest=manifest)
