"""The project's build step (``project.setup``): once per checkout, before its repetitions.

A side-by-side dispatch measures two checkouts, the project's and a fresh worktree of the
baseline commit; a compiled project needs each one built before anything is timed. The
command runs untimed (no row records it), sealed like a repetition, and its output is
kept in the benchmark's log directory; a failure stops the dispatch before any repetition.
"""

from __future__ import annotations

import os
from pathlib import Path

from benchstone.api._errors import ApiError
from benchstone.api._job_files import now_utc
from benchstone.api._repetition import private_dir
from benchstone.runner import (
    Manifest,
    Sandbox,
    child_environment,
    execute,
    git_dirs,
    harness_paths,
)
from benchstone.store import Store

#: A build may take longer than one repetition; it still must not hang a dispatch forever.
SETUP_TIMEOUT_SECONDS = 3600.0


def run_setup(
    store: Store,
    manifest: Manifest,
    *,
    project: str,
    benchmark: str,
    root: Path,
    label: str,
    where: str,
    reachable: tuple[Path, ...] = (),
) -> Path | None:
    """Run ``project.setup`` in ``root``; the stdout log's path, None when there is none.

    ``label`` names the checkout in the log file names (``candidate``, ``baseline``);
    ``where`` names it in an error (a temporary worktree's path is gone by then).
    """
    command = manifest.project.setup
    if not command:
        return None
    logs = private_dir(store.paths.logs(project, benchmark))
    stamp = now_utc().replace(":", "").replace("-", "")
    stem = f"{stamp}-setup-{label}-{os.getpid()}"
    stdout_log, stderr_log = logs / f"{stem}.stdout.log", logs / f"{stem}.stderr.log"
    execution = execute(
        command,
        cwd=root,
        env=child_environment(),
        timeout=SETUP_TIMEOUT_SECONDS,
        stdout_log=stdout_log,
        stderr_log=stderr_log,
        sandbox=Sandbox(
            level=manifest.project.sandbox,
            hidden=harness_paths(store.paths.home),
            writable=reachable,
            network=manifest.project.network,
            keep=(root,),
            protected=git_dirs(root),
        ),
    )
    if execution.failure is not None:
        raise ApiError(
            f"{where}: the setup command {command!r} failed ({execution.failure}); nothing was "
            f"measured; its output is in {stdout_log} and {stderr_log}"
        )
    return stdout_log
