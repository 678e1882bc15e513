"""The exception types of benchstone.runner: one base, and the manifest's own kind."""

from __future__ import annotations


class RunnerError(Exception):
    """Anything the runner refuses or cannot do; the message is one line."""


class ManifestError(RunnerError):
    """``bench/manifest.toml`` is missing, unreadable or invalid."""
