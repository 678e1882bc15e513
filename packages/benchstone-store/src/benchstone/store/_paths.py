"""Where everything persistent lives: one home directory, computed, never guessed."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ._errors import StoreError
from ._names import validate_name
from ._record import Record

HOME_ENV = "BENCHSTONE_HOME"
SETTING_PREFIX = "BENCHSTONE_"  # every variable that configures the harness
DB_NAME = "benchstone.db"
BLOB_ALGORITHM = "sha256"
_CORPUS_DIGEST = re.compile(r"([a-z0-9][a-z0-9-]*):([0-9a-f]{16,128})")


def home_dir() -> Path:
    """``$BENCHSTONE_HOME`` if set and non-empty, else ``$XDG_DATA_HOME/benchstone``, else
    ``~/.local/share/benchstone`` (SPEC).

    The XDG Base Directory rule, on every platform: the SPEC names these two places, and
    a fixed rule is one a user can predict (and `bench` need not import a library to find
    its own home). A relative ``$XDG_DATA_HOME`` is ignored, as that specification says.
    The result is made absolute so that code which changes directory (the runner does,
    around subprocesses) keeps pointing at the same store.
    """
    override = setting(HOME_ENV)
    if override:
        return Path(override).expanduser().absolute()
    data_home = os.environ.get("XDG_DATA_HOME", "").strip()
    if not data_home or not os.path.isabs(data_home):
        data_home = os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(data_home, "benchstone").absolute()


# The settings taken out of ``os.environ`` by ``seal_settings``, still the harness's own.
_SEALED: dict[str, str] = {}


def is_setting(name: str) -> bool:
    """Whether an environment variable configures the harness (``BENCHSTONE_*``)."""
    return name.upper().startswith(SETTING_PREFIX)


def setting(name: str) -> str:
    """A ``BENCHSTONE_*`` setting: from the environment, else as it was when sealed ("" if
    neither has it). The environment wins, so a caller that sets one later is heard."""
    return os.environ.get(name) or _SEALED.get(name, "")


def settings() -> dict[str, str]:
    """Every ``BENCHSTONE_*`` setting in force (sealed ones included): what a process the
    harness starts *for itself* (a background worker) is given back."""
    merged = dict(_SEALED)
    merged.update((k, v) for k, v in os.environ.items() if is_setting(k))
    return merged


def seal_settings() -> dict[str, str]:
    """Move every ``BENCHSTONE_*`` variable out of ``os.environ`` into this process's
    memory; return them.

    Called once at a harness process's start, after which nothing it starts or hands its
    environment to (git, a compiler, a setup command) learns where the store is; the
    harness itself reads them through :func:`setting`. In-process callers (tests, an
    embedding program) need not call it: the environment is read first in any case.
    """
    sealed = {key: value for key, value in os.environ.items() if is_setting(key)}
    for key in sealed:
        del os.environ[key]
    _SEALED.update(sealed)
    return sealed


class StorePaths(Record):
    """Every path the harness writes, all under ``home``.

    Pure path arithmetic: nothing here touches the filesystem, so a read-only handle can
    hand these out without creating anything. Per-benchmark paths validate their names
    because the names become directory components.
    """

    home: Path

    def __init__(self, home: Path | str) -> None:
        super().__init__(home=Path(home))

    @property
    def db(self) -> Path:
        return self.home / DB_NAME

    @property
    def artifacts_root(self) -> Path:
        return self.home / "artifacts"

    @property
    def blobs(self) -> Path:
        """Content-addressed blobs: ``blobs/<hex[:2]>/<hex>.bin``."""
        return self.artifacts_root / BLOB_ALGORITHM

    def artifacts(self, project: str, benchmark: str) -> Path:
        """A per-benchmark folder in the artifacts area, beside (never inside) the blobs.

        It sits under ``artifacts/projects/`` so that no project name (not even one
        called ``sha256``) can collide with the content-addressed tree.
        """
        return (
            self.artifacts_root
            / "projects"
            / validate_name("project", project)
            / validate_name("benchmark", benchmark)
        )

    def logs(self, project: str, benchmark: str) -> Path:
        return (
            self.home
            / "logs"
            / validate_name("project", project)
            / validate_name("benchmark", benchmark)
        )

    def diffs(self, project: str, benchmark: str) -> Path:
        return (
            self.home
            / "diffs"
            / validate_name("project", project)
            / validate_name("benchmark", benchmark)
        )

    @property
    def jobs(self) -> Path:
        return self.home / "jobs"

    @property
    def listings(self) -> Path:
        return self.home / "listings"

    @property
    def tmp(self) -> Path:
        return self.home / "tmp"

    @property
    def corpora(self) -> Path:
        """Held-out corpora, content-addressed: ``corpora/<algo>/<hex>`` (a file or a tree)."""
        return self.home / "corpora"

    def corpus(self, digest: str) -> Path:
        """Where the held-out corpus of ``digest`` lives (or would); StoreError if it is
        not ``ALGO:HEX`` (both parts become path components)."""
        match = _CORPUS_DIGEST.fullmatch(digest) if isinstance(digest, str) else None
        if match is None:
            raise StoreError(
                f"corpus digest {digest!r} is not ALGO:HEX (e.g. blake3:<64 lowercase hex>)"
            )
        return self.corpora / match.group(1) / match.group(2)

    def top_level_dirs(self) -> tuple[Path, ...]:
        """The folders ``Store.open`` creates (0o700) so writers find them in place."""
        return (
            self.artifacts_root,
            self.blobs,
            self.home / "logs",
            self.home / "diffs",
            self.jobs,
            self.listings,
            self.tmp,
            self.corpora,
        )
