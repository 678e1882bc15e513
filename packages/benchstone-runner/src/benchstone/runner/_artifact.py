"""Taking a repetition's artifact: only a regular file the run itself wrote.

The code under test chooses what sits at ``artifact_path``. A symlink to the frozen
reference blob (or a hard-to-spot ``/proc/self/fd`` path, a FIFO that never ends, a file
of many GiB) would otherwise be digested as if the run had produced it. So the file is
opened without following links (at any component below the run directory), must be a
regular file inside the run directory, and is copied (streamed, size-capped) into a
harness-private file before anything digests it.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from benchstone.runner._errors import RunnerError

MAX_ARTIFACT_BYTES = 256 * 1024 * 1024
_CHUNK = 1 << 20


def take_artifact(
    path: Path, run_dir: Path, destination: Path, *, cap: int = MAX_ARTIFACT_BYTES
) -> Path:
    """Copy the run's artifact at ``path`` to ``destination`` (0o600) and return it.

    RunnerError with a one-line reason when ``path`` is missing, a symlink, not a
    regular file, outside ``run_dir`` or larger than ``cap`` bytes.
    """
    absolute, base = Path(os.path.abspath(path)), Path(os.path.abspath(run_dir))
    if not absolute.is_relative_to(base) or absolute == base:
        raise RunnerError(f"artifact_path {path} is outside the run directory")
    try:
        fd = _open_beneath(base, absolute.relative_to(base).parts)
    except FileNotFoundError:
        raise RunnerError(
            "the runner wrote no artifact to artifact_path "
            "(correctness benchmarks, and those with output_reference, must write their "
            "output bytes there)"
        ) from None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise RunnerError(
                "artifact_path is a symlink or lies under one; the artifact must be a "
                "regular file the run wrote in its run directory"
            ) from None
        raise RunnerError(f"artifact_path cannot be opened ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as source:
        info = os.fstat(source.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise RunnerError("artifact_path is not a regular file")
        if info.st_nlink > 1:
            raise RunnerError(
                "artifact_path has other hard links; the artifact must be a file the run wrote"
            )
        if info.st_size > cap:
            raise RunnerError(f"artifact is {info.st_size} bytes, over the cap of {cap} bytes")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        with os.fdopen(os.open(destination, flags, 0o600), "wb") as target:
            copied = 0
            while chunk := source.read(_CHUNK):
                copied += len(chunk)
                if copied > cap:
                    raise RunnerError(f"artifact grew past the cap of {cap} bytes while read")
                target.write(chunk)
    return destination


def _open_beneath(base: Path, parts: tuple[str, ...]) -> int:
    """Open ``base/parts...`` read-only, following no symlink on the way (ELOOP/ENOTDIR).

    Why a walk: ``O_NOFOLLOW`` guards only the last component, and the run can swap any
    directory between its run dir and the file for a link out of it.
    """
    directory = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts[:-1]:
            inner = os.open(
                part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=directory
            )
            os.close(directory)
            directory = inner
        return os.open(
            parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=directory
        )
    finally:
        os.close(directory)
